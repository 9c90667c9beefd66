# SPDX-License-Identifier: GPL-2.0
"""Test output parsers (one per output format, as data) and the
classification of a test's cases against the plan."""

import re
from dataclasses import dataclass

from .protocol import HUNG, TIMEOUT

ANSI = re.compile(r'\x1b\[[0-9;]*m')


@dataclass
class Case:
    name: str
    result: str         # pass fail skip xfail error
    detail: str = ''


def _dedup(cases):
    seen = {}
    for c in cases:
        k = seen.get(c.name, 0)
        seen[c.name] = k + 1
        if k:
            c.name = f'{c.name} #{k + 1}'
    return cases


_KTAP = re.compile(r'^(not ok|ok)\s+(\d+)\s*(?:-\s*)?(.*?)'
                   r'(?:\s*#\s*(SKIP|XFAIL|TODO)\b\s*(.*))?$')
_KTAP_VERSION = re.compile(r'^(?:KTAP|TAP) version \d+\s*$')
# A plan line; re.M: parse_uffd() looks for one anywhere in a text.
_KTAP_PLAN = re.compile(r'^1\.\.(\d+)\s*$', re.M)
# The row of the results a plan announced that never came.
MISSING = 'missing result'


class _Document:
    """One KTAP document at the top level: from its version line (or its
    first plan or result line) to the next version line.  kunit_parser's
    rules, for what kselftest prints: the plan may come first or last (as
    run_vmtests.sh prints it); a result line the plan announced and that
    never came is a failure; results are numbered from 1; lines indented
    (the subtests of a nested document) belong to the result line that
    follows them, and '# '-prefixed lines are diagnostics."""

    def __init__(self):
        self.plan = None
        self.found = 0
        self.bailed = False
        self.misnumbered = None

    def close(self, cases):
        if self.misnumbered:
            cases.append(Case('KTAP numbering', 'error', self.misnumbered))
        if self.plan is None or self.bailed:
            return
        if self.found < self.plan:
            first = self.found + 1
            which = (f' {first}' if first == self.plan else
                     f's {first}..{self.plan}')
            cases.append(Case(MISSING + which, 'fail',
                              f'the plan announced {self.plan}, '
                              f'{self.found} came: a result line that never '
                              'came is a failure'))
        elif self.found > self.plan:
            cases.append(Case('results beyond the plan', 'error',
                              f'the plan announced {self.plan}, '
                              f'{self.found} came'))


def parse_ktap(text):
    """Top-level KTAP/TAP result lines as printed by kselftest.h and
    kselftest_harness.h, checked against their plan (_Document); 'Bail
    out!' becomes an error case.  Tests such as cow.c print '# [RUN]
    <what>' before a result whose description repeats ('No leak from
    parent into child'): the case is named '<what>: <description>'."""
    cases = []
    run = None
    doc = None
    for line in text.splitlines():
        line = line.rstrip('\r')
        if _KTAP_VERSION.match(line):
            if doc:
                doc.close(cases)
            doc = _Document()
            continue
        if line.startswith('# [RUN] '):
            run = line[8:].strip()
            continue
        plan = _KTAP_PLAN.match(line)
        if plan:
            if doc is None or doc.plan is not None:
                if doc:
                    doc.close(cases)
                doc = _Document()
            doc.plan = int(plan.group(1))
            continue
        m = _KTAP.match(line)
        if m:
            ok, num, desc, directive, why = m.groups()
            if doc is None:
                doc = _Document()
            doc.found += 1
            if int(num) != doc.found and not doc.misnumbered:
                doc.misnumbered = (f'expected result {doc.found}, found '
                                   f'{num}: {line[:80]}')
            desc = desc.strip() or f'#{num} {why or ""}'.strip()
            if run:
                desc = f'{run}: {desc}'
                run = None
            if directive == 'SKIP':
                res = 'skip'
            elif directive == 'XFAIL':
                res = 'xfail'
            else:
                res = 'pass' if ok == 'ok' else 'fail'
            cases.append(Case(desc, res, (why or '').strip()))
        elif line.startswith('Bail out!'):
            if doc:
                doc.bailed = True
            cases.append(Case('bail out', 'error', line[9:].strip()))
    if doc:
        doc.close(cases)
    return _dedup(cases)


