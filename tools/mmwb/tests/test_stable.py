# SPDX-License-Identifier: GPL-2.0
"""The form of a stable backport: the upstream line (a SHA-1 or the
pending form) and a subject of the upstream series."""

import os
import tempfile
import unittest

from mmwb import stable
from mmwb.common import StepError

PATCH = """\
From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001
From: mm-series <mm-series@example.invalid>
Subject: [PATCH {n}/2] {subject}

{first}

What was wrong.

Fixes: 123456789abc ("mm: a commit")
Cc: stable@vger.kernel.org
---
 mm/filemap.c | 1 +
"""


def patch(d, name, subject, first, n=1):
    path = os.path.join(d, name)
    with open(path, 'w') as f:
        f.write(PATCH.format(n=n, subject=subject, first=first))
    return path


class StableFormTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.d = self.tmp.name
        self.up = [patch(self.d, 'up1.patch',
                         'mm/filemap: fix the guard', 'The guard is off.'),
                   patch(self.d, 'up2.patch',
                         'lib/test_hmm: fix the mirror', 'The mirror.', 2)]

    def tearDown(self):
        self.tmp.cleanup()

    def test_pending_and_merged(self):
        files = [patch(self.d, 's1.patch', 'mm/filemap: fix the guard',
                       stable.PENDING),
                 patch(self.d, 's2.patch', 'lib/test_hmm: fix the mirror',
                       '[ Upstream commit ' + 'a' * 40 + ' ]', 2)]
        self.assertEqual(stable.check(files, self.up), 1)
        files[1] = patch(self.d, 's3.patch', 'lib/test_hmm: fix the mirror',
                         'commit ' + 'b' * 40 + ' upstream.', 2)
        self.assertEqual(stable.check(files, self.up), 1)

    def test_no_upstream_line(self):
        files = [patch(self.d, 's1.patch', 'mm/filemap: fix the guard',
                       'The guard is off.')]
        with self.assertRaises(StepError) as e:
            stable.check(files, self.up)
        self.assertIn('Upstream commit', e.exception.msg)
        self.assertEqual(e.exception.path, files[0])

    def test_short_sha_is_no_upstream_line(self):
        files = [patch(self.d, 's1.patch', 'mm/filemap: fix the guard',
                       '[ Upstream commit abcdef123456 ]')]
        with self.assertRaises(StepError):
            stable.check(files, self.up)

    def test_not_a_patch_of_the_series(self):
        files = [patch(self.d, 's1.patch', 'mm/gup: something else',
                       stable.PENDING)]
        with self.assertRaises(StepError) as e:
            stable.check(files, self.up)
        self.assertIn('no patch of the upstream series', e.exception.msg)

    def test_the_real_backport(self):
        """stable/6.12 backports patches of the series, in the form."""
        from mmwb import bases, series
        up = next(b for b in bases.all_bases() if b.default)
        for b in bases.all_bases():
            if b.default:
                continue
            stable.check(series.read_series(b.series, b.patches),
                         series.read_series(up.series, up.patches))


if __name__ == '__main__':
    unittest.main()
