"""Fold a constant per-channel scale or shift that follows an activation into the next linear layer.

Paddle exports inference-time dropout as ``Mul(x, 0.8)`` before the classifier, PP-LCNetV3 writes
learned ``a * act(x) + b``: ops `fold_scale_into_conv` cannot move backwards through the
activation. When the op's only reader is a conv/depthwise/dense layer (possibly through a flatten
`reshape` or a `global_avg_pool`, both linear per channel), that layer absorbs it exactly:
``w'[:, c] = w[:, c] * s[c]`` and ``b' = b + sum_c w[:, c] * t[c]``. A shift needs a layer without
padding (the zeros it pads with would not be shifted). Chains fold from the last op backwards.
"""

from __future__ import annotations

import numpy as np

from mnv3c.ir.graph import Graph, Node
from mnv3c.passes.fold_scale import linear_form
from mnv3c.passes.match import WEIGHTED, const, set_const_input, sole_consumer, weights_and_bias


def _reader(g: Graph, tensor: str) -> tuple[Node, int] | None:
    """The layer reading ``tensor`` (through flatten/pooling) and how many of its input columns
    each channel of ``tensor`` covers."""
    cur, repeat = tensor, 1
    while True:
        nxt = sole_consumer(g, cur)
        if nxt is None or nxt.inputs[0] != cur:
            return None
        shape = g.tensors[cur].shape
        if nxt.op == "global_avg_pool":
            cur = nxt.outputs[0]
        elif nxt.op == "reshape" and repeat == 1 and len(shape) == 4:
            out = tuple(nxt.attrs["shape"])
            if out != (shape[0], shape[1] * shape[2] * shape[3]):
                return None
            cur, repeat = nxt.outputs[0], shape[2] * shape[3]
        elif nxt.op in WEIGHTED and weights_and_bias(g, nxt) is not None:
            grouped = nxt.op == "conv2d" and int(nxt.attrs.get("group", 1)) != 1
            return None if grouped else (nxt, repeat)
        else:
            return None


def _absorb_input(g: Graph, layer: Node, scale: np.ndarray, shift: np.ndarray, repeat: int) -> bool:
    """Rewrite ``layer`` so ``layer(x)`` computes the old ``layer(x * scale + shift)``; False if not exact."""
    w, b = (a.astype(np.float64) for a in weights_and_bias(g, layer))  # type: ignore[union-attr]
    if np.any(shift != 0) and layer.op != "dense" and any(layer.attrs.get("pads") or ()):
        return False
    if layer.op == "dense":
        s, t = np.repeat(scale, repeat), np.repeat(shift, repeat)
        new_w, new_b = w * s[None, :], b + w @ t
    elif layer.op == "conv2d":
        new_w = w * scale[None, :, None, None]
        new_b = b + (w * shift[None, :, None, None]).sum(axis=(1, 2, 3))
    else:  # depthwise: output channel o reads input channel o // multiplier
        m = w.shape[0] // len(scale)
        s, t = np.repeat(scale, m), np.repeat(shift, m)
        new_w, new_b = w * s[:, None, None, None], b + w.reshape(len(w), -1).sum(axis=1) * t
    set_const_input(g, layer, 1, new_w, "weight")
    set_const_input(g, layer, 2, new_b, "bias")
    return True


def fold_scale_into_next_layer(graph: Graph) -> Graph:
    g = graph.copy()
    for node in reversed(list(g.nodes)):
        if node.op not in ("mul", "div", "add", "sub", "affine"):
            continue
        x = next((i for i in node.inputs[:2] if i and const(g, i) is None), None)
        form = linear_form(g, node, x) if x is not None else None
        reader = _reader(g, node.outputs[0]) if form is not None else None
        if reader is None or not _absorb_input(g, reader[0], form[0], form[1], reader[1]):  # type: ignore[index]
            continue
        reader[0].fused.append(node.op)
        g.nodes.remove(node)
        g.replace_uses(node.outputs[0], x)
    g.remove_unused_tensors()
    return g
