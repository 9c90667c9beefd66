# SPDX-License-Identifier: GPL-2.0
"""The test plan: a plain-text file in selftests/.

    boot   <kernel command line words>
    timeout <seconds the whole guest may run; default: the tests' sum + 180>
    setup  <shell command run in the guest before any test>
    test   <name> <timeout-s> <format> <binary> [args...]
    expect <base|series|*> <test>[:<case glob>] <result> <reason...>
    metric <test> <metric name> <regex with one group> <unit>
    only   <base|series> <test> <reason...>
    retry  <test> <extra runs, 1-3> <reason...>
    skip   <test> <reason...>
    alone  <test> <reason...>   (runs after the side-by-side guests,
                                 each kernel in a guest of its own)
    data   <guest directory> <directory of the base kernel tree>
    program <name>   (a program of the host, copied into the guest's
                      /sbin with its libraries: mkfs.xfs for setup lines
                      and kselftest scripts)
    inherit <plan> [setup]   (first line: take another plan's lines)
    drop   <test> <reason...>   (a test inherited, not run here)

'data' copies a directory of the base tree (the same files for both
kernels: real data nobody here wrote) into the guest's initramfs.  A
binary written 'tool:<name>' is one of the workbench's own measuring
programs (tools/mmwb/guest/<name>.c), the same build on both kernels.
'skip' keeps a test in the plan without running it on either kernel:
its row is a skip with the reason (a test that cannot give a verdict
under the A/B run's load; 'mmwb try --test' still runs it).  'only'
runs a test on one kernel; on the other it is a skip with the reason
(a stress test that can crash a kernel whose bug a deterministic test
already shows).  A binary written 'series:<name>' is a tool rather
than the test under test: both kernels run it as the series builds it (gup_test with an
option the series adds, measuring base and series alike).  A metric is
the median of every match of the regex in the test's output, per
kernel; metrics.tsv also gets <name>_ratio, series over base.

A binary written 'host:<name>' is a program of the host (stress-ng),
installed by the deps stage and copied into the guest with its
libraries.  'inherit' makes a plan from another one instead of a copy
of it: with 'setup' only its boot, timeout, setup and data lines (a
plan of other tests on the same guest), without it every line, and
'drop' then removes a test with everything that names it (a debug plan
without the benchmarks).  The path is relative to the repository.

Words are split as by the shell: quote a case glob that holds spaces.

Formats are the output parsers in results.py.  Unless an 'expect' line
says otherwise, a case is expected to pass or to skip.
"""

import fnmatch
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass, field

from .common import StepError, EXIT_USAGE
from . import patchinfo

KERNELS = ('base', 'series')
HOST = 'host:'      # a program of the host, copied into the guest
RESULTS = ('pass', 'fail', 'skip', 'xfail', 'error')


@dataclass
class Test:
    name: str
    timeout: int
    fmt: str
    binary: str
    args: list
    line: int


@dataclass
class Expect:
    kernel: str
    test: str
    case: str
    result: str
    reason: str
    line: int


@dataclass
class Metric:
    test: str
    name: str
    regex: str
    unit: str
    line: int


