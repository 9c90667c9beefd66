# SPDX-License-Identifier: GPL-2.0
"""Static checks: checkpatch, sparse and W=1, coccicheck (new reports
only, base vs series, on the objects the series touches), shellcheck."""

import fnmatch
import glob
import os
import re
import subprocess
import time

from .common import ROOT, log, run
from .kbuild import env, make_args
from . import initramfs, patchinfo, plan as planmod, results
from . import series as seriesmod
from .matrix import enabled

ALLOW = os.path.join(ROOT, 'selftests', 'checkpatch.allow')


def read_allow(path=ALLOW):
    """[(patch glob, TYPE, reason)]; every exception carries its reason."""
    out = []
    if not os.path.exists(path):
        return out
    for n, line in enumerate(open(path), 1):
        line = line.strip()
        if not line or line.startswith('#'):
            continue
        w = line.split(None, 2)
        if len(w) < 3:
            raise ValueError(f'{path}:{n}: need <patch glob> <TYPE> <reason>')
        out.append(tuple(w))
    return out


_CP = re.compile(r'^(?:[^:]+:\d+: )?(ERROR|WARNING|CHECK):(\w+):\s*(.*)$')


def checkpatch(bench, rep, patches=None):
    """checkpatch.pl of bench.tree on each patch (default: the series)."""
    tree = bench.tree
    patches = patches or seriesmod.patch_files(bench)
    allow = read_allow()
    counts = {'ERROR': 0, 'WARNING': 0, 'CHECK': 0, 'allowed': 0}
    for p in patches:
        name = os.path.basename(p)
        out = run(['perl', os.path.join(tree, 'scripts', 'checkpatch.pl'),
                   '--strict', '--show-types', '--terse', '--no-summary', p],
                  cwd=tree, check=False, capture=True, step='checkpatch').stdout
        bad = []
        for line in out.splitlines():
            m = _CP.match(line)
            if not m:
                continue
            level, typ, msg = m.groups()
            if any(fnmatch.fnmatch(name, g) and t == typ for g, t, _ in allow):
                counts['allowed'] += 1
                continue
            counts[level] += 1
            bad.append(f'{level}:{typ}: {msg}')
        rep.add('series', 'checkpatch', name, 'fail' if bad else 'pass', 0,
                not bad, '; '.join(bad[:5]))
        for b in bad:
            log(f'checkpatch: {name}: {b}')
    for level, n in counts.items():
        rep.metric(f'checkpatch_{level.lower()}', 'series', n, 'reports')


def touched_objects(patches):
    """Kernel objects (not tools/, not docs) built from files the series
    touches: these get sparse and W=1."""
    return sorted({o for p in patches for o in patchinfo.read(p).kernel_objects})


def built_objects(bench, patches=None):
    """The touched objects (default: of the series) that our own
    configuration builds: a driver the series touches (nouveau) is
    compiled only in its build-matrix configuration."""
    patches = patches or seriesmod.patch_files(bench)
    return [o for o in touched_objects(patches)
            if enabled(bench.kbuild, o, bench.tree)]


_WARN = re.compile(r'^(\S+?):\d+:\d+: (warning|error): (.*)$')


def object_warnings(bench, obj):
    """Warnings for one object with C=2 (sparse) and W=1; line numbers
    dropped so that moved code does not count as new."""
    p = run(make_args(bench.tree, bench.kbuild, obj, extra=('C=2', 'W=1')),
            env=env(bench), check=False, capture=True, step='sparse')
    warns = set()
    for line in p.stdout.splitlines():
        m = _WARN.match(line)
        if m:
            warns.add(f'{m.group(1)}: {m.group(2)}: {m.group(3)}')
    return warns, p.returncode


_COCCI = re.compile(r'^(\S+?):\d+:\d+-\d+: (.*)$')


def parse_cocci(text, sources):
    """{source: set of 'source: message'} from coccicheck report lines
    (file:line:col-col: message); the file may carry the O= relative or
    an absolute prefix."""
    found = {src: set() for src in sources}
    for line in text.splitlines():
        m = _COCCI.match(line)
        if not m:
            continue
        for src in sources:
            if m.group(1) == src or m.group(1).endswith('/' + src):
                found[src].add(f'{src}: {m.group(2)}')
    return found


def cocci_reports(bench, objs):
    """coccicheck in report mode, the kernel's own way for single files
    (make C=2 CHECK=scripts/coccicheck): every SmPL script in
    scripts/coccinelle that has a report mode, on each object's source.
    Returns ({source: set of 'file: message'}, exit status); line and
    column numbers are dropped so that moved code does not count as new."""
    check = os.path.join(os.path.abspath(bench.tree), 'scripts',
                         'coccicheck')
    p = run(make_args(bench.tree, bench.kbuild, *objs,
                      extra=('C=2', f'CHECK={check}', 'MODE=report')),
            env=env(bench), check=False, capture=True, step='coccicheck')
    return parse_cocci(p.stdout, [o[:-2] + '.c' for o in objs]), p.returncode


