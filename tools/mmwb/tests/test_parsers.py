# SPDX-License-Identifier: GPL-2.0
"""The workbench's parsers against recorded output (test_data/)."""

import os
import re
import tempfile
import unittest

from mmwb import checks, plan, protocol, report, results, review, vm
from mmwb.common import StepError

DATA = os.path.join(os.path.dirname(__file__), 'test_data')


def data(name):
    with open(os.path.join(DATA, name), errors='replace') as f:
        return f.read()


class KtapTest(unittest.TestCase):
    def test_kselftest_h(self):
        text = ('TAP version 13\n1..4\n# [RUN] something\n'
                'ok 1 first case\nnot ok 2 second case\n'
                'ok 3 # SKIP no hugetlb\nok 4 fourth # XFAIL known\n'
                '# Totals: pass:1 fail:1 xfail:1 xpass:0 skip:1 error:0\n')
        got = [(c.name, c.result) for c in results.parse_ktap(text)]
        self.assertEqual(got, [('something: first case', 'pass'),
                               ('second case', 'fail'),
                               ('#3 no hugetlb', 'skip'),
                               ('fourth', 'xfail')])

    def test_nested_harness_lines_ignored(self):
        text = ('TAP version 13\n1..1\n# Starting 1 tests from 1 test cases.\n'
                '#  RUN           hmm.hmm_device_private.open_close ...\n'
                '#            OK  hmm.hmm_device_private.open_close\n'
                'ok 1 hmm.hmm_device_private.open_close\n'
                '    ok 1 nested should not count\n')
        got = results.parse_ktap(text)
        self.assertEqual([(c.name, c.result) for c in got],
                         [('hmm.hmm_device_private.open_close', 'pass')])

    def test_plan_count(self):
        """kunit_parser's rules: a result the plan announced and that
        never came fails, wherever the plan is; too many is an error,
        and so is a result out of its place."""
        def rows(text):
            return [(c.name, c.result) for c in results.parse_ktap(text)]
        self.assertEqual(rows('TAP version 13\n1..3\nok 1 a\n'),
                         [('a', 'pass'), ('missing results 2..3', 'fail')])
        self.assertEqual(rows('TAP version 13\nok 1 a\n1..2\n'),
                         [('a', 'pass'), ('missing result 2', 'fail')])
        self.assertEqual(rows('KTAP version 1\n1..1\nok 1 a\nok 2 b\n'),
                         [('a', 'pass'), ('b', 'pass'),
                          ('results beyond the plan', 'error')])
        self.assertEqual(rows('TAP version 13\n1..2\nok 1 a\nok 3 b\n'),
                         [('a', 'pass'), ('b', 'pass'),
                          ('KTAP numbering', 'error')])
        # no plan: nothing to count against (kselftest always has one)
        self.assertEqual(rows('ok 1 a\n'), [('a', 'pass')])

    def test_documents_and_nesting(self):
        """Each version line starts a document of its own (a retried
        run, a script running several programs); indented lines are a
        nested document, counted by its parent's result line only."""
        text = ('TAP version 13\n1..1\nok 1 a\n'
                'TAP version 13\n1..2\n'
                '    KTAP version 1\n    1..2\n    ok 1 x\n'
                '    not ok 2 y\nnot ok 1 b\n')
        got = [(c.name, c.result) for c in results.parse_ktap(text)]
        self.assertEqual(got, [('a', 'pass'), ('b', 'fail'),
                               ('missing result 2', 'fail')])

    def test_bail_out_is_not_also_missing(self):
        got = results.parse_ktap('TAP version 13\n1..3\nok 1 a\n'
                                 'Bail out! mmap failed\n')
        self.assertEqual([(c.name, c.result) for c in got],
                         [('a', 'pass'), ('bail out', 'error')])

    def test_timeout_keeps_its_own_row(self):
        t = plan.Test('t', 10, 'ktap', 't', [], 1)
        got = results.classify(t, 137, 10, 'TAP version 13\n1..3\nok 1 a\n',
                               timed_out=True)
        self.assertEqual([(c.name, c.result) for c in got],
                         [('a', 'pass'), ('t', 'error')])

    def test_bail_out(self):
        got = results.parse_ktap('1..3\nok 1 a\nBail out! mmap failed\n')
        self.assertEqual(got[-1].result, 'error')

    def test_duplicates_get_numbered(self):
        got = results.parse_ktap('ok 1 x\nok 2 x\n')
        self.assertEqual([c.name for c in got], ['x', 'x #2'])

    def test_recorded(self):
        names = sorted(n for n in os.listdir(DATA) if n.endswith('.ktap'))
        self.assertGreaterEqual(len(names), 3)
        for name in names:
            with self.subTest(name=name):
                text = data(name)
                cases = results.parse_ktap(text)
                want = sum(1 for line in text.splitlines()
                           if line.startswith(('ok ', 'not ok ')))
                planned = int(re.search(r'^1\.\.(\d+)', text, re.M)[1])
                if planned == want:
                    self.assertEqual(len(cases), want)
                    continue
                # A head of a real run: the results its plan announced
                # beyond the head are one failed row.
                self.assertEqual(len(cases), want + 1)
                self.assertEqual(cases[-1].result, 'fail')
                self.assertTrue(cases[-1].name.startswith(
                    f'missing results {want + 1}..'), cases[-1].name)


    def test_recorded_cow_names_are_unique(self):
        cases = results.parse_ktap(data('cow-head.ktap'))
        self.assertEqual(cases[0].name, 'Basic COW after fork() ... with '
                         'base page: No leak from parent into child')
        self.assertEqual(len({c.name for c in cases}), len(cases))
        self.assertFalse([c for c in cases if c.name.endswith('#2')])


