# SPDX-License-Identifier: GPL-2.0
"""mmwb mutants: the mutant files, and the verdicts of a run: killed,
survived, does not apply, does not build (host and guest runners, the
builds and guests replaced by stand-ins)."""

import os
import subprocess
import tempfile
import unittest
from unittest import mock

from mmwb import bench, guest, hosttests, kbuild, mutants, report
from mmwb.common import StepError


def read(path):
    with open(path) as f:
        return f.read()


def diff(path, old, new):
    return (f'diff --git a/{path} b/{path}\n--- a/{path}\n+++ b/{path}\n'
            f'@@ -1 +1 @@\n-{old}\n+{new}\n')


def mutant(d, topic, name, body, tests='fake', why='an easy slip',
           cases=None):
    os.makedirs(os.path.join(d, topic), exist_ok=True)
    path = os.path.join(d, topic, name + '.patch')
    first = tests.replace(',', ' ').split()[0]
    cases = cases if cases is not None else f'{first}:*'
    with open(path, 'w') as f:
        f.write(f'Mutant: {name}\nTests: {tests}\nCases: {cases}\n'
                f'Why: {why}\n     over two lines\n\n{body}')
    return path


def judge(root, out):
    """A host test of one file: 'bug' is caught, 'syntax error' does not
    build, anything else passes."""
    text = read(os.path.join(root, 'x.c'))
    if 'syntax error' in text:
        return 'unbuilt', 'x.c:1: error: expected ;', []
    if 'bug' in text:
        return 'caught', 'case 3: wrong answer', [
            report.Row('series', 'fake', 'case 3', 'fail', 0, False,
                       'case 3: wrong answer')]
    return 'passed', 'all pass', []


FAKE = {'fake': hosttests.HostTest(copy=('x.c',), link=(), judge=judge)}


class ParseTest(unittest.TestCase):
    def test_fields(self):
        with tempfile.TemporaryDirectory() as d:
            mutant(d, 'topic', 'one', diff('x.c', 'good', 'bug'),
                   tests='faultaround, cow')
            [m] = mutants.load(d)
            self.assertEqual(m.id, 'topic/one')
            self.assertEqual(m.tests, ['faultaround', 'cow'])
            self.assertEqual(m.why, 'an easy slip over two lines')
            self.assertEqual(m.paths, ['x.c'])

    def test_errors_name_the_file(self):
        with tempfile.TemporaryDirectory() as d:
            p = mutant(d, 't', 'two', diff('x.c', 'a', 'b'))
            os.rename(p, os.path.join(d, 't', 'other.patch'))
            with self.assertRaisesRegex(StepError, 'does not match'):
                mutants.load(d)
        with tempfile.TemporaryDirectory() as d:
            p = mutant(d, 't', 'three', 'no diff here\n')
            with self.assertRaisesRegex(StepError, 'no diff') as e:
                mutants.load(d)
            self.assertIn(p, str(e.exception))
        with tempfile.TemporaryDirectory() as d:
            os.makedirs(os.path.join(d, 't'))
            with open(os.path.join(d, 't', 'four.patch'), 'w') as f:
                f.write('Mutant: four\nWhy: x\n\n' + diff('x.c', 'a', 'b'))
            with self.assertRaisesRegex(StepError, 'missing header.*Tests'):
                mutants.load(d)

    def test_only(self):
        with tempfile.TemporaryDirectory() as d:
            mutant(d, 'a', 'one', diff('x.c', 'a', 'b'))
            mutant(d, 'b', 'two', diff('x.c', 'a', 'b'))
            self.assertEqual([m.id for m in mutants.load(d, ['b'])],
                             ['b/two'])
            with self.assertRaisesRegex(StepError, 'no mutant or topic c'):
                mutants.load(d, ['c'])


