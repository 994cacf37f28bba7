"""Static shape and dtype inference for IR nodes.

The frontend never trusts ONNX value_info: every tensor it creates gets its shape from these rules,
which mirror the semantics of `mnv3c.reference.float_exec`. A mismatch with the reference is
caught when constant folding compares the evaluated array with the inferred shape.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from mnv3c.ir.graph import Tensor
from mnv3c.reference.float_exec import pool_out_size

Shape = tuple[int, ...]


def same_pads(size: int, kernel: int, stride: int, dilation: int, upper: bool) -> tuple[int, int]:
    """auto_pad SAME_UPPER/SAME_LOWER as explicit (begin, end) pads: output = ceil(size / stride)."""
    out = -(-size // stride)
    total = max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    small = total // 2
    return (small, total - small) if upper else (total - small, small)


def _same(ins: Sequence[Tensor], attrs: dict[str, Any]) -> Shape:
    return ins[0].shape


def _broadcast(ins: Sequence[Tensor], attrs: dict[str, Any]) -> Shape:
    return tuple(np.broadcast_shapes(*(t.shape for t in ins)))


def _window(x: Shape, kernel: Sequence[int], attrs: dict[str, Any]) -> tuple[int, int]:
    sh, sw = attrs.get("strides", (1, 1))
    dh, dw = attrs.get("dilations", (1, 1))
    pt, pl, pb, pr = attrs.get("pads", (0, 0, 0, 0))
    ceil = bool(attrs.get("ceil_mode", False))
    return (pool_out_size(x[2], kernel[0], sh, pt, pb, dh, ceil), pool_out_size(x[3], kernel[1], sw, pl, pr, dw, ceil))


def _bias(ins: Sequence[Tensor], channels: int) -> None:
    if len(ins) > 2 and ins[2].shape != (channels,):
        raise ValueError(f"bias '{ins[2].name}' has shape {list(ins[2].shape)}, expected [{channels}]")


def _conv(ins: Sequence[Tensor], attrs: dict[str, Any]) -> Shape:
    x, w = ins[0].shape, ins[1].shape
    _bias(ins, w[0])
    return (x[0], w[0]) + _window(x, w[2:], attrs)


def _conv_transpose(ins: Sequence[Tensor], attrs: dict[str, Any]) -> Shape:
    """ONNX: stride·(in - 1) + output_padding + (k - 1)·dilation + 1 - pad_begin - pad_end."""
    x, w = ins[0].shape, ins[1].shape
    (sh, sw), (dh, dw) = attrs.get("strides", (1, 1)), attrs.get("dilations", (1, 1))
    pt, pl, pb, pr = attrs.get("pads", (0, 0, 0, 0))
    oph, opw = attrs.get("output_padding", (0, 0))
    oh = sh * (x[2] - 1) + oph + (w[2] - 1) * dh + 1 - pt - pb
    ow = sw * (x[3] - 1) + opw + (w[3] - 1) * dw + 1 - pl - pr
    if oh < 1 or ow < 1:
        raise ValueError(f"output size {oh}x{ow} is empty")
    return (x[0], w[0]) + (oh, ow)


def _pool(ins: Sequence[Tensor], attrs: dict[str, Any]) -> Shape:
    x = ins[0].shape
    return x[:2] + _window(x, attrs["kernel"], attrs)


def _dense(ins: Sequence[Tensor], attrs: dict[str, Any]) -> Shape:
    x, w = ins[0].shape, ins[1].shape
    if len(x) != 2 or len(w) != 2 or x[1] != w[1]:
        raise ValueError(f"weight '{ins[1].name}' of shape {list(w)} does not fit input of shape {list(x)}")
    _bias(ins, w[0])
    return (x[0], w[0])


def _batch_norm(ins: Sequence[Tensor], attrs: dict[str, Any]) -> Shape:
    x = ins[0].shape
    for t in ins[1:]:
        if len(x) < 2 or t.shape != (x[1],):
            raise ValueError(f"parameter '{t.name}' has shape {list(t.shape)}, expected [{x[1] if len(x) > 1 else 1}]")
    return x


def _matmul(ins: Sequence[Tensor], attrs: dict[str, Any]) -> Shape:
    a, b = ins[0].shape, ins[1].shape
    a2 = (1,) + a if len(a) == 1 else a
    b2 = b + (1,) if len(b) == 1 else b
    if a2[-1] != b2[-2]:
        raise ValueError(f"matmul inner dimensions differ: {a} @ {b}")
    out = tuple(np.broadcast_shapes(a2[:-2], b2[:-2])) + (a2[-2], b2[-1])
    if len(a) == 1:
        out = out[:-2] + out[-1:]
    if len(b) == 1:
        out = out[:-1]
    return out


def _reduce_mean(ins: Sequence[Tensor], attrs: dict[str, Any]) -> Shape:
    x, axes = ins[0].shape, set(attrs["axes"])
    if attrs["keepdims"]:
        return tuple(1 if i in axes else d for i, d in enumerate(x))
    return tuple(d for i, d in enumerate(x) if i not in axes)


def _transpose(ins: Sequence[Tensor], attrs: dict[str, Any]) -> Shape:
    return tuple(ins[0].shape[p] for p in attrs["perm"])


def _pad(ins: Sequence[Tensor], attrs: dict[str, Any]) -> Shape:
    x, pads = ins[0].shape, attrs["pads"]
    return tuple(d + pads[i] + pads[i + len(x)] for i, d in enumerate(x))


def _concat(ins: Sequence[Tensor], attrs: dict[str, Any]) -> Shape:
    axis = attrs["axis"]
    first = ins[0].shape
    for t in ins[1:]:
        if len(t.shape) != len(first) or t.shape[:axis] + t.shape[axis + 1:] != first[:axis] + first[axis + 1:]:
            raise ValueError(f"concat inputs {[list(t.shape) for t in ins]} differ outside axis {axis}")
    return first[:axis] + (sum(t.shape[axis] for t in ins),) + first[axis + 1 :]


def _shape(ins: Sequence[Tensor], attrs: dict[str, Any]) -> Shape:
    return (len(ins[0].shape[attrs["start"] : attrs["end"]]),)


def _gather(ins: Sequence[Tensor], attrs: dict[str, Any]) -> Shape:
    x, axis = ins[0].shape, attrs["axis"]
    return x[:axis] + ins[1].shape + x[axis + 1 :]


def _slice(ins: Sequence[Tensor], attrs: dict[str, Any]) -> Shape:
    out = list(ins[0].shape)
    for start, end, axis, step in zip(attrs["starts"], attrs["ends"], attrs["axes"], attrs["steps"]):
        out[axis] = len(range(*slice(start, end, step).indices(out[axis])))
    return tuple(out)


SHAPE_RULES: dict[str, Callable[[Sequence[Tensor], dict[str, Any]], Shape]] = {
    "conv2d": _conv,
    "depthwise_conv2d": _conv,
    "conv_transpose": _conv_transpose,
    "dense": _dense,
    "matmul": _matmul,
    "batch_norm": _batch_norm,
    "add": _broadcast,
    "sub": _broadcast,
    "mul": _broadcast,
    "div": _broadcast,
    "max": _broadcast,
    "min": _broadcast,
    "pow": _broadcast,
    "sqrt": _same,
    "erf": _same,
    "gelu": _same,
    "layer_norm": _same,
    "relu": _same,
    "clip": _same,
    "hard_swish": _same,
    "hard_sigmoid": _same,
    "sigmoid": _same,
    "softmax": _same,
    "global_avg_pool": lambda ins, attrs: ins[0].shape[:2] + (1, 1),
    "reduce_mean": _reduce_mean,
    "avg_pool": _pool,
    "max_pool": _pool,
    "reshape": lambda ins, attrs: tuple(attrs["shape"]),
    "transpose": _transpose,
    "channels_last_reshape": lambda ins, attrs: tuple(attrs["shape"]),
    "pad": _pad,
    "concat": _concat,
    "resize": lambda ins, attrs: ins[0].shape[:2] + tuple(attrs["size"]),
    "identity": _same,
    "shape": _shape,
    "gather": _gather,
    "slice": _slice,
    "cast": _same,
}


def infer(op: str, ins: Sequence[Tensor], attrs: dict[str, Any]) -> tuple[Shape, str]:
    """Output (shape, dtype) of one IR node from its input tensors and attributes."""
    shape = tuple(int(d) for d in SHAPE_RULES[op](ins, attrs))
    if op == "shape":
        dtype = "int64"
    elif op == "cast":
        dtype = attrs["to"]
    else:
        dtype = ins[0].dtype
    return shape, dtype
