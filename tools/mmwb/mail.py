# SPDX-License-Identifier: GPL-2.0
"""scripts/mmwb mail --as "Name <address>": the series the way linux-mm
takes it, one mbox per topic of the series file (topics.py), in
<build>/report/mail/topics/<topic>.mbx:

 - every patch authored and signed off by the sender (default: the
   kernel work tree's git identity).  The project identity is refused:
   submitting-patches.rst asks for a known identity, and the DCO is the
   sender's to give;
 - a cover letter of its own: the topic's page (Documentation/topics/),
   its figures from the report, its mutants, the topics it needs, and
   the base-commit and prerequisite-patch-id lines of git format-patch
   --base, which b4 reads;
 - To: the maintainers, Cc: the reviewers and lists that
   scripts/get_maintainer.pl names for the topic's patches.

Every mbox is checked before the command succeeds: 'b4 am' (offline)
makes an am-ready mbox of it, and that applies with 'git am' onto the
base after the topics it needs.  The work happens in a scratch worktree
of the kernel tree (<build>/mail-tree), never in the work tree itself."""

import glob
import os
import re
import shutil
import textwrap

from .common import ROOT, StepError, EXIT_USAGE, EXIT_SERIES, git, log, run
from . import cover, series as seriesmod, topics as topicsmod

PROJECT = ('mm-series', 'mm-series@example.invalid')
_WHO = re.compile(r'^\s*([^<>@]+?)\s*<([^<>@\s]+@[^<>@\s]+\.[^<>@\s]+)>\s*$')


def sender(arg, tree):
    """(name, address) of --as, or of the kernel work tree's identity."""
    if not arg:
        name = git(tree, 'config', 'user.name', check=False).stdout.strip()
        email = git(tree, 'config', 'user.email', check=False).stdout.strip()
        if not name or not email:
            raise StepError('mail', tree, "no sender: pass --as 'Name "
                            "<address>', or set user.name and user.email in "
                            'the kernel work tree', EXIT_USAGE)
        arg = f'{name} <{email}>'
    m = _WHO.match(arg)
    if not m:
        raise StepError('mail', '--as', f'{arg!r} is not "Name <address>"',
                        EXIT_USAGE)
    name, email = m.groups()
    if name == PROJECT[0] or email.lower() == PROJECT[1]:
        raise StepError('mail', '--as', f'{name} <{email}> is the project '
                        "identity, not a person: a patch is signed off by a "
                        'known identity (Documentation/process/submitting-'
                        "patches.rst); pass --as 'Your Name <you@example."
                        "org>'", EXIT_USAGE)
    return name, email


def _env(who):
    name, email = who
    return {'GIT_AUTHOR_NAME': name, 'GIT_AUTHOR_EMAIL': email,
            'GIT_COMMITTER_NAME': name, 'GIT_COMMITTER_EMAIL': email}


def out_dir(bench):
    return os.path.join(cover.mail_dir(bench), 'topics')


def scratch(bench):
    return bench.under('mail-tree')


def worktree(tree, rev, path):
    """A scratch worktree of tree at rev: kept between runs (checking out
    a kernel tree takes minutes), reset to rev, or made afresh when it
    is not a worktree of tree any more."""
    ok = os.path.isdir(path) and run(
        ['git', '-C', path, 'rev-parse', '--git-common-dir'], check=False,
        capture=True).returncode == 0
    if ok:
        run(['git', '-C', path, 'am', '--abort'], check=False, capture=True)
        git(path, 'checkout', '-q', '-f', '--detach', rev, step='mail')
        git(path, 'clean', '-q', '-fdx', step='mail')
        return path
    shutil.rmtree(path, ignore_errors=True)
    git(tree, 'worktree', 'prune', step='mail')
    git(tree, 'worktree', 'add', '-q', '--detach', path, rev, step='mail')
    return path


