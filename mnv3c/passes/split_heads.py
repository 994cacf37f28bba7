"""Split the fused Q/K/V projection of an attention block into per-head tensors of rank <= 4.

Paddle's and timm's attention reshape the projection [N, T, G·H·E] to [N, T, G, H, E], transpose
it to [G, N, H, T, E] and take q, k, v as slices along axis 0 (squeezed to [N, H, T, E]). That
5-D tensor has no C layout, and its axis 0 is not the batch. Each (slice, squeeze) pair becomes
``slice`` of the projection's last axis -> ``reshape`` [N, T, H, E] -> ``transpose`` (0, 2, 1, 3):
the same values (checked on an index map before the rewrite), every tensor at most 4-D.
"""

from __future__ import annotations

import numpy as np

from mnv3c.ir.graph import Graph, Node, Tensor
from mnv3c.passes.match import remove_if_unused, sole_consumer

HEADS_PERM = (2, 0, 3, 1, 4)


def split_heads(graph: Graph) -> Graph:
    g = graph.copy()
    producers, consumers = g.producers(), g.consumers()
    for t in [n for n in g.nodes if n.op == "transpose" and tuple(n.attrs.get("perm") or ()) == HEADS_PERM]:
        r = producers.get(t.inputs[0])
        if r is None or r.op != "reshape" or t.outputs[0] in g.outputs:
            continue
        x = r.inputs[0]
        xs, rs = g.tensors[x].shape, g.tensors[r.outputs[0]].shape
        if len(xs) != 3 or len(rs) != 5 or tuple(rs[:2]) != tuple(xs[:2]):
            continue
        parts = [_head_part(g, s, rs) for s in consumers.get(t.outputs[0], [])]
        if not parts or any(p is None for p in parts):
            continue
        for s, q, k in parts:  # type: ignore[misc]
            _rewrite(g, x, rs, s, q, k)
        remove_if_unused(g, [t, r])
    g.remove_unused_tensors()
    return g


def _head_part(g: Graph, s: Node, rs: tuple[int, ...]) -> tuple[Node, Node, int] | None:
    """(slice, squeeze, index along axis 0) when ``s`` takes one [1, N, H, T, E] part and a reshape squeezes it."""
    a = s.attrs
    if s.op != "slice" or tuple(a["axes"]) != (0,) or tuple(a["steps"]) != (1,):
        return None
    start, end = int(a["starts"][0]), int(a["ends"][0])
    q = sole_consumer(g, s.outputs[0])
    n, t, _, h, e = rs
    if end != start + 1 or q is None or q.op != "reshape" or tuple(g.tensors[q.outputs[0]].shape) != (n, h, t, e):
        return None
    return s, q, start


def _rewrite(g: Graph, x: str, rs: tuple[int, ...], s: Node, q: Node, k: int) -> None:
    n, t, groups, h, e = rs
    want = np.arange(int(np.prod(rs))).reshape(rs).transpose(HEADS_PERM)[k].reshape(n, h, t, e)
    got = np.arange(int(np.prod(rs))).reshape(n, t, groups * h * e)[:, :, k * h * e:(k + 1) * h * e]
    assert np.array_equal(got.reshape(n, t, h, e).transpose(0, 2, 1, 3), want), "split_heads index map"
    part, heads = g.unique_name(f"{q.name}_part"), g.unique_name(f"{q.name}_heads")
    g.add_tensor(Tensor(part, (n, t, h * e), g.tensors[x].dtype))
    g.add_tensor(Tensor(heads, (n, t, h, e), g.tensors[x].dtype))
    at = g.nodes.index(s)
    new = [Node(s.name, "slice", [x], [part], {"starts": (k * h * e,), "ends": ((k + 1) * h * e,), "axes": (2,),
                                               "steps": (1,)}),
           Node(g.unique_name(f"{q.name}_split"), "reshape", [part], [heads], {"shape": (n, t, h, e), "view": True}),
           Node(q.name, "transpose", [heads], list(q.outputs), {"perm": (0, 2, 1, 3)})]
    g.nodes.remove(q)
    g.nodes[at:at + 1] = new
