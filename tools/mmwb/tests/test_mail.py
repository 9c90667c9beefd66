# SPDX-License-Identifier: GPL-2.0
"""mmwb mail: the sender (the project identity refused), and a topic
with a prerequisite going through format-patch --base, b4 am and git am
on a small git tree."""

import os
import shutil
import subprocess
import tempfile
import unittest
from unittest import mock

import dataclasses

from mmwb import bases, bench, mail, topics
from mmwb.common import StepError


def git(tree, *args):
    return subprocess.run(['git', '-C', tree, '-c', 'user.name=t', '-c',
                           'user.email=t@t.invalid', *args], check=True,
                          capture_output=True, text=True).stdout


class SenderTest(unittest.TestCase):
    def test_refuses_the_project_identity(self):
        for who in ('mm-series <someone@example.org>',
                    'Someone <mm-series@example.invalid>'):
            with self.subTest(who=who), \
                    self.assertRaisesRegex(StepError, 'project identity'):
                mail.sender(who, '/nonexistent')

    def test_parses_and_refuses_garbage(self):
        self.assertEqual(mail.sender('A Tester <tester@example.org>', '/x'),
                         ('A Tester', 'tester@example.org'))
        with self.assertRaisesRegex(StepError, 'is not "Name <address>"'):
            mail.sender('tester@example.org', '/x')

    def test_default_is_the_tree_identity(self):
        with tempfile.TemporaryDirectory() as d:
            git(d, 'init', '-q')
            git(d, 'config', 'user.name', 'mm-series')
            git(d, 'config', 'user.email', 'mm-series@example.invalid')
            with self.assertRaisesRegex(StepError, 'project identity'):
                mail.sender(None, d)
            git(d, 'config', 'user.name', 'B Sender')
            git(d, 'config', 'user.email', 'b@example.org')
            self.assertEqual(mail.sender(None, d), ('B Sender',
                                                    'b@example.org'))


def commit_patch(tree, text, msg, out):
    with open(os.path.join(tree, 'f.txt'), 'a') as f:
        f.write(text)
    git(tree, 'commit', '-q', '-a', '-m', msg,
        '--author=mm-series <mm-series@example.invalid>')
    return git(tree, 'format-patch', '-1', '--zero-commit', '-o',
               out).strip()


@unittest.skipUnless(shutil.which('b4'), 'b4 is not installed (deps '
                     'installs it)')
class PrerequisiteTest(unittest.TestCase):
    """Topic b needs topic a: its mbox names a's patch as a prerequisite,
    and it applies after a's, not on its own."""

    def test_topic_with_a_prerequisite(self):
        who = ('A Tester', 'tester@example.org')
        with tempfile.TemporaryDirectory() as d:
            tree = os.path.join(d, 'tree')
            os.makedirs(tree)
            git(tree, 'init', '-q', '-b', 'main')
            with open(os.path.join(tree, 'f.txt'), 'w') as f:
                f.write('base\n')
            git(tree, 'add', 'f.txt')
            git(tree, 'commit', '-q', '-m', 'base')
            git(tree, 'tag', 'v0')
            pdir = os.path.join(d, 'patches')
            pa = commit_patch(tree, 'a\n', 'a: one', pdir)
            pb = commit_patch(tree, 'b\n', 'b: two', pdir)
            ts = [topics.Topic('a', 'mm-new', 'a', False, patches=[pa]),
                  topics.Topic('b', 'mm-new', 'b', False, needs=['a'],
                               patches=[pb])]
            by_name = {t.name: t for t in ts}
            self.assertEqual(mail.closure(ts[1], by_name), ['a'])
            b = bench.Bench(base=dataclasses.replace(bases.get(), tag='v0'),
                            build=os.path.join(d, 'build'), tree=tree,
                            plan='x')
            out = mail.out_dir(b)
            os.makedirs(os.path.join(out, '.work'))
            with mock.patch.object(mail, 'title', lambda n: n), \
                    mock.patch.object(mail, 'cover_text',
                                      lambda b, t: 'about ' + t.name):
                ready = {}
                wt = mail.worktree(tree, 'v0', mail.scratch(b))
                for t in ts:
                    git(wt, 'checkout', '-q', '--detach', 'v0')
                    for n in mail.closure(t, by_name):
                        mail.am(wt, mail.as_sender(
                            by_name[n].patches, who,
                            os.path.join(out, '.work', 'n.mbx')), who, True)
                    prereq = git(wt, 'rev-parse', 'HEAD').strip()
                    path, root = mail.write_topic(b, t, who, prereq)
                    self.assertEqual(mail.check_topic(b, t, path, root,
                                                      ready, who, by_name), 1)
                with open(os.path.join(out, 'b.mbx')) as f:
                    text = f.read()
                self.assertIn('prerequisite-patch-id:', text)
                self.assertIn('base-commit:', text)
                self.assertNotIn('mm-series', text)
                self.assertIn('Signed-off-by: A Tester <tester@example.org>',
                              text)
                # b alone on the base does not apply: the prerequisite is
                # real, and the check applied a first.
                wt = mail.worktree(tree, 'v0', os.path.join(d, 'alone'))
                with self.assertRaises(StepError):
                    mail.am(wt, ready['b'], who)


if __name__ == '__main__':
    unittest.main()


class RoundtripDateTest(unittest.TestCase):
    """b4 am writes the day of the month with two digits, git
    format-patch with one: the b4 check must see the same date (the CI
    run of 2026-12-04 failed nine patches dated 4 Dec on it)."""

    def test_day_with_and_without_leading_zero(self):
        from mmwb import cover
        a = 'Subject: x\nDate: Fri, 4 Dec 2026 19:10:18 +0000\n'
        b = 'Subject: x\nDate: Fri, 04 Dec 2026 19:10:18 +0000\n'
        self.assertEqual(cover._same_date(a), cover._same_date(b))

    def test_another_date_still_differs(self):
        from mmwb import cover
        a = 'Date: Fri, 4 Dec 2026 19:10:18 +0000\n'
        b = 'Date: Fri, 4 Dec 2026 19:10:19 +0000\n'
        self.assertNotEqual(cover._same_date(a), cover._same_date(b))