_UFFD = re.compile(r'^Testing (.+?)\.\.\. (done|failed|skipped)'
                   r'(?: \[reason: (.*)\])?$')


_UFFD_STARTED = re.compile(r'^Testing (.+?)\.\.\.(.*)$')


def parse_uffd(text):
    """uffd-unit-tests: 'Testing <name>... done|failed|skipped [reason]'.
    A case that started but has no result (the test died or hung in it)
    fails with what followed its name.  Newer uffd-unit-tests (7.3)
    report in KTAP ('ok 1 events on anon'): then that is parsed."""
    if _KTAP_PLAN.search(text):
        return parse_ktap(text)
    res = {'done': 'pass', 'failed': 'fail', 'skipped': 'skip'}
    cases = []
    for line in text.splitlines():
        m = _UFFD.match(line.strip())
        if m:
            cases.append(Case(m.group(1), res[m.group(2)], m.group(3) or ''))
            continue
        m = _UFFD_STARTED.match(line.strip())
        if m:
            rest = m.group(2).strip()
            cases.append(Case(m.group(1), 'fail', rest[:200] or
                              'no result: the run ended in this case'))
    return _dedup(cases)


_DOTS = re.compile(r'^(.+?)\.\.\.+\s*(OK|Fail\b.*|Skip\b.*|Timeout)\s*$')


def parse_dots(text):
    """khugepaged style: '<what>... OK' / '... Fail: why' / '... Skip'.
    Cases are prefixed with the last 'Run test: <name> (<ctx>)' header."""
    cases = []
    prefix = ''
    for line in ANSI.sub('', text).splitlines():
        line = line.strip()
        m = re.match(r'^Run test: (.+)$', line)
        if m:
            prefix = m.group(1).strip() + ': '
            continue
        m = _DOTS.match(line)
        if not m:
            continue
        what, verdict = m.group(1).rstrip('.'), m.group(2)
        if verdict == 'OK':
            res = 'pass'
        elif verdict.startswith('Skip'):
            res = 'skip'
        else:
            res = 'fail'
        # Progress dots from the khugepaged wait loop stay out of names.
        cases.append(Case(prefix + what.rstrip('.'), res, verdict))
    return _dedup(cases)


def parse_exit(text):
    return []


_STRESS_ROW = re.compile(r'^stress-ng: metrc: \[\d+\] (\w[\w-]*)\s+(\d+)\s')
_STRESS_FAIL = re.compile(r'^stress-ng: fail:\s+\[\d+\] (?:(\w[\w-]*): )?(.*)$')


def parse_stressng(text):
    """stress-ng with --metrics-brief: a case per stressor of the metrics
    table, failed by any 'fail:' line naming it (a --verify error, a
    stressor that died), skipped when it counted no bogo op; a 'fail:'
    line that names no stressor of the table is a case of its own."""
    rows, fails, ops = [], {}, {}
    for line in text.splitlines():
        line = line.strip()
        m = _STRESS_ROW.match(line)
        if m and m.group(1) != 'stressor':
            rows.append(m.group(1))
            ops[m.group(1)] = int(m.group(2))
            continue
        m = _STRESS_FAIL.match(line)
        if m:
            fails.setdefault(m.group(1) or 'stress-ng', []).append(
                m.group(2))
    # A stressor that finished no operation in its time tested nothing:
    # a skip that says so, not a pass.
    cases = [Case(r, 'fail', '; '.join(fails[r])[:200]) if r in fails else
             Case(r, 'skip', '0 bogo ops: not one operation finished in '
                  'the time given') if not ops[r] else
             Case(r, 'pass', f'{ops[r]} bogo ops') for r in rows]
    cases += [Case(k, 'fail', '; '.join(v)[:200]) for k, v in fails.items()
              if k not in rows]
    return _dedup(cases)


