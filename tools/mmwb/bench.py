# SPDX-License-Identifier: GPL-2.0
"""The run context: which base record, which kernel work tree, which
plan, and where the build and the report go.

One Bench is made from the command line (__main__.py: bench_from_args)
and passed down to every stage, as kunit.py makes one LinuxSourceTree
in tree_from_args and hands it to config, build, exec and parse.  No
module decides a base, a tree or a folder when it is imported: a
function's signature says what it works on, --base and --tree reach
every command, and a test makes a Bench of its own (a temporary build
folder) instead of patching module globals."""

import os
from dataclasses import dataclass

from . import bases

ROOT = bases.ROOT
# The cover letter's file name in a patch folder.
COVER = '0000-cover-letter.patch'


def _of_base(name, doc):
    return property(lambda self: getattr(self.base, name), doc=doc)


def _under_build(*parts):
    return property(lambda self: os.path.join(self.build, *parts),
                    doc=f'<build>/{"/".join(parts)}')


@dataclass(frozen=True)
class Bench:
    base: bases.Base    # the base record (bases/<name>.base)
    build: str          # the build folder: kbuild/, out/, report/, ...
    tree: str           # the kernel work tree
    plan: str           # the test plan

    # What the base record names.
    tag = _of_base('tag', 'the git tag of the base commit')
    series = _of_base('series', 'the quilt series file')
    patches = _of_base('patches', 'its patch folder')
    fragments = _of_base('config', 'config fragments, in order')
    mutants = _of_base('mutants', 'the mutants folder, or empty')

    # Where things go, all under the build folder.
    kbuild = _under_build('kbuild')
    out = _under_build('out')
    report = _under_build('report')
    lock = _under_build('.mmwb.lock')

    @property
    def cover(self):
        return os.path.join(self.base.patches, COVER)

    def under(self, *parts):
        return os.path.join(self.build, *parts)

    def selftests(self, label):
        """Where one kernel's build of the mm selftests is: the series'
        (label 'series') is what try, steps, debug and the mutants run."""
        return os.path.join(self.out, label, 'selftests')


def default_build(base, env=None):
    """build/ for the default base, build/base-<name>/ for another one
    (a --base run never touches the default base's trees or report);
    MMWB_BUILD overrides both."""
    env = os.environ if env is None else env
    if env.get('MMWB_BUILD'):
        return env['MMWB_BUILD']
    return os.path.join(ROOT, 'build',
                        *(() if base.default else (f'base-{base.name}',)))


def make(base=None, tree=None, plan=None, build=None, env=None):
    """The Bench of a command: base a record, or a name (default
    MMWB_BASE, else the record marked default), tree default
    <build>/linux, plan default the record's.  Raises bases.BaseError
    for a base with no record."""
    env = os.environ if env is None else env
    rec = base if isinstance(base, bases.Base) else bases.get(base, env=env)
    build = os.path.abspath(build or default_build(rec, env))
    return Bench(base=rec, build=build,
                 tree=os.path.abspath(tree or os.path.join(build, 'linux')),
                 plan=os.path.abspath(plan or rec.plan))
