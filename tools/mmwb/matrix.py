# SPDX-License-Identifier: GPL-2.0
"""Build matrix: the objects the series touches, compiled with features
switched off (!CONFIG_USERFAULTFD and friends), for the whole series and
at every patch boundary.  One O= directory per configuration, ccache;
at a patch boundary only what that patch touches is compiled, and where
a patch touches kernel code, vmlinux is relinked in our own configuration
(an incremental build in the main build directory)."""

import os
import re
import time

from .common import StepError, git, log, run
from . import kbuild, patchinfo, plan as planmod, series as seriesmod
from .kselftest import selftest_make

# name -> options forced off.  TEST_HMM selects DEVICE_PRIVATE, so it
# goes with it.  Our own configuration needs no directory of its own: the
# main build directory relinks vmlinux at every patch boundary (suite
# 'bisect'), which compiles what the patch changed.
CONFIGS = {
    'no-userfaultfd': ['CONFIG_USERFAULTFD=n'],
    'no-thp': ['CONFIG_TRANSPARENT_HUGEPAGE=n'],
    'no-hugetlbfs': ['CONFIG_HUGETLBFS=n'],
    'no-device-private': ['CONFIG_TEST_HMM=n', 'CONFIG_DEVICE_PRIVATE=n'],
    # A driver the series touches, switched on: nouveau's SVM code is
    # built nowhere else (our own configuration has no DRM).
    'nouveau-svm': ['CONFIG_PCI=y', 'CONFIG_DRM=y', 'CONFIG_STAGING=y',
                    'CONFIG_DRM_NOUVEAU=y', 'CONFIG_DRM_NOUVEAU_SVM=y'],
}
# A configuration that exists for one driver compiles only its objects.
ONLY = {'nouveau-svm': ('drivers/gpu/drm/nouveau/',)}
# A header outside the folder of its includers may be read by anything:
# then all of mm/ is compiled.
ANY = 'mm/'


def folder(bench, name):
    """One O= directory per configuration, under <build>/matrix/."""
    return bench.under('matrix', name)


def configure(bench, name):
    tree, out = bench.tree, folder(bench, name)
    os.makedirs(out, exist_ok=True)
    frag = os.path.join(out, 'override.config')
    with open(frag, 'w') as f:
        f.write(''.join(x + '\n' for x in CONFIGS[name]))
    # The base fragment's own options may drop with the feature turned
    # off (PTE_MARKER_UFFD_WP without USERFAULTFD...): check only ours.
    kbuild.configure(bench, out=out, fragments=(*bench.fragments, frag),
                     verify=(frag,))
    run(kbuild.make_args(tree, out, 'prepare'), env=kbuild.env(bench),
        step='matrix', capture=True)
    return out


def object_option(tree, target):
    """The option that builds an object, from its folder's Makefile
    ('obj-$(CONFIG_HMM_MIRROR) += hmm.o'); None for obj-y, a folder or
    an object the Makefile does not name that way."""
    d, name = os.path.split(target)
    if not name.endswith('.o'):
        return None
    text = ''
    for makefile in ('Makefile', 'Kbuild'):
        try:
            text += open(os.path.join(tree, d, makefile)).read()
        except OSError:
            pass
    # obj-$(CONFIG_X) += name.o, or a composite object's part:
    # nouveau-$(CONFIG_DRM_NOUVEAU_SVM) += nouveau_svm.o
    m = re.search(r'^[\w-]+-\$\((CONFIG_\w+)\)\s*\+?=.*\b'
                  + re.escape(name) + r'(\s|$)', text, re.M)
    return m.group(1) if m else None


def enabled(out, target, tree):
    """An object is compiled only where the option that builds it is on
    (lib/test_hmm.o needs TEST_HMM, mm/hmm.o HMM_MIRROR), and in a
    configuration that exists for one driver only if it is that driver's."""
    only = ONLY.get(os.path.basename(out))
    if only and not target.startswith(only):
        return False
    opt = object_option(tree, target)
    if opt is None:
        return True
    return kbuild.read_config(os.path.join(out, '.config')).get(opt) \
        in ('y', 'm')


def compile_targets(bench, out, targets):
    p = run(kbuild.make_args(bench.tree, out, *targets), env=kbuild.env(bench),
            check=False, capture=True, step='matrix')
    errs = [x for x in p.stdout.splitlines() if 'error' in x.lower()]
    return p.returncode == 0, '; '.join(errs[:3])


def patch_selftests(patch, known):
    """mm selftest programs a patch touches (their .c files) among the
    programs the mm Makefile builds (known): a helper such as
    hugepage_settings.c is built with the tests, not on its own."""
    return sorted(set(patchinfo.read(patch).selftests) & set(known))


