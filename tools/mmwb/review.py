# SPDX-License-Identifier: GPL-2.0
"""What a reviewer runs before reading: MAINTAINERS.frag against the base
MAINTAINERS, get_maintainer.pl on every patch, kernel-doc on the touched
files (base against series), the b4 round trip of the mailable series,
and the generated cover letter."""

import email.utils
import glob
import os
import re
import shutil
import subprocess
import tempfile
import textwrap
import time

from .common import (BASE, BUILD, ROOT, EXIT_USAGE, StepError, git, log,
                     run)
from . import base, series as seriesmod
from .report import REPORT

FRAG = os.path.join(ROOT, 'MAINTAINERS.frag')
TOPICS = os.path.join(ROOT, 'Documentation', 'topics')
MAIL = os.path.join(REPORT, 'mail')
COVER = os.path.join(seriesmod.PATCHES, seriesmod.COVER)


def _maintainers_with_frag(tree, tmp):
    path = os.path.join(tmp, 'MAINTAINERS')
    with open(path, 'w') as f:
        f.write(open(os.path.join(tree, 'MAINTAINERS')).read())
        f.write('\n' + open(FRAG).read())
    return path


def _added_files(patches):
    out = []
    for p in patches:
        text = open(p, errors='replace').read()
        out += re.findall(r'^--- /dev/null\n\+\+\+ b/(\S+)$', text, re.M)
    return out


def maintainers(rep, tree=base.TREE):
    """The fragment adds no self-test complaint, and every file the series
    adds is covered by some entry."""
    patches = seriesmod.read_series()
    gm = os.path.join(tree, 'scripts', 'get_maintainer.pl')
    with tempfile.TemporaryDirectory() as tmp:
        merged = _maintainers_with_frag(tree, tmp)

        def selftest(mpath):
            p = subprocess.run(['perl', gm, f'--mpath={mpath}',
                                '--self-test=patterns,sections'],
                               cwd=tree, capture_output=True, text=True)
            # Drop the line numbers: the fragment moves nothing else.
            return {re.sub(r':\d+:', ':', x)
                    for x in (p.stdout + p.stderr).splitlines()}
        new = selftest(merged) - selftest(os.path.join(tree, 'MAINTAINERS'))
        rep.add('series', 'maintainers', 'MAINTAINERS.frag self-test',
                'fail' if new else 'pass', 0, not new,
                '; '.join(sorted(new)[:3]))
        for f in _added_files(patches):
            p = subprocess.run(['perl', gm, f'--mpath={merged}', '--no-git',
                                '--no-git-fallback', '--no-rolestats',
                                '-f', f], cwd=tree, capture_output=True,
                               text=True)
            ok = bool(p.stdout.strip())
            rep.add('series', 'maintainers', f'covers {f}',
                    'pass' if ok else 'fail', 0, ok,
                    ', '.join(p.stdout.split('\n')[:2]))
        os.makedirs(REPORT, exist_ok=True)
        with open(os.path.join(REPORT, 'get_maintainer.txt'), 'w') as out:
            for p in patches:
                r = subprocess.run(['perl', gm, f'--mpath={merged}',
                                    '--no-git', '--no-git-fallback', p],
                                   cwd=tree, capture_output=True, text=True)
                name = os.path.basename(p)
                out.write(f'== {name}\n{r.stdout}\n')
                ok = r.returncode == 0 and bool(r.stdout.strip())
                rep.add('series', 'get_maintainer', name,
                        'pass' if ok else 'fail', 0, ok,
                        '; '.join(r.stdout.strip().splitlines()[:2]))


def kernel_doc(rep, tree=base.TREE):
    """scripts/kernel-doc -none on each touched kernel file, base blob
    against series blob: no new warnings."""
    files = {path for p in seriesmod.read_series()
             for path in seriesmod.touched_paths(p)
             if path.endswith(('.c', '.h')) and not path.startswith('tools/')}
    kd = os.path.join(tree, 'scripts', 'kernel-doc')

    def warnings(rev, path, tmp):
        blob = subprocess.run(['git', '-C', tree, 'show', f'{rev}:{path}'],
                              capture_output=True)
        if blob.returncode:
            return set()
        f = os.path.join(tmp, path.replace('/', '_'))
        with open(f, 'wb') as fh:
            fh.write(blob.stdout)
        p = subprocess.run(['perl', kd, '-none', f], capture_output=True,
                           text=True)
        return {re.sub(r'^\S+?:\d+: ', '', x)
                for x in p.stderr.splitlines() if 'warning' in x.lower()}
    counts = {'base': 0, 'series': 0}
    with tempfile.TemporaryDirectory() as tmp:
        for path in sorted(files):
            ser = warnings(seriesmod.APPLY_BRANCH, path, tmp)
            bas = warnings(base.BASE_TAG, path, tmp)
            counts['base'] += len(bas)
            counts['series'] += len(ser)
            new = ser - bas
            rep.add('series', 'kernel-doc', path, 'fail' if new else 'pass',
                    0, not new, '; '.join(sorted(new)[:3]))
    for k, v in counts.items():
        rep.metric('kernel_doc_warnings', k, v, 'warnings')


