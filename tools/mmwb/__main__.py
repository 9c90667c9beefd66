# SPDX-License-Identifier: GPL-2.0
"""mmwb command line: python3 -m mmwb <command> (see scripts/)."""

import argparse
import os
import signal
import sys
import time

from . import ab, base, bases, bench as benchmod, deps, guest, patchinfo
from . import series
from .common import (ROOT, StepError, EXIT_BUILD, EXIT_SERIES,
                     EXIT_UNEXPECTED, EXIT_USAGE, die, interrupted,
                     lock_build, log)


def bench_from_args(a):
    """The one Bench of this command, from its arguments, as kunit.py's
    tree_from_args: --base (default MMWB_BASE, else the record marked
    default), --tree, and the plan (--plan, else the command's own
    default).  A base with no record is a bad command line (exit 2)."""
    if a.base == '':
        raise StepError('base', None, '--base needs a name '
                        '(bases/<name>.base)', EXIT_USAGE)
    try:
        rec = bases.get(a.base)
    except bases.UnknownBase as e:
        what = f'--base {e.name}' if a.base else f'MMWB_BASE={e.name}'
        raise StepError('base', None, f'{what}: no bases/{e.name}.base '
                        f'(known: {", ".join(e.known)})', EXIT_USAGE)
    except bases.BaseError as e:
        raise StepError('base', None, str(e), EXIT_USAGE)
    plan = getattr(a, 'plan', None)
    if not plan:
        plan = DEFAULT_PLANS.get(a.cmd, lambda r: r.plan)(rec)
    return benchmod.make(rec, tree=a.tree, plan=plan)


# The plan of a command that has one of its own (else the record's).
DEFAULT_PLANS = {
    'soak': lambda rec: os.path.join(ROOT, 'selftests', 'soak.plan'),
    'debug': lambda rec: os.path.join(ROOT, 'selftests', 'debug.plan')
    if rec.default else rec.plan,
}


def cmd_deps(bench, a):
    deps.ensure(install=not a.check)
    log('deps: everything is installed')


def cmd_base(bench, a):
    base.ensure(bench)


def cmd_apply(bench, a):
    base.ensure(bench)
    series.apply(bench, series=a.series, patches=a.patches)


def cmd_export(bench, a):
    base.require_clean(bench.tree)
    series.export_to_repo(bench, head=a.head)


def cmd_check_export(bench, a):
    series.apply(bench, series=a.series, patches=a.patches)
    diffs = series.check_roundtrip(bench, series=a.series, patches=a.patches)
    ok, out = series.check_quilt(bench, series=a.series, patches=a.patches)
    if not ok:
        diffs.append('quilt push -a failed:\n' + out)
    if diffs:
        raise StepError('check-export', a.patches or bench.patches,
                        '\n'.join(diffs), EXIT_SERIES)
    log('check-export: patches/ and series round-trip; quilt accepts them')


def cmd_check_build(bench, a):
    """Apply the series on this base and compile what it touches (the
    kernel objects, and the mm selftests it changes or adds), without a
    full build or a boot: what scripts/test checks of every base but
    the default one."""
    from . import checks, kbuild, kselftest, stable
    t0 = time.monotonic()
    name = bench.base.name
    pending = 0
    if not bench.base.default:
        up = next(b for b in bases.all_bases() if b.default)
        pending = stable.check(series.patch_files(bench),
                               series.read_series(up.series, up.patches))
    base.ensure(bench)
    files = series.apply(bench)
    kbuild.configure(bench)
    objs = checks.built_objects(bench, files)
    kbuild.build(bench, targets=objs, label=f'{name}: touched objects')
    tests = sorted({t for f in files for t in patchinfo.read(f).selftests})
    out = os.path.join(bench.kbuild, 'check-selftests')
    kselftest.build_mm(bench, out, name,
                       targets=[os.path.join(out, t) for t in tests])
    missing = [t for t in tests if not os.path.isfile(os.path.join(out, t))]
    if missing:
        raise StepError('check-build', os.path.join(out, 'build.log'),
                        f'{name}: selftests not built: '
                        f'{", ".join(missing)}', EXIT_BUILD)
    log(f'check-build: {name}: {len(files)} patch(es) apply; '
        f'{len(objs)} object(s) and {len(tests)} selftest(s) build '
        f'({time.monotonic() - t0:.0f} s)')
    if pending:
        log(f'check-build: {name}: {pending} backport(s) name their '
            'upstream commit as pending: fill it in once merged')


