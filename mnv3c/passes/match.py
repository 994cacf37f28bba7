"""Pattern-matching and rewriting helpers shared by the passes.

The passes all do the same few things: find the producer or the only consumer of a tensor, read
constant operands, fold a per-channel scale and shift into a layer's weights, splice a node out of
the graph. Keeping those here means each pass file reads as its pattern and nothing else.
"""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from mnv3c.ir.graph import Graph, Node, Tensor

# Layers whose weights can absorb a per-output-channel scale and shift.
WEIGHTED = ("conv2d", "depthwise_conv2d", "dense")


# --- structure -----------------------------------------------------------------------------------
def producer(g: Graph, tensor: str) -> Node | None:
    for n in g.nodes:
        if tensor in n.outputs:
            return n
    return None


def consumers(g: Graph, tensor: str) -> list[Node]:
    return [n for n in g.nodes if tensor in n.inputs]


def sole_consumer(g: Graph, tensor: str) -> Node | None:
    """The node that is the only reader of ``tensor`` (reading it once), unless it is a graph output."""
    if tensor in g.outputs:
        return None
    users = consumers(g, tensor)
    if len(users) != 1 or users[0].inputs.count(tensor) != 1:
        return None
    return users[0]


def producer_op(g: Graph, tensor: str, *ops: str) -> Node | None:
    """The producer of ``tensor`` if its op is one of ``ops``."""
    p = producer(g, tensor)
    return p if p is not None and p.op in ops else None


# --- constants -----------------------------------------------------------------------------------
def const(g: Graph, name: str) -> np.ndarray | None:
    return g.const(name) if name else None


def split_const(g: Graph, node: Node) -> tuple[str, np.ndarray, int] | None:
    """For a binary node with exactly one constant operand: (runtime operand, constant, constant's index)."""
    if len(node.inputs) != 2:
        return None
    values = [const(g, i) for i in node.inputs]
    if (values[0] is None) == (values[1] is None):
        return None
    k = 0 if values[0] is not None else 1
    return node.inputs[1 - k], values[k], k


def approx(value: float | None, target: float, tol: float = 1e-6) -> bool:
    return value is not None and abs(value - target) <= tol


def channel_vector(value: np.ndarray, shape: tuple[int, ...]) -> np.ndarray | None:
    """``value`` as one float per channel (axis 1) of a tensor of ``shape``, when broadcasting
    ``value`` against that tensor means exactly that (and leaves its shape unchanged)."""
    if len(shape) < 2 or value.ndim > len(shape):
        return None
    v = value.reshape((1,) * (len(shape) - value.ndim) + value.shape)
    if any(d != 1 for i, d in enumerate(v.shape) if i != 1) or v.shape[1] not in (1, shape[1]):
        return None
    return np.broadcast_to(v.reshape(-1), (shape[1],)).astype(np.float32)


def set_const_input(g: Graph, node: Node, index: int, data: np.ndarray, role: str) -> None:
    """Make ``data`` the constant input ``index`` of ``node``: in place when no one else reads the
    old constant, else as a new tensor named after the node."""
    data = np.ascontiguousarray(data, dtype=np.float32)
    old = node.inputs[index] if index < len(node.inputs) else ""
    if old and g.tensors[old].is_const and len(consumers(g, old)) == 1 and old not in g.outputs:
        g.tensors[old] = Tensor(old, tuple(data.shape), "float32", data)
        return
    name = g.unique_name(f"{node.name}.{role}")
    g.add_const(name, data)
    node.inputs += [""] * (index + 1 - len(node.inputs))
    node.inputs[index] = name


# --- layers --------------------------------------------------------------------------------------
def act_of(node: Node) -> str:
    return node.attrs.get("act") or "none"


def weights_and_bias(g: Graph, layer: Node) -> tuple[np.ndarray, np.ndarray] | None:
    """Constant weights and bias (zeros when absent) of a conv/dense layer, or None if either is a runtime tensor."""
    w = const(g, layer.inputs[1])
    bias_name = layer.inputs[2] if len(layer.inputs) > 2 else ""
    b = const(g, bias_name) if bias_name else np.zeros(w.shape[0] if w is not None else 0, np.float32)
    if w is None or b is None:
        return None
    return w, b


def can_absorb(g: Graph, layer: Node) -> bool:
    """A conv/dense layer with constant weights and no fused activation yet (so a following linear op can move into it)."""
    return layer.op in WEIGHTED and act_of(layer) == "none" and weights_and_bias(g, layer) is not None


def scale_and_shift(g: Graph, layer: Node, scale: np.ndarray, shift: np.ndarray) -> None:
    """Rewrite ``layer`` so it computes ``layer(x) * scale + shift`` per output channel."""
    w, b = weights_and_bias(g, layer)  # type: ignore[misc]
    s = scale.astype(np.float64)
    set_const_input(g, layer, 1, w * s.reshape((-1,) + (1,) * (w.ndim - 1)), "weight")
    set_const_input(g, layer, 2, b * s + shift.astype(np.float64), "bias")


# --- rewriting -----------------------------------------------------------------------------------
def absorb(g: Graph, keeper: Node, follower: Node, fused: Iterable[str]) -> None:
    """``keeper`` takes over the output of ``follower`` (whose work it now does) and ``follower`` goes."""
    keeper.outputs = [follower.outputs[0]]
    keeper.fused.extend(fused)
    g.nodes.remove(follower)


def bypass(g: Graph, node: Node) -> bool:
    """Remove a node whose output equals its first input (identity, no-op reshape); False if that
    would need a graph input or constant to become a graph output."""
    src, dst = node.inputs[0], node.outputs[0]
    if dst in g.outputs and (src in g.inputs or src in g.outputs or g.tensors[src].is_const):
        return False
    g.nodes.remove(node)
    if dst not in g.outputs:
        g.replace_uses(dst, src)
        return True
    # dst is a graph output: keep its name, let src's producer and readers use it.
    for n in g.nodes:
        n.inputs = [dst if i == src else i for i in n.inputs]
        n.outputs = [dst if o == src else o for o in n.outputs]
    return True


def remove_if_unused(g: Graph, candidates: Iterable[Node]) -> None:
    """Drop the candidates whose outputs nobody reads any more (repeating, as dropping one may free another)."""
    pending = list(candidates)
    changed = True
    while changed:
        changed = False
        for n in list(pending):
            if n in g.nodes and not any(o in g.outputs or consumers(g, o) for o in n.outputs):
                g.nodes.remove(n)
                pending.remove(n)
                changed = True


def replace_node(node: Node, op: str, inputs: list[str], attrs: dict[str, Any]) -> None:
    """Turn ``node`` (keeping its name and output) into a different op."""
    node.op, node.inputs, node.attrs = op, inputs, attrs
