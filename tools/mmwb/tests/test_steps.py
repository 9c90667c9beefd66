# SPDX-License-Identifier: GPL-2.0
"""mmwb steps: which patches are steps, and the regression verdict."""

import os
import tempfile
import unittest

from mmwb import report, steps


def patch(d, name, *paths):
    path = os.path.join(d, name)
    with open(path, 'w') as f:
        for p in paths:
            f.write(f'diff --git a/{p} b/{p}\n--- a/{p}\n+++ b/{p}\n')
    return path


class StepsTest(unittest.TestCase):
    def test_pick(self):
        with tempfile.TemporaryDirectory() as d:
            ps = [patch(d, '1', 'tools/testing/selftests/mm/faultaround.c'),
                  patch(d, '2', 'mm/filemap.c'),
                  patch(d, '3', 'lib/test_hmm.c', 'mm/filemapx.c')]
            got = [i for i, _ in steps.pick(ps, ['mm/filemap.c'])]
            self.assertEqual(got, [1])
            got = [i for i, _ in steps.pick(ps, ['mm/', 'lib'])]
            self.assertEqual(got, [1, 2])
            self.assertEqual(steps.label(1, ps[1]), 'step-02')

    def test_regression_after_pass(self):
        rep = report.Report()
        labels = ['step-base', 'step-02', 'step-03']
        for k, a, b in (('step-base', 'fail', 'pass'),
                        ('step-02', 'pass', 'pass'),
                        ('step-03', 'pass', 'fail')):
            rep.add(k, 'faultaround', 'xfs 1m: page table', a)
            rep.add(k, 'faultaround', 'xfs 2m: empty PMD', b)
        got = {c: (ok, d) for _, c, ok, d in steps.regressions(rep, labels)}
        ok, detail = got['xfs 1m: page table']
        self.assertTrue(ok)
        self.assertEqual(detail, 'base fail, 02 pass, 03 pass')
        ok, detail = got['xfs 2m: empty PMD']
        self.assertFalse(ok)
        self.assertIn('fails again at step-03', detail)


if __name__ == '__main__':
    unittest.main()
