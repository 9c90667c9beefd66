# SPDX-License-Identifier: GPL-2.0
"""The base's source package, fetched with apt-get download under a
private apt configuration (its own sources list, state and cache under
build/apt/): the machine's own apt sources are only read, to find the
archive they already name, never changed."""

import glob
import os
import re
import subprocess

from .common import StepError, EXIT_BASE, log

SYSTEM_SOURCES = ('/etc/apt/sources.list', '/etc/apt/sources.list.d')
DEFAULT_KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg'


def machine_sources(paths=SYSTEM_SOURCES):
    """[(uri, signed_by or None)] of the machine's deb sources, one-line
    and deb822 formats alike."""
    files = []
    for p in paths:
        if os.path.isdir(p):
            files += sorted(glob.glob(os.path.join(p, '*.list')) +
                            glob.glob(os.path.join(p, '*.sources')))
        elif os.path.isfile(p):
            files.append(p)
    out = []
    for f in files:
        text = open(f, errors='replace').read()
        if f.endswith('.sources'):
            for stanza in re.split(r'\n\s*\n', text):
                fields = {}
                for line in stanza.splitlines():
                    if line.startswith('#') or ':' not in line:
                        continue
                    k, _, v = line.partition(':')
                    fields[k.strip().lower()] = v.strip()
                if 'deb' not in fields.get('types', '').split() or \
                        fields.get('enabled', 'yes') == 'no':
                    continue
                for uri in fields.get('uris', '').split():
                    out.append((uri, fields.get('signed-by')))
        else:
            for line in text.splitlines():
                line = line.split('#', 1)[0].strip()
                m = re.match(r'^deb\s+(?:\[([^\]]*)\]\s+)?(\S+)', line)
                if m:
                    opts = dict(x.split('=', 1) for x in
                                (m.group(1) or '').split() if '=' in x)
                    out.append((m.group(2), opts.get('signed-by')))
    return out


def archive_uri(base, sources=None):
    """(uri, keyring) of the machine's source whose last path word is the
    base's archive ('debian', 'debian-security')."""
    sources = machine_sources() if sources is None else sources
    for uri, keyring in sources:
        if uri.rstrip('/').rsplit('/', 1)[-1] == base.archive:
            return uri, keyring or DEFAULT_KEYRING
    raise StepError('base', base.path, f'no apt source of this machine '
                    f'serves the archive {base.archive!r} (looked in '
                    f'{", ".join(SYSTEM_SOURCES)})', EXIT_BASE)


def superseded_message(base, policy_text):
    """One line for a pinned version the suite no longer offers, naming
    the version it offers now (from apt-cache policy's output)."""
    m = re.search(r'Candidate:\s*(\S+)', policy_text)
    now = m.group(1) if m and m.group(1) != '(none)' else None
    rel = os.path.relpath(base.path, os.path.dirname(os.path.dirname(
        base.path)))
    if now:
        return (f'{base.package} {base.version} is no longer in '
                f'{base.suite}, which now offers {now}: move the pin '
                f"('version' in {rel})")
    return (f'{base.package} is not in {base.suite} at all: check '
            f"'package' and 'suite' in {rel}")


def _apt_env(conf):
    return dict(os.environ, APT_CONFIG=conf, DEBIAN_FRONTEND='noninteractive')


def private_config(base, uri, keyring, root):
    """Write the private apt configuration; return its apt.conf path."""
    d = os.path.join(root, base.name)
    for sub in ('state/lists/partial', 'cache/archives/partial', 'etc'):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    status = os.path.join(d, 'state', 'status')
    if not os.path.exists(status):
        open(status, 'w').close()
    src = os.path.join(d, 'etc', 'sources.list')
    with open(src, 'w') as f:
        f.write(f'deb [signed-by={keyring}] {uri} {base.suite} main\n')
    conf = os.path.join(d, 'etc', 'apt.conf')
    with open(conf, 'w') as f:
        f.write(f'Dir::State "{d}/state";\n'
                f'Dir::State::status "{status}";\n'
                f'Dir::Cache "{d}/cache";\n'
                f'Dir::Etc::SourceList "{src}";\n'
                'Dir::Etc::SourceParts "/nonexistent";\n'
                'Dir::Etc::Preferences "/nonexistent";\n'
                'Dir::Etc::PreferencesParts "/nonexistent";\n'
                'APT::Sandbox::User "root";\n')
    return conf


