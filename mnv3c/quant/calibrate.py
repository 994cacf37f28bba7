"""Calibration: run the float graph over calibration samples and summarise every tensor the int8
graph will hold, including those that only exist inside fused layers.

A layer with a fused LUT activation (h-swish, h-sigmoid, sigmoid) requantizes into its
PRE-activation tensor before the table lookup, so that tensor needs a range too: the calibration
graph splits such activations into standalone nodes writing the post-activation name and reading
``pre_act_name(output)``. The squeeze-excite internals (pooled vector, hidden vector, gate before and
after h-sigmoid) are recomputed from the SE input in numpy, which is cheaper than expanding the node.

A tensor that only depthwise layers read is also summarised by a histogram WEIGHTED by its channels'
importance to those layers (`depthwise_channel_weights`), and so is the pre-activation tensor of its
LUT activation: with per-tensor int8 activations, a channel of small values that a depthwise layer
multiplies by large weights (batch norm folded onto a channel of tiny variance) loses most to
rounding, while a channel of large values under small weights can be clipped at little cost. The
MSE range estimator minimises the error the readers see when it has such a histogram
(`quantize.choose_params`).

A tensor whose only reader is a softmax (the graph's logits too when `quantize.prepare` stripped
the trailing softmax) also records the smallest per-row maximum seen: values far below a row's
maximum do not move its probabilities, so its range may start at that maximum minus a margin
(`ranges.softmax_floor`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable

import numpy as np

from mnv3c.errors import MnvError, shown
from mnv3c.ir.graph import Graph, Node, Tensor
from mnv3c.quant.ranges import Histogram
from mnv3c.quant.weight_rounding import ROUNDING_SAMPLES, MomentSums
from mnv3c.reference.activations import apply_activation
from mnv3c.reference.float_exec import run_float

LUT_ACTS = ("hard_swish", "hard_sigmoid", "sigmoid", "gelu")
WEIGHTED_OPS = ("conv2d", "depthwise_conv2d", "dense")
SE_PARTS = ("pool", "hidden", "gate_pre", "gate")


def pre_act_name(output: str) -> str:
    return f"{output}:pre_act"


def se_part_name(output: str, part: str) -> str:
    return f"{output}:se_{part}"


def has_lut_act(node: Node) -> bool:
    return node.attrs.get("act", "none") in LUT_ACTS


def split_lut_activations(graph: Graph) -> Graph:
    """A copy of ``graph`` where each fused LUT activation is a standalone node after its layer."""
    g = graph.copy()
    nodes: list[Node] = []
    for n in g.nodes:
        if not has_lut_act(n):
            nodes.append(n)
            continue
        out = n.outputs[0]
        pre = pre_act_name(out)
        g.add_tensor(Tensor(pre, g.tensors[out].shape, g.tensors[out].dtype))
        act, params = n.attrs["act"], dict(n.attrs.get("act_params") or {})
        n.attrs = {**n.attrs, "act": "none", "act_params": {}}
        n.outputs = [pre]
        nodes += [n, Node(f"{n.name}:act", act, [pre], [out], params)]
    g.nodes = nodes
    return g


def squeeze_excite_parts(node: Node, graph: Graph, x: np.ndarray) -> dict[str, np.ndarray]:
    """The float SE internals for input ``x``, keyed by `se_part_name`."""
    w1, b1, w2, b2 = (graph.tensors[i].data for i in node.inputs[1:])
    pool = x.mean(axis=(2, 3))
    hidden = apply_activation(pool @ w1.T + b1, node.attrs.get("act1"), node.attrs.get("act1_params"))
    gate_pre = hidden @ w2.T + b2
    gate = apply_activation(gate_pre, node.attrs.get("act2"), node.attrs.get("act2_params"))
    parts = {"pool": pool, "hidden": hidden, "gate_pre": gate_pre, "gate": gate}
    return {se_part_name(node.outputs[0], k): v for k, v in parts.items()}


def softmax_rows(graph: Graph) -> dict[str, int]:
    """Activation tensor -> the (non-negative) axis of the softmax that is its only reader: softmax
    nodes' inputs read by nothing else, and the graph output when its trailing softmax was stripped
    (``meta["quant"]["host_softmax_axis"]``, `quantize.prepare`)."""
    consumers = graph.consumers()
    rows: dict[str, int] = {}
    host_axis = graph.meta.get("quant", {}).get("host_softmax_axis")
    if host_axis is not None and len(graph.outputs) == 1 and not consumers.get(graph.outputs[0]):
        rows[graph.outputs[0]] = host_axis % len(graph.tensors[graph.outputs[0]].shape)
    for n in graph.nodes:
        x = n.inputs[0] if n.op == "softmax" else None
        if x is None or x in graph.outputs or len(consumers.get(x, [])) != 1:
            continue
        rows[x] = int(n.attrs.get("axis", -1)) % len(graph.tensors[x].shape)
    return rows


def depthwise_channel_weights(graph: Graph) -> dict[str, np.ndarray]:
    """Activation tensor -> per-channel weight for each tensor read only by depthwise layers: the
    sum of the squared depthwise weights that read the channel. A value's rounding error reaches
    its output channel's accumulator through them, so its squared error times this weight is its
    share of the squared error of the readers' accumulators (in real units, errors taken as
    independent). Only depthwise readers: each channel has its own kernel there, so the channels'
    importance differs as much as their kernels do (x370 in PP-OCRv3's recogniser); a pointwise or
    dense reader mixes every channel into every output, and weighting by its columns measured no
    better than the plain histogram (x0.35 MNIST: 19 vs 16 flips of 2,200). Tensors also read by
    other layers keep only the plain histogram."""
    consumers = graph.consumers()
    out: dict[str, np.ndarray] = {}
    for name, t in graph.tensors.items():
        users = consumers.get(name, [])
        if t.is_const or not users or name in graph.outputs or len(t.shape) != 4:
            continue
        if not all(u.op == "depthwise_conv2d" and u.inputs[0] == name for u in users):
            continue
        channels = int(t.shape[1])  # weights [C*m, 1, kh, kw]: output channel o reads channel o // m
        total = np.sum([np.square(graph.tensors[u.inputs[1]].data.astype(np.float64)).reshape(channels, -1).sum(axis=1)
                        for u in users], axis=0)
        if float(total.sum()) > 0.0:
            out[name] = total
    return out


@dataclass
class CalibrationStats:
    """Histograms of every activation tensor (and the reader-weighted ones,
    `depthwise_channel_weights`), the smallest row maximum of each tensor only a softmax reads
    (`softmax_rows`: tensor -> (that maximum, the row's length)) and, for bias correction, the
    mean input (over the calibration samples, per position) of each weighted layer."""

    hists: dict[str, Histogram] = field(default_factory=dict)
    weighted: dict[str, Histogram] = field(default_factory=dict)
    row_max_min: dict[str, tuple[float, int]] = field(default_factory=dict)
    input_means: dict[str, np.ndarray] = field(default_factory=dict)
    samples: int = 0
    moments: MomentSums = field(default_factory=MomentSums)


def collect(graph: Graph, calib: np.ndarray, batch_size: int = 32, bins: int = 2048,
            on_batch: Callable[[int], None] | None = None, moments: bool = False) -> CalibrationStats:
    """Run ``graph`` (float, canonical) over ``calib`` in batches and summarise its tensors;
    ``on_batch`` is told each batch's size (a progress bar). ``moments``: also the input moments of
    each weighted layer over the first ROUNDING_SAMPLES inputs, for adaptive rounding."""
    cg = split_lut_activations(graph)
    activations = [n for n, t in cg.tensors.items() if not t.is_const]
    importance = depthwise_channel_weights(graph)
    rows = softmax_rows(graph)
    importance.update({pre_act_name(n.outputs[0]): importance[n.outputs[0]] for n in graph.nodes
                       if has_lut_act(n) and n.outputs[0] in importance})
    se_nodes = [n for n in cg.nodes if n.op == "squeeze_excite"]
    weighted = [n for n in cg.nodes if n.op in WEIGHTED_OPS]
    stats = CalibrationStats()
    sums: dict[str, np.ndarray] = {}
    for start in range(0, len(calib), batch_size):
        batch = np.asarray(calib[start:start + batch_size], np.float32)
        env = run_float(cg, {cg.inputs[0]: batch}, keep_all=True)
        require_finite(cg, env, start)
        for node in se_nodes:
            env.update(squeeze_excite_parts(node, cg, env[node.inputs[0]]))
        se_parts = [se_part_name(n.outputs[0], p) for n in se_nodes for p in SE_PARTS]
        require_finite(cg, env, start, se_parts)
        for name in activations + se_parts:
            stats.hists.setdefault(name, Histogram(bins)).add(env[name])
        for name, w in importance.items():
            stats.weighted.setdefault(name, Histogram(bins)).add(env[name], w.reshape(1, -1, 1, 1))
        for name, axis in rows.items():
            low = float(env[name].max(axis=axis).min())
            stats.row_max_min[name] = (min(low, stats.row_max_min.get(name, (low,))[0]), int(env[name].shape[axis]))
        for node in weighted:
            s = env[node.inputs[0]].astype(np.float64).sum(axis=0)
            sums[node.name] = s if node.name not in sums else sums[node.name] + s
        if moments and stats.samples < ROUNDING_SAMPLES:
            for node in weighted:
                shape = cg.tensors[node.inputs[1]].shape
                stats.moments.add(node, shape, env[node.inputs[0]][:ROUNDING_SAMPLES - stats.samples])
        stats.samples += len(batch)
        if on_batch is not None:
            on_batch(len(batch))
    stats.input_means = {k: (v / max(stats.samples, 1)).astype(np.float32) for k, v in sums.items()}
    return stats


def channel_absmax(graph: Graph, calib: np.ndarray, names: Iterable[str], batch_size: int = 32) -> dict[str, np.ndarray]:
    """Per-channel (axis 1) max |x| of the named float tensors, for cross-layer equalization."""
    names = list(names)
    out: dict[str, np.ndarray] = {}
    for start in range(0, len(calib), batch_size):
        env = run_float(graph, {graph.inputs[0]: np.asarray(calib[start:start + batch_size], np.float32)},
                        keep_all=True)
        require_finite(graph, env, start)
        for name in names:
            v = env[name]
            m = np.abs(v).max(axis=tuple(i for i in range(v.ndim) if i != 1))
            out[name] = m if name not in out else np.maximum(out[name], m)
    return out


def require_finite(graph: Graph, env: dict[str, np.ndarray], first_sample: int,
                   names: Iterable[str] | None = None) -> None:
    """MnvError naming the first tensor of ``env`` (graph order, or ``names``) holding NaN or
    infinity on a calibration batch: such activations (overflowing weights, NaN data) have no
    int8 range."""
    producers = None
    for name in names if names is not None else [*graph.inputs, *(o for n in graph.nodes for o in n.outputs)]:
        finite = np.isfinite(env[name])
        if finite.all():
            continue
        producers = producers or graph.producers()
        node = producers.get(name)
        sample = first_sample + int(np.argwhere(~finite)[0][0])
        raise MnvError(f"calibration: tensor {shown(name)}{f' (output of node {shown(node.name)})' if node else ''} "
                       f"has non-finite values (NaN or infinity) on calibration sample {sample}: the model's "
                       f"float arithmetic overflows or the data is not finite")
