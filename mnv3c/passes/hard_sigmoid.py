"""Recognise hard sigmoid written out as ``relu6(x + 3) / 6``.

Some exporters (and hand-rewritten graphs) spell it ``Div(Clip(Add(x, 3), 0, 6), 6)`` or multiply by
1/6 instead of dividing; more generally ``clip(x + b, 0, c) / c == clip(x/c + b/c, 0, 1)``, i.e.
`hard_sigmoid` with alpha 1/c and beta b/c. The affine form ``clip(a*x + b, 0, 1)`` (a multiplication
or division by a scalar, then the shift; Paddle's decomposed hardsigmoid) is matched too. An ONNX HardSigmoid is already `hard_sigmoid` and keeps
its own alpha and beta (PaddlePaddle uses 0.2, PyTorch 1/6). One node means one table lookup in
the int8 back end instead of three requantised elementwise ops.
"""

from __future__ import annotations

from mnv3c.ir.graph import Graph, Node
from mnv3c.passes.match import approx, producer_op, remove_if_unused, replace_node, split_const

TOL = 1e-6


def scaled_operand(g: Graph, node: Node) -> tuple[str, float] | None:
    """``node`` as (runtime operand, factor) when it is a multiplication or division by a scalar constant."""
    split = split_const(g, node) if node.op in ("mul", "div") else None
    if split is None or split[1].size != 1:
        return None
    x, c, k = split
    value = float(c.reshape(()))
    if node.op == "mul":
        return x, value
    return (x, 1.0 / value) if k == 1 and value != 0 else None


def shifted_clip(g: Graph, tensor: str) -> tuple[str, float, float, list[Node]] | None:
    """``tensor`` as (x, b, c, nodes) when it is ``clip(x + b, 0, c)`` with scalar b and finite c > 0."""
    clip = producer_op(g, tensor, "clip")
    if clip is None or not approx(clip.attrs.get("min"), 0.0, TOL):
        return None
    hi = float(clip.attrs.get("max", float("inf")))
    add = producer_op(g, clip.inputs[0], "add")
    split = split_const(g, add) if add is not None else None
    if not 0 < hi < float("inf") or split is None or split[1].size != 1:
        return None
    return split[0], float(split[1].reshape(())), hi, [clip, add]


def affine_clip(g: Graph, node: Node) -> tuple[str, float, float, list[Node]] | None:
    """(x, alpha, beta, nodes) when ``node`` is ``clip(alpha * x + beta, 0, 1)`` with scalar constants."""
    if node.op != "clip" or not approx(node.attrs.get("min"), 0.0, TOL) or not approx(node.attrs.get("max"), 1.0, TOL):
        return None
    add = producer_op(g, node.inputs[0], "add")
    split = split_const(g, add) if add is not None else None
    if split is None or split[1].size != 1:
        return None
    scale = producer_op(g, split[0], "mul", "div")
    scaled = scaled_operand(g, scale) if scale is not None else None
    if scaled is None:
        return split[0], 1.0, float(split[1].reshape(())), [add]  # type: ignore[list-item]
    return scaled[0], scaled[1], float(split[1].reshape(())), [add, scale]  # type: ignore[list-item]


def recognize_hard_sigmoid(graph: Graph) -> Graph:
    g = graph.copy()
    for node in list(g.nodes):
        affine = affine_clip(g, node)
        if affine is not None:
            x, alpha, beta, parts = affine
            replace_node(node, "hard_sigmoid", [x], {"alpha": alpha, "beta": beta})
            remove_if_unused(g, parts)
            continue
        scaled = scaled_operand(g, node)
        found = shifted_clip(g, scaled[0]) if scaled is not None else None
        if found is None:
            continue
        factor = scaled[1]  # type: ignore[index]
        x, b, c, parts = found
        if not approx(c * factor, 1.0, TOL):
            continue
        replace_node(node, "hard_sigmoid", [x], {"alpha": factor, "beta": b * factor})
        remove_if_unused(g, parts)
    g.remove_unused_tensors()
    return g
