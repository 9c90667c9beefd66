# SPDX-License-Identifier: GPL-2.0
"""LAVA: the job validates with lava-common's own schema, and the log
of such a job gives back the rows of the run through 'mmwb parse'."""

import json
import os
import subprocess
import sys
import tempfile
import unittest

import re

from mmwb import lava, plan as planmod, protocol, results
from mmwb.tests import test_protocol, test_verdict


def small_plan(d):
    path = os.path.join(d, 'plan')
    with open(path, 'w') as f:
        f.write('boot memmap=256M$0x1a0000000\n'
                'test faultaround 300 ktap series:faultaround /mnt/xfs\n')
    return planmod.parse(path, results.FORMATS)


class JobTest(unittest.TestCase):
    def test_validates(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, 'job.yaml')
            with open(path, 'w') as f:
                json.dump(lava.job('series', d, small_plan(d), 'Linux x'), f)
            ok, msg = lava.validate(path)
            if ok is None:
                self.skipTest(msg)
            self.assertTrue(ok, msg)
            job = json.load(open(path))
            kernel = job['actions'][0]['deploy']['images']['kernel']
            self.assertIn('memmap=256M$0x1a0000000', kernel['image_arg'])

    @unittest.skipUnless(os.access(test_protocol.BUSYBOX, os.X_OK),
                         'busybox-static missing')
    def test_monitor_reads_the_top_level_results(self):
        """The job's monitor pattern finds one case per test of the
        framed port, never a line of a test's own output."""
        with tempfile.TemporaryDirectory() as d:
            mon = lava.job('series', d, small_plan(d),
                           'Linux x')['actions'][2]['test']['monitors'][0]
        port = test_protocol.frame(test_protocol.RAW, 7)
        got = [(m['result'], m['test_case_id']) for line in
               port.splitlines()
               for m in [re.search(mon['pattern'], line)] if m]
        self.assertEqual(got, [('ok', 'a'), ('ok', 'b'), ('ok', 'c'),
                               ('not ok', 'd'), ('not ok', 'e'),
                               ('not ok', 'f'), ('not ok', 'g')])

    def test_a_bad_job_is_refused(self):
        with tempfile.TemporaryDirectory() as d:
            job = lava.job('series', d, small_plan(d), 'Linux x')
            del job['actions'][1]['boot']['method']
            path = os.path.join(d, 'job.yaml')
            with open(path, 'w') as f:
                json.dump(job, f)
            ok, msg = lava.validate(path)
            if ok is None:
                self.skipTest(msg)
            self.assertFalse(ok)


class LogTest(unittest.TestCase):
    """A LAVA log made of the kept run's guest output (the console port
    carries the test port's lines) parses to that run's rows."""

    def test_console_of(self):
        text = ('- {"dt": "2026-12-04T22:00:00", "lvl": "info", '
                '"msg": "start"}\n'
                '- {"dt": "2026-12-04T22:00:01", "lvl": "target", '
                '"msg": "MMWB-BEGIN a"}\n'
                'not a record\n')
        self.assertEqual(lava.console_of(text), 'MMWB-BEGIN a\n')

    def test_lavas_own_escapes(self):
        """LAVA's yaml_dump double-quotes with YAML escapes (\\xE9,
        \\e) that JSON does not know: no line may be lost."""
        text = ('- {"dt": "x", "lvl": "target", "msg": "ok 1 caf\\xE9"}\n'
                '- {"dt": "x", "lvl": "target", "msg": '
                '"\\e[31mnot ok 2 x\\e[0m"}\n')
        self.assertEqual(lava.console_of(text),
                         'ok 1 caf\u00e9\n\x1b[31mnot ok 2 x\x1b[0m\n')

    def test_a_broken_record_is_an_error(self):
        from mmwb.common import StepError
        with self.assertRaisesRegex(StepError, 'output.yaml:2'):
            lava.console_of('- {"lvl": "target", "msg": "a"}\n'
                            '- {"lvl": "target", "msg": "b\n')

    def test_parse_lava_log(self):
        self.parse_lava_log(framed=False)

    @unittest.skipUnless(os.access(test_protocol.BUSYBOX, os.X_OK),
                         'busybox-static missing')
    def test_parse_framed_lava_log(self):
        """The same run, its port framed as the guest frames it now."""
        self.parse_lava_log(framed=True)

    def parse_lava_log(self, framed):
        kept = os.path.join(test_verdict.DATA, 'guest-faultaround')
        with open(os.path.join(kept, 'series', 'tests.log')) as f:
            text = f.read()
        if framed:
            text = test_protocol.frame(text, text.count(protocol.BEGIN))
        lines = text.splitlines()
        with tempfile.TemporaryDirectory() as d:
            log = os.path.join(d, 'output.yaml')
            with open(log, 'w') as f:
                f.write('- {"dt": "x", "lvl": "target", "msg": '
                        '"[    0.000000] Linux version 7.3.4"}\n')
                for x in lines:
                    f.write('- ' + json.dumps({'dt': 'x', 'lvl': 'target',
                                               'msg': x}) + '\n')
            p = subprocess.run([sys.executable, '-m', 'mmwb', 'parse',
                                '--lava-log', log, '--plan',
                                os.path.join(kept, 'plan'), '--kernel',
                                'series'], cwd=test_verdict.TOOLS, capture_output=True,
                               text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        got = [x.split('\t')[:5] for x in p.stdout.splitlines()]
        self.assertEqual(got, test_verdict.KeptRunTest.kept(
            test_verdict.KeptRunTest, 'series'))
