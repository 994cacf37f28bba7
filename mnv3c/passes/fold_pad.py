"""Fold an explicit spatial `pad` into the padding of the convolution or pooling that reads it.

Exporters (and TF-converted models) write asymmetric "same" padding as a separate Pad; the kernels
pad implicitly for free, while an explicit pad costs a full copy of the tensor. Only constant
padding on H and W that the consumer would itself fill with the same value is folded: zero for
convolutions and for average pooling that counts padding (or has none of its own), -inf for max
pooling. The pad must have no other reader.
"""

from __future__ import annotations

import math

from mnv3c.ir.graph import Graph, Node
from mnv3c.passes.match import remove_if_unused, sole_consumer

_CONVS = ("conv2d", "depthwise_conv2d")


def _spatial_pads(pad: Node, rank: int) -> tuple[int, int, int, int] | None:
    """(top, left, bottom, right) for a 4-D constant pad touching only H and W, growing only."""
    pads = [int(p) for p in pad.attrs["pads"]]
    if rank != 4 or pad.attrs.get("mode", "constant") != "constant" or any(p < 0 for p in pads):
        return None
    if pads[0] or pads[1] or pads[4] or pads[5]:
        return None
    return pads[2], pads[3], pads[6], pads[7]


def _accepts(consumer: Node, value: float) -> bool:
    """Whether ``consumer``'s own padding fills with ``value`` (after the fold)."""
    if consumer.op in _CONVS:
        return value == 0.0
    if consumer.attrs.get("ceil_mode"):
        return False
    if consumer.op == "avg_pool":
        return value == 0.0 and (consumer.attrs.get("count_include_pad") or not any(consumer.attrs.get("pads", ())))
    return consumer.op == "max_pool" and math.isinf(value) and value < 0


def fold_pad_into_conv(graph: Graph) -> Graph:
    g = graph.copy()
    for pad in [n for n in g.nodes if n.op == "pad"]:
        extra = _spatial_pads(pad, len(g.tensors[pad.inputs[0]].shape))
        consumer = sole_consumer(g, pad.outputs[0])
        if extra is None or consumer is None or consumer.inputs[0] != pad.outputs[0]:
            continue
        if not _accepts(consumer, float(pad.attrs.get("value", 0.0))):
            continue
        own = consumer.attrs.get("pads") or (0, 0, 0, 0)
        consumer.attrs["pads"] = tuple(int(a) + b for a, b in zip(own, extra))
        if consumer.op == "avg_pool":
            consumer.attrs["count_include_pad"] = True
        consumer.inputs[0] = pad.inputs[0]
        consumer.fused.append("pad")
        remove_if_unused(g, [pad])
    g.remove_unused_tensors()
    return g
