# SPDX-License-Identifier: GPL-2.0
"""Tests the series adds that run on the host, not in the guest:
tools/testing/anon-order compiles the kernel's calc_anonymous_folio_order()
in userspace.  They run on the series tree; the base column of their
metrics is the oracle (the base kernel's loop) they measure against.

Each host test is also a record of HOST: what it compiles from a tree
(copied, so that a mutant can change it: mutants.py) and what it only
reads (linked), and how a copy is built and judged."""

import os
import subprocess
import time
from dataclasses import dataclass

from .common import BUILD, ROOT, log, run
from . import results

OUT = os.path.join(BUILD, 'out', 'host')
ANON_ORDER = 'tools/testing/anon-order'
SIZES = (16, 32, 512)
# One binary of the harness runs in seconds; a mutant that loops is
# stopped well after that.
TIMEOUT = 60


def last_line(text):
    lines = [x for x in (text or '').splitlines() if x.strip()]
    return lines[-1] if lines else ''


def build_anon_order(root, out):
    """Build the harness of the tree at root into out: (ok, error)."""
    os.makedirs(out, exist_ok=True)
    p = run(['make', '-s', '-C', os.path.join(root, ANON_ORDER),
             f'OUTPUT={out}'], check=False, capture=True, step='anon-order')
    return p.returncode == 0, last_line(p.stdout)


def run_anon_order(exe):
    """Run one binary: (cases, exit status, output, seconds)."""
    t0 = time.monotonic()
    try:
        p = run([exe], check=False, capture=True, step='anon-order',
                timeout=TIMEOUT)
        rc, out = p.returncode, p.stdout
    except subprocess.TimeoutExpired as e:
        rc = None
        out = (e.stdout or b'').decode(errors='replace') \
            if isinstance(e.stdout, bytes) else (e.stdout or '')
    secs = time.monotonic() - t0
    cases = results.parse_ktap(out)
    if rc is None:
        cases.append(results.Case(os.path.basename(exe), 'fail',
                                  f'timed out after {TIMEOUT} s'))
    elif not cases or (rc and not any(c.result == 'fail' for c in cases)):
        cases.append(results.Case(os.path.basename(exe), 'fail',
                                  f'exit status {rc}'))
    return cases, rc, out, secs


def anon_order(rep, tree):
    if not os.path.isfile(os.path.join(tree, ANON_ORDER, 'Makefile')):
        rep.add('series', 'anon-order', '(harness)', 'skip', 0, True,
                f'{ANON_ORDER} is not in this series')
        return
    out = os.path.join(OUT, 'anon-order')
    ok, why = build_anon_order(tree, out)
    if not ok:
        rep.add('series', 'anon-order', 'build', 'fail', 0, False, why)
        return
    for size in SIZES:
        exe = os.path.join(out, f'anon-order-{size}')
        cases, rc, text, secs = run_anon_order(exe)
        with open(exe + '.out', 'w') as f:
            f.write(text)
        for c in cases:
            rep.add('series', 'anon-order', c.name, c.result,
                    secs / len(cases), c.result == 'pass', c.detail)
        vals = {n: v for n, v, _ in results.parse_metrics(text)}
        if size == 512:
            rep.metric('anon_order_pte_reads_worst', 'base',
                       vals.get('anon_order_pte_reads_worst_oracle_512'),
                       'reads')
            rep.metric('anon_order_pte_reads_worst', 'series',
                       vals.get('anon_order_pte_reads_worst_helper_512'),
                       'reads')
        log(f'anon-order-{size}: {secs:.1f} s, rc {rc}')


BENCH = os.path.join(ROOT, 'tools', 'bench', 'anon-order')


def anon_order_bench(rep, tree):
    """The series' calc_anonymous_folio_order() against 7.3.4's loop,
    timed on the host (tools/bench/anon-order): ns per call per shape,
    the loop in the base column, the helper in the series column, and
    what one order-0 anonymous fault costs here, in the same run."""
    if not os.path.isfile(os.path.join(tree, 'mm', 'anon_folio_order.h')):
        return
    out = os.path.join(OUT, 'anon-order-bench')
    os.makedirs(out, exist_ok=True)
    try:
        p = run(['make', '-s', '-C', BENCH, f'TREE={tree}',
                 f'OUTPUT={out}', 'run'], check=False, capture=True,
                step='anon-order-bench', timeout=TIMEOUT * 5)
    except subprocess.TimeoutExpired:
        rep.add('series', 'anon-order-bench', 'run', 'fail', 0, False,
                f'timed out after {TIMEOUT * 5} s')
        return
    if p.returncode:
        rep.add('series', 'anon-order-bench', 'run', 'fail', 0, False,
                last_line(p.stdout))
        return
    for name, value, unit in results.parse_metrics(p.stdout):
        for who, col in (('_loop_ns', 'base'), ('_helper_ns', 'series')):
            if name.endswith(who):
                rep.metric(name[:-len(who)] + '_ns', col, value, unit)
                if col == 'series':
                    rep.ratio(name[:-len(who)] + '_ns')
        if name == 'bench_anon_fault_ns':
            rep.metric(name, 'series', value, unit)
    rep.add('series', 'anon-order-bench', 'the helper and the loop choose '
            'the same order in every shape', 'pass', 0, True, '')


def judge_anon_order(root, out):
    """A copy of the harness (a mutant's) built and run, every table
    size (a predicted case may fail at one size only).  Returns (verdict,
    detail, failed): 'caught' with the first failure it printed and the
    failed cases as report rows (suite 'anon-order', the case's name, for
    the mutant's Cases: line), 'passed', or 'unbuilt' with the compiler's
    last line."""
    from .report import Row
    ok, why = build_anon_order(root, out)
    if not ok:
        return 'unbuilt', why, []
    rows = []
    for size in SIZES:
        exe = os.path.join(out, f'anon-order-{size}')
        cases, rc, text, _ = run_anon_order(exe)
        with open(exe + '.out', 'w') as f:
            f.write(text)
        fails = [x.removeprefix('# FAIL ') for x in text.splitlines()
                 if x.startswith('# FAIL')]
        # The harness counts failures across its cases (st.failures):
        # after the first failed case every later one fails with it, so
        # only the first failed case of a binary is the mutant's.
        c = next((c for c in cases if c.result == 'fail'), None)
        if c:
            why = next((x for x in fails if c.name in x),
                       c.detail or (fails[0] if fails else ''))
            rows.append(Row('series', 'anon-order', c.name, 'fail', 0,
                            False, f'anon-order-{size}: {why}'))
    if rows:
        return 'caught', rows[0].detail, rows
    return 'passed', 'anon-order-' + '/'.join(map(str, SIZES)) + \
        ' all pass', []


@dataclass
class HostTest:
    copy: tuple     # paths of the tree it compiles: a mutant may change them
    link: tuple     # paths it only reads
    judge: object   # judge(root, out) -> (verdict, detail, failed rows)


HOST = {
    'anon-order': HostTest(copy=('mm/anon_folio_order.h', ANON_ORDER),
                           link=('tools/include',), judge=judge_anon_order),
}
