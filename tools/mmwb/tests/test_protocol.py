# SPDX-License-Identifier: GPL-2.0
"""The test port: the guest's framer (busybox awk, as in the guest) makes
a run_kselftest.sh-style KTAP stream of what the init writes, and the
host reads back from it exactly what it read from the unframed port."""

import glob
import os
import re
import subprocess
import sys
import unittest

from mmwb import protocol

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'test_data')
BUSYBOX = '/bin/busybox'
# The kernel tree of the default build folder, once 'scripts/mmwb base'
# has made it (MMWB_BUILD: another build folder).
KUNIT = glob.glob(os.path.join(
    os.environ.get('MMWB_BUILD') or os.path.join(
        os.path.dirname(DATA), '..', '..', '..', 'build'),
    'linux', 'tools', 'testing', 'kunit'))

# What an init writes on fd 3: a pass, a skip, a timeout that a retry
# passes, a missing binary, a test killed in the middle of a line, a
# failure, and the test's own KTAP.
RAW = '''MMWB-BOOT 4.2
MMWB-BEGIN a
TAP version 13
1..1
ok 1 one
# Totals: pass:1 fail:0 xfail:0 xpass:0 skip:0 error:0
MMWB-END a rc=0 secs=1.5
MMWB-BEGIN b
1..0 # SKIP no hugetlb
MMWB-END b rc=4 secs=0.1
MMWB-BEGIN c
Testing events on anon...

MMWB-TIMEOUT c secs=5
MMWB-HUNG pid=74 state=S wchan=do_wait /tests/c
  thread 74 state=S wchan=do_wait syscall=61 utime/stime=4/37
MMWB-RETRY c rc=137
ok
MMWB-END c rc=0 secs=11.1
MMWB-BEGIN d
MMWB-END d rc=127 secs=0 missing
MMWB-BEGIN e
partial outputMMWB-END e rc=137 secs=3
MMWB-BEGIN f
MMWB-TIMEOUT f secs=9
MMWB-END f rc=137 secs=9.2
MMWB-BEGIN g
not ok 1 wrong
MMWB-END g rc=1 secs=0.4
MMWB-DONE
'''


def frame(text, n):
    p = subprocess.run([BUSYBOX, 'awk', '-v', f'n={n}', protocol.FRAMER],
                       input=text, capture_output=True, text=True,
                       check=True)
    return p.stdout


@unittest.skipUnless(os.access(BUSYBOX, os.X_OK),
                     f'{BUSYBOX} missing (busybox-static: scripts/mmwb deps)')
class FramerTest(unittest.TestCase):
    def test_ktap_top_level(self):
        out = frame(RAW, 7).splitlines()
        top = [x for x in out if not x.startswith('#')]
        self.assertEqual(top, [
            'TAP version 13', '1..7',
            'ok 1 selftests: mm: a',
            'ok 2 selftests: mm: b # SKIP',
            'ok 3 selftests: mm: c',
            'not ok 4 selftests: mm: d # exit=127',
            'not ok 5 selftests: mm: e # exit=137',
            'not ok 6 selftests: mm: f # TIMEOUT 9 seconds',
            'not ok 7 selftests: mm: g # exit=1'])
        self.assertIn('# selftests: mm: a', out)
        self.assertIn('# ok 1 one', out)
        self.assertIn('# partial output', out)
        self.assertIn('# MMWB-END e rc=137 secs=3', out)

    def test_host_reads_the_same(self):
        framed = frame(RAW, 7)
        self.assertTrue(protocol.framed(framed))
        self.assertFalse(protocol.framed(RAW))
        self.assertEqual(protocol.parse_testlog(framed),
                         protocol.parse_testlog(RAW))
        self.assertEqual(protocol.missing(framed), {'d'})
        self.assertEqual(protocol.current_test(framed), 'done')

    def test_recorded_ports(self):
        for path in glob.glob(os.path.join(DATA, '**', 'tests.log'),
                              recursive=True) + [
                os.path.join(DATA, 'testlog-timeout.txt')]:
            with self.subTest(path=os.path.relpath(path, DATA)):
                with open(path, errors='replace') as f:
                    raw = f.read()
                n = len(re.findall(r'MMWB-BEGIN', raw))
                self.assertEqual(protocol.parse_testlog(frame(raw, n)),
                                 protocol.parse_testlog(raw))

    @unittest.skipUnless(KUNIT, 'no kernel tree in <build>/linux '
                         '(its tools/testing/kunit reads KTAP)')
    def test_kunit_parser_reads_it(self):
        """kunit.py's own parser (kunit.py parse) on the framed port."""
        sys.path.insert(0, KUNIT[0])
        try:
            import kunit_parser
            import kunit_printer
        finally:
            sys.path.pop(0)
        test = kunit_parser.parse_run_tests(frame(RAW, 7).splitlines(),
                                            kunit_printer.null_printer)
        self.assertEqual([(t.name, t.status.name) for t in test.subtests], [
            ('selftests: mm: a', 'SUCCESS'), ('selftests: mm: b', 'SKIPPED'),
            ('selftests: mm: c', 'SUCCESS'), ('selftests: mm: d', 'FAILURE'),
            ('selftests: mm: e', 'FAILURE'), ('selftests: mm: f', 'FAILURE'),
            ('selftests: mm: g', 'FAILURE')])
        self.assertEqual(test.counts.errors, 0)


if __name__ == '__main__':
    unittest.main()
