# SPDX-License-Identifier: GPL-2.0
"""patchinfo: the one answer to "what does this patch touch"."""

import os
import tempfile
import unittest

from mmwb import checks, matrix, patchinfo, plan

PATCH = '''From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001
Subject: [PATCH] x

---
diff --git a/mm/filemap.c b/mm/filemap.c
--- a/mm/filemap.c
+++ b/mm/filemap.c
@@ -1 +1 @@
-a
+b
diff --git a/samples/hmm/x.c b/samples/hmm/x.c
--- a/samples/hmm/x.c
+++ b/samples/hmm/x.c
@@ -1 +1 @@
-a
+b
diff --git a/mm/internal.h b/mm/internal.h
--- a/mm/internal.h
+++ b/mm/internal.h
@@ -1 +1 @@
-a
+b
diff --git a/tools/testing/selftests/mm/new_test.c b/tools/testing/selftests/mm/new_test.c
new file mode 100644
--- /dev/null
+++ b/tools/testing/selftests/mm/new_test.c
@@ -0,0 +1 @@
+int main(void) { return 0; }
diff --git a/tools/testing/selftests/mm/Makefile b/tools/testing/selftests/mm/Makefile
--- a/tools/testing/selftests/mm/Makefile
+++ b/tools/testing/selftests/mm/Makefile
@@ -1 +1,2 @@
 TEST_GEN_FILES = cow
+TEST_GEN_FILES += new_test
diff --git a/Documentation/mm/x.rst b/Documentation/mm/x.rst
deleted file mode 100644
--- a/Documentation/mm/x.rst
+++ /dev/null
@@ -1 +0,0 @@
-gone
diff --git a/Documentation/mm/y.rst b/Documentation/mm/y.rst
--- a/Documentation/mm/y.rst
+++ b/Documentation/mm/y.rst
@@ -1 +1 @@
-a
+--- a/not/a/header
-- 
2.47.0
'''


class PatchInfoTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        self.path = os.path.join(self.tmp.name, '0001-x.patch')
        with open(self.path, 'w') as f:
            f.write(PATCH)
        self.info = patchinfo.read(self.path)

    def test_files(self):
        i = self.info
        self.assertEqual(i.paths, (
            'mm/filemap.c', 'samples/hmm/x.c', 'mm/internal.h',
            'tools/testing/selftests/mm/new_test.c',
            'tools/testing/selftests/mm/Makefile', 'Documentation/mm/y.rst'))
        self.assertIn('Documentation/mm/x.rst', i.modified)
        self.assertNotIn('tools/testing/selftests/mm/new_test.c', i.modified)
        self.assertEqual(i.added, ('tools/testing/selftests/mm/new_test.c',))
        self.assertEqual(i.rst, ['Documentation/mm/y.rst'])
        self.assertEqual(i.selftests, ['new_test'])
        self.assertTrue(i.touches(['mm/']))
        self.assertTrue(i.touches(['mm/filemap.c']))
        self.assertFalse(i.touches(['lib/']))

    def test_one_rule_for_kernel_code(self):
        # samples/ is not kernel code for any stage (sparse, the build
        # matrix and kernel-doc once disagreed).
        self.assertEqual(self.info.kernel_objects, ['mm/filemap.o'])
        self.assertEqual(checks.touched_objects([self.path]),
                         ['mm/filemap.o'])
        self.assertEqual(self.info.headers, ['mm/internal.h'])
        with tempfile.TemporaryDirectory() as tree:
            os.makedirs(os.path.join(tree, 'mm'))
            # no git tree: the header's includers are unknown, so all of mm/
            self.assertEqual(matrix.patch_targets(self.path, tree),
                             ['mm/', 'mm/filemap.o'])

    def test_makefile_lines(self):
        self.assertEqual(plan.added_by_patches([self.path]), {'new_test'})
        self.assertEqual(matrix.patch_selftests(self.path, {'new_test'}),
                         ['new_test'])


if __name__ == '__main__':
    unittest.main()