@dataclass
class Plan:
    path: str
    boot: list = field(default_factory=list)
    setup: list = field(default_factory=list)
    tests: list = field(default_factory=list)
    expects: list = field(default_factory=list)
    metrics: list = field(default_factory=list)
    timeout: int = 0
    only: dict = field(default_factory=dict)   # test -> (kernel, reason)
    retry: dict = field(default_factory=dict)  # test -> (runs, reason)
    skip: dict = field(default_factory=dict)   # test -> reason
    alone: dict = field(default_factory=dict)  # test -> reason
    data: list = field(default_factory=list)   # (guest dir, tree dir)
    programs: list = field(default_factory=list)  # host program names

    def tests_for(self, kernel, alone=False):
        """(tests that run on this kernel, {test: reason} skipped), of
        the guests side by side or (alone) of the guest of each kernel
        that boots after them on its own."""
        run, skipped = [], {}
        for t in self.tests:
            k, why = self.only.get(t.name, (kernel, ''))
            if (t.name in self.alone) != alone:
                continue
            if t.name in self.skip:
                skipped[t.name] = f'not run: {self.skip[t.name]}'
            elif k == kernel:
                run.append(t)
            else:
                skipped[t.name] = f'runs on the {k} kernel only: {why}'
        return run, skipped

    def select(self, names, step):
        """Keep only the named tests, those the plan skips included, with
        no global bound (the plan's was for its own list).  A name the
        plan does not list fails, naming the step."""
        missing = [n for n in names if not self.test(n)]
        if missing:
            raise StepError(step, self.path, f'no test {", ".join(missing)} '
                            'in the plan', EXIT_USAGE)
        self.tests = [t for t in self.tests if t.name in names]
        for n in names:
            self.skip.pop(n, None)
            self.alone.pop(n, None)
        self.timeout = 0

    def repeat(self, n):
        """Each test n times, as <test>.1 .. <test>.n (a name is a test's
        own in the guest), each with every line the plan has for the test:
        expect, metric, retry, only, skip, alone.  No global bound."""
        import dataclasses
        if n <= 1:
            return
        names = [f'{{}}.{i}' for i in range(1, n + 1)]
        mine = {t.name for t in self.tests}

        def each(lines, key):
            # A line of another suite (console:<kind>, vm) stays as it is.
            return [dataclasses.replace(x, **{key: f.format(getattr(x, key))})
                    for x in lines for f in
                    (names if getattr(x, key) in mine else ['{}'])]
        self.tests = [dataclasses.replace(t, name=x.format(t.name))
                      for t in self.tests for x in names]
        self.expects = each(self.expects, 'test')
        self.metrics = each(self.metrics, 'test')
        for d in (self.retry, self.only, self.skip, self.alone):
            for k in [k for k in d if k in mine]:
                v = d.pop(k)
                d.update({x.format(k): v for x in names})
        self.timeout = 0

    def test(self, name):
        for t in self.tests:
            if t.name == name:
                return t
        return None

    def expectation(self, kernel, test, case):
        """(result, reason) the plan expects, or (None, None) for the
        default of pass-or-skip.  The last matching line wins."""
        found = (None, None)
        for e in self.expects:
            if e.kernel not in ('*', kernel) or e.test != test:
                continue
            if fnmatch.fnmatchcase(case, e.case):
                found = (e.result, e.reason)
        return found

    def total_timeout(self, boot_margin=180, alone=False):
        if alone:
            return sum(t.timeout for t in self.tests
                       if t.name in self.alone) + boot_margin
        if self.timeout:
            return self.timeout
        return sum(t.timeout for t in self.tests) + boot_margin


# Keywords of a test and a reason -> what the reason has to say.
_TEST_REASON = {
    'alone': 'why it cannot run with a second guest beside it',
    'skip': 'a test the plan does not run says why',
}


