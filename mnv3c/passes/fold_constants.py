"""Evaluate nodes whose inputs are all constants and replace them by their value.

The frontend folds while importing, but passes can create new all-constant nodes, and a graph may be
built by hand; later passes (scale folding, pattern matching) only recognise constants, not
computations that happen to produce one.
"""

from __future__ import annotations

import numpy as np

from mnv3c.ir.graph import Graph, Tensor
from mnv3c.reference.float_exec import run_node


def fold_constants(graph: Graph) -> Graph:
    g = graph.copy()
    for node in list(g.nodes):
        ins = [i for i in node.inputs if i]
        if not ins or not all(g.tensors[i].is_const for i in ins):
            continue
        values = run_node(node, g, [g.tensors[i].data if i else None for i in node.inputs])
        for name, value in zip(node.outputs, values):
            value = np.asarray(value)
            g.tensors[name] = Tensor(name, tuple(value.shape), str(value.dtype), value)
        g.nodes.remove(node)
    g.remove_unused_tensors()
    return g
