# SPDX-License-Identifier: GPL-2.0
"""The guest engine: a plan booted on one kernel (or several side by
side), judged into report rows by verdict.py.  Every job that boots
(run, try, soak, debug, steps, mutants) goes through run_plan()."""

import concurrent.futures
import os
import shutil
import signal

from .common import StepError, EXIT_GUEST, EXIT_HANG, log
from . import guesttools, initramfs, plan as planmod, report, results
from . import series, verdict, vm


def load_plan(bench, path=None):
    """The plan (default bench.plan), checked against the tests the base
    has or the series adds."""
    known = planmod.mm_selftests(bench.tree, bench.tag)
    known |= planmod.added_by_patches(series.patch_files(bench))
    known |= {guesttools.PREFIX + n for n in guesttools.names()}
    return planmod.parse(path or bench.plan, results.FORMATS,
                         known_binaries=known)


def bindirs(bench, label):
    """{binary: directory} for one kernel.  The base kernel runs the tests
    the base tree has as the base tree builds them (a test that does not
    build there is an error there), and the tests the series adds as the
    series builds them: a regression test must run on the kernel that
    has the bug."""
    ser = bench.selftests('series')
    own = bench.selftests(label)
    if label not in ('base', 'series'):
        own = ser   # a kernel of one's own ('mmwb try') runs the series' tests
    in_base = planmod.mm_selftests(bench.tree, bench.tag)
    tools = guesttools.out_dir(bench)

    def where(binary):
        if binary.startswith(planmod.HOST):
            return os.path.dirname(shutil.which(
                binary.removeprefix(planmod.HOST)) or '/nonexistent/x')
        if binary.startswith(guesttools.PREFIX):
            return tools
        if binary.startswith('series:'):
            return ser
        if label != 'base' or binary in in_base:
            return own
        return ser
    return where


def run_plan(bench, label, plan, rep, img=None, role=None, mem=None,
             alone=False):
    """Boot one kernel with the plan; rows go to rep.  Returns vm.Run.
    The kernel is img, default <out>/<label>/bzImage.  role: the plan's
    kernel whose tests and expectations apply (the debug kernel is the
    series built another way); default label.  alone: the plan's 'alone'
    tests, in a guest of their own (its files in vm-alone/).  The base
    tag of bench.tree lists the base's own tests and gives the plan's
    data."""
    role = role or label
    d = os.path.join(bench.out, label)
    img = img or os.path.join(d, 'bzImage')
    sfx = '-alone' if alone else ''
    ir = os.path.join(d, f'initramfs{sfx}.cpio')
    vmdir = os.path.join(d, 'vm' + sfx)
    tests, skipped = plan.tests_for(role, alone=alone)
    guesttools.ensure(bench, plan)  # every command boots today's tools
    present = initramfs.build(ir, plan, bindirs(bench, label), tests=tests,
                              tree=bench.tree, rev=bench.tag)
    log(f'vm: {label}: booting ({len(tests)} tests{" alone" if alone else ""}'
        f', global timeout {plan.total_timeout(alone=alone)} s)')
    r = vm.boot(img, ir, vmdir, plan.total_timeout(alone=alone),
                plan.boot, label=label, mem=mem or vm.MEM,
                accel_cache=bench.under('accel'))
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


def side_by_side(bench, plan, guests, rep, mem=None):
    """Boot each (label, kernel image or None) with the plan at the same
    time (each TCG guest keeps about one host core busy; MMWB_SERIAL=1
    boots them one after the other).  Rows go to rep in guest order.
    Returns the StepErrors of the guests that went wrong."""
    parts = {label: report.Report() for label, _ in guests}

    def one(guest):
        label, img = guest
        return run_plan(bench, label, plan, parts[label], img=img, mem=mem)
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
        r = run_plan(bench, label, plan, part, img=img, mem=mem, alone=True)
        rep.merge(part)
        e = guest_verdict(f'{label} (alone)', r, plan, role=label)
        if e:
            errors.append(e)
    return errors
