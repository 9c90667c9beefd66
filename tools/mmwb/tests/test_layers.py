# SPDX-License-Identifier: GPL-2.0
"""No import circle among the workbench's modules, the imports inside
functions included: each layer imports only the ones below it."""

import os
import re
import unittest

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def imports():
    mods = {f[:-3] for f in os.listdir(HERE) if f.endswith('.py')}
    graph = {m: set() for m in mods}
    for m in mods:
        with open(os.path.join(HERE, m + '.py')) as f:
            text = f.read()
        graph[m] |= set(re.findall(r'from \.(\w+) import', text)) & mods
        for names in re.findall(r'from \. import ([^\n]+)', text):
            graph[m] |= set(re.split(r'[\s,()\\]+', names)) & mods
    return graph


def circles(graph):
    """The strongly connected parts of more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            part = set()
            while True:
                w = stack.pop()
                on.discard(w)
                part.add(w)
                if w == v:
                    break
            if len(part) > 1:
                out.append(sorted(part))
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


class LayersTest(unittest.TestCase):
    def test_no_import_circle(self):
        self.assertEqual(circles(imports()), [])

    def test_finds_a_circle(self):
        self.assertEqual(circles({'a': {'b'}, 'b': {'a'}, 'c': {'a'}}),
                         [['a', 'b']])
