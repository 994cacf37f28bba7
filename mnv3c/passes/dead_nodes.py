"""Remove nodes none of whose outputs reach a graph output (unused branches of an import, Dropout
masks, leftovers of other rewrites): they would cost time and memory on the device for nothing."""

from __future__ import annotations

from mnv3c.ir.graph import Graph


def eliminate_dead_nodes(graph: Graph) -> Graph:
    g = graph.copy()
    live = set(g.outputs)
    kept = []
    for node in reversed(g.nodes):
        if any(o in live for o in node.outputs):
            kept.append(node)
            live.update(i for i in node.inputs if i)
    g.nodes = kept[::-1]
    g.remove_unused_tensors()
    return g
