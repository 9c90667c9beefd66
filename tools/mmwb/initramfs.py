# SPDX-License-Identifier: GPL-2.0
"""A minimal initramfs: static busybox, the test binaries with the shared
libraries they need, and an init that runs the plan."""

import os
import shlex
import shutil
import subprocess

from .common import StepError, EXIT_BUILD, EXIT_DEPS
from . import guesttools, plan as planmod
from .protocol import (BEGIN, BOOT, DONE, END, FRAMER, HUNG, MISSING_RC,
                       RETRY, SETUP_FAILED, TIMEOUT)

BUSYBOX = '/bin/busybox'
# kselftest's scripts want bash; the static one needs no libraries.
BASH = '/bin/bash-static'
# Libraries glibc loads with dlopen(), which ldd cannot see:
# pthread_cancel() needs libgcc_s for unwinding (migration selftest).
DLOPENED = ['/lib/x86_64-linux-gnu/libgcc_s.so.1']
# What the init says on the test port, and the KTAP framing of it:
# protocol.py.

# Shell functions of the init: the processes of a test (the test and
# everything it forked, orphans included), and what each is blocked on.
WATCHDOG_FUNCS = r'''tree() {
  cat /proc/[0-9]*/stat 2>/dev/null | awk -v r="$1" '
    { sub(/ \(.*\) /, " x "); par[$1] = $4 }
    END { s[r] = 1
          do { c = 0
               for (p in par) if (!(p in s) && (par[p] in s)) { s[p] = 1; c = 1 }
          } while (c)
          for (p in s) print p }'
}
state() {
  sed -n 's/^State:[[:space:]]*\(.\).*/\1/p' "$1/status"
}
hung() {
  for p in $(tree "$1"); do
    [ -d "/proc/$p" ] || continue
    say %(hung)s "pid=$p state=$(state "/proc/$p")" \
      "wchan=$(cat "/proc/$p/wchan")" \
      "$(tr '\0' ' ' < "/proc/$p/cmdline" | cut -c1-80)"
    for t in "/proc/$p"/task/*; do
      echo "  thread ${t##*/} state=$(state "$t")" \
        "wchan=$(cat "$t/wchan")" \
        "syscall=$(cut -d' ' -f1 "$t/syscall" 2>/dev/null)" \
        "utime/stime=$(sed 's/.*) //' "$t/stat" | cut -d' ' -f12,13 |
          tr ' ' /)" >&3
      sed 's/^/    /' "$t/stack" >&3 2>/dev/null
    done
  done
  [ -w /proc/sysrq-trigger ] && echo w > /proc/sysrq-trigger
}
watchdog() {
  sleep "$2" 3>&-
  echo >&3
  say %(timeout)s "$3" "secs=$2"
  hung "$1"
  # shellcheck disable=SC2046 # one word per process
  kill -KILL $(tree "$1") 2>/dev/null
}'''


def _libs(binary):
    """Shared libraries (and the loader) a binary needs, from ldd."""
    p = subprocess.run(['ldd', binary], capture_output=True, text=True)
    out = set()
    for line in p.stdout.splitlines():
        parts = line.split()
        for w in parts:
            if w.startswith('/') and os.path.exists(w):
                out.add(w)
    return out


def script_dir(binary):
    """The guest folder of a kselftest script and its siblings, or None
    for a test that is a program: a script (ksft_hmm.sh) runs the others
    from its own folder (run_vmtests.sh, test_hmm.sh, hmm-tests), as
    kselftest runs it, so the whole folder it was built in goes along."""
    if not binary.endswith('.sh'):
        return None
    where = binary.rsplit(':', 1)[0] + '-' if ':' in binary else ''
    return f'/tests/{where}mm'


def _copy_script_dir(src, root, guest):
    """A kselftest folder (scripts and programs) into the guest, once,
    with bash; returns the libraries its programs need."""
    dst = os.path.join(root, guest.lstrip('/'))
    libs = set()
    if os.path.isdir(dst):
        return libs
    if not os.path.isfile(BASH):
        raise StepError('initramfs', BASH, 'static bash missing (kselftest '
                        "scripts run under it); install with 'apt-get "
                        "install bash-static'", EXIT_DEPS)
    bash = os.path.join(root, 'bin', 'bash')
    if not os.path.exists(bash):
        shutil.copy2(BASH, bash)
    os.makedirs(dst)
    for name in sorted(os.listdir(src)):
        path = os.path.join(src, name)
        if not os.path.isfile(path) or not (
                name.endswith('.sh') or os.access(path, os.X_OK)):
            continue
        shutil.copy2(path, os.path.join(dst, name))
        if not name.endswith('.sh'):
            libs |= _libs(path)
    return libs


