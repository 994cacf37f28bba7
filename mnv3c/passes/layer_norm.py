"""Recognise LayerNorm exported as its 7-op chain, as one `layer_norm` node.

``m = ReduceMean(x); d = x - m; v = ReduceMean(Pow(d, 2)); y = d / Sqrt(v + eps)`` over the
trailing axes (Paddle2ONNX and older torch exports; ``Mul(d, d)`` for the square and a
multiplication by ``1 / Sqrt`` are accepted too), followed by an optional elementwise scale
(``Mul``) and shift (``Add``) with constants over the normalised axes, which become its
scale and bias inputs. ONNX's own LayerNormalization imports directly as `layer_norm`.
"""

from __future__ import annotations

import numpy as np

from mnv3c.ir.graph import Graph, Node
from mnv3c.passes.match import (approx, consumers, producer, producer_op, remove_if_unused, replace_node,
                                sole_consumer, split_const)


def _trailing_axes(node: Node, rank: int) -> int | None:
    """The first axis when ``node`` is a keepdims reduce_mean over axis..rank-1, else None."""
    axes = tuple(sorted(int(a) % rank for a in node.attrs.get("axes") or ()))
    if not node.attrs.get("keepdims", True) or not axes or axes != tuple(range(axes[0], rank)):
        return None
    return axes[0]


def _square_of(g: Graph, tensor: str) -> str | None:
    """d when ``tensor`` is d ** 2 or d * d."""
    p = producer(g, tensor)
    if p is None:
        return None
    if p.op == "mul" and p.inputs[0] == p.inputs[1]:
        return p.inputs[0]
    split = split_const(g, p) if p.op == "pow" else None
    if split is not None and split[2] == 1 and split[1].size == 1 and approx(float(split[1].reshape(())), 2.0):
        return split[0]
    return None


def _normalized(g: Graph, node: Node) -> tuple[str, int, float, list[Node]] | None:
    """(x, axis, epsilon, nodes) when ``node`` computes (x - mean) / sqrt(var + eps)."""
    if node.op == "div":
        d, root = node.inputs
        sqrt = producer_op(g, root, "sqrt")
        nodes = [node]
    else:  # d * (1 / sqrt(...))
        recip = next((producer_op(g, i, "div") for i in node.inputs if producer_op(g, i, "div")), None)
        one = split_const(g, recip) if recip is not None else None
        if node.op != "mul" or one is None or one[2] != 0 or not approx(float(one[1].reshape(-1)[0]), 1.0):
            return None
        d = node.inputs[1 - node.inputs.index(recip.outputs[0])]  # type: ignore[union-attr]
        sqrt, nodes = producer_op(g, one[0], "sqrt"), [node, recip]  # type: ignore[list-item]
    add = producer_op(g, sqrt.inputs[0], "add") if sqrt is not None else None
    eps = split_const(g, add) if add is not None else None
    var = producer_op(g, eps[0], "reduce_mean") if eps is not None and eps[1].size == 1 else None
    sub = producer_op(g, d, "sub")
    mean = producer_op(g, sub.inputs[1], "reduce_mean") if sub is not None else None
    if var is None or mean is None or _square_of(g, var.inputs[0]) != d or mean.inputs[0] != sub.inputs[0]:
        return None
    rank = len(g.tensors[d].shape)
    axis = _trailing_axes(mean, rank)
    if axis is None or _trailing_axes(var, rank) != axis:
        return None
    square = producer(g, var.inputs[0])
    return sub.inputs[0], axis, float(eps[1].reshape(())), nodes + [sqrt, add, var, square, sub, mean]  # type: ignore


def _affine_param(g: Graph, node: Node | None, op: str, tensor: str, axis: int) -> tuple[np.ndarray, Node] | None:
    """The constant of ``node`` (a ``op`` reading ``tensor``) when it broadcasts over the axes from ``axis`` only."""
    split = split_const(g, node) if node is not None and node.op == op else None
    shape = g.tensors[tensor].shape
    if split is None or split[0] != tensor:
        return None
    value = split[1]
    lead = value.shape[: max(0, value.ndim - (len(shape) - axis))]
    if value.ndim > len(shape) or any(d != 1 for d in lead):
        return None
    try:
        full = np.broadcast_to(value.reshape(value.shape[len(lead):]), shape[axis:])
    except ValueError:
        return None
    return np.ascontiguousarray(full, np.float32), node  # type: ignore[return-value]


def recognize_layer_norm(graph: Graph) -> Graph:
    g = graph.copy()
    for node in list(g.nodes):
        if node not in g.nodes or node.op not in ("div", "mul"):
            continue
        found = _normalized(g, node)
        if found is None:
            continue
        x, axis, eps, parts = found
        out, inputs = node.outputs[0], [x]
        scale = _affine_param(g, sole_consumer(g, out), "mul", out, axis)
        if scale is not None:
            out = scale[1].outputs[0]
        shift = _affine_param(g, sole_consumer(g, out), "add", out, axis)
        if shift is not None:
            out = shift[1].outputs[0]
        tail = [p[1] for p in (scale, shift) if p is not None]
        width = g.tensors[x].shape[axis:]
        inputs.append(g.add_const(g.unique_name(f"{node.name}.scale"),
                                  scale[0] if scale is not None else np.ones(width, np.float32)).name)
        if shift is not None:
            inputs.append(g.add_const(g.unique_name(f"{node.name}.bias"), shift[0]).name)
        for t in tail:
            g.nodes.remove(t)
        node.outputs = [out]
        replace_node(node, "layer_norm", inputs, {"axis": axis, "epsilon": eps})
        remove_if_unused(g, [p for p in parts if p is not node])
    g.remove_unused_tensors()
    return g
