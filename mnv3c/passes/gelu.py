"""Recognise GELU exported as Erf, ``x * 0.5 * (1 + erf(x / sqrt(2)))``, as one `gelu` node.

Exporters differ in the order and nesting of the products (torch: ``Mul(Mul(x, Add(Erf(Div(x,
1.4142)), 1)), 0.5)``; others ``Mul(x, Mul(0.5, Add(1, Erf(Mul(x, 0.7071)))))``) and divide by
sqrt(2) or multiply by its inverse. Any product of ``x``, the ``1 + erf(x / sqrt 2)`` gate and scalar
constants coming to 1/2 is matched, like `recognize_hard_swish` does for h-swish.
"""

from __future__ import annotations

import math

from mnv3c.ir.graph import Graph, Node
from mnv3c.passes.hard_sigmoid import scaled_operand
from mnv3c.passes.hard_swish import product
from mnv3c.passes.match import approx, producer, producer_op, remove_if_unused, replace_node, split_const

TOL = 1e-5  # exporters print 1/sqrt(2) and sqrt(2) with 5 to 9 digits


def _erf_gate(g: Graph, tensor: str) -> tuple[str, list[Node]] | None:
    """(x, nodes) when ``tensor`` is ``1 + erf(x / sqrt 2)``."""
    add = producer_op(g, tensor, "add")
    split = split_const(g, add) if add is not None else None
    if split is None or split[1].size != 1 or not approx(float(split[1].reshape(())), 1.0, TOL):
        return None
    erf = producer_op(g, split[0], "erf")
    scale = producer(g, erf.inputs[0]) if erf is not None else None
    scaled = scaled_operand(g, scale) if scale is not None else None
    if scaled is None or not approx(scaled[1], 1 / math.sqrt(2.0), TOL):
        return None
    return scaled[0], [add, erf, scale]  # type: ignore[list-item]


def _match(g: Graph, node: Node) -> tuple[str, list[Node]] | None:
    """(x, nodes to drop) when ``node`` computes gelu(x)."""
    factors, _ = product(g, node.outputs[0], set(), [])
    for f in factors:
        gate = _erf_gate(g, f)
        if gate is None:
            continue
        x, parts = gate
        nodes: list[Node] = []
        exact, k = product(g, node.outputs[0], {x, f}, nodes)
        if sorted(exact) == sorted([x, f]) and approx(k, 0.5, TOL):
            return x, nodes + parts
    return None


def recognize_gelu(graph: Graph) -> Graph:
    g = graph.copy()
    for node in list(g.nodes):
        if node not in g.nodes or node.op not in ("mul", "div"):
            continue
        found = _match(g, node)
        if found is None:
            continue
        x, parts = found
        replace_node(node, "gelu", [x], {"approximate": "none"})
        remove_if_unused(g, [p for p in parts if p is not node])
    g.remove_unused_tensors()
    return g
