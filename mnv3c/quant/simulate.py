"""The integer simulator: runs a quantized graph with the `intops` kernels, so its bytes are the
specification the generated C must match. Works on a whole batch at once (axis 0).

Convolution accumulators come from `accumulate` (exact, BLAS-fast) and then go through
`intops.requantize`; ``reference_kernels=True`` calls `intops.conv2d`/`depthwise_conv2d`
themselves instead (same bytes, about 3x slower; the tests check both agree).
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import numpy as np

from mnv3c.errors import MnvError, shown
from mnv3c.ir.graph import Graph, Node
from mnv3c.quant import intops, intops16
from mnv3c.quant.accumulate import conv2d_acc, depthwise_acc
from mnv3c.quant.quantize import STANDALONE_ACTS, requant_zero_point
from mnv3c.quant.batch_matmul import batch_matmul_s8, batch_matmul_s16
from mnv3c.quant.layer_norm import layer_norm_s8, layer_norm_s16
from mnv3c.quant.softmax import softmax_s8, softmax_s16


def quantize_tensor(qg: Graph, name: str, x: np.ndarray) -> np.ndarray:
    """Float values of tensor ``name`` -> its int8 (or int16) codes (round half away, saturate)."""
    t = qg.tensors[name]
    v = intops.round_half_away(np.asarray(x, np.float64) / float(t.quant.scale)) + int(t.quant.zero_point)
    info = np.iinfo(t.dtype)
    return np.clip(v, info.min, info.max).astype(t.dtype)


def dequantize_tensor(qg: Graph, name: str, y: np.ndarray) -> np.ndarray:
    """Integer codes of tensor ``name`` -> float32 real values."""
    q = qg.tensors[name].quant
    return ((np.asarray(y, np.float32) - np.float32(q.zero_point)) * np.float32(q.scale)).astype(np.float32)


def quantize_input(qg: Graph, x: np.ndarray) -> np.ndarray:
    """Float input (batch first) -> int8 codes of the graph input's quantization."""
    return quantize_tensor(qg, qg.inputs[0], x)


def dequantize_output(qg: Graph, y: np.ndarray) -> np.ndarray:
    """int8 output codes -> float32 real values (probabilities after the int8 softmax, else the
    logits; see `host_output` for --no-softmax)."""
    return dequantize_tensor(qg, qg.outputs[0], y)


