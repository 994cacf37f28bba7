"""Fold inference batch norm into the conv/depthwise/dense layer that produces its input.

BN is a per-channel ``x*s + t`` (s = scale/sqrt(var+eps), t = bias - mean*s), so it moves into the
layer's weights and bias at no cost. A BN with no such producer (or whose producer's output is read
elsewhere too) becomes the equivalent `affine` op, which `fold_scale_into_conv` may still fold
when a bias add sits in between; the affine keeps ``fused=["batch_norm"]`` so reports say what it was.
"""

from __future__ import annotations

import numpy as np

from mnv3c.ir.graph import Graph, Node
from mnv3c.passes.match import absorb, can_absorb, const, producer, replace_node, scale_and_shift, set_const_input, sole_consumer


def _as_scale_shift(g: Graph, bn: Node) -> tuple[np.ndarray, np.ndarray] | None:
    params = [const(g, i) for i in bn.inputs[1:5]]
    if any(p is None for p in params):
        return None
    gamma, beta, mean, var = (p.astype(np.float64) for p in params)  # type: ignore[union-attr]
    s = gamma / np.sqrt(var + float(bn.attrs.get("epsilon", 1e-5)))
    return s, beta - mean * s


def fold_batch_norm(graph: Graph) -> Graph:
    g = graph.copy()
    for bn in [n for n in g.nodes if n.op == "batch_norm"]:
        folded = _as_scale_shift(g, bn)
        if folded is None:
            continue
        scale, shift = folded
        x = bn.inputs[0]
        layer = producer(g, x)
        if layer is not None and can_absorb(g, layer) and sole_consumer(g, x) is bn:
            scale_and_shift(g, layer, scale, shift)
            absorb(g, layer, bn, ["batch_norm"])
            continue
        replace_node(bn, "affine", [x], {})
        set_const_input(g, bn, 1, scale, "scale")
        set_const_input(g, bn, 2, shift, "shift")
        bn.fused = ["batch_norm"]
    g.remove_unused_tensors()
    return g
