# SPDX-License-Identifier: GPL-2.0
"""The cover letter and the mailable series: the cover letter generated
from the topic pages, the plan, the last report and the mutants; the
series as one mbox threaded under it; and the b4 round trip of that
mbox (b4 am gives back exactly the commits of patches/)."""

import email.utils
import glob
import os
import re
import shutil
import subprocess
import tempfile
import textwrap

from .common import ROOT, EXIT_SERIES, StepError, git, log
from . import debug, guest, report, series as seriesmod, topics
from .mutants import load as load_mutants

TOPICS = os.path.join(ROOT, 'Documentation', 'topics')


def mail_dir(bench):
    """<report>/mail: the series mbox, the topic mboxes, b4's output."""
    return os.path.join(bench.report, 'mail')


def _rst_text(path):
    """The body of a topic page as plain text: title, then its terms."""
    lines = open(path).read().splitlines()
    out = []
    for line in lines:
        if line.startswith('..') or (line and set(line) == {'='}):
            continue
        out.append(line.replace('``', ''))
    return '\n'.join(out).strip()


def topic_text(name):
    """The prose of a topic of the series file: its page."""
    path = os.path.join(TOPICS, name + '.rst')
    if not os.path.exists(path):
        raise StepError('cover', path, f'topic {name} of the series file '
                        'has no page', EXIT_SERIES)
    return _rst_text(path)


def figures(prefixes, rep_dir):
    """The counts of the report whose metric names start with one of the
    prefixes (a topic's 'metrics' field), as a table; '' if none."""
    metrics = report.read_metrics(rep_dir)
    keep = [n for n in metrics if prefixes and n.startswith(tuple(prefixes))]
    if not keep:
        return ''
    w = max(len(n) for n in keep)
    rows = [f'  {"metric":<{w}} {"base":>6} {"series":>6}']
    rows += [f'  {n:<{w}} {metrics[n][0]:>6} {metrics[n][1]:>6}  '
             f'{metrics[n][2]}' for n in keep]
    return textwrap.fill(
        'Counts measured by the A/B run (the same plan on the base and '
        'the series kernel, in one run); timings and benchmark medians '
        'vary from run to run and are in the report, not here:', 72) + \
        '\n\n' + '\n'.join(rows)


def mutants_line(bench, topic):
    """The mutants of a topic, by the tests that kill them, indented to
    continue the page's last item ("Which test proves it"); '' if none."""
    every = [m for m in load_mutants(bench.mutants) if m.topic == topic]
    mine = [m for m in every if not m.open]
    if not every:
        return ''
    by = {}
    for m in mine:
        by.setdefault(', '.join(m.tests), []).append(m.name)
    which = (f'each of {len(mine)} mutants, copies' if len(mine) != 1
             else 'one mutant, a copy')
    text = (f'Its tests also fail on {which} '
            'of the code with a plausible bug put back (by the tests that '
            'catch them): ' + '; '.join(
                f'{k}: {", ".join(v)}' for k, v in by.items()) + '.')
    for m in every:
        if m.open:
            text += f'  Not caught yet: {m.name} ({m.why} {m.open})'
    return '\n' + textwrap.fill(text, 72, initial_indent='  ',
                                subsequent_indent='  ',
                                break_on_hyphens=False)


def cover_body(bench):
    """The cover letter text, from the topic pages, the plan, the report
    (bench.report) and the series: nothing in it is typed here per
    release."""
    rec = bench.base
    parts = [
        'This series carries five linux-mm review threads onto '
        f'{rec.title} as shipped by Debian ({rec.package} '
        f'{rec.version}): real fixes where something is still open, '
        'regression tests for what each thread was about, and nothing the '
        'tree already does under another name.  Each topic below says what '
        f'the thread asked, what {rec.upstream} has, what the series does '
        'and which test proves it.']
    parts = [textwrap.fill(x, 72) for x in parts]
    ts = topics.read(bench.series, bench.patches)
    for t in ts:
        parts.append(topic_text(t.name) + mutants_line(bench, t.name))
    table = figures([p for t in ts for p in t.metrics], bench.report)
    if table:
        parts.append(table)
    if rec.default:
        parts.append(debug.cover_paragraph(bench))
    # The differences the plan expects (its base expectations), not the
    # run's own list: a flaky test must not change the cover letter.
    plan = guest.load_plan(bench, rec.plan)
    diffs = [f'  {e.test}:{e.case}: {e.result} on base ({e.reason})'
             for e in plan.expects if e.kernel == 'base']
    diffs += [f'  {t}: runs on the {k} kernel only ({why})'
              for t, (k, why) in plan.only.items()]
    parts.append(textwrap.fill(
        f'Test plan: {os.path.relpath(rec.plan, ROOT)} (mm kselftests in a '
        'QEMU guest, base and series kernels side by side).  Where the '
        'plan expects the base kernel to differ:', 72) + '\n\n' + '\n'.join(diffs))
    if plan.skip:
        parts.append('Tests the plan lists but does not run:\n\n' +
                     '\n'.join(textwrap.fill(
                         f'{t}: {why}', 72, initial_indent='  ',
                         subsequent_indent='    ')
                         for t, why in plan.skip.items()))
    return '\n\n'.join(parts) + '\n'