_METRIC = re.compile(r'^#\s*METRIC\s+(\w+)\s+(-?[0-9.]+)\s+(\S+)\s*$')


def parse_metrics(text):
    """[(name, value, unit)] from '# METRIC <name> <value> <unit>' lines,
    the convention our tests use to hand figures to metrics.tsv."""
    out = []
    for line in text.splitlines():
        m = _METRIC.match(line.strip())
        if m:
            v = float(m.group(2))
            out.append((m.group(1), int(v) if v.is_integer() else v,
                        m.group(3)))
    return out


def median_of(regex, text):
    """Median of the numbers the regex's group matches in text, or None."""
    vals = sorted(float(m.group(1)) for m in re.finditer(regex, text))
    if not vals:
        return None
    mid = len(vals) // 2
    med = vals[mid] if len(vals) % 2 else (vals[mid - 1] + vals[mid]) / 2
    return int(med) if med.is_integer() else round(med, 2)


FORMATS = {
    'ktap': parse_ktap,
    'uffd': parse_uffd,
    'dots': parse_dots,
    'exit': parse_exit,
    'stressng': parse_stressng,
}

KSFT_SKIP = 4


def classify(test, rc, secs, output, timed_out=False, built=True):
    """All cases of one test run; the exit status adds a case whenever
    the parsed cases do not already account for it."""
    if not built:
        return [Case(test.name, 'error', 'binary not built')]
    cases = FORMATS[test.fmt](output)
    if timed_out:
        # The results the timeout cut off are the timeout's row, which
        # names where the test hung, not failures of their own.
        cases = [c for c in cases if not c.name.startswith(MISSING)]
        cases.append(Case(test.name, 'error', timeout_detail(test, output)))
    elif rc == KSFT_SKIP and not cases:
        reason = output.strip().splitlines()[-1] if output.strip() else ''
        cases.append(Case(test.name, 'skip', reason[:200]))
    elif rc not in (0, KSFT_SKIP) and not any(
            c.result in ('fail', 'error') for c in cases):
        cases.append(Case(test.name, 'fail', f'exit status {rc}'))
    elif rc == 0 and not cases:
        cases.append(Case(test.name, 'pass', 'exit status 0'))
    return cases


def judge(result, expected):
    """(recorded result, is_expected).  An expected fail is an xfail."""
    if expected is None:
        return result, result in ('pass', 'skip', 'xfail')
    if expected == 'fail' and result == 'fail':
        return 'xfail', True
    return result, result == expected


_HUNG = re.compile(rf'^{HUNG} pid=(\d+) state=(\S*) wchan=(\S*) ?(.*)$')


def hang_summary(text):
    """What a test that ran past its timeout was doing: its last line of
    output and, from the init's watchdog, each process left with its
    state and where it slept in the kernel."""
    lines = text.splitlines()
    cut = next((i for i, x in enumerate(lines)
                if x.startswith(TIMEOUT + ' ')), len(lines))
    last = [x.strip() for x in lines[:cut] if x.strip()][-1:]
    procs = []
    for x in lines[cut:]:
        m = _HUNG.match(x)
        if m:
            pid, state, wchan, cmd = m.groups()
            where = f' in {wchan}' if wchan not in ('', '0') else ''
            procs.append(f'{cmd.split(" ")[0].rsplit("/", 1)[-1] or pid}'
                         f'[{pid}] {state}{where}')
    out = f'last output: "{last[0][:120]}"' if last else 'no output'
    if procs:
        out += '; left: ' + ', '.join(procs)
    return out


def timeout_detail(test, text):
    """The row of a run the init's watchdog killed."""
    return f'timed out after {test.timeout} s; {hang_summary(text)}'


def split_runs(text, marker):
    """A retried test's output: ([(output, exit status) of each failed
    run], output of the last run).  Runs end at '<marker> <test> rc=N'."""
    parts = re.split(rf'^{re.escape(marker)} \S+ rc=(\d+)\r?$\n?', text,
                     flags=re.M)
    failed = [(parts[i], int(parts[i + 1]))
              for i in range(0, len(parts) - 1, 2)]
    return failed, parts[-1]
