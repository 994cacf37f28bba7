"""Float reference execution of the IR in numpy: the semantics every other stage is checked against.

Compute stays in float32 (like onnxruntime) so differences from the ONNX model are rounding only.
Each op is one function ``(inputs, attrs, graph) -> array`` in `_OPS`; a fused ``act`` attribute is
applied by `run_node` after any op, so passes can fuse activations into anything.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import numpy as np
from numpy.lib.stride_tricks import as_strided

from mnv3c.errors import MnvError, UnsupportedModelError, shown
from mnv3c.ir.graph import Graph, Node, Tensor
from mnv3c.reference.activations import apply_activation, erf
from mnv3c.reference.resize import linear_taps, nearest_indices

Attrs = Mapping[str, Any]
OpFn = Callable[[list, Attrs, Graph], np.ndarray]


# --- public API ------------------------------------------------------------------------------
def run_node(node: Node, graph: Graph, inputs: list[np.ndarray | None]) -> list[np.ndarray]:
    """Evaluate one node; ``inputs`` is aligned with ``node.inputs`` (None for an empty name)."""
    fn = _OPS.get(node.op)
    if fn is None:
        raise UnsupportedModelError(f"node {shown(node.name)}: no reference implementation for op {shown(node.op)}")
    try:
        y = fn(inputs, node.attrs, graph)
    except MnvError as e:
        raise type(e)(f"node {shown(node.name)} ({node.op}): {e}") from e
    except (ValueError, IndexError, KeyError, TypeError) as e:
        raise MnvError(f"node {shown(node.name)} ({node.op}) failed: {e!r}") from e
    return [apply_activation(y, node.attrs.get("act"), node.attrs.get("act_params"))]


def run_float(graph: Graph, feeds: Mapping[str, np.ndarray], keep_all: bool = False,
              finite: str | None = None) -> dict[str, np.ndarray]:
    """Run the graph on ``feeds``; return its outputs, or every tensor (constants too) if ``keep_all``.

    Feeds may have any batch size; the other dimensions must match the graph input. ``finite``
    (the data's name, e.g. '--input'): refuse the first activation that is NaN or infinite (extreme
    weights overflow float32), naming it, instead of returning a meaningless output.
    """
    unknown = sorted(set(feeds) - set(graph.inputs))
    if unknown:
        raise MnvError(f"feed(s) {unknown} are not graph inputs {graph.inputs}")
    env: dict[str, np.ndarray] = {n: t.data for n, t in graph.tensors.items() if t.data is not None}
    for name in graph.inputs:
        if name not in feeds:
            raise MnvError(f"missing feed for graph input {shown(name)}")
        env[name] = _check_feed(graph.tensor(name), feeds[name])
    for node in graph.nodes:
        missing = [i for i in node.inputs if i and i not in env]
        if missing:
            raise MnvError(f"node {shown(node.name)} reads {missing} before they are produced")
        outs = run_node(node, graph, [env[i] if i else None for i in node.inputs])
        if finite is not None and not all(np.isfinite(y).all() for y in outs):
            raise MnvError(f"{finite}: tensor {shown(node.outputs[0])} (output of node {shown(node.name)}) has NaN "
                           "or infinite values: the model's float arithmetic overflows float32 or the data is not finite")
        env.update(zip(node.outputs, outs))
    return dict(env) if keep_all else {o: env[o] for o in graph.outputs}


def _check_feed(t: Tensor, value: np.ndarray) -> np.ndarray:
    arr = np.asarray(value)
    if arr.ndim != len(t.shape) or tuple(arr.shape[1:]) != tuple(t.shape[1:]):
        raise MnvError(f"feed {shown(t.name)} has shape {list(arr.shape)}, graph expects {list(t.shape)} (any batch)")
    return arr.astype(t.dtype, copy=False)


def _graph_batch(graph: Graph) -> int:
    if graph.inputs and graph.tensor(graph.inputs[0]).shape:
        return graph.tensor(graph.inputs[0]).shape[0]
    return 1


# --- convolution -----------------------------------------------------------------------------
def _pair(attrs: Attrs, key: str, default: int) -> tuple[int, int]:
    v = attrs.get(key)
    return (default, default) if v is None else (int(v[0]), int(v[1]))


def _pads(attrs: Attrs) -> tuple[int, int, int, int]:
    p = attrs.get("pads")
    p = (0, 0, 0, 0) if p is None else p
    return int(p[0]), int(p[1]), int(p[2]), int(p[3])


def _windows(xp: np.ndarray, kernel: tuple[int, int], strides: tuple[int, int],
             dilations: tuple[int, int], out_hw: tuple[int, int]) -> np.ndarray:
    """Read-only view [N, C, Ho, Wo, kh, kw] of the (already padded) input's sliding windows."""
    sn, sc, sh, sw = xp.strides
    shape = (xp.shape[0], xp.shape[1], out_hw[0], out_hw[1], kernel[0], kernel[1])
    st = (sn, sc, sh * strides[0], sw * strides[1], sh * dilations[0], sw * dilations[1])
    return as_strided(xp, shape, st, writeable=False)


