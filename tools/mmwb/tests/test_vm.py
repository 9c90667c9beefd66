# SPDX-License-Identifier: GPL-2.0
"""vm.boot() against a stand-in for QEMU: a kernel that never reaches
init is booted once more, and twice is a hang that says so."""

import os
import stat
import sys
import tempfile
import unittest
from unittest import mock

from mmwb import guest, vm

# Writes a console (and a test log) like a guest: the first N runs stop
# in the kernel's boot and never exit; the others reach init, run the
# plan's (empty) list and power off.
FAKE_QEMU = '''#!%s -S
import os, sys, time
logs = [a[len('file:'):] for a in sys.argv if a.startswith('file:')]
count = os.path.join(os.path.dirname(logs[0]), 'boots')
n = int(open(count).read()) if os.path.exists(count) else 0
open(count, 'w').write(str(n + 1))
stall = n < int(os.environ['FAKE_STALLS'])
with open(logs[0], 'w') as con:
    con.write('[    2.176752] vgaarb: loaded\\n')
    if stall and os.environ.get('FAKE_SPLAT'):
        con.write('[    2.2] WARNING: CPU: 0 PID: 1 at mm/x.c:1 f+0x1\\n')
    con.flush()
    if stall:
        time.sleep(60)
    if os.environ.get('FAKE_QUIET'):
        # 'quiet': no "Run /init" line, and an init slower than the limit
        with open(logs[1], 'w') as t:
            t.write('MMWB-BOOT 3.1\\n')
            t.flush()
            time.sleep(LIMIT + 2)
            t.write('MMWB-DONE\\n')
        sys.exit(0)
    con.write('[    3.036248] Run /init as init process\\n')
with open(logs[1], 'w') as t:
    t.write('MMWB-BOOT 3.1\\nMMWB-DONE\\n')
'''
# The init limit of these tests: above the stand-in's own start-up on a
# loaded machine (a Python start took 0.75 s at a load of 4 on 2 CPUs,
# and a limit of 1 s failed the healthy boots now and then).
LIMIT = 4


class InitLimit(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        qemu = os.path.join(self.tmp.name, 'qemu')
        with open(qemu, 'w') as f:
            f.write(FAKE_QEMU.replace('LIMIT', str(LIMIT)) % sys.executable)
        os.chmod(qemu, stat.S_IRWXU)
        for name, value in (('QEMU', qemu), ('INIT_LIMIT', LIMIT),
                            ('POLL', 0.2),
                            ('accel', lambda kernel, cache=None: 'tcg')):
            p = mock.patch.object(vm, name, value)
            p.start()
            self.addCleanup(p.stop)
        self.workdir = os.path.join(self.tmp.name, 'vm')

    def boot(self, stalls):
        with mock.patch.dict(os.environ, {'FAKE_STALLS': str(stalls)}):
            return vm.boot('bzImage', 'initrd', self.workdir, 30, drives=[])

    def test_one_stall_boots_again(self):
        r = self.boot(1)
        self.assertTrue(r.done)
        self.assertFalse(r.hung)
        self.assertEqual(len(r.stalls), 1)
        self.assertIn('vgaarb: loaded', r.stalls[0])
        self.assertTrue(os.path.exists(os.path.join(self.workdir,
                                                    'console.stalled1.log')))
        self.assertIsNone(guest.guest_verdict('series', r))

    def test_two_stalls_hang_the_run(self):
        r = self.boot(2)
        self.assertTrue(r.hung)
        self.assertEqual(len(r.stalls), 2)
        e = guest.guest_verdict('series', r)
        self.assertIn('did not reach init', str(e))
        self.assertEqual(e.code, guest.EXIT_HANG)

    def test_no_stall(self):
        r = self.boot(0)
        self.assertTrue(r.done)
        self.assertEqual(r.stalls, [])
        self.assertEqual(r.boot_secs, 3.1)

    def test_splat_of_a_stalled_boot_counts(self):
        with mock.patch.dict(os.environ, {'FAKE_SPLAT': '1'}):
            r = self.boot(1)
        self.assertTrue(r.done)
        self.assertEqual([k for k, _ in r.splats], ['warning'])
        e = guest.guest_verdict('series', r)
        self.assertIn('warning in the console', str(e))

    def test_quiet_kernel_reaches_init_by_the_test_log(self):
        with mock.patch.dict(os.environ, {'FAKE_QUIET': '1'}):
            r = self.boot(0)
        self.assertTrue(r.done)
        self.assertEqual(r.stalls, [])


class InterruptTest(unittest.TestCase):
    def test_interrupt_kills_the_guests_of_every_thread(self):
        """SIGTERM or Ctrl-C while guests run in worker threads (which
        the interrupt does not reach): the QEMU processes are killed
        before the command unwinds."""
        import subprocess
        from mmwb import common
        p = subprocess.Popen(['sleep', '60'])
        common.child_started(p)
        try:
            with self.assertRaises(KeyboardInterrupt):
                common.interrupted(15, None)
            self.assertEqual(p.wait(timeout=5), -9)
        finally:
            common.child_done(p)
            if p.poll() is None:
                p.kill()
