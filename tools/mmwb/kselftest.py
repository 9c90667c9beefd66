# SPDX-License-Identifier: GPL-2.0
"""Build the mm kselftests against the kernel's own UAPI headers."""

import os
import shutil
import time

from .common import log, run
from .kbuild import JOBS, env, make_args


def src_dir(tree):
    return os.path.join(tree, 'tools', 'testing', 'selftests', 'mm')


def selftest_make(tree, kbuild_out, outdir, targets=()):
    """make command for the mm selftests against the kernel's headers."""
    src = src_dir(tree)
    inc = os.path.join(kbuild_out, 'usr', 'include')
    return ['make', '-k', '-C', src, f'-j{JOBS}', f'OUTPUT={outdir}',
            f'KHDR_INCLUDES=-isystem {inc}', 'CC=ccache gcc', *targets]


def build_mm(bench, outdir, label, targets=(), kbuild_out=None):
    """Build what the mm Makefile of bench.tree can build (make -k), or
    only targets (paths under outdir), against the headers of the kernel
    build in kbuild_out (default bench.kbuild): a test that does not
    compile is reported by the plan as 'not built', not hidden."""
    tree, kbuild_out = bench.tree, kbuild_out or bench.kbuild
    run(make_args(tree, kbuild_out, 'headers'), env=env(bench),
        step='headers', capture=True)
    # From nothing, every time (ccache keeps it quick): a test that does
    # not build now must not leave the binary of an earlier tree behind
    # to run in its place.
    shutil.rmtree(outdir, ignore_errors=True)
    os.makedirs(outdir, exist_ok=True)
    logf = os.path.join(outdir, 'build.log')
    t0 = time.monotonic()
    log(f'kselftest: {label}: building tools/testing/selftests/mm')
    with open(logf, 'w') as f:
        p = run(selftest_make(tree, kbuild_out, outdir, targets),
                env=env(bench),
                check=False, stdout=f, step='kselftest')
    secs = time.monotonic() - t0
    # The scripts beside the binaries, as 'make install' puts them: the
    # path kselftest users run (ksft_<category>.sh -> run_vmtests.sh ->
    # the test) starts from them.
    src = src_dir(tree)
    for name in os.listdir(src):
        if name.endswith('.sh'):
            shutil.copy2(os.path.join(src, name), os.path.join(outdir, name))
    status = 'ok' if p.returncode == 0 else f'some targets failed, see {logf}'
    log(f'kselftest: {label}: {secs:.0f} s, {status}')
    return secs, p.returncode == 0
