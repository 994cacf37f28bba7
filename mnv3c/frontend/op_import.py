"""One function per supported ONNX op, translating it into IR nodes with static attributes.

Each importer receives the builder and an `OnnxNode` and must define every output tensor of the
node that is used. Parameters that decide shapes (Reshape's shape, Slice's starts, pads, axes)
must be constants by then; otherwise the model has data-dependent shapes and is rejected.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import onnx
from onnx import helper

from mnv3c.errors import UnsupportedModelError, shown
from mnv3c.frontend.builder import GraphBuilder
from mnv3c.frontend.dtypes import numpy_dtype
from mnv3c.frontend.shapes import same_pads
from mnv3c.quant.intops import round_half_away
from mnv3c.reference.resize import COORDINATE_MODES, NEAREST_MODES


@dataclass
class OnnxNode:
    name: str
    op_type: str
    inputs: list[str]
    outputs: list[str]
    attrs: dict[str, Any] = field(default_factory=dict)
    opset: int = 13
    used: frozenset[str] = frozenset()  # tensor names read by some node or graph output

    @staticmethod
    def from_proto(proto: onnx.NodeProto, name: str, opset: int, used: frozenset[str]) -> "OnnxNode":
        attrs = {a.name: helper.get_attribute_value(a) for a in proto.attribute}
        attrs = {k: v.decode() if isinstance(v, bytes) else v for k, v in attrs.items()}
        return OnnxNode(name, proto.op_type, list(proto.input), list(proto.output), attrs, opset, used)

    def input(self, i: int) -> str:
        """The i-th input name, '' when absent (optional inputs may be omitted or empty)."""
        return self.inputs[i] if i < len(self.inputs) else ""

    def output_used(self, i: int) -> bool:
        """Whether optional output i exists and is read (exporters often name outputs nobody reads)."""
        return i < len(self.outputs) and self.outputs[i] in self.used

    def fail(self, what: str) -> UnsupportedModelError:
        return UnsupportedModelError(f"node {shown(self.name)} ({self.op_type}): {what}")


Importer = Callable[[GraphBuilder, OnnxNode], None]
IMPORTERS: dict[str, Importer] = {}


def importer(*op_types: str) -> Callable[[Importer], Importer]:
    def register(fn: Importer) -> Importer:
        for t in op_types:
            IMPORTERS[t] = fn
        return fn

    return register


# --- helpers -----------------------------------------------------------------------------------
def _const_input(b: GraphBuilder, n: OnnxNode, i: int, what: str) -> np.ndarray | None:
    """A constant parameter input (None if omitted); runtime values here mean data-dependent shapes."""
    name = n.input(i)
    if not name:
        return None
    value = b.value(name)
    if value is None:
        raise n.fail(f"{what} ({shown(name)}) must be a constant; data-dependent shapes are not supported")
    return value


def _ints(value: Any) -> tuple[int, ...]:
    return tuple(int(v) for v in np.asarray(value).reshape(-1))


def _axes_input_or_attr(b: GraphBuilder, n: OnnxNode, from_opset: int) -> tuple[int, ...] | None:
    """Axes given as an attribute before ``from_opset`` and as input 1 from then on."""
    if n.opset < from_opset:
        return _ints(n.attrs["axes"]) if "axes" in n.attrs else None
    value = _const_input(b, n, 1, "axes")
    return None if value is None else _ints(value)


def _norm_axis(n: OnnxNode, axis: int, rank: int) -> int:
    if not -rank <= axis < rank:
        raise n.fail(f"axis {axis} out of range for rank {rank}")
    return axis % rank


def _spatial_2d(b: GraphBuilder, n: OnnxNode, x: str) -> tuple[int, int, int, int]:
    shape = b.shape(x)
    if len(shape) != 4:
        raise n.fail(f"only 2-D spatial inputs (rank 4, NCHW) are supported, got shape {list(shape)}")
    return shape  # type: ignore[return-value]


def _window_attrs(n: OnnxNode, hw: tuple[int, int], kernel: tuple[int, int]) -> dict[str, Any]:
    """strides/dilations/pads of Conv and pooling with auto_pad resolved to explicit pads."""
    strides = _ints(n.attrs.get("strides", (1, 1)))
    dilations = _ints(n.attrs.get("dilations", (1, 1)))
    if len(strides) != 2 or len(dilations) != 2:
        raise n.fail("strides and dilations must describe 2 spatial axes")
    auto_pad = n.attrs.get("auto_pad", "NOTSET")
    if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        (t, bo), (le, r) = (
            same_pads(hw[i], kernel[i], strides[i], dilations[i], auto_pad == "SAME_UPPER") for i in range(2)
        )
        pads = (t, le, bo, r)
    elif auto_pad == "VALID":
        pads = (0, 0, 0, 0)
    elif auto_pad == "NOTSET":
        pads = _ints(n.attrs.get("pads", (0, 0, 0, 0)))
    else:
        raise n.fail(f"unknown auto_pad {shown(auto_pad)}")
    if len(pads) != 4:
        raise n.fail(f"pads {list(pads)} must describe 2 spatial axes")
    return {"strides": strides, "dilations": dilations, "pads": pads}


# --- constants and shapes ------------------------------------------------------------------------
@importer("Constant")
def import_constant(b: GraphBuilder, n: OnnxNode) -> None:
    attrs = n.attrs
    if "value" in attrs:
        value = onnx.numpy_helper.to_array(attrs["value"])
    elif "value_float" in attrs:
        value = np.float32(attrs["value_float"])
    elif "value_floats" in attrs:
        value = np.asarray(attrs["value_floats"], np.float32)
    elif "value_int" in attrs:
        value = np.int64(attrs["value_int"])
    elif "value_ints" in attrs:
        value = np.asarray(attrs["value_ints"], np.int64)
    else:
        raise n.fail(f"only tensor, float(s) and int(s) constants are supported, got {sorted(attrs)}")
    if value.dtype.kind not in "biuf":
        raise n.fail(f"constants of dtype {value.dtype} are not supported")
    b.const(value, name=n.outputs[0])


@importer("Shape")
def import_shape(b: GraphBuilder, n: OnnxNode) -> None:
    """Shapes are static, so Shape is always a constant."""
    shape = b.shape(n.inputs[0])
    start, end = n.attrs.get("start", 0), n.attrs.get("end", len(shape))
    b.const(np.asarray(shape[start:end], np.int64), name=n.outputs[0])


@importer("Cast")
def import_cast(b: GraphBuilder, n: OnnxNode) -> None:
    to = numpy_dtype(n.attrs["to"], f"node {shown(n.name)} (Cast) target")
    b.emit("cast", [n.inputs[0]], {"to": to}, n.outputs[0], n.name)


@importer("CastLike")
def import_cast_like(b: GraphBuilder, n: OnnxNode) -> None:
    b.emit("cast", [n.inputs[0]], {"to": b.tensor(n.inputs[1]).dtype}, n.outputs[0], n.name)


@importer("Gather")
def import_gather(b: GraphBuilder, n: OnnxNode) -> None:
    x, idx = n.inputs[0], n.inputs[1]
    rank = len(b.shape(x))
    axis = _norm_axis(n, n.attrs.get("axis", 0), rank)
    indices = b.value(idx)
    if indices is not None:
        dim = b.shape(x)[axis]
        if np.any((indices < -dim) | (indices >= dim)):
            raise n.fail(f"indices out of range for axis {axis} of size {dim}")
        if np.any(indices < 0):
            idx = b.const(np.where(indices < 0, indices + dim, indices).astype(indices.dtype), base=f"{idx}_norm")
    b.emit("gather", [x, idx], {"axis": axis}, n.outputs[0], n.name)


@importer("Slice")
def import_slice(b: GraphBuilder, n: OnnxNode) -> None:
    """Clamp starts/ends to the static shape, keeping Python slice semantics (negative steps too)."""
    x = n.inputs[0]
    shape = b.shape(x)
    if n.opset < 10:
        starts, ends = _ints(n.attrs["starts"]), _ints(n.attrs["ends"])
        axes = _ints(n.attrs.get("axes", range(len(starts))))
        steps: tuple[int, ...] = (1,) * len(starts)
    else:
        starts, ends = _ints(_const_input(b, n, 1, "starts")), _ints(_const_input(b, n, 2, "ends"))
        axes_v, steps_v = _const_input(b, n, 3, "axes"), _const_input(b, n, 4, "steps")
        axes = _ints(axes_v) if axes_v is not None else tuple(range(len(starts)))
        steps = _ints(steps_v) if steps_v is not None else (1,) * len(starts)
    norm = {"starts": [], "ends": [], "axes": [], "steps": []}
    for start, end, axis, step in zip(starts, ends, axes, steps):
        axis = _norm_axis(n, axis, len(shape))
        if step == 0:
            raise n.fail("slice step 0")
        lo, hi, st = slice(start, end, step).indices(shape[axis])
        if st < 0 and hi < 0:
            hi = -shape[axis] - 1  # "through index 0" in Python slice terms
        for key, v in zip(("starts", "ends", "axes", "steps"), (lo, hi, axis, st)):
            norm[key].append(v)
    b.emit("slice", [x], {k: tuple(v) for k, v in norm.items()}, n.outputs[0], n.name)


# --- layers with weights -----------------------------------------------------------------------
@importer("Conv")
def import_conv(b: GraphBuilder, n: OnnxNode) -> None:
    x, w, bias = n.inputs[0], n.inputs[1], n.input(2)
    _, c, h, wd = _spatial_2d(b, n, x)
    w_shape = b.shape(w)
    group = int(n.attrs.get("group", 1))
    if len(w_shape) != 4 or w_shape[1] * group != c or w_shape[0] % group:
        raise n.fail(f"weight shape {list(w_shape)} does not match {c} input channels with group={group}")
    if "kernel_shape" in n.attrs and _ints(n.attrs["kernel_shape"]) != tuple(w_shape[2:]):
        raise n.fail(f"kernel_shape {list(_ints(n.attrs['kernel_shape']))} disagrees with weight shape {list(w_shape)}")
    attrs = _window_attrs(n, (h, wd), (w_shape[2], w_shape[3]))
    ins = [x, w] + ([bias] if bias else [])
    if group == c and w_shape[1] == 1 and group > 1:
        b.emit("depthwise_conv2d", ins, attrs, n.outputs[0], n.name)
    else:
        b.emit("conv2d", ins, {**attrs, "group": group}, n.outputs[0], n.name)


@importer("BatchNormalization")
def import_batch_norm(b: GraphBuilder, n: OnnxNode) -> None:
    if n.attrs.get("training_mode", 0) or any(n.output_used(i) for i in range(1, len(n.outputs))):
        raise n.fail("training mode (running statistics outputs) is not supported")
    if not n.attrs.get("spatial", 1):
        raise n.fail("spatial=0 is not supported")
    eps = float(n.attrs.get("epsilon", 1e-5))
    b.emit("batch_norm", n.inputs[:5], {"epsilon": eps}, n.outputs[0], n.name)


@importer("Gemm")
def import_gemm(b: GraphBuilder, n: OnnxNode) -> None:
    """Constant B becomes `dense` (alpha folded into w, beta into the bias); otherwise matmul and friends."""
    a, bm, c = n.inputs[0], n.inputs[1], n.input(2)
    alpha, beta = float(n.attrs.get("alpha", 1.0)), float(n.attrs.get("beta", 1.0))
    if n.attrs.get("transA", 0):
        a = b.emit("transpose", [a], {"perm": (1, 0)}, name=f"{n.name}/transA")
    b_value, c_value = b.value(bm), b.value(c)
    out_cols = b.shape(bm)[0 if n.attrs.get("transB", 0) else 1]
    if b_value is not None:
        w = b_value if n.attrs.get("transB", 0) else b_value.T
        w = w * np.asarray(alpha, w.dtype) if alpha != 1.0 else w
        ins = [a, b.const(np.ascontiguousarray(w), base=f"{bm}_dense")]
        bias_folds = (
            c_value is not None
            and all(d == 1 for d in c_value.shape[:-1])
            and (c_value.ndim == 0 or c_value.shape[-1] in (1, out_cols))
        )
        if bias_folds:
            bias = np.broadcast_to(c_value.reshape(-1) * np.asarray(beta, c_value.dtype), (out_cols,))
            ins.append(b.const(bias.astype(c_value.dtype), base=f"{c}_dense"))
        last = not c or bias_folds
        y = b.emit("dense", ins, {}, n.outputs[0] if last else None, n.name if last else f"{n.name}/dense")
        if not last:
            _add_scaled(b, n, y, c, beta)
        return
    if n.attrs.get("transB", 0):
        bm = b.emit("transpose", [bm], {"perm": (1, 0)}, name=f"{n.name}/transB")
    y = b.emit("matmul", [a, bm], {}, None if (alpha != 1.0 or c) else n.outputs[0], f"{n.name}/matmul")
    if alpha != 1.0:
        alpha_c = b.const(np.asarray(alpha, b.tensor(y).dtype), base=f"{n.name}_alpha")
        y = b.emit("mul", [y, alpha_c], {}, None if c else n.outputs[0], f"{n.name}/alpha")
    if c:
        _add_scaled(b, n, y, c, beta)


def _add_scaled(b: GraphBuilder, n: OnnxNode, y: str, c: str, beta: float) -> None:
    if beta != 1.0:
        beta_c = b.const(np.asarray(beta, b.tensor(c).dtype), base=f"{n.name}_beta")
        c = b.emit("mul", [c, beta_c], {}, name=f"{n.name}/beta")
    b.emit("add", [y, c], {}, n.outputs[0], n.name)


@importer("MatMul")
def import_matmul(b: GraphBuilder, n: OnnxNode) -> None:
    a, bm = n.inputs
    b_value = b.value(bm)
    if b_value is not None and b_value.ndim == 2 and len(b.shape(a)) == 2 and b.value(a) is None:
        w = b.const(np.ascontiguousarray(b_value.T), base=f"{bm}_dense")
        b.emit("dense", [a, w], {}, n.outputs[0], n.name)
    else:
        b.emit("matmul", [a, bm], {}, n.outputs[0], n.name)


# --- elementwise and activations ---------------------------------------------------------------
def _simple(ir_op: str) -> Importer:
    def import_simple(b: GraphBuilder, n: OnnxNode) -> None:
        b.emit(ir_op, list(n.inputs), {}, n.outputs[0], n.name)

    import_simple.__doc__ = f"ONNX op with no attributes -> IR `{ir_op}`."
    return import_simple


for _onnx_op, _ir_op in {
    "Add": "add", "Sub": "sub", "Mul": "mul", "Div": "div", "Relu": "relu", "Sigmoid": "sigmoid",
    "HardSwish": "hard_swish", "Identity": "identity", "Pow": "pow", "Sqrt": "sqrt", "Erf": "erf",
}.items():
    IMPORTERS[_onnx_op] = _simple(_ir_op)


@importer("Gelu")
def import_gelu(b: GraphBuilder, n: OnnxNode) -> None:
    approximate = n.attrs.get("approximate", "none")
    if approximate not in ("none", "tanh"):
        raise n.fail(f"unknown approximate='{approximate}' (none, tanh)")
    b.emit("gelu", [n.inputs[0]], {"approximate": approximate}, n.outputs[0], n.name)


@importer("LayerNormalization")
def import_layer_norm(b: GraphBuilder, n: OnnxNode) -> None:
    """One `layer_norm` node; spelled out as reductions when the Mean / InvStdDev outputs are read."""
    x = n.inputs[0]
    rank = len(b.shape(x))
    axis = _norm_axis(n, n.attrs.get("axis", -1), rank)
    eps = float(n.attrs.get("epsilon", 1e-5))
    if not (n.output_used(1) or n.output_used(2)):
        ins = [x, n.input(1), n.input(2)]
        while not ins[-1]:
            ins.pop()
        b.emit("layer_norm", ins, {"axis": axis, "epsilon": eps}, n.outputs[0], n.name)
        return
    dtype = b.tensor(x).dtype
    axes = {"axes": tuple(range(axis, rank)), "keepdims": True}
    mean = b.emit("reduce_mean", [x], axes, n.outputs[1] if n.output_used(1) else None, f"{n.name}/mean")
    d = b.emit("sub", [x, mean], {}, name=f"{n.name}/centre")
    var = b.emit("reduce_mean", [b.emit("mul", [d, d], {}, name=f"{n.name}/square")], axes, name=f"{n.name}/var")
    std = b.emit("sqrt", [b.emit("add", [var, b.const(np.asarray(eps, dtype), base=f"{n.name}_eps")], {},
                                 name=f"{n.name}/var_eps")], {}, name=f"{n.name}/std")
    inv = b.emit("div", [b.const(np.asarray(1, dtype), base=f"{n.name}_one"), std], {},
                 n.outputs[2] if n.output_used(2) else None, f"{n.name}/inv_std")
    last = not n.input(1) and not n.input(2)
    y = b.emit("mul", [d, inv], {}, n.outputs[0] if last else None, f"{n.name}/normalize")
    if n.input(1):
        last = not n.input(2)
        y = b.emit("mul", [y, n.input(1)], {}, n.outputs[0] if last else None, f"{n.name}/scale")
    if n.input(2):
        b.emit("add", [y, n.input(2)], {}, n.outputs[0], f"{n.name}/bias")


@importer("Sum", "Max", "Min")
def import_variadic(b: GraphBuilder, n: OnnxNode) -> None:
    """n-ary Sum/Max/Min as a chain of binary add/max/min (one input: the identity)."""
    op = {"Sum": "add", "Max": "max", "Min": "min"}[n.op_type]
    ins = [i for i in n.inputs if i]
    if len(ins) == 1:
        b.emit("identity", ins, {}, n.outputs[0], n.name)
        return
    y = ins[0]
    for k, other in enumerate(ins[1:], 1):
        last = k == len(ins) - 1
        y = b.emit(op, [y, other], {}, n.outputs[0] if last else None, n.name if last else f"{n.name}/{k}")


@importer("HardSigmoid")
def import_hard_sigmoid(b: GraphBuilder, n: OnnxNode) -> None:
    attrs = {"alpha": float(n.attrs.get("alpha", 0.2)), "beta": float(n.attrs.get("beta", 0.5))}
    b.emit("hard_sigmoid", [n.inputs[0]], attrs, n.outputs[0], n.name)


@importer("Clip")
def import_clip(b: GraphBuilder, n: OnnxNode) -> None:
    if n.opset < 11:
        lo, hi = n.attrs.get("min", -np.inf), n.attrs.get("max", np.inf)
    else:
        lo_v, hi_v = _const_input(b, n, 1, "min"), _const_input(b, n, 2, "max")
        lo = -np.inf if lo_v is None else lo_v.item()
        hi = np.inf if hi_v is None else hi_v.item()
    dtype = np.dtype(b.tensor(n.inputs[0]).dtype)
    if dtype.kind in "iu":  # integer tensors have no infinity: the open bound is the dtype's range
        info = np.iinfo(dtype)
        lo, hi = max(float(lo), float(info.min)), min(float(hi), float(info.max))
    b.emit("clip", [n.inputs[0]], {"min": float(lo), "max": float(hi)}, n.outputs[0], n.name)


@importer("Softmax")
def import_softmax(b: GraphBuilder, n: OnnxNode) -> None:
    """Before opset 13 Softmax normalises over all axes from ``axis`` on (input flattened to 2-D)."""
    x = n.inputs[0]
    shape = b.shape(x)
    axis = _norm_axis(n, n.attrs.get("axis", 1 if n.opset < 13 else -1), len(shape))
    if n.opset >= 13 or axis == len(shape) - 1:
        b.emit("softmax", [x], {"axis": axis}, n.outputs[0], n.name)
        return
    flat = (int(np.prod(shape[:axis], dtype=np.int64)), int(np.prod(shape[axis:], dtype=np.int64)))
    x2 = b.emit("reshape", [x], {"shape": flat}, name=f"{n.name}/flatten")
    y2 = b.emit("softmax", [x2], {"axis": 1}, name=n.name)
    b.emit("reshape", [y2], {"shape": shape}, n.outputs[0], f"{n.name}/unflatten")


@importer("Dropout")
def import_dropout(b: GraphBuilder, n: OnnxNode) -> None:
    """Inference Dropout is the identity; its mask (if asked for) is all ones."""
    training = _const_input(b, n, 2, "training_mode") if n.opset >= 12 else None
    if (training is not None and bool(training)) or not n.attrs.get("is_test", 1):
        raise n.fail("training-mode Dropout is not supported")
    b.emit("identity", [n.inputs[0]], {}, n.outputs[0], n.name)
    if n.output_used(1):
        b.const(np.ones(b.shape(n.inputs[0]), bool), name=n.outputs[1])


# --- pooling and reductions --------------------------------------------------------------------
@importer("GlobalAveragePool")
def import_global_avg_pool(b: GraphBuilder, n: OnnxNode) -> None:
    x = n.inputs[0]
    rank = len(b.shape(x))
    if rank == 4:
        b.emit("global_avg_pool", [x], {}, n.outputs[0], n.name)
    else:
        b.emit("reduce_mean", [x], {"axes": tuple(range(2, rank)), "keepdims": True}, n.outputs[0], n.name)


@importer("ReduceMean")
def import_reduce_mean(b: GraphBuilder, n: OnnxNode) -> None:
    x = n.inputs[0]
    rank = len(b.shape(x))
    axes = _axes_input_or_attr(b, n, 18)
    if not axes:
        if n.attrs.get("noop_with_empty_axes", 0):
            b.emit("identity", [x], {}, n.outputs[0], n.name)
            return
        axes = tuple(range(rank))
    axes = tuple(sorted({_norm_axis(n, a, rank) for a in axes}))
    b.emit("reduce_mean", [x], {"axes": axes, "keepdims": bool(n.attrs.get("keepdims", 1))}, n.outputs[0], n.name)


@importer("AveragePool", "MaxPool")
def import_pool(b: GraphBuilder, n: OnnxNode) -> None:
    x = n.inputs[0]
    _, _, h, w = _spatial_2d(b, n, x)
    kernel = _ints(n.attrs["kernel_shape"])
    if len(kernel) != 2:
        raise n.fail(f"only 2-D kernels are supported, got kernel_shape {list(kernel)}")
    attrs = {"kernel": kernel, **_window_attrs(n, (h, w), kernel), "ceil_mode": bool(n.attrs.get("ceil_mode", 0))}
    if n.op_type == "MaxPool":
        if n.output_used(1):
            raise n.fail("the Indices output is not supported")
        b.emit("max_pool", [x], attrs, n.outputs[0], n.name)
        return
    if attrs.pop("dilations") != (1, 1):
        raise n.fail("dilated AveragePool is not supported")
    attrs["count_include_pad"] = bool(n.attrs.get("count_include_pad", 0))
    b.emit("avg_pool", [x], attrs, n.outputs[0], n.name)


# --- data movement -----------------------------------------------------------------------------
def _reshape_to(b: GraphBuilder, n: OnnxNode, shape: tuple[int, ...]) -> None:
    x = n.inputs[0]
    size = int(np.prod(b.shape(x), dtype=np.int64))
    if int(np.prod(shape, dtype=np.int64)) != size:
        raise n.fail(f"cannot reshape {list(b.shape(x))} to {list(shape)}")
    b.emit("reshape", [x], {"shape": tuple(shape)}, n.outputs[0], n.name)


@importer("Reshape")
def import_reshape(b: GraphBuilder, n: OnnxNode) -> None:
    """Resolve 0 (copy the input dim unless allowzero) and -1 (inferred) into a static shape."""
    in_shape = b.shape(n.inputs[0])
    if n.opset < 5:
        target = list(_ints(n.attrs["shape"]))
    else:
        target = list(_ints(_const_input(b, n, 1, "shape")))
    if not n.attrs.get("allowzero", 0):
        target = [in_shape[i] if d == 0 else d for i, d in enumerate(target)]
    if target.count(-1) > 1:
        raise n.fail("more than one -1 in the target shape")
    if -1 in target:
        known = int(np.prod([d for d in target if d != -1], dtype=np.int64))
        size = int(np.prod(in_shape, dtype=np.int64))
        if known == 0 or size % known:
            raise n.fail(f"cannot reshape {list(in_shape)} to {target}")
        target[target.index(-1)] = size // known
    _reshape_to(b, n, tuple(target))


@importer("Flatten")
def import_flatten(b: GraphBuilder, n: OnnxNode) -> None:
    shape = b.shape(n.inputs[0])
    axis = n.attrs.get("axis", 1)
    axis = axis + len(shape) if axis < 0 else axis
    if not 0 <= axis <= len(shape):
        raise n.fail(f"axis {n.attrs.get('axis')} out of range for rank {len(shape)}")
    _reshape_to(b, n, (int(np.prod(shape[:axis], dtype=np.int64)), int(np.prod(shape[axis:], dtype=np.int64))))


@importer("Squeeze")
def import_squeeze(b: GraphBuilder, n: OnnxNode) -> None:
    shape = b.shape(n.inputs[0])
    axes = _axes_input_or_attr(b, n, 13)
    if axes is None:
        drop = {i for i, d in enumerate(shape) if d == 1}
    else:
        drop = {_norm_axis(n, a, len(shape)) for a in axes}
        if any(shape[a] != 1 for a in drop):
            raise n.fail(f"cannot squeeze axes {sorted(drop)} of shape {list(shape)}")
    _reshape_to(b, n, tuple(d for i, d in enumerate(shape) if i not in drop))


@importer("Unsqueeze")
def import_unsqueeze(b: GraphBuilder, n: OnnxNode) -> None:
    shape = b.shape(n.inputs[0])
    axes = _axes_input_or_attr(b, n, 13)
    if axes is None:
        raise n.fail("axes are required")
    rank = len(shape) + len(axes)
    inserted = {_norm_axis(n, a, rank) for a in axes}
    if len(inserted) != len(axes):
        raise n.fail(f"repeated axes {list(axes)}")
    rest = iter(shape)
    _reshape_to(b, n, tuple(1 if i in inserted else next(rest) for i in range(rank)))


@importer("Transpose")
def import_transpose(b: GraphBuilder, n: OnnxNode) -> None:
    rank = len(b.shape(n.inputs[0]))
    perm = _ints(n.attrs.get("perm", range(rank - 1, -1, -1)))
    if sorted(perm) != list(range(rank)):
        raise n.fail(f"perm {list(perm)} is not a permutation of {rank} axes")
    b.emit("transpose", [n.inputs[0]], {"perm": perm}, n.outputs[0], n.name)


@importer("Concat")
def import_concat(b: GraphBuilder, n: OnnxNode) -> None:
    ins = [i for i in n.inputs if i]
    axis = _norm_axis(n, n.attrs["axis"], len(b.shape(ins[0])))
    b.emit("concat", ins, {"axis": axis}, n.outputs[0], n.name)


@importer("Pad")
def import_pad(b: GraphBuilder, n: OnnxNode) -> None:
    x = n.inputs[0]
    rank = len(b.shape(x))
    mode = n.attrs.get("mode", "constant")
    if mode not in ("constant", "reflect", "edge"):
        raise n.fail(f"pad mode {shown(mode)} is not supported (constant, reflect, edge)")
    if n.opset < 11:
        pads, value = _ints(n.attrs["pads"]), float(n.attrs.get("value", 0.0))
        axes: tuple[int, ...] = tuple(range(rank))
    else:
        pads = _ints(_const_input(b, n, 1, "pads"))
        value_v, axes_v = _const_input(b, n, 2, "constant_value"), _const_input(b, n, 3, "axes")
        value = 0.0 if value_v is None or value_v.size == 0 else float(value_v.item())
        axes = tuple(range(rank)) if axes_v is None else tuple(_norm_axis(n, a, rank) for a in _ints(axes_v))
    if len(pads) != 2 * len(axes):
        raise n.fail(f"{len(pads)} pads for {len(axes)} axes")
    full = [0] * (2 * rank)
    for k, a in enumerate(axes):
        full[a], full[a + rank] = pads[k], pads[k + len(axes)]
    b.emit("pad", [x], {"pads": tuple(full), "mode": mode, "value": value}, n.outputs[0], n.name)


@importer("Split")
def import_split(b: GraphBuilder, n: OnnxNode) -> None:
    """One `slice` per output: the parts are independent tensors for the schedule and memory plan."""
    x = n.inputs[0]
    shape = b.shape(x)
    axis = _norm_axis(n, n.attrs.get("axis", 0), len(shape))
    if n.opset < 13:
        sizes = _ints(n.attrs["split"]) if "split" in n.attrs else None
    else:
        value = _const_input(b, n, 1, "split")
        sizes = None if value is None else _ints(value)
    parts = len(n.outputs)
    if sizes is None:
        if n.opset >= 18 and "num_outputs" in n.attrs:
            parts = int(n.attrs["num_outputs"])
            chunk = -(-shape[axis] // parts)
            sizes = tuple(min(chunk, max(shape[axis] - i * chunk, 0)) for i in range(parts))
        elif shape[axis] % parts:
            raise n.fail(f"axis {axis} of size {shape[axis]} does not split into {parts} equal parts")
        else:
            sizes = (shape[axis] // parts,) * parts
    if len(sizes) != len(n.outputs) or sum(sizes) != shape[axis] or min(sizes) < 0:
        raise n.fail(f"split sizes {list(sizes)} do not cut axis {axis} of size {shape[axis]} into {len(n.outputs)}")
    start = 0
    for size, out in zip(sizes, n.outputs):
        attrs = {"starts": (start,), "ends": (start + size,), "axes": (axis,), "steps": (1,)}
        b.emit("slice", [x], attrs, out, n.name if out == n.outputs[0] else f"{n.name}/{out}")
        start += size


@importer("ConvTranspose")
def import_conv_transpose(b: GraphBuilder, n: OnnxNode) -> None:
    """Weights become [O, C/group, kh, kw] (ONNX stores [C, O/group, kh, kw]); auto_pad and
    output_shape are resolved into explicit pads and output_padding."""
    x, w, bias = n.inputs[0], n.inputs[1], n.input(2)
    _, c, h, wd = _spatial_2d(b, n, x)
    wv = _const_input(b, n, 1, "the weight")
    group = int(n.attrs.get("group", 1))
    if wv.ndim != 4 or wv.shape[0] != c or c % group:
        raise n.fail(f"weight shape {list(wv.shape)} does not match {c} input channels with group={group}")
    cg, og, kh, kw = wv.shape[0] // group, wv.shape[1], wv.shape[2], wv.shape[3]
    w_ir = wv.reshape(group, cg, og, kh, kw).transpose(0, 2, 1, 3, 4).reshape(group * og, cg, kh, kw)
    strides = _ints(n.attrs.get("strides", (1, 1)))
    dilations = _ints(n.attrs.get("dilations", (1, 1)))
    out_pad = _ints(n.attrs.get("output_padding", (0, 0)))
    if len(strides) != 2 or len(dilations) != 2 or len(out_pad) != 2:
        raise n.fail("strides, dilations and output_padding must describe 2 spatial axes")
    auto_pad = n.attrs.get("auto_pad", "NOTSET")
    target = _ints(n.attrs["output_shape"])[-2:] if "output_shape" in n.attrs else None
    if target is None and auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        target = (h * strides[0], wd * strides[1])
    if target is not None:
        pads_b, pads_e = [], []
        for i, (size, k) in enumerate(((h, kh), (wd, kw))):
            total = strides[i] * (size - 1) + out_pad[i] + (k - 1) * dilations[i] + 1 - target[i]
            if total < 0:  # a larger output_shape than the scatter covers: the end grows like output_padding
                out_pad = tuple(p - total if j == i else p for j, p in enumerate(out_pad))
                total = 0
            small = total // 2
            begin, end = (small, total - small) if auto_pad == "SAME_UPPER" else (total - small, small)
            pads_b.append(begin)
            pads_e.append(end)
        pads = (pads_b[0], pads_b[1], pads_e[0], pads_e[1])
    elif auto_pad in ("NOTSET", "VALID"):
        pads = _ints(n.attrs.get("pads", (0, 0, 0, 0))) if auto_pad == "NOTSET" else (0, 0, 0, 0)
    else:
        raise n.fail(f"unknown auto_pad '{auto_pad}'")
    if len(pads) != 4 or min(pads) < 0:
        raise n.fail(f"pads {list(pads)} must be 4 non-negative values")
    ins = [x, b.const(np.ascontiguousarray(w_ir), base=f"{w}_oihw")] + ([bias] if bias else [])
    attrs = {"strides": strides, "dilations": dilations, "pads": pads, "output_padding": tuple(out_pad),
             "group": group}
    b.emit("conv_transpose", ins, attrs, n.outputs[0], n.name)


_RESIZE_MODES = {"nearest": "nearest", "linear": "linear", "bilinear": "linear"}


@importer("Resize", "Upsample")
def import_resize(b: GraphBuilder, n: OnnxNode) -> None:
    """Resize of the two spatial axes of an NCHW tensor, from scales or sizes (opsets 7-22)."""
    x = n.inputs[0]
    shape = _spatial_2d(b, n, x)
    mode = _RESIZE_MODES.get(n.attrs.get("mode", "nearest"))
    if mode is None:
        raise n.fail(f"mode '{n.attrs.get('mode')}' is not supported (nearest, linear)")
    legacy = n.op_type == "Upsample" or n.opset < 11
    coord = "asymmetric" if legacy else n.attrs.get("coordinate_transformation_mode", "half_pixel")
    nearest_mode = "simple" if legacy else n.attrs.get("nearest_mode", "round_prefer_floor")
    if coord == "tf_crop_and_resize":
        raise n.fail("coordinate_transformation_mode 'tf_crop_and_resize' is not supported")
    if coord not in COORDINATE_MODES or nearest_mode not in NEAREST_MODES:
        raise n.fail(f"coordinate_transformation_mode '{coord}' / nearest_mode '{nearest_mode}' is not supported")
    if n.attrs.get("antialias", 0):
        raise n.fail("antialias is not supported")
    rank = len(shape)
    axes = tuple(_norm_axis(n, a, rank) for a in _ints(n.attrs["axes"])) if "axes" in n.attrs else tuple(range(rank))
    if n.op_type == "Upsample" and n.opset < 9:
        scales_v, sizes_v = np.asarray(n.attrs["scales"], np.float32), None
    elif legacy:
        scales_v, sizes_v = _const_input(b, n, 1, "scales"), None
    else:
        scales_v, sizes_v = _const_input(b, n, 2, "scales"), _const_input(b, n, 3, "sizes")
    full_scales = [1.0] * rank
    full_sizes = list(shape)
    if sizes_v is not None and sizes_v.size:
        if sizes_v.size != len(axes):
            raise n.fail(f"{sizes_v.size} sizes for {len(axes)} axes")
        sizes = _ints(sizes_v)
        policy = n.attrs.get("keep_aspect_ratio_policy", "stretch")
        if policy == "stretch":
            for a, s in zip(axes, sizes):
                full_sizes[a], full_scales[a] = s, s / shape[a]
        elif policy in ("not_larger", "not_smaller"):
            ratios = [s / shape[a] for a, s in zip(axes, sizes)]
            r = min(ratios) if policy == "not_larger" else max(ratios)
            for a in axes:
                full_sizes[a], full_scales[a] = int(round_half_away(r * shape[a])), r
        else:
            raise n.fail(f"keep_aspect_ratio_policy '{policy}' is not supported")
    elif scales_v is not None and scales_v.size:
        if scales_v.size != len(axes):
            raise n.fail(f"{scales_v.size} scales for {len(axes)} axes")
        for a, s in zip(axes, np.asarray(scales_v, np.float32).reshape(-1)):
            if not s > 0:
                raise n.fail(f"scale {float(s)} must be positive")
            full_scales[a], full_sizes[a] = float(s), int(np.floor(np.float32(shape[a]) * np.float32(s)))
    else:
        raise n.fail("needs scales or sizes")
    if tuple(full_sizes[:2]) != tuple(shape[:2]):
        raise n.fail(f"only the spatial axes may be resized, got output shape {full_sizes}")
    if min(full_sizes[2:]) < 1:
        raise n.fail(f"empty output shape {full_sizes}")
    attrs = {"mode": mode, "coordinate_transformation_mode": coord, "nearest_mode": nearest_mode,
             "scales": (float(full_scales[2]), float(full_scales[3])), "size": (full_sizes[2], full_sizes[3])}
    b.emit("resize", [x], attrs, n.outputs[0], n.name)