class HostRunTest(unittest.TestCase):
    """run_host on a tree of one file, with a host test of that file."""

    def verdicts(self, bodies):
        with tempfile.TemporaryDirectory() as d, \
                mock.patch.dict(hosttests.HOST, FAKE):
            tree = os.path.join(d, 'tree')
            os.makedirs(tree)
            with open(os.path.join(tree, 'x.c'), 'w') as f:
                f.write('good\n')
            for name, body in bodies.items():
                mutant(os.path.join(d, 'mutants'), 't', name, body)
            rep = report.Report()
            b = bench.make(build=d, tree=tree, plan='x')
            mutants.run_host(b, rep, mutants.load(os.path.join(d, 'mutants')))
            self.assertEqual(read(os.path.join(tree, 'x.c')),
                             'good\n', 'the tree itself is never changed')
            return {r.case: r for r in rep.rows}

    def test_verdicts(self):
        rows = self.verdicts({
            'killed': diff('x.c', 'good', 'bug'),
            'survivor': diff('x.c', 'good', 'fine too'),
            'unapplied': diff('x.c', 'other text', 'bug'),
            'unbuilt': diff('x.c', 'good', 'syntax error'),
        })
        r = rows['t/killed']
        self.assertEqual((r.result, r.expected), ('pass', True))
        self.assertIn('case 3: wrong answer', r.detail)
        r = rows['t/survivor']
        self.assertEqual((r.result, r.expected), ('fail', False))
        self.assertIn('survived', r.detail)
        r = rows['t/unapplied']
        self.assertEqual((r.result, r.expected), ('error', False))
        self.assertIn('does not apply', r.detail)
        self.assertIn('unapplied.patch', r.detail)
        r = rows['t/unbuilt']
        self.assertEqual((r.result, r.expected), ('error', False))
        self.assertIn('does not build', r.detail)


def git(tree, *args):
    subprocess.run(['git', '-C', tree, '-c', 'user.name=t', '-c',
                    'user.email=t@t.invalid', *args], check=True,
                   capture_output=True)


def series_tree(d):
    """A git tree of one file, x.c, on the series branch."""
    tree = os.path.join(d, 'tree')
    os.makedirs(tree)
    git(tree, 'init', '-q', '-b', mutants.seriesmod.APPLY_BRANCH)
    with open(os.path.join(tree, 'x.c'), 'w') as f:
        f.write('good\n')
    git(tree, 'add', 'x.c')
    git(tree, 'commit', '-q', '-m', 'series')
    return tree