class OtherFormatsTest(unittest.TestCase):
    def test_recorded_uffd(self):
        text = data('uffd-unit-tests-head.txt')
        cases = results.parse_uffd(text)
        self.assertEqual(len(cases), text.count('Testing ') - (
            0 if text.rstrip().endswith(('done', ']')) else 1))
        self.assertTrue(all(c.result in ('pass', 'skip') for c in cases))

    def test_recorded_uffd_ktap(self):
        """uffd-unit-tests of 7.3 report in KTAP: a case per line, not
        one case for the exit status."""
        text = data('uffd-unit-tests-7.3-head.ktap')
        cases = results.parse_uffd(text)
        # and one row for the results the head's plan announced beyond it
        self.assertEqual(len(cases), text.count('\nok ') + 1)
        self.assertEqual(cases[0].name, 'wp-fork on anon')
        cases = results.parse_uffd('TAP version 13\n1..2\nok 1 a on anon\n'
                                   'not ok 2 b on shmem\n')
        self.assertEqual([c.result for c in cases], ['pass', 'fail'])

    def test_uffd(self):
        text = ('Testing register-ioctls on anon... done\n'
                'Testing wp-unpopulated on anon... failed [reason: bad]\n'
                'Testing zeropage on hugetlb... skipped [reason: no pages]\n')
        got = [(c.name, c.result) for c in results.parse_uffd(text)]
        self.assertEqual(got, [('register-ioctls on anon', 'pass'),
                               ('wp-unpopulated on anon', 'fail'),
                               ('zeropage on hugetlb', 'skip')])

    def test_dots(self):
        text = ('\nRun test: collapse_full (khugepaged:anon)\n'
                'Collapse multiple fully populated PTE table.... '
                '\x1b[32mOK\x1b[0m\n'
                'Run test: collapse_empty (madvise:anon)\n'
                'Do not collapse empty PTE table... \x1b[31mFail\x1b[0m\n')
        got = [(c.name, c.result) for c in results.parse_dots(text)]
        self.assertEqual(got, [
            ('collapse_full (khugepaged:anon): Collapse multiple fully '
             'populated PTE table', 'pass'),
            ('collapse_empty (madvise:anon): Do not collapse empty PTE '
             'table', 'fail')])


