"""Recognise squeeze-and-excitation blocks as one `squeeze_excite` node.

Pattern (after activation fusion): ``x -> global_avg_pool -> 1x1 conv (act1) -> 1x1 conv (act2)
-> mul with x``, or the same with dense layers between a flatten and an unflatten view. act2 must
be a gate (hard_sigmoid with any alpha/beta, or sigmoid). As one op the back end computes the
channel means, two tiny matrix-vector products and the scaling in a single pass without
materialising three small tensors and a broadcast multiply.
"""

from __future__ import annotations

import os

import numpy as np

from mnv3c.ir.graph import Graph, Node
from mnv3c.passes.match import act_of, remove_if_unused, replace_node, sole_consumer, weights_and_bias

GATES = ("hard_sigmoid", "sigmoid")


def _is_pointwise(g: Graph, layer: Node) -> bool:
    if layer.op == "dense":
        return True
    a = layer.attrs
    return (
        layer.op == "conv2d"
        and tuple(g.tensors[layer.inputs[1]].shape[2:]) == (1, 1)
        and int(a.get("group", 1)) == 1
        and tuple(a.get("strides", (1, 1))) == (1, 1)
        and not any(a.get("pads", ()))
    )


def _next(g: Graph, tensor: str, ops: tuple[str, ...], path: list[Node], skip_view: bool) -> Node | None:
    """The only reader of ``tensor`` if its op is in ``ops`` (looking through one view if
    ``skip_view``); appends what it walked over to ``path``."""
    n = sole_consumer(g, tensor)
    if n is not None and skip_view and n.op == "reshape":
        path.append(n)
        n = sole_consumer(g, n.outputs[0])
    if n is None or n.op not in ops:
        return None
    path.append(n)
    return n


def _block_name(nodes: list[Node]) -> str:
    """The common path of the block's node names (e.g. ``/features.4/block/block.2``), else the mul's."""
    common = os.path.commonprefix([n.name.split("/") for n in nodes])
    return "/".join(common).rstrip("/") or nodes[-1].name


def _match(g: Graph, pool: Node) -> tuple[list[Node], Node, Node] | None:
    """(the block's nodes from pool to mul, fc1, fc2) for the SE block starting at ``pool``."""
    x = pool.inputs[0]
    n, c = g.tensors[x].shape[:2]
    path = [pool]
    fc1 = _next(g, pool.outputs[0], ("conv2d", "dense"), path, skip_view=True)
    fc2 = _next(g, fc1.outputs[0], (fc1.op,), path, skip_view=False) if fc1 is not None else None
    if fc2 is None or not (_is_pointwise(g, fc1) and _is_pointwise(g, fc2)) or act_of(fc2) not in GATES:
        return None
    mul = _next(g, fc2.outputs[0], ("mul",), path, skip_view=fc1.op == "dense")
    if mul is None or x not in mul.inputs or g.tensors[mul.outputs[0]].shape != g.tensors[x].shape:
        return None
    gate = next(i for i in mul.inputs if i != x)
    wb1, wb2 = weights_and_bias(g, fc1), weights_and_bias(g, fc2)
    if wb1 is None or wb2 is None or g.tensors[gate].shape != (n, c, 1, 1):
        return None
    r = wb1[0].shape[0]
    if wb1[0].reshape(r, -1).shape != (r, c) or wb2[0].reshape(wb2[0].shape[0], -1).shape != (c, r):
        return None
    return path, fc1, fc2


def recognize_squeeze_excite(graph: Graph) -> Graph:
    g = graph.copy()
    for pool in [n for n in g.nodes if n.op == "global_avg_pool"]:
        found = _match(g, pool)
        if found is None:
            continue
        path, fc1, fc2 = found
        mul = path[-1]
        (w1, b1), (w2, b2) = weights_and_bias(g, fc1), weights_and_bias(g, fc2)  # type: ignore[misc]
        name = _block_name(path)
        consts = [
            g.add_const(g.unique_name(f"{name}.{role}"), np.ascontiguousarray(value, np.float32)).name
            for role, value in (("w1", w1.reshape(w1.shape[0], -1)), ("b1", b1), ("w2", w2.reshape(w2.shape[0], -1)), ("b2", b2))
        ]
        attrs = {
            "act1": act_of(fc1), "act1_params": dict(fc1.attrs.get("act_params") or {}),
            "act2": act_of(fc2), "act2_params": dict(fc2.attrs.get("act_params") or {}),
        }
        replace_node(mul, "squeeze_excite", [pool.inputs[0], *consts], attrs)
        mul.fused = ["global_avg_pool", fc1.op, *fc1.fused, fc2.op, *fc2.fused, "mul"]
        remove_if_unused(g, path[:-1])
        if name not in {n.name for n in g.nodes}:
            mul.name = name
    g.remove_unused_tensors()
    return g
