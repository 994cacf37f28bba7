"""Give every conv2d/depthwise_conv2d/dense an explicit bias constant (zeros when it had none), so
the quantiser and the kernels handle exactly one form: ``inputs == [x, w, b]``."""

from __future__ import annotations

import numpy as np

from mnv3c.ir.graph import Graph
from mnv3c.passes.match import WEIGHTED, set_const_input


def canonicalize_bias(graph: Graph) -> Graph:
    g = graph.copy()
    for node in g.nodes:
        if node.op in WEIGHTED and (len(node.inputs) < 3 or not node.inputs[2]):
            out_channels = g.tensors[node.outputs[0]].shape[1]
            set_const_input(g, node, 2, np.zeros(out_channels, np.float32), "bias")
    return g
