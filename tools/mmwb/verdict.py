# SPDX-License-Identifier: GPL-2.0
"""The verdict of one guest run, as a pure function of what the guest
printed: the plan, the kernel it ran as, and a vm.Run (the test port's
outputs per test, the console's splats, whether the plan finished).
No file is read or written here: 'run' and 'try' call it on the run
they booted, 'mmwb parse' on the logs of a run made anywhere, and the
tests on recorded logs.

    judge_run()         -> a report.Report of the run's rows and metrics
    unexpected_splats() -> the console reports the plan does not expect
                           (the only judge of splats: the console rows and
                           guest.guest_verdict()'s error both use it)
    read_run()          -> (vm.Run, tests the init found missing) from a
                           guest folder's logs
"""

import glob
import os

from . import protocol, report, results, vm


def unexpected_splats(plan, role, splats):
    """[(kind, excerpt)] of the splats the plan does not expect on this
    kernel (an 'expect <kernel> console:<kind> fail' line)."""
    return [(k, ex) for k, ex in splats
            if not plan or plan.expectation(role, 'console', k)[0] != 'fail']


def judge_run(plan, label, role, r, tests, skipped, present, sfx=''):
    """Rows and metrics of one guest run r (a vm.Run) of the plan's tests
    for kernel role, labelled label; skipped: {test: reason} not run;
    present: the tests whose binary was in the guest; sfx: '-alone' for
    the guest of the plan's 'alone' tests."""
    rep = report.Report()
    for name, why in skipped.items():
        rep.add(label, name, name, 'skip', 0, True, why)
    for t in tests:
        rc, secs, out = r.outputs.get(t.name, (None, 0, ''))
        if t.name not in present:
            cases = results.classify(t, rc, 0, '', built=False)
        elif t.name not in r.outputs:
            cases = [results.Case(t.name, 'error', 'did not run: the guest '
                                  'stopped before it')]
        else:
            # Killed by the init's watchdog (it says so first), or the
            # guest ended inside the test; a SIGKILL without the
            # watchdog's word (the OOM killer) is a failure of its own.
            timed_out = rc is None or (rc == 137 and
                                       protocol.TIMEOUT in out)
            # Runs the plan retried (a named flake): each failed run is a
            # row of its own, and only the last run is judged.
            failed, out = results.split_runs(out, protocol.RETRY)
            for i, (text, frc) in enumerate(failed, 1):
                if protocol.TIMEOUT in text:
                    what = results.timeout_detail(t, text)
                else:
                    bail = [x for x in text.splitlines()
                            if x.startswith('Bail out!')][:1]
                    last = bail or \
                        [x for x in text.splitlines() if x.strip()][-1:]
                    what = f'exit status {frc}: {" ".join(last)}'
                rep.add(label, t.name, f'run {i} (retried)', 'xfail', 0,
                        True, f'{what}; plan: '
                        f'retry: {plan.retry.get(t.name, (0, ""))[1]}')
            cases = results.classify(t, rc, secs, out, timed_out=timed_out)
            for name, value, unit in results.parse_metrics(out):
                rep.metric(name, label, value, unit)
            for m in plan.metrics:
                if m.test == t.name:
                    v = results.median_of(m.regex, out)
                    if v is not None:
                        rep.metric(m.name, label, v, m.unit)
        for c in cases:
            exp, why = plan.expectation(role, t.name, c.name)
            res, ok = results.judge(c.result, exp)
            detail = c.detail if ok or not why else f'{c.detail}; plan: {why}'
            rep.add(label, t.name, c.name, res,
                    secs if len(cases) == 1 else 0, ok, detail)
    bad = unexpected_splats(plan, role, r.splats)
    for kind, excerpt in r.splats:
        ok = (kind, excerpt) not in bad
        rep.add(label, 'console', kind, 'xfail' if ok else 'fail', 0, ok,
                excerpt.splitlines()[0])
    if len(r.stalls) == 1:
        rep.add(label, 'vm', 'boot 1 (no init: booted once more)', 'xfail',
                0, True, f'no init in {vm.INIT_LIMIT} s; the console '
                f'stopped at: {r.stalls[0]}')
    if r.no_init:
        rep.add(label, 'vm', 'init reached', 'error', r.wall, False,
                f'no init in {vm.INIT_LIMIT} s, twice; the console stops '
                f'at: {r.stalls[-1]}')
    elif r.hung:
        rep.add(label, 'vm', 'global timeout', 'error', r.wall, False,
                f'killed after {r.wall:.0f} s')
    elif not r.done:
        rep.add(label, 'vm', 'plan finished', 'error', r.wall, False,
                'the guest stopped before the end of the plan')
    if r.boot_secs is not None:
        rep.metric('boot_seconds' + sfx.replace('-', '_'), label,
                   round(r.boot_secs, 1), 's')
    rep.metric('vm_wall_seconds' + sfx.replace('-', '_'), label,
               round(r.wall, 1), 's')
    return rep


def read_run(vmdir):
    """The vm.Run of a guest folder (tests.log, console.log; a
    console.stalled<N>.log per boot that never reached init), as vm.boot()
    would have returned it, and the tests the init found missing.  A
    folder with a console.log only is a guest that wrote everything to
    its console (a LAVA job's: lava.py).  What only the host saw is not
    in the logs: the wall time, a hang at the global timeout, QEMU's exit
    status."""
    r = vm.Run(console=os.path.join(vmdir, 'console.log'),
               testlog=os.path.join(vmdir, 'tests.log'))
    if not os.path.exists(r.testlog):
        r.testlog = r.console
    splats = []
    for stalled in sorted(glob.glob(os.path.join(vmdir,
                                                 'console.stalled*.log'))):
        splats += vm.note_stall(r, stalled)
    text = vm.read_logs(r, splats)
    return r, protocol.missing(text)
