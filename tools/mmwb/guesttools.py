# SPDX-License-Identifier: GPL-2.0
"""The workbench's own guest programs (tools/mmwb/guest/*.c): measuring
tools a plan names as 'tool:<name>', built on the host with gcc, the
same binary for both kernels."""

import glob
import os
import threading

from .common import StepError, EXIT_BUILD, log, run

SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'guest')
PREFIX = 'tool:'
_lock = threading.Lock()
_built = False


def names():
    return {os.path.basename(p)[:-2]
            for p in glob.glob(os.path.join(SRC, '*.c'))}


def out_dir(bench):
    return os.path.join(bench.out, 'tools')


def build(out):
    os.makedirs(out, exist_ok=True)
    for name in sorted(names()):
        src = os.path.join(SRC, name + '.c')
        p = run(['gcc', '-O2', '-Wall', '-Wextra', '-Werror', '-o',
                 os.path.join(out, name), src], check=False, capture=True,
                step='guest tools')
        if p.returncode:
            raise StepError('guest tools', src, 'does not build:\n'
                            + p.stdout.strip(), EXIT_BUILD)
    log(f'guest tools: {" ".join(sorted(names()))} in {out}')
    return out


def ensure(bench, plan):
    """Build the tools once per command into out_dir(bench), before the
    first guest whose plan names one boots (guests boot from threads
    side by side)."""
    global _built
    if not any(t.binary.startswith(PREFIX) for t in plan.tests):
        return
    with _lock:
        if not _built:
            build(out_dir(bench))
            _built = True