class SphinxTest(unittest.TestCase):
    def test_recorded_htmldocs(self):
        # make SPHINXDIRS=core-api htmldocs on the series, recorded.
        got = review.parse_sphinx(data('htmldocs-core-api.log'))
        self.assertIn('Documentation/core-api/symbol-namespaces.rst: '
                      'WARNING: Inline emphasis start-string without '
                      'end-string.', got)
        self.assertEqual(len(got), 2)   # dot(1) names no file


class CoccicheckTest(unittest.TestCase):
    def test_recorded_report(self):
        # make C=2 CHECK=scripts/coccicheck output: compiler warnings mixed
        # with spatch's report lines (recorded from misc/swap.cocci).
        got = checks.parse_cocci(data('coccicheck-report.txt'),
                                 ['mm/x.c', 'lib/test_hmm.c'])
        self.assertEqual(got['mm/x.c'],
                         {'mm/x.c: WARNING opportunity for swap()'})
        self.assertEqual(got['lib/test_hmm.c'], set())

    def test_line_numbers_do_not_count(self):
        a = checks.parse_cocci('mm/a.c:10:1-4: WARNING x\n', ['mm/a.c'])
        b = checks.parse_cocci('/t/linux/mm/a.c:99:2-5: WARNING x\n',
                               ['mm/a.c'])
        self.assertEqual(a, b)

    def test_checker_that_cannot_run_fails_on_both_kernels(self):
        """A make that failed (no OCaml compiler, say) is no clean
        result, on the base kernel either."""
        rep = report.Report()
        oc = checks.ObjectChecks()
        oc.compare(rep, 'base', 'coccicheck', 'mm/a.c', set(), 2, 1, 'r')
        oc.compare(rep, 'series', 'coccicheck', 'mm/a.c', set(), 2, 1, 'r')
        got = [(r.kernel, r.result, r.expected) for r in rep.rows]
        self.assertEqual(got, [('base', 'fail', False),
                               ('series', 'fail', False)])
        self.assertIn('make exited 2', rep.rows[0].detail)
        rep = report.Report()
        oc.compare(rep, 'base', 'coccicheck', 'mm/a.c', set(), 0, 1, 'r')
        self.assertEqual(rep.rows, [])


class MetricTest(unittest.TestCase):
    def test_metric_lines(self):
        text = ('# METRIC faultaround_xfs_64k_faults 2 faults\n'
                '#METRIC x_us 12.5 us\n# METRIC bad\nok 1 a\n')
        self.assertEqual(results.parse_metrics(text),
                         [('faultaround_xfs_64k_faults', 2, 'faults'),
                          ('x_us', 12.5, 'us')])


    def test_median(self):
        text = ('# PIN_LONGTERM_BENCHMARK: Time: get:30 put:1 us\n'
                '# PIN_LONGTERM_BENCHMARK: Time: get:10 put:1 us\n'
                '# PIN_LONGTERM_BENCHMARK: Time: get:20 put:1 us\n')
        self.assertEqual(results.median_of(r'get:(\d+)', text), 20)
        self.assertEqual(results.median_of(r'get:(\d+)', text + text[:48]),
                         25)
        self.assertIsNone(results.median_of(r'nope:(\d+)', text))

    def test_ratio(self):
        r = report.Report()
        r.metric('x_us', 'base', 200, 'us')
        r.metric('x_us', 'series', 150, 'us')
        r.ratio('x_us')
        self.assertEqual(r.metrics['x_us_ratio']['series'], 0.75)


class ClassifyTest(unittest.TestCase):
    T = plan.Test('t', 10, 'ktap', 't', [], 1)

    def test_exit_status_counts_when_cases_do_not(self):
        got = results.classify(self.T, 1, 1, 'ok 1 a\n')
        self.assertEqual(got[-1].result, 'fail')

    def test_skip_exit(self):
        got = results.classify(self.T, 4, 1, 'no hugetlb pages\n')
        self.assertEqual([(c.result, c.detail) for c in got],
                         [('skip', 'no hugetlb pages')])

    def test_timeout_is_error(self):
        got = results.classify(self.T, 137, 10, 'ok 1 a\n', timed_out=True)
        self.assertEqual(got[-1].result, 'error')

    def test_not_built(self):
        got = results.classify(self.T, None, 0, '', built=False)
        self.assertEqual(got[0].result, 'error')

    def test_judge(self):
        self.assertEqual(results.judge('pass', None), ('pass', True))
        self.assertEqual(results.judge('skip', None), ('skip', True))
        self.assertEqual(results.judge('fail', None), ('fail', False))
        self.assertEqual(results.judge('fail', 'fail'), ('xfail', True))
        self.assertEqual(results.judge('pass', 'fail'), ('pass', False))
        self.assertEqual(results.judge('error', 'error'), ('error', True))


