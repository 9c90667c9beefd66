# SPDX-License-Identifier: GPL-2.0
"""The README test command: the workbench's own tests, static checks and
the A/B run, all as rows of one report."""

import os
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import unittest

from .common import StepError, log
from . import ab, bases, base, checks, cover, deps, matrix, mutants, report
from . import review, series

HERE = os.path.dirname(os.path.abspath(__file__))


def mmwb(*args, env=None, timeout=600):
    """Run the CLI as a user would; (exit code, output)."""
    e = dict(os.environ, PYTHONPATH=os.path.dirname(HERE))
    e.update(env or {})
    p = subprocess.run([sys.executable, '-m', 'mmwb', *args], env=e,
                       capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout + p.stderr


def unit_tests(rep):
    suite = unittest.defaultTestLoader.discover(os.path.join(HERE, 'tests'),
                                                top_level_dir=os.path.dirname(HERE))
    def walk(s):
        for t in s:
            if isinstance(t, unittest.TestSuite):
                yield from walk(t)
            else:
                yield t
    # The suite drops its tests as it runs them: take the ids first.
    ids = [t.id() for t in walk(suite)]
    res = unittest.TestResult()
    t0 = time.monotonic()
    suite.run(res)
    bad = {t.id(): tb for t, tb in res.failures + res.errors}
    skipped = {t.id(): why for t, why in res.skipped}
    for tid in ids:
        if tid in bad:
            rep.add('series', 'workbench-unit', tid, 'fail', 0, False,
                    bad[tid].strip().splitlines()[-1])
            print(bad[tid], file=sys.stderr)
        elif tid in skipped:
            rep.add('series', 'workbench-unit', tid, 'skip', 0, True,
                    skipped[tid])
        else:
            rep.add('series', 'workbench-unit', tid, 'pass', 0)
    log(f'unit: {res.testsRun} tests in {time.monotonic() - t0:.1f} s, '
        f'{len(bad)} failed')


def said(out):
    """What a CLI output says, for a failing row: the workbench's own
    error line ('mmwb: step: ...') and the last lines."""
    heads = [x for x in out.splitlines() if x.startswith('mmwb: ')]
    return ' | '.join(heads[-1:] + out.strip().splitlines()[-4:])


def expect_exit(rep, case, code, needle, args, tries=1, keep=None,
                saved=None, **kw):
    """One failure-mode case: the CLI must exit with code and say needle.
    A case that boots a guest may have tries=2: the workbench is what it
    tests, and a guest that went wrong in its own way on the first boot
    is named in the row (its console kept as keep's copy) rather than
    hidden; saved: the folder its failing consoles are copied to."""
    t0 = time.monotonic()
    notes = []
    for attempt in range(1, tries + 1):
        rc, out = mmwb(*args, **kw)
        ok = rc == code and needle in out
        if ok:
            break
        detail = f'exit {rc} (want {code}, saying {needle!r}): {said(out)}'
        if keep and saved and os.path.exists(keep):
            dest = os.path.join(saved,
                                f'{case.replace(" ", "-")}.{attempt}.log')
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            subprocess.run(['cp', keep, dest])
            detail += f' (console: {dest})'
        notes.append(f'try {attempt}: {detail}')
        log(f'workbench: {case}: try {attempt} failed: {detail}')
    detail = '; '.join(notes)
    rep.add('series', 'workbench', case, 'pass' if ok else 'fail',
            time.monotonic() - t0, ok, detail)
    log(f'workbench: {case}: {"ok" if ok else "FAILED " + detail}')


def other_bases(rep):
    """Every base but the default one (the stable backports) is not
    booted here: its series must apply and what it touches must build
    ('mmwb --base NAME check-build'); 'mmwb --base NAME run' is the A/B
    of it."""
    for b in bases.all_bases():
        if b.default:
            continue
        t0 = time.monotonic()
        log(f'check-build: {b.name} ({b.title}, {b.series})')
        rc, out = mmwb('--base', b.name, 'check-build', timeout=2400)
        last = [x for x in out.strip().splitlines() if x.strip()][-1:]
        rep.add('series', 'check-build', f'{b.name}: apply and build',
                'pass' if rc == 0 else 'fail', time.monotonic() - t0,
                rc == 0, ' '.join(last) if rc else '')
        if rc:
            print(out, file=sys.stderr)
        log(f'check-build: {b.name}: {"ok" if rc == 0 else "FAILED"}')


def _tiny_tree(d, tag):
    """A small git repo tagged like the base, for series failure tests."""
    run = lambda *a: subprocess.run(['git', '-C', d, *a], check=True,
                                    capture_output=True)
    os.makedirs(d)
    run('init', '-q', '-b', 'base')
    run('config', 'user.name', 'mm-series')
    run('config', 'user.email', 'mm-series@example.invalid')
    with open(os.path.join(d, 'hello.c'), 'w') as f:
        f.write('int a;\nint b;\nint c;\n')
    # Debian's source ignores everything at the top level.
    with open(os.path.join(d, '.gitignore'), 'w') as f:
        f.write('/*\n!/debian/\n')
    os.makedirs(os.path.join(d, 'sub'))
    with open(os.path.join(d, 'sub', '.gitignore'), 'w') as f:
        f.write('*.o\n')
    with open(os.path.join(d, 'sub', 'keep.c'), 'w') as f:
        f.write('int keep;\n')
    run('add', '-f', '.')
    run('commit', '-q', '-m', 'base')
    run('tag', tag)


BROKEN_PATCH = """From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001
From: mm-series <mm-series@example.invalid>
Date: Wed, 1 Jan 2025 00:00:00 +0000
Subject: [PATCH] hello: change a line that is not there

Signed-off-by: mm-series <mm-series@example.invalid>
---
 hello.c | 2 +-
 1 file changed, 1 insertion(+), 1 deletion(-)

diff --git a/hello.c b/hello.c
--- a/hello.c
+++ b/hello.c
@@ -1,3 +1,3 @@
 int a;
-int x;
+int y;
 int c;
"""


GOOD_PATCH = BROKEN_PATCH.replace('-int x;\n+int y;', '-int b;\n+int y;') \
    .replace('change a line that is not there', 'change a line')


def fault_tests(bench, rep):
    """The workbench under faults (no kernel build): a second mmwb beside
    the first, an apply interrupted half-way, a git am of the user's, a
    full disk under the build folder.  Each gives a clear error and exit
    code, leaves the tree and its uncommitted work as they were, and the
    next run needs no clean-up by hand."""
    from . import common
    if common._lock_fd is None:
        common.lock_build(bench, 'test')
    tmp = tempfile.mkdtemp(prefix='mmwb-faults-')
    tree = os.path.join(tmp, 'tree')
    _tiny_tree(tree, bench.tag)
    pdir = os.path.join(tmp, 'patches')
    os.makedirs(pdir)
    for name, text in (('0001-good.patch', GOOD_PATCH),
                       ('0001-broken.patch', BROKEN_PATCH)):
        with open(os.path.join(pdir, name), 'w') as f:
            f.write(text)
    good = os.path.join(tmp, 'series')
    with open(good, 'w') as f:
        f.write('0001-good.patch\n')
    apply_args = ['--tree', tree, 'apply', '--series', good, '--patches',
                  pdir]

    # Beside this one (which holds the lock of build/), any command that
    # works there is refused, before it touches anything.
    expect_exit(rep, 'a second mmwb beside the first is refused', 9,
                'another mmwb is working in', apply_args,
                env={'MMWB_LOCK_HELD': ''})
    head = subprocess.run(['git', '-C', tree, 'branch', '--show-current'],
                          capture_output=True, text=True).stdout.strip()
    rep.add('series', 'workbench', 'the refused mmwb changed nothing',
            'pass' if head == 'base' else 'fail', 0, head == 'base', head)

    def am_in_progress(ours):
        # What a kill in the middle of the series leaves: a git am that
        # stopped, and (when it was ours) mmwb's marker.
        subprocess.run(['git', '-C', tree, 'am', '-q',
                        os.path.join(pdir, '0001-broken.patch')],
                       capture_output=True)
        if ours:
            with open(os.path.join(tree, '.git', 'mmwb-am'), 'w') as f:
                f.write('12345\n')

    am_in_progress(ours=False)
    expect_exit(rep, "a git am of the user's in the tree is refused, not "
                'aborted', 4, 'that mmwb did not start', apply_args)
    kept = os.path.isdir(os.path.join(tree, '.git', 'rebase-apply'))
    rep.add('series', 'workbench', "the user's git am is left as it was",
            'pass' if kept else 'fail', 0, kept)
    subprocess.run(['git', '-C', tree, 'am', '--abort'], capture_output=True)
    am_in_progress(ours=True)
    expect_exit(rep, 'an interrupted apply is recovered by the next one', 0,
                'an interrupted apply was left', apply_args)
    log_ = subprocess.run(['git', '-C', tree, 'log', '--format=%s', '-1'],
                          capture_output=True, text=True).stdout.strip()
    ok = log_ == 'hello: change a line'
    rep.add('series', 'workbench', 'the recovered apply applied the series',
            'pass' if ok else 'fail', 0, ok, '' if ok else log_)
    disk_full(rep, tmp)
    subprocess.run(['rm', '-rf', tmp])


def disk_full(rep, tmp):
    """Unpacking the base onto a file system with no room left."""
    case = 'a full disk under build/ names the step and leaves nothing'
    if os.geteuid() != 0:
        rep.add('series', 'workbench', case, 'skip', 0, True,
                'needs root to mount a small tmpfs')
        return
    small = os.path.join(tmp, 'small')
    os.makedirs(small)
    p = subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=1m', 'mmwb-full',
                        small], capture_output=True, text=True)
    if p.returncode:
        rep.add('series', 'workbench', case, 'skip', 0, True,
                f'cannot mount a tmpfs: {p.stderr.strip()}')
        return
    try:
        src = os.path.join(tmp, 'src', 'linux')
        os.makedirs(src)
        with open(os.path.join(src, 'Makefile'), 'w') as f:
            f.write('# not a kernel\n')
        with open(os.path.join(src, 'data'), 'wb') as f:
            f.write(os.urandom(3 << 20))
        tarball = os.path.join(tmp, 'big.tar')
        subprocess.run(['tar', '-cf', tarball, '-C', os.path.dirname(src),
                        'linux'], check=True)
        tree = os.path.join(small, 'linux')
        expect_exit(rep, case, 4, 'the disk is full',
                    ['--tree', tree, 'base'],
                    env={'MMWB_TARBALL': tarball,
                         'MMWB_BUILD': os.path.join(small, 'build')})
        left = sorted(x for x in os.listdir(small) if x != 'build')
        rep.add('series', 'workbench', 'after a full disk the next run '
                'starts from nothing left behind', 'pass' if not left else
                'fail', 0, not left, f'left: {left}' if left else '')
    finally:
        subprocess.run(['umount', small], capture_output=True)


