# SPDX-License-Identifier: GPL-2.0
"""What a reviewer runs before reading: MAINTAINERS.frag against the base
MAINTAINERS, get_maintainer.pl on every patch, kernel-doc and the kernel
docs build on the touched files (base against series).  The cover letter
and the b4 round trip are cover.py's."""

import os
import re
import subprocess
import tempfile
import time

from .common import ROOT, git, log, run
from . import patchinfo, series as seriesmod

FRAG = os.path.join(ROOT, 'MAINTAINERS.frag')


def _maintainers_with_frag(tree, tmp):
    path = os.path.join(tmp, 'MAINTAINERS')
    with open(path, 'w') as f:
        f.write(open(os.path.join(tree, 'MAINTAINERS')).read())
        f.write('\n' + open(FRAG).read())
    return path


def maintainers(bench, rep):
    """The fragment adds no self-test complaint, and every file the series
    adds is covered by some entry; get_maintainer.pl's answer for each
    patch in <report>/get_maintainer.txt."""
    tree = bench.tree
    patches = seriesmod.patch_files(bench)
    gm = os.path.join(tree, 'scripts', 'get_maintainer.pl')
    with tempfile.TemporaryDirectory() as tmp:
        merged = _maintainers_with_frag(tree, tmp)

        def selftest(mpath):
            p = subprocess.run(['perl', gm, f'--mpath={mpath}',
                                '--self-test=patterns,sections'],
                               cwd=tree, capture_output=True, text=True)
            # Drop the line numbers: the fragment moves nothing else.
            return {re.sub(r':\d+:', ':', x)
                    for x in (p.stdout + p.stderr).splitlines()}
        new = selftest(merged) - selftest(os.path.join(tree, 'MAINTAINERS'))
        rep.add('series', 'maintainers', 'MAINTAINERS.frag self-test',
                'fail' if new else 'pass', 0, not new,
                '; '.join(sorted(new)[:3]))
        for f in [x for p in patches for x in patchinfo.read(p).added]:
            p = subprocess.run(['perl', gm, f'--mpath={merged}', '--no-git',
                                '--no-git-fallback', '--no-rolestats',
                                '-f', f], cwd=tree, capture_output=True,
                               text=True)
            ok = bool(p.stdout.strip())
            rep.add('series', 'maintainers', f'covers {f}',
                    'pass' if ok else 'fail', 0, ok,
                    ', '.join(p.stdout.split('\n')[:2]))
        os.makedirs(bench.report, exist_ok=True)
        with open(os.path.join(bench.report, 'get_maintainer.txt'),
                  'w') as out:
            for p in patches:
                r = subprocess.run(['perl', gm, f'--mpath={merged}',
                                    '--no-git', '--no-git-fallback', p],
                                   cwd=tree, capture_output=True, text=True)
                name = os.path.basename(p)
                out.write(f'== {name}\n{r.stdout}\n')
                ok = r.returncode == 0 and bool(r.stdout.strip())
                rep.add('series', 'get_maintainer', name,
                        'pass' if ok else 'fail', 0, ok,
                        '; '.join(r.stdout.strip().splitlines()[:2]))


def kernel_doc(bench, rep):
    """scripts/kernel-doc -none on each touched kernel file, base blob
    against series blob: no new warnings."""
    tree = bench.tree
    files = {path for p in seriesmod.patch_files(bench)
             for path in patchinfo.read(p).kernel_files}
    kd = os.path.join(tree, 'scripts', 'kernel-doc')

    def warnings(rev, path, tmp):
        blob = subprocess.run(['git', '-C', tree, 'show', f'{rev}:{path}'],
                              capture_output=True)
        if blob.returncode:
            return set()
        f = os.path.join(tmp, path.replace('/', '_'))
        with open(f, 'wb') as fh:
            fh.write(blob.stdout)
        p = subprocess.run(['perl', kd, '-none', f], capture_output=True,
                           text=True)
        return {re.sub(r'^\S+?:\d+: ', '', x)
                for x in p.stderr.splitlines() if 'warning' in x.lower()}
    counts = {'base': 0, 'series': 0}
    with tempfile.TemporaryDirectory() as tmp:
        for path in sorted(files):
            ser = warnings(seriesmod.APPLY_BRANCH, path, tmp)
            bas = warnings(bench.tag, path, tmp)
            counts['base'] += len(bas)
            counts['series'] += len(ser)
            new = ser - bas
            rep.add('series', 'kernel-doc', path, 'fail' if new else 'pass',
                    0, not new, '; '.join(sorted(new)[:3]))
    for k, v in counts.items():
        rep.metric('kernel_doc_warnings', k, v, 'warnings')


