# SPDX-License-Identifier: GPL-2.0
"""Base records (bases/) and the private apt fetch's pure parts."""

import os
import tempfile
import unittest

from mmwb import bases, fetch
from mmwb.common import StepError

RECORD = """# a comment
name     9.9
default  yes
title    Linux 9.9.1
package  linux-source-9.9
version  9.9.1-1~bpo99+1
archive  debian
suite    future-backports
tarball  usr/src/linux-source-9.9.tar.xz
tag      v9.9.1-debian
config   kconfig/mm.config kconfig/extra.config
series   series
patches  patches
plan     selftests/mm.plan
"""


class BaseRecordTest(unittest.TestCase):
    def write(self, d, name, text):
        path = os.path.join(d, name)
        with open(path, 'w') as f:
            f.write(text)
        return path

    def test_shipped_records(self):
        """Every record in bases/ parses; its files exist."""
        got = bases.all_bases()
        self.assertIn('7.3', [b.name for b in got])
        self.assertIn('6.12', [b.name for b in got])
        self.assertEqual(next(b.name for b in got if b.default), '7.3')
        for b in got:
            for p in (b.series, b.plan, *b.config):
                self.assertTrue(os.path.isfile(p), p)
            self.assertTrue(os.path.isdir(b.patches), b.patches)

    def test_parse(self):
        with tempfile.TemporaryDirectory() as d:
            b = bases.parse(self.write(d, '9.9.base', RECORD))
            self.assertTrue(b.default)
            self.assertEqual(b.upstream, '9.9.1')
            self.assertEqual([os.path.basename(x) for x in b.config],
                             ['mm.config', 'extra.config'])

    def test_errors_name_file_and_line(self):
        with tempfile.TemporaryDirectory() as d:
            p = self.write(d, '9.9.base', RECORD + 'colour blue\n')
            with self.assertRaisesRegex(bases.BaseError, r'9\.9\.base:15: '
                                        "unknown field 'colour'"):
                bases.parse(p)
            p = self.write(d, '9.9.base', RECORD.replace('suite', '#'))
            with self.assertRaisesRegex(bases.BaseError, 'missing .*suite'):
                bases.parse(p)
            p = self.write(d, '8.8.base', RECORD)
            with self.assertRaisesRegex(bases.BaseError, 'must be 9.9.base'):
                bases.parse(p)

    def test_one_default(self):
        with tempfile.TemporaryDirectory() as d:
            self.write(d, '9.9.base', RECORD)
            self.write(d, '9.8.base', RECORD.replace('9.9', '9.8'))
            with self.assertRaisesRegex(bases.BaseError, 'exactly one'):
                bases.all_bases(d)
            os.unlink(os.path.join(d, '9.8.base'))
            with self.assertRaisesRegex(bases.BaseError, "no base '1.0'"):
                bases.get('1.0', d)


POLICY = """linux-source-9.9:
  Installed: (none)
  Candidate: 9.9.2-1~bpo99+1
  Version table:
     9.9.2-1~bpo99+1 100
        100 http://mirror.invalid/debian future-backports/main amd64 Packages
"""


class FetchTest(unittest.TestCase):
    def record(self):
        with tempfile.TemporaryDirectory() as d:
            os.makedirs(os.path.join(d, 'bases'))
            p = os.path.join(d, 'bases', '9.9.base')
            with open(p, 'w') as f:
                f.write(RECORD)
            return bases.parse(p)

    def test_superseded_names_the_new_version(self):
        msg = fetch.superseded_message(self.record(), POLICY)
        self.assertEqual(msg, 'linux-source-9.9 9.9.1-1~bpo99+1 is no '
                         'longer in future-backports, which now offers '
                         "9.9.2-1~bpo99+1: move the pin ('version' in "
                         'bases/9.9.base)')
        self.assertNotIn('\n', msg)

    def test_package_gone(self):
        msg = fetch.superseded_message(self.record(), 'N: Unable to locate')
        self.assertIn("check 'package' and 'suite'", msg)

    def test_machine_sources(self):
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, 'a.sources'), 'w') as f:
                f.write('Types: deb\nURIs: http://m.invalid/debian\n'
                        'Suites: bookworm\nSigned-By: /k.gpg\n\n'
                        'Types: deb-src\nURIs: http://m.invalid/src\n\n'
                        'Types: deb\nURIs: http://m.invalid/debian-security\n'
                        'Suites: bookworm-security\n')
            with open(os.path.join(d, 'b.list'), 'w') as f:
                f.write('# deb http://commented.invalid/debian x main\n'
                        'deb [signed-by=/o.gpg] http://o.invalid/other x main\n')
            got = fetch.machine_sources([d])
            self.assertEqual(got, [('http://m.invalid/debian', '/k.gpg'),
                                   ('http://m.invalid/debian-security', None),
                                   ('http://o.invalid/other', '/o.gpg')])
            b = self.record()
            self.assertEqual(fetch.archive_uri(b, got),
                             ('http://m.invalid/debian', '/k.gpg'))
            b.archive = 'ubuntu'
            with self.assertRaisesRegex(StepError, "archive 'ubuntu'"):
                fetch.archive_uri(b, got)


if __name__ == '__main__':
    unittest.main()


class BaseArgTest(unittest.TestCase):
    """--base on the command line: after the command too, and a name
    with no record is a usage error (exit 2) before anything loads."""

    def mmwb(self, *args):
        import subprocess
        import sys
        tools = os.path.dirname(os.path.dirname(os.path.dirname(
            os.path.abspath(__file__))))
        return subprocess.run([sys.executable, '-m', 'mmwb', *args],
                              cwd=tools, capture_output=True, text=True)

    def test_unknown_base(self):
        for args in (('--base', 'nosuch', 'run'), ('run', '--base=nosuch')):
            with self.subTest(args=args):
                p = self.mmwb(*args)
                self.assertEqual(p.returncode, 2)
                self.assertIn('no bases/nosuch.base', p.stderr)

    def test_base_and_tree_after_the_command(self):
        p = self.mmwb('check-build', '--base', '6.12', '--tree', '/x',
                      '--help')
        self.assertEqual(p.returncode, 0, p.stderr)
