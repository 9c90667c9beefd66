# SPDX-License-Identifier: GPL-2.0
"""The A/B job: build base and series, boot each, run the plan, record."""

import os
import subprocess

from .common import StepError, EXIT_SERIES, git
from . import base, guest, kbuild, kselftest, lava, series


def build_kernel(bench, label, rep, hooks=()):
    """Build bench.tree as it is checked out, its image and selftests
    into <out>/<label>/; hooks: h(bench, label, rep) each after."""
    secs = kbuild.build(bench, label=label)
    img = kbuild.install_image(bench.kbuild, os.path.join(bench.out, label))
    rep.metric('build_seconds', label, round(secs, 1), 's')
    ks, _ = kselftest.build_mm(bench, bench.selftests(label), label)
    rep.metric('kselftest_build_seconds', label, round(ks, 1), 's')
    for h in hooks:
        h(bench, label, rep)
    return img


def ab(bench, rep, hooks=(), after_build=()):
    """Base, then series on top; both booted with the same plan
    (bench.plan).  Returns the guest errors (StepError) found, for the
    caller to report.  after_build: f(bench, rep, plan) each, once both
    kernels are built and before they boot (the CI mutants:
    mutants.ci_mutants)."""
    tree = bench.tree
    base.ensure(bench)
    plan = guest.load_plan(bench)
    base.require_clean(tree)
    series.patch_files(bench)   # fail early on a bad series file
    kbuild.configure(bench)
    git(tree, 'checkout', '-q', '-B', 'mmwb/base', bench.tag, step='base')
    build_kernel(bench, 'base', rep, hooks)
    series.apply(bench)
    diffs = series.check_roundtrip(bench)
    rep.add('series', 'export', 'patches/ round trip',
            'fail' if diffs else 'pass', 0, not diffs, '; '.join(diffs))
    if diffs:
        raise StepError('export', bench.patches, 'patches/ is not what '
                        'scripts/export makes of the applied series:\n'
                        + '\n'.join(diffs), EXIT_SERIES)
    build_kernel(bench, 'series', rep, hooks)
    for f in after_build:
        f(bench, rep, plan)
    errors = guest.side_by_side(bench, plan,
                                [('base', None), ('series', None)], rep)
    for m in plan.metrics:
        rep.ratio(m.name)
    # The same two guests as LAVA jobs (<build>/lava/<kernel>/).
    for label in ('base', 'series'):
        try:
            lava.write(bench, rep, label, plan, guest.bindirs(bench, label),
                       f'{bench.base.title}' + (' + the series'
                                                if label == 'series' else ''))
        except (StepError, OSError, subprocess.SubprocessError) as e:
            # The report and the guests' errors are what matter here.
            rep.add(label, 'lava', 'job.yaml validates (lava-common)',
                    'error', 0, False, f'no job written: {e}')
    return errors
