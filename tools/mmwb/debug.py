# SPDX-License-Identifier: GPL-2.0
"""The debug kernel run: the series built with DEBUG_VM, PROVE_LOCKING
and KASAN (kconfig/debug.config on top of kconfig/mm.config) in its own
O= directory, booted with selftests/debug.plan (the main plan less its
benchmarks) as the series kernel.  Any
lockdep, KASAN or VM_BUG_ON report in the console fails it.  Rows are
kernel 'debug'; the report goes to <build>/report/debug/.  A run of the
whole debug plan also writes its verdict to selftests/debug.verdict,
stamped with what it ran (the series' patches, the configs and the
plans): the cover letter quotes it while the stamp is current."""

import hashlib
import os
import re
import textwrap
import time

from .common import ROOT, StepError, log
from . import base, guest, kbuild, kselftest, report, series

FRAGMENT = os.path.join(ROOT, 'kconfig', 'debug.config')
PLAN = os.path.join(ROOT, 'selftests', 'debug.plan')
RECORD = os.path.join(ROOT, 'selftests', 'debug.verdict')
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


def run(bench, rep, tests=()):
    """Build, boot, test bench.plan (only the named tests, if any) in
    <build>/debug-kbuild; returns the guest's StepError or None."""
    t0 = time.monotonic()
    tree, out = bench.tree, bench.under('debug-kbuild')
    base.ensure(bench)
    plan = guest.load_plan(bench)
    if tests:
        plan.select(tests, 'debug')
    base.require_clean(tree)
    series.apply(bench)
    kbuild.configure(bench, out=out,
                     fragments=(*bench.fragments, FRAGMENT))
    secs = kbuild.build(bench, out=out, label='debug')
    rep.metric('build_seconds', 'debug', round(secs, 1), 's')
    img = kbuild.install_image(out, os.path.join(bench.out, 'debug'))
    # The series' own test binaries, as the series kernel runs them.
    sel = bench.selftests('series')
    if not os.path.isdir(sel):
        kselftest.build_mm(bench, sel, 'series', kbuild_out=out)
    # One guest, nothing beside it: the 'alone' tests run in it too.
    plan.alone.clear()
    # The plan's bound (or, for a selection, the sum of its tests'),
    # stretched once, as each test's own.
    plan.timeout = plan.total_timeout() * SCALE
    for t in plan.tests:
        t.timeout *= SCALE
    r = guest.run_plan(bench, 'debug', plan, rep, img=img, role='series',
                       mem=MEM)
    if not r.splats:
        rep.add('debug', 'console', 'no lockdep, KASAN or VM_BUG_ON report',
                'pass', 0, True, '')
    total = time.monotonic() - t0
    rep.metric('debug_run_seconds', 'debug', round(total, 1), 's')
    log(f'debug: done in {total:.0f} s')
    err = guest.guest_verdict('debug', r, plan, role='series')
    if not tests and bench.base.default and bench.plan == PLAN:
        write_record(bench, rep, len(plan.tests), len(r.splats), total, err)
    return err


def uncommented(data):
    """A series file, config fragment or plan without its comment and
    blank lines: what a run reads of it.  '# CONFIG_X is not set' in a
    fragment is an option, not a comment."""
    return b'\n'.join(x for x in data.splitlines()
                      if x.strip() and (not x.lstrip().startswith(b'#') or
                                        re.match(rb'# CONFIG_\w+ is not set$',
                                                 x.strip())))


def stamp(bench):
    """What a verdict is about: the series file and its patches, the
    configs and the plans the debug run reads (the committed files, so
    that any clone computes the same stamp).  A comment in a plan, a
    config or the series file changes no run, so not the stamp."""
    h = hashlib.sha256()
    patches = series.patch_files(bench)
    for path in (bench.series, *patches, *bench.fragments, FRAGMENT,
                 PLAN, bench.base.plan):
        with open(path, 'rb') as f:
            data = f.read()
        if path not in patches:
            data = uncommented(data)
        h.update(os.path.relpath(path, ROOT).encode() + b'\0' + data)
    return h.hexdigest()[:16]


def write_record(bench, rep, ntests, nsplats, secs, err):
    p, f, s = rep.counts('debug')
    odd = [x for x in rep.unexpected() if x.kernel == 'debug']
    unexpected = len(odd)
    rows = '; '.join(f'{x.suite}: {x.case}: {x.result}' for x in odd[:5])
    with open(RECORD, 'w') as out:
        out.write('# Written by scripts/mmwb debug (tools/mmwb/debug.py) '
                  'after a run of the\n# whole debug plan; the cover '
                  'letter quotes it while the stamp is\n# current.  Do not '
                  'edit: run scripts/mmwb debug again.\n'
                  f'stamp      {stamp(bench)}\n'
                  f'tests      {ntests}\n'
                  f'passed     {p}\n'
                  f'failed     {f}\n'
                  f'skipped    {s}\n'
                  f'unexpected {unexpected}\n'
                  f'rows       {rows or "none"}\n'
                  f'splats     {nsplats}\n'
                  f'minutes    {secs / 60:.0f}\n'
                  f'error      {str(err).splitlines()[0] if err else "none"}'
                  '\n')
    log(f'debug: verdict written to {os.path.relpath(RECORD, ROOT)}')


def read_record(path=None):
    """The recorded verdict as a dict, {} when there is none."""
    path = path or RECORD
    if not os.path.exists(path):
        return {}
    rec = {}
    for line in open(path):
        if line.strip() and not line.startswith('#'):
            k, _, v = line.strip().partition(' ')
            rec[k] = v.strip()
    return rec


def unexpected_rows(rec):
    rows = rec.get('rows', 'none')
    return '' if rows == 'none' else f': {rows}'


def options():
    """The options the debug fragment turns on, in its order."""
    return [opt[len('CONFIG_'):] for opt, val in
            kbuild.parse_fragment(FRAGMENT).items() if val == 'y']


def cover_paragraph(bench):
    """The cover letter's debug-kernel paragraph: the recorded verdict if
    it is about this very series, otherwise that there is none."""
    rec = read_record()
    plan = os.path.relpath(PLAN, ROOT)
    if not rec or rec.get('stamp') != stamp(bench):
        text = (f'Debug kernel: no run of {plan} on this version of the '
                'series is recorded (scripts/mmwb debug).')
    else:
        clean = rec['splats'] == '0' and rec['error'] == 'none'
        text = (f'Debug kernel: the series built with '
                f'{os.path.relpath(FRAGMENT, ROOT)} ('
                + ', '.join(options()) + f') ran {plan} ({rec["tests"]} '
                'tests: the main plan less its benchmarks): '
                f'{rec["passed"]} passed, {rec["failed"]} failed '
                f'({rec["unexpected"]} of the rows not as the plan '
                f'expects{unexpected_rows(rec)}), {rec["skipped"]} '
                'skipped; ' +
                ('no lockdep, KASAN, VM_BUG_ON or page table check report '
                 if clean else f'{rec["splats"]} report(s) ') +
                f'in the console, in {rec["minutes"]} minutes under QEMU '
                '(TCG).' + ('' if rec['error'] == 'none'
                            else f'  The run ended with: {rec["error"]}'))
    return textwrap.fill(text, 72, break_on_hyphens=False)


def main(bench, a):
    rep = report.Report()
    err = None
    try:
        err = run(bench, rep, tests=a.test)
    except StepError as e:
        err = e
    report.finish(rep, [err] if err else [],
                  os.path.join(bench.report, 'debug'), kernel='debug')
