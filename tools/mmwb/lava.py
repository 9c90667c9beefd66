# SPDX-License-Identifier: GPL-2.0
"""Beyond one machine: a LAVA job per kernel of the A/B run.

For each kernel, build/lava/<kernel>/ holds a bundle: the bzImage, an
initramfs whose init writes the tests' output and the markers to the
console (LAVA reads one serial line), the XFS and swap disks the plan's
guest expects (sparse files, made as vm.disks() makes them), and
job.yaml, a LAVA job for the 'qemu' device type that deploys them to
tmpfs, boots them with the plan's kernel command line and reads the KTAP
lines between the markers with a monitor.  job.yaml is JSON, which is
YAML too.

validate() checks a job with lava-common's own schema
(lava_common.schemas.validate, strict), which only Debian's
/usr/bin/python3 sees.  console_of() turns the log of such a job
(LAVA's output.yaml: one {"dt", "lvl", "msg"} record a line, YAML
double-quoted) back into a console log, which 'mmwb parse --lava-log'
judges as 'run' would.
"""

import json
import os
import shutil
import subprocess

from .common import EXIT_USAGE, StepError, log
from . import initramfs, protocol, vm

PYTHON = '/usr/bin/python3'     # Debian's, which sees lava-common
_CHECK = ('import json, sys\n'
          'from lava_common.schemas import validate\n'
          'validate(json.load(open(sys.argv[1])), strict=True)\n')


def job(label, bundle, plan, title):
    """The LAVA job (a dict) that boots bundle's kernel with the plan."""
    minutes = -(-plan.total_timeout() // 60)
    url = {n: 'file://' + os.path.join(bundle, n)
           for n in ('bzImage', 'initramfs.cpio', 'xfs.img', 'swap.img')}
    cmdline = ' '.join(vm.BASE_CMDLINE + list(plan.boot))
    drive = '-drive format=raw,if=virtio,cache=unsafe,file={%s}'
    return {
        'device_type': 'qemu',
        'job_name': f'mm series workbench: {label} ({title})',
        'priority': 'medium',
        'visibility': 'public',
        'timeouts': {'job': {'minutes': minutes + 10},
                     'action': {'minutes': minutes},
                     'connection': {'minutes': 2}},
        'context': {'arch': 'amd64', 'cpu': 'max',
                    'memory': int(vm.MEM.rstrip('G')) * 1024,
                    'extra_options': [f'-smp {vm.SMP}',
                                      '-accel tcg,thread=multi']},
        'actions': [
            {'deploy': {
                'to': 'tmpfs', 'timeout': {'minutes': 5},
                'images': {
                    'kernel': {'url': url['bzImage'],
                               'image_arg': '-kernel {kernel} -append '
                                            f'"{cmdline}"'},
                    'initrd': {'url': url['initramfs.cpio'],
                               'image_arg': '-initrd {initrd}'},
                    'xfs': {'url': url['xfs.img'],
                            'image_arg': drive % 'xfs'},
                    'swap': {'url': url['swap.img'],
                             'image_arg': drive % 'swap'},
                }}},
            {'boot': {'method': 'qemu', 'media': 'tmpfs',
                      'timeout': {'minutes': 5},
                      'prompts': [protocol.BOOT]}},
            {'test': {
                'timeout': {'minutes': minutes},
                'monitors': [{
                    'name': f'mm-{label}',
                    'start': protocol.BOOT,
                    'end': protocol.DONE,
                    # The top-level result lines of the framed test
                    # port (protocol.py): one LAVA case per test.
                    'pattern': r'(?P<result>ok|not ok) \d+ '
                               + protocol.HEADER     # no metacharacter
                               + r'(?P<test_case_id>[^\s#]+)',
                    'fixupdict': {'ok': 'pass', 'not ok': 'fail'}}]}},
        ],
    }


def validate(path):
    """(ok, message) of lava-common's schema on the job file; ok None
    when lava-common is not installed."""
    if not os.path.exists(PYTHON):
        return None, f'{PYTHON} missing'
    p = subprocess.run([PYTHON, '-c', _CHECK, path], capture_output=True,
                       text=True)
    last = (p.stderr.strip().splitlines() or [''])[-1]
    if "No module named 'lava_common'" in last:
        return None, ("lava-common is not installed (apt-get install "
                      "lava-common; scripts/mmwb deps does)")
    return p.returncode == 0, 'valid' if p.returncode == 0 else last


def write(bench, rep, label, plan, bindir, title):
    """The bundle and job of one kernel (its bzImage from the run) in
    <build>/lava/<label>/, and a row saying whether lava-common
    validates the job."""
    src = os.path.join(bench.out, label, 'bzImage')
    d = bench.under('lava', label)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    shutil.copy2(src, os.path.join(d, 'bzImage'))
    tests, _ = plan.tests_for(label)
    initramfs.build(os.path.join(d, 'initramfs.cpio'), plan, bindir,
                    tests=tests, tree=bench.tree, rev=bench.tag,
                    port='console')
    vm.disks(d)         # xfs.img (/dev/vda) and swap.img (/dev/vdb)
    path = os.path.join(d, 'job.yaml')
    with open(path, 'w') as f:
        json.dump(job(label, d, plan, title), f, indent=2)
        f.write('\n')
    ok, msg = validate(path)
    # A checker that cannot run is no pass: deps installs lava-common.
    rep.add(label, 'lava', 'job.yaml validates (lava-common)',
            'error' if ok is None else 'pass' if ok else 'fail', 0,
            bool(ok), msg)
    log(f'lava: {label}: {path}: {msg}')
    return path


def console_of(text, where='output.yaml'):
    """The console of a LAVA job's log (output.yaml: lines of
    '- {"dt": ..., "lvl": "target", "msg": ...}', written by LAVA's
    yaml_dump with double-quoted scalars, whose escapes, \\xE9 and \\e
    among them, JSON does not have): the target's lines.  A record line
    that does not read is an error naming it, never a line dropped."""
    import yaml
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line.startswith('- {'):
            continue
        try:
            rec = yaml.safe_load(line[2:])
        except yaml.YAMLError as e:
            raise StepError('parse', f'{where}:{n}', 'not a LAVA log '
                            f'record: {str(e).splitlines()[0]}', EXIT_USAGE)
        if not isinstance(rec, dict):
            continue
        msg = rec.get('msg')
        if rec.get('lvl') == 'target' and msg is not None:
            out.append(str(msg))
    return '\n'.join(out) + '\n'
