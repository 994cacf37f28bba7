"""Fuse an activation into the layer that produces its input (``act``/``act_params`` attributes).

The int8 kernels apply the activation while requantising the accumulator, so a fused activation
costs nothing and saves a full pass over the tensor (and its quantisation error). Producers:
conv2d, depthwise_conv2d, dense, add, affine; the producer's output must have no other reader.
``clip(0, inf)`` is a relu.
"""

from __future__ import annotations

import math
from typing import Any

from mnv3c.ir.graph import Graph, Node
from mnv3c.ir.ops import ACTIVATIONS as _FUSED_ACTS
from mnv3c.passes.match import absorb, act_of, producer, sole_consumer

FUSE_INTO = ("conv2d", "depthwise_conv2d", "dense", "add", "affine")
# The standalone activation ops: every fusable activation is also an op of the same name.
ACTIVATIONS = tuple(a for a in _FUSED_ACTS if a != "none")


def _as_act(node: Node) -> tuple[str, dict[str, Any]]:
    """The ``act``/``act_params`` pair equivalent to the standalone activation ``node``."""
    if node.op == "clip":
        lo, hi = float(node.attrs.get("min", -math.inf)), float(node.attrs.get("max", math.inf))
        return ("relu", {}) if lo == 0.0 and hi == math.inf else ("clip", {"min": lo, "max": hi})
    if node.op == "hard_sigmoid":
        return "hard_sigmoid", {"alpha": float(node.attrs.get("alpha", 0.2)), "beta": float(node.attrs.get("beta", 0.5))}
    if node.op == "gelu":
        return "gelu", {"approximate": node.attrs.get("approximate", "none")}
    return node.op, {}


def fuse_activation(graph: Graph) -> Graph:
    g = graph.copy()
    for act in [n for n in g.nodes if n.op in ACTIVATIONS]:
        layer = producer(g, act.inputs[0])
        if layer is None or layer.op not in FUSE_INTO or act_of(layer) != "none":
            continue
        if sole_consumer(g, act.inputs[0]) is not act:
            continue
        name, params = _as_act(act)
        layer.attrs["act"], layer.attrs["act_params"] = name, params
        absorb(g, layer, act, [act.op])
    g.remove_unused_tensors()
    return g
