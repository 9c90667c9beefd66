# SPDX-License-Identifier: GPL-2.0
"""The base tree: the base record's Debian kernel source (bases/) as a
git repository, one commit tagged with the record's tag."""

import os
import shutil
import subprocess

from .common import StepError, EXIT_BASE, git, log, run
from . import fetch

# Fixed identity and date: every machine makes the same base commit id.
_BASE_ENV = {
    'GIT_AUTHOR_NAME': 'mm-series', 'GIT_AUTHOR_EMAIL': 'mm-series@example.invalid',
    'GIT_COMMITTER_NAME': 'mm-series',
    'GIT_COMMITTER_EMAIL': 'mm-series@example.invalid',
    'GIT_AUTHOR_DATE': '2025-01-01T00:00:00Z',
    'GIT_COMMITTER_DATE': '2025-01-01T00:00:00Z',
}


def _nested_ignores(tree):
    """A shadow work tree holding every .gitignore but the top-level one,
    kept inside the git directory: git reads it to tell build products
    from a developer's new files."""
    gd = git(tree, 'rev-parse', '--path-format=absolute', '--git-common-dir',
             step='base')
    shadow = os.path.join(gd, 'mmwb-ignores')
    stamp = os.path.join(shadow, '.stamp')
    head = git(tree, 'rev-parse', 'HEAD', step='base')
    if os.path.exists(stamp) and open(stamp).read() == head:
        return shadow
    shutil.rmtree(shadow, ignore_errors=True)
    for rel in git(tree, 'ls-files', '--', '*.gitignore',
                   step='base').splitlines():
        if rel == '.gitignore':
            continue
        dst = os.path.join(shadow, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copyfile(os.path.join(tree, rel), dst)
    with open(stamp, 'w') as f:
        f.write(head)
    return shadow


def dirty(tree):
    """Uncommitted changes in tree: tracked, untracked, and new files that
    only Debian's top-level .gitignore ('/*', meant for its packaging
    repository) hides.  A checkout would overwrite such a file."""
    out = git(tree, 'status', '--porcelain', step='base').splitlines()
    ign = git(tree, 'status', '--porcelain', '--ignored=matching',
              '--untracked-files=all', step='base').splitlines()
    paths = [x[3:] for x in ign if x.startswith('!! ')]
    if paths:
        p = subprocess.run(['git', '-C', tree,
                            f'--work-tree={_nested_ignores(tree)}',
                            'check-ignore', '--no-index', '--stdin'],
                           input='\n'.join(paths) + '\n',
                           capture_output=True, text=True)
        artefacts = set(p.stdout.splitlines())
        out += [f'?? {x}' for x in paths if x not in artefacts]
    return '\n'.join(out)


def require_clean(tree):
    d = dirty(tree)
    if d:
        files = '\n'.join('  ' + x for x in d.splitlines()[:20])
        raise StepError('base', tree, 'uncommitted changes in the kernel '
                        'work tree; commit or stash them (the workbench '
                        f'never discards them):\n{files}', EXIT_BASE)
    # A half-done 'git am' is work in progress too.
    if os.path.isdir(os.path.join(tree, '.git', 'rebase-apply')):
        raise StepError('base', tree, "a 'git am' is in progress; finish it "
                        "or run 'git am --abort' there", EXIT_BASE)


def has_base(tree, tag):
    if not os.path.isdir(os.path.join(tree, '.git')):
        return False
    p = git(tree, 'rev-parse', '-q', '--verify', f'refs/tags/{tag}',
            check=False)
    return p.returncode == 0


def ensure(bench, tarball=None):
    """Create the base tree (bench.tree) once; reuse it afterwards."""
    tree, tag, rec = bench.tree, bench.tag, bench.base
    if has_base(tree, tag):
        log(f'base: reusing {tree} ({tag})')
        return tree
    if os.path.exists(tree) and os.listdir(tree):
        raise StepError('base', tree, f'exists but has no {tag} tag; '
                        'it is not a workbench base tree. Move it away '
                        '(nothing was changed there).', EXIT_BASE)
    tarball = tarball or fetch.tarball(bench)
    log(f'base: unpacking {tarball} into {tree}')
    tmp = tree + '.tmp'
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    p = subprocess.run(['tar', '-xf', tarball, '--strip-components=1',
                        '-C', tmp], capture_output=True, text=True)
    if p.returncode != 0:
        free = shutil.disk_usage(tmp).free >> 20
        shutil.rmtree(tmp, ignore_errors=True)
        full = (f'; the disk is full ({free} MiB left on the file system '
                f'of {tmp}, removed again)' if free < 64 else '')
        raise StepError('base', tarball, f'cannot unpack: {p.stderr.strip()}'
                        f'{full}', EXIT_BASE)
    if not os.path.isfile(os.path.join(tmp, 'Makefile')):
        shutil.rmtree(tmp, ignore_errors=True)
        raise StepError('base', tarball, 'no kernel Makefile inside', EXIT_BASE)
    run(['git', 'init', '-q', '-b', 'base', tmp], step='base')
    for k, v in (('user.name', 'mm-series'),
                 ('user.email', 'mm-series@example.invalid'),
                 ('core.autocrlf', 'false'), ('gc.auto', '0')):
        run(['git', '-C', tmp, 'config', k, v], step='base')
    log('base: committing the base tree')
    run(['git', '-C', tmp, 'add', '-A', '-f', '.'], step='base')
    run(['git', '-C', tmp, 'commit', '-q', '-m',
         f'{rec.title} (Debian {rec.package} {rec.version})'],
        env=_BASE_ENV, step='base')
    run(['git', '-C', tmp, 'tag', tag], step='base')
    os.makedirs(os.path.dirname(tree), exist_ok=True)
    if os.path.exists(tree):
        os.rmdir(tree)
    os.rename(tmp, tree)
    log(f'base: {tag} = {git(tree, "rev-parse", "HEAD")}')
    return tree