class GuestRunTest(unittest.TestCase):
    """run_guest on a small git tree: the mutant is committed on a
    detached HEAD, the branch is back and clean afterwards; the build
    and the guest are stand-ins."""

    def run_guest(self, bodies, build, rows):
        with tempfile.TemporaryDirectory() as d:
            tree = series_tree(d)
            os.makedirs(os.path.join(d, 'out', 'series', 'selftests'))
            for name, body in bodies.items():
                mutant(os.path.join(d, 'm'), 't', name, body,
                       tests='faultaround')
            plan = mock.Mock()

            def run_plan(bench_, label, plan, part, img=None, role=None):
                self.assertEqual(role, 'series')
                for r in rows:
                    part.add(label, *r)
            rep = report.Report()
            with mock.patch.object(kbuild, 'configure'), \
                    mock.patch.object(kbuild, 'build', side_effect=build), \
                    mock.patch.object(kbuild, 'install_image',
                                      return_value='bzImage'), \
                    mock.patch.object(guest, 'load_plan', return_value=plan), \
                    mock.patch.object(guest, 'run_plan', side_effect=run_plan), \
                    mock.patch.object(mutants, 'build_warnings',
                                      return_value=[]):
                try:
                    mutants.run_guest(bench.make(build=d, tree=tree,
                                                 plan='plan'), rep,
                                      mutants.load(os.path.join(d, 'm')))
                    stopped = None
                except KeyboardInterrupt as e:
                    stopped = e
            head = subprocess.run(['git', '-C', tree, 'status', '--porcelain',
                                   '--branch'], capture_output=True,
                                  text=True).stdout
            self.assertEqual(head.strip(),
                             f'## {mutants.seriesmod.APPLY_BRANCH}')
            self.assertEqual(read(os.path.join(tree, 'x.c')), 'good\n')
            if stopped:
                raise stopped
            return {r.case: r for r in rep.rows if r.suite == 'mutants'}

    def test_killed_and_unapplied(self):
        rows = self.run_guest(
            {'a': diff('x.c', 'good', 'bug'),
             'b': diff('x.c', 'missing', 'bug')},
            build=lambda tree, label: 1.0,
            rows=[('faultaround', 'xfs 1m', 'fail', 1, False, 'got 16')])
        self.assertEqual(rows['t/a'].result, 'pass')
        self.assertIn('faultaround: xfs 1m: got 16', rows['t/a'].detail)
        self.assertEqual(rows['t/b'].result, 'error')
        self.assertIn('does not apply', rows['t/b'].detail)

    def test_survivor_and_unbuilt(self):
        def build(bench_, label):
            if 'syntax' in read(os.path.join(bench_.tree, 'x.c')):
                raise StepError('build', 'build.log', 'failed:\nx.c: error',
                                6)
            return 1.0
        rows = self.run_guest(
            {'a': diff('x.c', 'good', 'fine'),
             'b': diff('x.c', 'good', 'syntax')},
            build=build,
            rows=[('faultaround', 'xfs 1m', 'pass', 1, True, '')])
        self.assertEqual((rows['t/a'].result, rows['t/a'].expected),
                         ('fail', False))
        self.assertIn('survived', rows['t/a'].detail)
        self.assertEqual(rows['t/b'].result, 'error')
        self.assertIn('does not build', rows['t/b'].detail)
        self.assertIn('x.c: error', rows['t/b'].detail)

    def test_interrupted_build_leaves_the_branch_clean(self):
        def build(bench_, label):
            raise KeyboardInterrupt
        with self.assertRaises(KeyboardInterrupt):
            self.run_guest({'a': diff('x.c', 'good', 'bug')}, build=build,
                           rows=[])


class KillsTest(unittest.TestCase):
    def test_what_counts(self):
        part = report.Report()
        part.add('m', 'faultaround', 'flaky', 'fail', 0, False, '')
        part.add('m', 'faultaround', 'caught', 'fail', 0, False, 'got 16')
        part.add('m', 'hmm-tests', 'xpass', 'pass', 0, False, '')
        part.add('m', 'cow', 'cow', 'error', 0, False, 'binary not built')
        part.add('m', 'console', 'oops', 'fail', 0, False, 'Oops')
        control = {('faultaround', 'flaky'): 'fail'}
        self.assertEqual([r.case for r in mutants.failures(part, control)],
                         ['caught', 'oops'])

    def m(self, cases):
        return mutants.Mutant('t', 'm', 'm.patch', ['hmm-tests'], 'why',
                              cases=cases)

    def rows(self, *cases):
        return [report.Row('m', s, c, 'fail', 0, False, d)
                for s, c, d in cases]

    def test_only_a_predicted_case_kills(self):
        m = self.m(['hmm-tests:*migrate_two_mirrors'])
        bad = self.rows(('hmm-tests', 'hmm.private.benchmark', 'ENOENT'))
        verdict, detail, others = mutants.verdict_of(m, bad)
        self.assertEqual(verdict, 'passed')
        self.assertIn('no predicted case failed', detail)
        self.assertEqual([r.case for r in others], ['hmm.private.benchmark'])
        bad += self.rows(('hmm-tests', 'hmm.private.migrate_two_mirrors',
                          'not ok'))
        verdict, detail, others = mutants.verdict_of(m, bad)
        self.assertEqual(verdict, 'caught')
        self.assertIn('migrate_two_mirrors', detail)
        self.assertEqual([r.case for r in others], ['hmm.private.benchmark'])

    def test_a_timeout_is_a_weak_kill(self):
        m = self.m(['hmm-tests:*'])
        verdict, detail, _ = mutants.verdict_of(m, self.rows(
            ('hmm-tests', 'x', 'timed out after 600 s; last output: ...')))
        self.assertEqual(verdict, 'caught')
        self.assertTrue(detail.startswith('weak (the timeout only)'))
        verdict, detail, _ = mutants.verdict_of(m, self.rows(
            ('hmm-tests', 'x', 'timed out after 600 s'),
            ('hmm-tests', 'y', 'not ok 3')))
        self.assertFalse(detail.startswith('weak'))

    def test_unpredicted_failures_are_a_row_of_their_own(self):
        rep = report.Report()
        mutants._unpredicted(rep, self.m(['hmm-tests:a']), self.rows(
            ('hmm-tests', 'b', '')))
        [r] = rep.rows
        self.assertEqual((r.suite, r.case, r.result, r.expected),
                         ('mutants-unpredicted', 't/m', 'fail', False))

    def test_cases_name_the_mutants_tests(self):
        with tempfile.TemporaryDirectory() as d:
            mutant(d, 't', 'x', diff('x.c', 'a', 'b'), tests='cow',
                   cases='hmm-tests:*')
            with self.assertRaisesRegex(StepError, 'Cases: hmm-tests'):
                mutants.load(d)
            mutant(d, 't', 'x', diff('x.c', 'a', 'b'), tests='cow',
                   cases='cow:fork*; console:oops')
            [m] = mutants.load(d)
            self.assertEqual(m.cases, ['cow:fork*', 'console:oops'])
            self.assertTrue(m.predicted('console', 'oops'))
            self.assertFalse(m.predicted('cow', 'other'))

    def test_a_warning_is_a_build_failure(self):
        with tempfile.TemporaryDirectory() as d:
            log = os.path.join(d, 'build.log')
            with open(log, 'w') as f:
                f.write('  CC      mm/memory.o\nmm/memory.c:6391:20: '
                        "warning: unused variable 'unshare'\n")
            self.assertEqual(len(mutants.build_warnings(log,
                                                        ['mm/memory.c'])), 1)
            self.assertEqual(mutants.build_warnings(log, ['mm/gup.c']), [])
            self.assertEqual(mutants.build_warnings(log + '.none',
                                                    ['mm/memory.c']), [])


