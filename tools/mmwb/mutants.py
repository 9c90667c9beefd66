# SPDX-License-Identifier: GPL-2.0
"""Mutants: would each test have caught the bug it guards?

A mutant is a small patch on top of the series that brings back a
plausible bug.  They live in the base record's mutants folder, one
folder per topic (mutants/<topic>/<name>.patch), each with a header
naming the tests that must catch it and saying why the bug is
plausible, then the diff (so that 'git apply' takes the file as is):

    Mutant: guard-eof
    Tests: faultaround
    Cases: faultaround:* 2m: empty PMD; faultaround:* 256k_from_128k: empty PMD
    Why: The PMD guard of filemap_map_pages() back to "file_end >=
         folio_next_index(folio)": the first copy of the off-by-one.

    diff --git a/mm/filemap.c b/mm/filemap.c
    ...

A test named in hosttests.HOST runs on the host: the mutant is applied
to a copy of what that test compiles, which is built and run there
(seconds: scripts/test runs these).  Every other test is one of the
plan: the mutant is committed on a detached HEAD on top of the applied
series in the kernel work tree (nothing uncommitted is ever at stake,
and an interrupted run leaves a clean tree), the kernel is rebuilt
incrementally in the main build directory, and a guest boots with only
the named tests, judged by the series' expectations ('mmwb mutants').

Cases: names the cases that must fail, as '<test>:<case glob>' separated
by ';' (the suite and case of the rows; 'console:oops' for a splat).  A
mutant is killed only when one of those fails: any other failure of its
run is no kill, and is reported beside it (suite 'mutants-unpredicted',
a failure).  A kill whose predicted cases all failed by their timeout
only is a weak kill, and says so.

Rows are suite 'mutants', case '<topic>/<name>': killed is a pass (the
test output that caught it is the detail), survived is a fail, and a
mutant that does not apply or does not build is an error, never a
kill.  A build that warns is a build failure too: the kernel is built
with CONFIG_WERROR's rule, no new warning, checked in the build log of
the mutant's incremental build."""

import fnmatch
import glob
import hashlib
import os
import shutil
import time
from dataclasses import dataclass, field

from .common import ROOT, StepError, EXIT_USAGE, EXIT_UNEXPECTED, git, log, \
    run
from . import base, guest, hosttests, kbuild, patchinfo, report
from . import series as seriesmod

HEADER = ('Mutant', 'Tests', 'Cases', 'Why')
# A known survivor says why it is not caught yet; it still fails its row.
OPTIONAL = ('Open',)
SUITE = 'mutants'
# Failures of a mutant's run that its Cases: line does not predict.
UNPREDICTED = 'mutants-unpredicted'
STAMP = 'series-tree'
# The commit a mutant makes on the detached HEAD: never exported.
_IDENT = ['-c', 'user.name=mmwb mutants', '-c',
          'user.email=mutants@mmwb.invalid']


@dataclass
class Mutant:
    topic: str
    name: str
    path: str
    tests: list
    why: str
    paths: list = field(default_factory=list)
    open: str = ''
    cases: list = field(default_factory=list)   # '<test>:<case glob>'

    def predicted(self, suite, case):
        """Whether a failure of this row is one the header predicts."""
        return any(fnmatch.fnmatchcase(f'{suite}:{case}', c)
                   for c in self.cases)

    @property
    def id(self):
        return f'{self.topic}/{self.name}'

    def host(self):
        """The host test that judges it, or None (a guest mutant)."""
        hosts = [t for t in self.tests if t in hosttests.HOST]
        return hosts[0] if hosts else None


def _bad(path, msg):
    return StepError('mutants', path, msg, EXIT_USAGE)


