# SPDX-License-Identifier: GPL-2.0
"""Plan 'data' lines and 'tool:' binaries."""

import os
import tempfile
import unittest

from mmwb import guesttools, plan, results
from mmwb.common import StepError


class PlanDataTest(unittest.TestCase):
    def parse(self, text, known=None):
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, 'x.plan')
            with open(p, 'w') as f:
                f.write(text)
            return plan.parse(p, results.FORMATS, known_binaries=known)

    def test_data_and_tool(self):
        known = {'cow'} | {guesttools.PREFIX + n for n in guesttools.names()}
        p = self.parse('data /data/mm mm\n'
                       'test t 10 ktap tool:mapread /data/mm x\n', known)
        self.assertEqual(p.data, [('/data/mm', 'mm')])
        self.assertIn('mapread', guesttools.names())

    def test_bad_data(self):
        for line in ('data mm /data', 'data /data ../etc', 'data /data'):
            with self.assertRaisesRegex(StepError, r'x\.plan:1: data needs'):
                self.parse(line + '\ntest t 10 ktap cow\n')

    def test_unknown_tool(self):
        with self.assertRaisesRegex(StepError, "no test 'tool:nosuch'"):
            self.parse('test t 10 ktap tool:nosuch\n', {'cow'})


class PlanSelectTest(unittest.TestCase):
    def test_select(self):
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, 'x.plan')
            with open(p, 'w') as f:
                f.write('timeout 99\ntest a 10 ktap a\ntest b 10 ktap b\n'
                        'skip b flaky here\n')
            pl = plan.parse(p, results.FORMATS)
            pl.select(['b'], 'try')
            self.assertEqual([t.name for t in pl.tests], ['b'])
            self.assertEqual((pl.skip, pl.timeout), ({}, 0))
            with self.assertRaisesRegex(StepError, r"mmwb: steps: .*x\.plan: "
                                        'no test c in the plan'):
                pl.select(['c'], 'steps')


if __name__ == '__main__':
    unittest.main()
