# SPDX-License-Identifier: GPL-2.0
"""Boot a kernel under QEMU, run the plan's init, collect the logs."""

import glob
import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass, field

from .common import (StepError, EXIT_DEPS, child_done, child_started,
                     log)
from . import protocol

QEMU = 'qemu-system-x86_64'
MEM = '6G'
SMP = '3'
# 2 MiB and 1 GiB huge pages are reserved at boot; two fake NUMA nodes
# give the migration tests somewhere to go.
BASE_CMDLINE = ['console=ttyS0', 'panic=-1', 'numa=fake=2',
                'hugepagesz=1G', 'hugepages=2', 'hugepagesz=2M',
                'hugepages=128', 'default_hugepagesz=2M',
                'transparent_hugepage=madvise', 'printk.time=1']
# What in a console log means the kernel went wrong.
SPLATS = [
    ('panic', re.compile(r'Kernel panic - not syncing')),
    ('oops', re.compile(r'\bOops\b|general protection fault')),
    ('bug', re.compile(r'\bBUG:|kernel BUG at')),
    ('warning', re.compile(r'WARNING:')),
    ('lockdep', re.compile(r'possible (recursive|circular) locking|'
                           r'inconsistent lock state|lock held when returning')),
    ('kasan', re.compile(r'KASAN:')),
    ('ubsan', re.compile(r'UBSAN:')),
    # A test the OOM killer ends says little about the kernel under test
    # and hides what it would have said: the guest is too small for it.
    ('oom', re.compile(r'invoked oom-killer')),
]
# From QEMU's start to the kernel's "Run /init as init process": about
# 5 s for our kernel under TCG, 12 s for the debug kernel (65 s without
# acpi=noirq).  Now and then multi-threaded TCG stops a kernel in its
# own boot for good (once after "vgaarb: loaded", at 2.2 s of guest
# time).  Such a boot is killed at this limit and the guest booted once
# more; a second one is an error.
INIT_LIMIT = 300
INIT_RE = re.compile(r'Run \S+ as init process')
POLL = 10       # seconds between looks at QEMU and the logs


@dataclass
class Run:
    console: str            # path of the console log
    testlog: str            # path of the test port log
    wall: float = 0.0       # of the boot that counted (not a stalled one)
    hung: bool = False
    qemu_rc: int = 0        # QEMU's exit status (negative: a signal)
    boot_secs: float = None  # guest uptime when init started
    done: bool = False
    splats: list = field(default_factory=list)
    outputs: dict = field(default_factory=dict)  # test -> (rc, secs, text)
    stalls: list = field(default_factory=list)   # boots that never reached init
    stall_secs: float = 0.0

    @property
    def no_init(self):
        """Both boots stalled before init: the run is hung for that."""
        return len(self.stalls) > 1