def parse(path):
    """One mutant file; a clear error naming the file and line."""
    try:
        with open(path) as f:
            text = f.read()
    except OSError as e:
        raise _bad(path, f'cannot read: {e}')
    head, _, body = text.partition('\n\n')
    fields, key = {}, None
    for n, line in enumerate(head.splitlines(), 1):
        if line[:1].isspace() and key:
            fields[key] += ' ' + line.strip()
            continue
        key, colon, val = line.partition(':')
        if not colon or key not in HEADER + OPTIONAL:
            raise _bad(f'{path}:{n}', f'not a header line: {line!r} '
                       f'(expected {", ".join(h + ":" for h in HEADER)} '
                       'then a blank line and the diff)')
        if key in fields:
            raise _bad(f'{path}:{n}', f'{key}: given twice')
        fields[key] = val.strip()
    missing = [h for h in HEADER if not fields.get(h)]
    if missing:
        raise _bad(path, f'missing header(s): {", ".join(missing)}')
    stem = os.path.basename(path)[:-len('.patch')]
    if fields['Mutant'] != stem:
        raise _bad(path, f'Mutant: {fields["Mutant"]} does not match the '
                   f'file name {stem}')
    paths = patchinfo.touched_paths(path)
    if not paths:
        raise _bad(path, 'no diff (no "+++ b/<path>" line)')
    cases = [c.strip() for c in fields['Cases'].split(';') if c.strip()]
    tests = fields['Tests'].replace(',', ' ').split()
    bad = [c for c in cases if c.partition(':')[0] not in
           tests + ['console', 'vm'] or not c.partition(':')[2]]
    if bad:
        raise _bad(path, f'Cases: {"; ".join(bad)}: each is <test>:<case '
                   'glob> of a test the mutant names (or console:<kind>, '
                   'vm:<row>)')
    return Mutant(topic=os.path.basename(os.path.dirname(path)), name=stem,
                  path=path, tests=tests, why=fields['Why'], paths=paths,
                  open=fields.get('Open', ''), cases=cases)


def load(directory, only=()):
    """Every mutant of the folder (or only those named topic/name or
    topic), in order."""
    if not directory or not os.path.isdir(directory):
        return []
    out = [parse(p) for p in sorted(glob.glob(os.path.join(directory, '*',
                                                           '*.patch')))]
    if only:
        known = {m.id for m in out} | {m.topic for m in out}
        unknown = [x for x in only if x not in known]
        if unknown:
            raise _bad(directory, f'no mutant or topic {", ".join(unknown)}')
        out = [m for m in out if m.id in only or m.topic in only]
    return out


def check_tests(mutants, plan):
    """Every test a mutant names is a host test or one of the plan."""
    for m in mutants:
        unknown = [t for t in m.tests
                   if t not in hosttests.HOST and not plan.test(t)]
        if unknown:
            raise _bad(m.path, f'Tests: {", ".join(unknown)}: neither a host '
                       f'test ({", ".join(hosttests.HOST)}) nor a test of '
                       f'{plan.path}')
        hosts = [t for t in m.tests if t in hosttests.HOST]
        if hosts and len(hosts) != len(m.tests):
            raise _bad(m.path, f'Tests: {" ".join(m.tests)}: a mutant runs '
                       'either on the host or in the guest, not both')


def _row(rep, m, verdict, detail, secs):
    """verdict: caught, passed, unapplied, unbuilt, unbooted."""
    if verdict == 'caught':
        rep.add('series', SUITE, m.id, 'pass', secs, True,
                f'killed: {detail}')
    elif verdict == 'passed':
        rep.add('series', SUITE, m.id, 'fail', secs, False,
                f'survived: {detail}')
    else:
        what = {'unapplied': 'does not apply',
                'unbuilt': 'does not build',
                'unbooted': 'did not boot'}[verdict]
        rep.add('series', SUITE, m.id, 'error', secs, False,
                f'{what} ({os.path.relpath(m.path, ROOT)}): {detail}')
    log(f'mutants: {m.id}: {rep.rows[-1].detail[:100]} ({secs:.0f} s)')


def report_dir(bench):
    return os.path.join(bench.report, 'mutants')


