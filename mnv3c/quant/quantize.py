"""Post-training int8 quantization of a canonical float graph (TFLite-compatible scheme).

`quantize(graph, calib)` returns a NEW graph with the same node names and tensor names:

- activation tensors: dtype "int8", ``quant`` = per-tensor (scale, zero point), ranges include 0;
- weights: int8 constants, symmetric per output channel (axis 0, zero point 0, codes in [-127, 127]);
- biases: int32 constants with scale s_in * s_w[c] (axis 0). Zero points are NOT folded into them:
  the code generator folds -zx * sum(w) and re-lays weights out itself;
- every node carries all its integer parameters as attrs (below). Scales stay float in QuantParams
  and in the ``*_scale`` attrs, for reports.

``graph.meta["quant"]`` records how it was made: method, chosen range and estimator per tensor,
``params`` (every activation's (scale, zero point), fused internals included), equalized pairs,
bias-correction shifts, and ``host_softmax_axis`` (see below).

Quantized op attrs (``x``: the first input, ``y``: the output; every int is a Python int, every
per-channel table a numpy array). Kernels follow docs/ARITHMETIC.md and `mnv3c.quant.intops`.

- ``conv2d`` / ``depthwise_conv2d`` / ``dense``: inputs [x, w int8, b int32]; the float geometry
  attrs (strides, pads, dilations, group) unchanged; ``act``/``act_params`` kept for reports;
  ``x_zero_point``, ``y_zero_point``; ``multiplier`` int32[O], ``shift`` int32[O]; ``lo``, ``hi``.
  With a LUT activation (act in h-swish, h-sigmoid, sigmoid, gelu) also ``lut`` int8[256],
  ``pre_act_scale``, ``pre_act_zero_point``: the layer requantizes into the pre-activation
  quantization (``multiplier``/``shift`` target ``pre_act_scale``, ``lo``/``hi`` = -128/127, result
  + ``pre_act_zero_point``), then ``y = lut[t + 128]``. Otherwise ``y = clamp(MBQM(acc) + y_zero_point,
  lo, hi)`` where [lo, hi] is the relu/clip clamp in y's int8 domain.
- ``add``: inputs [a, b]; ``a_zero_point``, ``b_zero_point``, ``y_zero_point``, ``left_shift`` (20),
  ``a_multiplier``, ``a_shift``, ``b_multiplier``, ``b_shift``, ``multiplier``, ``shift``, ``lo``, ``hi``;
  optional ``lut``/``pre_act_scale``/``pre_act_zero_point`` exactly as for conv.
- ``mul`` (two runtime tensors; the second equal-shaped or a [N, C, 1, 1] channel gate):
  ``a_zero_point``, ``b_zero_point``, ``y_zero_point``, ``multiplier``, ``shift`` (Q(sa·sb/sy)), ``lo``, ``hi``.
- ``squeeze_excite``: inputs [x, w1 int8[R,C], b1 int32[R], w2 int8[C,R], b2 int32[C]];
  ``x_zero_point``, ``y_zero_point``; the pool: ``pool_multiplier``, ``pool_shift``, ``pool_scale``,
  ``pool_zero_point``; first dense (reads the pool): ``fc1_multiplier`` int32[R], ``fc1_shift``,
  ``fc1_lo``, ``fc1_hi``, ``fc1_scale``, ``fc1_zero_point``; second dense (reads fc1's output):
  ``fc2_multiplier`` int32[C], ``fc2_shift``, ``fc2_lo``, ``fc2_hi``, ``fc2_scale``, ``fc2_zero_point``
  (the gate's PRE-activation quantization when ``fc2_lut`` int8[256] is present, else the gate's);
  the gate: ``gate_scale``, ``gate_zero_point``; the product: ``mul_multiplier``, ``mul_shift``,
  ``lo``, ``hi`` (y = clamp(MBQM((x - zx)(g - zg)) + zy, lo, hi)).
- ``global_avg_pool`` ([N,C,H,W] -> [N,C,1,1]): ``x_zero_point``, ``y_zero_point``, ``multiplier``,
  ``shift`` (Q(sx / (sy * H * W))).
- ``avg_pool``: geometry attrs; ``x_zero_point``, ``y_zero_point``; ``multiplier`` int32[kh*kw+1] and
  ``shift`` int8[kh*kw+1] indexed by the window's number of valid taps (entry 0 unused).
- ``max_pool``, ``reshape``, ``channels_last_reshape``, ``slice``: geometry attrs only; y has x's
  quantization.
- ``conv_transpose``: as conv2d (weights [O, C, kh, kw] per output channel) plus ``out_hw``.
- ``resize`` (y has x's quantization): nearest: ``y_index``/``x_index`` int32 (the input row/column
  each output row/column copies); linear: ``y_i0``, ``y_i1``, ``y_frac`` and ``x_*`` int32, TFLite's
  integer taps (weights in 1/1024 units, `intops.resize_bilinear`).
- ``concat``: ``y_zero_point``, ``requant``: per input None (a copy: the input was given y's
  quantization, see `concat_shared_inputs`) or (x_zero_point, multiplier, shift).
- standalone activations (``relu``, ``clip``, ``hard_swish``, ``hard_sigmoid``, ``sigmoid``, ``gelu``):
  ``lut`` int8[256]: y = lut[x + 128]. A ``mul`` by a scalar constant is such a table too (its
  inputs become [x]).
- ``transpose``: ``perm``; y has x's quantization (bytes move).
- ``matmul`` (two runtime tensors, TFLite BATCH_MATMUL; `batch_matmul`): ``a_zero_point``,
  ``b_zero_point``, ``y_zero_point``, ``multiplier``, ``shift`` (Q(sa·sb/sy)), ``lo``, ``hi``; int16
  (16x16, `_build_matmul16`): zero points 0, the int16 clamp.
- ``softmax`` inside the graph: ``axis`` (>= 1), ``multiplier``, ``left_shift``, ``diff_min`` as the
  final one; y's quantization is fixed at 1/256, -128 (int16: 1/32768, 0, TFLite's int16 softmax).
- ``layer_norm`` over the last axis (`layer_norm`): inputs [x]; ``eps``, ``gamma`` int32[D],
  ``beta`` int64[D], ``out_shift``, ``y_zero_point``.

A trailing ``softmax`` is calibrated away (the ranges end at the logits) and, by default, comes
back as an int8 ``softmax`` node with TFLite semantics (``mnv3c.quant.softmax``: attrs ``axis``,
``multiplier``, ``left_shift``, ``diff_min``; output scale 1/256, zero point -128;
``meta["quant"]["softmax"] = "int8"``). With ``softmax=False`` (--no-softmax) the int8 graph ends at
the logits, ``meta["quant"]["softmax"] = "host"`` and ``meta["quant"]["host_softmax_axis"]`` tells
the host to apply softmax to the dequantized logits (argmax is unchanged). An ``affine`` node
becomes a 1x1 ``depthwise_conv2d``.
"""

from __future__ import annotations

from collections import ChainMap, defaultdict
from typing import Any, Callable, Mapping

import numpy as np

from mnv3c.errors import UnsupportedModelError, ops_summary, shown
from mnv3c.progress import stage
from mnv3c.ir.graph import Graph, Node, QuantParams, Tensor
from mnv3c.quant import intops
from mnv3c.quant.bias_correction import correct_biases
from mnv3c.quant.calibrate import (LUT_ACTS, CalibrationStats, collect, has_lut_act, pre_act_name,
                                   se_part_name)
from mnv3c.quant.equalize import equalize as equalize_graph
from mnv3c.quant.input_grid import input_params
from mnv3c.quant import intops16
from mnv3c.quant.intops16 import INT16_MAX, INT16_MIN
from mnv3c.quant.ranges import MIN_SCALE, estimate_range, minmax_range, scale_zero_point, softmax_floor
from mnv3c.reference.activations import apply_activation, varying_interval
from mnv3c.quant.batch_matmul import batch_matmul_params, batch_matmul_params16
from mnv3c.quant.layer_norm import layer_norm_params
from mnv3c.quant.softmax import OUTPUT_SCALE as SOFTMAX_SCALE, OUTPUT_ZERO_POINT as SOFTMAX_ZERO_POINT
from mnv3c.quant.softmax import OUTPUT16_SCALE as SOFTMAX16_SCALE
from mnv3c.quant.softmax import append_softmax, softmax_params
from mnv3c.quant.weight_rounding import choose_codes, layer_weights
from mnv3c.reference.resize import nearest_indices, source_coords

