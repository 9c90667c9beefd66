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


class RepeatTest(unittest.TestCase):
    """try --repeat: each run of a test keeps the plan's lines for it."""

    def test_lines_follow_the_runs(self):
        from mmwb import plan
        p = plan.Plan(path='x')
        p.tests = [plan.Test('a', 10, 'ktap', 'a', [], 1),
                   plan.Test('b', 10, 'ktap', 'b', [], 2)]
        p.expects = [plan.Expect('base', 'a', 'x*', 'fail', 'why', 3)]
        p.metrics = [plan.Metric('b', 'm', '(1)', 'us', 4)]
        p.retry = {'a': (1, 'flaky')}
        p.skip = {'b': 'no'}
        p.repeat(2)
        self.assertEqual([t.name for t in p.tests], ['a.1', 'a.2', 'b.1',
                                                     'b.2'])
        self.assertEqual(p.expectation('base', 'a.2', 'x1'),
                         ('fail', 'why'))
        self.assertEqual([m.test for m in p.metrics], ['b.1', 'b.2'])
        self.assertEqual(set(p.retry), {'a.1', 'a.2'})
        self.assertEqual(set(p.skip), {'b.1', 'b.2'})
        self.assertEqual(p.timeout, 0)

    def test_once_is_the_plan(self):
        from mmwb import plan
        p = plan.Plan(path='x', timeout=5)
        p.tests = [plan.Test('a', 10, 'ktap', 'a', [], 1)]
        p.repeat(1)
        self.assertEqual(([t.name for t in p.tests], p.timeout), (['a'], 5))


class TryExitTest(unittest.TestCase):
    """try exits non-zero after an unexpected row or a guest error."""

    def run_try(self, side_effect):
        import argparse
        from unittest import mock
        from mmwb import __main__ as cli, bench, guest
        p = plan.Plan(path='x')
        p.tests = [plan.Test('a', 10, 'ktap', 'a', [], 1)]
        a = argparse.Namespace(plan='x', tree='/t', test=None, repeat=1,
                               kernel='/k', beside=None, mem='1G')
        with tempfile.TemporaryDirectory() as d, \
                mock.patch.object(guest, 'load_plan', return_value=p), \
                mock.patch.object(guest, 'side_by_side',
                                  side_effect=side_effect), \
                mock.patch('builtins.print'):
            b = bench.make(build=d, tree='/t', plan='x')
            with self.assertRaises(SystemExit) as e:
                cli.cmd_try(b, a)
                raise SystemExit(0)
        return e.exception.code

    def test_unexpected_row(self):
        from mmwb.common import EXIT_UNEXPECTED

        def fail(bench_, plan_, guests, rep, mem=None):
            rep.add('try', 'a', 'x', 'fail', 0, False, 'not ok 1')
            return []
        self.assertEqual(self.run_try(fail), EXIT_UNEXPECTED)

    def test_guest_error(self):
        def panic(bench_, plan_, guests, rep, mem=None):
            return [StepError('vm', 'console.log', 'panic', 9)]
        self.assertEqual(self.run_try(panic), 9)

    def test_clean(self):
        def ok(bench_, plan_, guests, rep, mem=None):
            rep.add('try', 'a', 'x', 'pass', 0, True, '')
            return []
        self.assertEqual(self.run_try(ok), 0)


class RepeatOtherSuitesTest(unittest.TestCase):
    def test_console_lines_stay(self):
        p = plan.Plan(path='x')
        p.tests = [plan.Test('a', 10, 'ktap', 'a', [], 1)]
        p.expects = [plan.Expect('*', 'console', 'warning', 'fail', 'w', 2)]
        p.repeat(3)
        self.assertEqual(p.expectation('try', 'console', 'warning'),
                         ('fail', 'w'))