class RerunTest(unittest.TestCase):
    def test_unbooted(self):
        part = report.Report()
        part.add('m', 'cow', 'cow', 'error', 0, False,
                 'did not run: the guest stopped before it')
        part.add('m', 'console', 'oops', 'fail', 0, False, 'Oops: int3')
        self.assertTrue(mutants.unbooted(part))
        part.add('m', 'uffd-wp', 'wp-fork', 'fail', 0, False, 'boom')
        self.assertFalse(mutants.unbooted(part))

    def test_only_merges_into_a_report_of_the_same_stamp(self):
        with tempfile.TemporaryDirectory() as d:
            old = report.Report()
            old.add('series', 'mutants', 't/a', 'pass', 3, True, 'killed: x')
            old.add('series', 'mutants', 't/b', 'error', 3, False, 'boot')
            old.add('mutant-t-a', 'cow', 'case', 'fail', 0, True, '')
            old.write(d)
            with open(os.path.join(d, 'mutants.tsv'), 'w') as f:
                f.write('mutant\tverdict\tseconds\ttests\tdetail\n'
                        't/a\tpass\t3\tcow\tkilled: x\n'
                        't/b\terror\t3\tcow\tboot\n')
            with open(os.path.join(d, mutants.STAMP), 'w') as f:
                f.write('tree digest\n')
            rep = report.Report()
            self.assertFalse(mutants.merge_previous(rep, 'other', {'t/b'},
                                                    d))
            rep.add('series', 'mutants', 't/b', 'pass', 1, True, 'killed')
            self.assertTrue(mutants.merge_previous(rep, 'tree digest',
                                                   {'t/b'}, d))
            got = {(r.suite, r.case): (r.result, r.detail)
                   for r in rep.rows}
            self.assertEqual(got[('mutants', 't/b')], ('pass', 'killed'))
            self.assertEqual(got[('mutants', 't/a')], ('pass', 'killed: x'))
            self.assertIn(('cow', 'case'), got)
            self.assertEqual(len(rep.rows), 3)