def cmd_boot(bench, a):
    """Boot one kernel with a given init (the workbench's own tests)."""
    from . import initramfs, plan as planmod, vm
    init = open(a.init).read()
    p = planmod.Plan(path='(none)')
    ir = os.path.join(a.workdir, 'initramfs.cpio')
    os.makedirs(a.workdir, exist_ok=True)
    initramfs.build(ir, p, lambda b: a.workdir, init_override=init)
    r = vm.boot(a.kernel, ir, a.workdir, a.timeout, drives=[],
                accel_cache=bench.under('accel'))
    e = guest.guest_verdict('boot', r)
    if e:
        raise e
    log('boot: guest finished cleanly')


def cmd_try(bench, a):
    """One kernel of one's own (a local mutation, say) with a plan, using
    the series' test binaries from the last run; rows as kernel 'try'.
    --test keeps only the named tests (a test the plan skips runs when
    named), --repeat runs each of them N times, --beside boots a second
    kernel at the same time (rows as 'beside'): the load under which
    the A/B run boots its two guests."""
    from . import report
    rep = report.Report()
    plan = guest.load_plan(bench)
    if a.test:
        plan.select(a.test, 'try')
    # Each run named <test>.<i>, with the plan's lines for the test.
    plan.repeat(a.repeat)
    guests = [('try', os.path.abspath(a.kernel))]
    if a.beside:
        guests.append(('beside', os.path.abspath(a.beside)))
    errors = guest.side_by_side(bench, plan, guests, rep, mem=a.mem)
    text = rep.write(os.path.join(bench.out, 'try', 'report'))
    print(text)
    for row in rep.rows:
        print(f'{row.kernel:6} {row.result:5} {row.suite}: {row.case}  '
              f'{row.detail}'.rstrip())
    # As 'run' does: a guest that went wrong (a panic, a hang) or a
    # result the plan does not expect is not a success.
    if errors:
        print(str(errors[0]), file=sys.stderr)
        sys.exit(errors[0].code)
    if rep.unexpected():
        sys.exit(EXIT_UNEXPECTED)


def cmd_parse(bench, a):
    """The rows of a guest run from its logs alone (a guest folder:
    tests.log, console.log), judged against a plan as the kernel --kernel
    (--role: the plan's kernel whose expectations apply, default the
    same): what 'run' made of that guest, from a log made anywhere.
    Prints results.tsv's rows; --out writes a report folder.  Exit codes
    as 'run' (7 for a splat the plan does not expect, 1 for an
    unexpected row)."""
    import tempfile
    from . import lava, plan as planmod, report, results, verdict
    if a.lava_log:
        # A LAVA job's log: its target lines are the console.
        if not os.path.isfile(a.vmdir):
            raise StepError('parse', a.vmdir, 'no such LAVA log',
                            EXIT_USAGE)
        with open(a.vmdir, errors='replace') as f:
            console = lava.console_of(f.read(), a.vmdir)
        with tempfile.TemporaryDirectory(prefix='mmwb-parse-') as tmp:
            with open(os.path.join(tmp, 'console.log'), 'w') as out:
                out.write(console)
            a.vmdir, a.lava_log = tmp, False
            return cmd_parse(bench, a)
    if not any(os.path.isfile(os.path.join(a.vmdir, x))
               for x in ('tests.log', 'console.log')):
        raise StepError('parse', a.vmdir, 'no tests.log or console.log: '
                        'not a guest folder (build/out/<kernel>/vm)',
                        EXIT_USAGE)
    plan = planmod.parse(bench.plan, results.FORMATS)
    role = a.role or a.kernel
    tests, skipped = plan.tests_for(role, alone=a.alone)
    r, missing = verdict.read_run(a.vmdir)
    present = {t.name for t in tests} - missing
    rep = verdict.judge_run(plan, a.kernel, role, r, tests, skipped,
                            present, '-alone' if a.alone else '')
    for row in rep.rows:
        print(report.tsv_line(row))
    if a.out:
        rep.write(a.out)
    e = guest.guest_verdict(a.kernel, r, plan, role=role)
    if e:
        print(str(e), file=sys.stderr)
        sys.exit(e.code)
    if rep.unexpected():
        sys.exit(EXIT_UNEXPECTED)


def cmd_run(bench, a):
    from . import mutants, report
    # What README.md says: scripts/run on a fresh machine installs what
    # it needs, as scripts/test does.
    deps.ensure()
    rep = report.Report()
    errors = ab.ab(bench, rep, after_build=[mutants.ci_mutants])
    report.finish(rep, errors, bench.report)


