# SPDX-License-Identifier: GPL-2.0
"""The series: quilt 'series' + patches/, applied with git am, exported
back with git format-patch, and checked to round-trip byte for byte."""

import filecmp
import os
import shutil
import subprocess
import tempfile

from .common import StepError, EXIT_BASE, EXIT_SERIES, git, log, run
from . import base, bench as benchmod, patchinfo

APPLY_BRANCH = 'mmwb/series'
COVER = benchmod.COVER

# Everything git format-patch and git am are told, in one place, so that
# export after apply reproduces patches/ exactly.
FORMAT_ARGS = ['format-patch', '--numbered', '--zero-commit',
               '--no-signature',
               '--no-renames', '--abbrev=12', '--subject-prefix=PATCH']
IDENTITY = {
    'GIT_COMMITTER_NAME': 'mm-series',
    'GIT_COMMITTER_EMAIL': 'mm-series@example.invalid',
}


def read_series(series, patches):
    """Patch paths in order; quilt syntax (comments, '-pN' options)."""
    if not os.path.isfile(series):
        raise StepError('series', series, 'no series file', EXIT_SERIES)
    out = []
    for n, line in enumerate(open(series), 1):
        line = line.split('#', 1)[0].strip()
        if not line:
            continue
        name, *opts = line.split()
        if opts and opts != ['-p1']:
            raise StepError('series', f'{series}:{n}', f'{name}: only -p1 '
                            'patches can go through git am', EXIT_SERIES)
        path = os.path.join(patches, name)
        if not os.path.isfile(path):
            raise StepError('series', f'{series}:{n}',
                            f'names {name}, which is not in {patches}',
                            EXIT_SERIES)
        out.append(path)
    return out


def patch_files(bench):
    """The base record's series, as read_series() reads it."""
    return read_series(bench.series, bench.patches)


def _failing_hunk(tree, patch):
    """What git apply says about the first hunk that does not apply."""
    p = subprocess.run(['git', '-C', tree, 'apply', '--check', '-v', patch],
                       capture_output=True, text=True)
    text = (p.stdout + p.stderr).splitlines()
    keep = [x for x in text if not x.startswith('Checking patch')]
    return '\n'.join('    ' + x for x in keep[:40])


def _recover_am(tree):
    """A git am left in progress: if an apply of ours was interrupted (a
    kill, a reboot) in the middle of the series, abort it, which puts
    the branch back where it was; a git am we did not start is the
    user's, and we refuse to touch it.  Returns the path of the marker
    that says a git am is ours."""
    gitdir = git(tree, 'rev-parse', '--absolute-git-dir', step='series')
    marker = os.path.join(gitdir, 'mmwb-am')
    if not os.path.isdir(os.path.join(gitdir, 'rebase-apply')):
        if os.path.exists(marker):
            os.unlink(marker)
        return marker
    if not os.path.exists(marker):
        raise StepError('series', tree, 'a git am is in progress there '
                        '(.git/rebase-apply) that mmwb did not start: '
                        "finish it or run 'git am --abort'; nothing was "
                        'changed', EXIT_BASE)
    log(f'series: an interrupted apply was left in {tree}: git am --abort')
    run(['git', '-C', tree, 'am', '--abort'], capture=True, step='series')
    os.unlink(marker)
    return marker


def apply(bench, series=None, patches=None, branch=APPLY_BRANCH):
    """Check out a fresh branch at the base tag in bench.tree and git am
    the series (default: the base record's)."""
    tree, onto = bench.tree, bench.tag
    series, patches = series or bench.series, patches or bench.patches
    marker = _recover_am(tree)
    base.require_clean(tree)
    files = read_series(series, patches)
    with open(marker, 'w') as f:
        f.write(f'{os.getpid()}\n')
    git(tree, 'checkout', '-q', '-B', branch, onto, step='series')
    for path in files:
        p = run(['git', '-C', tree, 'am', '-q', '--keep-cr',
                 '--committer-date-is-author-date', path],
                env=IDENTITY, check=False, capture=True, step='series')
        if p.returncode != 0:
            hunk = _failing_hunk(tree, path)
            run(['git', '-C', tree, 'am', '--abort'], check=False,
                capture=True)
            # Keep git am's verdict, drop its advice: the am is aborted.
            why = '\n'.join(x for x in p.stdout.splitlines()
                            if x.startswith(('error:', 'Patch failed')))
            os.unlink(marker)
            raise StepError('series', path, 'does not apply onto '
                            f'{onto} (git am aborted, tree unchanged):\n'
                            f'{why}\nfailing hunk:\n{hunk}', EXIT_SERIES)
    os.unlink(marker)
    log(f'series: applied {len(files)} patch(es) on {branch}')
    return files