def run_host(bench, rep, mutants):
    """The host mutants: each applied to a copy of what its test
    compiles (<out>/mutants/<topic>/<name>/src), built and run."""
    tree = bench.tree
    for m in mutants:
        t0 = time.monotonic()
        test = hosttests.HOST[m.host()]
        work = os.path.join(bench.out, 'mutants', m.topic, m.name)
        src = os.path.join(work, 'src')
        shutil.rmtree(work, ignore_errors=True)
        for rel in (*test.copy, *m.paths):
            s, d = os.path.join(tree, rel), os.path.join(src, rel)
            os.makedirs(os.path.dirname(d), exist_ok=True)
            if os.path.isdir(s):
                shutil.copytree(s, d, dirs_exist_ok=True)
            elif os.path.exists(s):
                shutil.copy2(s, d)
        for rel in test.link:
            d = os.path.join(src, rel)
            os.makedirs(os.path.dirname(d), exist_ok=True)
            os.symlink(os.path.join(os.path.abspath(tree), rel), d)
        # patch(1), not git apply: the copy lies inside this repository,
        # where git apply would take paths from the repository's top.
        p = run(['patch', '-p1', '--batch', '--forward', '--fuzz=0', '-s',
                 '-d', src,
                 '-i', os.path.abspath(m.path)], check=False, capture=True,
                step='mutants')
        if p.returncode:
            _row(rep, m, 'unapplied', hosttests.last_line(p.stdout),
                 time.monotonic() - t0)
            continue
        verdict, detail, failed = test.judge(src, os.path.join(work, 'out'))
        if verdict == 'caught':
            verdict, detail, others = verdict_of(m, failed)
            _unpredicted(rep, m, others)
        _row(rep, m, verdict, detail, time.monotonic() - t0)


def ci_mutants(bench, rep, plan, directory=None):
    """For scripts/run and scripts/test (the series applied in bench.tree):
    every mutant file parses and names known tests, the host mutants
    run, and each guest mutant still applies to the series (suite
    'mutants-apply'; 'scripts/mmwb mutants' runs them)."""
    directory = directory if directory is not None else bench.mutants
    mutants = load(directory)
    check_tests(mutants, plan)
    run_host(bench, rep, [m for m in mutants if m.host()])
    for m in mutants:
        if m.host():
            continue
        p = run(['git', 'apply', '--check', os.path.abspath(m.path)],
                cwd=bench.tree, check=False, capture=True, step='mutants')
        ok = p.returncode == 0
        rep.add('series', 'mutants-apply', m.id, 'pass' if ok else 'fail',
                0, ok, 'applies to the series' if ok else
                f'does not apply ({os.path.relpath(m.path, ROOT)}): '
                + hosttests.last_line(p.stdout))


def series_results(ab_report):
    """{(suite, case): result} of the series kernel in the last A/B
    report (its folder): the control a mutant's run is compared with."""
    path = os.path.join(ab_report, 'results.tsv')
    if not os.path.exists(path):
        return {}
    return {(r.suite, r.case): r.result for r in report.read_results(path)
            if r.kernel == 'series'}


def unbooted(part):
    """No test of the run began: every one of them did not run."""
    tests = [r for r in part.rows if r.suite not in ('console', 'vm')]
    return bool(tests) and all(r.detail.startswith('did not run')
                               for r in tests)


def failures(part, control):
    """The rows of a mutant's run that went wrong: a case that fails
    where the series' own run did not fail it (a flake of the series is
    no failure of the mutant), a splat, or a guest that died or hung
    under the mutant.  An unexpected pass is none."""
    out = []
    for r in part.rows:
        if r.expected:
            continue
        if r.suite in ('console', 'vm'):
            out.append(r)
        elif r.result == 'fail' and control.get((r.suite, r.case), 'pass') \
                in ('pass', 'xfail', 'skip'):
            out.append(r)
        elif r.result == 'error' and 'not built' not in r.detail:
            out.append(r)
    return out


TIMEOUT_WORDS = ('timed out after', 'global timeout')


def kills(m, bad):
    """(predicted, other) of the failed rows of m's run: only the first
    are a kill."""
    mine = [r for r in bad if m.predicted(r.suite, r.case)]
    return mine, [r for r in bad if r not in mine]


