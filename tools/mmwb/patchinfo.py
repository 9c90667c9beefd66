# SPDX-License-Identifier: GPL-2.0
"""What a patch touches: every stage asks this one module ("which files
does patch N write, which kernel objects, which mm selftests, which
documentation?"), so that there is one answer and one rule for what is
kernel code.  A patch file is read once (cached by path, size and mtime)."""

import functools
import os
import re
from dataclasses import dataclass

# Not kernel code: what is under these is never a kernel object.
NOT_KERNEL = ('tools/', 'Documentation/', 'scripts/', 'samples/')
MM_SELFTESTS = 'tools/testing/selftests/mm/'


@dataclass(frozen=True)
class PatchInfo:
    path: str
    paths: tuple        # files it writes ('+++ b/'), in order
    modified: tuple     # files of the base it changes or deletes ('--- a/')
    added: tuple        # files it creates ('--- /dev/null')
    hunks: tuple        # (file, added lines '+...' of that file's diff)

    def touches(self, prefixes):
        """It writes one of these files, or a file under these folders."""
        return any(x == t or x.startswith(t.rstrip('/') + '/')
                   for x in self.paths for t in prefixes)

    @property
    def kernel_files(self):
        """Kernel C sources and headers it writes."""
        return [x for x in self.paths if x.endswith(('.c', '.h'))
                and not x.startswith(NOT_KERNEL)]

    @property
    def kernel_objects(self):
        """The objects built from the kernel C sources it writes."""
        return [x[:-2] + '.o' for x in self.kernel_files if x.endswith('.c')]

    @property
    def headers(self):
        return [x for x in self.kernel_files if x.endswith('.h')]

    @property
    def rst(self):
        """Kernel documentation pages it writes."""
        return [x for x in self.paths
                if re.match(r'Documentation/\S+\.rst$', x)]

    @property
    def selftests(self):
        """Names of the mm selftest sources it writes (cow of cow.c)."""
        return [m.group(1) for x in self.paths
                for m in [re.match(re.escape(MM_SELFTESTS) + r'([\w-]+)\.c$',
                                   x)] if m]

    def added_lines(self, path):
        """The lines it adds to one file, without the '+'."""
        return [x for f, lines in self.hunks if f == path for x in lines]


@functools.lru_cache(maxsize=None)
def _read(path, size, mtime):
    with open(path, errors='replace') as f:
        text = f.read()
    paths, modified, added, hunks = [], [], [], []
    for chunk in ('\n' + text).split('\ndiff --git ')[1:]:
        old = re.search(r'^--- (?:a/(\S+)|/dev/null)$', chunk, re.M)
        new = re.search(r'^\+\+\+ (?:b/(\S+)|/dev/null)$', chunk, re.M)
        if not old or not new:
            continue
        if old.group(1):
            modified.append(old.group(1))
        if new.group(1):
            paths.append(new.group(1))
            if not old.group(1):
                added.append(new.group(1))
            body = chunk[new.end():].splitlines()
            hunks.append((new.group(1), tuple(
                x[1:] for x in body if x.startswith('+'))))
    return PatchInfo(path, tuple(paths), tuple(modified), tuple(added),
                     tuple(hunks))


def read(path):
    """The PatchInfo of a patch file (a git format-patch file or a plain
    diff with 'diff --git' headers)."""
    st = os.stat(path)
    return _read(os.path.abspath(path), st.st_size, st.st_mtime_ns)


def touched_paths(path):
    """Files a patch writes, in order (a deleted file is not among them)."""
    return list(read(path).paths)