class RetryTest(unittest.TestCase):
    def test_split_runs(self):
        text = ('Testing a... done\nERROR: UFFDIO_COPY error: -2\n'
                'MMWB-RETRY uffd rc=1\nTesting a... done\nall good\n')
        failed, last = results.split_runs(text, 'MMWB-RETRY')
        self.assertEqual(failed, [('Testing a... done\n'
                                   'ERROR: UFFDIO_COPY error: -2\n', 1)])
        self.assertEqual(last, 'Testing a... done\nall good\n')

    def test_no_retry(self):
        self.assertEqual(results.split_runs('ok 1 a\n', 'MMWB-RETRY'),
                         ([], 'ok 1 a\n'))

    def test_marker_behind_partial_line(self):
        # A run killed in the middle of 'Testing ...' leaves the init's
        # next marker on the same line (seen in CI).
        text = ('MMWB-BEGIN uffd\nTesting a... done\n'
                'Testing b... MMWB-RETRY uffd rc=137\n'
                'Testing a... done\nTesting b... MMWB-END uffd rc=137 '
                'secs=1200\nMMWB-BEGIN fa\nok 1 x\nMMWB-END fa rc=0 secs=1\n'
                'MMWB-DONE\n')
        outs, _, done = protocol.parse_testlog(text)
        self.assertTrue(done)
        rc, secs, out = outs['uffd']
        self.assertEqual((rc, secs), (137, 1200.0))
        failed, last = results.split_runs(out + '\n', 'MMWB-RETRY')
        self.assertEqual(failed, [('Testing a... done\nTesting b... \n',
                                   137)])
        self.assertEqual([(c.name, c.result) for c in
                          results.parse_uffd(last)],
                         [('a', 'pass'), ('b', 'fail')])
        self.assertEqual(outs['fa'][2], 'ok 1 x')

    def test_timeout_names_where_it_hung(self):
        # Recorded: uffd-unit-tests -f events on the base kernel with a
        # 5 s timeout and one retry (scripts/mmwb try).
        text = data('testlog-timeout.txt')
        outs, _, done = protocol.parse_testlog(text)
        self.assertTrue(done)
        rc, _, out = outs['evshort']
        failed, last = results.split_runs(out, 'MMWB-RETRY')
        self.assertEqual(rc, 137)
        self.assertEqual([f[1] for f in failed], [137])
        self.assertIn('series-uffd-unit-tests[78] R',
                      results.hang_summary(failed[0][0]))
        t = plan.Test('evshort', 5, 'uffd', 'x', [], 1)
        cases = results.classify(t, rc, 11, last, timed_out=True)
        self.assertEqual([(c.name, c.result) for c in cases],
                         [('events on anon', 'fail'),
                          ('evshort', 'error')])
        self.assertEqual(cases[1].detail,
                         'timed out after 5 s; last output: "Testing '
                         'events on anon..."; left: '
                         'series-uffd-unit-tests[123] S, '
                         'series-uffd-unit-tests[119] S in do_wait')

    def test_init_loops_only_for_retried_tests(self):
        from mmwb import initramfs
        p = plan.Plan(path='x')
        p.tests = [plan.Test('a', 10, 'ktap', 'a', [], 1),
                   plan.Test('b', 10, 'ktap', 'b', [], 2)]
        p.retry = {'b': (2, 'flaky')}
        init = initramfs.init_script(p, {'a', 'b'})
        self.assertIn('[ $bad -eq 0 ] || [ $n -ge 1 ] && break', init)
        self.assertIn('[ $bad -eq 0 ] || [ $n -ge 3 ] && break', init)
        self.assertIn('say MMWB-RETRY b "rc=$rc"', init)
        self.assertIn('watchdog $pid 10 b </dev/null &', init)
        # A retried test's run goes through a file, so that a bail-out
        # in a forked child (exit status 0) is retried too; the others
        # stream to the test port.
        self.assertIn("exec /tests/a) </dev/null >&3 2>&3 &", init)
        self.assertIn("exec /tests/b) </dev/null >/tmp/mmwb-run.out 2>&1 &",
                      init)
        self.assertEqual(init.count("grep -q '^Bail out!' /tmp/mmwb-run.out"
                                    " && bad=1"), 1)


    def test_tests_start_after_the_timers_settle(self):
        """The wait for hres_active comes before the first test (the
        int3 of the hrtimer key's text patch, CI of 2026-12-04)."""
        from mmwb import initramfs
        p = plan.Plan(path='x')
        p.tests = [plan.Test('a', 10, 'ktap', 'a', [], 1)]
        init = initramfs.init_script(p, {'a'})
        self.assertIn("grep -q 'hres_active *: 0' /proc/timer_list", init)
        self.assertLess(init.index('hres_active'),
                        init.index('say MMWB-BEGIN a'))

    def test_kselftest_script_runs_from_its_folder(self):
        """A kselftest script (ksft_hmm.sh) runs under bash from the
        folder its tree's tests were built in, with its siblings: the
        path 'make kselftest' takes; a program runs from /tmp."""
        from mmwb import initramfs
        self.assertEqual(initramfs.script_dir('series:ksft_hmm.sh'),
                         '/tests/series-mm')
        self.assertEqual(initramfs.script_dir('ksft_hmm.sh'), '/tests/mm')
        self.assertIsNone(initramfs.script_dir('series:hmm-tests'))
        p = plan.Plan(path='x')
        p.tests = [plan.Test('k', 10, 'ktap', 'series:ksft_hmm.sh', [], 1),
                   plan.Test('h', 10, 'ktap', 'series:hmm-tests', [], 2)]
        init = initramfs.init_script(p, {'k', 'h'})
        self.assertIn('(cd /tests/series-mm && exec bash ./ksft_hmm.sh) '
                      '</dev/null >&3 2>&3 &', init)
        self.assertIn('(cd /tmp && exec /tests/series-hmm-tests) '
                      '</dev/null >&3 2>&3 &', init)

    def test_kselftest_script_folder_goes_along(self):
        """The whole folder goes into the guest once, scripts and
        programs, and bash with it; build files stay out."""
        from mmwb import initramfs
        with tempfile.TemporaryDirectory() as d:
            src = os.path.join(d, 'out')
            os.makedirs(src)
            for name, mode in (('ksft_hmm.sh', 0o644),
                               ('test_hmm.sh', 0o644),
                               ('hmm-tests', 0o755), ('build.log', 0o644)):
                with open(os.path.join(src, name), 'w') as f:
                    f.write('#!/bin/sh\n')
                os.chmod(os.path.join(src, name), mode)
            root = os.path.join(d, 'root')
            os.makedirs(os.path.join(root, 'bin'))
            bash = os.path.join(d, 'bash-static')
            with open(bash, 'w') as f:
                f.write('')
            old = initramfs.BASH
            initramfs.BASH = bash
            try:
                initramfs._copy_script_dir(src, root, '/tests/series-mm')
                initramfs._copy_script_dir(src, root, '/tests/series-mm')
            finally:
                initramfs.BASH = old
            self.assertEqual(sorted(os.listdir(
                os.path.join(root, 'tests', 'series-mm'))),
                ['hmm-tests', 'ksft_hmm.sh', 'test_hmm.sh'])
            self.assertTrue(os.path.exists(os.path.join(root, 'bin', 'bash')))


