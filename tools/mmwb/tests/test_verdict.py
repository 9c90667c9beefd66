# SPDX-License-Identifier: GPL-2.0
"""The verdict on recorded guest logs (tools/mmwb/verdict.py, 'mmwb
parse'): a kept run gives back that run's rows exactly, and a made-up
run with a retry, a timeout, a missing binary and a panic gives the
rows it should."""

import os
import subprocess
import sys
import unittest

from mmwb import plan as planmod, results, verdict

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'test_data')
TOOLS = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def judge(vmdir, plan_path, kernel):
    plan = planmod.parse(plan_path, results.FORMATS)
    tests, skipped = plan.tests_for(kernel)
    r, missing = verdict.read_run(vmdir)
    present = {t.name for t in tests} - missing
    return plan, r, verdict.judge_run(plan, kernel, kernel, r, tests,
                                      skipped, present)


class KeptRunTest(unittest.TestCase):
    """The A/B run of build/fa.plan on 2026-12-04: its guest folders and
    the rows its results.tsv has for them (five columns then)."""
    d = os.path.join(DATA, 'guest-faultaround')

    def kept(self, kernel):
        with open(os.path.join(self.d, 'results.tsv')) as f:
            return [x.split('\t')[:5] for x in f.read().splitlines()
                    if x.startswith(kernel + '\t')]

    def test_same_rows(self):
        for kernel in ('base', 'series'):
            with self.subTest(kernel=kernel):
                _, _, rep = judge(os.path.join(self.d, kernel),
                                  os.path.join(self.d, 'plan'), kernel)
                got = [[x.kernel, x.suite, x.case, x.result,
                        f'{x.seconds:.2f}'] for x in rep.rows]
                self.assertEqual(got, self.kept(kernel))

    def test_metrics(self):
        _, _, rep = judge(os.path.join(self.d, 'series'),
                          os.path.join(self.d, 'plan'), 'series')
        self.assertEqual(rep.metrics['realdata_xfs64k_readahead_faults']
                         ['series'], 949)
        self.assertEqual(rep.metrics['faultaround_xfs_2m_pt_faults']
                         ['series'], 1)

    def test_parse_command(self):
        """'mmwb parse' prints the same rows and exits 1: on 7.3.4 the
        run had failures that plan did not expect yet (xfs_16k)."""
        p = subprocess.run([sys.executable, '-m', 'mmwb', 'parse',
                            os.path.join(self.d, 'base'), '--plan',
                            os.path.join(self.d, 'plan'), '--kernel',
                            'base'], cwd=TOOLS, capture_output=True,
                           text=True)
        self.assertEqual(p.returncode, 1, p.stderr)
        got = [x.split('\t')[:5] for x in p.stdout.splitlines()]
        self.assertEqual(got, self.kept('base'))


class MadeUpRunTest(unittest.TestCase):
    """A retry, a timeout, a binary the init did not find, and a panic in
    the middle of a test."""
    d = os.path.join(DATA, 'guest-panic')
    PLAN = ('test ok    10 ktap ok\n'
            'test flaky 10 ktap flaky\n'
            'retry flaky 1 fails now and then\n'
            'test slow  5 ktap slow\n'
            'test gone  10 ktap gone\n'
            'test dies  10 ktap dies\n'
            'test after 10 ktap after\n')

    def setUp(self):
        import tempfile
        self.tmp = tempfile.TemporaryDirectory()
        self.plan = os.path.join(self.tmp.name, 'plan')
        with open(self.plan, 'w') as f:
            f.write(self.PLAN)

    def tearDown(self):
        self.tmp.cleanup()

    def test_rows(self):
        plan, r, rep = judge(self.d, self.plan, 'series')
        rows = {(x.suite, x.case): (x.result, x.expected) for x in rep.rows}
        self.assertEqual(rows[('ok', 'first case')], ('pass', True))
        self.assertEqual(rows[('flaky', 'run 1 (retried)')],
                         ('xfail', True))
        self.assertEqual(rows[('flaky', 'the flaky case')], ('pass', True))
        self.assertIn(('slow', 'before the hang'), rows)
        self.assertFalse(all(ok for (s, _), (_, ok) in rows.items()
                             if s == 'slow'))
        self.assertEqual([v for (s, _), v in rows.items() if s == 'gone'],
                         [('error', False)])
        self.assertEqual(rows[('dies', 'the case before the panic')],
                         ('pass', True))
        self.assertFalse(all(ok for (s, _), (_, ok) in rows.items()
                             if s == 'dies'))
        self.assertEqual(rows[('after', 'after')], ('error', False))
        self.assertEqual(rows[('console', 'panic')], ('fail', False))
        self.assertEqual(rows[('vm', 'plan finished')], ('error', False))

    def test_guest_error_is_the_panic(self):
        from mmwb import guest
        plan, r, _ = judge(self.d, self.plan, 'series')
        e = guest.guest_verdict('series', r, plan)
        self.assertEqual(e.code, 7)
        self.assertIn('panic in the console', str(e))

    def test_an_expected_splat_is_no_error(self):
        from mmwb import guest
        with open(self.plan, 'a') as f:
            f.write("expect series console:panic fail the test kills init\n")
        plan, r, rep = judge(self.d, self.plan, 'series')
        rows = {(x.suite, x.case): (x.result, x.expected) for x in rep.rows}
        self.assertEqual(rows[('console', 'panic')], ('xfail', True))
        e = guest.guest_verdict('series', r, plan)
        self.assertNotIn('panic in the console', str(e))


if __name__ == '__main__':
    unittest.main()