def disks(workdir):
    """A fresh XFS disk (large folio page cache; sparse, 4 GiB: the plan's
    loop file systems live on it) and a swap disk for one guest; each
    guest has its own, so that two can run side by side."""
    xfs = os.path.join(workdir, 'xfs.img')
    swap = os.path.join(workdir, 'swap.img')
    os.makedirs(workdir, exist_ok=True)
    for path, size, mkfs in ((xfs, 4 << 30, ['mkfs.xfs', '-q', '-f']),
                             (swap, 512 << 20, ['mkswap'])):
        if os.path.exists(path):
            os.unlink(path)
        with open(path, 'wb') as f:
            f.truncate(size)
        subprocess.run(mkfs + [path], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    return [xfs, swap]


def accel(kernel, cache=None):
    """'kvm' when KVM really boots a kernel here, else 'tcg'.  /dev/kvm can
    exist and still hang, so a short probe boot decides; its answer is
    kept in the file cache (the build folder's 'accel'), if given."""
    forced = os.environ.get('MMWB_ACCEL')
    if forced:
        return forced
    if cache and os.path.exists(cache):
        return open(cache).read().strip()
    result = 'tcg'
    if os.access('/dev/kvm', os.R_OK | os.W_OK):
        try:
            p = subprocess.run(
                [QEMU, '-accel', 'kvm', '-cpu', 'host', '-m', '256M',
                 '-nodefaults', '-display', 'none', '-no-reboot',
                 '-serial', 'stdio', '-kernel', kernel,
                 '-append', 'console=ttyS0 panic=-1 rdinit=/nonexistent'],
                capture_output=True, text=True, timeout=20)
            if 'Linux version' in p.stdout:
                result = 'kvm'
        except subprocess.TimeoutExpired:
            pass
    if cache:
        os.makedirs(os.path.dirname(cache), exist_ok=True)
        with open(cache, 'w') as f:
            f.write(result + '\n')
    log(f'vm: accelerator {result}')
    return result


def qemu_cmd(kernel, initrd, console, testlog, drives, cmdline, acc,
             mem=MEM):
    if acc == 'kvm':
        a = ['-accel', 'kvm', '-cpu', 'host']
    else:
        a = ['-accel', 'tcg,thread=multi', '-cpu', 'max']
    cmd = [QEMU, *a, '-m', mem, '-smp', SMP, '-nodefaults', '-display',
           'none', '-no-reboot', '-kernel', kernel, '-initrd', initrd,
           '-append', ' '.join(cmdline),
           '-serial', f'file:{console}', '-serial', f'file:{testlog}']
    for d in drives:
        cmd += ['-drive', f'file={d},if=virtio,format=raw,cache=unsafe']
    return cmd


def scan_console(text):
    """[(kind, excerpt)] for every splat; excerpt is the lines around it."""
    lines = text.splitlines()
    found = []
    i = 0
    while i < len(lines):
        for kind, rx in SPLATS:
            if rx.search(lines[i]):
                found.append((kind, '\n'.join(lines[max(0, i - 2):i + 25])))
                i += 25
                break
        else:
            i += 1
    return found


def boot(kernel, initrd, workdir, timeout, extra_cmdline=(), drives=None,
         label='vm', mem=MEM, accel_cache=None):
    """Run one VM to completion or to the global timeout (accel_cache:
    see accel()).  A kernel that
    does not reach init in INIT_LIMIT s is booted once more (its console
    kept as console.stalled1.log, what it reported counted in r.splats);
    a second such boot hangs the run."""
    if not shutil.which(QEMU):
        raise StepError('vm', QEMU, "missing: install with 'apt-get install "
                        "qemu-system-x86'", EXIT_DEPS)
    os.makedirs(workdir, exist_ok=True)
    r = Run(console=os.path.join(workdir, 'console.log'),
            testlog=os.path.join(workdir, 'tests.log'))
    for old in glob.glob(os.path.join(workdir, '*.stalled*')):
        os.remove(old)      # an earlier run's, not this one's
    splats = []
    for attempt in (1, 2):
        t0 = time.monotonic()
        stalled = _boot_once(r, kernel, initrd, workdir, timeout,
                             extra_cmdline, drives, label, mem,
                             accel(kernel, accel_cache))
        r.wall = time.monotonic() - t0
        if not stalled:
            break
        r.stall_secs += r.wall
        keep = os.path.join(workdir, f'console.stalled{attempt}.log')
        shutil.copy(r.console, keep)
        err = os.path.join(workdir, 'qemu.err')
        if os.path.exists(err):
            shutil.copy(err, os.path.join(workdir,
                                          f'qemu.stalled{attempt}.err'))
        splats += note_stall(r, keep)
        log(f'vm: {label}: no init after {INIT_LIMIT} s, the console '
            f'stops at "{r.stalls[-1]}"'
            + ('; booting once more' if attempt == 1 else ''))
    else:
        r.hung = True       # r.stalls says why: no init, twice
    read_logs(r, splats)
    return r


def note_stall(r, keep):
    """A boot that never reached init, its console kept in keep: the
    line it stopped at goes to r.stalls; returns its splats."""
    text = read_text(keep)
    lines = [x for x in text.splitlines() if x.strip()]
    r.stalls.append(f'{lines[-1].strip() if lines else "no output"} '
                    f'(console: {keep})')
    return scan_console(text)


def read_logs(r, splats):
    """r's outputs, boot time and end from its test log, and its splats:
    those of the stalled boots (given) and its console's.  Returns the
    test log's text."""
    text = read_text(r.testlog)
    r.outputs, r.boot_secs, r.done = protocol.parse_testlog(text)
    if not r.no_init:       # else console.log is console.stalled2.log
        splats = splats + scan_console(read_text(r.console))
    r.splats = splats
    return text


def _boot_once(r, kernel, initrd, workdir, timeout, extra_cmdline, drives,
               label, mem, acc):
    """One QEMU run into r; True if the kernel never reached init."""
    for f in (r.console, r.testlog):
        open(f, 'w').close()
    if drives is None:
        drives = disks(os.path.join(workdir, 'disks'))
    cmd = qemu_cmd(kernel, initrd, r.console, r.testlog, drives,
                   BASE_CMDLINE + list(extra_cmdline), acc, mem)
    with open(os.path.join(workdir, 'qemu.cmd'), 'w') as f:
        f.write(' '.join(cmd) + '\n')
    t0 = time.monotonic()
    with open(os.path.join(workdir, 'qemu.err'), 'w') as err:
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
    child_started(p)
    try:
        return _watch(r, p, t0, timeout, label)
    finally:
        # Interrupted (Ctrl-C or SIGTERM: common.interrupted() kills
        # the guests of every thread): QEMU must not outlive us.
        if p.poll() is None:
            p.kill()
            p.wait()
        child_done(p)


def _watch(r, p, t0, timeout, label):
    """Wait for the QEMU process p of r; True if the kernel never
    reached init."""
    last, init, stalled = '', False, False
    while True:
        try:
            p.wait(timeout=POLL)
            break
        except subprocess.TimeoutExpired:
            pass
        el = time.monotonic() - t0
        # The init's first line in the test log says so too, where a
        # 'quiet' on the command line hides the kernel's.
        if not init:
            init = bool(INIT_RE.search(read_text(r.console)) or
                        os.path.getsize(r.testlog))
        r.hung = el > timeout
        stalled = not r.hung and not init and el > INIT_LIMIT
        if r.hung or stalled:
            p.kill()
            p.wait()
            break
        cur = _current_test(r.testlog)
        if cur != last:
            log(f'vm: {label}: {cur}')
            last = cur
    r.qemu_rc = p.returncode
    return stalled


def read_text(path):
    with open(path, errors='replace') as f:
        return f.read()


def _current_test(testlog):
    try:
        return protocol.current_test(read_text(testlog))
    except OSError:
        return 'booting'
