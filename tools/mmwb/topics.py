# SPDX-License-Identifier: GPL-2.0
"""Topics: the series file groups its patches by topic, with comment
lines that quilt ignores:

    # topic faultaround tree mm-hotfixes prefix mm/filemap fixes yes
    0001-selftests-mm-add-a-fault-around-test-for-file-mappin.patch
    ...
    # topic anon-order tree mm-new prefix mm/memory fixes no
    0033-...

A topic is what goes to linux-mm as one series: the patches after its
line, up to the next topic line.  Its fields:

    tree    the tree it is meant for (mm-hotfixes: fixes for this
            release and stable; mm-new: the next merge window)
    prefix  the subject prefix of its cover letter (mm/filemap)
    fixes   yes when it carries fixes for stable (Cc: stable)
    needs   topics that must be applied first (optional, repeatable:
            'needs a needs b' or 'needs a,b')
    metrics prefixes of the report's metrics its cover letter quotes
            (optional, as needs)
    cc      files outside the topic's patches whose maintainers,
            reviewers and lists get a copy (optional, as needs): the
            users of what a fix changes (the drivers an mm/hmm.c fix
            reaches), as get_maintainer.pl -f names them

Its prose is Documentation/topics/<name>.rst.  The grouping is the one
source for 'mmwb mail' (one mbox per topic), the cover letters and the
order of the topic pages.  scripts/export rewrites the patch lines and
keeps each topic line in front of the same patch (matched by the name
without its number).
"""

import os
import re
from dataclasses import dataclass, field

from .common import StepError, EXIT_SERIES

FIELDS = ('tree', 'prefix', 'fixes', 'needs', 'metrics', 'cc')
# The fields that take lists: repeatable, comma separated.
LISTS = ('needs', 'metrics', 'cc')
_TOPIC = re.compile(r'^#\s*topic\s+(\S+)(.*)$')


@dataclass
class Topic:
    name: str
    tree: str
    prefix: str
    fixes: bool
    needs: list = field(default_factory=list)
    metrics: list = field(default_factory=list)
    cc: list = field(default_factory=list)
    patches: list = field(default_factory=list)
    line: str = ''


def slug(patch):
    """A patch file's name without its number: what stays when the
    series is renumbered."""
    return re.sub(r'^\d{4}-', '', os.path.basename(patch))


def _bad(where, msg):
    return StepError('series', where, msg, EXIT_SERIES)


def parse_line(line, where):
    m = _TOPIC.match(line.strip())
    words = m.group(2).split()
    if len(words) % 2:
        raise _bad(where, f'topic {m.group(1)}: fields come in pairs '
                   f'({", ".join(FIELDS)})')
    rec = {k: [] for k in LISTS}
    for k, v in zip(words[::2], words[1::2]):
        if k not in FIELDS:
            raise _bad(where, f'topic {m.group(1)}: unknown field {k!r} '
                       f'(known: {", ".join(FIELDS)})')
        if k in LISTS:
            rec[k] += [x for x in v.split(',') if x]
        elif k in rec:
            raise _bad(where, f'topic {m.group(1)}: {k} given twice')
        else:
            rec[k] = v
    missing = [k for k in FIELDS[:3] if k not in rec]
    if missing:
        raise _bad(where, f'topic {m.group(1)}: missing {", ".join(missing)}')
    if rec['fixes'] not in ('yes', 'no'):
        raise _bad(where, f'topic {m.group(1)}: fixes must be yes or no')
    return Topic(name=m.group(1), tree=rec['tree'], prefix=rec['prefix'],
                 fixes=rec['fixes'] == 'yes', needs=rec['needs'],
                 metrics=rec['metrics'], cc=rec['cc'], line=line.strip())


def read(series, patches_dir):
    """The topics of a series file, in order, each with its patch paths;
    [] for a series without topic lines (one posting)."""
    topics, loose = [], []
    with open(series) as f:
        lines = f.read().splitlines()
    for n, raw in enumerate(lines, 1):
        where = f'{series}:{n}'
        if _TOPIC.match(raw.strip()):
            t = parse_line(raw, where)
            if any(x.name == t.name for x in topics):
                raise _bad(where, f'topic {t.name} given twice')
            unknown = [x for x in t.needs
                       if x not in [y.name for y in topics]]
            if unknown:
                raise _bad(where, f'topic {t.name} needs {", ".join(unknown)}'
                           ', which is not a topic before it')
            topics.append(t)
            continue
        name = raw.split('#', 1)[0].strip().split()
        if not name:
            continue
        path = os.path.join(patches_dir, name[0])
        (topics[-1].patches if topics else loose).append(path)
    if topics and loose:
        raise _bad(series, f'{os.path.basename(loose[0])} comes before the '
                   'first topic line: every patch belongs to a topic')
    empty = [t.name for t in topics if not t.patches]
    if empty:
        raise _bad(series, f'topic {", ".join(empty)} has no patch')
    return topics


def topic_lines(series):
    """{slug of a topic's first patch: its topic line} of a series file,
    for export to keep (empty when there is no series file yet)."""
    if not os.path.exists(series):
        return {}
    out, pending = {}, None
    with open(series) as f:
        for raw in f.read().splitlines():
            if _TOPIC.match(raw.strip()):
                pending = raw.strip()
                continue
            name = raw.split('#', 1)[0].strip().split()
            if name and pending:
                out[slug(name[0])] = pending
                pending = None
    return out


def place(names, lines, series):
    """The series body: each kept topic line in front of the patch it
    stood before.  A topic whose first patch is gone is an error: where
    it starts now is for a person to say."""
    have = {slug(n) for n in names}
    lost = [f'{line.split()[2]} (first patch *{s})'
            for s, line in lines.items() if s not in have]
    if lost:
        raise _bad(series, 'the first patch of topic ' + ', '.join(lost)
                   + ' is not in the export: move its topic line in front '
                   'of a patch that is, then export again')
    out = []
    for n in names:
        if slug(n) in lines:
            out.append(lines[slug(n)])
        out.append(n)
    return out
