"""Turn ``matmul(x[N,K], W[K,M])`` with a constant 2-D weight into ``dense`` (w = W.T), taking a
following add of a constant [M] bias along. A sequence ``x[N,T,K]`` (a transformer's tokens)
becomes a dense over its last axis (TFLite FULLY_CONNECTED with keep_num_dims), bias along M.

The frontend already does this for Gemm and for MatMul it can see through; this catches the
matmuls that only become constant-weight after folding (e.g. a weight behind a Transpose).
"""

from __future__ import annotations

import numpy as np

from mnv3c.ir.graph import Graph
from mnv3c.passes.match import absorb, channel_vector, const, replace_node, set_const_input, sole_consumer, split_const


def dense_from_matmul(graph: Graph) -> Graph:
    g = graph.copy()
    for node in [n for n in g.nodes if n.op == "matmul"]:
        x, w_name = node.inputs
        w = const(g, w_name)
        rank = len(g.tensors[x].shape)
        if w is None or w.ndim != 2 or const(g, x) is not None or rank not in (2, 3):
            continue
        replace_node(node, "dense", [x], {})
        set_const_input(g, node, 1, w.T, "weight")
        out = node.outputs[0]
        add = sole_consumer(g, out)
        split = split_const(g, add) if add is not None and add.op == "add" else None
        bias = _bias_vector(split[1], g.tensors[out].shape) if split is not None else None
        if bias is not None:
            set_const_input(g, node, 2, bias, "bias")
            absorb(g, node, add, ["bias_add"])
    g.remove_unused_tensors()
    return g


def _bias_vector(value: np.ndarray, shape: tuple[int, ...]) -> np.ndarray | None:
    """One float per output feature (the last axis) when adding ``value`` means exactly that."""
    if len(shape) == 2:
        return channel_vector(value, shape)
    v = value.reshape((1,) * (len(shape) - value.ndim) + value.shape) if value.ndim <= len(shape) else None
    if v is None or any(d != 1 for d in v.shape[:-1]) or v.shape[-1] not in (1, shape[-1]):
        return None
    return np.broadcast_to(v.reshape(-1), (shape[-1],)).astype(np.float32)