QUANTIZABLE = ("conv2d", "depthwise_conv2d", "dense", "conv_transpose", "add", "mul", "squeeze_excite",
               "global_avg_pool", "avg_pool", "max_pool", "reshape", "channels_last_reshape", "resize", "slice", "concat", "relu", "clip",
               "hard_swish", "hard_sigmoid", "sigmoid", "gelu", "transpose", "matmul", "softmax", "layer_norm")
ALIASING = ("reshape", "channels_last_reshape", "max_pool", "resize", "slice", "transpose")  # the output reuses the input's quantization
VIEWS = ("reshape", "channels_last_reshape")  # no data moves in the C layout
STANDALONE_ACTS = ("relu", "clip", "hard_swish", "hard_sigmoid", "sigmoid", "gelu")
EQUALIZE_SAMPLES = 64
ACC_LIMIT = 1 << 31

QP = tuple[float, int]  # (scale, zero point) of a per-tensor int8 activation


def quantize(graph: Graph, calib: np.ndarray | None, method: str = "auto", *, percentile: float = 99.99,
             bias_correction: bool | None = None, equalize: bool | None = None,
             activation_params: Mapping[str, QP] | None = None, batch_size: int = 32,
             progress: bool = True, precision: Mapping[str, str] | None = None, softmax: bool = True,
             adaptive_rounding: bool = False) -> Graph:
    """The int8 graph of canonical float ``graph`` calibrated on ``calib`` (float32, batch first).

    ``method``: "minmax", "percentile", "mse" or "auto" (per tensor, the estimator of least MSE).
    ``activation_params`` fixes (scale, zero point) of the named tensors (a pre-quantized QDQ
    model's); the others are calibrated. Equalization and bias correction change the float
    weights, so by default (None) they run only when no ranges are recorded. ``adaptive_rounding``
    chooses the int8 weight codes on the calibration inputs (`weight_rounding`) instead of rounding
    to nearest: it lowers the weights' share of the error (5x on MobileNetV2) at a few seconds of
    calibration, which pays when the activations are not the larger share (16x8 layers).
    """
    return quantize_with_float(graph, calib, method, percentile=percentile, bias_correction=bias_correction,
                               equalize=equalize, activation_params=activation_params, batch_size=batch_size,
                               progress=progress, precision=precision, softmax=softmax,
                               adaptive_rounding=adaptive_rounding)[1]


def quantize_with_float(graph: Graph, calib: np.ndarray | None, method: str = "auto", *,
                        percentile: float = 99.99, bias_correction: bool | None = None,
                        equalize: bool | None = None, activation_params: Mapping[str, QP] | None = None,
                        batch_size: int = 32, progress: bool = True,
                        precision: Mapping[str, str] | None = None, softmax: bool = True,
                        adaptive_rounding: bool = False) -> tuple[Graph, Graph]:
    """`quantize`, also returning the float graph the int8 one approximates tensor by tensor
    (equalized and bias-corrected; its softmax where the int8 graph has one): the reference for
    per-layer errors. ``precision``: node name -> "int8" or "int16" (16x8, see `build`); unnamed
    nodes are int8. ``softmax``: end in the int8 softmax kernel (else at the logits)."""
    fixed = dict(activation_params or {})
    equalize = not fixed if equalize is None else equalize
    bias_correction = not fixed if bias_correction is None else bias_correction
    g = prepare(graph)
    if calib is None:
        missing = sorted(n for n in _activation_names(g) if n not in fixed)
        if missing:
            raise UnsupportedModelError(f"no calibration data and no recorded ranges for {missing[:5]}")
    info: dict[str, Any] = {"method": method, "percentile": percentile, "samples": 0 if calib is None else len(calib),
                            "equalize": bool(equalize and calib is not None),
                            "bias_correction_enabled": bool(bias_correction and calib is not None),
                            "adaptive_rounding": bool(adaptive_rounding and calib is not None),
                            "equalized_pairs": [], "bias_correction": {}}
    stats = CalibrationStats()
    if calib is not None:
        with stage("calibrate", f"{len(calib)} samples", total=len(calib), enabled=progress) as bar:
            if equalize:
                g, info["equalized_pairs"] = equalize_graph(g, calib[:EQUALIZE_SAMPLES], batch_size)
            stats = collect(g, calib, batch_size, on_batch=bar.advance, moments=info["adaptive_rounding"])
    with stage("quantize", f"{len(g.nodes)} layers, {method} ranges", enabled=progress):
        if info["adaptive_rounding"]:  # before bias correction, which corrects the chosen codes' mean error
            g.meta.setdefault("quant", {})["weight_codes"] = choose_codes(g, stats.moments, centred=info["bias_correction_enabled"])
        if bias_correction and calib is not None:
            g, info["bias_correction"] = correct_biases(g, stats.input_means)
        params, info["ranges"] = choose_params(g, stats, method, percentile, fixed, calib)
        info["params"] = params  # every activation's (scale, zero point), fused internals included: `build` input
        qg = build(g, params, precision, info["ranges"])
    qg.meta["quant"] = {**g.meta.get("quant", {}), **info}
    if qg.meta["quant"]["host_softmax_axis"] is not None:
        if softmax and qg.tensors[qg.outputs[0]].dtype == "int8":  # int16 logits keep the host's softmax
            append_softmax(qg, g, graph)
        else:
            qg.meta["quant"]["softmax"] = "host"
    return g, qg


def placeholder_int8(graph: Graph) -> Graph:
    """The int8 graph of canonical float ``graph`` with every activation at scale 1, zero point 0.

    It has the calibrated graph's layers, shapes, weights and tables, only other numbers in them,
    so the memory plan and the weight bytes, which do not depend on ranges, can be checked against
    a board before calibration runs (with the int8 softmax, which keeps the logits in the arena)."""
    g = prepare(graph)
    qg = build(g, defaultdict(lambda: (1.0, 0)))
    if g.meta["quant"]["host_softmax_axis"] is not None:
        append_softmax(qg, g, graph)
    return qg


QUANT_REPORT_KEYS = ("method", "percentile", "equalize", "bias_correction_enabled", "adaptive_rounding", "samples", "calibration",
                     "equalized_pairs", "host_softmax_axis", "softmax", "mixed_steps", "mixed_search")


def quant_report(qg: Graph) -> dict[str, Any]:
    """How ``qg`` was quantized, for report.json and eval: the calibration choices and their effects."""
    meta = qg.meta.get("quant", {})
    floors = [{"tensor": name, "lo": r["lo"], "min": r["min"], "max": r["max"], "int16_bound": r["int16_bound"]}
              for name, r in (meta.get("ranges") or {}).items() if r.get("softmax_floor") is not None]
    return {k: meta.get(k) for k in QUANT_REPORT_KEYS} | {"bias_corrected_layers": len(meta.get("bias_correction") or {}),
                                                          "softmax_floors": floors}


def requant_zero_point(attrs: Mapping[str, Any]) -> int:
    """The zero point a quantized layer requantizes into: the pre-activation one when a LUT follows
    (see the attrs above); the simulator and the code generator both read it here."""
    return int(attrs["pre_act_zero_point"]) if attrs.get("lut") is not None else int(attrs["y_zero_point"])