# The kernel patches its own text once more after init starts: when the
# refined TSC calibration replaces tsc-early, every CPU switches to high
# resolution timers and a work item enables hrtimer_highres_enabled_key.
# Multi-threaded TCG has once run the int3 of that patch after it was
# gone ("Oops: int3" at hrtick_enabled_fair, CI of 2026-12-04, 0.35 s
# into the first test of a guest).  The tests start when every CPU shows
# hres_active in /proc/timer_list and a second later, so that the patch
# is behind them; at most 30 s, and not at all in a kernel without
# CONFIG_HIGH_RES_TIMERS (no hres_active lines).
SETTLE = """\
i=0
while grep -q 'hres_active *: 0' /proc/timer_list 2>/dev/null && [ $i -lt 150 ]; do
  sleep 0.2; i=$((i + 1))
done
grep -q hres_active /proc/timer_list 2>/dev/null && sleep 1
echo "mmwb: timers settled at $(up) s" > /dev/kmsg"""


def init_script(plan, tests_present, tests=None, port='ttyS1'):
    """The guest's /init.  The test port (ttyS1) speaks KTAP, framed by
    one awk process (protocol.FRAMER) that reads all the init and the
    tests write to fd 3; markers also go to /dev/kmsg so the console
    shows which test ran.  port 'console': the framed stream goes to the
    console instead, markers once (a LAVA job reads the one serial line
    it has)."""
    q = shlex.quote
    todo = plan.tests if tests is None else tests
    dev = '/dev/ttyS1' if port == 'ttyS1' else '/dev/console'
    lines = [
        '#!/bin/sh',
        'export PATH=/bin:/sbin:/usr/bin:/tests',
        'mount -t proc proc /proc',
        'mount -t sysfs sysfs /sys',
        'mount -t devtmpfs devtmpfs /dev 2>/dev/null',
        'mount -t debugfs debugfs /sys/kernel/debug',
        'mount -t tmpfs tmpfs /tmp',
        'mkdir -p /dev/shm /mnt/xfs && mount -t tmpfs tmpfs /dev/shm',
        # The OOM killer must not take the framer: every line after it
        # would be lost, and a test writing one would die of SIGPIPE.
        # A killed test's orphans may hold the FIFO open, so the end
        # waits for the framer 5 s at most.
        'mkfifo /tmp/mmwb-port',
        f"awk -v n={len(todo)} '{FRAMER}' < /tmp/mmwb-port > {dev} &",
        'framer=$!',
        'exec 3>/tmp/mmwb-port',
        'echo -1000 > /proc/$framer/oom_score_adj',
        *(['say() { echo "$*" >&3; echo "mmwb: $*" > /dev/kmsg; }']
          if port == 'ttyS1' else ['say() { echo "$*" >&3; }']),
        'up() { cut -d" " -f1 /proc/uptime; }',
        WATCHDOG_FUNCS % {'hung': HUNG, 'timeout': TIMEOUT},
        f'say {BOOT} "$(up)"',
        SETTLE,
        '[ -b /dev/vda ] && mount -t xfs /dev/vda /mnt/xfs >&3 2>&3',
        '[ -b /dev/vdb ] && swapon /dev/vdb >&3 2>&3',
    ]
    for cmd in plan.setup:
        lines.append(f'( {cmd} ) >&3 2>&3 || say {SETUP_FAILED} '
                     f'{q(cmd)}')
    for t in todo:
        if t.name not in tests_present:
            lines.append(f'say {BEGIN} {t.name}; say {END} {t.name} '
                         f'rc={MISSING_RC} secs=0 missing')
            continue
        exe = t.binary.replace(':', '-')
        argv = ' '.join(q(a) for a in [f'/tests/{exe}', *t.args])
        folder = script_dir(t.binary)
        if folder:
            name = t.binary.rsplit(':', 1)[-1]
            argv = ' '.join(q(a) for a in ['bash', f'./{name}', *t.args])
        cwd = folder or '/tmp'
        runs = 1 + plan.retry.get(t.name, (0, ''))[0]
        # A test the plan retries writes each run to a file, passed on
        # when the run ends: a run that bailed out in a forked child
        # (the parent may still exit 0) is retried too.
        out = '>/tmp/mmwb-run.out 2>&1' if runs > 1 else '>&3 2>&3'
        lines += [
            f'say {BEGIN} {t.name}',
            't0=$(up)',
            'n=1',
            'while :; do',
            f'  (cd {cwd} && exec {argv}) </dev/null {out} &',
            '  pid=$!',
            f'  watchdog $pid {t.timeout} {t.name} </dev/null &',
            '  wd=$!',
            '  wait $pid',
            '  rc=$?',
            '  kill $wd 2>/dev/null',
            '  bad=$rc',
        ]
        if runs > 1:
            lines += [
                '  cat /tmp/mmwb-run.out >&3',
                "  grep -q '^Bail out!' /tmp/mmwb-run.out && bad=1",
            ]
        lines += [
            f'  [ $bad -eq 0 ] || [ $n -ge {runs} ] && break',
            f'  say {RETRY} {t.name} "rc=$rc"',
            '  n=$((n + 1))',
            'done',
            f'say {END} {t.name} "rc=$rc" '
            '"secs=$(awk "BEGIN{print $(up)-$t0}")"',
        ]
    lines += [f'say {DONE}', 'exec 3>&-',
              'i=0',
              'while kill -0 $framer 2>/dev/null && [ $i -lt 50 ]; do',
              '  sleep 0.1; i=$((i + 1))',
              'done',
              'swapoff -a 2>/dev/null',
              'umount /mnt/xfs 2>/dev/null', 'sync', 'reboot -f', 'sleep 5', '']
    return '\n'.join(lines)