def export(tree, rev_range, dest_patches, dest_series, keep=None):
    """git format-patch rev_range into dest_patches, rewrite dest_series
    with the topic lines of the series file keep (topics.py)."""
    from . import topics
    os.makedirs(dest_patches, exist_ok=True)
    out = git(tree, *FORMAT_ARGS, '-o', dest_patches, rev_range,
              step='export')
    names = [os.path.basename(x) for x in out.splitlines() if x.strip()]
    names = [x for x in names if x != COVER]
    body = topics.place(names, topics.topic_lines(keep) if keep else {},
                        keep or dest_series)
    with open(dest_series, 'w') as f:
        f.write('# Generated by scripts/export from the kernel work tree: '
                'it rewrites the\n# patch lines and keeps each "# topic" '
                'line in front of its patch\n# (tools/mmwb/topics.py).\n')
        for line in body:
            f.write(line + '\n')
    return names


def export_to_repo(bench, head='HEAD'):
    """Replace the record's patches/ and series with <tag>..head of
    bench.tree; refuse to lose edits."""
    tree, onto = bench.tree, bench.tag
    series_file, patch_dir = bench.series, bench.patches
    st = subprocess.run(['git', '-C', os.path.dirname(series_file), 'status',
                         '--porcelain', '--', patch_dir, series_file],
                        capture_output=True, text=True)
    if st.stdout.strip():
        raise StepError('export', patch_dir, 'uncommitted changes to patches/ '
                        'or series; commit them first so that nothing is '
                        'lost:\n' + st.stdout.rstrip(), EXIT_SERIES)
    tmp = tempfile.mkdtemp(prefix='mmwb-export-')
    try:
        names = export(tree, f'{onto}..{head}', os.path.join(tmp, 'p'),
                       os.path.join(tmp, 'series'), keep=series_file)
        for old in os.listdir(patch_dir) if os.path.isdir(patch_dir) else ():
            if old.endswith('.patch') and old != COVER:
                os.unlink(os.path.join(patch_dir, old))
        os.makedirs(patch_dir, exist_ok=True)
        for n in names:
            shutil.copy2(os.path.join(tmp, 'p', n), os.path.join(patch_dir, n))
        shutil.copy2(os.path.join(tmp, 'series'), series_file)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log(f'export: {len(names)} patch(es) to {patch_dir}')
    return names


def check_roundtrip(bench, series=None, patches=None, branch=APPLY_BRANCH):
    """After apply(): re-export and compare with patches/ byte for byte."""
    tree, onto = bench.tree, bench.tag
    series, patches = series or bench.series, patches or bench.patches
    tmp = tempfile.mkdtemp(prefix='mmwb-roundtrip-')
    try:
        names = export(tree, f'{onto}..{branch}', os.path.join(tmp, 'p'),
                       os.path.join(tmp, 'series'), keep=series)
        want = [os.path.basename(p) for p in read_series(series, patches)]
        diffs = []
        if names != want:
            diffs.append(f'series order/names differ: exported {names}, '
                         f'series has {want}')
        for n in names:
            a = os.path.join(patches, n)
            b = os.path.join(tmp, 'p', n)
            if not os.path.exists(a) or not filecmp.cmp(a, b, shallow=False):
                d = subprocess.run(['diff', '-u', a, b], capture_output=True,
                                   text=True).stdout
                diffs.append(f'{a} differs from its re-export:\n'
                             + '\n'.join(d.splitlines()[:20]))
        with open(series) as f:
            body = [x for x in f.read().splitlines()]
        with open(os.path.join(tmp, 'series')) as f:
            if body != f.read().splitlines():
                diffs.append(f'{series} is not what scripts/export writes')
        return diffs
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def check_quilt(bench, series=None, patches=None):
    """quilt push -a over a copy of just the files the series touches."""
    tree, onto = bench.tree, bench.tag
    series, patches = series or bench.series, patches or bench.patches
    files = read_series(series, patches)
    touched = {x for p in files for x in patchinfo.read(p).modified}
    tmp = tempfile.mkdtemp(prefix='mmwb-quilt-')
    try:
        for path in touched:
            blob = subprocess.run(['git', '-C', tree, 'show',
                                   f'{onto}:{path}'], capture_output=True)
            if blob.returncode == 0:
                os.makedirs(os.path.dirname(os.path.join(tmp, path)) or tmp,
                            exist_ok=True)
                with open(os.path.join(tmp, path), 'wb') as f:
                    f.write(blob.stdout)
        env = {'QUILT_PATCHES': os.path.abspath(patches),
               'QUILT_SERIES': os.path.abspath(series),
               'QUILT_PC': '.pc'}
        p = run(['quilt', 'push', '-a', '-q'], cwd=tmp, env=env, check=False,
                capture=True, step='quilt')
        return p.returncode == 0, p.stdout
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