class PlanTest(unittest.TestCase):
    def parse(self, text, known=None):
        with tempfile.NamedTemporaryFile('w', suffix='.plan',
                                         delete=False) as f:
            f.write(text)
        try:
            return plan.parse(f.name, results.FORMATS, known)
        finally:
            os.unlink(f.name)

    def test_real_plans_parse(self):
        """The plan of every base record parses and expects a bug the
        series fixes to fail on the base kernel (7.3.4: fault-around
        among others; 6.12.117, whose backport is the hmm fixes only:
        hmm-mprotect-read)."""
        from mmwb import bases
        for b in bases.all_bases():
            p = plan.parse(b.plan, results.FORMATS)
            self.assertTrue(p.test('cow'), b.plan)
            self.assertTrue([e for e in p.expects if e.kernel == 'base'
                             and e.result == 'fail'], b.plan)
            if b.default:
                self.assertTrue([e for e in p.expects if e.kernel == 'base'
                                 and e.test == 'faultaround'], b.plan)
            # The series may not be expected worse than its base (6.12.117
            # does not build khugepaged.c; the backports leave it so).
            self.assertEqual(p.expectation('series', 'khugepaged', 'x'),
                             p.expectation('base', 'khugepaged', 'x'))

    def test_errors_name_the_line(self):
        bad = ['test a 10 nosuchformat a\n', 'test a 0 ktap a\n',
               'test a 10 ktap a\nmetric a m (x)(y) us\n',
               'test a 10 ktap a\nmetric b m (x) us\n',
               'test a 10 ktap a\nmetric a m ( us\n',
               'frob\n', 'test a 10 ktap a\ntest a 10 ktap a\n',
               'test a 10 ktap a\nexpect base a fail\n',
               'test a 10 ktap a\nexpect base b fail why\n',
               'test a 10 ktap a\nexpect other a fail why\n',
               'test a 10 ktap a\nretry a 1\n',
               'test a 10 ktap a\nretry a 9 too many\n',
               'test a 10 ktap a\nretry b 1 no such test\n',
               'test a 10 ktap a\nskip a\n',
               'test a 10 ktap a\nskip b no such test\n']
        for text in bad:
            with self.subTest(text=text):
                with self.assertRaises(StepError) as cm:
                    self.parse(text)
                self.assertIn('.plan:', str(cm.exception))
                self.assertEqual(cm.exception.code, 2)

    def test_skip_runs_nowhere_and_says_why(self):
        p = self.parse('test a 10 ktap a\ntest b 10 ktap b\n'
                       'skip b hangs on both kernels\n')
        for k in ('base', 'series'):
            run, skipped = p.tests_for(k)
            self.assertEqual([t.name for t in run], ['a'])
            self.assertEqual(skipped, {'b': 'not run: hangs on both kernels'})

    def test_unknown_binary(self):
        with self.assertRaises(StepError):
            self.parse('test a 10 ktap nosuch\n', known={'cow'})

    def test_last_expect_wins(self):
        p = self.parse('test a 10 ktap a\nexpect * a fail all\n'
                       'expect series a:good* pass fixed\n')
        self.assertEqual(p.expectation('base', 'a', 'good one')[0], 'fail')
        self.assertEqual(p.expectation('series', 'a', 'good one')[0], 'pass')
        self.assertEqual(p.expectation('series', 'a', 'bad')[0], 'fail')