def host_output(qg: Graph, y: np.ndarray) -> np.ndarray:
    """What the float model would output: the dequantized output, with the trailing softmax the
    quantizer left to the host under --no-softmax (argmax is unchanged by it)."""
    v = dequantize_output(qg, y)
    axis = qg.meta.get("quant", {}).get("host_softmax_axis")
    if axis is None:
        return v
    e = np.exp(v - v.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def simulate(qg: Graph, x: np.ndarray, keep_all: bool = False,
             reference_kernels: bool = False) -> np.ndarray | dict[str, np.ndarray]:
    """Run quantized graph ``qg`` on int8 input ``x`` [N, ...]; the int8 output, or every activation
    tensor by name with ``keep_all``."""
    x = np.asarray(x)
    if x.dtype != np.int8:
        raise MnvError(f"simulate expects int8 input codes, got {x.dtype} (use quantize_input)")
    env: dict[str, np.ndarray] = {qg.inputs[0]: x}
    for n in qg.nodes:
        env[n.outputs[0]] = run_node(qg, n, env, reference_kernels)
    return env if keep_all else env[qg.outputs[0]]


def run_node(qg: Graph, n: Node, env: Mapping[str, np.ndarray], reference_kernels: bool = False) -> np.ndarray:
    """The integer output of one node of ``qg`` whose activation inputs are in ``env``; int16 layers
    run the 16x8 kernels. ``reference_kernels``: convolutions by `intops`/`intops16` themselves
    instead of the fast accumulators (same bytes, slower)."""
    int16 = qg.tensors[n.outputs[0]].dtype == "int16" and n.op != "requantize"
    kernels = _KERNELS16 if int16 else _KERNELS
    if reference_kernels:
        kernels = {**kernels, **(_REFERENCE_CONVS16 if int16 else _REFERENCE_CONVS)}
    fn = kernels.get(n.op)
    if fn is None:
        raise MnvError(f"node {shown(n.name)}: op {shown(n.op)} has no integer kernel")
    ins = [env[i] if i in env else qg.tensors[i].data for i in n.inputs]
    return fn(n, ins, len(env[n.inputs[0]]))


def _geometry(a: Mapping[str, Any]) -> tuple[tuple, tuple, tuple]:
    return (tuple(a.get("strides") or (1, 1)), tuple(a.get("pads") or (0, 0, 0, 0)),
            tuple(a.get("dilations") or (1, 1)))


def _fast_conv(accumulate: Callable[..., np.ndarray]) -> Callable[[Node, list, int], np.ndarray]:
    def run(n: Node, ins: list, batch: int) -> np.ndarray:
        a = n.attrs
        acc = accumulate(ins[0], ins[1], ins[2], int(a["x_zero_point"]), *_geometry(a))
        return intops.requantize(acc, a["multiplier"], a["shift"], requant_zero_point(a), int(a["lo"]),
                                 int(a["hi"]), a.get("lut"))
    return run


def _conv(kernel: Callable[..., np.ndarray]) -> Callable[[Node, list, int], np.ndarray]:
    def run(n: Node, ins: list, batch: int) -> np.ndarray:
        a = n.attrs
        return kernel(ins[0], ins[1], ins[2], int(a["x_zero_point"]), requant_zero_point(a), a["multiplier"],
                      a["shift"], *_geometry(a), int(a["lo"]), int(a["hi"]), a.get("lut"))
    return run


def _dense(n: Node, ins: list, batch: int) -> np.ndarray:
    """Over the last axis: a sequence [N, T, K] is N·T rows."""
    a, x = n.attrs, ins[0]
    y = intops.dense(x.reshape(-1, x.shape[-1]), ins[1], ins[2], int(a["x_zero_point"]), requant_zero_point(a),
                     a["multiplier"], a["shift"], int(a["lo"]), int(a["hi"]), a.get("lut"))
    return y.reshape(x.shape[:-1] + y.shape[-1:])


def _add(n: Node, ins: list, batch: int) -> np.ndarray:
    a = n.attrs
    p = intops.AddParams(a["a_multiplier"], a["a_shift"], a["b_multiplier"], a["b_shift"], a["multiplier"], a["shift"])
    return intops.add(ins[0], int(a["a_zero_point"]), ins[1], int(a["b_zero_point"]), p, requant_zero_point(a),
                      int(a["lo"]), int(a["hi"]), a.get("lut"))


def _mul(n: Node, ins: list, batch: int) -> np.ndarray:
    a = n.attrs
    if a.get("lut") is not None:  # by a scalar constant
        return intops.apply_lut(ins[0], a["lut"])
    return intops.mul(ins[0], int(a["a_zero_point"]), ins[1], int(a["b_zero_point"]), int(a["multiplier"]),
                      int(a["shift"]), int(a["y_zero_point"]), int(a["lo"]), int(a["hi"]))


def _squeeze_excite(n: Node, ins: list, batch: int) -> np.ndarray:
    a = n.attrs
    x, w1, b1, w2, b2 = ins
    fc1 = intops.DenseQ(w1, b1, int(a["fc1_zero_point"]), a["fc1_multiplier"], a["fc1_shift"],
                        int(a["fc1_lo"]), int(a["fc1_hi"]))
    fc2 = intops.DenseQ(w2, b2, int(a["fc2_zero_point"]), a["fc2_multiplier"], a["fc2_shift"],
                        int(a["fc2_lo"]), int(a["fc2_hi"]), a.get("fc2_lut"))
    return intops.squeeze_excite(x, int(a["x_zero_point"]), int(a["pool_zero_point"]), int(a["pool_multiplier"]),
                                 int(a["pool_shift"]), fc1, fc2, int(a["gate_zero_point"]),
                                 int(a["mul_multiplier"]), int(a["mul_shift"]), int(a["y_zero_point"]),
                                 int(a["lo"]), int(a["hi"]))


def _global_avg_pool(n: Node, ins: list, batch: int) -> np.ndarray:
    a = n.attrs
    y = intops.global_avg_pool(ins[0], int(a["x_zero_point"]), int(a["y_zero_point"]), int(a["multiplier"]),
                               int(a["shift"]))
    return y.reshape(y.shape + (1,) * (ins[0].ndim - 2))


def _avg_pool(n: Node, ins: list, batch: int) -> np.ndarray:
    a = n.attrs
    strides, pads, _ = _geometry(a)  # avg_pool has no dilations
    return intops.avg_pool(ins[0], int(a["x_zero_point"]), int(a["y_zero_point"]), a["multiplier"], a["shift"],
                           tuple(a["kernel"]), strides, pads)


def _max_pool(n: Node, ins: list, batch: int) -> np.ndarray:
    a = n.attrs
    return intops.max_pool(ins[0], tuple(a["kernel"]), *_geometry(a))


def _reshape(n: Node, ins: list, batch: int) -> np.ndarray:
    """The static shape is for the graph's batch; the per-sample part is what matters."""
    return ins[0].reshape((batch,) + tuple(int(d) for d in n.attrs["shape"][1:]))


def _conv_transpose(n: Node, ins: list, batch: int) -> np.ndarray:
    a = n.attrs
    strides, pads, dilations = _geometry(a)
    return intops.conv_transpose(ins[0], ins[1], ins[2], int(a["x_zero_point"]), requant_zero_point(a),
                                 a["multiplier"], a["shift"], strides, pads, dilations, tuple(a["out_hw"]),
                                 int(a["lo"]), int(a["hi"]), a.get("lut"))


def _resize(n: Node, ins: list, batch: int) -> np.ndarray:
    a = n.attrs
    if a["mode"] == "nearest":
        return intops.resize_nearest(ins[0], a["y_index"], a["x_index"])
    return intops.resize_bilinear(ins[0], (a["y_i0"], a["y_i1"], a["y_frac"]), (a["x_i0"], a["x_i1"], a["x_frac"]))


def _slice(n: Node, ins: list, batch: int) -> np.ndarray:
    index = [slice(None)] * ins[0].ndim
    for start, end, axis, step in zip(*(n.attrs[k] for k in ("starts", "ends", "axes", "steps"))):
        if axis != 0:  # the batch axis follows the feed
            index[axis] = slice(start, end, step)
    return ins[0][tuple(index)]


def _concat(n: Node, ins: list, batch: int) -> np.ndarray:
    return intops.concat(ins, int(n.attrs["axis"]), n.attrs["requant"], int(n.attrs["y_zero_point"]))


def _channels_last_reshape(n: Node, ins: list, batch: int) -> np.ndarray:
    return ins[0].transpose(0, 2, 3, 1).reshape((batch,) + tuple(int(d) for d in n.attrs["shape"][1:]))


def _transpose(n: Node, ins: list, batch: int) -> np.ndarray:
    return ins[0].transpose(tuple(int(p) for p in n.attrs["perm"]))


def _matmul(n: Node, ins: list, batch: int) -> np.ndarray:
    a = n.attrs
    return batch_matmul_s8(ins[0], int(a["a_zero_point"]), ins[1], int(a["b_zero_point"]), int(a["multiplier"]),
                           int(a["shift"]), int(a["y_zero_point"]), int(a["lo"]), int(a["hi"]))


def _layer_norm(n: Node, ins: list, batch: int) -> np.ndarray:
    a = n.attrs
    return layer_norm_s8(ins[0], int(a["eps"]), a["gamma"], a["beta"], int(a["out_shift"]), int(a["y_zero_point"]))


def _lut(n: Node, ins: list, batch: int) -> np.ndarray:
    return intops.apply_lut(ins[0], n.attrs["lut"])


def _softmax(n: Node, ins: list, batch: int) -> np.ndarray:
    a = n.attrs
    return softmax_s8(ins[0], int(a["multiplier"]), int(a["left_shift"]), int(a["diff_min"]), int(a["axis"]))


def _softmax16(n: Node, ins: list, batch: int) -> np.ndarray:
    a = n.attrs
    return softmax_s16(ins[0], int(a["multiplier"]), int(a["left_shift"]), int(a["diff_min"]), int(a["axis"]))


def _requantize(n: Node, ins: list, batch: int) -> np.ndarray:
    a = n.attrs
    if ins[0].dtype == np.int8:
        return intops16.int8_to_int16(ins[0], int(a["x_zero_point"]), int(a["multiplier"]), int(a["shift"]))
    return intops16.int16_to_int8(ins[0], int(a["y_zero_point"]), int(a["multiplier"]), int(a["shift"]))


def _conv16(accumulate: Callable[..., np.ndarray]) -> Callable[[Node, list, int], np.ndarray]:
    def run(n: Node, ins: list, batch: int) -> np.ndarray:
        a = n.attrs
        acc = accumulate(ins[0], ins[1], None, 0, *_geometry(a)) + _bias_nchw(ins[2], 4)
        return intops16.requantize16(acc, a["multiplier"], a["shift"], int(a["lo"]), int(a["hi"]), a.get("lut"),
                                     hswish=a.get("hswish"))
    return run


def _bias_nchw(bias: np.ndarray, ndim: int) -> np.ndarray:
    return np.asarray(bias, np.int64).reshape((1, -1) + (1,) * (ndim - 2))


def _layer_norm16(n: Node, ins: list, batch: int) -> np.ndarray:
    a = n.attrs
    return layer_norm_s16(ins[0], int(a["eps"]), a["gamma"], a["beta"], int(a["out_shift"]))


def _dense16(n: Node, ins: list, batch: int) -> np.ndarray:
    """Over the last axis, as `_dense`: a sequence [N, T, K] is N·T rows."""
    a, x = n.attrs, ins[0]
    y = intops16.dense(x.reshape(-1, x.shape[-1]), ins[1], ins[2], a["multiplier"], a["shift"], int(a["lo"]),
                       int(a["hi"]), a.get("lut"), a.get("hswish"))
    return y.reshape(x.shape[:-1] + y.shape[-1:])


def _add16(n: Node, ins: list, batch: int) -> np.ndarray:
    a = n.attrs
    p = intops.AddParams(a["a_multiplier"], a["a_shift"], a["b_multiplier"], a["b_shift"], a["multiplier"], a["shift"])
    return intops16.add(ins[0], ins[1], p, int(a["lo"]), int(a["hi"]), a.get("lut"), a.get("hswish"))


def _mul16(n: Node, ins: list, batch: int) -> np.ndarray:
    a = n.attrs
    if a.get("lut") is not None:  # by a scalar constant
        return intops16.lut16(ins[0], a["lut"])
    return intops16.mul16(ins[0], ins[1], int(a["multiplier"]), int(a["shift"]), int(a["lo"]), int(a["hi"]))


def _squeeze_excite16(n: Node, ins: list, batch: int) -> np.ndarray:
    a = n.attrs
    x, w1, b1, w2, b2 = ins
    fc1 = intops16.DenseQ16(w1, b1, a["fc1_multiplier"], a["fc1_shift"], int(a["fc1_lo"]), int(a["fc1_hi"]))
    fc2 = intops16.DenseQ16(w2, b2, a["fc2_multiplier"], a["fc2_shift"], int(a["fc2_lo"]), int(a["fc2_hi"]),
                            a.get("fc2_lut"))
    return intops16.squeeze_excite(x, int(a["pool_multiplier"]), int(a["pool_shift"]), fc1, fc2,
                                   int(a["mul_multiplier"]), int(a["mul_shift"]), int(a["lo"]), int(a["hi"]))


def _global_avg_pool16(n: Node, ins: list, batch: int) -> np.ndarray:
    y = intops16.global_avg_pool(ins[0], int(n.attrs["multiplier"]), int(n.attrs["shift"]))
    return y.reshape(y.shape + (1,) * (ins[0].ndim - 2))


def _avg_pool16(n: Node, ins: list, batch: int) -> np.ndarray:
    a = n.attrs
    strides, pads, _ = _geometry(a)
    return intops16.avg_pool(ins[0], a["multiplier"], a["shift"], tuple(a["kernel"]), strides, pads)


def _max_pool16(n: Node, ins: list, batch: int) -> np.ndarray:
    return intops16.max_pool(ins[0], tuple(n.attrs["kernel"]), *_geometry(n.attrs))


def _concat16(n: Node, ins: list, batch: int) -> np.ndarray:
    return intops16.concat(ins, int(n.attrs["axis"]), n.attrs["requant"])


def _matmul16(n: Node, ins: list, batch: int) -> np.ndarray:
    a = n.attrs
    return batch_matmul_s16(ins[0], ins[1], int(a["multiplier"]), int(a["shift"]), int(a["lo"]), int(a["hi"]))


def _lut16(n: Node, ins: list, batch: int) -> np.ndarray:
    return intops16.lut16(ins[0], n.attrs["lut"])


_KERNELS16: dict[str, Callable[[Node, list, int], np.ndarray]] = {
    "conv2d": _conv16(conv2d_acc),
    "depthwise_conv2d": _conv16(depthwise_acc),
    "dense": _dense16,
    "layer_norm": _layer_norm16,
    "add": _add16,
    "mul": _mul16,
    "squeeze_excite": _squeeze_excite16,
    "global_avg_pool": _global_avg_pool16,
    "avg_pool": _avg_pool16,
    "max_pool": _max_pool16,
    "reshape": _reshape,
    "channels_last_reshape": _channels_last_reshape,  # data movement: the int8 functions move int16 codes too
    "slice": _slice,
    "transpose": _transpose,
    "concat": _concat16,
    "matmul": _matmul16,
    "softmax": _softmax16,
    **{op: _lut16 for op in STANDALONE_ACTS},
}

_KERNELS: dict[str, Callable[[Node, list, int], np.ndarray]] = {
    "conv2d": _fast_conv(conv2d_acc),
    "depthwise_conv2d": _fast_conv(depthwise_acc),
    "dense": _dense,
    "add": _add,
    "mul": _mul,
    "squeeze_excite": _squeeze_excite,
    "global_avg_pool": _global_avg_pool,
    "avg_pool": _avg_pool,
    "max_pool": _max_pool,
    "conv_transpose": _conv_transpose,
    "resize": _resize,
    "slice": _slice,
    "concat": _concat,
    "reshape": _reshape,
    "channels_last_reshape": _channels_last_reshape,
    "transpose": _transpose,
    "matmul": _matmul,
    "layer_norm": _layer_norm,
    "requantize": _requantize,
    **{op: _lut for op in STANDALONE_ACTS},
    "softmax": _softmax,
}
_REFERENCE_CONVS = {"conv2d": _conv(intops.conv2d), "depthwise_conv2d": _conv(intops.depthwise_conv2d)}


def _conv16_reference(kernel: Callable[..., np.ndarray]) -> Callable[[Node, list, int], np.ndarray]:
    def run(n: Node, ins: list, batch: int) -> np.ndarray:
        a = n.attrs
        return kernel(ins[0], ins[1], ins[2], a["multiplier"], a["shift"], *_geometry(a), int(a["lo"]),
                      int(a["hi"]), a.get("lut"), a.get("hswish"))
    return run


_REFERENCE_CONVS16 = {"conv2d": _conv16_reference(intops16.conv2d),
                      "depthwise_conv2d": _conv16_reference(intops16.depthwise_conv2d)}
