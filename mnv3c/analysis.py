"""Per-layer cost of a graph (MACs, parameters) for `inspect`, reports and benchmarks.

Counting rules, chosen so the numbers match how MobileNet papers and peers count:

- MACs are counted only where inputs are multiplied by weights and summed: conv2d
  (N*Ho*Wo*O*(C/group)*kh*kw), depthwise_conv2d (N*Ho*Wo*C*m*kh*kw), dense (N*M*K), matmul
  (output elements * K) and squeeze_excite (its two dense layers, N*(R*C + C*R), plus the channel
  rescale N*H*W*C). Every other op -- elementwise, activations, batch_norm, affine, pooling,
  reductions, data movement -- counts 0.
- A layer's params are the elements of its constant inputs (weights, bias, BN statistics).
  `totals` counts each constant tensor once even when several layers share it.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from mnv3c.errors import MnvError, shown
from mnv3c.ir.graph import Graph, Node


def _shape(g: Graph, name: str, rank: int, node: Node) -> tuple[int, ...]:
    shape = g.tensor(name).shape
    if len(shape) != rank:
        raise MnvError(f"node {shown(node.name)} ({node.op}): tensor {shown(name)} has shape {list(shape)}, "
                       f"expected rank {rank} to count MACs")
    return shape


def _size(shape: tuple[int, ...]) -> int:
    return int(np.prod(shape, dtype=np.int64))


def _conv_macs(n: Node, g: Graph) -> int:
    """N*Ho*Wo per output position times O*(C/group)*kh*kw, which is the weight's element count
    for conv2d and, with w[C*m, 1, kh, kw], exactly C*m*kh*kw for depthwise too."""
    out = _shape(g, n.outputs[0], 4, n)
    return out[0] * out[2] * out[3] * _size(_shape(g, n.inputs[1], 4, n))


def _dense_macs(n: Node, g: Graph) -> int:
    out = g.tensor(n.outputs[0]).shape
    return _size(out[:-1]) * _size(_shape(g, n.inputs[1], 2, n))


def _matmul_macs(n: Node, g: Graph) -> int:
    return _size(g.tensor(n.outputs[0]).shape) * g.tensor(n.inputs[0]).shape[-1]


def _squeeze_excite_macs(n: Node, g: Graph) -> int:
    batch, c, h, w = _shape(g, n.inputs[0], 4, n)
    fc = _size(g.tensor(n.inputs[1]).shape) + _size(g.tensor(n.inputs[3]).shape)
    return batch * (fc + h * w * c)


_MACS: dict[str, Callable[[Node, Graph], int]] = {
    "conv2d": _conv_macs,
    "depthwise_conv2d": _conv_macs,
    "dense": _dense_macs,
    "matmul": _matmul_macs,
    "squeeze_excite": _squeeze_excite_macs,
}


def layer_stats(graph: Graph) -> list[dict[str, Any]]:
    """One row per node, in execution order; ``inputs`` lists only the non-constant inputs."""
    rows = []
    for n in graph.nodes:
        consts = [i for i in n.inputs if i and graph.tensor(i).is_const]
        macs = _MACS.get(n.op)
        rows.append({
            "name": n.name,
            "op": n.op,
            "inputs": [i for i in n.inputs if i and i not in consts],
            "outputs": list(n.outputs),
            "output_shape": [int(d) for d in graph.tensor(n.outputs[0]).shape],
            "macs": int(macs(n, graph)) if macs else 0,
            "params": sum(graph.tensor(i).size for i in consts),
            "fused": list(n.fused),
        })
    return rows


def totals(graph: Graph) -> dict[str, int]:
    """Whole-graph MACs and parameters (each constant tensor counted once)."""
    used = {i for n in graph.nodes for i in n.inputs if i and graph.tensor(i).is_const}
    return {"macs": sum(r["macs"] for r in layer_stats(graph)),
            "params": sum(graph.tensor(i).size for i in used)}
