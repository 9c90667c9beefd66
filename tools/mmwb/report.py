# SPDX-License-Identifier: GPL-2.0
"""results.tsv, metrics.tsv, results.xml (JUnit) and the human summary,
base vs series.

results.tsv is the report whole: one row per case with its result, the
seconds, whether the plan expected that result, and the detail (the
test's reason for a skip, the plan's reason for an expected failure,
what went wrong otherwise).  read_results() reads it back, and
read_metrics() metrics.tsv; results.xml says the same for tools that
read JUnit."""

import os
import re
import sys
import xml.etree.ElementTree as ET
from collections import OrderedDict, defaultdict
from dataclasses import dataclass

from .common import EXIT_UNEXPECTED, EXIT_USAGE, StepError, log

KERNELS = ('base', 'series')


@dataclass
class Row:
    kernel: str
    suite: str
    case: str
    result: str
    seconds: float
    expected: bool
    detail: str


COLUMNS = ('kernel', 'suite', 'case', 'result', 'seconds', 'expected',
           'detail')


def read_results(path):
    """The rows of a results.tsv, as Report.write() wrote them.  A file of
    the five columns it had before 'expected' and 'detail' reads with
    every row expected and no detail."""
    rows = []
    with open(path) as f:
        lines = f.read().splitlines()
    for line in lines[1:]:
        w = line.split('\t')
        if len(w) < 5:
            continue
        expected = w[5] != 'no' if len(w) > 5 else True
        rows.append(Row(w[0], w[1], w[2], w[3], float(w[4] or 0), expected,
                        w[6] if len(w) > 6 else ''))
    return rows


def read_metrics(rep_dir):
    """{metric: (base, series, unit)} of a report's metrics.tsv (the
    folder rep_dir): what Report.write() wrote, for the cover letter."""
    mpath = os.path.join(rep_dir, 'metrics.tsv')
    if not os.path.exists(mpath):
        raise StepError('report', mpath, 'no report yet: run scripts/run '
                        'or scripts/test first', EXIT_USAGE)
    with open(mpath) as f:
        lines = f.read().splitlines()
    head = lines[0].split('\t')
    metrics = {}
    for line in lines[1:]:
        f = dict(zip(head, line.split('\t')))
        metrics[f['metric']] = (f.get('base', '-'), f.get('series', '-'),
                                f['unit'])
    return metrics


_NOT_XML = re.compile('[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd'
                      '\U00010000-\U0010ffff]')


def _xml(text):
    """text without the characters XML 1.0 does not allow (an escape
    sequence of a test's colours, a NUL)."""
    return _NOT_XML.sub('?', text)


def junit(rows):
    """The rows as JUnit XML (an ElementTree element): one testsuite per
    kernel and suite, a case that did not give the plan's result is a
    failure, a skip is skipped, an expected failure passes with the
    plan's reason as its output."""
    top = ET.Element('testsuites', name='mmwb')
    suites = OrderedDict()
    for r in rows:
        key = (r.kernel, r.suite)
        if key not in suites:
            suites[key] = ET.SubElement(top, 'testsuite',
                                        name=f'{r.kernel}.{r.suite}')
        tc = ET.SubElement(suites[key], 'testcase', name=_xml(r.case),
                           classname=f'{r.kernel}.{r.suite}',
                           time=f'{r.seconds:.2f}')
        if not r.expected:
            ET.SubElement(tc, 'failure', message=f'{r.result} (not what '
                          'the plan expects)').text = _xml(r.detail)
        elif r.result == 'skip':
            ET.SubElement(tc, 'skipped', message=_xml(r.detail))
        elif r.detail:
            ET.SubElement(tc, 'system-out').text = \
                _xml(f'{r.result}: {r.detail}')
    for el in [top, *suites.values()]:
        cases = el.iter('testcase')
        cases = list(cases)
        el.set('tests', str(len(cases)))
        el.set('failures', str(sum(c.find('failure') is not None
                                   for c in cases)))
        el.set('skipped', str(sum(c.find('skipped') is not None
                                  for c in cases)))
        el.set('time', f'{sum(float(c.get("time")) for c in cases):.2f}')
    return top


def tsv_line(r):
    """A row as a line of results.tsv (read_results() reads it back)."""
    return (f'{r.kernel}\t{r.suite}\t{r.case}\t{r.result}\t'
            f'{r.seconds:.2f}\t{"yes" if r.expected else "no"}\t{r.detail}')


def _clean(s):
    return ' '.join(str(s).replace('\t', ' ').split())