# --- preparation -----------------------------------------------------------------------------
def prepare(graph: Graph) -> Graph:
    """A copy with the trailing softmax removed (recorded) and affine as 1x1 depthwise; rejects
    ops the int8 kernels do not have."""
    g = graph.copy()
    meta = g.meta.setdefault("quant", {})
    meta["host_softmax_axis"] = meta["softmax"] = None
    producers = g.producers()
    if len(g.outputs) == 1 and g.outputs[0] in producers and producers[g.outputs[0]].op == "softmax":
        sm = producers[g.outputs[0]]
        g.nodes.remove(sm)
        g.outputs = [sm.inputs[0]]
        meta["host_softmax_axis"] = int(sm.attrs.get("axis", -1))
        g.remove_unused_tensors()
    _reject_ops_without_kernel(g)
    for n in g.nodes:
        if n.op == "affine":
            _affine_to_depthwise(g, n)
        if n.op in ("conv2d", "conv_transpose") and int(n.attrs.get("group", 1)) != 1:
            raise UnsupportedModelError(f"node {shown(n.name)}: grouped {n.op} (group {n.attrs['group']}) has no int8 kernel")
        if n.op in ("conv2d", "depthwise_conv2d", "dense", "conv_transpose") and (len(n.inputs) < 3 or not n.inputs[2]):
            _add_zero_bias(g, n)
        if n.op == "mul":
            _order_mul_operands(g, n)
        if n.op in ("avg_pool", "max_pool") and n.attrs.get("ceil_mode"):
            raise UnsupportedModelError(f"node {shown(n.name)}: pooling with ceil_mode has no int8 kernel")
        if n.op == "avg_pool" and n.attrs.get("count_include_pad") and any(n.attrs.get("pads") or ()):
            raise UnsupportedModelError(f"node {shown(n.name)}: avg_pool with count_include_pad has no int8 kernel")
    if len(g.inputs) != 1:
        raise UnsupportedModelError(f"the quantizer handles one graph input, got {len(g.inputs)}")
    return g


def _reject_ops_without_kernel(g: Graph) -> None:
    """One error naming every op class without an int8 kernel (with its first node)."""
    count, listed = ops_summary((f"'{n.op}'", n.name) for n in g.nodes if n.op not in QUANTIZABLE and n.op != "affine")
    if count:
        raise UnsupportedModelError(f"no int8 kernel for {listed} (supported: {', '.join(QUANTIZABLE)}, "
                                    "and a final softmax)")


def _affine_to_depthwise(g: Graph, n: Node) -> None:
    scale, shift = g.tensors[n.inputs[1]].data, g.tensors[n.inputs[2]].data
    w = g.add_const(g.unique_name(f"{n.name}_w"), scale.astype(np.float32).reshape(-1, 1, 1, 1))
    b = g.add_const(g.unique_name(f"{n.name}_b"), shift.astype(np.float32).reshape(-1))
    n.op, n.inputs = "depthwise_conv2d", [n.inputs[0], w.name, b.name]
    n.attrs = {"strides": (1, 1), "pads": (0, 0, 0, 0), "dilations": (1, 1), "group": int(scale.size),
               "act": n.attrs.get("act", "none"), "act_params": n.attrs.get("act_params", {})}
    n.fused = n.fused + ["affine"]


def _order_mul_operands(g: Graph, n: Node) -> None:
    """A mul of two runtime tensors, the full-size one first: the int8 kernel broadcasts only its
    second operand, and only as a per-channel [N, C, 1, 1] (an attention gate) or not at all."""
    a, b = (g.tensors[i] for i in n.inputs)
    if (a.is_const or b.is_const) and (a.size == 1 or b.size == 1) and (a.size, b.size) != (1, 1):
        if a.is_const:
            n.inputs = n.inputs[::-1]
        return  # x times a scalar: an int8 table (`_build_mul`)
    if a.is_const or b.is_const:
        raise UnsupportedModelError(f"node {shown(n.name)}: mul by a constant has no int8 kernel (it should fold "
                                    "into a neighbouring layer)")
    out = g.tensors[n.outputs[0]].shape
    if a.shape != out:
        n.inputs = n.inputs[::-1]
        a, b = b, a
    channel_gate = len(out) == 4 and b.shape == out[:2] + (1, 1)
    if a.shape != out or not (b.shape == out or channel_gate):
        raise UnsupportedModelError(f"node {shown(n.name)}: mul of {list(a.shape)} by {list(b.shape)} has no int8 "
                                    "kernel (equal shapes or a per-channel [N, C, 1, 1] gate)")


def _add_zero_bias(g: Graph, n: Node) -> None:
    out_channels = g.tensors[n.inputs[1]].shape[0]
    b = g.add_const(g.unique_name(f"{n.name}_bias"), np.zeros(out_channels, np.float32))
    n.inputs = n.inputs[:2] + [b.name]


def _activation_names(g: Graph) -> list[str]:
    return [n for n, t in g.tensors.items() if not t.is_const]


# --- ranges ----------------------------------------------------------------------------------
def choose_params(g: Graph, stats: CalibrationStats, method: str, percentile: float,
                  fixed: Mapping[str, QP], inputs: np.ndarray | None = None) -> tuple[dict[str, QP], dict[str, dict]]:
    """(scale, zero point) of every activation tensor, including pre-activation and SE internals.

    The graph input's grid is then fitted to the calibration ``inputs`` themselves where they take
    few distinct values (`input_grid.input_params`: normalized pixels), ``exact_grid`` in its report.

    Graph outputs (the logits) use min/max: clipping them would tie the top classes. A tensor
    before a LUT activation is judged by its error AFTER the activation and clipped to where the
    activation varies (`varying_interval`), so h-swish's flat negative side costs no codes, whatever
    the estimator. A tensor only depthwise layers read (and its pre-activation) is judged by the
    error of those layers' accumulators, its values weighted by their channel's squared weights
    (`calibrate.depthwise_channel_weights`), under "mse" and "auto". A tensor only a softmax reads
    (the logits of a stripped trailing softmax too), or that reaches one only through data-movement
    ops, starts (int8 and int16) no lower than `ranges.softmax_floor` below its smallest calibration
    row maximum: lower values do not move the probabilities (``softmax_floor`` in the report).
    """
    params: dict[str, QP] = {}
    report: dict[str, dict] = {}
    floors = softmax_floors(g, stats)

    def assign(name: str, act: tuple[str, Mapping[str, Any] | None] | None = None) -> None:
        if name in fixed:
            params[name] = (float(fixed[name][0]), int(fixed[name][1]))
            report[name] = {"estimator": "recorded", "scale": params[name][0], "zero_point": params[name][1]}
            return
        if name not in stats.hists:
            raise UnsupportedModelError(f"tensor {shown(name)} has no calibration data and no recorded range")
        h = stats.hists[name]
        m = "minmax" if name in g.outputs else method
        f = _act_fn(*act) if act else None
        hw = stats.weighted.get(name)
        lo, hi = estimate_range(h, m, percentile, f, hw) if m != "minmax" else minmax_range(h)
        lo16, hi16 = h.min, h.max  # int16 has codes to spare: it clips nothing but flat regions
        if act:  # where the activation is flat, clipping its input is free
            a, b = varying_interval(*act)
            lo, hi, lo16, hi16 = max(lo, a), min(hi, b), max(lo16, a), min(hi16, b)
        floor = floors.get(name)
        if floor is not None:  # what the softmax reading it cannot tell apart is free too
            lo, lo16 = max(lo, min(floor, 0.0)), max(lo16, min(floor, 0.0))
        params[name] = scale_zero_point(lo, hi)
        report[name] = {"estimator": m, "lo": lo, "hi": hi, "min": h.min, "max": h.max, "int16_bound": max(-lo16, hi16),
                        "reader_weighted": hw is not None and m in ("mse", "auto"), "softmax_floor": floor}

    shared = concat_shared_inputs(g, fixed)
    assign(g.inputs[0])
    if inputs is not None and g.inputs[0] not in fixed:
        params[g.inputs[0]], report[g.inputs[0]]["exact_grid"] = input_params(inputs, params[g.inputs[0]])
    for n in g.nodes:
        out = n.outputs[0]
        if n.op in ALIASING:
            params[out] = params[n.inputs[0]]
            continue
        if n.op == "softmax":  # TFLite's fixed int8 softmax output
            params[out] = (SOFTMAX_SCALE, SOFTMAX_ZERO_POINT)
            report[out] = {"estimator": "fixed", "scale": SOFTMAX_SCALE, "zero_point": SOFTMAX_ZERO_POINT}
            continue
        if n.op == "concat" and out in params:  # already chosen for an input that shares it
            continue
        if has_lut_act(n):
            assign(pre_act_name(out), (n.attrs["act"], n.attrs.get("act_params")))
        if n.op == "squeeze_excite":
            assign(se_part_name(out, "pool"))
            assign(se_part_name(out, "hidden"))
            if n.attrs.get("act2", "none") in LUT_ACTS:
                assign(se_part_name(out, "gate_pre"), (n.attrs["act2"], n.attrs.get("act2_params")))
            assign(se_part_name(out, "gate"))
        if out in shared:
            root = out
            while root in shared:
                root = shared[root]
            if root not in params:
                assign(root)
            params[out] = params[root]
            report[out] = {"estimator": "shared", "with": root}
        else:
            assign(out)
    return params, report