class ObjectChecks:
    """A build hook: collects warnings per kernel, compares on series."""

    def __init__(self):
        self.seen = {}

    def __call__(self, bench, label, rep):
        objs = built_objects(bench)
        if not objs:
            if label == 'series':
                rep.add('series', 'sparse', '(no kernel object touched)',
                        'skip', 0, True, 'the series touches no kernel C file')
            return
        total = 0
        for obj in objs:
            warns, rc = object_warnings(bench, obj)
            total += len(warns)
            self.compare(rep, label, 'sparse', obj, warns, rc, 0,
                         'warning(s)')
        rep.metric('sparse_w1_warnings', label, total, 'warnings')
        t0 = time.monotonic()
        found, rc = cocci_reports(bench, objs)
        secs = time.monotonic() - t0
        total = sum(map(len, found.values()))
        rep.metric('coccicheck_seconds', label, round(secs, 1), 's')
        rep.metric('coccicheck_reports', label, total, 'reports')
        log(f'coccicheck: {label}: ' + (f'FAILED (make exited {rc})'
                                         if rc else f'{total} report(s)')
            + f' on {len(found)} file(s) in {secs:.0f} s')
        for src, reports in found.items():
            self.compare(rep, label, 'coccicheck', src, reports, rc,
                         secs / len(found), 'report(s)')

    def compare(self, rep, label, suite, case, found, rc, secs, what):
        """Remember what one kernel found; on the series, a row: fail on
        anything the base did not have, or on a failed make.  A checker
        that could not run is a failing row on either kernel: its empty
        findings are no clean result."""
        self.seen[(label, suite, case)] = found
        if label != 'series':
            if rc:
                rep.add(label, suite, case, 'fail', secs, False,
                        f'make exited {rc}: the checker did not run')
            return
        new = found - self.seen.get(('base', suite, case), set())
        ok = not new and not rc
        why = ('; '.join(sorted(new)[:5]) if new else
               f'make exited {rc}' if rc else
               f'{len(found)} {what}, none new against base')
        rep.add('series', suite, case, 'pass' if ok else 'fail', secs, ok,
                why)


def docs(rep):
    """The project's rst pages: docutils with warnings as errors.  index.rst
    only holds a Sphinx toctree, which plain docutils does not know."""
    files = sorted(glob.glob(os.path.join(ROOT, 'Documentation', '**',
                                          '*.rst'), recursive=True))
    for f in files:
        if os.path.basename(f) == 'index.rst':
            continue
        p = subprocess.run(['rst2html', '--halt=warning', '--report=warning',
                            f, os.devnull], capture_output=True, text=True)
        rel = os.path.relpath(f, ROOT)
        ok = p.returncode == 0
        rep.add('series', 'docs', rel, 'pass' if ok else 'fail', 0, ok,
                '' if ok else p.stderr.strip().splitlines()[0])


def shellcheck(bench, rep):
    """shellcheck of scripts/ and .ci/run, and of the guest's /init that
    bench.plan makes."""
    files = sorted(glob.glob(os.path.join(ROOT, 'scripts', '*')) +
                   [os.path.join(ROOT, '.ci', 'run')])
    for f in files:
        if not os.path.isfile(f):
            continue
        with open(f, errors='replace') as fh:
            first = fh.readline()
        if 'sh' not in first:
            continue
        p = subprocess.run(['shellcheck', '-x', f], capture_output=True,
                           text=True)
        rel = os.path.relpath(f, ROOT)
        rep.add('series', 'shellcheck', rel,
                'pass' if p.returncode == 0 else 'fail', 0,
                p.returncode == 0, p.stdout.strip().splitlines()[0]
                if p.returncode else '')
    # The guest's /init is generated from the plan: check what the guest
    # will run (busybox ash, so POSIX sh).
    pl = planmod.parse(bench.plan, results.FORMATS)
    init = initramfs.init_script(pl, {t.name for t in pl.tests})
    p = subprocess.run(['shellcheck', '-s', 'sh', '-'], input=init,
                       capture_output=True, text=True)
    rep.add('series', 'shellcheck', 'guest /init from '
            + os.path.relpath(bench.plan, ROOT),
            'pass' if p.returncode == 0 else 'fail', 0, p.returncode == 0,
            ' '.join(p.stdout.split())[:300] if p.returncode else '')
