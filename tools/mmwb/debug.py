# SPDX-License-Identifier: GPL-2.0
"""The debug kernel run: the series built with DEBUG_VM, PROVE_LOCKING
and KASAN (kconfig/debug.config on top of kconfig/mm.config) in its own
O= directory, booted with selftests/debug.plan (the main plan less its
benchmarks) as the series kernel.  Any
lockdep, KASAN or VM_BUG_ON report in the console fails it.  Rows are
kernel 'debug'; the report goes to build/report/debug/."""

import os
import time

from .common import ROOT, StepError, log
from . import ab, base, kbuild, kselftest, report, series

DEBUG_BUILD = os.path.join(os.path.dirname(kbuild.KBUILD), 'debug-kbuild')
FRAGMENT = os.path.join(ROOT, 'kconfig', 'debug.config')
REPORT = os.path.join(report.REPORT, 'debug')
# Per-test and global timeouts of the plan are stretched by this much:
# KASAN and lockdep slow the kernel side of every test under TCG.  With
# 3, split_huge_page_test (207 s on the plain kernel) was killed at
# 1800 s after 9 of its 12 cases.
SCALE = 6
# The guest's 6 GiB less the KASAN shadow (an eighth) and debug slab
# metadata left too little for gup_hugetlb's 1 GiB cases (2 GiB of
# hugetlb plus a 2 GiB read-back buffer): the first debug run ended that
# test with the OOM killer.  Give the debug guest that memory back.
MEM = '8G'


def run(rep, plan_path=ab.DEFAULT_PLAN, tree=base.TREE, tests=()):
    """Build, boot, test (only the named tests, if any); returns the
    guest's StepError or None."""
    t0 = time.monotonic()
    base.ensure(tree)
    plan = ab.load_plan(plan_path, tree)
    if tests:
        plan.select(tests, 'debug')
    base.require_clean(tree)
    series.apply(tree)
    kbuild.configure(tree, out=DEBUG_BUILD,
                     fragments=(*kbuild.FRAGMENTS, FRAGMENT))
    secs = kbuild.build(tree, out=DEBUG_BUILD, label='debug')
    rep.metric('build_seconds', 'debug', round(secs, 1), 's')
    img = kbuild.install_image(DEBUG_BUILD, os.path.join(ab.OUT, 'debug'))
    # The series' own test binaries, as the series kernel runs them.
    sel = os.path.join(ab.OUT, 'series', 'selftests')
    if not os.path.isdir(sel):
        kselftest.build_mm(tree, DEBUG_BUILD, sel, 'series')
    # One guest, nothing beside it: the 'alone' tests run in it too.
    plan.alone.clear()
    for t in plan.tests:
        t.timeout *= SCALE
    plan.timeout = plan.total_timeout() * SCALE
    r = ab.run_plan('debug', plan, rep, img=img, role='series', mem=MEM)
    if not r.splats:
        rep.add('debug', 'console', 'no lockdep, KASAN or VM_BUG_ON report',
                'pass', 0, True, '')
    total = time.monotonic() - t0
    rep.metric('debug_run_seconds', 'debug', round(total, 1), 's')
    log(f'debug: done in {total:.0f} s')
    return ab.guest_verdict('debug', r, plan, role='series')


def main(a):
    from .__main__ import finish
    rep = report.Report()
    err = None
    try:
        err = run(rep, plan_path=a.plan, tree=a.tree, tests=a.test)
    except StepError as e:
        err = e
    finish(rep, [err] if err else [], outdir=REPORT, kernel='debug')