def kernel_rst(rep, tree=base.TREE):
    """Kernel Documentation/*.rst the series touches: docutils with
    warnings as errors on the series blob (a full 'make htmldocs' needs
    Sphinx and takes too long for the test command)."""
    with tempfile.TemporaryDirectory() as tmp:
        for path in _touched_rst():
            blob = subprocess.run(['git', '-C', tree, 'show',
                                   f'{seriesmod.APPLY_BRANCH}:{path}'],
                                  capture_output=True)
            f = os.path.join(tmp, os.path.basename(path))
            with open(f, 'wb') as fh:
                fh.write(blob.stdout)
            p = subprocess.run(['rst2html', '--halt=warning',
                                '--report=warning', f, os.devnull],
                               capture_output=True, text=True)
            ok = p.returncode == 0
            rep.add('series', 'kernel-doc', path, 'pass' if ok else 'fail',
                    0, ok, '' if ok else p.stderr.strip()[:200])


def _touched_rst():
    return sorted({path for p in seriesmod.read_series()
                   for path in seriesmod.touched_paths(p)
                   if re.match(r'Documentation/\S+\.rst$', path)})


_DOCWARN = re.compile(r'^(?:\S*?/)?(Documentation/\S+?):(?:\d+:)? '
                      r'(WARNING|ERROR|CRITICAL): (.*)$')


def parse_sphinx(text):
    """{'Documentation/x.rst: WARNING: msg'} from Sphinx output, without
    the tree prefix and the line number."""
    out = set()
    for line in text.splitlines():
        m = _DOCWARN.match(line.strip())
        if m:
            out.add(f'{m.group(1)}: {m.group(2)}: {m.group(3)}')
    return out


def htmldocs(rep, tree=base.TREE):
    """make htmldocs for the Documentation/ directories the series
    touches (SPHINXDIRS), on the base and on the series; a warning about
    a touched file that the base build does not have fails."""
    files = _touched_rst()
    if not files:
        rep.add('series', 'htmldocs', '(no rst touched)', 'skip', 0, True,
                'the series touches no Documentation/*.rst')
        return
    dirs = sorted({f.split('/')[1] for f in files if f.count('/') > 1})
    found, rcs = {}, {}
    t0 = time.monotonic()
    try:
        for label, rev in (('base', base.BASE_TAG),
                           ('series', seriesmod.APPLY_BRANCH)):
            git(tree, 'checkout', '-q', '--detach', rev, step='htmldocs')
            out = os.path.join(BUILD, 'htmldocs', label)
            log(f'htmldocs: {label}: SPHINXDIRS={" ".join(dirs)}')
            p = run(['make', '-s', '-C', tree, f'O={out}',
                     f'SPHINXDIRS={" ".join(dirs)}', 'htmldocs'],
                    check=False, capture=True, step='htmldocs')
            with open(os.path.join(BUILD, 'htmldocs', f'{label}.log'),
                      'w') as f:
                f.write(p.stdout)
            found[label], rcs[label] = parse_sphinx(p.stdout), p.returncode
    finally:
        git(tree, 'checkout', '-q', seriesmod.APPLY_BRANCH, step='htmldocs')
    secs = time.monotonic() - t0
    rep.metric('htmldocs_seconds', 'series', round(secs, 1), 's')
    # Only warnings about the touched files count, per kernel and file.
    about = {k: {path: {w for w in v if w.split(':')[0] == path}
                 for path in files} for k, v in found.items()}
    for k, per in about.items():
        rep.metric('htmldocs_warnings_touched_files', k,
                   sum(map(len, per.values())), 'warnings')
    for path in files:
        mine = sorted(about['series'][path] - about['base'][path])
        ok = not mine and rcs['series'] == 0
        rep.add('series', 'htmldocs', path, 'pass' if ok else 'fail',
                secs / len(files), ok, '; '.join(mine[:3]) or
                (f'make htmldocs exited {rcs["series"]}' if not ok else
                 f'{len(about["series"][path])} warning(s) about it, none '
                 'new against base'))


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
        raise StepError('cover', seriesmod.SERIES, f'topic {name} has no '
                        f'page {os.path.relpath(path, ROOT)}', 5)
    return _rst_text(path)