def pool_out_size(size: int, kernel: int, stride: int, pad_begin: int, pad_end: int, dilation: int, ceil_mode: bool) -> int:
    """Output size of a conv/pool window along one axis (ONNX/PyTorch rule); with ceil_mode a
    window that would start in the end padding is dropped. Shape inference uses it too."""
    span = (kernel - 1) * dilation + 1
    num = size + pad_begin + pad_end - span
    out = (-(-num // stride) if ceil_mode else num // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + pad_begin:
        out -= 1
    return out


def _out_size(size: int, k: int, s: int, d: int, pb: int, pe: int, ceil: bool = False) -> int:
    """`pool_out_size`, raising when the window does not fit in the padded input."""
    span = d * (k - 1) + 1
    if span > size + pb + pe:
        raise MnvError(f"window of {span} is larger than the padded input ({size + pb + pe})")
    return pool_out_size(size, k, s, pb, pe, d, ceil)


def _conv_geometry(x: np.ndarray, kernel: tuple[int, ...], attrs: Attrs) -> tuple[np.ndarray, tuple, tuple, tuple]:
    """The zero-padded input, strides, dilations and output (Ho, Wo) of a ``kernel`` (kh, kw) window."""
    s, d, p = _pair(attrs, "strides", 1), _pair(attrs, "dilations", 1), _pads(attrs)
    kh, kw = kernel
    ho = _out_size(x.shape[2], kh, s[0], d[0], p[0], p[2])
    wo = _out_size(x.shape[3], kw, s[1], d[1], p[1], p[3])
    xp = np.pad(x, ((0, 0), (0, 0), (p[0], p[2]), (p[1], p[3])))
    return xp, s, d, (ho, wo)


def conv_windows(x: np.ndarray, w_shape: tuple[int, ...], attrs: Attrs) -> np.ndarray:
    """Read-only view [N, C, Ho, Wo, kh, kw] of the windows a convolution with weights of
    ``w_shape`` and ``attrs`` reads from ``x`` (zero padding applied)."""
    xp, s, d, out_hw = _conv_geometry(x, tuple(w_shape[2:4]), attrs)
    return _windows(xp, tuple(w_shape[2:4]), s, d, out_hw)


def _conv_dense_group(x: np.ndarray, w: np.ndarray, attrs: Attrs) -> np.ndarray:
    """One group of a convolution: im2col as [N, C*kh*kw, Ho*Wo] and a single matmul."""
    xp, s, d, (ho, wo) = _conv_geometry(x, w.shape[2:], attrs)
    cols = _windows(xp, w.shape[2:], s, d, (ho, wo)).transpose(0, 1, 4, 5, 2, 3)
    cols = cols.reshape(x.shape[0], -1, ho * wo)
    return (w.reshape(w.shape[0], -1) @ cols).reshape(x.shape[0], w.shape[0], ho, wo)


def _conv_depthwise(x: np.ndarray, w: np.ndarray, attrs: Attrs) -> np.ndarray:
    """Depthwise: output channel o reads input channel o // m; one multiply-add per kernel tap."""
    m = w.shape[0] // x.shape[1]
    if m * x.shape[1] != w.shape[0] or w.shape[1] != 1:
        raise MnvError(f"depthwise weight {list(w.shape)} does not fit {x.shape[1]} input channels")
    xp, s, d, (ho, wo) = _conv_geometry(np.repeat(x, m, axis=1) if m > 1 else x, w.shape[2:], attrs)
    y = np.zeros((x.shape[0], w.shape[0], ho, wo), dtype=np.result_type(x, w))
    for i in range(w.shape[2]):
        for j in range(w.shape[3]):
            r0, c0 = i * d[0], j * d[1]
            tap = xp[:, :, r0:r0 + s[0] * (ho - 1) + 1:s[0], c0:c0 + s[1] * (wo - 1) + 1:s[1]]
            y += tap * w[:, 0, i, j][:, None, None]
    return y


def _per_channel(v: np.ndarray, ndim: int) -> np.ndarray:
    """A [C] vector shaped to broadcast along axis 1 of a rank-``ndim`` NC... tensor."""
    return v.reshape((-1,) + (1,) * (ndim - 2))


def _add_bias(y: np.ndarray, b: np.ndarray | None) -> np.ndarray:
    return y if b is None else y + _per_channel(b, y.ndim)


def _conv2d(ins: list, a: Attrs, g: Graph) -> np.ndarray:
    x, w = ins[0], ins[1]
    groups = int(a.get("group", 1))
    if groups == 1:
        y = _conv_dense_group(x, w, a)
    elif groups == x.shape[1] and w.shape[1] == 1:
        y = _conv_depthwise(x, w, a)
    else:
        cin, cout = x.shape[1] // groups, w.shape[0] // groups
        y = np.concatenate([_conv_dense_group(x[:, k * cin:(k + 1) * cin], w[k * cout:(k + 1) * cout], a)
                            for k in range(groups)], axis=1)
    return _add_bias(y, ins[2] if len(ins) > 2 else None)


def _depthwise_conv2d(ins: list, a: Attrs, g: Graph) -> np.ndarray:
    return _add_bias(_conv_depthwise(ins[0], ins[1], a), ins[2] if len(ins) > 2 else None)


def _conv_transpose(ins: list, a: Attrs, g: Graph) -> np.ndarray:
    """Scatter form: input pixel (iy, ix) adds x·w[ky, kx] at output (iy·s + ky·d - pad_top, ...);
    the full-size result is then cropped by the pads (output_padding only extends the end)."""
    x, w = ins[0], ins[1]
    (sh, sw), (dh, dw), (pt, pl, _, _) = _pair(a, "strides", 1), _pair(a, "dilations", 1), _pads(a)
    groups = int(a.get("group", 1))
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    oh, ow = _conv_transpose_size(x.shape, w.shape, a)
    full = np.zeros((n, o, max(sh * (h - 1) + dh * (kh - 1) + 1, pt + oh), max(sw * (wd - 1) + dw * (kw - 1) + 1, pl + ow)),
                    np.result_type(x, w))
    og = o // groups
    for k in range(groups):
        xg, wg = x[:, k * cg:(k + 1) * cg], w[k * og:(k + 1) * og]
        for i in range(kh):
            for j in range(kw):
                contrib = np.einsum("nchw,oc->nohw", xg, wg[:, :, i, j])
                full[:, k * og:(k + 1) * og, i * dh:i * dh + sh * (h - 1) + 1:sh, j * dw:j * dw + sw * (wd - 1) + 1:sw] += contrib
    return _add_bias(full[:, :, pt:pt + oh, pl:pl + ow], ins[2] if len(ins) > 2 else None)


def _conv_transpose_size(x: tuple, w: tuple, a: Attrs) -> tuple[int, int]:
    (sh, sw), (dh, dw), (pt, pl, pb, pr) = _pair(a, "strides", 1), _pair(a, "dilations", 1), _pads(a)
    oph, opw = _pair(a, "output_padding", 0)
    return sh * (x[2] - 1) + oph + (w[2] - 1) * dh + 1 - pt - pb, sw * (x[3] - 1) + opw + (w[3] - 1) * dw + 1 - pl - pr


# --- other layers with weights ---------------------------------------------------------------
def _dense(ins: list, a: Attrs, g: Graph) -> np.ndarray:
    y = ins[0] @ ins[1].T
    return y if len(ins) < 3 or ins[2] is None else y + ins[2]


def _matmul(ins: list, a: Attrs, g: Graph) -> np.ndarray:
    return np.matmul(ins[0], ins[1])


def _batch_norm(ins: list, a: Attrs, g: Graph) -> np.ndarray:
    x, scale, bias, mean, var = ins
    inv = scale / np.sqrt(var + x.dtype.type(a.get("epsilon", 1e-5)))
    return (x - _per_channel(mean, x.ndim)) * _per_channel(inv, x.ndim) + _per_channel(bias, x.ndim)


def _affine(ins: list, a: Attrs, g: Graph) -> np.ndarray:
    x, scale, shift = ins
    return x * _per_channel(scale, x.ndim) + _per_channel(shift, x.ndim)


def _squeeze_excite(ins: list, a: Attrs, g: Graph) -> np.ndarray:
    x, w1, b1, w2, b2 = ins
    h = apply_activation(x.mean(axis=(2, 3)) @ w1.T + b1, a.get("act1"), a.get("act1_params"))
    s = apply_activation(h @ w2.T + b2, a.get("act2"), a.get("act2_params"))
    return x * s[:, :, None, None]


# --- elementwise and activations -------------------------------------------------------------
def _binary(ufunc: np.ufunc) -> OpFn:
    def fn(ins: list, a: Attrs, g: Graph) -> np.ndarray:
        return ufunc(ins[0], ins[1])
    return fn


def _div(ins: list, a: Attrs, g: Graph) -> np.ndarray:
    x, y = ins
    if np.issubdtype(np.result_type(x, y), np.integer):  # ONNX integer Div truncates toward zero
        return np.sign(x) * np.sign(y) * (np.abs(x) // np.abs(y))
    return x / y


def _pow(ins: list, a: Attrs, g: Graph) -> np.ndarray:
    """ONNX Pow keeps the base's element type (numpy would promote float32 ** int64 to float64)."""
    x, y = ins
    if x.dtype.kind in "iu":  # integer base: exact integer power, or the float result truncated
        return np.power(x, y.astype(x.dtype)) if y.dtype.kind in "iu" else np.power(x, y).astype(x.dtype)
    return np.power(x, y.astype(x.dtype))


def _layer_norm(ins: list, a: Attrs, g: Graph) -> np.ndarray:
    x = ins[0]
    axes = tuple(range(int(a.get("axis", -1)) % x.ndim, x.ndim))
    mean = x.mean(axis=axes, keepdims=True)
    d = x - mean
    var = (d * d).mean(axis=axes, keepdims=True)
    y = d / np.sqrt(var + x.dtype.type(a.get("epsilon", 1e-5)))
    if len(ins) > 1 and ins[1] is not None:
        y = y * ins[1]
    if len(ins) > 2 and ins[2] is not None:
        y = y + ins[2]
    return y.astype(x.dtype, copy=False)


def _activation_op(act: str, param_keys: tuple[str, ...] = ()) -> OpFn:
    """An activation used as a standalone op: its parameters are the node's own attributes."""
    def fn(ins: list, a: Attrs, g: Graph) -> np.ndarray:
        return apply_activation(ins[0], act, {k: a[k] for k in param_keys if a.get(k) is not None})
    return fn


def _softmax(ins: list, a: Attrs, g: Graph) -> np.ndarray:
    axis = int(a.get("axis", -1))
    e = np.exp(ins[0] - ins[0].max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# --- pooling and reductions ------------------------------------------------------------------
def _global_avg_pool(ins: list, a: Attrs, g: Graph) -> np.ndarray:
    return ins[0].mean(axis=tuple(range(2, ins[0].ndim)), keepdims=True)


def _reduce_mean(ins: list, a: Attrs, g: Graph) -> np.ndarray:
    axes = a.get("axes")
    return ins[0].mean(axis=None if axes is None else tuple(int(v) for v in axes),
                       keepdims=bool(a.get("keepdims", True)))


def _pool_out(size: int, k: int, s: int, d: int, pb: int, pe: int, ceil: bool) -> tuple[int, int]:
    """Output size and the extra end padding the last window reads under ceil_mode."""
    out = _out_size(size, k, s, d, pb, pe, ceil)
    return out, max(0, (out - 1) * s + d * (k - 1) + 1 - (size + pb + pe))


class _Pool:
    """Pooling geometry: kernel, strides, dilations, pads, output size and ceil_mode extra padding."""

    def __init__(self, hw: tuple[int, ...], a: Attrs) -> None:
        self.k, self.s, self.d = _pair(a, "kernel", 1), _pair(a, "strides", 1), _pair(a, "dilations", 1)
        self.p = _pads(a)
        ceil = bool(a.get("ceil_mode", 0))
        ho, eh = _pool_out(hw[0], self.k[0], self.s[0], self.d[0], self.p[0], self.p[2], ceil)
        wo, ew = _pool_out(hw[1], self.k[1], self.s[1], self.d[1], self.p[1], self.p[3], ceil)
        self.out, self.extra = (ho, wo), (eh, ew)

    def windows(self, x: np.ndarray, pad_fill: float, extra_fill: float) -> np.ndarray:
        """Windows [N, C, Ho, Wo, kh, kw] of x padded with ``pad_fill`` over the explicit pads,
        then with ``extra_fill`` over the ceil_mode extension."""
        p, (eh, ew) = self.p, self.extra
        x = np.pad(x, ((0, 0), (0, 0), (p[0], p[2]), (p[1], p[3])), constant_values=pad_fill)
        x = np.pad(x, ((0, 0), (0, 0), (0, eh), (0, ew)), constant_values=extra_fill)
        return _windows(x, self.k, self.s, self.d, self.out)


def _max_pool(ins: list, a: Attrs, g: Graph) -> np.ndarray:
    x = ins[0]
    lowest = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min  # padding never wins
    return _Pool(x.shape[2:], a).windows(x, lowest, lowest).max(axis=(4, 5))


def _avg_pool(ins: list, a: Attrs, g: Graph) -> np.ndarray:
    """Window sum over the count of real input cells, plus explicit padding cells when
    count_include_pad; the ceil_mode extension never counts (as in onnxruntime)."""
    x = ins[0]
    pool = _Pool(x.shape[2:], a)
    total = pool.windows(x, 0, 0).sum(axis=(4, 5))
    ones = np.ones((1, 1) + x.shape[2:], x.dtype)
    count = pool.windows(ones, 1 if a.get("count_include_pad", 0) else 0, 0).sum(axis=(4, 5))
    return total / count


# --- data movement and shape computation -----------------------------------------------------
def _reshape(ins: list, a: Attrs, g: Graph) -> np.ndarray:
    """Static target shape; when the feed batch differs from the graph's, shape[0] follows it."""
    x, shape = ins[0], [int(v) for v in a["shape"]]
    rest = int(np.prod(shape[1:], dtype=np.int64))
    if shape and shape[0] == _graph_batch(g) and rest > 0 and x.size != shape[0] * rest:
        shape[0] = x.size // rest
    return x.reshape(shape)


def _channels_last_reshape(ins: list, a: Attrs, g: Graph) -> np.ndarray:
    shape = [int(v) for v in a["shape"]]
    return ins[0].transpose(0, 2, 3, 1).reshape([ins[0].shape[0]] + shape[1:])


def _transpose(ins: list, a: Attrs, g: Graph) -> np.ndarray:
    perm = a.get("perm")
    return np.transpose(ins[0], None if perm is None else tuple(int(v) for v in perm))


_PAD_MODES = {"constant": "constant", "reflect": "reflect", "edge": "edge"}


def _pad(ins: list, a: Attrs, g: Graph) -> np.ndarray:
    """ONNX Pad; negative pads crop."""
    x, pads = ins[0], [int(v) for v in a["pads"]]
    mode = a.get("mode", "constant")
    if mode not in _PAD_MODES:
        raise UnsupportedModelError(f"pad mode {shown(mode)} is not supported")
    begins, ends = pads[:x.ndim], pads[x.ndim:]
    extra = {"constant_values": a.get("value", 0)} if mode == "constant" else {}
    y = np.pad(x, [(max(b, 0), max(e, 0)) for b, e in zip(begins, ends)], mode=_PAD_MODES[mode], **extra)
    return y[tuple(slice(max(-b, 0), n - max(-e, 0)) for b, e, n in zip(begins, ends, y.shape))]


def _concat(ins: list, a: Attrs, g: Graph) -> np.ndarray:
    return np.concatenate(ins, axis=int(a.get("axis", 0)))


def _resize(ins: list, a: Attrs, g: Graph) -> np.ndarray:
    """Nearest: gather rows then columns; linear: separable interpolation along H then W."""
    x = ins[0]
    (oh, ow), (sh, sw) = a["size"], a["scales"]
    mode, coord = a["mode"], a["coordinate_transformation_mode"]
    if mode == "nearest":
        rows = nearest_indices(oh, x.shape[2], sh, coord, a["nearest_mode"])
        cols = nearest_indices(ow, x.shape[3], sw, coord, a["nearest_mode"])
        return x[:, :, rows][:, :, :, cols]
    if mode != "linear":
        raise UnsupportedModelError(f"resize mode '{mode}' is not supported")
    r0, r1, wr = linear_taps(oh, x.shape[2], sh, coord)
    c0, c1, wc = linear_taps(ow, x.shape[3], sw, coord)
    one = x.dtype.type(1)
    wr, wc = wr.astype(x.dtype)[:, None], wc.astype(x.dtype)
    v = x[:, :, r0] * (one - wr) + x[:, :, r1] * wr
    return v[:, :, :, c0] * (one - wc) + v[:, :, :, c1] * wc


def _identity(ins: list, a: Attrs, g: Graph) -> np.ndarray:
    return ins[0]


def _shape(ins: list, a: Attrs, g: Graph) -> np.ndarray:
    return np.array(ins[0].shape[a.get("start", 0):a.get("end")], dtype=np.int64)


def _gather(ins: list, a: Attrs, g: Graph) -> np.ndarray:
    return np.take(ins[0], ins[1], axis=int(a.get("axis", 0)))


def _slice(ins: list, a: Attrs, g: Graph) -> np.ndarray:
    x, starts, ends = ins[0], a["starts"], a["ends"]
    axes = range(len(starts)) if a.get("axes") is None else a["axes"]
    steps = (1,) * len(starts) if a.get("steps") is None else a["steps"]
    index = [slice(None)] * x.ndim
    for ax, b, e, st in zip(axes, starts, ends, steps):
        index[int(ax)] = slice(int(b), int(e), int(st))
    return x[tuple(index)]


def _cast(ins: list, a: Attrs, g: Graph) -> np.ndarray:
    return ins[0].astype(np.dtype(a["to"]))


_OPS: dict[str, OpFn] = {
    "conv2d": _conv2d,
    "depthwise_conv2d": _depthwise_conv2d,
    "conv_transpose": _conv_transpose,
    "dense": _dense,
    "matmul": _matmul,
    "batch_norm": _batch_norm,
    "affine": _affine,
    "squeeze_excite": _squeeze_excite,
    "add": _binary(np.add),
    "sub": _binary(np.subtract),
    "mul": _binary(np.multiply),
    "div": _div,
    "max": _binary(np.maximum),
    "min": _binary(np.minimum),
    "pow": _pow,
    "sqrt": lambda ins, a, g: np.sqrt(ins[0]),
    "erf": lambda ins, a, g: erf(ins[0]),
    "relu": _activation_op("relu"),
    "clip": _activation_op("clip", ("min", "max")),
    "hard_swish": _activation_op("hard_swish"),
    "hard_sigmoid": _activation_op("hard_sigmoid", ("alpha", "beta")),
    "sigmoid": _activation_op("sigmoid"),
    "softmax": _softmax,
    "gelu": _activation_op("gelu", ("approximate",)),
    "layer_norm": _layer_norm,
    "global_avg_pool": _global_avg_pool,
    "reduce_mean": _reduce_mean,
    "avg_pool": _avg_pool,
    "max_pool": _max_pool,
    "reshape": _reshape,
    "transpose": _transpose,
    "channels_last_reshape": _channels_last_reshape,
    "pad": _pad,
    "concat": _concat,
    "resize": _resize,
    "identity": _identity,
    "requantize": _identity,  # a mixed-precision boundary: the same real values
    "shape": _shape,
    "gather": _gather,
    "slice": _slice,
    "cast": _cast,
}
