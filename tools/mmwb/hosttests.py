# SPDX-License-Identifier: GPL-2.0
"""Tests of the series that would run on the host, not in the guest, as
tools/testing/vma compiles real mm code in userspace.

Each host test is a record of HOST: what it compiles from a tree
(copied, so that a mutant can change it: mutants.py) and what it only
reads (linked), and how a copy is built and judged.  The series has
none today: the anon-order harness went with the patch it checked
(Documentation/topics/anon-order.rst); mutants.py keeps the path, and
its unit tests run it with a made-up host test."""

from dataclasses import dataclass


def last_line(text):
    lines = [x for x in (text or '').splitlines() if x.strip()]
    return lines[-1] if lines else ''


@dataclass
class HostTest:
    copy: tuple     # paths of the tree it compiles: a mutant may change them
    link: tuple     # paths it only reads
    judge: object   # judge(root, out) -> (verdict, detail, failed rows)


HOST = {}