class RequireReportTest(unittest.TestCase):
    """'mmwb mail' refuses a mutants report of another series, and one
    with a survivor."""

    def test_stale_and_survivor(self):
        with tempfile.TemporaryDirectory() as d:
            tree = series_tree(d)
            b = bench.make(build=d, tree=tree, plan='x')
            mdir = os.path.join(d, 'm')
            mutant(mdir, 't', 'a', diff('x.c', 'good', 'bug'))
            rdir = os.path.join(d, 'report')
            with self.assertRaisesRegex(StepError, 'no mutants report'):
                mutants.require_report(b, mdir, rdir)
            rep = report.Report()
            rep.add('series', 'mutants', 't/a', 'pass', 1, True, 'killed')
            rep.write(rdir)
            with open(os.path.join(rdir, mutants.STAMP), 'w') as f:
                f.write(mutants.stamp(tree, mutants.load(mdir)) + '\n')
            mutants.require_report(b, mdir, rdir)
            with open(os.path.join(tree, 'x.c'), 'w') as f:
                f.write('changed\n')
            git(tree, 'commit', '-q', '-a', '-m', 'series v2')
            with self.assertRaisesRegex(StepError, 'older than the series'):
                mutants.require_report(b, mdir, rdir)
            with open(os.path.join(rdir, mutants.STAMP), 'w') as f:
                f.write(mutants.stamp(tree, mutants.load(mdir)) + '\n')
            rep.rows[0].result = 'fail'
            rep.write(rdir)
            with self.assertRaisesRegex(StepError, 'not killed: t/a'):
                mutants.require_report(b, mdir, rdir)
            # A mutant added since: the report is stale.
            rep.rows[0].result = 'pass'
            rep.write(rdir)
            mutant(mdir, 't', 'b', diff('x.c', 'changed', 'bug'))
            with self.assertRaisesRegex(StepError, 'older than'):
                mutants.require_report(b, mdir, rdir)
            with open(os.path.join(rdir, mutants.STAMP), 'w') as f:
                f.write(mutants.stamp(tree, mutants.load(mdir)) + '\n')
            with self.assertRaisesRegex(StepError, 'not killed: t/b'):
                mutants.require_report(b, mdir, rdir)


if __name__ == '__main__':
    unittest.main()


class MergeUnpredictedTest(unittest.TestCase):
    """An --only run keeps the other mutants' unpredicted failures
    failures, and drops the rerun mutant's old one."""

    def test_merge(self):
        with tempfile.TemporaryDirectory() as d:
            old = report.Report()
            old.add('series', 'mutants', 't/x', 'pass', 0, True, 'killed')
            old.add('series', 'mutants-unpredicted', 't/x', 'fail', 0,
                    False, 'cow: a')
            old.add('series', 'mutants', 't/y', 'pass', 0, True, 'killed')
            old.add('series', 'mutants-unpredicted', 't/y', 'fail', 0,
                    False, 'cow: b')
            old.write(d)
            with open(os.path.join(d, mutants.STAMP), 'w') as f:
                f.write('S\n')
            rep = report.Report()
            self.assertTrue(mutants.merge_previous(rep, 'S', {'t/x'}, d))
        rows = [(r.suite, r.case, r.expected) for r in rep.rows]
        self.assertEqual(rows, [('mutants', 't/y', True),
                                ('mutants-unpredicted', 't/y', False)])


class ByTestTest(unittest.TestCase):
    def test_listing(self):
        M = mutants.Mutant
        ms = [M('t', 'a', 'p', ['cow'], 'w'), M('t', 'b', 'p', ['cow', 'gup'], 'w'),
              M('t', 'c', 'p', ['gup'], 'w')]
        rows = [report.Row('series', mutants.SUITE, 't/a', 'pass', 12, True, ''),
                report.Row('series', mutants.SUITE, 't/b', 'fail', 3, False, '')]
        text = mutants.by_test(ms, rows)
        self.assertIn('cow: kills t/a (12 s); not killed: t/b (fail)', text)
        self.assertIn('gup: kills none; not killed: t/b (fail), t/c (not run)',
                      text)