def am(wt, mbox, who, signoff=False, step='mail'):
    """git am an mbox in the scratch worktree, as the sender."""
    p = run(['git', '-C', wt, 'am', '-q', *(['--signoff'] if signoff else []),
             mbox], env=_env(who), check=False, capture=True, step=step)
    if p.returncode:
        run(['git', '-C', wt, 'am', '--abort'], check=False, capture=True)
        raise StepError(step, mbox, 'git am failed:\n' + p.stdout.strip(),
                        EXIT_SERIES)


def as_sender(patches, who, dest):
    """The patch files as one mbox with the sender as author."""
    with open(dest, 'w') as out:
        for p in patches:
            with open(p) as f:
                text = f.read()
            out.write(re.sub(r'^From: .*$', f'From: {who[0]} <{who[1]}>',
                             text, count=1, flags=re.M).rstrip('\n') + '\n\n')
    return dest


def title(name):
    """The topic's title: its page's heading without 'Topic N: '."""
    with open(os.path.join(cover.TOPICS, name + '.rst')) as f:
        lines = f.read().splitlines()
    for i, line in enumerate(lines[1:], 1):
        if line and set(line) == {'='} and lines[i - 1].strip() and \
                set(lines[i - 1]) != {'='}:
            return re.sub(r'^Topic \d+:\s*', '', lines[i - 1].strip())
    return name


def maintainers(wt, files, source_files=False):
    """(to, cc) from get_maintainer.pl on the patch files (or, with
    source_files, on files of the tree): maintainers To, everyone else
    (reviewers, lists) Cc."""
    p = run(['perl', os.path.join(wt, 'scripts', 'get_maintainer.pl'),
             '--no-git', '--no-git-fallback', '--no-substatus',
             *(['-f'] if source_files else []), *files],
            cwd=wt, check=False, capture=True, step='mail')
    to, cc = [], []
    for line in p.stdout.splitlines():
        m = re.match(r'^(.*?<[^>]+>|[^\s(]+@[^\s(]+)\s*\((.*)\)\s*$', line)
        if not m:
            continue
        addr, roles = m.group(1).strip(), m.group(2)
        (to if 'maintainer:' in roles else cc).append(addr)
    return to, [x for x in cc if x not in to]


def cover_text(bench, t):
    """The body of a topic's cover letter."""
    parts = [cover.topic_text(t.name)]
    figures = cover.figures(t.metrics, bench.report)
    if figures:
        parts.append(figures)
    muts = cover.mutants_line(bench, t.name)
    if muts:
        parts.append(muts.strip())
    if t.needs:
        parts.append(textwrap.fill(
            'This series applies on top of ' + ', '.join(
                f'"{title(n)}" (topic {n})' for n in t.needs) +
            ', posted beside it; the prerequisite-patch-id lines below '
            'name those patches.', 72))
    tree = {'mm-hotfixes': 'mm-hotfixes (fixes for this release and '
            'stable)', 'mm-new': 'mm-new (the next merge window)'}.get(
                t.tree, t.tree)
    rec = bench.base
    parts.append(textwrap.fill(
        f'Meant for {tree}.  Tested on {rec.title} ({rec.package} '
        f'{rec.version}) in a QEMU guest, the base and the series '
        'kernel side by side with the same test plan.', 72))
    return '\n\n'.join(parts)