def softmax_floors(g: Graph, stats: CalibrationStats) -> dict[str, float]:
    """Tensor -> `ranges.softmax_floor` for each tensor a softmax reads alone (`calibrate.softmax_rows`),
    or, when data-movement ops (which take their input's quantization) lead to it, for the tensor
    at the start of that chain if nothing else reads the chain."""
    producers, consumers = g.producers(), g.consumers()
    floors: dict[str, float] = {}
    for t, (row_max, row) in stats.row_max_min.items():
        while (t in producers and producers[t].op in ALIASING and producers[t].inputs[0] not in g.outputs
               and len(consumers.get(producers[t].inputs[0], [])) == 1):
            t = producers[t].inputs[0]
        floors[t] = softmax_floor(row_max, row)
    return floors


def raise_to_softmax_floor(qg: Graph, tensor: str, values: np.ndarray) -> np.ndarray:
    """``values`` of ``tensor`` as the softmax reading it sees them: raised to where its range starts
    when it has a softmax floor (`softmax_floors`), unchanged otherwise. Scoring against these keeps
    the deliberately clipped tail from counting as error."""
    floor = ((qg.meta.get("quant", {}).get("ranges") or {}).get(tensor) or {}).get("softmax_floor")
    return values if floor is None else np.maximum(values, min(floor, 0.0))


def concat_shared_inputs(g: Graph, fixed: Mapping[str, QP]) -> dict[str, str]:
    """Tensors that take a concat output's quantization (TFLite's converter does the same), so the
    kernel copies bytes instead of requantizing: each concat input, or the tensor behind a chain of
    reshapes leading to it, that a layer writes anyway (requantizing, or another concat) and only
    that path reads. Others (the graph input, pooled or resized views, recorded ranges) are
    requantized inside the concat kernel. Maps tensor -> the concat output it shares with."""
    producers, consumers = g.producers(), g.consumers()
    shared: dict[str, str] = {}
    for n in g.nodes:
        if n.op != "concat" or n.outputs[0] in fixed:
            continue
        for t in n.inputs:
            while t in producers and producers[t].op in VIEWS and len(consumers.get(t, [])) == 1:
                t = producers[t].inputs[0]
            p = producers.get(t)
            if (p is not None and p.op not in ALIASING and t not in fixed and t not in g.outputs
                    and len(consumers.get(t, [])) == 1 and t not in shared):
                shared[t] = n.outputs[0]
    return shared


def _act_fn(act: str, act_params: Mapping[str, Any] | None) -> Callable[[np.ndarray], np.ndarray]:
    return lambda x: apply_activation(np.asarray(x, np.float64), act, act_params or {})


# --- building the int8 graph -----------------------------------------------------------------
def build(g: Graph, params: Mapping[str, QP], precision: Mapping[str, str] | None = None,
          ranges: Mapping[str, Mapping[str, Any]] | None = None) -> Graph:
    """The quantized graph of float ``g`` given every activation's int8 (scale, zero point).

    ``precision`` makes named nodes int16 (TFLite's 16x8: symmetric int16 activations, int8
    weights, int64 bias; `intops16`) over the calibration min/max (``ranges``, `choose_params`'
    report: int16 has codes to spare, so only an activation's flat regions are clipped). A data-movement
    op (reshape, max_pool, slice, transpose, channels_last_reshape) keeps its input's precision. Where a tensor meets a consumer of the other precision, a ``requantize``
    node converts it (once per precision) into ``converted_name(tensor, dtype)``; the graph input
    and output stay int8, so the C API does not change with the precision.
    """
    tprec = tensor_precisions(g, precision or {})
    p16 = {name: int16_params(qp, _int16_report(ranges or {}, name)) for name, qp in params.items()}
    p16.update({n.outputs[0]: (SOFTMAX16_SCALE, 0) for n in g.nodes if n.op == "softmax"})  # fixed, as in int8
    eff: ChainMap[str, QP] = ChainMap({}, params)  # params may be a defaultdict (placeholder_int8)
    for n in g.nodes:  # an int16 node's output and fused internals take symmetric int16 parameters
        if tprec[n.outputs[0]] == "int16" and n.op in ALIASING:  # codes are copied: the input's parameters
            eff[n.outputs[0]] = eff[n.inputs[0]]
        elif tprec[n.outputs[0]] == "int16":
            for name in _owned_tensors(n):
                if name in params:
                    eff[name] = p16[name]
    qg = Graph(g.name)
    qg.inputs, qg.outputs, qg.meta = list(g.inputs), list(g.outputs), dict(g.meta)
    for name, t in g.tensors.items():
        if not t.is_const:
            s, z = eff[name]
            qg.add_tensor(Tensor(name, t.shape, tprec[name], quant=QuantParams.per_tensor(s, z)))
    for n in g.nodes:
        prec = tprec[n.outputs[0]]
        qn = Node(n.name, n.op, list(n.inputs), list(n.outputs), dict(n.attrs), list(n.fused))
        view = eff.new_child()
        for k, name in enumerate(n.inputs):
            if name in tprec and tprec[name] != prec:
                qn.inputs[k] = _converter(qg, name, prec, params, p16)
                view[name] = eff_of(qg, qn.inputs[k])
        try:
            (_BUILDERS16 if prec == "int16" else _BUILDERS)[n.op](g, qg, n, qn, view)
        except intops.MultiplierRangeError as e:
            raise UnsupportedModelError(f"layer {shown(n.name)} ({n.op}) cannot be quantized to {prec}: {e}; "
                                        "its weights or activation ranges are extreme") from None
        for name in qn.inputs:  # other constants (none in canonical graphs) are kept as they are
            if name and name not in qg.tensors:
                qg.add_tensor(Tensor(name, g.tensors[name].shape, g.tensors[name].dtype, g.tensors[name].data))
        qg.add_node(qn)
    if tprec[g.outputs[0]] != "int8":
        qg.outputs = [_converter(qg, g.outputs[0], "int8", params, p16)]
    return qg


PRECISIONS = ("int8", "int16")


def has_int16_kernel(op: str) -> bool:
    """Whether ``op`` has a 16x8 builder (aliasing ops take their input's precision instead)."""
    return op in _BUILDERS16


def tensor_precisions(g: Graph, precision: Mapping[str, str]) -> dict[str, str]:
    """Activation tensor -> "int8"/"int16": its producer's precision (graph input: int8); a node
    whose op has no 16x8 kernel stays int8 whatever is asked (converters surround it)."""
    bad = sorted(set(precision.values()) - set(PRECISIONS))
    if bad:
        raise ValueError(f"unknown precision {bad[0]!r} (expected one of {PRECISIONS})")
    out = {g.inputs[0]: "int8"}
    for n in g.nodes:
        wanted = out[n.inputs[0]] if n.op in ALIASING else precision.get(n.name, "int8")
        out[n.outputs[0]] = wanted if has_int16_kernel(n.op) else "int8"
    return out


