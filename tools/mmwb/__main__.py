# SPDX-License-Identifier: GPL-2.0
"""mmwb command line: python3 -m mmwb <command> (see scripts/)."""

import argparse
import os
import signal
import sys
import time


def _base_arg(argv):
    """--base NAME, read before the modules load: they take their paths
    and defaults from the base record (bases.py)."""
    for i, a in enumerate(argv):
        if a == '--base' and i + 1 < len(argv):
            return argv[i + 1]
        if a.startswith('--base='):
            return a.split('=', 1)[1]
    return None


_BASE_NAME = _base_arg(sys.argv[1:])
if _BASE_NAME == '':
    print('mmwb: --base needs a name (bases/<name>.base)', file=sys.stderr)
    sys.exit(2)
if _BASE_NAME:
    # A name with no record is a bad command line (exit 2), said before
    # any module loads the record.
    _DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..',
                        '..', 'bases')
    if not os.path.isfile(os.path.join(_DIR, _BASE_NAME + '.base')):
        _known = sorted(f[:-5] for f in os.listdir(_DIR)
                        if f.endswith('.base'))
        print(f'mmwb: --base {_BASE_NAME}: no bases/{_BASE_NAME}.base '
              f'(known: {", ".join(_known)})', file=sys.stderr)
        sys.exit(2)
    os.environ['MMWB_BASE'] = _BASE_NAME

from .common import (BASE, ROOT, StepError, EXIT_BUILD,  # noqa: E402
                     EXIT_UNEXPECTED, EXIT_USAGE, die, interrupted,
                     lock_build, log)
from . import ab, base, deps, series  # noqa: E402


def cmd_deps(a):
    deps.ensure(install=not a.check)
    log('deps: everything is installed')


def cmd_base(a):
    base.ensure(a.tree)


def cmd_apply(a):
    base.ensure(a.tree)
    series.apply(a.tree, series=a.series, patches=a.patches)


def cmd_export(a):
    base.require_clean(a.tree)
    series.export_to_repo(a.tree, head=a.head)


def cmd_check_export(a):
    series.apply(a.tree, series=a.series, patches=a.patches)
    diffs = series.check_roundtrip(a.tree, series=a.series,
                                   patches=a.patches)
    ok, out = series.check_quilt(a.tree, series=a.series, patches=a.patches)
    if not ok:
        diffs.append('quilt push -a failed:\n' + out)
    if diffs:
        raise StepError('check-export', a.patches, '\n'.join(diffs), 5)
    log('check-export: patches/ and series round-trip; quilt accepts them')


def cmd_check_build(a):
    """Apply the series on this base and compile what it touches (the
    kernel objects, and the mm selftests it changes or adds), without a
    full build or a boot: what scripts/test checks of every base but
    the default one."""
    from . import bases, checks, kbuild, kselftest, stable
    t0 = time.monotonic()
    pending = 0
    if not BASE.default:
        up = next(b for b in bases.all_bases() if b.default)
        pending = stable.check(series.read_series(),
                               series.read_series(up.series, up.patches))
    base.ensure(a.tree)
    files = series.apply(a.tree)
    kbuild.configure(a.tree)
    objs = checks.built_objects(a.tree, files)
    kbuild.build(a.tree, targets=objs, label=f'{BASE.name}: touched objects')
    tests = sorted({os.path.basename(x)[:-2] for f in files
                    for x in series.touched_paths(f)
                    if x.startswith('tools/testing/selftests/mm/')
                    and x.endswith('.c')})
    out = os.path.join(kbuild.KBUILD, 'check-selftests')
    kselftest.build_mm(a.tree, kbuild.KBUILD, out, BASE.name,
                       targets=[os.path.join(out, t) for t in tests])
    missing = [t for t in tests if not os.path.isfile(os.path.join(out, t))]
    if missing:
        raise StepError('check-build', os.path.join(out, 'build.log'),
                        f'{BASE.name}: selftests not built: '
                        f'{", ".join(missing)}', EXIT_BUILD)
    log(f'check-build: {BASE.name}: {len(files)} patch(es) apply; '
        f'{len(objs)} object(s) and {len(tests)} selftest(s) build '
        f'({time.monotonic() - t0:.0f} s)')
    if pending:
        log(f'check-build: {BASE.name}: {pending} backport(s) name their '
            'upstream commit as pending: fill it in once merged')