def write_topic(bench, t, who, prereq_tip):
    """One topic's mbox, its patches applied in the scratch worktree on
    top of prereq_tip (the topics it needs); returns its path and the
    Message-Id of its cover letter."""
    wt, out_d = scratch(bench), out_dir(bench)
    tmp = os.path.join(out_d, '.work', t.name)
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    am(wt, as_sender(t.patches, who, os.path.join(tmp, 'in.mbx')), who,
       signoff=True)
    tip = git(wt, 'rev-parse', 'HEAD', step='mail')
    to, cc = maintainers(wt, t.patches)
    if t.cc:
        # The users of what the topic changes: all of them on Cc.
        more = [x for x in sum(maintainers(wt, t.cc, source_files=True), [])
                if x not in to and x not in cc]
        cc += more
    base_sha = git(wt, 'rev-parse', f'{bench.tag}^{{commit}}', step='mail')
    out = run(['git', '-C', wt, 'format-patch', '--numbered', '--no-signature',
               '--cover-letter', f'--base={base_sha}', '--subject-prefix=PATCH',
               '-o', os.path.join(tmp, 'out'), f'{prereq_tip}..HEAD'],
              env=_env(who), capture=True, step='mail').stdout.split()
    files = sorted(x for x in out if x.endswith('.patch'))
    with open(files[0]) as f:
        letter = f.read()
    letter = letter.replace('*** SUBJECT HERE ***',
                            f'{t.prefix}: {title(t.name)}')
    letter = letter.replace('*** BLURB HERE ***',
                            cover_text(bench, t).rstrip())
    with open(files[0], 'w') as f:
        f.write(letter)
    domain = who[1].split('@', 1)[1]
    extra = (('\nTo: ' + ', '.join(to)) if to else '') + \
        (('\nCc: ' + ', '.join(cc)) if cc else '')
    path = os.path.join(out_d, f'{t.name}.mbx')
    root = cover.write_thread(
        path, files, lambda i: f'<mmwb-{t.name}-{tip[:12]}-{i:02d}@{domain}>',
        extra)
    return path, root


def check_topic(bench, t, path, root, ready, who, by_name):
    """b4 am offline, then git am onto the base after what it needs."""
    d = os.path.join(out_dir(bench), '.work', t.name, 'b4')
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    p = run(['b4', '--offline-mode', 'am', '-m', path, '-o', d, root],
            check=False, capture=True, step='mail')
    got = glob.glob(os.path.join(d, '*.mbx'))
    if p.returncode or not got:
        raise StepError('mail', path, 'b4 am made no am-ready mbox:\n'
                        + p.stdout.strip()[-2000:], EXIT_SERIES)
    ready[t.name] = got[0]
    wt = worktree(bench.tree, bench.tag, scratch(bench) + '-check')
    for n in [*closure(t, by_name), t.name]:
        am(wt, ready[n], who)
    with open(got[0]) as f:
        n = len(re.findall(r'^Subject: \[PATCH', f.read(), re.M))
    if n != len(t.patches):
        raise StepError('mail', got[0], f'b4 am kept {n} of the '
                        f'{len(t.patches)} patches of topic {t.name}',
                        EXIT_SERIES)
    return n


def closure(t, by_name):
    """The topics t needs, transitively, in series order."""
    out = []

    def visit(name):
        for n in by_name[name].needs:
            if n not in out:
                visit(n)
                out.append(n)
    visit(t.name)
    return [n for n in by_name if n in out]


def main(bench, a):
    tree = bench.tree
    who = sender(a.as_, tree)
    seriesmod.apply(bench)
    topics = topicsmod.read(bench.series, bench.patches)
    if not topics:
        raise StepError('mail', bench.series, 'the series file has no '
                        '"# topic" line (tools/mmwb/topics.py)', EXIT_USAGE)
    by_name = {t.name: t for t in topics}
    out, wt = out_dir(bench), scratch(bench)
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(os.path.join(out, '.work'))
    worktree(tree, bench.tag, wt)
    ready = {}
    for t in topics:
        # The topics it needs, applied as this sender posts them.
        git(wt, 'checkout', '-q', '--detach', bench.tag, step='mail')
        for n in closure(t, by_name):
            am(wt, as_sender(by_name[n].patches, who,
                             os.path.join(out, '.work', 'needs.mbx')),
               who, signoff=True)
        prereq = git(wt, 'rev-parse', 'HEAD', step='mail')
        path, root = write_topic(bench, t, who, prereq)
        n = check_topic(bench, t, path, root, ready, who, by_name)
        log(f'mail: {t.name}: {os.path.relpath(path, ROOT)}: {n} '
            f'patch(es), b4 am and git am onto {bench.tag}'
            + (f' after {", ".join(closure(t, by_name))}'
               if t.needs else '') + ': ok')
    return out