def host_failure_tests(bench, rep):
    """Failure modes that need no kernel build."""
    tmp = tempfile.mkdtemp(prefix='mmwb-selftest-')
    tree = os.path.join(tmp, 'tree')
    _tiny_tree(tree, bench.tag)
    pdir = os.path.join(tmp, 'patches')
    os.makedirs(pdir)
    with open(os.path.join(pdir, '0001-broken.patch'), 'w') as f:
        f.write(BROKEN_PATCH)
    with open(os.path.join(tmp, 'series'), 'w') as f:
        f.write('0001-broken.patch\n')
    expect_exit(rep, 'broken patch names file and hunk', 5, 'int x;',
                ['--tree', tree, 'apply', '--series',
                 os.path.join(tmp, 'series'), '--patches', pdir])
    rc, out = mmwb('--tree', tree, 'apply', '--series',
                   os.path.join(tmp, 'series'), '--patches', pdir)
    ok = '0001-broken.patch' in out and 'hello.c' in out
    rep.add('series', 'workbench', 'broken patch output names the patch '
            'file and the target file', 'pass' if ok else 'fail', 0, ok,
            '' if ok else out[-300:])
    with open(os.path.join(tmp, 'series2'), 'w') as f:
        f.write('0009-missing.patch\n')
    expect_exit(rep, 'series naming a missing patch', 5, '0009-missing.patch',
                ['--tree', tree, 'apply', '--series',
                 os.path.join(tmp, 'series2'), '--patches', pdir])
    with open(os.path.join(tree, 'sub', 'built.o'), 'w') as f:
        f.write('a build product, ignored by sub/.gitignore\n')
    rc, out = mmwb('--tree', tree, 'apply', '--series',
                   os.path.join(tmp, 'series'), '--patches', pdir)
    ok = rc == 5
    rep.add('series', 'workbench', 'build products do not make the tree '
            'dirty', 'pass' if ok else 'fail', 0, ok, '' if ok else out[-300:])
    with open(os.path.join(tree, 'sub', 'new.c'), 'w') as f:
        f.write('int new_work;\n')
    expect_exit(rep, "new file hidden by Debian's top-level .gitignore is "
                'seen as uncommitted work', 4, 'sub/new.c',
                ['--tree', tree, 'apply', '--series',
                 os.path.join(tmp, 'series'), '--patches', pdir])
    os.unlink(os.path.join(tree, 'sub', 'new.c'))
    with open(os.path.join(tree, 'hello.c'), 'a') as f:
        f.write('int uncommitted;\n')
    expect_exit(rep, 'dirty kernel tree is refused, not discarded', 4,
                'uncommitted changes', ['--tree', tree, 'apply', '--series',
                                        os.path.join(tmp, 'series'),
                                        '--patches', pdir])
    with open(os.path.join(tree, 'hello.c')) as f:
        kept = 'int uncommitted;' in f.read()
    rep.add('series', 'workbench', 'dirty kernel tree keeps its change',
            'pass' if kept else 'fail', 0, kept)
    expect_exit(rep, 'missing base tarball', 4, 'MMWB_TARBALL names no file',
                ['--tree', os.path.join(tmp, 'nobase'), 'base'],
                env={'MMWB_TARBALL': os.path.join(tmp, 'none.tar.xz')})
    plan = os.path.join(tmp, 'bad.plan')
    with open(plan, 'w') as f:
        f.write('test nosuch 10 ktap no_such_selftest\n')
    expect_exit(rep, 'plan naming a missing test', 2, 'bad.plan:1',
                ['run', '--plan', plan])
    with open(plan, 'w') as f:
        f.write('test cow ten ktap cow\n')
    expect_exit(rep, 'plan with a bad timeout', 2, 'bad.plan:1',
                ['run', '--plan', plan])
    subprocess.run(['rm', '-rf', tmp])