def verdict_of(m, bad):
    """(verdict, detail, others): 'caught' when a predicted case failed
    (weak when every predicted failure is a timeout), else 'passed'; the
    failures that were not predicted, for a row of their own."""
    mine, others = kills(m, bad)
    if not mine:
        n = f'; {len(others)} other failure(s)' if others else ''
        return 'passed', f'no predicted case failed ({"; ".join(m.cases)})' \
            + n, others
    r = mine[0]
    detail = f'{r.suite}: {r.case}: {r.detail}'
    # A guest that panicked inside a test leaves that test looking timed
    # out: a splat in the run is no timeout.
    timeouts = all(any(w in f'{x.case} {x.detail}' for w in TIMEOUT_WORDS)
                   for x in mine)
    if timeouts and not any(x.suite == 'console' for x in bad):
        detail = 'weak (the timeout only): ' + detail
    return 'caught', detail, others


def _unpredicted(rep, m, others):
    """The failures of a mutant's run that its header does not predict:
    a failure of the run, beside the mutant, never a kill."""
    if others:
        rep.add('series', UNPREDICTED, m.id, 'fail', 0, False,
                '; '.join(f'{r.suite}: {r.case}' for r in others[:5]))


def _same_file(logged, rel):
    """A path as the build log gives it (relative to the tree, or
    through the out-of-tree build's source link) names the file rel."""
    return logged == rel or logged.endswith('/' + rel)


def build_warnings(logf, paths):
    """The compiler's warnings in a build log about the files a mutant
    changes (paths: relative to the tree, as the build log names them).
    A mutant's build is incremental; a warning elsewhere is not its."""
    try:
        with open(logf, errors='replace') as f:
            return [x.strip() for x in f if ': warning: ' in x and
                    any(_same_file(x.split(':', 1)[0].strip(), p)
                        for p in paths)]
    except OSError:
        return []


def run_guest(bench, rep, mutants):
    """Guest mutants, one at a time on top of the applied series, with
    bench.plan."""
    tree = bench.tree
    sel = bench.selftests('series')
    if mutants and not os.path.isdir(sel):
        raise StepError('mutants', sel, "no series test binaries: run "
                        "'scripts/run' first", EXIT_USAGE)
    kbuild.configure(bench)
    control = series_results(bench.report)
    try:
        for m in mutants:
            t0 = time.monotonic()
            label = f'mutant-{m.topic}-{m.name}'
            git(tree, 'checkout', '-q', '--detach', seriesmod.APPLY_BRANCH,
                step='mutants')
            p = run(['git', 'apply', '--index', os.path.abspath(m.path)],
                    cwd=tree, check=False, capture=True, step='mutants')
            if p.returncode:
                _row(rep, m, 'unapplied', hosttests.last_line(p.stdout),
                     time.monotonic() - t0)
                continue
            run(['git', *_IDENT, '-c', 'commit.gpgsign=false', 'commit',
                 '-q', '--no-verify', '-m', f'mutant {m.id}'],
                cwd=tree, capture=True, step='mutants')
            try:
                kbuild.build(bench, label=label)
            except StepError as e:
                lines = e.msg.strip().splitlines() or ['']
                err = next((x for x in lines if 'error:' in x), lines[-1])
                _row(rep, m, 'unbuilt', f'{err.strip()} (log: {e.path})',
                     time.monotonic() - t0)
                continue
            warned = build_warnings(os.path.join(bench.kbuild, 'build.log'),
                                    m.paths)
            if warned:
                _row(rep, m, 'unbuilt', f'a warning, an error under '
                     f'CONFIG_WERROR: {warned[0]}', time.monotonic() - t0)
                continue
            img = kbuild.install_image(bench.kbuild,
                                       os.path.join(bench.out, label))
            plan = guest.load_plan(bench)
            plan.select(m.tests, 'mutants')
            # A guest that dies before its first test began (under TCG,
            # now and then, in boot code the mutant does not touch)
            # shows nothing about the mutant: boot it once more.
            for boot in (1, 2):
                part = report.Report()
                vmrun = guest.run_plan(bench, label, plan, part, img=img,
                                       role='series')
                # vm.boot() boots a kernel that never reached init once
                # more itself: a second time would be a third and fourth.
                if not unbooted(part) or vmrun.no_init:
                    break
                log(f'mutants: {m.id}: the guest died before its first '
                    'test' + ('; booting it again' if boot == 1 else ''))
            if unbooted(part):
                _row(rep, m, 'unbooted', 'twice the guest died before its '
                     f'first test (console: {bench.out}/{label}/vm)',
                     time.monotonic() - t0)
                continue
            missing = [r for r in part.rows if r.result == 'error'
                       and 'not built' in r.detail]
            bad = failures(part, control)
            # The mutant's own rows are evidence, not verdicts.
            for r in part.rows:
                r.expected = True
            rep.merge(part)
            if missing:
                _row(rep, m, 'unbuilt', f'{missing[0].suite}: test binary '
                     'not built (run scripts/run first)',
                     time.monotonic() - t0)
            elif bad:
                verdict, detail, others = verdict_of(m, bad)
                _row(rep, m, verdict, detail, time.monotonic() - t0)
                _unpredicted(rep, m, others)
            else:
                n = sum(1 for r in part.rows if r.result == 'pass')
                _row(rep, m, 'passed', f'{" ".join(m.tests)}: {n} case(s) '
                     'pass as on the series', time.monotonic() - t0)
    finally:
        # -f: a mutant staged but not committed (interrupted between the
        # two) must not ride along onto the branch.  The tree was clean
        # before the run (require_clean), so nothing else is at stake.
        git(tree, 'checkout', '-q', '-f', seriesmod.APPLY_BRANCH,
            step='mutants')