def int16_params(qp: QP, report: Mapping[str, Any] | None = None) -> QP:
    """Symmetric int16 (scale, 0) over the tensor's calibration bound (`choose_params`' report),
    or without one (recorded ranges) over the real range of its int8 parameters ``qp``."""
    s, z = qp
    bound = report.get("int16_bound") if report else None
    if bound is None:
        bound = max(s * (z + 128), s * (127 - z))
    return float(np.float32(max(float(bound), MIN_SCALE) / INT16_MAX)), 0


def _int16_report(ranges: Mapping[str, Mapping[str, Any]], name: str) -> Mapping[str, Any] | None:
    """The range report ``name``'s int16 scale comes from: a tensor sharing a concat output's
    quantization (`concat_shared_inputs`) takes that output's, as its int8 one, so an int16 concat
    copies it too instead of requantizing."""
    report = ranges.get(name)
    if report is not None and report.get("estimator") == "shared":
        return ranges.get(report["with"], report)
    return report


def converted_name(tensor: str, dtype: str) -> str:
    return f"{tensor}@{dtype}"


def source_tensor(qg: Graph, name: str) -> str:
    """The float-graph tensor a quantized tensor holds (a converter's output holds its input's)."""
    producer = qg.producers().get(name)
    return producer.inputs[0] if producer is not None and producer.op == "requantize" else name


def eff_of(qg: Graph, name: str) -> QP:
    q = qg.tensors[name].quant
    return float(q.scale), int(q.zero_point)


def _owned_tensors(n: Node) -> list[str]:
    out = n.outputs[0]
    return [out, pre_act_name(out)] + [se_part_name(out, part) for part in ("pool", "hidden", "gate_pre", "gate")]


def _converter(qg: Graph, name: str, dtype: str, params: Mapping[str, QP], p16: Mapping[str, QP]) -> str:
    """The ``requantize`` node making ``name`` available as ``dtype`` (added once)."""
    out = converted_name(name, dtype)
    if out in qg.tensors:
        return out
    src = qg.tensors[name]
    s8, z8 = params[name]
    s16, _ = p16[name]
    qp = (s16, 0) if dtype == "int16" else (s8, z8)
    qg.add_tensor(Tensor(out, src.shape, dtype, quant=QuantParams.per_tensor(*qp)))
    if dtype == "int16":  # y16 = MBQM(x8 - zx, s8 / s16)
        m, sh = intops.quantize_multiplier(s8 / s16)
        attrs = {"x_zero_point": z8, "y_zero_point": 0, "multiplier": m, "shift": sh}
    else:  # y8 = MBQM(x16, s16 / s8) + zy
        m, sh = intops.quantize_multiplier(float(src.quant.scale) / s8)
        attrs = {"x_zero_point": 0, "y_zero_point": z8, "multiplier": m, "shift": sh}
    qg.add_node(Node(out, "requantize", [name], [out], attrs))
    return out


def int8_output(qg: Graph, name: str) -> str:
    """The int8 converter of int16 tensor ``name`` that `build` ends a graph with int16 outputs with
    (int8 parameters from ``qg.meta["quant"]["params"]``): the converted tensor's name."""
    return _converter(qg, name, "int8", qg.meta["quant"]["params"], {name: eff_of(qg, name)})


def _act_clamp(act: str, act_params: Mapping[str, Any] | None, s: float, z: int,
               qmin: int = -128, qmax: int = 127) -> tuple[int, int]:
    """[lo, hi] of a clamp activation in the integer domain of (s, z) (int8 unless told)."""
    p = act_params or {}
    if act in (None, "none"):
        return qmin, qmax
    if act == "relu":
        return z, qmax
    if act == "clip":
        lo_r, hi_r = float(p.get("min", -np.inf)), float(p.get("max", np.inf))
        lo = qmin if lo_r == -np.inf else int(np.clip(z + intops.round_half_away(lo_r / s), qmin, qmax))
        hi = qmax if hi_r == np.inf else int(np.clip(z + intops.round_half_away(hi_r / s), qmin, qmax))
        return lo, hi
    raise UnsupportedModelError(f"activation {shown(act)} cannot be a clamp")


