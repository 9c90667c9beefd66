# SPDX-License-Identifier: GPL-2.0
"""Bases as data: one record per base kernel in bases/<name>.base.

    name     <short name, what --base takes>
    default  yes                      (exactly one record)
    title    <what the kernel is called in prose: Linux 7.3.4>
    package  <Debian source package>  version <its version>
    archive  <the last path word of the machine's apt source serving it>
    suite    <the suite, fetched under a private apt configuration>
    tarball  <the tarball's path inside the package>
    tag      <the git tag of the base commit>
    config   <config fragments on top of tinyconfig, in order>
    series   <quilt series file>      patches <its patch folder>
    plan     <the test plan with this base's expectations>
    mutants  <optional: the folder of mutants of the series (mutants.py)>

Paths are relative to the repository.  The base a run uses comes from
MMWB_BASE (scripts/mmwb --base NAME sets it), default the record marked
default; every stage reads the record, none names a base itself.
"""

import glob
import os
import re
from dataclasses import dataclass

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
DIR = os.path.join(ROOT, 'bases')

FIELDS = ('name', 'title', 'package', 'version', 'archive', 'suite',
          'tarball', 'tag', 'config', 'series', 'patches', 'plan')
PATH_FIELDS = ('series', 'patches', 'plan')
OPTIONAL = ('mutants',)


class BaseError(Exception):
    """A record that cannot be used; the message names file and line."""


class UnknownBase(BaseError):
    """A base name with no record; name and known say which."""

    def __init__(self, msg, name, known):
        super().__init__(msg)
        self.name, self.known = name, known


@dataclass
class Base:
    name: str
    title: str
    package: str
    version: str
    archive: str
    suite: str
    tarball: str
    tag: str
    config: tuple
    series: str
    patches: str
    plan: str
    mutants: str = ''
    default: bool = False
    path: str = ''

    @property
    def upstream(self):
        """The kernel version: 7.3.4 of 'Linux 7.3.4'."""
        return self.title.split()[-1]


def parse(path):
    try:
        with open(path) as f:
            text = f.read()
    except OSError as e:
        raise BaseError(f'{path}: cannot read: {e}')
    rec = {}
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.split('#', 1)[0].strip()
        if not line:
            continue
        key, _, val = line.partition(' ')
        val = val.strip()
        if key not in FIELDS + OPTIONAL + ('default',):
            raise BaseError(f'{path}:{n}: unknown field {key!r} (known: '
                            f'{", ".join(FIELDS + OPTIONAL)}, default)')
        if not val:
            raise BaseError(f'{path}:{n}: {key} has no value')
        if key in rec:
            raise BaseError(f'{path}:{n}: {key} given twice')
        rec[key] = val
    missing = [f for f in FIELDS if f not in rec]
    if missing:
        raise BaseError(f'{path}: missing field(s): {", ".join(missing)}')
    if not re.match(r'^[\w.+-]+$', rec['name']):
        raise BaseError(f'{path}: bad name {rec["name"]!r}')
    if os.path.basename(path) != rec['name'] + '.base':
        raise BaseError(f'{path}: holds base {rec["name"]!r}; the file '
                        f'must be {rec["name"]}.base')
    config = tuple(os.path.join(ROOT, x) for x in rec.pop('config').split())
    default = rec.pop('default', 'no') == 'yes'
    for f in PATH_FIELDS + OPTIONAL:
        if f in rec:
            rec[f] = os.path.join(ROOT, rec[f])
    return Base(config=config, default=default, path=path, **rec)


def all_bases(directory=DIR):
    out = [parse(p) for p in sorted(glob.glob(os.path.join(directory,
                                                           '*.base')))]
    if not out:
        raise BaseError(f'{directory}: no *.base record')
    defaults = [b.name for b in out if b.default]
    if len(defaults) != 1:
        raise BaseError(f'{directory}: exactly one record must say '
                        f'"default yes" (found: {defaults or "none"})')
    return out


def get(name=None, directory=DIR, env=None):
    """The record named (default: MMWB_BASE of env, default os.environ,
    else the default one)."""
    name = name or (os.environ if env is None else env).get('MMWB_BASE')
    bases = all_bases(directory)
    if not name:
        return next(b for b in bases if b.default)
    for b in bases:
        if b.name == name:
            return b
    known = [b.name for b in bases]
    raise UnknownBase(f'{directory}: no base {name!r} (known: '
                      f'{", ".join(known)})', name, known)