class StressNgTest(unittest.TestCase):
    def test_recorded(self):
        """stress-ng 0.15 as Debian ships it, --metrics-brief --verify."""
        text = open(os.path.join(DATA, 'stress-ng-host.txt')).read()
        cases = results.parse_stressng(text)
        self.assertEqual([(c.name, c.result) for c in cases],
                         [('vm', 'pass'), ('madvise', 'pass')])

    def test_verify_error_fails_its_stressor(self):
        text = ('stress-ng: metrc: [7] vm   120  1.0  0.1  0.1  1.0  1.0\n'
                'stress-ng: metrc: [7] mmap  3  1.0  0.1  0.1  1.0  1.0\n'
                'stress-ng: fail:  [8] vm: detected memory error, offset 12\n'
                'stress-ng: fail:  [7] stress-ng: 1 stressor failed\n')
        cases = {c.name: c for c in results.parse_stressng(text)}
        self.assertEqual(cases['vm'].result, 'fail')
        self.assertIn('memory error', cases['vm'].detail)
        self.assertEqual(cases['mmap'].result, 'pass')
        self.assertEqual(cases['stress-ng'].result, 'fail')

    def test_no_op_is_no_pass(self):
        text = 'stress-ng: metrc: [7] mremap   0  60.0  0.1  0.1  0.0  0.0\n'
        case, = results.parse_stressng(text)
        self.assertEqual(case.result, 'skip')
        self.assertIn('0 bogo ops', case.detail)


