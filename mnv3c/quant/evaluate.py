"""Accuracy of the int8 model against the float model on labelled data (`mnv3c eval`).

The float reference is the project's own float execution of the canonical graph (for a QDQ
model: the float model with the dequantized weights). Output comparisons (mean_abs_err, cosine)
are made on what each model outputs to the user: with a trailing softmax, probabilities (the
int8 model's own int8 softmax; under softmax=False the host's softmax of its dequantized logits).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np
import onnx

from mnv3c.frontend import load_onnx, read_model
from mnv3c.frontend.validate import check_model
from mnv3c.ir.graph import Graph
from mnv3c.passes.pipeline import optimize
from mnv3c.progress import stage
from mnv3c.quant.qdq_import import QP, is_qdq_model, strip_qdq
from mnv3c.quant.mixed import precision_with_rounding_fallback, search_inputs
from mnv3c.quant.quantize import quant_report, quantize_with_float, raise_to_softmax_floor, source_tensor
from mnv3c.quant.sensitivity import isolated_sensitivity, sqnr_db
from mnv3c.quant.simulate import host_output, quantize_input, simulate
from mnv3c.reference.float_exec import run_float

EVAL_BATCH = 50
SENSITIVITY_SAMPLES = 64  # one float pass per layer per batch: a few dozen inputs rank the layers


def load_float_graph(model: str | Path | onnx.ModelProto | Graph, input_shape: tuple[int, ...] | None = None,
                     trace: Callable[[str, Graph], None] | None = None) -> tuple[Graph, dict[str, QP]]:
    """The canonical float graph of ``model`` and, for a QDQ model, its recorded activation ranges.
    Every command loads its model here, so all of them accept and refuse the same files."""
    if isinstance(model, Graph):
        return model, {}
    source = None
    if not isinstance(model, onnx.ModelProto):
        model, source = read_model(model), str(model)
    recorded: dict[str, QP] = {}
    if is_qdq_model(model):
        check_model(model)  # strip_qdq reads the QuantizeLinear/DequantizeLinear nodes first
        model, recorded = strip_qdq(model)
    return optimize(load_onnx(model, input_shape, source=source), trace=trace), recorded


def quantize_model(model: str | Path | onnx.ModelProto | Graph, calib: np.ndarray | None,
                   input_shape: tuple[int, ...] | None = None, **options: Any) -> tuple[Graph, Graph, Graph]:
    """(canonical float graph, float graph the int8 one mirrors, int8 graph) of ``model``;
    ``options`` go to `mnv3c.quant.quantize.quantize`."""
    g, recorded = load_float_graph(model, input_shape)
    if recorded:
        options.setdefault("activation_params", recorded)
    ref, qg = quantize_with_float(g, calib, **options)
    return g, ref, qg


def run_int8(qg: Graph, x: np.ndarray, batch_size: int = EVAL_BATCH) -> tuple[np.ndarray, np.ndarray]:
    """(int8 outputs, host outputs) of the integer simulator on float inputs ``x``."""
    y = np.concatenate([simulate(qg, quantize_input(qg, x[i:i + batch_size])) for i in range(0, len(x), batch_size)])
    return y, host_output(qg, y)


def evaluate(model: str | Path | onnx.ModelProto | Graph, calib: np.ndarray | None, data: np.ndarray,
             labels: np.ndarray, input_shape: tuple[int, ...] | None = None, per_layer: bool = False,
             batch_size: int = EVAL_BATCH, progress: bool = True, sensitivity: bool = False,
             precision: str = "int8", target_sqnr: float | None = None, target_agreement: float | None = None,
             target_cosine: float | None = None, search_data: np.ndarray | None = None,
             **options: Any) -> dict[str, Any]:
    """SPEC's eval JSON: {"samples", "float_top1", "int8_top1", "agreement", "mean_abs_err",
    "cosine"}, plus "per_layer": [{"name", "op", "precision", "sqnr_db"}] (int8 vs float, every
    layer output) with ``per_layer`` (and "only_sqnr_db", the output SQNR when only that layer is
    quantized, with ``sensitivity``; measured on the first SENSITIVITY_SAMPLES of ``data``), and
    "quant" (the calibration choices, `quant_report`). A mixed search measures on ``search_data``
    (default ``calib``)."""
    g, ref, qg = quantize_model(model, calib, input_shape, progress=progress, **options)
    retry = (None if options.get("adaptive_rounding") or calib is None else
             lambda: quantize_model(model, calib, input_shape, progress=progress,
                                  **{**options, "adaptive_rounding": True})[1:])
    search, search_note = search_inputs(search_data, tuple(g.tensors[g.inputs[0]].shape), calib)
    ref, qg, mixed_steps = precision_with_rounding_fallback(ref, qg, search, precision,
                                                            (target_sqnr, target_agreement, target_cosine), retry,
                                                            progress, model=g)
    data, labels = np.asarray(data, np.float32), np.asarray(labels).reshape(-1)
    f_out, q_out = [], []
    signal: dict[str, float] = {}
    noise: dict[str, float] = {}
    with stage("evaluate", f"{len(data)} samples, float and int8", total=len(data), enabled=progress) as bar:
        for i in range(0, len(data), batch_size):
            x = data[i:i + batch_size]
            f_out.append(run_float(g, {g.inputs[0]: x}, finite="--data")[g.outputs[0]])
            q_env = simulate(qg, quantize_input(qg, x), keep_all=per_layer)
            q_out.append(host_output(qg, q_env[qg.outputs[0]] if per_layer else q_env))
            if per_layer:
                _accumulate_sqnr(ref, qg, x, q_env, signal, noise)
            bar.advance(len(x))
    f, q = np.concatenate(f_out).reshape(len(data), -1), np.concatenate(q_out).reshape(len(data), -1)
    fa, qa = f.argmax(axis=1), q.argmax(axis=1)
    norms = np.linalg.norm(f, axis=1) * np.linalg.norm(q, axis=1)
    cos = np.where(norms > 0, (f * q).sum(axis=1) / np.maximum(norms, 1e-30), 1.0)
    result: dict[str, Any] = {
        "samples": int(len(data)),
        "float_top1": float((fa == labels).mean()),
        "int8_top1": float((qa == labels).mean()),
        "agreement": float((fa == qa).mean()),
        "mean_abs_err": float(np.abs(f - q).mean()),
        "cosine": float(cos.mean()),
    }
    if per_layer or sensitivity:
        only = ({r["name"]: r["output_sqnr_db"] for r in isolated_sensitivity(ref, qg, data[:SENSITIVITY_SAMPLES])}
                if sensitivity else {})
        rows = []
        for n in qg.nodes:
            row = {"name": n.name, "op": n.op, "precision": qg.tensors[n.outputs[0]].dtype}
            if per_layer:
                row["sqnr_db"] = sqnr_db(signal[n.outputs[0]], noise[n.outputs[0]])
            if sensitivity:
                row["only_sqnr_db"] = only.get(n.name)
            rows.append(row)
        result["per_layer"] = rows
    qg.meta.setdefault("quant", {})["mixed_search"] = None if mixed_steps is None else search_note
    result["quant"] = {**quant_report(qg), "bias_correction": qg.meta.get("quant", {}).get("bias_correction")}
    result["precision"] = precision
    if mixed_steps is not None:
        result["mixed"] = mixed_steps
    return result


def layer_sqnr(ref: Graph, qg: Graph, x: np.ndarray, batch_size: int = EVAL_BATCH) -> dict[str, float | None]:
    """Each layer's SQNR in dB (int8 ``qg`` vs its float reference ``ref``, as `quantize_with_float`
    returns them) over the float inputs ``x``; None for an exact layer."""
    signal: dict[str, float] = {}
    noise: dict[str, float] = {}
    for i in range(0, len(x), batch_size):
        batch = x[i:i + batch_size]
        _accumulate_sqnr(ref, qg, batch, simulate(qg, quantize_input(qg, batch), keep_all=True), signal, noise)
    return {n.name: sqnr_db(signal[n.outputs[0]], noise[n.outputs[0]]) for n in qg.nodes}


def _accumulate_sqnr(ref: Graph, qg: Graph, x: np.ndarray, q_env: dict[str, np.ndarray],
                     signal: dict[str, float], noise: dict[str, float]) -> None:
    f_env = run_float(ref, {ref.inputs[0]: x}, keep_all=True)
    for n in qg.nodes:
        name = n.outputs[0]
        qp = qg.tensors[name].quant
        deq = (q_env[name].astype(np.float64) - float(qp.zero_point)) * float(qp.scale)
        src = source_tensor(qg, name)
        fv = raise_to_softmax_floor(qg, src, f_env[src].astype(np.float64).reshape(deq.shape))
        signal[name] = signal.get(name, 0.0) + float((fv ** 2).sum())
        noise[name] = noise.get(name, 0.0) + float(((fv - deq) ** 2).sum())

