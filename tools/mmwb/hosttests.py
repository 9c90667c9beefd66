# SPDX-License-Identifier: GPL-2.0
"""Tests the series adds that run on the host, not in the guest:
tools/testing/anon-order compiles the kernel's calc_anonymous_folio_order()
in userspace.  They run on the series tree; the base column of their
metrics is the oracle (the base kernel's loop) they measure against."""

import os
import time

from .common import BUILD, log, run
from . import results

OUT = os.path.join(BUILD, 'out', 'host')


def anon_order(rep, tree):
    src = os.path.join(tree, 'tools', 'testing', 'anon-order')
    if not os.path.isfile(os.path.join(src, 'Makefile')):
        rep.add('series', 'anon-order', '(harness)', 'skip', 0, True,
                'tools/testing/anon-order is not in this series')
        return
    out = os.path.join(OUT, 'anon-order')
    os.makedirs(out, exist_ok=True)
    p = run(['make', '-s', '-C', src, f'OUTPUT={out}'], check=False,
            capture=True, step='anon-order')
    if p.returncode:
        rep.add('series', 'anon-order', 'build', 'fail', 0, False,
                p.stdout.strip().splitlines()[-1] if p.stdout else '')
        return
    for size in (16, 32, 512):
        exe = os.path.join(out, f'anon-order-{size}')
        t0 = time.monotonic()
        p = run([exe], check=False, capture=True, step='anon-order')
        secs = time.monotonic() - t0
        with open(exe + '.out', 'w') as f:
            f.write(p.stdout)
        cases = results.parse_ktap(p.stdout)
        if not cases or (p.returncode and
                         not any(c.result == 'fail' for c in cases)):
            cases.append(results.Case(f'anon-order-{size}', 'fail',
                                      f'exit status {p.returncode}'))
        for c in cases:
            rep.add('series', 'anon-order', c.name, c.result,
                    secs / len(cases), c.result == 'pass', c.detail)
        vals = {n: v for n, v, _ in results.parse_metrics(p.stdout)}
        if size == 512:
            rep.metric('anon_order_pte_reads_worst', 'base',
                       vals.get('anon_order_pte_reads_worst_oracle_512'),
                       'reads')
            rep.metric('anon_order_pte_reads_worst', 'series',
                       vals.get('anon_order_pte_reads_worst_helper_512'),
                       'reads')
        log(f'anon-order-{size}: {secs:.1f} s, rc {p.returncode}')