class AloneTest(unittest.TestCase):
    parse = PlanTest.parse

    def test_alone_runs_after_in_its_own_guest(self):
        p = self.parse('test a 10 exit a\ntest b 20 exit b\n'
                       'alone b it times out with a guest beside it\n')
        self.assertEqual([t.name for t in p.tests_for('base')[0]], ['a'])
        self.assertEqual([t.name for t in
                          p.tests_for('base', alone=True)[0]], ['b'])
        self.assertEqual(p.total_timeout(alone=True), 20 + 180)
        p.select(['b'], 'try')
        self.assertEqual([t.name for t in p.tests_for('base')[0]], ['b'])

    def test_alone_needs_a_reason_and_a_test(self):
        for text in ('test a 10 exit a\nalone a\n',
                     'test a 10 exit a\nalone c why\n'):
            with self.assertRaises(StepError):
                self.parse(text)


class InheritTest(unittest.TestCase):
    parse = PlanTest.parse

    def test_setup_only_and_drop(self):
        """A plan made from the main plan: its guest set-up only, or all
        of it less what it drops (the test and every line naming it)."""
        from mmwb.common import ROOT
        main = plan.parse(os.path.join(ROOT, 'selftests', 'mm.plan'),
                          results.FORMATS)
        p = self.parse('inherit selftests/mm.plan setup\n'
                       'test s 10 exit host:sh -c true\n')
        self.assertEqual((p.boot, p.setup, [t.name for t in p.tests]),
                         (main.boot, main.setup, ['s']))
        self.assertEqual(p.timeout, 0)
        p = self.parse('inherit selftests/mm.plan\n'
                       'drop faultaround no verdict needed here\n')
        self.assertEqual(len(p.tests), len(main.tests) - 1)
        self.assertFalse(p.test('faultaround'))
        self.assertFalse([e for e in p.expects if e.test == 'faultaround'])

    def test_errors(self):
        for text, needle in (
                ('setup true\ninherit selftests/mm.plan\n', 'first line'),
                ('inherit selftests/no.plan\n', 'no plan'),
                ('inherit selftests/mm.plan setup\ndrop cow why\n',
                 'does not inherit'),
                ('test a 10 exit host:no-such-program-here\n',
                 'no such program on the host')):
            with self.assertRaises(StepError) as e:
                self.parse(text, set() if 'host:' in text else None)
            self.assertIn(needle, e.exception.msg)


class ConsoleTest(unittest.TestCase):
    def test_recorded_panic(self):
        found = vm.scan_console(data('console-panic.log'))
        self.assertEqual(found[0][0], 'panic')

    def test_clean_console(self):
        self.assertEqual(vm.scan_console(data('console-clean.log')), [])

    def test_warning_excerpt(self):
        text = ('[ 1.0] ok\n[ 2.0] WARNING: CPU: 0 PID: 1 at mm/gup.c:1 x\n'
                '[ 2.1] Call Trace:\n')
        found = vm.scan_console(text)
        self.assertEqual(found[0][0], 'warning')
        self.assertIn('Call Trace', found[0][1])

    def test_testlog(self):
        text = ('MMWB-BOOT 6.50\nMMWB-BEGIN cow\nok 1 a\n'
                'MMWB-END cow rc=0 secs=3.5\nMMWB-BEGIN gup\npartial\n')
        outs, boot, done = protocol.parse_testlog(text)
        self.assertEqual(boot, 6.5)
        self.assertFalse(done)
        self.assertEqual(outs['cow'], (0, 3.5, 'ok 1 a'))
        self.assertEqual(outs['gup'][0], None)


