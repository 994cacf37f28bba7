"""Where a quantized corpus model's activation error comes from, layer by layer: each layer run alone
on its float input (quantized with the layer's own input parameters) against a float graph that
carries the same int8 weights ("weights-only"), beside the SQNR of the whole integer chain up to it.

A layer whose *local* SQNR is far below what its activation width allows (int16: ~60-75 dB) either
has a defect in its kernel or is fed a tensor whose per-tensor scale cannot resolve some of its
channels; for depthwise layers the worst output channels are listed with the number of input codes
their input channel spans (tensor-wide scale vs that channel's own max |x|): a few dozen codes,
multiplied by a large per-channel weight, is the TFLite per-tensor-activation limit, not a bug.

    python benchmarks/layer_isolation.py [--model ppocrv3_rec] [--shape 48,160] [--precision int8|int16]
                                         [--calib 32] [--eval 8] [--layers 14]

Prints markdown on stdout. Needs the corpus wheels (scripts/install.sh).
"""
from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path

import numpy as np

from mnv3c import corpus
from mnv3c.compiler import quantize_model
from mnv3c.ir.graph import Graph
from mnv3c.quant.evaluate import load_float_graph
from mnv3c.quant.mixed import apply_precision
from mnv3c.quant.quantize import source_tensor
from mnv3c.quant.simulate import dequantize_tensor, quantize_input, quantize_tensor, run_node, simulate
from mnv3c.quant.softmax import int8_softmax_fits
from mnv3c.reference.float_exec import run_float

sys.path.insert(0, str(Path(__file__).parent))
from corpus import CACHE  # noqa: E402  (sibling benchmark: same model cache)

CONVS = ("conv2d", "depthwise_conv2d")


def weights_only(ref: Graph, qg: Graph) -> Graph:
    """``ref`` with every convolution's float weights replaced by ``qg``'s dequantized int8 codes, so
    that comparing against it measures the activation quantization alone."""
    g = copy.deepcopy(ref)
    for n in qg.nodes:
        if n.op not in CONVS:
            continue
        w = qg.tensors[n.inputs[1]]
        scale = np.asarray(w.quant.scale, np.float64)
        if scale.size > 1:
            scale = scale.reshape((-1,) + (1,) * (w.data.ndim - 1))
        g.tensors[n.inputs[1]].data = (w.data.astype(np.float64) * scale).astype(np.float32)
    return g


def sqnr(f: np.ndarray, q: np.ndarray) -> float:
    f, q = f.astype(np.float64), q.astype(np.float64)
    return float(10 * np.log10((f ** 2).sum() / max(((f - q) ** 2).sum(), 1e-30)))


def isolate(qg: Graph, f_env: dict, q_env: dict, layers: int) -> list[dict]:
    """One row per activation-producing layer of ``qg`` (the first ``layers``): local and chained SQNR,
    and for depthwise layers the worst output channels with their input channel's code span."""
    rows = []
    for n in [n for n in qg.nodes if n.op != "requantize"][:layers]:
        acts = [i for i in n.inputs if qg.tensors[i].data is None]
        env = {i: quantize_tensor(qg, i, f_env[source_tensor(qg, i)].reshape(q_env[i].shape)) for i in acts}
        out = n.outputs[0]
        y = run_node(qg, n, env)
        fv = f_env[source_tensor(qg, out)].reshape(y.shape)
        row = {"layer": n.name, "op": n.op, "local": sqnr(fv, dequantize_tensor(qg, out, y)),
               "chained": sqnr(fv, dequantize_tensor(qg, out, q_env[out])), "worst": []}
        if n.op == "depthwise_conv2d":
            x = f_env[source_tensor(qg, acts[0])].reshape(q_env[acts[0]].shape)
            x_scale = float(qg.tensors[acts[0]].quant.scale)
            deq = dequantize_tensor(qg, out, y)
            per = sorted((sqnr(fv[:, c], deq[:, c]), c) for c in range(y.shape[1]))
            row["worst"] = [(c, s, int(np.abs(x[:, c]).max() / x_scale)) for s, c in per[:3]]
        rows.append(row)
    return rows


def corpus_inputs(name: str, hw: str | None, n_calib: int, n_eval: int):
    """(model, input shape, ONNX path, float graph, calibration inputs, held-out inputs) of corpus
    model ``name`` at ``hw`` ("H,W"; default: the package's), as this script and precision_ceilings.py read it."""
    m = corpus.BY_NAME[name]
    shape = m.shape if hw is None else (*m.shape[:2], *map(int, hw.split(",")))
    path = corpus.onnx_file(m, CACHE, shape[2])
    graph, _ = load_float_graph(str(path), shape)
    return m, shape, path, graph, corpus.samples(m, n_calib, 0, shape), corpus.samples(m, n_eval, 100, shape)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", default="ppocrv3_rec", choices=sorted(corpus.BY_NAME))
    p.add_argument("--shape", default=None, help="H,W (default: the package's)")
    p.add_argument("--precision", default="int16", choices=("int8", "int16"))
    p.add_argument("--calib", type=int, default=32)
    p.add_argument("--eval", type=int, default=8)
    p.add_argument("--layers", type=int, default=14)
    a = p.parse_args()
    m, shape, path, graph, calib, x = corpus_inputs(a.model, a.shape, a.calib, a.eval)
    q = quantize_model(str(path), None, calib, progress=False, loaded=(graph, {}),
                       options={"softmax": int8_softmax_fits(graph)})
    qg = apply_precision(q.reference, q.qgraph, calib, a.precision, None, None)[0]
    f_env = run_float(weights_only(q.reference, q.qgraph), {q.reference.inputs[0]: x}, keep_all=True)
    q_env = simulate(qg, quantize_input(qg, x), keep_all=True)
    print(f"{m.name} {'x'.join(map(str, shape[2:]))}, {a.precision}, {a.calib} calibration / {a.eval} eval inputs; "
          "SQNR against the weights-only float graph\n")
    print("| layer | op | local SQNR | chained SQNR | worst channels: (channel, dB, input codes spanned) |")
    print("|---|---|--:|--:|---|")
    for r in isolate(qg, f_env, q_env, a.layers):
        worst = ", ".join(f"({c}, {s:.1f}, {k})" for c, s, k in r["worst"])
        print(f"| {r['layer']} | {r['op']} | {r['local']:.1f} dB | {r['chained']:.1f} dB | {worst} |")


if __name__ == "__main__":
    main()
