"""Reduce data movement to the minimum of views.

- a transpose that only moves size-1 dimensions does not move data: it becomes a reshape;
- a reshape of a reshape reads the original tensor (one view instead of a chain);
- a reshape to the shape it already has is removed;
- every reshape left is marked ``view=True``: in NCHW order it is a reinterpretation of the same
  buffer, so the back end must not copy.
"""

from __future__ import annotations

from mnv3c.ir.graph import Graph
from mnv3c.passes.match import bypass, producer_op, remove_if_unused


def _moves_only_unit_dims(in_shape: tuple[int, ...], perm: tuple[int, ...]) -> bool:
    moved = [p for p in perm if in_shape[p] != 1]
    return moved == sorted(moved)


def simplify_views(graph: Graph) -> Graph:
    g = graph.copy()
    for node in g.nodes:
        if node.op == "transpose":
            in_shape = g.tensors[node.inputs[0]].shape
            perm = tuple(int(p) for p in node.attrs.get("perm", range(len(in_shape) - 1, -1, -1)))
            if _moves_only_unit_dims(in_shape, perm):
                node.op, node.attrs = "reshape", {"shape": g.tensors[node.outputs[0]].shape}
    for node in [n for n in g.nodes if n.op == "reshape"]:
        inner = producer_op(g, node.inputs[0], "reshape")
        if inner is not None:
            node.inputs[0] = inner.inputs[0]
            remove_if_unused(g, [inner])
        if g.tensors[node.inputs[0]].shape == g.tensors[node.outputs[0]].shape and bypass(g, node):
            continue
        node.attrs["view"] = True
    g.remove_unused_tensors()
    return g