def cmd_soak(bench, a):
    """stress-ng in the guest on the base and the series kernels of the
    last 'scripts/run', side by side (selftests/soak.plan): no oops, no
    splat, no --verify error on either; bogo ops per stressor, series
    over base, in build/report/soak/metrics.tsv."""
    from . import report
    rep = report.Report()
    for k in ('base', 'series'):
        img = os.path.join(bench.out, k, 'bzImage')
        if not os.path.isfile(img):
            raise StepError('soak', img, "no kernel: run 'scripts/run' "
                            'first', EXIT_USAGE)
    plan = guest.load_plan(bench)
    t0 = time.monotonic()
    errors = guest.side_by_side(bench, plan,
                                [('base', None), ('series', None)], rep)
    for m in plan.metrics:
        rep.ratio(m.name)
    rep.metric('soak_seconds', 'series', round(time.monotonic() - t0, 1),
               's')
    report.finish(rep, errors, os.path.join(bench.report, 'soak'))


def cmd_debug(bench, a):
    from . import debug
    debug.main(bench, a)


def cmd_mail(bench, a):
    """Cover letter (from the last report), the whole stack as one mbox,
    and one mbox per topic signed by the sender (mail.py); only for a
    series whose mutants report is current and has no survivor."""
    from . import cover, mail, mutants
    mail.sender(a.as_, bench.tree)  # refuse a bad sender before any work
    series.apply(bench)
    mutants.require_report(bench)
    path = cover.write_cover(bench)
    mbx, _ = cover.mbox(bench)
    log(f'mail: {path}\nmail: {mbx} (b4 am -m {mbx} '
        '<mm-series-00@example.invalid>)')
    mail.main(bench, a)


def cmd_steps(bench, a):
    from . import steps
    sys.exit(steps.main(bench, a))


def cmd_mutants(bench, a):
    from . import mutants
    sys.exit(mutants.main(bench, a))


def cmd_test(bench, a):
    from . import selfcheck
    selfcheck.main(bench)


