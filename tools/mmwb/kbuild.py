# SPDX-License-Identifier: GPL-2.0
"""Kernel configuration and build (one O= directory, ccache)."""

import os
import re
import shutil
import time

from .common import StepError, EXIT_BUILD, log, run

JOBS = str(os.cpu_count() or 2)


def env(bench):
    """The environment of every make: a fixed build identity, so that
    init/version.c and friends hit ccache, and ccache's base folder, the
    build folder, so that paths under it hash alike wherever it is."""
    return {
        'KBUILD_BUILD_USER': 'mm-series', 'KBUILD_BUILD_HOST': 'mmwb',
        'KBUILD_BUILD_TIMESTAMP': '2025-01-01', 'KBUILD_BUILD_VERSION': '1',
        'CCACHE_BASEDIR': bench.build, 'CCACHE_NOHASHDIR': '1',
        'CCACHE_MAXSIZE': os.environ.get('CCACHE_MAXSIZE', '8G'),
    }


def make_args(tree, out, *targets, extra=()):
    return ['make', '-s', '-C', tree, f'O={out}', f'-j{JOBS}',
            'CC=ccache gcc', 'HOSTCC=ccache gcc', *extra, *targets]


def parse_fragment(path):
    """{option: value} from a config fragment; 'n' means must be unset."""
    want = {}
    try:
        lines = open(path).read().splitlines()
    except OSError as e:
        raise StepError('config', path, f'cannot read: {e}', EXIT_BUILD)
    for n, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith('#') and 'is not set' not in line:
            continue
        m = re.match(r'^(CONFIG_\w+)=(.*)$', line)
        m2 = re.match(r'^# (CONFIG_\w+) is not set$', line)
        if m:
            want[m.group(1)] = m.group(2)
        elif m2:
            want[m2.group(1)] = 'n'
        else:
            raise StepError('config', f'{path}:{n}',
                            f'not a config line: {line!r}', EXIT_BUILD)
    return want


def read_config(path):
    have = {}
    for line in open(path):
        m = re.match(r'^(CONFIG_\w+)=(.*)$', line.strip())
        if m:
            have[m.group(1)] = m.group(2)
    return have


def configure(bench, out=None, fragments=None, base='tinyconfig',
              verify=None):
    """base config + fragments (default: the base record's), in out
    (default bench.kbuild), then verify every requested option of the
    fragments in verify (default: all of them)."""
    tree, out = bench.tree, out or bench.kbuild
    fragments = bench.fragments if fragments is None else fragments
    os.makedirs(out, exist_ok=True)
    want = {}
    for frag in (fragments if verify is None else verify):
        want.update(parse_fragment(frag))
    run(make_args(tree, out, base), env=env(bench), step='config',
        capture=True)
    cfg = os.path.join(out, '.config')
    with open(cfg, 'a') as f:
        for frag in fragments:
            f.write(open(frag).read())
    run(make_args(tree, out, 'olddefconfig'), env=env(bench),
        step='config', capture=True)
    have = read_config(cfg)
    bad = []
    for opt, val in want.items():
        got = have.get(opt, 'n')
        if got != val:
            bad.append(f'{opt}={val} requested, got {got}')
    if bad:
        raise StepError('config', fragments[-1], 'options did not stick '
                        '(missing dependency?):\n  ' + '\n  '.join(bad),
                        EXIT_BUILD)
    return cfg


def build(bench, out=None, targets=('bzImage',), label='kernel'):
    """Build bench.tree in out (default bench.kbuild); return seconds
    taken.  Output is kept in out/build.log."""
    tree, out = bench.tree, out or bench.kbuild
    t0 = time.monotonic()
    logf = os.path.join(out, 'build.log')
    log(f'build: {label}: make {" ".join(targets)} (-j{JOBS}, ccache)')
    with open(logf, 'w') as f:
        p = run(make_args(tree, out, *targets), env=env(bench),
                check=False, step='build', stdout=f)
    secs = time.monotonic() - t0
    if p.returncode != 0:
        with open(logf) as f:
            tail = ''.join(f.readlines()[-25:])
        raise StepError('build', logf, f'{label} build failed:\n{tail}',
                        EXIT_BUILD)
    log(f'build: {label}: done in {secs:.0f} s')
    return secs


def install_image(out, dest):
    os.makedirs(dest, exist_ok=True)
    img = os.path.join(out, 'arch', 'x86', 'boot', 'bzImage')
    shutil.copy2(img, os.path.join(dest, 'bzImage'))
    shutil.copy2(os.path.join(out, '.config'), os.path.join(dest, 'config'))
    return os.path.join(dest, 'bzImage')