def parse(path, formats, known_binaries=None):
    """Parse and validate; every error names the file and line."""
    def err(n, msg):
        raise StepError('plan', f'{path}:{n}', msg, EXIT_USAGE)

    try:
        with open(path) as f:
            text = f.read()
    except OSError as e:
        raise StepError('plan', path, f'cannot read: {e}', EXIT_USAGE)
    plan = Plan(path=path)
    first = True
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith('#'):
            continue
        kw, _, rest = line.partition(' ')
        rest = rest.strip()
        if kw == 'inherit':
            w = rest.split()
            if not first or len(w) not in (1, 2) or \
                    w[1:] not in ([], ['setup']):
                err(n, 'inherit needs <plan> [setup], as the first line')
            _inherit(plan, _parse_other(w[0], formats, known_binaries,
                                        err, n), w[1:] == ['setup'])
            first = False
            continue
        first = False
        if kw == 'drop':
            w = rest.split(None, 1)
            if len(w) < 2:
                err(n, 'drop needs <test> <reason>: a test left out says '
                    'why')
            if not plan.test(w[0]):
                err(n, f'drop names test {w[0]!r}, which the plan does '
                    'not inherit')
            _drop(plan, w[0])
        elif kw == 'boot':
            plan.boot += shlex.split(rest)
        elif kw == 'timeout':
            if not rest.isdigit() or int(rest) <= 0:
                err(n, f'timeout {rest!r} is not a positive number of '
                    'seconds')
            plan.timeout = int(rest)
        elif kw == 'setup':
            plan.setup.append(rest)
        elif kw == 'test':
            w = shlex.split(rest)
            if len(w) < 4:
                err(n, 'test needs <name> <timeout> <format> <binary>')
            name, tmo, fmt, binary, *args = w
            if not re.match(r'^[\w.+-]+$', name):
                err(n, f'bad test name {name!r}')
            if plan.test(name):
                err(n, f'test {name} is named twice')
            if not tmo.isdigit() or int(tmo) <= 0:
                err(n, f'timeout {tmo!r} is not a positive number of seconds')
            if fmt not in formats:
                err(n, f'unknown format {fmt!r} (known: '
                    f'{", ".join(sorted(formats))})')
            if binary.startswith(HOST) and \
                    not shutil.which(binary.removeprefix(HOST)) and \
                    known_binaries is not None:
                err(n, f'{binary}: no such program on the host (the deps '
                    'stage installs it)')
            if known_binaries is not None and \
                    not binary.startswith(HOST) and \
                    binary.removeprefix('series:') not in known_binaries \
                    and binary not in known_binaries:
                err(n, f'no test {binary!r} in the mm kselftests')
            plan.tests.append(Test(name, int(tmo), fmt, binary, args, n))
        elif kw == 'expect':
            # Shell quoting, so that a case glob may hold spaces.
            try:
                w = shlex.split(rest)
            except ValueError as e:
                err(n, f'cannot split the line: {e}')
            if len(w) < 4:
                err(n, 'expect needs <kernel> <test>[:<case>] <result> '
                    '<reason>: every expectation says why')
            kernel, target, result = w[:3]
            reason = ' '.join(w[3:])
            if kernel not in KERNELS + ('*',):
                err(n, f'kernel {kernel!r} is not base, series or *')
            if result not in RESULTS:
                err(n, f'result {result!r} is not one of {", ".join(RESULTS)}')
            test, _, case = target.partition(':')
            plan.expects.append(Expect(kernel, test, case or '*', result,
                                       reason, n))
        elif kw == 'only':
            w = rest.split(None, 2)
            if len(w) < 3 or w[0] not in KERNELS:
                err(n, 'only needs <base|series> <test> <reason>')
            plan.only[w[1]] = (w[0], w[2])
        elif kw == 'retry':
            w = rest.split(None, 2)
            if len(w) < 3 or not w[1].isdigit() or not \
                    1 <= int(w[1]) <= 3:
                err(n, 'retry needs <test> <extra runs, 1-3> <reason>: '
                    'a known flake is named and explained')
            plan.retry[w[0]] = (int(w[1]), w[2])
        elif kw in _TEST_REASON:
            w = rest.split(None, 1)
            if len(w) < 2:
                err(n, f'{kw} needs <test> <reason>: {_TEST_REASON[kw]}')
            getattr(plan, kw)[w[0]] = w[1]
        elif kw == 'data':
            w = rest.split()
            if len(w) != 2 or not w[0].startswith('/') or \
                    w[1].startswith('/') or '..' in w[1].split('/'):
                err(n, 'data needs <absolute guest directory> <directory '
                    'of the kernel tree, relative>')
            plan.data.append((w[0], w[1]))
        elif kw == 'program':
            w = rest.split()
            if len(w) != 1 or '/' in w[0]:
                err(n, 'program needs <name>: a program on the host PATH')
            if known_binaries is not None and not shutil.which(w[0]):
                err(n, f'program {w[0]}: not on the host (the deps stage '
                    'installs it)')
            if w[0] not in plan.programs:
                plan.programs.append(w[0])
        elif kw == 'metric':
            try:
                w = shlex.split(rest)
            except ValueError as e:
                err(n, f'cannot split the line: {e}')
            if len(w) != 4:
                err(n, 'metric needs <test> <name> <regex> <unit>')
            test, name, regex, unit = w
            try:
                if re.compile(regex).groups != 1:
                    err(n, f'regex {regex!r} needs exactly one group')
            except re.error as e:
                err(n, f'bad regex {regex!r}: {e}')
            if not re.match(r'^\w+$', name):
                err(n, f'bad metric name {name!r}')
            plan.metrics.append(Metric(test, name, regex, unit, n))
        else:
            err(n, f'unknown keyword {kw!r}')
    if not plan.tests:
        raise StepError('plan', path, 'no tests in the plan', EXIT_USAGE)
    for e in plan.expects:
        if not plan.test(e.test) and e.test not in ('console',):
            err(e.line, f'expect names test {e.test!r}, which the plan '
                'does not run')
    for kw, names in (('only', plan.only), ('retry', plan.retry),
                      ('skip', plan.skip), ('alone', plan.alone)):
        for name in names:
            if not plan.test(name):
                err(n, f'{kw} names test {name!r}, which the plan does not '
                    'list')
    for m in plan.metrics:
        if not plan.test(m.test):
            err(m.line, f'metric names test {m.test!r}, which the plan '
                'does not run')
    return plan


