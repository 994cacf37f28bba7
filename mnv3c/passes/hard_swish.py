"""Recognise hard swish, ``x * relu6(x + 3) / 6``, in every spelling exporters produce, as one node.

Forms: ``x * hard_sigmoid(x)`` with alpha 1/6 and beta 1/2 (PyTorch's legacy export), and any
product of ``x``, ``clip(x + 3, 0, 6)`` and scalar constants (multiplications and divisions in any
order and nesting) whose constants come to 1/6, e.g. ``Div(Mul(x, Clip(Add(x, 3), 0, 6)), 6)``.
Runs after `recognize_hard_sigmoid`, so ``x * (relu6(x + 3) / 6)`` arrives as the first form.
"""

from __future__ import annotations

from mnv3c.ir.graph import Graph, Node
from mnv3c.passes.hard_sigmoid import TOL, scaled_operand, shifted_clip
from mnv3c.passes.match import approx, producer, remove_if_unused, replace_node


def product(g: Graph, tensor: str, stop: set[str], nodes: list[Node]) -> tuple[list[str], float]:
    """``tensor`` as a product of runtime factors and a constant: (factors, constant). Factors in
    ``stop`` (and tensors not made by mul/div) are not expanded; ``nodes`` collects the mul/divs."""
    p = producer(g, tensor) if tensor not in stop else None
    if p is None or p.op not in ("mul", "div"):
        return [tensor], 1.0
    scaled = scaled_operand(g, p)
    if scaled is not None:
        nodes.append(p)
        factors, k = product(g, scaled[0], stop, nodes)
        return factors, k * scaled[1]
    if p.op == "div":
        return [tensor], 1.0
    nodes.append(p)
    left, k1 = product(g, p.inputs[0], stop, nodes)
    right, k2 = product(g, p.inputs[1], stop, nodes)
    return left + right, k1 * k2


def _gate(g: Graph, tensor: str) -> tuple[str, float, list[Node]] | None:
    """``tensor`` as (x, constant it must be multiplied by with x, its nodes) if it is a hard-swish gate."""
    hsig = producer(g, tensor)
    if hsig is not None and hsig.op == "hard_sigmoid":
        if approx(hsig.attrs.get("alpha", 0.2), 1 / 6, TOL) and approx(hsig.attrs.get("beta", 0.5), 0.5, TOL):
            return hsig.inputs[0], 1.0, [hsig]
        return None
    clip = shifted_clip(g, tensor)
    if clip is not None and approx(clip[1], 3.0, TOL) and approx(clip[2], 6.0, TOL):
        return clip[0], 1 / 6, clip[3]
    return None


def _match(g: Graph, node: Node) -> tuple[str, list[Node]] | None:
    """(x, nodes to drop) when ``node`` computes hard_swish(x)."""
    factors, _ = product(g, node.outputs[0], set(), [])
    for f in factors:
        gate = _gate(g, f)
        if gate is None:
            continue
        x, want, parts = gate
        nodes: list[Node] = []
        exact, k = product(g, node.outputs[0], {x, f}, nodes)
        if sorted(exact) == sorted([x, f]) and approx(k, want, TOL):
            return x, nodes + parts
    return None


def recognize_hard_swish(graph: Graph) -> Graph:
    g = graph.copy()
    for node in list(g.nodes):
        if node.op not in ("mul", "div"):
            continue
        found = _match(g, node)
        if found is None:
            continue
        x, parts = found
        replace_node(node, "hard_swish", [x], {})
        remove_if_unused(g, [p for p in parts if p is not node])
    g.remove_unused_tensors()
    return g