def _multipliers(reals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pairs = [intops.quantize_multiplier(float(r)) for r in np.atleast_1d(reals)]
    return np.array([m for m, _ in pairs], np.int32), np.array([s for _, s in pairs], np.int32)


def _output_stage(n: Node, params: Mapping[str, QP], act_key: str = "act") -> tuple[QP, dict[str, Any]]:
    """The quantization a layer requantizes into and the attrs of its activation (clamp or LUT)."""
    out = n.outputs[0]
    act, act_params = n.attrs.get(act_key, "none"), n.attrs.get(f"{act_key}_params")
    sy, zy = params[out]
    if act in LUT_ACTS:
        st, zt = params[pre_act_name(out)]
        lut = intops.make_lut(_act_fn(act, act_params), st, zt, sy, zy)
        return (st, zt), {"lo": -128, "hi": 127, "lut": lut, "pre_act_scale": st, "pre_act_zero_point": zt}
    lo, hi = _act_clamp(act, act_params, sy, zy)
    return (sy, zy), {"lo": lo, "hi": hi}


def _quantize_layer_weights(g: Graph, qg: Graph, w_name: str, b_name: str, s_in: float,
                            s_out: float, layer: str, int16: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Add the int8 weights and the bias (int32; int64 for an int16 layer) of a layer to ``qg``;
    return its (multiplier, shift)."""
    b = g.tensors[b_name].data
    qw, sw = layer_weights(g, w_name)
    bias_scale = (np.float64(s_in) * sw.astype(np.float64))
    qb_real = b.astype(np.float64) / bias_scale
    limit = intops16.ACC_LIMIT_64 if int16 else ACC_LIMIT
    if not np.all(np.abs(qb_real) < limit):  # checked before the int64 cast, which would wrap it
        raise UnsupportedModelError(f"layer {shown(layer)}: bias {shown(b_name)} is too large for the "
                                    f"{'int64' if int16 else 'int32'} accumulator (up to "
                                    f"{float(np.max(np.abs(qb_real))):.3g} steps of its scale); the weights are extreme")
    qb = intops.round_half_away(qb_real)
    span = 1 << 16 if int16 else 255  # the largest |x - zx|
    bound = np.abs(qw.reshape(qw.shape[0], -1).astype(np.int64)).sum(axis=1) * span + np.abs(qb)
    real = bias_scale / s_out
    mult, shift = _multipliers(real)
    if int16:
        if shift.max() > 7:
            raise UnsupportedModelError(f"layer {shown(layer)}: int16 requantization multiplier too large "
                                        f"(shift {int(shift.max())} > 7)")
        if bound.max() >= intops16.ACC_LIMIT_64:
            raise UnsupportedModelError(f"layer {shown(layer)}: int64 accumulator exceeds 2^47 (bound {int(bound.max())})")
        if (bound * real).max() >= 2.0 ** 31:  # mbqm64's result must be an int32 (TFLite asserts it)
            raise UnsupportedModelError(f"layer {shown(layer)}: int16 requantized accumulator could leave int32")
    else:
        bound = bound << np.maximum(shift, 0).astype(np.int64)
        if bound.max() >= ACC_LIMIT:
            raise UnsupportedModelError(f"layer {shown(layer)}: int32 accumulator could overflow "
                                        f"(bound {int(bound.max())}); weights or bias too large for int8")
    qg.add_tensor(Tensor(w_name, tuple(qw.shape), "int8", qw,
                         QuantParams(sw, np.zeros(sw.shape, np.int32), axis=0)))
    qg.add_tensor(Tensor(b_name, tuple(b.shape), "int64" if int16 else "int32",
                         qb.astype(np.int64 if int16 else np.int32),
                         QuantParams(bias_scale.astype(np.float32), np.zeros(sw.shape, np.int32), axis=0)))
    return mult, shift


def _build_weighted(g: Graph, qg: Graph, n: Node, qn: Node, params: Mapping[str, QP]) -> None:
    sx, zx = params[n.inputs[0]]
    (st, _zt), stage = _output_stage(n, params)
    mult, shift = _quantize_layer_weights(g, qg, n.inputs[1], n.inputs[2], sx, st, n.name)
    qn.attrs.update(x_zero_point=zx, y_zero_point=params[n.outputs[0]][1], multiplier=mult, shift=shift, **stage)


def _build_add(g: Graph, qg: Graph, n: Node, qn: Node, params: Mapping[str, QP]) -> None:
    (sa, za), (sb, zb) = params[n.inputs[0]], params[n.inputs[1]]
    (st, _zt), stage = _output_stage(n, params)
    p = intops.add_params(sa, sb, st)
    qn.attrs.update(a_zero_point=za, b_zero_point=zb, y_zero_point=params[n.outputs[0]][1],
                    left_shift=intops.ADD_LEFT_SHIFT, a_multiplier=p.ma, a_shift=p.sa, b_multiplier=p.mb,
                    b_shift=p.sb, multiplier=p.my, shift=p.sy, **stage)


def _build_mul(g: Graph, qg: Graph, n: Node, qn: Node, params: Mapping[str, QP]) -> None:
    """TFLite's int8 Mul: y = clamp(MBQM((a - za)(b - zb), Q(sa·sb/sy)) + zy, lo, hi); by a scalar
    constant c, the table y = lut[x + 128] of x·c (then act)."""
    scalar = g.tensors[n.inputs[1]].data
    if scalar is not None:
        c, act = float(np.asarray(scalar).reshape(-1)[0]), n.attrs.get("act", "none")
        (sx, zx), (sy, zy) = params[n.inputs[0]], params[n.outputs[0]]
        qn.inputs = qn.inputs[:1]  # the input, or its converter when it is int16
        qn.attrs["lut"] = intops.make_lut(lambda v: apply_activation(v * c, act, n.attrs.get("act_params") or {}),
                                          sx, zx, sy, zy)
        return
    (sa, za), (sb, zb), (sy, zy) = params[n.inputs[0]], params[n.inputs[1]], params[n.outputs[0]]
    if n.attrs.get("act", "none") in LUT_ACTS:
        raise UnsupportedModelError(f"node {shown(n.name)}: mul with a fused {n.attrs['act']} has no int8 kernel")
    lo, hi = _act_clamp(n.attrs.get("act", "none"), n.attrs.get("act_params"), sy, zy)
    m, s = intops.quantize_multiplier(sa * sb / sy)
    qn.attrs.update(a_zero_point=za, b_zero_point=zb, y_zero_point=zy, multiplier=m, shift=s, lo=lo, hi=hi)


def _build_squeeze_excite(g: Graph, qg: Graph, n: Node, qn: Node, params: Mapping[str, QP]) -> None:
    x, w1, b1, w2, b2 = n.inputs
    out = n.outputs[0]
    (sx, zx), (sy, zy) = params[x], params[out]
    (sp, zp), (sh, zh) = params[se_part_name(out, "pool")], params[se_part_name(out, "hidden")]
    sg, zg = params[se_part_name(out, "gate")]
    hw = int(np.prod(g.tensors[x].shape[2:]))
    pool_m, pool_s = intops.quantize_multiplier(sx / (sp * hw))
    if n.attrs.get("act1", "none") in LUT_ACTS:
        raise UnsupportedModelError(f"node {shown(n.name)}: squeeze-excite act1 '{n.attrs['act1']}' "
                                    "must be relu or none")
    fc1_lo, fc1_hi = _act_clamp(n.attrs.get("act1", "none"), n.attrs.get("act1_params"), sh, zh)
    fc1_m, fc1_s = _quantize_layer_weights(g, qg, w1, b1, sp, sh, f"{n.name}/fc1")
    act2 = n.attrs.get("act2", "none")
    if act2 in LUT_ACTS:
        st, zt = params[se_part_name(out, "gate_pre")]
        fc2 = {"fc2_lo": -128, "fc2_hi": 127, "fc2_scale": st, "fc2_zero_point": zt,
               "fc2_lut": intops.make_lut(_act_fn(act2, n.attrs.get("act2_params")), st, zt, sg, zg)}
    else:
        st = sg
        lo, hi = _act_clamp(act2, n.attrs.get("act2_params"), sg, zg)
        fc2 = {"fc2_lo": lo, "fc2_hi": hi, "fc2_scale": sg, "fc2_zero_point": zg}
    fc2_m, fc2_s = _quantize_layer_weights(g, qg, w2, b2, sh, st, f"{n.name}/fc2")
    mul_m, mul_s = intops.quantize_multiplier(sx * sg / sy)
    qn.attrs.update(x_zero_point=zx, y_zero_point=zy, pool_multiplier=pool_m, pool_shift=pool_s, pool_scale=sp,
                    pool_zero_point=zp, fc1_multiplier=fc1_m, fc1_shift=fc1_s, fc1_lo=fc1_lo, fc1_hi=fc1_hi,
                    fc1_scale=sh, fc1_zero_point=zh, fc2_multiplier=fc2_m, fc2_shift=fc2_s, **fc2,
                    gate_scale=sg, gate_zero_point=zg, mul_multiplier=mul_m, mul_shift=mul_s, lo=-128, hi=127)


def _build_global_avg_pool(g: Graph, qg: Graph, n: Node, qn: Node, params: Mapping[str, QP]) -> None:
    (sx, zx), (sy, zy) = params[n.inputs[0]], params[n.outputs[0]]
    hw = int(np.prod(g.tensors[n.inputs[0]].shape[2:]))
    m, s = intops.quantize_multiplier(sx / (sy * hw))
    qn.attrs.update(x_zero_point=zx, y_zero_point=zy, multiplier=m, shift=s)


def _build_avg_pool(g: Graph, qg: Graph, n: Node, qn: Node, params: Mapping[str, QP]) -> None:
    (sx, zx), (sy, zy) = params[n.inputs[0]], params[n.outputs[0]]
    m, s = intops.avg_pool_multipliers(sx, sy, tuple(n.attrs["kernel"]))
    qn.attrs.update(x_zero_point=zx, y_zero_point=zy, multiplier=m, shift=s)


def _build_conv_transpose(g: Graph, qg: Graph, n: Node, qn: Node, params: Mapping[str, QP]) -> None:
    _build_weighted(g, qg, n, qn, params)
    qn.attrs["out_hw"] = tuple(int(d) for d in g.tensors[n.outputs[0]].shape[2:])


def _build_resize(g: Graph, qg: Graph, n: Node, qn: Node, params: Mapping[str, QP]) -> None:
    """Index tables per axis: nearest copies ``rows``/``cols``; bilinear has TFLite's (i0, i1, frac)."""
    (_, _, h, w), a = g.tensors[n.inputs[0]].shape, n.attrs
    (oh, ow), (sh, sw) = a["size"], a["scales"]
    for axis, (out_len, in_len, scale) in (("y", (oh, h, sh)), ("x", (ow, w, sw))):
        if a["mode"] == "nearest":
            idx = nearest_indices(out_len, in_len, scale, a["coordinate_transformation_mode"], a["nearest_mode"])
            qn.attrs[f"{axis}_index"] = idx.astype(np.int32)
        else:
            taps = intops.bilinear_taps(out_len, in_len, _bilinear_coords(out_len, in_len, scale, a))
            qn.attrs.update({f"{axis}_{k}": v for k, v in zip(("i0", "i1", "frac"), taps)})


def _bilinear_coords(out_len: int, in_len: int, scale: float, a: Mapping[str, Any]) -> np.ndarray:
    """Input coordinates in 1/1024 units: TFLite's integer formula where TFLite has the mode (the
    scale is out/in: half_pixel, pytorch_half_pixel, asymmetric; align_corners), else the float
    coordinate rounded, clamped like onnxruntime."""
    mode = a["coordinate_transformation_mode"]
    exact_scale = np.float32(scale) == np.float32(out_len / in_len)
    if mode == "align_corners":
        return intops.tflite_bilinear_coords(out_len, in_len, True, False)
    if exact_scale and (mode == "half_pixel" or (mode == "pytorch_half_pixel" and out_len > 1)):
        return intops.tflite_bilinear_coords(out_len, in_len, False, True)
    if exact_scale and mode == "asymmetric":
        return intops.tflite_bilinear_coords(out_len, in_len, False, False)
    c = np.clip(source_coords(out_len, in_len, scale, mode).astype(np.float64), 0, in_len - 1)
    return intops.round_half_away(c * intops.RESIZE_ONE)


def _build_concat(g: Graph, qg: Graph, n: Node, qn: Node, params: Mapping[str, QP]) -> None:
    """``requant``: per input None (same quantization as y: a copy) or (zx, M, S) with M,S = Q(sx/sy)."""
    sy, zy = params[n.outputs[0]]
    requant = []
    for i in n.inputs:
        sx, zx = params[i]
        requant.append(None if (sx, zx) == (sy, zy) else (zx, *intops.quantize_multiplier(sx / sy)))
    qn.attrs.update(y_zero_point=zy, requant=requant)


def _build_matmul(g: Graph, qg: Graph, n: Node, qn: Node, params: Mapping[str, QP]) -> None:
    """TFLite BATCH_MATMUL int8 of two runtime tensors [N, (B,) M, K] x [N, (B,) K, N']."""
    depth = _matmul_depth(g, n, "int8")
    (sa, za), (sb, zb), (sy, zy) = params[n.inputs[0]], params[n.inputs[1]], params[n.outputs[0]]
    m, s = batch_matmul_params(n.name, depth, sa, sb, sy)
    qn.attrs.update(a_zero_point=za, b_zero_point=zb, y_zero_point=zy, multiplier=m, shift=s, lo=-128, hi=127)


def _build_matmul16(g: Graph, qg: Graph, n: Node, qn: Node, params: Mapping[str, QP]) -> None:
    """TFLite BATCH_MATMUL 16x16: symmetric int16 operands, int64 accumulator, mbqm64 (`batch_matmul_s16`)."""
    depth = _matmul_depth(g, n, "int16")
    (sa, _), (sb, _), (sy, _) = params[n.inputs[0]], params[n.inputs[1]], params[n.outputs[0]]
    m, s = batch_matmul_params16(n.name, depth, sa, sb, sy)
    qn.attrs.update(a_zero_point=0, b_zero_point=0, y_zero_point=0, multiplier=m, shift=s, lo=INT16_MIN, hi=INT16_MAX)


def _matmul_depth(g: Graph, n: Node, dtype: str) -> int:
    a, b = (g.tensors[i] for i in n.inputs)
    if a.is_const or b.is_const or len(a.shape) != len(b.shape) or len(a.shape) not in (3, 4) \
            or a.shape[:-2] != b.shape[:-2]:
        raise UnsupportedModelError(f"node {shown(n.name)}: matmul of {list(a.shape)} by {list(b.shape)} has no "
                                    f"{dtype} kernel (two runtime tensors of equal batch dims, rank 3 or 4; a "
                                    "constant weight becomes a dense layer)")
    return int(a.shape[-1])


def _build_softmax(g: Graph, qg: Graph, n: Node, qn: Node, params: Mapping[str, QP]) -> None:
    rank = len(g.tensors[n.inputs[0]].shape)
    axis = int(n.attrs.get("axis", -1)) % rank
    if axis == 0:
        raise UnsupportedModelError(f"node {shown(n.name)}: softmax over the batch axis has no integer kernel")
    multiplier, left_shift, diff_min = softmax_params(params[n.inputs[0]][0])
    qn.attrs.update(axis=axis, multiplier=multiplier, left_shift=left_shift, diff_min=diff_min)


def _build_layer_norm(g: Graph, qg: Graph, n: Node, qn: Node, params: Mapping[str, QP], int16: bool = False) -> None:
    shape = g.tensors[n.inputs[0]].shape
    if int(n.attrs.get("axis", -1)) % len(shape) != len(shape) - 1 or len(shape) < 2:
        raise UnsupportedModelError(f"node {shown(n.name)}: layer_norm over more than the last axis has no int8 kernel")
    d = int(shape[-1])
    gamma, beta = (np.broadcast_to(np.asarray(v, np.float64).reshape(-1), (d,)) if v is not None else default
                   for v, default in ((_optional_const(g, n, 1), np.ones(d)), (_optional_const(g, n, 2), np.zeros(d))))
    (sx, _), (sy, zy) = params[n.inputs[0]], params[n.outputs[0]]
    qn.inputs = qn.inputs[:1]  # the input, or its converter when it is int16
    qn.attrs.update(y_zero_point=zy, **layer_norm_params(d, float(n.attrs.get("epsilon", 1e-5)), sx, sy, gamma, beta,
                                                         int16))


def _build_layer_norm16(g: Graph, qg: Graph, n: Node, qn: Node, params: Mapping[str, QP]) -> None:
    """As `_build_layer_norm` on symmetric int16 parameters, within layer_norm_s16's limits."""
    _build_layer_norm(g, qg, n, qn, params, int16=True)


def _optional_const(g: Graph, n: Node, k: int) -> np.ndarray | None:
    name = n.inputs[k] if len(n.inputs) > k else ""
    return g.tensors[name].data if name else None


def _build_passthrough(g: Graph, qg: Graph, n: Node, qn: Node, params: Mapping[str, QP]) -> None:
    """max_pool and reshape: integer values move, quantization is shared."""


def _build_standalone_act(g: Graph, qg: Graph, n: Node, qn: Node, params: Mapping[str, QP]) -> None:
    (sx, zx), (sy, zy) = params[n.inputs[0]], params[n.outputs[0]]
    act_params = {k: n.attrs[k] for k in ("min", "max", "alpha", "beta", "approximate") if n.attrs.get(k) is not None}
    qn.attrs["lut"] = intops.make_lut(_act_fn(n.op, act_params), sx, zx, sy, zy)


_BUILDERS: dict[str, Callable[[Graph, Graph, Node, Node, Mapping[str, QP]], None]] = {
    "conv2d": _build_weighted,
    "depthwise_conv2d": _build_weighted,
    "dense": _build_weighted,
    "conv_transpose": _build_conv_transpose,
    "add": _build_add,
    "mul": _build_mul,
    "squeeze_excite": _build_squeeze_excite,
    "global_avg_pool": _build_global_avg_pool,
    "avg_pool": _build_avg_pool,
    "max_pool": _build_passthrough,
    "reshape": _build_passthrough,
    "channels_last_reshape": _build_passthrough,
    "slice": _build_passthrough,
    "transpose": _build_passthrough,
    "resize": _build_resize,
    "concat": _build_concat,
    "matmul": _build_matmul,
    "softmax": _build_softmax,
    "layer_norm": _build_layer_norm,
    **{a: _build_standalone_act for a in STANDALONE_ACTS},
}


# --- int16 (16x8) layers: same attrs as int8 with every zero point 0; LUTs are `intops16` tables --
# (a fused hard-swish is ``hswish``, an `intops16.HardSwish16` stage, instead of a table)
def _output_stage16(n: Node, params: Mapping[str, QP], act_key: str = "act") -> tuple[QP, dict[str, Any]]:
    out = n.outputs[0]
    act, act_params = n.attrs.get(act_key, "none"), n.attrs.get(f"{act_key}_params")
    sy, _ = params[out]
    if act in LUT_ACTS:
        st, _ = params[pre_act_name(out)]
        stage = {"lo": INT16_MIN, "hi": INT16_MAX, "pre_act_scale": st, "pre_act_zero_point": 0}
        if act == "hard_swish":  # computed, not a table: see intops16's module doc
            try:
                return (st, 0), {**stage, "hswish": intops16.hswish_params(st, sy)}
            except ValueError:  # scales no int32 stage represents (an all-but-zero tensor): the table
                pass
        return (st, 0), {**stage, "lut": intops16.make_lut16(_act_fn(act, act_params), st, sy)}
    lo, hi = _act_clamp(act, act_params, sy, 0, INT16_MIN, INT16_MAX)
    return (sy, 0), {"lo": lo, "hi": hi}


def _build_weighted16(g: Graph, qg: Graph, n: Node, qn: Node, params: Mapping[str, QP]) -> None:
    sx, _ = params[n.inputs[0]]
    (st, _), stage = _output_stage16(n, params)
    mult, shift = _quantize_layer_weights(g, qg, n.inputs[1], n.inputs[2], sx, st, n.name, int16=True)
    qn.attrs.update(x_zero_point=0, y_zero_point=0, multiplier=mult, shift=shift, **stage)


def _build_add16(g: Graph, qg: Graph, n: Node, qn: Node, params: Mapping[str, QP]) -> None:
    (sa, _), (sb, _) = params[n.inputs[0]], params[n.inputs[1]]
    (st, _), stage = _output_stage16(n, params)
    p = intops.add_params(sa, sb, st, intops16.ADD_LEFT_SHIFT_16)
    qn.attrs.update(a_zero_point=0, b_zero_point=0, y_zero_point=0, left_shift=intops16.ADD_LEFT_SHIFT_16,
                    a_multiplier=p.ma, a_shift=p.sa, b_multiplier=p.mb, b_shift=p.sb, multiplier=p.my,
                    shift=p.sy, **stage)


def _build_mul16(g: Graph, qg: Graph, n: Node, qn: Node, params: Mapping[str, QP]) -> None:
    """TFLite's int16 Mul: y = clamp16(MBQM(a·b, Q(sa·sb/sy)), lo, hi); by a scalar constant c, the
    513-entry int16 table of x·c (then act), as `_build_mul`'s int8 table."""
    act, act_params = n.attrs.get("act", "none"), n.attrs.get("act_params")
    sy, _ = params[n.outputs[0]]
    scalar = g.tensors[n.inputs[1]].data
    if scalar is not None:
        c = float(np.asarray(scalar).reshape(-1)[0])
        qn.inputs = qn.inputs[:1]
        qn.attrs["lut"] = intops16.make_lut16(lambda v: apply_activation(v * c, act, act_params or {}),
                                              params[n.inputs[0]][0], sy)
        return
    if act in LUT_ACTS:
        raise UnsupportedModelError(f"node {shown(n.name)}: mul with a fused {act} has no int16 kernel")
    (sa, _), (sb, _) = params[n.inputs[0]], params[n.inputs[1]]
    lo, hi = _act_clamp(act, act_params, sy, 0, INT16_MIN, INT16_MAX)
    m, s = intops.quantize_multiplier(sa * sb / sy)
    qn.attrs.update(a_zero_point=0, b_zero_point=0, y_zero_point=0, multiplier=m, shift=s, lo=lo, hi=hi)


def _build_squeeze_excite16(g: Graph, qg: Graph, n: Node, qn: Node, params: Mapping[str, QP]) -> None:
    x, w1, b1, w2, b2 = n.inputs
    out = n.outputs[0]
    (sx, _), (sy, _) = params[x], params[out]
    (sp, _), (sh, _) = params[se_part_name(out, "pool")], params[se_part_name(out, "hidden")]
    sg, _ = params[se_part_name(out, "gate")]
    hw = int(np.prod(g.tensors[x].shape[2:]))
    pool_m, pool_s = intops.quantize_multiplier(sx / (sp * hw))
    if n.attrs.get("act1", "none") in LUT_ACTS:
        raise UnsupportedModelError(f"node {shown(n.name)}: squeeze-excite act1 '{n.attrs['act1']}' "
                                    "must be relu or none")
    fc1_lo, fc1_hi = _act_clamp(n.attrs.get("act1", "none"), n.attrs.get("act1_params"), sh, 0, INT16_MIN, INT16_MAX)
    fc1_m, fc1_s = _quantize_layer_weights(g, qg, w1, b1, sp, sh, f"{n.name}/fc1", int16=True)
    act2 = n.attrs.get("act2", "none")
    if act2 in LUT_ACTS:
        st, _ = params[se_part_name(out, "gate_pre")]
        fc2 = {"fc2_lo": INT16_MIN, "fc2_hi": INT16_MAX, "fc2_scale": st, "fc2_zero_point": 0,
               "fc2_lut": intops16.make_lut16(_act_fn(act2, n.attrs.get("act2_params")), st, sg)}
    else:
        st = sg
        lo, hi = _act_clamp(act2, n.attrs.get("act2_params"), sg, 0, INT16_MIN, INT16_MAX)
        fc2 = {"fc2_lo": lo, "fc2_hi": hi, "fc2_scale": sg, "fc2_zero_point": 0}
    fc2_m, fc2_s = _quantize_layer_weights(g, qg, w2, b2, sh, st, f"{n.name}/fc2", int16=True)
    mul_m, mul_s = intops.quantize_multiplier(sx * sg / sy)
    qn.attrs.update(x_zero_point=0, y_zero_point=0, pool_multiplier=pool_m, pool_shift=pool_s, pool_scale=sp,
                    pool_zero_point=0, fc1_multiplier=fc1_m, fc1_shift=fc1_s, fc1_lo=fc1_lo, fc1_hi=fc1_hi,
                    fc1_scale=sh, fc1_zero_point=0, fc2_multiplier=fc2_m, fc2_shift=fc2_s, **fc2,
                    gate_scale=sg, gate_zero_point=0, mul_multiplier=mul_m, mul_shift=mul_s,
                    lo=INT16_MIN, hi=INT16_MAX)


CONCAT16_MAX_SHIFT = 16  # |x| <= 2^15: x · 2^16 still fits the int32 MBQM of the int16 requantization


def _build_concat16(g: Graph, qg: Graph, n: Node, qn: Node, params: Mapping[str, QP]) -> None:
    """`_build_concat` on symmetric int16 parameters: ``requant`` per input None (y's scale: a copy)
    or (0, M, S), M,S = Q(sx/sy), within the int32 MBQM's left shift of an int16 code."""
    _build_concat(g, qg, n, qn, params)
    for i, r in zip(n.inputs, qn.attrs["requant"]):
        if r is not None and r[2] > CONCAT16_MAX_SHIFT:
            raise UnsupportedModelError(f"node {shown(n.name)}: int16 concat input {shown(i)} needs a requantization "
                                        f"shift of {r[2]} (> {CONCAT16_MAX_SHIFT}): its scale is extreme against "
                                        "the output's")


def _build_standalone_act16(g: Graph, qg: Graph, n: Node, qn: Node, params: Mapping[str, QP]) -> None:
    (sx, _), (sy, _) = params[n.inputs[0]], params[n.outputs[0]]
    act_params = {k: n.attrs[k] for k in ("min", "max", "alpha", "beta") if n.attrs.get(k) is not None}
    qn.attrs["lut"] = intops16.make_lut16(_act_fn(n.op, act_params), sx, sy)


_BUILDERS16: dict[str, Callable[[Graph, Graph, Node, Node, Mapping[str, QP]], None]] = {
    "conv2d": _build_weighted16,
    "depthwise_conv2d": _build_weighted16,
    "dense": _build_weighted16,
    "add": _build_add16,
    "mul": _build_mul16,
    "squeeze_excite": _build_squeeze_excite16,
    "global_avg_pool": _build_global_avg_pool,  # zero points are 0: the int8 builders' attrs hold
    "avg_pool": _build_avg_pool,
    "max_pool": _build_passthrough,
    "reshape": _build_passthrough,
    "channels_last_reshape": _build_passthrough,
    "slice": _build_passthrough,
    "transpose": _build_passthrough,
    "concat": _build_concat16,
    "matmul": _build_matmul16,
    "softmax": _build_softmax,  # the int8 arithmetic on int16 codes (softmax_s16); y: 1/32768, 0
    "layer_norm": _build_layer_norm16,
    **{a: _build_standalone_act16 for a in STANDALONE_ACTS},
}
