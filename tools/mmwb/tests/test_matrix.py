# SPDX-License-Identifier: GPL-2.0
"""Build matrix: which option builds an object, which programs a patch
touches."""

import os
import tempfile
import unittest

from mmwb import matrix


class MatrixTest(unittest.TestCase):
    def test_object_option(self):
        with tempfile.TemporaryDirectory() as d:
            os.makedirs(os.path.join(d, 'mm'))
            with open(os.path.join(d, 'mm', 'Makefile'), 'w') as f:
                f.write('obj-y := filemap.o memory.o\n'
                        'obj-$(CONFIG_HMM_MIRROR) += hmm.o\n'
                        'obj-$(CONFIG_X) += hmmx.o\n')
            self.assertEqual(matrix.object_option(d, 'mm/hmm.o'),
                             'CONFIG_HMM_MIRROR')
            self.assertIsNone(matrix.object_option(d, 'mm/filemap.o'))
            self.assertIsNone(matrix.object_option(d, 'mm/'))
            out = os.path.join(d, 'out')
            os.makedirs(out)
            with open(os.path.join(out, '.config'), 'w') as f:
                f.write('CONFIG_X=y\n')
            self.assertFalse(matrix.enabled(out, 'mm/hmm.o', d))
            self.assertTrue(matrix.enabled(out, 'mm/hmmx.o', d))
            self.assertTrue(matrix.enabled(out, 'mm/memory.o', d))

    def test_driver_object(self):
        """A composite object's part in a Kbuild file names its option,
        and a configuration that exists for one driver compiles only
        that driver's objects."""
        with tempfile.TemporaryDirectory() as d:
            nv = os.path.join(d, 'drivers', 'gpu', 'drm', 'nouveau')
            os.makedirs(nv)
            os.makedirs(os.path.join(d, 'mm'))
            with open(os.path.join(nv, 'Kbuild'), 'w') as f:
                f.write('nouveau-y += nouveau_drm.o\n'
                        'nouveau-$(CONFIG_DRM_NOUVEAU_SVM) += nouveau_svm.o\n')
            obj = 'drivers/gpu/drm/nouveau/nouveau_svm.o'
            self.assertEqual(matrix.object_option(d, obj),
                             'CONFIG_DRM_NOUVEAU_SVM')
            for name, cfg in (('kbuild', ''), ('nouveau-svm',
                              'CONFIG_DRM_NOUVEAU_SVM=y\n')):
                out = os.path.join(d, name)
                os.makedirs(out)
                with open(os.path.join(out, '.config'), 'w') as f:
                    f.write(cfg)
            self.assertFalse(matrix.enabled(os.path.join(d, 'kbuild'), obj, d))
            self.assertTrue(matrix.enabled(os.path.join(d, 'nouveau-svm'),
                                           obj, d))
            self.assertFalse(matrix.enabled(os.path.join(d, 'nouveau-svm'),
                                            'mm/memory.o', d))

    def test_helpers_are_not_programs(self):
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, 'p')
            with open(p, 'w') as f:
                for n in ('gup_test', 'hugepage_settings'):
                    x = f'tools/testing/selftests/mm/{n}.c'
                    f.write(f'diff --git a/{x} b/{x}\n--- a/{x}\n+++ b/{x}\n')
            self.assertEqual(matrix.patch_selftests(p, {'gup_test', 'cow'}),
                             ['gup_test'])


if __name__ == '__main__':
    unittest.main()