def read_metrics(rep_dir=REPORT):
    """{metric: (base, series, unit)} of a report's metrics.tsv."""
    mpath = os.path.join(rep_dir, 'metrics.tsv')
    if not os.path.exists(mpath):
        raise StepError('cover', mpath, 'no report yet: run scripts/run '
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


def figures(prefixes, rep_dir=REPORT):
    """The counts of the report whose metric names start with one of the
    prefixes (a topic's 'metrics' field), as a table; '' if none."""
    metrics = read_metrics(rep_dir)
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


def mutants_line(topic):
    """The mutants of a topic, by the tests that kill them, indented to
    continue the page's last item ("Which test proves it"); '' if none."""
    from .mutants import load as load_mutants
    every = [m for m in load_mutants(BASE.mutants) if m.topic == topic]
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


def cover_body(rep_dir=REPORT, tree=base.TREE):
    """The cover letter text, from the topic pages, the plan, the report
    and the series: nothing in it is typed here per release."""
    from . import topics
    parts = [
        'This series carries five linux-mm review threads onto '
        f'{BASE.title} as shipped by Debian ({BASE.package} '
        f'{BASE.version}): real fixes where something is still open, '
        'regression tests for what each thread was about, and nothing the '
        'tree already does under another name.  Each topic below says what '
        f'the thread asked, what {BASE.upstream} has, what the series does '
        'and which test proves it.']
    parts = [textwrap.fill(x, 72) for x in parts]
    ts = topics.read(seriesmod.SERIES, seriesmod.PATCHES)
    for t in ts:
        parts.append(topic_text(t.name) + mutants_line(t.name))
    table = figures([p for t in ts for p in t.metrics], rep_dir)
    if table:
        parts.append(table)
    if BASE.default:
        from . import debug
        parts.append(debug.cover_paragraph())
    # The differences the plan expects (its base expectations), not the
    # run's own list: a flaky test must not change the cover letter.
    from . import ab
    plan = ab.load_plan(tree=tree)
    diffs = [f'  {e.test}:{e.case}: {e.result} on base ({e.reason})'
             for e in plan.expects if e.kernel == 'base']
    diffs += [f'  {t}: runs on the {k} kernel only ({why})'
              for t, (k, why) in plan.only.items()]
    parts.append(textwrap.fill(
        f'Test plan: {os.path.relpath(BASE.plan, ROOT)} (mm kselftests in a QEMU guest, base '
        'and series kernels side by side).  Where the plan expects the base '
        'kernel to differ:', 72) + '\n\n' + '\n'.join(diffs))
    if plan.skip:
        parts.append('Tests the plan lists but does not run:\n\n' +
                     '\n'.join(textwrap.fill(
                         f'{t}: {why}', 72, initial_indent='  ',
                         subsequent_indent='    ')
                         for t, why in plan.skip.items()))
    return '\n\n'.join(parts) + '\n'


def write_cover(tree=base.TREE, path=COVER):
    """patches/0000-cover-letter.patch: git format-patch's own cover
    letter for the applied series, with the generated body."""
    tmp = tempfile.mkdtemp(prefix='mmwb-cover-')
    try:
        git(tree, *seriesmod.FORMAT_ARGS, '--cover-letter', '-o', tmp,
            f'{base.BASE_TAG}..{seriesmod.APPLY_BRANCH}', step='cover')
        text = open(os.path.join(tmp, seriesmod.COVER)).read()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    text = text.replace('*** SUBJECT HERE ***',
                        'mm: five review threads carried onto '
                        f'{BASE.upstream}')
    text = text.replace('*** BLURB HERE ***', cover_body(tree=tree).rstrip())
    # format-patch dates its cover letter now; use the tip's author date
    # so that the same series and report give the same file.
    date = git(tree, 'log', '-1', '--format=%aD', seriesmod.APPLY_BRANCH,
               step='cover')
    text = re.sub(r'^Date: .*$', f'Date: {date}', text, count=1,
                  flags=re.M)
    with open(path, 'w') as f:
        f.write(text)
    return path


def cover_in_sync(rep, tree=base.TREE):
    """The committed cover letter is what write_cover() makes now."""
    with tempfile.TemporaryDirectory() as tmp:
        fresh = write_cover(tree, os.path.join(tmp, 'cover'))
        same = (os.path.exists(COVER) and
                open(fresh).read() == open(COVER).read())
        if not same:
            shutil.copy(fresh, os.path.join(REPORT, seriesmod.COVER))
    rep.add('series', 'b4', 'cover letter in sync with the report',
            'pass' if same else 'fail', 0, same,
            '' if same else f'regenerate with scripts/mmwb mail; fresh copy '
            f'in {REPORT}/{seriesmod.COVER}')


def mbox(out_dir=MAIL):
    """The mailable series as one mbox: cover letter and patches threaded
    under it with stable Message-Ids, headers unfolded."""
    os.makedirs(out_dir, exist_ok=True)
    if not os.path.exists(COVER):
        raise StepError('mail', COVER, 'no cover letter: make it with '
                        'scripts/mmwb mail', 5)
    files = [COVER] + seriesmod.read_series()
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


def b4_roundtrip(rep):
    """b4 am on the local mbox; its am-ready file must carry exactly the
    commits of patches/."""
    path, root = mbox()
    out = os.path.join(MAIL, 'b4')
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
    want = seriesmod.read_series()
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
