# SPDX-License-Identifier: GPL-2.0
"""Shared pieces: paths, errors with exit codes, progress, subprocess."""

import os
import subprocess
import sys
import time

from . import bases

ROOT = bases.ROOT

# Exit codes, one per kind of failure, so that scripts and the workbench's
# own tests can tell them apart.
EXIT_UNEXPECTED = 1     # a test result differs from the plan's expectation
EXIT_USAGE = 2          # bad command line or bad plan file
EXIT_DEPS = 3           # a host tool is missing
EXIT_BASE = 4           # base tree missing, broken or dirty
EXIT_SERIES = 5         # a patch does not apply / export out of sync
EXIT_BUILD = 6          # kernel or selftest build failed
EXIT_GUEST = 7          # guest panicked, oopsed or warned
EXIT_HANG = 8           # guest hung, or its kernel twice never reached init
EXIT_BUSY = 9           # another mmwb works in the same build folder

_T0 = time.monotonic()


class StepError(Exception):
    """A failure of one step; names the step and the file concerned."""

    def __init__(self, step, path, msg, code):
        super().__init__(msg)
        self.step = step
        self.path = path
        self.msg = msg
        self.code = code

    def __str__(self):
        where = f'{self.path}: ' if self.path else ''
        return f'mmwb: {self.step}: {where}{self.msg}'


# The QEMU processes this process started and that may still run.  The
# guests run in worker threads, which an interrupt does not reach: the
# interrupt kills them here, so that no guest outlives the command.
_CHILDREN = set()


def child_started(p):
    _CHILDREN.add(p)


def child_done(p):
    _CHILDREN.discard(p)


def kill_children():
    for p in list(_CHILDREN):
        if p.poll() is None:
            p.kill()


def interrupted(signum, frame):
    """SIGINT and SIGTERM: kill the guests, then unwind as Ctrl-C does
    (work trees go back to their branch, the lock is released)."""
    kill_children()
    raise KeyboardInterrupt


def elapsed():
    return time.monotonic() - _T0


def log(msg):
    """Progress line with the elapsed time since the workbench started."""
    m, s = divmod(int(elapsed()), 60)
    print(f'[{m:3d}:{s:02d}] {msg}', flush=True)


def run(cmd, cwd=None, env=None, check=True, capture=False, step='run',
        timeout=None, stdout=None):
    """Run a command; on failure raise StepError naming the step."""
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    if capture:
        out = subprocess.PIPE
    else:
        out = stdout
    try:
        p = subprocess.run(cmd, cwd=cwd, env=full_env, stdout=out,
                           stderr=subprocess.STDOUT if (capture or stdout) else None,
                           text=True, timeout=timeout, check=False)
    except FileNotFoundError as e:
        raise StepError(step, cmd[0], f'cannot run: {e}', EXIT_DEPS)
    if check and p.returncode != 0:
        tail = ''
        if capture and p.stdout:
            tail = '\n' + '\n'.join(p.stdout.splitlines()[-30:])
        raise StepError(step, cwd, f'command failed ({p.returncode}): '
                        f'{" ".join(cmd)}{tail}', EXIT_BUILD)
    return p


def git(tree, *args, check=True, step='git'):
    p = run(['git', '-C', tree, *args], capture=True, check=False, step=step)
    if check and p.returncode != 0:
        raise StepError(step, tree, f'git {" ".join(args)} failed:\n'
                        f'{p.stdout.strip()}', EXIT_BASE)
    return p.stdout.strip() if check else p


def die(err):
    print(str(err), file=sys.stderr, flush=True)
    sys.exit(err.code)


_LOCK_ENV = 'MMWB_LOCK_HELD'
_lock_fd = None


def lock_build(bench, what):
    """One mmwb at a time per build folder: a second one beside it would
    check out, build and boot in the same trees.  The lock is an flock()
    on <build>/.mmwb.lock (bench.lock), so it goes away with its holder
    however that ends (a kill -9 included): nothing to clean up by hand.  Commands
    that the holder runs itself (scripts/test runs mmwb) see its path in
    MMWB_LOCK_HELD and do not take it again."""
    global _lock_fd
    import fcntl
    if os.environ.get(_LOCK_ENV) == bench.lock:
        return
    os.makedirs(bench.build, exist_ok=True)
    fd = os.open(bench.lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 512, 0).decode(errors='replace').strip()
        os.close(fd)
        raise StepError('lock', bench.lock, 'another mmwb is working in '
                        f'{bench.build} '
                        f'({holder or "pid unknown"}): wait for it to end, '
                        'or stop it; nothing was changed', EXIT_BUSY)
    os.ftruncate(fd, 0)
    os.pwrite(fd, f'pid {os.getpid()}: mmwb {what}\n'.encode(), 0)
    _lock_fd = fd
    os.environ[_LOCK_ENV] = bench.lock