class Report:
    def __init__(self):
        self.rows = []
        self.metrics = OrderedDict()

    def add(self, kernel, suite, case, result, seconds=0.0, expected=True,
            detail=''):
        self.rows.append(Row(kernel, suite, _clean(case), result,
                             float(seconds or 0), expected, _clean(detail)))

    def metric(self, name, kernel, value, unit):
        m = self.metrics.setdefault(name, {'unit': unit})
        m[kernel] = value

    def merge(self, other):
        """Append another report's rows and metrics (in that order)."""
        self.rows.extend(other.rows)
        for name, m in other.metrics.items():
            for k, v in m.items():
                if k == 'unit':
                    continue
                self.metric(name, k, v, m['unit'])

    def ratio(self, name):
        """Add <name>_ratio = series / base, where both are known."""
        m = self.metrics.get(name, {})
        if m.get('base') and m.get('series') is not None:
            self.metric(f'{name}_ratio', 'series',
                        round(m['series'] / m['base'], 3), 'x')

    def kernels(self):
        """base and series, then any other kernel seen ('try', 'debug')."""
        seen = [r.kernel for r in self.rows]
        for m in self.metrics.values():
            seen += [k for k in m if k != 'unit']
        extra = [k for k in OrderedDict.fromkeys(seen) if k not in KERNELS]
        return list(KERNELS) + extra

    def unexpected(self):
        return [r for r in self.rows if not r.expected]

    def counts(self, kernel='series'):
        c = defaultdict(int)
        for r in self.rows:
            if r.kernel == kernel:
                c[r.result] += 1
        return (c['pass'] + c['xfail'], c['fail'] + c['error'], c['skip'])

    def write(self, outdir):
        os.makedirs(outdir, exist_ok=True)
        with open(os.path.join(outdir, 'results.tsv'), 'w') as f:
            f.write('\t'.join(COLUMNS) + '\n')
            for r in self.rows:
                f.write(tsv_line(r) + '\n')
        tree = ET.ElementTree(junit(self.rows))
        ET.indent(tree)
        tree.write(os.path.join(outdir, 'results.xml'), encoding='utf-8',
                   xml_declaration=True)
        ks = self.kernels()
        with open(os.path.join(outdir, 'metrics.tsv'), 'w') as f:
            f.write('metric\t' + '\t'.join(ks) + '\tunit\n')
            for name, m in self.metrics.items():
                vals = [_fmt(m.get(k)) for k in ks]
                f.write(f'{name}\t' + '\t'.join(vals) + f'\t{m["unit"]}\n')
        text = self.summary()
        with open(os.path.join(outdir, 'summary.txt'), 'w') as f:
            f.write(text)
        return text

    def summary(self):
        ks = self.kernels()
        per = OrderedDict()
        for r in self.rows:
            per.setdefault(r.suite, {k: defaultdict(int) for k in ks})
            per[r.suite][r.kernel][r.result] += 1
        out = ['A/B summary (pass/fail/skip/xfail/error); '
               "'*' marks a suite whose results differ between base and "
               'series', '']
        out.append(f'{"suite":<24} ' + ' '.join(f'{k:<22}' for k in ks))
        for suite, counts in per.items():
            cells = []
            for k in ks:
                c = counts[k]
                if sum(c.values()):
                    cells.append('/'.join(str(c[x]) for x in
                                          ('pass', 'fail', 'skip', 'xfail',
                                           'error')))
                else:
                    cells.append('-')
            mark = ('*' if cells[0] != cells[1] and '-' not in cells[:2]
                    else ' ')
            out.append(f'{suite:<24} ' + ' '.join(f'{c:<22}' for c in cells)
                       + mark)
        # Cases whose result differs between the kernels.
        res = defaultdict(dict)
        for r in self.rows:
            res[(r.suite, r.case)][r.kernel] = r.result
        diff = [(s, c, v) for (s, c), v in res.items()
                if 'base' in v and 'series' in v and v['base'] != v['series']]
        if diff:
            out += ['', 'Differences base -> series:']
            for s, c, v in diff:
                out.append(f'  * {s}: {c}: {v["base"]} -> {v["series"]}')
        if self.metrics:
            w = max(len(n) for n in self.metrics)
            out += ['', f'{"metric":<{w}} ' +
                    ' '.join(f'{k:>12}' for k in ks) + '  unit']
            for name, m in self.metrics.items():
                out.append(f'{name:<{w}} ' +
                           ' '.join(f'{_fmt(m.get(k)):>12}' for k in ks) +
                           f'  {m["unit"]}')
        bad = self.unexpected()
        out += ['', f'Unexpected results: {len(bad)}']
        for r in bad:
            out.append(f'  ! {r.kernel} {r.suite}: {r.case}: {r.result}'
                       + (f' ({r.detail})' if r.detail else ''))
        return '\n'.join(out) + '\n'


def _fmt(v):
    if v is None:
        return '-'
    if isinstance(v, float):
        return f'{v:.1f}'
    return str(v)


def finish(rep, errors, outdir, extra_code=0, kernel='series'):
    """Write the report into outdir, print it, and exit with the right
    code: the first guest or stage error's, 1 for a result the plan does
    not expect, else extra_code."""
    text = rep.write(outdir)
    print(text)
    log(f'report: {outdir}/results.tsv, results.xml, metrics.tsv, '
        'summary.txt')
    for e in errors:
        print(str(e), file=sys.stderr)
    p, f, s = rep.counts(kernel)
    print(f'{p} passed, {f} failed, {s} skipped', flush=True)
    if errors:
        sys.exit(errors[0].code)
    if rep.unexpected():
        sys.exit(EXIT_UNEXPECTED)
    sys.exit(extra_code)
