# SPDX-License-Identifier: GPL-2.0
"""One run context (bench.py): made from the command line, passed down;
no module takes a base, a tree or a folder when it is imported."""

import os
import subprocess
import sys
import tempfile
import unittest
from unittest import mock

from mmwb import __main__ as cli, bases, bench, guest, kbuild

TOOLS = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def args(*argv):
    return cli.parser().parse_args(list(argv))


class FromArgsTest(unittest.TestCase):
    def setUp(self):
        # The defaults, whatever the caller's environment says.
        env = mock.patch.dict(os.environ)
        env.start()
        self.addCleanup(env.stop)
        for k in ('MMWB_BUILD', 'MMWB_BASE'):
            os.environ.pop(k, None)

    def test_defaults(self):
        b = cli.bench_from_args(args('run'))
        rec = bases.get()
        self.assertEqual(b.base.name, rec.name)
        self.assertEqual(b.tree, os.path.join(b.build, 'linux'))
        self.assertEqual(b.plan, rec.plan)
        self.assertEqual(b.kbuild, os.path.join(b.build, 'kbuild'))

    def test_tree_and_base_anywhere(self):
        for argv in (('--base', '6.12', '--tree', '/x', 'run'),
                     ('run', '--base', '6.12', '--tree', '/x'),
                     ('--base=6.12', 'run', '--tree=/x')):
            with self.subTest(argv=argv):
                b = cli.bench_from_args(args(*argv))
                self.assertEqual((b.base.name, b.tree), ('6.12', '/x'))
                self.assertTrue(b.build.endswith('build/base-6.12'), b.build)
                self.assertEqual(b.plan, bases.get('6.12').plan)

    def test_plan_of_the_command(self):
        self.assertTrue(cli.bench_from_args(args('soak')).plan.endswith(
            'selftests/soak.plan'))
        self.assertTrue(cli.bench_from_args(args('debug')).plan.endswith(
            'selftests/debug.plan'))
        self.assertEqual(cli.bench_from_args(
            args('--base', '6.12', 'debug')).plan, bases.get('6.12').plan)
        self.assertEqual(cli.bench_from_args(
            args('run', '--plan', 'p.plan')).plan, os.path.abspath('p.plan'))

    def test_unknown_base_is_a_usage_error(self):
        with self.assertRaises(cli.StepError) as e:
            cli.bench_from_args(args('run', '--base', 'nosuch'))
        self.assertEqual(e.exception.code, 2)
        self.assertIn('no bases/nosuch.base', str(e.exception))


class PassedDownTest(unittest.TestCase):
    """What a stage works on comes from the bench it is given."""

    def test_paths_follow_the_bench(self):
        with tempfile.TemporaryDirectory() as d:
            b = bench.make(build=d, tree=os.path.join(d, 't'), plan='x')
            self.assertEqual(kbuild.env(b)['CCACHE_BASEDIR'], d)
            where = guest.bindirs(b, 'try')
            self.assertEqual(where('cow'), os.path.join(d, 'out', 'series',
                                                        'selftests'))
            self.assertEqual(where('tool:mapread'),
                             os.path.join(d, 'out', 'tools'))


class NoImportStateTest(unittest.TestCase):
    """Every module imported under another base and build folder holds
    nothing of either: the base and the folders come from a Bench."""

    def test_no_module_constant_from_the_base(self):
        code = r'''
import importlib, os, pkgutil, sys
import mmwb
argv = list(sys.argv)
bad = []
for m in pkgutil.iter_modules(mmwb.__path__):
    if m.name == '__main__':
        continue
    mod = importlib.import_module('mmwb.' + m.name)
    for k, v in vars(mod).items():
        vals = v if isinstance(v, (tuple, list)) else [v]
        for x in vals:
            if isinstance(x, str) and ('/nowhere-build' in x or
                                       'stable/6.12' in x):
                bad.append(f'{m.name}.{k}')
import mmwb.__main__
print(' '.join(sorted(set(bad))) or 'none', sys.argv == argv)
'''
        env = dict(os.environ, MMWB_BASE='6.12', MMWB_BUILD='/nowhere-build')
        p = subprocess.run([sys.executable, '-c', code, 'x', '--base', 'y'],
                           cwd=TOOLS, env=env, capture_output=True,
                           text=True)
        self.assertEqual(p.stdout.split(), ['none', 'True'], p.stderr)


if __name__ == '__main__':
    unittest.main()
