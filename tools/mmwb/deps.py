# SPDX-License-Identifier: GPL-2.0
"""Host dependencies: what each stage needs and the package it comes from."""

import os
import shutil
import subprocess

from .common import StepError, EXIT_DEPS, log

# tool -> Debian package.  One table, read by the check and the installer.
TOOLS = {
    'gcc': 'gcc', 'make': 'make', 'flex': 'flex', 'bison': 'bison',
    'bc': 'bc', 'cpio': 'cpio', 'ccache': 'ccache', 'git': 'git',
    'xz': 'xz-utils', 'perl': 'perl', 'rsync': 'rsync',
    'qemu-system-x86_64': 'qemu-system-x86',
    'busybox': 'busybox-static',
    # kselftest's own scripts (ksft_*.sh -> run_vmtests.sh) run in the
    # guest under bash (initramfs.BASH).
    'bash-static': 'bash-static',
    'sparse': 'sparse', 'spatch': 'coccinelle', 'b4': 'b4',
    'quilt': 'quilt', 'shellcheck': 'shellcheck', 'patch': 'patch',
    'mkfs.xfs': 'xfsprogs', 'mkfs.ext4': 'e2fsprogs', 'mkfs.btrfs': 'btrfs-progs',
    'stress-ng': 'stress-ng',
    'pahole': 'dwarves', 'depmod': 'kmod', 'rst2html': 'python3-docutils',
    'sphinx-build': 'python3-sphinx',
    # coccicheck's scripts with OCaml parts compile them at run time.
    'ocamlopt': 'ocaml-nox',
    # the base stage unpacks the source package it downloads.
    'dpkg-deb': 'dpkg', 'apt-get': 'apt',
    # the workbench's fault tests find the QEMU they kill.
    'pgrep': 'procps',
}
# Libraries have no binary to look for: a file they install stands in.
HEADERS = {
    '/usr/include/libelf.h': 'libelf-dev',
    '/usr/include/openssl/ssl.h': 'libssl-dev',
    '/usr/include/sys/capability.h': 'libcap-dev',
    '/usr/include/numa.h': 'libnuma-dev',
    # checkpatch's spdxcheck.py
    '/usr/lib/python3/dist-packages/ply': 'python3-ply',
    '/usr/lib/python3/dist-packages/git': 'python3-git',
    # the LAVA job's schema (lava.py), seen by /usr/bin/python3 only
    '/usr/lib/python3/dist-packages/lava_common': 'lava-common',
}


def _busybox_static():
    path = shutil.which('busybox')
    if not path:
        return False
    out = subprocess.run(['file', '-L', path], capture_output=True,
                         text=True).stdout if shutil.which('file') else ''
    return 'statically linked' in out or 'static-pie' in out or not out


def missing():
    """Return [(what, package)] for everything absent."""
    out = []
    for tool, pkg in TOOLS.items():
        if tool == 'busybox':
            if not _busybox_static():
                out.append(('busybox (static)', pkg))
        elif not shutil.which(tool):
            out.append((tool, pkg))
    for hdr, pkg in HEADERS.items():
        if not os.path.exists(hdr):
            out.append((hdr, pkg))
    return out


def ensure(install=True):
    """Install what is missing with apt-get when root, else name it."""
    miss = missing()
    if not miss:
        return
    if install and os.geteuid() == 0 and not os.environ.get('MMWB_NO_INSTALL'):
        pkgs = sorted({pkg for _, pkg in miss})
        log(f'deps: installing {" ".join(pkgs)}')
        env = dict(os.environ, DEBIAN_FRONTEND='noninteractive')
        subprocess.run(['apt-get', 'update', '-q'], env=env,
                       stdout=subprocess.DEVNULL, check=False)
        p = subprocess.run(['apt-get', 'install', '-y', '-q',
                            '--no-install-recommends', *pkgs], env=env,
                           capture_output=True, text=True)
        if p.returncode != 0:
            raise StepError('deps', 'apt-get', 'install failed:\n' +
                            '\n'.join(p.stdout.splitlines()[-15:] +
                                      p.stderr.splitlines()[-15:]),
                            EXIT_DEPS)
        miss = missing()
    if miss:
        lines = [f"missing '{what}': install with 'apt-get install {pkg}'"
                 for what, pkg in miss]
        raise StepError('deps', None, '\n  '.join([''] + lines).lstrip('\n')
                        .replace('  ', '', 1), EXIT_DEPS)