def deb_fields(deb):
    p = subprocess.run(['dpkg-deb', '--field', deb, 'Package', 'Version'],
                       capture_output=True, text=True)
    if p.returncode:
        raise StepError('base', deb, 'not a Debian package: '
                        + p.stderr.strip(), EXIT_BASE)
    return dict(line.split(': ', 1) for line in p.stdout.splitlines()
                if ': ' in line)


def tarball(bench):
    """The base's kernel tarball: MMWB_TARBALL if set, else the package
    fetched (once) and unpacked under <build>/pkg/, with the private apt
    configuration under <build>/apt/."""
    base = bench.base
    apt, pkg = bench.under('apt'), bench.under('pkg')
    override = os.environ.get('MMWB_TARBALL')
    if override:
        if not os.path.isfile(override):
            raise StepError('base', override, 'MMWB_TARBALL names no file',
                            EXIT_BASE)
        return override
    dest = os.path.join(pkg, f'{base.package}_{base.version}')
    tar = os.path.join(dest, base.tarball)
    if os.path.isfile(tar):
        return tar
    uri, keyring = archive_uri(base)
    conf = private_config(base, uri, keyring, apt)
    env = _apt_env(conf)
    log(f'base: apt-get update ({base.suite}, private configuration '
        f'{conf})')
    p = subprocess.run(['apt-get', 'update', '-q'], env=env,
                       capture_output=True, text=True)
    if p.returncode:
        raise StepError('base', conf, 'apt-get update failed:\n'
                        + '\n'.join((p.stdout + p.stderr).splitlines()[-8:]),
                        EXIT_BASE)
    debs = os.path.join(apt, base.name, 'debs')
    os.makedirs(debs, exist_ok=True)
    log(f'base: apt-get download {base.package}={base.version}')
    p = subprocess.run(['apt-get', 'download', '-q',
                        f'{base.package}={base.version}'], env=env,
                       cwd=debs, capture_output=True, text=True)
    if p.returncode:
        pol = subprocess.run(['apt-cache', 'policy', base.package], env=env,
                             capture_output=True, text=True).stdout
        if 'not found' in p.stderr or 'Unable to locate' in p.stderr:
            raise StepError('base', base.path, superseded_message(base, pol),
                            EXIT_BASE)
        raise StepError('base', conf, 'apt-get download failed:\n'
                        + '\n'.join((p.stdout + p.stderr).splitlines()[-8:]),
                        EXIT_BASE)
    found = glob.glob(os.path.join(debs, f'{base.package}_*.deb'))
    found = [d for d in found if deb_fields(d).get('Version') == base.version]
    if not found:
        raise StepError('base', debs, f'apt-get download left no '
                        f'{base.package} {base.version} package', EXIT_BASE)
    deb = found[0]
    # apt checked the archive's signature and the package's hash; the
    # package must also be what the record names.
    f = deb_fields(deb)
    if (f.get('Package'), f.get('Version')) != (base.package, base.version):
        raise StepError('base', deb, f'is {f}, not {base.package} '
                        f'{base.version}', EXIT_BASE)
    tmp = dest + '.tmp'
    subprocess.run(['rm', '-rf', tmp])
    os.makedirs(pkg, exist_ok=True)
    p = subprocess.run(['dpkg-deb', '-x', deb, tmp], capture_output=True,
                       text=True)
    if p.returncode or not os.path.isfile(os.path.join(tmp, base.tarball)):
        raise StepError('base', deb, f'no {base.tarball} inside '
                        f'{p.stderr.strip()}', EXIT_BASE)
    os.rename(tmp, dest)
    log(f'base: {tar}')
    return tar