def _parse_other(rel, formats, known, err, n):
    from .common import ROOT
    import os
    path = os.path.join(ROOT, rel)
    if not os.path.isfile(path):
        err(n, f'inherit: no plan {rel}')
    return parse(path, formats, known)


def _inherit(plan, other, setup_only):
    plan.boot += other.boot
    plan.setup += other.setup
    plan.data += other.data
    plan.programs += [x for x in other.programs if x not in plan.programs]
    if setup_only:
        return
    plan.timeout = other.timeout
    plan.tests += other.tests
    plan.expects += other.expects
    plan.metrics += other.metrics
    plan.only.update(other.only)
    plan.retry.update(other.retry)
    plan.skip.update(other.skip)
    plan.alone.update(other.alone)


def _drop(plan, name):
    plan.tests = [t for t in plan.tests if t.name != name]
    plan.expects = [e for e in plan.expects if e.test != name]
    plan.metrics = [m for m in plan.metrics if m.test != name]
    for d in (plan.only, plan.retry, plan.skip, plan.alone):
        d.pop(name, None)


def _names_in_makefile(text):
    names = set()
    for m in re.finditer(r'^\+?TEST_(?:GEN_)?(?:FILES|PROGS)\s*[+:]?=\s*(.+)$',
                         text, re.M):
        names.update(x for x in m.group(1).split() if not x.startswith('$'))
    return names


def mm_selftests(tree, rev):
    """Names the mm kselftest Makefile of rev can build, plus its scripts."""
    d = 'tools/testing/selftests/mm'
    p = subprocess.run(['git', '-C', tree, 'show', f'{rev}:{d}/Makefile'],
                       capture_output=True, text=True)
    names = _names_in_makefile(p.stdout) if p.returncode == 0 else set()
    p = subprocess.run(['git', '-C', tree, 'ls-tree', '--name-only',
                        f'{rev}:{d}'], capture_output=True, text=True)
    names.update(x for x in p.stdout.split() if x.endswith('.sh'))
    return names


def added_by_patches(patches):
    """Test names that patches add to the mm selftest Makefile."""
    mk = patchinfo.MM_SELFTESTS + 'Makefile'
    names = set()
    for path in patches:
        names |= _names_in_makefile(
            '\n'.join(patchinfo.read(path).added_lines(mk)))
    return names