def series_tree(tree):
    """What a mutants report is about: the tree object of the applied
    series (the same patches give the same tree, whenever applied)."""
    return git(tree, 'rev-parse', f'{seriesmod.APPLY_BRANCH}^{{tree}}',
               step='mutants')


def stamp(tree, mutants):
    """The series tree and a digest of the mutant files: a report of
    another series or of other mutants is stale."""
    h = hashlib.sha256()
    for m in sorted(mutants, key=lambda m: m.id):
        with open(m.path, 'rb') as f:
            h.update(m.id.encode() + b'\0' + f.read())
    return f'{series_tree(tree)} {h.hexdigest()[:16]}'


def require_report(bench, directory=None, folder=None):
    """For 'mmwb mail': a mutants report (default report_dir(bench)) of
    this very series, with every mutant killed; otherwise a clear
    error."""
    tree = bench.tree
    folder = folder or report_dir(bench)
    directory = directory if directory is not None else bench.mutants
    mutants = load(directory)
    if not mutants:
        return
    path = os.path.join(folder, STAMP)
    again = "run 'scripts/mmwb mutants' on this series first"
    if not os.path.exists(path):
        raise StepError('mail', path, f'no mutants report: {again}',
                        EXIT_USAGE)
    with open(path) as f:
        if f.read().strip() != stamp(tree, mutants):
            raise StepError('mail', path, 'the mutants report is older '
                            'than the series or the mutants (another tree '
                            f'or other mutant files): {again}', EXIT_USAGE)
    got = {r.case: r.result for r in
           report.read_results(os.path.join(folder, 'results.tsv'))
           if r.suite == SUITE}
    bad = [m.id for m in mutants if got.get(m.id) != 'pass']
    if bad:
        raise StepError('mail', folder, 'mutants not killed: '
                        + ', '.join(bad), EXIT_UNEXPECTED)