def cmd_boot(a):
    """Boot one kernel with a given init (the workbench's own tests)."""
    from . import initramfs, plan as planmod, vm
    init = open(a.init).read()
    p = planmod.Plan(path='(none)')
    ir = os.path.join(a.workdir, 'initramfs.cpio')
    os.makedirs(a.workdir, exist_ok=True)
    initramfs.build(ir, p, lambda b: a.workdir, init_override=init)
    r = vm.boot(a.kernel, ir, a.workdir, a.timeout, drives=[])
    e = ab.guest_verdict('boot', r)
    if e:
        raise e
    log('boot: guest finished cleanly')


def cmd_try(a):
    """One kernel of one's own (a local mutation, say) with a plan, using
    the series' test binaries from the last run; rows as kernel 'try'.
    --test keeps only the named tests (a test the plan skips runs when
    named), --repeat runs each of them N times, --beside boots a second
    kernel at the same time (rows as 'beside'): the load under which
    the A/B run boots its two guests."""
    from . import report
    rep = report.Report()
    plan = ab.load_plan(a.plan, a.tree)
    if a.test:
        plan.select(a.test, 'try')
    # Each run named <test>.<i>, with the plan's lines for the test.
    plan.repeat(a.repeat)
    guests = [('try', os.path.abspath(a.kernel))]
    if a.beside:
        guests.append(('beside', os.path.abspath(a.beside)))
    errors = ab.side_by_side(plan, guests, rep, mem=a.mem, tree=a.tree)
    text = rep.write(os.path.join(ab.OUT, 'try', 'report'))
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


def cmd_parse(a):
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
            return cmd_parse(a)
    if not any(os.path.isfile(os.path.join(a.vmdir, x))
               for x in ('tests.log', 'console.log')):
        raise StepError('parse', a.vmdir, 'no tests.log or console.log: '
                        'not a guest folder (build/out/<kernel>/vm)',
                        EXIT_USAGE)
    plan = planmod.parse(a.plan, results.FORMATS)
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
    e = ab.guest_verdict(a.kernel, r, plan, role=role)
    if e:
        print(str(e), file=sys.stderr)
        sys.exit(e.code)
    if rep.unexpected():
        sys.exit(EXIT_UNEXPECTED)


def cmd_run(a):
    from . import deps, mutants, report
    # What README.md says: scripts/run on a fresh machine installs what
    # it needs, as scripts/test does.
    deps.ensure()
    rep = report.Report()
    errors = ab.ab(rep, plan_path=a.plan, tree=a.tree,
                   after_build=[mutants.ci_mutants])
    report.finish(rep, errors)


def cmd_soak(a):
    """stress-ng in the guest on the base and the series kernels of the
    last 'scripts/run', side by side (selftests/soak.plan): no oops, no
    splat, no --verify error on either; bogo ops per stressor, series
    over base, in build/report/soak/metrics.tsv."""
    from . import report
    rep = report.Report()
    for k in ('base', 'series'):
        img = os.path.join(ab.OUT, k, 'bzImage')
        if not os.path.isfile(img):
            raise StepError('soak', img, "no kernel: run 'scripts/run' "
                            'first', EXIT_USAGE)
    plan = ab.load_plan(a.plan, a.tree)
    t0 = time.monotonic()
    errors = ab.side_by_side(plan, [('base', None), ('series', None)], rep,
                             tree=a.tree)
    for m in plan.metrics:
        rep.ratio(m.name)
    rep.metric('soak_seconds', 'series', round(time.monotonic() - t0, 1),
               's')
    report.finish(rep, errors, outdir=os.path.join(report.REPORT, 'soak'))


def cmd_debug(a):
    from . import debug
    debug.main(a)


def cmd_mail(a):
    """Cover letter (from the last report), the whole stack as one mbox,
    and one mbox per topic signed by the sender (mail.py); only for a
    series whose mutants report is current and has no survivor."""
    from . import mail, mutants, review
    mail.sender(a.as_, a.tree)      # refuse a bad sender before any work
    series.apply(a.tree)
    mutants.require_report(a.tree)
    path = review.write_cover(a.tree)
    mbx, _ = review.mbox()
    log(f'mail: {path}\nmail: {mbx} (b4 am -m {mbx} '
        '<mm-series-00@example.invalid>)')
    mail.main(a)


def cmd_steps(a):
    from . import steps
    sys.exit(steps.main(a))


def cmd_mutants(a):
    from . import mutants
    sys.exit(mutants.main(a))


def cmd_test(a):
    from . import selfcheck
    selfcheck.main(a)