class ReportTest(unittest.TestCase):
    def test_tsv_and_counts(self):
        r = report.Report()
        r.add('base', 'cow', 'a', 'pass', 1)
        r.add('series', 'cow', 'a', 'fail', 1, expected=False)
        r.add('series', 'cow', 'b\tc', 'skip', 0)
        r.metric('build_seconds', 'base', 10.0, 's')
        with tempfile.TemporaryDirectory() as d:
            text = r.write(d)
            with open(os.path.join(d, 'results.tsv')) as f:
                lines = f.read().splitlines()
            with open(os.path.join(d, 'metrics.tsv')) as f:
                mlines = f.read().splitlines()
        self.assertEqual(lines[0], 'kernel\tsuite\tcase\tresult\tseconds'
                         '\texpected\tdetail')
        self.assertEqual(lines[3], 'series\tcow\tb c\tskip\t0.00\tyes\t')
        self.assertEqual(mlines[1], 'build_seconds\t10.0\t-\ts')
        self.assertEqual(r.counts('series'), (0, 1, 1))
        self.assertIn('* cow: a: pass -> fail', text)
        self.assertIn('Unexpected results: 1', text)



class ReportFilesTest(unittest.TestCase):
    """results.tsv keeps every field of a row and reads back the same;
    results.xml says the same in JUnit."""

    def rows(self):
        from mmwb import report
        r = report.Report()
        r.add('base', 'faultaround', 'xfs 128k: page table', 'xfail', 0,
              True, 'plan: the folio ends at the EOF page')
        r.add('series', 'faultaround', 'tmpfs 64k: empty PMD', 'skip', 0,
              True, 'the file system gave no large folios')
        r.add('series', 'cow', 'R/W longterm pin\twith\ttabs', 'fail', 2.5,
              False, 'exit status 1: not ok 3')
        return r

    def test_results_tsv_round_trip(self):
        import tempfile
        from mmwb import report
        r = self.rows()
        with tempfile.TemporaryDirectory() as d:
            r.write(d)
            back = report.read_results(os.path.join(d, 'results.tsv'))
        self.assertEqual(back, r.rows)

    def test_old_five_columns_read(self):
        import tempfile
        from mmwb import report
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, 'results.tsv')
            with open(p, 'w') as f:
                f.write('kernel\tsuite\tcase\tresult\tseconds\n'
                        'base\tcow\tx\tpass\t1.00\n')
            (row,) = report.read_results(p)
        self.assertEqual((row.case, row.result, row.expected, row.detail),
                         ('x', 'pass', True, ''))

    def test_junit(self):
        import tempfile
        import xml.etree.ElementTree as ET
        r = self.rows()
        with tempfile.TemporaryDirectory() as d:
            r.write(d)
            top = ET.parse(os.path.join(d, 'results.xml')).getroot()
        self.assertEqual(top.tag, 'testsuites')
        self.assertEqual((top.get('tests'), top.get('failures'),
                          top.get('skipped')), ('3', '1', '1'))
        fail = top.find(".//testcase[@classname='series.cow']/failure")
        self.assertEqual(fail.text, 'exit status 1: not ok 3')
        self.assertIsNotNone(top.find(
            ".//testsuite[@name='base.faultaround']/testcase/system-out"))


class JunitCharsTest(unittest.TestCase):
    def test_control_characters(self):
        import tempfile
        import xml.etree.ElementTree as ET
        from mmwb import report
        r = report.Report()
        r.add('series', 'cow', 'x', 'fail', 0, False,
              'not ok \x1b[31mred\x1b[0m \x00')
        with tempfile.TemporaryDirectory() as d:
            r.write(d)
            top = ET.parse(os.path.join(d, 'results.xml')).getroot()
        self.assertIn('red', top.find('.//failure').text)


if __name__ == '__main__':
    unittest.main()
