"""Cross-layer equalization (Nagel et al., "Data-Free Quantization", 2019), adapted to per-channel
weights.

With per-channel weights the weights of a layer do not care how its output channels are scaled;
what suffers is the per-TENSOR activation between two layers when its channels have very different
ranges. For a pair A -> B where the activation in between is positively homogeneous (relu or none:
f(x/s) = f(x)/s for s > 0) we divide A's output channel c (weights and bias) by s_c and multiply
B's input channel c by s_c; the float function is unchanged. A squeeze-excite block between them
is allowed: its first dense layer's input column c is multiplied by s_c too, so the gate is
unchanged. Never across h-swish, relu6 or clip: they are not homogeneous.

- B depthwise: B's own per-channel weights absorb s_c for free, so the activation's channels are
  fully equalized, ``s_c = r_c / max r`` (r: per-channel range of the activation on calibration data).
  With a channel multiplier m, B's output channels c*m .. c*m+m-1 all read channel c and all take s_c.
- B a regular convolution: B's input column c grows by s_c, hurting B's per-output-channel weight
  ranges, so ranges are balanced, ``s_c = sqrt(r_c / w_c)`` (normalised), w_c = max |B[:, c]|.

Scales are clipped to [1/MAX_SCALE, MAX_SCALE] so dead channels do not blow up int32 biases.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mnv3c.ir.graph import Graph, Node
from mnv3c.quant.calibrate import channel_absmax

MAX_SCALE = 32.0
HOMOGENEOUS_ACTS = ("none", "relu")


@dataclass
class Pair:
    first: str  # node A (conv2d or depthwise_conv2d)
    second: str  # node B (conv2d or depthwise_conv2d)
    se: str | None  # squeeze_excite node between them, if any
    tensor: str  # A's output, whose channels are equalized


def find_pairs(graph: Graph) -> list[Pair]:
    """Every A -> [SE ->] B chain where equalization leaves the float function unchanged."""
    consumers = graph.consumers()
    pairs = []
    for a in graph.nodes:
        if not _is_conv(a) or a.attrs.get("act", "none") not in HOMOGENEOUS_ACTS or a.outputs[0] in graph.outputs:
            continue
        users = consumers.get(a.outputs[0], [])
        if len(users) != 1:
            continue
        se = None
        nxt = users[0]
        if nxt.op == "squeeze_excite" and nxt.outputs[0] not in graph.outputs:
            se, users = nxt, consumers.get(nxt.outputs[0], [])
            if len(users) != 1:
                continue
            nxt = users[0]
        if _is_conv(nxt) and nxt.inputs[0] == (se or a).outputs[0]:
            pairs.append(Pair(a.name, nxt.name, se.name if se else None, a.outputs[0]))
    return pairs


def _is_conv(n: Node) -> bool:
    return n.op == "depthwise_conv2d" or (n.op == "conv2d" and int(n.attrs.get("group", 1)) == 1)


def equalize(graph: Graph, calib: np.ndarray, batch_size: int = 32) -> tuple[Graph, list[dict]]:
    """A new, equalized graph and a report (one entry per pair: names and the spread max/mean of
    the per-channel ranges of the activation between them, before and after)."""
    g = graph.copy()
    pairs = find_pairs(g)
    if not pairs:
        return g, []
    ranges = channel_absmax(g, calib, [p.tensor for p in pairs], batch_size)
    report = []
    for p in pairs:
        a, b = g.node(p.first), g.node(p.second)
        r = ranges[p.tensor].astype(np.float64)
        wb = g.tensors[b.inputs[1]].data
        if b.op == "depthwise_conv2d":
            s = r / max(r.max(), 1e-12)
        else:
            col = np.abs(wb).max(axis=(0, 2, 3)).astype(np.float64)
            s = np.sqrt(r / np.maximum(col, 1e-12))
            s = s / max(np.sqrt(r.max() / max(col.max(), 1e-12)), 1e-12)
        s = np.clip(np.where(r > 0, s, 1.0), 1.0 / MAX_SCALE, MAX_SCALE)
        _scale_outputs(g, a, 1.0 / s)
        if p.se is not None:
            w1 = g.tensors[g.node(p.se).inputs[1]]
            w1.data = (w1.data * s[None, :]).astype(w1.data.dtype)
        wbt = g.tensors[b.inputs[1]]
        if b.op == "depthwise_conv2d":  # output channel o reads input channel o // multiplier
            factor = np.repeat(s, wbt.data.shape[0] // s.size).reshape(-1, 1, 1, 1)
        else:
            factor = s.reshape(1, -1, 1, 1)
        wbt.data = (wbt.data * factor).astype(wbt.data.dtype)
        after = r / s
        report.append({"first": p.first, "second": p.second, "through_se": p.se,
                       "range_spread_before": float(r.max() / max(r.mean(), 1e-12)),
                       "range_spread_after": float(after.max() / max(after.mean(), 1e-12))})
    g.meta.setdefault("quant", {})["equalized_pairs"] = report
    return g, report


def _scale_outputs(g: Graph, node: Node, factor: np.ndarray) -> None:
    """Multiply output channel c of conv ``node`` (weights and bias) by factor[c]."""
    w = g.tensors[node.inputs[1]]
    w.data = (w.data * factor.reshape(-1, 1, 1, 1)).astype(w.data.dtype)
    b = g.tensors[node.inputs[2]]
    b.data = (b.data * factor).astype(b.data.dtype)
