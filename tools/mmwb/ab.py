# SPDX-License-Identifier: GPL-2.0
"""The A/B job: build base and series, boot each, run the plan, record."""

import concurrent.futures
import os
import shutil
import signal
import subprocess

from .common import (BASE, BUILD, StepError, EXIT_GUEST, EXIT_HANG,
                     EXIT_SERIES, git, log)
from . import base, initramfs, kbuild, kselftest, plan as planmod
from . import guesttools, lava, report, results, series, verdict, vm

OUT = os.path.join(BUILD, 'out')
DEFAULT_PLAN = BASE.plan


def load_plan(path=DEFAULT_PLAN, tree=base.TREE):
    """The plan, checked against the tests the base has or the series adds."""
    known = planmod.mm_selftests(tree, base.BASE_TAG)
    known |= planmod.added_by_patches(series.read_series())
    known |= {guesttools.PREFIX + n for n in guesttools.names()}
    return planmod.parse(path, results.FORMATS, known_binaries=known)


def build_kernel(label, tree, rep, hooks=()):
    secs = kbuild.build(tree, label=label)
    img = kbuild.install_image(kbuild.KBUILD, os.path.join(OUT, label))
    rep.metric('build_seconds', label, round(secs, 1), 's')
    ks, _ = kselftest.build_mm(tree, kbuild.KBUILD,
                               os.path.join(OUT, label, 'selftests'), label)
    rep.metric('kselftest_build_seconds', label, round(ks, 1), 's')
    for h in hooks:
        h(label, tree, rep)
    return img


def bindirs(label, tree=base.TREE):
    """{binary: directory} for one kernel.  The base kernel runs the tests
    the base tree has as the base tree builds them (a test that does not
    build there is an error there), and the tests the series adds as the
    series builds them: a regression test must run on the kernel that
    has the bug."""
    ser = os.path.join(OUT, 'series', 'selftests')
    own = os.path.join(OUT, label, 'selftests')
    if label not in ('base', 'series'):
        own = ser   # a kernel of one's own ('mmwb try') runs the series' tests
    in_base = planmod.mm_selftests(tree, base.BASE_TAG)

    def where(binary):
        if binary.startswith(planmod.HOST):
            return os.path.dirname(shutil.which(
                binary.removeprefix(planmod.HOST)) or '/nonexistent/x')
        if binary.startswith(guesttools.PREFIX):
            return guesttools.OUT
        if binary.startswith('series:'):
            return ser
        if label != 'base' or binary in in_base:
            return own
        return ser
    return where


def run_plan(label, plan, rep, img=None, role=None, mem=None, alone=False,
             tree=None):
    """Boot one kernel with the plan; rows go to rep.  Returns vm.Run.
    role: the plan's kernel whose tests and expectations apply (the
    debug kernel is the series built another way); default label.
    alone: the plan's 'alone' tests, in a guest of their own (its files
    in vm-alone/).  tree: the kernel work tree (--tree; default
    build/linux), whose base tag lists the base's own tests and gives the
    plan's data."""
    role = role or label
    tree = tree or base.TREE
    d = os.path.join(OUT, label)
    img = img or os.path.join(d, 'bzImage')
    sfx = '-alone' if alone else ''
    ir = os.path.join(d, f'initramfs{sfx}.cpio')
    vmdir = os.path.join(d, 'vm' + sfx)
    tests, skipped = plan.tests_for(role, alone=alone)
    guesttools.ensure(plan)     # every command boots today's tools
    present = initramfs.build(ir, plan, bindirs(label, tree), tests=tests,
                              tree=tree, rev=base.BASE_TAG)
    log(f'vm: {label}: booting ({len(tests)} tests{" alone" if alone else ""}'
        f', global timeout {plan.total_timeout(alone=alone)} s)')
    r = vm.boot(img, ir, vmdir, plan.total_timeout(alone=alone),
                plan.boot, label=label, mem=mem or vm.MEM)
    for t in tests:
        if t.name in present and t.name in r.outputs:
            with open(os.path.join(vmdir, f'{t.name}.out'), 'w') as f:
                f.write(r.outputs[t.name][2])
    rep.merge(verdict.judge_run(plan, label, role, r, tests, skipped,
                                present, sfx))
    return r