def main(argv=None):
    ap = argparse.ArgumentParser(prog='mmwb', allow_abbrev=False)
    ap.add_argument('--base', default=BASE.name,
                    help='the base record (bases/NAME.base; default '
                    f'{BASE.name}): tree, series, config and plan')
    ap.add_argument('--tree', default=base.TREE,
                    help='kernel work tree (default build/linux)')
    sub = ap.add_subparsers(dest='cmd', required=True)
    # --base and --tree after the command too ('mmwb run --base 6.12'):
    # _base_arg() has read --base wherever it is.
    anywhere = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    anywhere.add_argument('--base', default=argparse.SUPPRESS,
                          help=argparse.SUPPRESS)
    anywhere.add_argument('--tree', default=argparse.SUPPRESS,
                          help=argparse.SUPPRESS)
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
        s = sub.add_parser(name)
        s.add_argument('--series', default=series.SERIES)
        s.add_argument('--patches', default=series.PATCHES)
        s.set_defaults(fn=fn)
    sub.add_parser('check-build', help='apply the series and compile what '
                   'it touches, no boot (scripts/test runs it for every '
                   'base but the default)').set_defaults(fn=cmd_check_build)
    s = sub.add_parser('export', help='work tree -> patches/ + series')
    s.add_argument('--head', default='HEAD')
    s.set_defaults(fn=cmd_export)
    s = sub.add_parser('run', help='the A/B job: build, boot, test, report')
    s.add_argument('--plan', default=ab.DEFAULT_PLAN)
    s.set_defaults(fn=cmd_run)
    s = sub.add_parser('parse', help="a guest run's rows from its logs "
                       '(tests.log, console.log), judged against a plan')
    s.add_argument('vmdir', help='a guest folder (build/out/<kernel>/vm: '
                   'tests.log and console.log, or a console.log that has '
                   'it all), or with --lava-log a LAVA job\'s output.yaml')
    s.add_argument('--lava-log', action='store_true',
                   help="vmdir is the log of a LAVA job (lava.py's)")
    s.add_argument('--plan', default=ab.DEFAULT_PLAN)
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
    s.add_argument('--plan', default=ab.DEFAULT_PLAN)
    s.set_defaults(fn=cmd_test)
    s = sub.add_parser('soak', help='stress-ng on the base and series '
                       'kernels of the last run, side by side')
    s.add_argument('--plan', default=os.path.join(ROOT, 'selftests',
                                                  'soak.plan'))
    s.set_defaults(fn=cmd_soak)
    s = sub.add_parser('debug', help='the plan on the series built with '
                       'kconfig/debug.config (DEBUG_VM, DEBUG_VM_PGTABLE, '
                       'PROVE_LOCKING, KASAN, PAGE_TABLE_CHECK)')
    s.add_argument('--plan', default=os.path.join(
        ROOT, 'selftests', 'debug.plan') if BASE.default else
        ab.DEFAULT_PLAN)
    s.add_argument('--test', action='append', default=[],
                   help='run only this test of the plan (repeatable)')
    s.set_defaults(fn=cmd_debug)
    s = sub.add_parser('try', help='boot a kernel of your own with a plan '
                       '(series test binaries)')
    s.add_argument('--kernel', required=True)
    s.add_argument('--plan', required=True)
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
    s.add_argument('--plan', default=ab.DEFAULT_PLAN)
    s.add_argument('--test', action='append', default=[], required=True,
                   help='a test of the plan (repeatable)')
    s.add_argument('--touching', action='append', default=[],
                   help='a kernel file or folder (repeatable; default: '
                   'mm/ and lib/)')
    s.set_defaults(fn=cmd_steps)
    s = sub.add_parser('mutants', help='apply each mutant of the series, '
                       'rebuild, and run the tests that must kill it')
    s.add_argument('--plan', default=ab.DEFAULT_PLAN)
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
    s.add_argument('--kernel', required=True)
    s.add_argument('--init', required=True)
    s.add_argument('--timeout', type=int, default=120)
    s.add_argument('--workdir', required=True)
    s.set_defaults(fn=cmd_boot)
    a = ap.parse_args(argv)
    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGINT, interrupted)
    try:
        # parse only reads: it runs beside a job that holds the lock.
        if a.cmd not in ('deps', 'parse'):
            lock_build(a.cmd)
        a.fn(a)
    except StepError as e:
        die(e)
    except KeyboardInterrupt:     # interrupted() killed the guests
        sys.exit(130)


if __name__ == '__main__':
    main()