def parser():
    """The command line: every command, its options and their help."""
    ap = argparse.ArgumentParser(prog='mmwb', allow_abbrev=False)
    ap.add_argument('--base', default=None,
                    help='the base record (bases/NAME.base; default '
                    '$MMWB_BASE, else the record marked default): tree, '
                    'series, config and plan')
    ap.add_argument('--tree', default=None,
                    help='kernel work tree (default <build>/linux: '
                    'build/linux for the default base)')
    sub = ap.add_subparsers(dest='cmd', required=True)
    # --base and --tree after the command too ('mmwb run --base 6.12').
    anywhere = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    anywhere.add_argument('--base', default=argparse.SUPPRESS,
                          help='the base record, as before the command')
    anywhere.add_argument('--tree', default=argparse.SUPPRESS,
                          help='the kernel work tree, as before the command')
    add_parser = sub.add_parser

    def with_anywhere(name, **kw):
        kw.setdefault('parents', [anywhere])
        kw.setdefault('allow_abbrev', False)
        return add_parser(name, **kw)
    sub.add_parser = with_anywhere
    s = sub.add_parser('deps', help='install or check host packages')
    s.add_argument('--check', action='store_true', help='do not install')
    s.set_defaults(fn=cmd_deps)
    sub.add_parser('base', help='create or reuse the base tree'
                   ).set_defaults(fn=cmd_base)
    for name, fn in (('apply', cmd_apply), ('check-export', cmd_check_export)):
        s = sub.add_parser(name, help='apply the series to the work tree'
                           if name == 'apply' else 'apply, export again and '
                           'compare with patches/; quilt push -a')
        s.add_argument('--series', default=None,
                       help="a quilt series file (default: the base "
                       "record's)")
        s.add_argument('--patches', default=None,
                       help="its patch folder (default: the base record's)")
        s.set_defaults(fn=fn)
    sub.add_parser('check-build', help='apply the series and compile what '
                   'it touches, no boot (scripts/test runs it for every '
                   'base but the default)').set_defaults(fn=cmd_check_build)
    s = sub.add_parser('export', help='work tree -> patches/ + series')
    s.add_argument('--head', default='HEAD',
                   help='the last commit to export (default HEAD)')
    s.set_defaults(fn=cmd_export)
    s = sub.add_parser('run', help='the A/B job: build, boot, test, report')
    s.add_argument('--plan', default=None,
                   help='the test plan (default: the base record\'s)')
    s.set_defaults(fn=cmd_run)
    s = sub.add_parser('parse', help="a guest run's rows from its logs "
                       '(tests.log, console.log), judged against a plan')
    s.add_argument('vmdir', help='a guest folder (build/out/<kernel>/vm: '
                   'tests.log and console.log, or a console.log that has '
                   'it all), or with --lava-log a LAVA job\'s output.yaml')
    s.add_argument('--lava-log', action='store_true',
                   help="vmdir is the log of a LAVA job (lava.py's)")
    s.add_argument('--plan', default=None,
                   help='the test plan (default: the base record\'s)')
    s.add_argument('--kernel', required=True,
                   help='the label of its rows (base, series, ...)')
    s.add_argument('--role', help="the plan's kernel whose expectations "
                   'apply (default: --kernel)')
    s.add_argument('--alone', action='store_true',
                   help="the guest of the plan's 'alone' tests")
    s.add_argument('--out', help='write results.tsv, results.xml, '
                   'metrics.tsv and summary.txt there')
    s.set_defaults(fn=cmd_parse)
    s = sub.add_parser('test', help='everything, plus checks and the '
                       "workbench's own tests")
    s.add_argument('--plan', default=None,
                   help='the test plan (default: the base record\'s)')
    s.set_defaults(fn=cmd_test)
    s = sub.add_parser('soak', help='stress-ng on the base and series '
                       'kernels of the last run, side by side')
    s.add_argument('--plan', default=None,
                   help='the test plan (default selftests/soak.plan)')
    s.set_defaults(fn=cmd_soak)
    s = sub.add_parser('debug', help='the plan on the series built with '
                       'kconfig/debug.config (DEBUG_VM, DEBUG_VM_PGTABLE, '
                       'PROVE_LOCKING, KASAN, PAGE_TABLE_CHECK)')
    s.add_argument('--plan', default=None,
                   help='the test plan (default selftests/debug.plan; for '
                   "a base other than the default one, the record's)")
    s.add_argument('--test', action='append', default=[],
                   help='run only this test of the plan (repeatable)')
    s.set_defaults(fn=cmd_debug)
    s = sub.add_parser('try', help='boot a kernel of your own with a plan '
                       '(series test binaries)')
    s.add_argument('--kernel', required=True,
                   help='the bzImage to boot (rows as kernel "try")')
    s.add_argument('--plan', required=True, help='the test plan')
    s.add_argument('--mem', default=None, help='guest memory (QEMU -m), '
                   'default 6G')
    s.add_argument('--test', action='append', default=[],
                   help='run only this test of the plan (repeatable)')
    s.add_argument('--repeat', type=int, default=1,
                   help='run each test N times')
    s.add_argument('--beside', default=None, metavar='KERNEL',
                   help='boot this kernel too, at the same time')
    s.set_defaults(fn=cmd_try)
    s = sub.add_parser('steps', help='the base and each patch touching '
                       '--touching, built and booted with only --test')
    s.add_argument('--plan', default=None,
                   help='the test plan (default: the base record\'s)')
    s.add_argument('--test', action='append', default=[], required=True,
                   help='a test of the plan (repeatable)')
    s.add_argument('--touching', action='append', default=[],
                   help='a kernel file or folder (repeatable; default: '
                   'mm/ and lib/)')
    s.set_defaults(fn=cmd_steps)
    s = sub.add_parser('mutants', help='apply each mutant of the series, '
                       'rebuild, and run the tests that must kill it')
    s.add_argument('--plan', default=None,
                   help='the test plan (default: the base record\'s)')
    s.add_argument('--only', action='append', default=[],
                   metavar='TOPIC[/NAME]',
                   help='only this topic or mutant (repeatable)')
    s.set_defaults(fn=cmd_mutants)
    s = sub.add_parser('mail', help='cover letter from the last report, '
                       'the series as one mbox, and one mbox per topic')
    s.add_argument('--as', dest='as_', default=None, metavar='"NAME <ADDR>"',
                   help='the sender, author and Signed-off-by of every '
                   "patch (default: the kernel work tree's git identity)")
    s.set_defaults(fn=cmd_mail)
    s = sub.add_parser('boot', help='boot a kernel with a given /init')
    s.add_argument('--kernel', required=True, help='the bzImage to boot')
    s.add_argument('--init', required=True,
                   help="a shell script, the guest's /init")
    s.add_argument('--timeout', type=int, default=120,
                   help='seconds before the guest counts as hung')
    s.add_argument('--workdir', required=True,
                   help='where the initramfs and the logs go')
    s.set_defaults(fn=cmd_boot)
    return ap


def main(argv=None):
    a = parser().parse_args(argv)
    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGINT, interrupted)
    try:
        bench = bench_from_args(a)
        # The mmwb commands this one runs (scripts/test's failure
        # tests, check-build of the other bases) work on its base
        # unless they name another.
        os.environ['MMWB_BASE'] = bench.base.name
        # parse only reads: it runs beside a job that holds the lock.
        if a.cmd not in ('deps', 'parse'):
            lock_build(bench, a.cmd)
        a.fn(bench, a)
    except StepError as e:
        die(e)
    except KeyboardInterrupt:     # interrupted() killed the guests
        sys.exit(130)


if __name__ == '__main__':
    main()
