"""Empirical bias correction (Nagel et al. 2019, section 4.2): rounding the weights shifts each
output channel's mean by E[x] * (W - Wq), which depthwise layers with 9 taps per channel feel
most. Convolution is linear, so the mean shift over the calibration set is the layer applied to
the MEAN input map with the weight error: one small evaluation per layer, exact at the borders.
"""

from __future__ import annotations

import numpy as np

from mnv3c.ir.graph import Graph, Node
from mnv3c.quant.weight_rounding import layer_weights
from mnv3c.reference.float_exec import run_node


def weight_error_shift(node: Node, graph: Graph, mean_input: np.ndarray) -> np.ndarray:
    """Per output channel, the mean of (float layer - layer with rounded weights) over calibration."""
    w = graph.tensors[node.inputs[1]].data
    q, scale = layer_weights(graph, node.inputs[1])
    err = (w.astype(np.float64) - q * scale.reshape((-1,) + (1,) * (w.ndim - 1))).astype(np.float32)
    probe = Node(node.name, node.op, node.inputs[:2], node.outputs, {**node.attrs, "act": "none"})
    y = run_node(probe, graph, [mean_input[None], err])[0]
    if node.op == "dense":  # features last, also over a sequence [N, T, M]
        return y.reshape(-1, y.shape[-1]).mean(axis=0)
    return y.reshape(y.shape[0], y.shape[1], -1).mean(axis=(0, 2))


def correct_biases(graph: Graph, input_means: dict[str, np.ndarray]) -> tuple[Graph, dict[str, float]]:
    """A copy of ``graph`` with each weighted layer's bias shifted by its weight-rounding mean error;
    also reports the largest |shift| per layer."""
    g = graph.copy()
    report = {}
    for node in g.nodes:
        if node.name not in input_means or len(node.inputs) < 3:
            continue
        shift = weight_error_shift(node, g, input_means[node.name])
        b = g.tensors[node.inputs[2]]
        b.data = (b.data.astype(np.float64) + shift).astype(b.data.dtype)
        report[node.name] = float(np.abs(shift).max())
    g.meta.setdefault("quant", {})["bias_correction"] = report
    return g, report
