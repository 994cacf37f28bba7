"""Fold per-channel linear ops after a conv/depthwise/dense layer into its weights and bias.

Handled, with a constant that is a scalar or one value per output channel ([1,C,1,1] for convs,
[C] for dense): ``mul`` and ``div`` (a scale), ``add`` and ``sub`` (a bias, e.g. exporters that
write the bias as Reshape + Add), and `affine` (a batch norm that could not be folded directly).
Chains (conv -> add -> mul -> affine) fold one op after another. The layer's output must have no
other reader, and no activation may be fused into it yet.
"""

from __future__ import annotations

import numpy as np

from mnv3c.ir.graph import Graph, Node
from mnv3c.passes.match import (
    WEIGHTED,
    absorb,
    act_of,
    can_absorb,
    channel_vector,
    const,
    scale_and_shift,
    sole_consumer,
    split_const,
)


def linear_form(g: Graph, op: Node, x: str) -> tuple[np.ndarray, np.ndarray, list[str]] | None:
    """``op`` applied to ``x`` as (scale, shift, what to record in ``fused``), if it is per-channel linear."""
    shape = g.tensors[x].shape
    if op.op == "affine":
        scale, shift = const(g, op.inputs[1]), const(g, op.inputs[2])
        if op.inputs[0] != x or act_of(op) != "none" or scale is None or shift is None:
            return None
        return scale.astype(np.float64), shift.astype(np.float64), op.fused or ["affine"]
    split = split_const(g, op) if op.op in ("mul", "div", "add", "sub") else None
    if split is None:
        return None
    vec = channel_vector(split[1], shape)
    if vec is None or (op.op in ("div", "sub") and split[2] != 1):
        return None
    v = vec.astype(np.float64)
    ones, zeros = np.ones_like(v), np.zeros_like(v)
    if op.op == "mul":
        return v, zeros, ["scale"]
    if op.op == "div":
        return (1.0 / v, zeros, ["scale"]) if np.all(v != 0) else None
    return ones, (v if op.op == "add" else -v), ["bias_add"]


def fold_scale_into_conv(graph: Graph) -> Graph:
    g = graph.copy()
    for layer in [n for n in g.nodes if n.op in WEIGHTED]:
        while can_absorb(g, layer):
            nxt = sole_consumer(g, layer.outputs[0])
            form = linear_form(g, nxt, layer.outputs[0]) if nxt is not None else None
            if form is None:
                break
            scale, shift, fused = form
            scale_and_shift(g, layer, scale, shift)
            absorb(g, layer, nxt, fused)
    g.remove_unused_tensors()
    return g
