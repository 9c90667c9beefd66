# SPDX-License-Identifier: GPL-2.0
"""The form of a stable backport (Documentation/process/
stable-kernel-rules.rst, option 3): each patch of a base that is not the
default one backports a patch of the default base's series, and its
message opens with the upstream commit:

    [ Upstream commit <40 hex digits> ]

or 'commit <40 hex digits> upstream.'.  Until the fix is merged the
SHA-1 is not known; the line then reads

    [ Upstream commit pending: posted to linux-mm, not yet merged ]

and must be filled in before the backport is sent to stable.  A note
'[ 6.12: ... ]' says what the backport changes.
"""

import email
import email.policy
import re

from .common import StepError, EXIT_SERIES

PENDING = '[ Upstream commit pending: posted to linux-mm, not yet merged ]'
_UPSTREAM = re.compile(r'^(\[ Upstream commit [0-9a-f]{40} \]|'
                       r'commit [0-9a-f]{40} upstream\.)$')


def _read(path):
    with open(path, 'rb') as f:
        return email.message_from_binary_file(f, policy=email.policy.default)


def subject(path, msg=None):
    """The subject of a patch file, without its [PATCH n/m] prefix."""
    msg = _read(path) if msg is None else msg
    s = ' '.join(str(msg['Subject'] or '').split())
    return re.sub(r'^\[[^]]*\]\s*', '', s)


def body_first_line(path, msg=None):
    msg = _read(path) if msg is None else msg
    text = msg.get_body(('plain',)).get_content()
    return next((x.strip() for x in text.splitlines() if x.strip()), '')


def check(files, upstream_files):
    """Every backport names its upstream commit (or says it is pending)
    and has the subject of a patch of the upstream series.  Returns the
    number of pending ones; raises StepError on the first bad patch."""
    subjects = {subject(p) for p in upstream_files}
    pending = 0
    for p in files:
        msg = _read(p)
        first = body_first_line(p, msg)
        if first == PENDING:
            pending += 1
        elif not _UPSTREAM.match(first):
            raise StepError('stable', p, 'the message must open with '
                            '"[ Upstream commit <sha1> ]" or, until merged, '
                            f'"{PENDING}"; it opens with "{first}"',
                            EXIT_SERIES)
        subj = subject(p, msg)
        if subj not in subjects:
            raise StepError('stable', p, f'"{subj}" is no patch of '
                            'the upstream series: a stable backport '
                            'backports one of them', EXIT_SERIES)
    return pending