def write_cover(bench, path=None):
    """patches/0000-cover-letter.patch (default bench.cover): git
    format-patch's own cover letter for the series applied in
    bench.tree, with the generated body."""
    tree, path = bench.tree, path or bench.cover
    tmp = tempfile.mkdtemp(prefix='mmwb-cover-')
    try:
        git(tree, *seriesmod.FORMAT_ARGS, '--cover-letter', '-o', tmp,
            f'{bench.tag}..{seriesmod.APPLY_BRANCH}', step='cover')
        text = open(os.path.join(tmp, seriesmod.COVER)).read()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    text = text.replace('*** SUBJECT HERE ***',
                        'mm: five review threads carried onto '
                        f'{bench.base.upstream}')
    text = text.replace('*** BLURB HERE ***', cover_body(bench).rstrip())
    # format-patch dates its cover letter now; use the tip's author date
    # so that the same series and report give the same file.
    date = git(tree, 'log', '-1', '--format=%aD', seriesmod.APPLY_BRANCH,
               step='cover')
    text = re.sub(r'^Date: .*$', f'Date: {date}', text, count=1,
                  flags=re.M)
    with open(path, 'w') as f:
        f.write(text)
    return path


def cover_in_sync(bench, rep):
    """The committed cover letter is what write_cover() makes now."""
    cover = bench.cover
    with tempfile.TemporaryDirectory() as tmp:
        fresh = write_cover(bench, os.path.join(tmp, 'cover'))
        same = (os.path.exists(cover) and
                open(fresh).read() == open(cover).read())
        if not same:
            os.makedirs(bench.report, exist_ok=True)
            shutil.copy(fresh, os.path.join(bench.report, seriesmod.COVER))
    rep.add('series', 'b4', 'cover letter in sync with the report',
            'pass' if same else 'fail', 0, same,
            '' if same else f'regenerate with scripts/mmwb mail; fresh copy '
            f'in {bench.report}/{seriesmod.COVER}')


def mbox(bench):
    """The mailable series as one mbox in mail_dir(bench): cover letter
    and patches threaded under it with stable Message-Ids, headers
    unfolded."""
    out_dir = mail_dir(bench)
    os.makedirs(out_dir, exist_ok=True)
    if not os.path.exists(bench.cover):
        raise StepError('mail', bench.cover, 'no cover letter: make it '
                        'with scripts/mmwb mail', EXIT_SERIES)
    files = [bench.cover] + seriesmod.patch_files(bench)
    path = os.path.join(out_dir, 'series.mbx')
    root = write_thread(path, files,
                        lambda i: f'<mm-series-{i:02d}@example.invalid>')
    return path, root


def write_thread(path, files, msgid, extra=''):
    """The patch files as one mbox, threaded under the first: headers
    unfolded, the extra header lines added to each message, Message-Id
    msgid(i), In-Reply-To and References the first one's.  Returns the
    Message-Id of the first."""
    root = msgid(0)
    with open(path, 'w') as out:
        for i, f in enumerate(files):
            with open(f) as fh:
                hdr, _, body = fh.read().partition('\n\n')
            hdr = re.sub(r'\n[ \t]+', ' ', hdr) + extra
            hdr += f'\nMessage-Id: {msgid(i)}'
            if i:
                hdr += f'\nIn-Reply-To: {root}\nReferences: {root}'
            out.write(hdr + '\n\n' + body.rstrip('\n') + '\n\n')
    return root


def _mailinfo(text):
    """(message, patch) as git am would see them."""
    with tempfile.TemporaryDirectory() as tmp:
        m, p = os.path.join(tmp, 'msg'), os.path.join(tmp, 'patch')
        r = subprocess.run(['git', 'mailinfo', m, p], input=text,
                           capture_output=True, text=True)
        return r.stdout + open(m).read(), open(p).read()


def _same_date(text):
    """git mailinfo's output with its Date line made canonical: b4 writes
    "04 Dec", git format-patch "4 Dec", and both are the same date."""
    def canon(m):
        try:
            when = email.utils.parsedate_to_datetime(m.group(1))
        except (TypeError, ValueError):
            return m.group(0)
        return 'Date: ' + when.isoformat()
    return re.sub(r'^Date: (.*)$', canon, text, count=1, flags=re.M)


def b4_roundtrip(bench, rep):
    """b4 am on the local mbox; its am-ready file must carry exactly the
    commits of patches/."""
    path, root = mbox(bench)
    out = os.path.join(mail_dir(bench), 'b4')
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    p = subprocess.run(['b4', '--offline-mode', 'am', '-m', path, '-o', out,
                        root], capture_output=True, text=True)
    ready = glob.glob(os.path.join(out, '*.mbx'))
    if p.returncode or not ready:
        rep.add('series', 'b4', 'b4 am', 'fail', 0, False,
                (p.stdout + p.stderr).strip().splitlines()[-1:])
        return
    msgs = re.split(r'^From [^\n]*\n', open(ready[0]).read(), flags=re.M)
    msgs = [m for m in msgs if m.strip()]
    want = seriesmod.patch_files(bench)
    ok = len(msgs) == len(want)
    rep.add('series', 'b4', 'b4 am: one am-ready message per patch',
            'pass' if ok else 'fail', 0, ok, f'{len(msgs)} of {len(want)}')
    for got, f in zip(msgs, want):
        # The blank line that separates mbox messages is not content.
        a = [_same_date(x).rstrip('\n') for x in _mailinfo(got)]
        b = [_same_date(x).rstrip('\n')
             for x in _mailinfo(open(f).read())]
        same = a == b
        rep.add('series', 'b4', os.path.basename(f),
                'pass' if same else 'fail', 0, same,
                '' if same else 'am-ready content differs from patches/')
    log(f'b4: {len(msgs)} am-ready patches in {ready[0]}')
