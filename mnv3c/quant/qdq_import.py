"""Pre-quantized ONNX models in QDQ form (e.g. onnxruntime's ``quantize_static(quant_format=QDQ)``).

The frontend only knows float ops, so the model is turned back into a float ModelProto here:
DequantizeLinear of a constant (weights, biases) becomes a float initializer holding exactly the
dequantized values, and each activation QuantizeLinear -> DequantizeLinear pair is removed while
its (scale, zero point) is recorded under the float tensor's name. The quantizer then reuses
those activation ranges, and requantizing the dequantized weights per channel gives back the
model's own int8 codes. uint8 activations become int8 with zero point - 128 (the same real values).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

from mnv3c.errors import UnsupportedModelError, shown
from mnv3c.quant.calibrate import pre_act_name, se_part_name

QP = tuple[float, int]
_LUT_ONNX_OPS = ("HardSwish", "HardSigmoid", "Sigmoid")  # fused into the producing layer as a LUT


def is_qdq_model(model: onnx.ModelProto) -> bool:
    return any(n.op_type in ("QuantizeLinear", "DequantizeLinear") for n in model.graph.node)


def strip_qdq(model: onnx.ModelProto | str | Path) -> tuple[onnx.ModelProto, dict[str, QP]]:
    """A float copy of QDQ ``model`` and the recorded int8 (scale, zero point) per activation name.

    A tensor that feeds a h-swish / h-sigmoid / sigmoid node is also recorded under
    `pre_act_name` of that node's output, the name the fused layer's pre-activation has in the IR.
    """
    m = onnx.load(str(model)) if isinstance(model, (str, Path)) else model
    m = onnx.ModelProto.FromString(m.SerializeToString())
    g = m.graph
    inits = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    consts = dict(inits)
    for n in g.node:
        if n.op_type == "Constant" and n.attribute and n.attribute[0].name == "value":
            consts[n.output[0]] = numpy_helper.to_array(n.attribute[0].t)
    rename: dict[str, str] = {}  # dequantized name -> float name
    params: dict[str, QP] = {}
    new_inits: dict[str, np.ndarray] = {}
    drop: set[int] = set()
    by_input: dict[str, list[int]] = {}
    for i, n in enumerate(g.node):
        for name in n.input:
            by_input.setdefault(name, []).append(i)
    outputs = {o.name for o in g.output}
    for i, n in enumerate(g.node):
        if n.op_type == "DequantizeLinear" and n.input[0] in consts:
            new_inits[n.output[0]] = _dequantize(n, consts)
            drop.add(i)
        elif n.op_type == "QuantizeLinear":
            x, xq = n.input[0], n.output[0]
            scale, zp = _scale_zero_point(n, consts)
            dqs = [j for j in by_input.get(xq, []) if g.node[j].op_type == "DequantizeLinear"]
            if len(dqs) != len(by_input.get(xq, [])) or xq in outputs:
                raise UnsupportedModelError(f"QuantizeLinear {shown(n.name)} output is used by a non-DequantizeLinear op")
            if x in consts:
                raise UnsupportedModelError(f"QuantizeLinear {shown(n.name)} quantizes a constant at run time; "
                                            "expected pre-quantized initializers")
            params[x] = _as_int8(scale, zp)
            for j in dqs:
                rename[g.node[j].output[0]] = x
            drop.add(i)
            drop.update(dqs)
    nodes = [n for i, n in enumerate(g.node) if i not in drop]
    # A graph output that was a DQ output keeps its name: the float tensor takes it instead.
    out_alias = {x: dq for dq, x in rename.items() if dq in outputs}
    for n in nodes:
        n.input[:] = [rename.get(v, v) for v in n.input]
        n.output[:] = [out_alias.get(v, v) for v in n.output]
    for x, dq in out_alias.items():
        for n in nodes:
            n.input[:] = [dq if v == x else v for v in n.input]
        params[dq] = params.pop(x)
    del g.node[:]
    g.node.extend(nodes)
    used = {v for n in nodes for v in n.input} | outputs
    kept = [t for t in g.initializer if t.name in used and t.name not in new_inits]
    del g.initializer[:]
    g.initializer.extend(kept + [numpy_helper.from_array(v, k) for k, v in new_inits.items() if k in used])
    live = {v for n in nodes for v in list(n.input) + list(n.output)}
    vi = [v for v in g.value_info if v.name in live]
    del g.value_info[:]
    g.value_info.extend(vi)
    for n in nodes:
        if n.op_type in _LUT_ONNX_OPS and n.input[0] in params:
            params[pre_act_name(n.output[0])] = params[n.input[0]]
    params.update(_squeeze_excite_params(nodes, params))
    return m, params


_VIEWS = ("Reshape", "Flatten", "Squeeze", "Unsqueeze", "Relu")


def _squeeze_excite_params(nodes: list[onnx.NodeProto], params: dict[str, QP]) -> dict[str, QP]:
    """Recorded ranges of squeeze-excite internals under the IR's `se_part_name` names: for each
    Mul by a (h-)sigmoid gate, walk back gate <- gate_pre <- hidden (Conv/Gemm) <- pool."""
    producer = {o: n for n in nodes for o in n.output}

    def back(name: str) -> str:
        while name in producer and producer[name].op_type in _VIEWS and name not in params:
            name = producer[name].input[0]
        return name

    found: dict[str, QP] = {}
    for n in nodes:
        if n.op_type != "Mul":
            continue
        gates = [i for i in n.input if i in producer and producer[i].op_type in ("HardSigmoid", "Sigmoid")]
        if len(gates) != 1:
            continue
        gate = gates[0]
        gate_pre = producer[gate].input[0]
        fc2 = producer.get(back(gate_pre))
        hidden = back(fc2.input[0]) if fc2 is not None and fc2.op_type in ("Conv", "Gemm") else None
        fc1 = producer.get(hidden) if hidden else None
        pool = back(fc1.input[0]) if fc1 is not None and fc1.op_type in ("Conv", "Gemm") else None
        parts = {"gate": gate, "gate_pre": gate_pre, "hidden": hidden, "pool": pool}
        for part, tensor in parts.items():
            if tensor in params:
                found[se_part_name(n.output[0], part)] = params[tensor]
    return found


def _scale_zero_point(n: onnx.NodeProto, consts: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    scale = np.asarray(consts[n.input[1]], np.float64)
    zp = np.asarray(consts[n.input[2]]) if len(n.input) > 2 and n.input[2] else np.zeros(scale.shape, np.uint8)
    return scale, zp


def _dequantize(n: onnx.NodeProto, consts: dict[str, np.ndarray]) -> np.ndarray:
    q = np.asarray(consts[n.input[0]])
    scale, zp = _scale_zero_point(n, consts)
    if scale.ndim == 1 and q.ndim > 1:
        axis = next((a.i for a in n.attribute if a.name == "axis"), 1)
        shape = [1] * q.ndim
        shape[axis] = scale.size
        scale, zp = scale.reshape(shape), zp.reshape(shape)
    return ((q.astype(np.float64) - zp.astype(np.float64)) * scale).astype(np.float32)


def _as_int8(scale: np.ndarray, zp: np.ndarray) -> QP:
    if scale.size != 1:
        raise UnsupportedModelError("per-channel activation quantization is not supported (int8 activations are per tensor)")
    z = int(zp.reshape(-1)[0])
    if zp.dtype == np.uint8:
        z -= 128
    elif zp.dtype != np.int8:
        raise UnsupportedModelError(f"activation zero point type {zp.dtype} is not 8-bit")
    return float(scale.reshape(-1)[0]), z
