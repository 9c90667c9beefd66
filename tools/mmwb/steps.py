# SPDX-License-Identifier: GPL-2.0
"""Every step of a series, one test: the base and each patch that
touches a given kernel file, built incrementally in the main build
directory and booted with only the named tests (the series' build of
them, as 'mmwb try' does).  A case that passes at one step and fails at
a later one is a regression of that step: its row fails.  The metrics
get one column per step, so that a commit message can quote the figure
its own patch changes."""

import os

from .common import StepError, EXIT_USAGE, git, log
from . import base, guest, kbuild, patchinfo, report, series as seriesmod


def pick(patches, touching):
    """(index, patch) of the patches that touch one of the paths."""
    return [(i, p) for i, p in enumerate(patches)
            if patchinfo.read(p).touches(touching)]


def label(i, patch=None):
    return 'step-base' if patch is None else f'step-{i + 1:02d}'


def regressions(rep, labels):
    """Rows of suite 'steps': for each case, its result at every step;
    a fail after a pass is a regression of the step where it turned."""
    res = {}
    for r in rep.rows:
        if r.kernel in labels:
            res.setdefault((r.suite, r.case), {})[r.kernel] = r.result
    out = []
    for (suite, case), by in res.items():
        seq = [(k, by.get(k, '-')) for k in labels]
        passed, bad = False, None
        for k, v in seq:
            if v in ('pass', 'xfail'):
                passed = True
            elif v in ('fail', 'error') and passed and bad is None:
                bad = k
        detail = ', '.join(f'{k.removeprefix("step-")} {v}' for k, v in seq)
        if bad:
            detail = f'fails again at {bad} after passing: {detail}'
        out.append((suite, case, bad is None, detail))
    return out


def main(bench, a):
    """The steps of bench.plan's tests a.test; images in <out>/steps/,
    the report in <report>/steps/."""
    tree = bench.tree
    plan = guest.load_plan(bench)
    plan.select(a.test, 'steps')
    for n in a.test:
        plan.only.pop(n, None)  # every step is a kernel of its own
    sel = bench.selftests('series')
    if not os.path.isdir(sel):
        raise StepError('steps', sel, "no series test binaries: run "
                        "'scripts/run' first", EXIT_USAGE)
    base.ensure(bench)
    patches = seriesmod.patch_files(bench)
    seriesmod.apply(bench)
    commits = git(tree, 'rev-list', '--reverse',
                  f'{bench.tag}..{seriesmod.APPLY_BRANCH}',
                  step='steps').splitlines()
    picked = pick(patches, a.touching or ['mm/', 'lib/'])
    steps = [(None, bench.tag)] + [(p, commits[i]) for i, p in picked]
    labels = ['step-base'] + [label(i, p) for i, p in picked]
    rep = report.Report()
    kbuild.configure(bench)
    try:
        for lab, (p, rev) in zip(labels, steps):
            git(tree, 'checkout', '-q', '--detach', rev, step='steps')
            name = os.path.basename(p) if p else bench.tag
            log(f'steps: {lab}: {name}')
            secs = kbuild.build(bench, label=lab)
            rep.metric('build_seconds', lab, round(secs, 1), 's')
            img = kbuild.install_image(
                bench.kbuild, os.path.join(bench.out, 'steps', lab))
            part = report.Report()
            guest.run_plan(bench, lab, plan, part, img=img, role=lab)
            # A test's own verdict at one step is data here; the
            # verdict is whether a later step fails what an earlier
            # one passed.  Splats and a guest gone wrong still count.
            for r in part.rows:
                if plan.test(r.suite):
                    r.expected = True
            rep.merge(part)
    finally:
        git(tree, 'checkout', '-q', seriesmod.APPLY_BRANCH, step='steps')
    for suite, case, ok, detail in regressions(rep, labels):
        rep.add('series', 'steps', f'{suite}: {case}',
                'pass' if ok else 'fail', 0, ok, detail)
    out = os.path.join(bench.report, 'steps')
    text = rep.write(out)
    print(text)
    log(f'steps: report in {out}')
    p, f, s = rep.counts('series')
    print(f'{p} passed, {f} failed, {s} skipped', flush=True)
    return 1 if rep.unexpected() else 0