def guest_verdict(label, r, plan=None, role=None):
    """StepError for a run whose guest went wrong, with the excerpt.  A
    splat the plan expects on this kernel (console:<kind> fail) is not
    an error; its row says so."""
    tail = vm.read_text(r.console).splitlines()[-15:]
    if r.no_init:
        return StepError('vm', r.console, f'{label}: the kernel did not '
                         f'reach init in {vm.INIT_LIMIT} s, in two boots; '
                         'killed. Console tail:\n' + '\n'.join(tail),
                         EXIT_HANG)
    if r.hung:
        return StepError('vm', r.console, f'{label}: guest hung; killed at '
                         f'the global timeout ({r.wall:.0f} s). Console '
                         'tail:\n' + '\n'.join(tail), EXIT_HANG)
    splats = verdict.unexpected_splats(plan, role or label, r.splats)
    if splats:
        kind, ex = splats[0]
        return StepError('vm', r.console, f'{label}: {kind} in the console '
                         f'({len(splats)} report(s)); first:\n{ex}',
                         EXIT_GUEST)
    if not r.done and r.qemu_rc < 0:
        sig = signal.Signals(-r.qemu_rc).name \
            if -r.qemu_rc in signal.valid_signals() else -r.qemu_rc
        return StepError('vm', r.console, f'{label}: QEMU was killed '
                         f'({sig}) after {r.wall:.0f} s, before the plan '
                         'finished; the next run boots a new one',
                         EXIT_GUEST)
    if not r.done:
        err = os.path.join(os.path.dirname(r.console), 'qemu.err')
        if not tail and os.path.exists(err):
            return StepError('vm', err, f'{label}: QEMU did not start:\n'
                             + open(err).read().strip(), EXIT_GUEST)
        return StepError('vm', r.console, f'{label}: guest stopped before '
                         'the plan finished. Console tail:\n' +
                         '\n'.join(tail), EXIT_GUEST)
    return None


def ab(rep, plan_path=DEFAULT_PLAN, hooks=(), tree=base.TREE,
       after_build=()):
    """Base, then series on top; both booted with the same plan.  Returns
    the guest errors (StepError) found, for the caller to report.
    after_build: f(rep, tree, plan) each, once both kernels are built and
    before they boot (the CI mutants: mutants.ci_mutants)."""
    base.ensure(tree)
    plan = load_plan(plan_path, tree)
    base.require_clean(tree)
    series.read_series()        # fail early on a bad series file
    kbuild.configure(tree)
    git(tree, 'checkout', '-q', '-B', 'mmwb/base', base.BASE_TAG,
        step='base')
    build_kernel('base', tree, rep, hooks)
    series.apply(tree)
    diffs = series.check_roundtrip(tree)
    rep.add('series', 'export', 'patches/ round trip',
            'fail' if diffs else 'pass', 0, not diffs, '; '.join(diffs))
    if diffs:
        raise StepError('export', series.PATCHES, 'patches/ is not what '
                        'scripts/export makes of the applied series:\n'
                        + '\n'.join(diffs), EXIT_SERIES)
    build_kernel('series', tree, rep, hooks)
    for f in after_build:
        f(rep, tree, plan)
    errors = side_by_side(plan, [('base', None), ('series', None)], rep,
                          tree=tree)
    for m in plan.metrics:
        rep.ratio(m.name)
    # The same two guests as LAVA jobs (build/lava/<kernel>/).
    for label in ('base', 'series'):
        try:
            lava.write(rep, label, plan, bindirs(label, tree), tree,
                       f'{BASE.title}' + (' + the series'
                                          if label == 'series' else ''))
        except (StepError, OSError, subprocess.SubprocessError) as e:
            # The report and the guests' errors are what matter here.
            rep.add(label, 'lava', 'job.yaml validates (lava-common)',
                    'error', 0, False, f'no job written: {e}')
    return errors


def side_by_side(plan, guests, rep, mem=None, tree=None):
    """Boot each (label, kernel image or None) with the plan at the same
    time (each TCG guest keeps about one host core busy; MMWB_SERIAL=1
    boots them one after the other).  Rows go to rep in guest order.
    Returns the StepErrors of the guests that went wrong."""
    parts = {label: report.Report() for label, _ in guests}

    def one(guest):
        label, img = guest
        return run_plan(label, plan, parts[label], img=img, mem=mem,
                        tree=tree)
    if os.environ.get('MMWB_SERIAL'):
        runs = [one(g) for g in guests]
    else:
        with concurrent.futures.ThreadPoolExecutor(len(guests)) as pool:
            runs = list(pool.map(one, guests))
    errors = []
    for (label, _), r in zip(guests, runs):
        rep.merge(parts[label])
        e = guest_verdict(label, r, plan)
        if e:
            errors.append(e)
    # Then the tests that need the host to themselves, one guest at a
    # time.
    for label, img in guests if plan.alone else ():
        part = report.Report()
        r = run_plan(label, plan, part, img=img, mem=mem, alone=True,
                     tree=tree)
        rep.merge(part)
        e = guest_verdict(f'{label} (alone)', r, plan, role=label)
        if e:
            errors.append(e)
    return errors
