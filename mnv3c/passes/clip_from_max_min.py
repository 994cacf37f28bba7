"""Turn ``Max(x, c)`` / ``Min(x, c)`` with a scalar constant into `clip`, and merge clips in a row.

ONNX's own function body of HardSigmoid is ``Min(Max(alpha*x + beta, 0), 1)``, and hand-written
exports clamp with Max/Min too; as one `clip` they read as what `recognize_hard_sigmoid` and the
activation fusion know. Two clips in a row (the inner one read by nothing else) are one clip with
the intersected bounds.
"""

from __future__ import annotations

import math

from mnv3c.ir.graph import Graph
from mnv3c.passes.match import producer_op, replace_node, sole_consumer, split_const


def clip_from_max_min(graph: Graph) -> Graph:
    g = graph.copy()
    for node in list(g.nodes):
        split = split_const(g, node) if node.op in ("max", "min") else None
        if split is None or split[1].size != 1 or g.tensors[split[0]].shape != g.tensors[node.outputs[0]].shape:
            continue
        bound = float(split[1].reshape(()))
        lo, hi = (bound, math.inf) if node.op == "max" else (-math.inf, bound)
        replace_node(node, "clip", [split[0]], {"min": lo, "max": hi})
    for node in list(g.nodes):
        inner = producer_op(g, node.inputs[0], "clip") if node.op == "clip" else None
        if inner is None or sole_consumer(g, inner.outputs[0]) is not node or inner.attrs.get("act", "none") != "none":
            continue
        lo = max(float(inner.attrs["min"]), float(node.attrs["min"]))
        hi = min(float(inner.attrs["max"]), float(node.attrs["max"]))
        if lo > hi:
            continue
        node.inputs, node.attrs = [inner.inputs[0]], {**node.attrs, "min": lo, "max": hi}
        g.nodes.remove(inner)
    g.remove_unused_tensors()
    return g
