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
from . import ab, base, kbuild, report, series as seriesmod

OUT = os.path.join(ab.OUT, 'steps')
REPORT = os.path.join(report.REPORT, 'steps')


def pick(patches, touching):
    """(index, patch) of the patches that touch one of the paths."""
    out = []
    for i, p in enumerate(patches):
        paths = seriesmod.touched_paths(p)
        if any(x == t or x.startswith(t.rstrip('/') + '/')
               for x in paths for t in touching):
            out.append((i, p))
    return out


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


def main(a):
    tree = a.tree
    plan = ab.load_plan(a.plan, tree)
    plan.select(a.test, 'steps')
    for n in a.test:
        plan.only.pop(n, None)  # every step is a kernel of its own
    sel = os.path.join(ab.OUT, 'series', 'selftests')
    if not os.path.isdir(sel):
        raise StepError('steps', sel, "no series test binaries: run "
                        "'scripts/run' first", EXIT_USAGE)
    base.ensure(tree)
    patches = seriesmod.read_series()
    seriesmod.apply(tree)
    commits = git(tree, 'rev-list', '--reverse',
                  f'{base.BASE_TAG}..{seriesmod.APPLY_BRANCH}',
                  step='steps').splitlines()
    picked = pick(patches, a.touching or ['mm/', 'lib/'])
    steps = [(None, base.BASE_TAG)] + [(p, commits[i]) for i, p in picked]
    labels = ['step-base'] + [label(i, p) for i, p in picked]
    rep = report.Report()
    kbuild.configure(tree)
    try:
        for lab, (p, rev) in zip(labels, steps):
            git(tree, 'checkout', '-q', '--detach', rev, step='steps')
            name = os.path.basename(p) if p else base.BASE_TAG
            log(f'steps: {lab}: {name}')
            secs = kbuild.build(tree, label=lab)
            rep.metric('build_seconds', lab, round(secs, 1), 's')
            img = kbuild.install_image(kbuild.KBUILD, os.path.join(OUT, lab))
            part = report.Report()
            ab.run_plan(lab, plan, part, img=img, role=lab, tree=tree)
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
    text = rep.write(REPORT)
    print(text)
    log(f'steps: report in {REPORT}')
    p, f, s = rep.counts('series')
    print(f'{p} passed, {f} failed, {s} skipped', flush=True)
    return 1 if rep.unexpected() else 0