def kernel_rst(bench, rep):
    """Kernel Documentation/*.rst the series touches: docutils with
    warnings as errors on the series blob (a full 'make htmldocs' needs
    Sphinx and takes too long for the test command)."""
    with tempfile.TemporaryDirectory() as tmp:
        for path in _touched_rst(bench):
            blob = subprocess.run(['git', '-C', bench.tree, 'show',
                                   f'{seriesmod.APPLY_BRANCH}:{path}'],
                                  capture_output=True)
            f = os.path.join(tmp, os.path.basename(path))
            with open(f, 'wb') as fh:
                fh.write(blob.stdout)
            p = subprocess.run(['rst2html', '--halt=warning',
                                '--report=warning', f, os.devnull],
                               capture_output=True, text=True)
            ok = p.returncode == 0
            rep.add('series', 'kernel-doc', path, 'pass' if ok else 'fail',
                    0, ok, '' if ok else p.stderr.strip()[:200])


def _touched_rst(bench):
    return sorted({path for p in seriesmod.patch_files(bench)
                   for path in patchinfo.read(p).rst})


_DOCWARN = re.compile(r'^(?:\S*?/)?(Documentation/\S+?):(?:\d+:)? '
                      r'(WARNING|ERROR|CRITICAL): (.*)$')


def parse_sphinx(text):
    """{'Documentation/x.rst: WARNING: msg'} from Sphinx output, without
    the tree prefix and the line number."""
    out = set()
    for line in text.splitlines():
        m = _DOCWARN.match(line.strip())
        if m:
            out.add(f'{m.group(1)}: {m.group(2)}: {m.group(3)}')
    return out


def htmldocs(bench, rep):
    """make htmldocs for the Documentation/ directories the series
    touches (SPHINXDIRS), on the base and on the series, in
    <build>/htmldocs/; a warning about a touched file that the base
    build does not have fails."""
    tree = bench.tree
    files = _touched_rst(bench)
    if not files:
        rep.add('series', 'htmldocs', '(no rst touched)', 'skip', 0, True,
                'the series touches no Documentation/*.rst')
        return
    dirs = sorted({f.split('/')[1] for f in files if f.count('/') > 1})
    found, rcs = {}, {}
    t0 = time.monotonic()
    try:
        for label, rev in (('base', bench.tag),
                           ('series', seriesmod.APPLY_BRANCH)):
            git(tree, 'checkout', '-q', '--detach', rev, step='htmldocs')
            out = bench.under('htmldocs', label)
            log(f'htmldocs: {label}: SPHINXDIRS={" ".join(dirs)}')
            p = run(['make', '-s', '-C', tree, f'O={out}',
                     f'SPHINXDIRS={" ".join(dirs)}', 'htmldocs'],
                    check=False, capture=True, step='htmldocs')
            with open(bench.under('htmldocs', f'{label}.log'), 'w') as f:
                f.write(p.stdout)
            found[label], rcs[label] = parse_sphinx(p.stdout), p.returncode
    finally:
        git(tree, 'checkout', '-q', seriesmod.APPLY_BRANCH, step='htmldocs')
    secs = time.monotonic() - t0
    rep.metric('htmldocs_seconds', 'series', round(secs, 1), 's')
    # Only warnings about the touched files count, per kernel and file.
    about = {k: {path: {w for w in v if w.split(':')[0] == path}
                 for path in files} for k, v in found.items()}
    for k, per in about.items():
        rep.metric('htmldocs_warnings_touched_files', k,
                   sum(map(len, per.values())), 'warnings')
    for path in files:
        mine = sorted(about['series'][path] - about['base'][path])
        ok = not mine and rcs['series'] == 0
        rep.add('series', 'htmldocs', path, 'pass' if ok else 'fail',
                secs / len(files), ok, '; '.join(mine[:3]) or
                (f'make htmldocs exited {rcs["series"]}' if not ok else
                 f'{len(about["series"][path])} warning(s) about it, none '
                 'new against base'))