def build(dest, plan, bindir, init_override=None, tests=None, tree=None,
          rev=None, port='ttyS1'):
    """Write dest (a newc cpio).  bindir(binary) names the directory that
    holds a test binary.  The plan's data directories come from the
    kernel tree at rev (the base: the same files for both kernels).
    Returns the plan tests whose binary is there."""
    if not os.path.isfile(BUSYBOX):
        raise StepError('initramfs', BUSYBOX, "static busybox missing; "
                        "install with 'apt-get install busybox-static'",
                        EXIT_DEPS)
    root = dest + '.d'
    shutil.rmtree(root, ignore_errors=True)
    for d in ('bin', 'sbin', 'usr/bin', 'proc', 'sys', 'dev', 'tmp', 'tests',
              'mnt', 'etc', 'lib', 'lib64'):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    shutil.copy2(BUSYBOX, os.path.join(root, 'bin', 'busybox'))
    applets = subprocess.run([BUSYBOX, '--list'], capture_output=True,
                             text=True).stdout.split()
    for a in applets:
        if a != 'busybox':
            os.symlink('busybox', os.path.join(root, 'bin', a))
    present = set()
    libs = set()
    for t in plan.tests:
        name = t.binary.removeprefix('series:').removeprefix(
            guesttools.PREFIX).removeprefix(planmod.HOST)
        src = os.path.join(bindir(t.binary), name)
        folder = script_dir(t.binary)
        if folder:
            if os.path.isfile(src):
                libs |= _copy_script_dir(bindir(t.binary), root, folder)
                present.add(t.name)
            continue
        if os.path.isfile(src) and os.access(src, os.X_OK):
            dst = os.path.join(root, 'tests', t.binary.replace(':', '-'))
            if not os.path.exists(dst):
                shutil.copy2(src, dst)
                libs |= _libs(src)
            present.add(t.name)
    for name in plan.programs:
        src = shutil.which(name)
        if not src:
            raise StepError('initramfs', name, 'a program the plan names '
                            "is not on the host (run 'scripts/mmwb deps')",
                            EXIT_DEPS)
        shutil.copy2(os.path.realpath(src), os.path.join(root, 'sbin', name))
        libs |= _libs(src)
    if libs:
        libs |= {x for x in DLOPENED if os.path.exists(x)}
    for lib in libs:
        dst = os.path.join(root, lib.lstrip('/'))
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy2(os.path.realpath(lib), dst)
    for guest, src in plan.data:
        dst = os.path.join(root, guest.lstrip('/'))
        os.makedirs(dst, exist_ok=True)
        arch = subprocess.Popen(['git', '-C', tree, 'archive', '--format=tar',
                                 f'{rev}:{src}'], stdout=subprocess.PIPE)
        p = subprocess.run(['tar', '-x', '-C', dst], stdin=arch.stdout,
                           capture_output=True, text=True)
        if arch.wait() or p.returncode:
            raise StepError('initramfs', f'{tree}:{rev}:{src}', 'cannot '
                            'copy the plan\'s data: ' + p.stderr.strip(),
                            EXIT_BUILD)
    init = os.path.join(root, 'init')
    with open(init, 'w') as f:
        f.write(init_override if init_override is not None
                else init_script(plan, present, tests, port=port))
    os.chmod(init, 0o755)
    with open(dest, 'wb') as out:
        find = subprocess.Popen(['find', '.', '-print0'], cwd=root,
                                stdout=subprocess.PIPE)
        p = subprocess.run(['cpio', '--null', '-o', '-H', 'newc', '--quiet'],
                           cwd=root, stdin=find.stdout, stdout=out)
        find.wait()
    if p.returncode != 0:
        raise StepError('initramfs', dest, 'cpio failed', EXIT_BUILD)
    shutil.rmtree(root, ignore_errors=True)
    return present
