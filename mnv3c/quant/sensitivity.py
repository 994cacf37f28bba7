"""Where quantization loses fidelity, layer by layer.

Two views of the same int8 graph against the float graph it mirrors (`quantize_with_float`):

- accumulated SQNR: every layer's integer output against the float tensor, with all layers before
  it quantized too (what `eval --per-layer` prints); it only ever falls, so it shows WHERE the
  error builds up but not which layer causes it;
- isolated sensitivity ("quantize only this layer"): the float network with that one layer run in
  integer arithmetic (its inputs quantized, its kernel, its output dequantized), measured at the
  network output. The layers with the lowest output SQNR are the ones worth fixing or promoting
  to int16 (`mnv3c.quant.mixed`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mnv3c.ir.graph import Graph
from mnv3c.quant.quantize import ALIASING, source_tensor
from mnv3c.quant.simulate import dequantize_tensor, quantize_tensor, run_node
from mnv3c.reference.float_exec import run_float, run_node as run_float_node


def sqnr_db(signal: float, noise: float) -> float | None:
    """10 log10(signal / noise); None when the noise is exactly 0 (JSON has no infinity)."""
    if noise == 0.0:
        return None
    return float(10 * np.log10(max(signal, 1e-30) / noise))


def isolated_sensitivity(ref: Graph, qg: Graph, x: np.ndarray, batch_size: int = 32) -> list[dict[str, Any]]:
    """[{"name", "op", "output_sqnr_db"}] for every layer that computes (not reshape/max_pool):
    the network output's SQNR when only that layer is quantized, over float inputs ``x``."""
    layers = [k for k, n in enumerate(qg.nodes) if n.op not in ALIASING + ("requantize",)]
    signal = 0.0
    noise = np.zeros(len(layers))
    out = ref.outputs[0]
    for start in range(0, len(x), batch_size):
        f_env = run_float(ref, {ref.inputs[0]: np.asarray(x[start:start + batch_size], np.float32)}, keep_all=True)
        f_out = f_env[out].astype(np.float64)
        signal += float((f_out ** 2).sum())
        for j, k in enumerate(layers):
            noise[j] += float(((_only_layer_output(ref, qg, k, f_env) - f_out) ** 2).sum())
    return [{"name": qg.nodes[k].name, "op": qg.nodes[k].op, "output_sqnr_db": sqnr_db(signal, float(noise[j]))}
            for j, k in enumerate(layers)]


def _only_layer_output(ref: Graph, qg: Graph, k: int, f_env: dict[str, np.ndarray]) -> np.ndarray:
    """The float network output with node ``k`` replaced by its integer kernel."""
    qn = qg.nodes[k]
    codes = {i: quantize_tensor(qg, i, f_env[source_tensor(qg, i)]) for i in qn.inputs
             if not qg.tensors[i].is_const}
    name = qn.outputs[0]
    env = dict(f_env)
    env[name] = dequantize_tensor(qg, name, run_node(qg, qn, codes)).reshape(f_env[name].shape)
    start = next(j for j, node in enumerate(ref.nodes) if node.name == qn.name)
    for node in ref.nodes[start + 1:]:
        env.update(zip(node.outputs, run_float_node(node, ref, [env[i] if i else None for i in node.inputs])))
    return env[ref.outputs[0]].astype(np.float64)