def merge_previous(rep, full, rerun, d):
    """Add the rows of the last report (folder d) of every mutant that
    was not run again, if that report is of the same series and mutants
    (its stamp is full).  Returns whether it did."""
    try:
        with open(os.path.join(d, STAMP)) as f:
            if f.read().strip() != full:
                return False
        rows = report.read_results(os.path.join(d, 'results.tsv'))
    except OSError:
        return False
    labels = {f'mutant-{x.replace("/", "-")}' for x in rerun}
    for r in rows:
        if r.kernel in labels or (r.suite in (SUITE, UNPREDICTED) and
                                  r.case in rerun):
            continue
        rep.add(r.kernel, r.suite, r.case, r.result, r.seconds, r.expected,
                r.detail)
    return True


def by_test(mutants, rows):
    """For each test the mutants name, the mutants it kills and those it
    does not (yet), with the seconds of each mutant's run: the listing
    issue readers ask for ('which mutant proves this test?')."""
    verdicts = {r.case: r for r in rows}
    tests = {}
    for m in mutants:
        for t in m.tests:
            tests.setdefault(t, []).append(m)
    out = ['Mutants by test (killed: a case the mutant predicts failed)', '']
    for t in sorted(tests):
        killed, other = [], []
        for m in tests[t]:
            r = verdicts.get(m.id)
            if r and r.result == 'pass':
                killed.append(f'{m.id} ({r.seconds:.0f} s)')
            else:
                other.append(f'{m.id} ({"not run" if not r else r.result})')
        out.append(f'{t}: kills {", ".join(killed) or "none"}'
                   + (f'; not killed: {", ".join(other)}' if other else ''))
    return '\n'.join(out) + '\n'


def main(bench, a):
    """scripts/mmwb mutants [--only topic[/name]]: every mutant (host
    and guest), report in <build>/report/mutants/."""
    tree = bench.tree
    out = report_dir(bench)
    # A SIGTERM unwinds like Ctrl-C (common.interrupted(), set by
    # __main__), so that the work tree goes back to the series branch.
    mutants = load(bench.mutants, a.only)
    if not mutants:
        raise _bad(bench.mutants or bench.base.path,
                   'no mutant for this base')
    plan = guest.load_plan(bench)
    check_tests(mutants, plan)
    base.ensure(bench)
    base.require_clean(tree)
    seriesmod.apply(bench)
    rep = report.Report()
    t0 = time.monotonic()
    run_host(bench, rep, [m for m in mutants if m.host()])
    run_guest(bench, rep, [m for m in mutants if not m.host()])
    rep.metric('mutants_seconds', 'series', round(time.monotonic() - t0, 1),
               's')
    everyone = load(bench.mutants)
    full = stamp(tree, everyone)
    # Only verdicts of every mutant on this series vouch for it ('mmwb
    # mail'): an --only run is merged into a report of the same series
    # and mutants, and otherwise leaves none.
    if a.only:
        merged = merge_previous(rep, full, {m.id for m in mutants}, out)
    text = rep.write(out)
    if not a.only or merged:
        with open(os.path.join(out, STAMP), 'w') as f:
            f.write(full + '\n')
    elif os.path.exists(os.path.join(out, STAMP)):
        os.unlink(os.path.join(out, STAMP))
    # The verdicts with what caught each mutant, and the tests of each.
    with open(os.path.join(out, 'mutants.tsv'), 'w') as f:
        f.write('mutant\tverdict\tseconds\ttests\tdetail\n')
        tests = {m.id: ' '.join(m.tests) for m in everyone}
        for r in rep.rows:
            if r.suite == SUITE:
                f.write(f'{r.case}\t{r.result}\t{r.seconds:.0f}\t'
                        f'{tests.get(r.case, "")}\t{r.detail}\n')
    print(text)
    rows = [r for r in rep.rows if r.suite == SUITE]
    listing = by_test(everyone, rows)
    with open(os.path.join(out, 'by-test.txt'), 'w') as f:
        f.write(listing)
    print(listing)
    log(f'mutants: report in {out}')
    killed = sum(r.result == 'pass' for r in rows)
    print(f'{killed} killed, {sum(r.result == "fail" for r in rows)} '
          f'survived, {sum(r.result == "error" for r in rows)} error(s) '
          f'of {len(rows)} mutants', flush=True)
    return EXIT_UNEXPECTED if rep.unexpected() else 0