# (case, /init script, global timeout, exit code, what the error says)
GUEST_FAILURES = [
    ('guest panic fails the run with the excerpt',
     '#!/bin/sh\necho "init exits on purpose"\nexit 1\n', 120, 7,
     'Kernel panic'),
    ('hung guest is killed at the global timeout',
     '#!/bin/sh\nwhile :; do sleep 1; done\n', 30, 8, 'guest hung'),
]


def qemu_killed(rep, kernel, tmp, saved):
    """QEMU killed in the middle of a run: the run says so (exit code 7)
    and the next boot in the same folder works."""
    case = 'QEMU killed mid-run is named, and the next boot works'
    workdir = os.path.join(tmp, 'killed')
    init = os.path.join(tmp, 'init-sleep')
    with open(init, 'w') as f:
        f.write('#!/bin/sh\nwhile :; do sleep 1; done\n')
    e = dict(os.environ, PYTHONPATH=os.path.dirname(HERE))
    t0 = time.monotonic()
    p = subprocess.Popen([sys.executable, '-m', 'mmwb', 'boot', '--kernel',
                          kernel, '--init', init, '--timeout', '600',
                          '--workdir', workdir], env=e, text=True,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    console = os.path.join(workdir, 'console.log')
    qpid = None
    while time.monotonic() - t0 < 300 and p.poll() is None:
        time.sleep(2)
        try:
            booted = 'Run /init' in open(console, errors='replace').read()
        except OSError:
            booted = False
        q = subprocess.run(['pgrep', '-f', f'{workdir}/'],
                           capture_output=True, text=True).stdout.split()
        q = [x for x in q if int(x) != p.pid]
        if booted and q:
            qpid = int(q[0])
            break
    if qpid:
        os.kill(qpid, signal.SIGKILL)
    else:
        p.kill()
    out = p.communicate(timeout=300)[0]
    ok = qpid and p.returncode == 7 and 'QEMU was killed (SIGKILL)' in out
    detail = '' if ok else f'exit {p.returncode}: {said(out)}'
    rep.add('series', 'workbench', case, 'pass' if ok else 'fail',
            time.monotonic() - t0, bool(ok), detail)
    log(f'workbench: {case}: {"ok" if ok else "FAILED " + detail}')
    # The next run in the same folder: a clean panic, nothing stale.
    init2 = os.path.join(tmp, 'init-exit')
    with open(init2, 'w') as f:
        f.write(GUEST_FAILURES[0][1])
    expect_exit(rep, 'a boot after a killed QEMU runs as usual', 7,
                'Kernel panic', ['boot', '--kernel', kernel, '--init', init2,
                                 '--timeout', '120', '--workdir', workdir],
                tries=2, keep=os.path.join(workdir, 'console.log'),
                saved=saved)


def guest_failure_tests(bench, rep, kernel):
    """A guest that panics and one that hangs, on the series kernel; and
    one whose QEMU is killed.  Consoles of failed tries go to
    <report>/workbench/."""
    tmp = tempfile.mkdtemp(prefix='mmwb-guest-', dir=bench.build)
    saved = os.path.join(bench.report, 'workbench')
    for i, (case, script, timeout, code, needle) in \
            enumerate(GUEST_FAILURES):
        init = os.path.join(tmp, f'init{i}')
        with open(init, 'w') as f:
            f.write(script)
        workdir = os.path.join(tmp, f'guest{i}')
        expect_exit(rep, case, code, needle,
                    ['boot', '--kernel', kernel, '--init', init,
                     '--timeout', str(timeout), '--workdir', workdir],
                    tries=2, keep=os.path.join(workdir, 'console.log'),
                    saved=saved)
    qemu_killed(rep, kernel, tmp, saved)
    subprocess.run(['rm', '-rf', tmp])


def main(bench):
    """scripts/test: everything of bench (its base, tree and plan)."""
    t0 = time.monotonic()
    deps.ensure()
    rep = report.Report()
    unit_tests(rep)
    checks.shellcheck(bench, rep)
    checks.docs(rep)
    host_failure_tests(bench, rep)
    fault_tests(bench, rep)
    errors = []
    try:
        base.ensure(bench)
        checks.checkpatch(bench, rep)
        ok, out = series.check_quilt(bench)
        rep.add('series', 'quilt', 'quilt push -a', 'pass' if ok else 'fail',
                0, ok, '' if ok else out.strip().splitlines()[-1])
        errors = ab.ab(bench, rep, hooks=[checks.ObjectChecks()],
                       after_build=[mutants.ci_mutants])
        matrix.run_matrix(bench, rep)
        other_bases(rep)
        review.maintainers(bench, rep)
        review.kernel_doc(bench, rep)
        review.kernel_rst(bench, rep)
        review.htmldocs(bench, rep)
        guest_failure_tests(bench, rep, os.path.join(bench.out, 'series',
                                                     'bzImage'))
    except StepError as e:
        errors.append(e)
    except Exception:   # a workbench bug: report what ran, then fail
        errors.append(StepError('internal', None, traceback.format_exc(),
                                1))
    rep.metric('test_command_seconds', 'series',
               round(time.monotonic() - t0, 1), 's')
    rep.write(bench.report)
    try:
        cover.cover_in_sync(bench, rep)
        cover.b4_roundtrip(bench, rep)
    except StepError as e:
        errors.append(e)
    except Exception:   # a workbench bug: report what ran, then fail
        errors.append(StepError('internal', None, traceback.format_exc(),
                                1))
    report.finish(rep, errors, bench.report)
