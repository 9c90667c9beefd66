# SPDX-License-Identifier: GPL-2.0
"""The debug verdict record: the cover letter quotes it only while its
stamp is that of the series, configs and plans of now."""

import os
import tempfile
import unittest
from unittest import mock

from mmwb import debug, report


class Record(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.path = os.path.join(self.tmp.name, 'debug.verdict')
        self.addCleanup(self.tmp.cleanup)
        patcher = mock.patch.object(debug, 'RECORD', self.path)
        patcher.start()
        self.addCleanup(patcher.stop)

    def write(self, splats=0, err=None):
        rep = report.Report()
        rep.add('debug', 'cow', 'a case', 'pass', 1)
        rep.add('debug', 'cow', 'another', 'skip', 0, True, 'why')
        with mock.patch.object(debug, 'stamp', return_value='t1 d1'):
            debug.write_record(None, rep, 2, splats, 600, err)

    def paragraph(self, now='t1 d1'):
        with mock.patch.object(debug, 'stamp', return_value=now):
            return ' '.join(debug.cover_paragraph(None).split())

    def test_round_trip(self):
        self.write()
        rec = debug.read_record(self.path)
        self.assertEqual((rec['stamp'], rec['tests'], rec['passed'],
                          rec['skipped'], rec['splats'], rec['minutes'],
                          rec['error']),
                         ('t1 d1', '2', '1', '1', '0', '10', 'none'))

    def test_current_clean(self):
        self.write()
        text = self.paragraph()
        self.assertIn('1 passed, 0 failed', text)
        self.assertIn('no lockdep, KASAN', text)
        self.assertIn('in 10 minutes', text)

    def test_current_with_splats(self):
        self.write(splats=2, err='mmwb: vm: x: debug: oops in the console')
        text = self.paragraph()
        self.assertIn('2 report(s) in the console', text)
        self.assertIn('The run ended with: mmwb: vm', text)
        self.assertNotIn('no lockdep', text)

    def test_stale(self):
        self.write()
        text = self.paragraph(now='t2 d1')
        self.assertIn('no run of selftests/debug.plan on this version', text)
        self.assertNotIn('passed', text)

    def test_missing(self):
        self.assertEqual(debug.read_record(self.path), {})
        self.assertIn('no run of', self.paragraph())


class Stamp(unittest.TestCase):
    def test_comments_do_not_count(self):
        plan = b'# a plan\ntest t 10 ktap x\n\n  # why\nretry t 1 flake\n'
        self.assertEqual(debug.uncommented(plan),
                         debug.uncommented(b'test t 10 ktap x\n# other '
                                           b'words\nretry t 1 flake'))
        self.assertNotEqual(debug.uncommented(plan),
                            debug.uncommented(b'test t 20 ktap x\n'
                                              b'retry t 1 flake\n'))

    def test_not_set_is_an_option(self):
        self.assertNotEqual(debug.uncommented(b'CONFIG_A=y\n'),
                            debug.uncommented(b'CONFIG_A=y\n'
                                              b'# CONFIG_B is not set\n'))


if __name__ == '__main__':
    unittest.main()
