"""Flattening a feature map channels-last is free in the C layout.

Detection heads turn a [N, A·K, H, W] prediction map into [N, H·W·A, K] rows with a reshape,
a transpose and a reshape (torchvision's SSD heads; TF exporters do the same with one transpose).
In NCHW that moves data, but the C code stores 4-D tensors NHWC, where those rows are already the
bytes in memory. A chain of reshape/transpose nodes from a 4-D tensor to a tensor of another rank
whose composite index map is exactly `reshape(transpose(x, (0, 2, 3, 1)), shape)` becomes one
`channels_last_reshape` node, which the schedule treats as a view. The map is checked by pushing an
index array through the chain, so any permutation that is not this one is left alone.
"""

from __future__ import annotations

import numpy as np

from mnv3c.ir.graph import Graph, Node
from mnv3c.passes.match import producer_op, sole_consumer
from mnv3c.reference.float_exec import run_node

VIEW_CHAIN_OPS = ("reshape", "transpose")


def channels_last_view(graph: Graph) -> Graph:
    g = graph.copy()
    for t in [n for n in g.nodes if n.op == "transpose"]:
        if t not in g.nodes:
            continue
        chain = [t]
        while (p := producer_op(g, chain[0].inputs[0], *VIEW_CHAIN_OPS)) is not None and \
                sole_consumer(g, p.outputs[0]) is chain[0]:
            chain.insert(0, p)
        while (c := sole_consumer(g, chain[-1].outputs[0])) is not None and c.op in VIEW_CHAIN_OPS:
            chain.append(c)
        x, y = chain[0].inputs[0], chain[-1].outputs[0]
        if len(g.tensors[x].shape) != 4 or len(g.tensors[y].shape) == 4 or not _is_channels_last(g, chain):
            continue
        at = g.nodes.index(chain[-1])
        view = Node(chain[-1].name, "channels_last_reshape", [x], [y], {"shape": g.tensors[y].shape},
                    fused=[n.op for n in chain])
        g.nodes[at] = view
        for n in chain[:-1]:
            g.nodes.remove(n)
    g.remove_unused_tensors()
    return g


def _is_channels_last(g: Graph, chain: list[Node]) -> bool:
    shape = g.tensors[chain[0].inputs[0]].shape
    index = np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape)
    v = index
    for n in chain:
        (v,) = run_node(n, g, [v])
    want = index.transpose(0, 2, 3, 1).reshape(g.tensors[chain[-1].outputs[0]].shape)
    return v.shape == want.shape and bool(np.array_equal(v, want))