def build_selftests(bench, names):
    """Build these mm selftests at the current checkout (a test helper
    such as vm_util.c is built with every test that links it)."""
    out = folder(bench, 'kselftest')
    os.makedirs(out, exist_ok=True)
    p = run(selftest_make(bench.tree, bench.kbuild, out,
                          [os.path.join(out, n) for n in names]),
            env=kbuild.env(bench), check=False, capture=True, step='bisect')
    errs = [x for x in p.stdout.splitlines() if 'error' in x.lower()]
    return p.returncode == 0, '; '.join(errs[:3])


def includers(tree, header):
    """Objects whose source includes a header of their own folder by
    its quoted name (mm/internal.h style); None when the header is a
    shared one (include/...), which anything may read."""
    if header.startswith(('include/', 'arch/')):
        return None
    d, name = os.path.split(header)
    p = run(['git', '-C', tree, 'grep', '-l', '-F', f'#include "{name}"',
             '--', f'{d}/*.c'], check=False, capture=True, step='matrix')
    if p.returncode not in (0, 1):      # 1: no includer found
        return None
    return [x[:-2] + '.o' for x in p.stdout.split()]


def patch_targets(patch, tree):
    """Objects one patch touches: its .c files, and the includers of a
    header it touches (all of mm/ for a shared header)."""
    info = patchinfo.read(patch)
    objs = set(info.kernel_objects)
    for path in info.headers:
        users = includers(tree, path)
        objs.update(users if users is not None else [ANY])
    return sorted(objs)


def run_matrix(bench, rep):
    """The matrix and the bisect rows of the series applied in
    bench.tree."""
    t0 = time.monotonic()
    tree = bench.tree
    patches = seriesmod.patch_files(bench)
    tip = git(tree, 'rev-parse', 'HEAD', step='matrix')
    commits = git(tree, 'rev-list', '--reverse', f'{bench.tag}..{tip}',
                  step='matrix').splitlines()
    if len(commits) != len(patches):
        raise StepError('matrix', tree, f'{len(commits)} commits on the '
                        f'applied branch, {len(patches)} patches in series',
                        5)
    # Read at the tip, once: what each patch touches, and the whole series
    # as everything any patch of it touches.
    targets_of = {p: patch_targets(p, tree) for p in patches}
    whole = sorted({t for ts in targets_of.values() for t in ts})
    programs = planmod.mm_selftests(tree, tip)
    outs = {}
    link_secs = 0.0
    try:
        for name in CONFIGS:
            outs[name] = configure(bench, name)
            log(f'matrix: {name}: whole series')
            for target in whole:
                case = f'{name} @ series: {target}'
                if not enabled(outs[name], target, tree):
                    rep.add('series', 'build-matrix', case, 'skip', 0, True,
                            'not enabled in this configuration')
                    continue
                t1 = time.monotonic()
                ok, why = compile_targets(bench, outs[name], [target])
                rep.add('series', 'build-matrix', case,
                        'pass' if ok else 'fail', time.monotonic() - t1, ok,
                        why)
        for commit, patch in zip(commits, patches):
            targets = targets_of[patch]
            tests = patch_selftests(patch, programs)
            pname = os.path.basename(patch)
            if not targets and not tests:
                rep.add('series', 'bisect', f'{pname}: nothing to build',
                        'pass', 0, True, 'documentation or scripts only')
                continue
            git(tree, 'checkout', '-q', '--detach', commit, step='matrix')
            for name, out in outs.items() if targets else ():
                these = [t for t in targets if enabled(out, t, tree)]
                if not these:
                    rep.add('series', 'build-matrix',
                            f'{name} @ {pname}: {" ".join(targets)}',
                            'skip', 0, True,
                            'not enabled in this configuration')
                    continue
                t1 = time.monotonic()
                ok, why = compile_targets(bench, out, these)
                rep.add('series', 'build-matrix',
                        f'{name} @ {pname}: {" ".join(these)}',
                        'pass' if ok else 'fail', time.monotonic() - t1, ok,
                        why)
            if targets:
                # The whole kernel in our own configuration, linked: the
                # main build directory already holds the series' objects,
                # so only what changed between boundaries is compiled.
                t1 = time.monotonic()
                ok, why = compile_targets(bench, bench.kbuild, ['vmlinux'])
                dt = time.monotonic() - t1
                link_secs += dt
                rep.add('series', 'bisect', f'{pname}: vmlinux (linked)',
                        'pass' if ok else 'fail', dt, ok, why)
            if tests:
                t1 = time.monotonic()
                ok, why = build_selftests(bench, tests)
                rep.add('series', 'bisect',
                        f'{pname}: selftests {" ".join(tests)}',
                        'pass' if ok else 'fail', time.monotonic() - t1, ok,
                        why)
    finally:
        git(tree, 'checkout', '-q', seriesmod.APPLY_BRANCH, step='matrix')
    secs = time.monotonic() - t0
    rep.metric('build_matrix_seconds', 'series', round(secs, 1), 's')
    rep.metric('bisect_vmlinux_seconds', 'series', round(link_secs, 1), 's')
    log(f'matrix: done in {secs:.0f} s')
