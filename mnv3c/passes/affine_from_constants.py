"""Turn the constant per-channel scales and shifts no layer could absorb into `affine` nodes.

What is left after the folding passes (e.g. ``a * act(x) + b`` before a padded conv, or a scale
on a graph output) is a runtime ``mul``/``div``/``add``/``sub`` with a scalar or per-channel
constant on an NCHW tensor. As `affine` (chains merged into one) it quantizes as a 1x1 depthwise
convolution, so it gets the int8 kernel, simulator and C code that already exist. An activation
already fused into the op (``add`` takes one) stays fused into the `affine`.
"""

from __future__ import annotations

import numpy as np

from mnv3c.ir.graph import Graph
from mnv3c.passes.fold_scale import linear_form
from mnv3c.passes.match import act_of, const, producer_op, replace_node, sole_consumer


def affine_from_constant_ops(graph: Graph) -> Graph:
    g = graph.copy()
    for node in list(g.nodes):
        if node.op not in ("mul", "div", "add", "sub"):
            continue
        x = next((i for i in node.inputs[:2] if i and const(g, i) is None), None)
        if x is None or len(g.tensors[x].shape) != 4:
            continue
        form = linear_form(g, node, x)
        if form is None:
            continue
        scale, shift = form[0], form[1]
        prev = producer_op(g, x, "affine")
        if prev is not None and act_of(prev) == "none" and sole_consumer(g, x) is node:
            s0, t0 = const(g, prev.inputs[1]).astype(np.float64), const(g, prev.inputs[2]).astype(np.float64)
            scale, shift, x = s0 * scale, t0 * scale + shift, prev.inputs[0]
            g.nodes.remove(prev)
        s = g.add_const(g.unique_name(f"{node.name}.scale"), scale.astype(np.float32)).name
        t = g.add_const(g.unique_name(f"{node.name}.shift"), shift.astype(np.float32)).name
        replace_node(node, "affine", [x, s, t], {k: v for k, v in node.attrs.items() if k in ("act", "act_params")})
    g.remove_unused_tensors()
    return g
