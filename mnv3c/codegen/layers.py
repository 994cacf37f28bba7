"""Per-kernel code of one layer: the params struct initializer and the const arrays it points to.

Keyed by the kernel's params struct (conv1x1 and conv2d share one), so the kernel choice can swap
between kernels of the same family without touching this file. This is also where weights are
re-laid out for the kernels (OHWI, depthwise HWC) and where the input zero point is folded into
the bias (bias_folded[o] = bias[o] - zx * sum(w[o])), as `mnv3c_kernels.h` specifies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Union

import numpy as np

from mnv3c.codegen.cformat import CArray, comment_text, float_text
from mnv3c.codegen.layouts import LAYOUTS, OUT_STAGES
from mnv3c.codegen.names import CNames
from mnv3c.errors import UnsupportedModelError, shown
from mnv3c.ir.graph import Graph, Node
from mnv3c.plan.strides import axis_strides, gather_box
from mnv3c.quant.quantize import requant_zero_point

Fields = list[tuple[str, Union[str, "Fields"]]]  # designated initializer: field -> value or nested struct


@dataclass
class LayerCode:
    fields: Fields
    arrays: list[CArray] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # extra comment lines (weights, quantization)


class _Emitter:
    """Collects the arrays of one layer under unique C names derived from the node name."""

    def __init__(self, node: Node, graph: Graph, names: CNames, layout: str = "", out_stage: str = "") -> None:
        self.node, self.graph, self.names, self.a = node, graph, names, node.attrs
        self.layout = layout  # the kernel variant's weight re-layout (codegen/layouts.py), "" = none
        self.out_stage = out_stage  # its output-stage table in place of out_mult (layouts.OUT_STAGES), "" = none
        self.code = LayerCode([])

    def array(self, suffix: str, ctype: str, values: np.ndarray, comment: str) -> str:
        name = self.names(f"mnv3c_{self.node.name}_{suffix}")
        self.code.arrays.append(CArray(name, ctype, np.asarray(values), comment_text(f"{self.node.name}: {comment}")))
        return name

    def weights(self, values: np.ndarray, described: str, prefix: str = "") -> str:
        """The weights array in the layout the kernel reads: as documented, or re-laid out for a variant."""
        if not self.layout:
            return self.array(f"{prefix}weights", "int8_t", values, f"weights, {described}")
        laid = LAYOUTS[self.layout](values)
        return self.array(f"{prefix}weights", "int8_t", laid,
                          f"weights, {described} re-laid out as '{self.layout}' ({laid.size} bytes)")

    def const(self, i: int) -> np.ndarray:
        data = self.graph.tensors[self.node.inputs[i]].data
        assert data is not None
        return data

    def shape(self, i: int = 0) -> tuple[int, ...]:
        """Per-sample shape of runtime input ``i`` (-1: the output), batch axis dropped."""
        t = self.node.outputs[0] if i == -1 else self.node.inputs[i]
        return tuple(int(d) for d in self.graph.tensors[t].shape[1:])

    def requant(self, prefix: str = "", mult_key: str = "multiplier", shift_key: str = "shift",
                bias: np.ndarray | None = None) -> Fields:
        """The out_mult/out_shift fields, pointing at new per-channel arrays; for a kernel with an
        output-stage table (``bias``: the folded bias), out_mult points at that table instead."""
        m = np.asarray(self.a[mult_key], dtype=np.int64).reshape(-1)
        s = np.asarray(self.a[shift_key], dtype=np.int64).reshape(-1)
        if self.out_stage:
            assert bias is not None
            table = OUT_STAGES[self.out_stage](bias, m, s, requant_zero_point(self.a))
            mult = self.array(f"{prefix}out_table", "int32_t", table,
                              f"'{self.out_stage}' output-stage table in place of the multipliers ({table.size} words)")
            return [("out_mult", mult), ("out_shift", self.array(f"{prefix}out_shift", "int8_t", s,
                                                                 "requantization shifts, per channel"))]
        return [
            ("out_mult", self.array(f"{prefix}out_mult", "int32_t", m, "requantization multipliers, per channel")),
            ("out_shift", self.array(f"{prefix}out_shift", "int8_t", s, "requantization shifts, per channel")),
        ]

    def lut(self, key: str = "lut", prefix: str = "") -> str:
        table = self.a.get(key)
        if table is None:
            return "NULL"
        return self.array(f"{prefix}lut", "int8_t", np.asarray(table), "fused activation table, y = lut[t + 128]")


_FOLDED = "bias - input_zp * sum(w), per output channel"


def _folded_bias(w: np.ndarray, b: np.ndarray, zx: int) -> np.ndarray:
    """bias - zx * sum(w) per output channel (axis 0 of w)."""
    folded = b.astype(np.int64) - int(zx) * w.reshape(w.shape[0], -1).astype(np.int64).sum(axis=1)
    if folded.min() < -(1 << 31) or folded.max() >= 1 << 31:
        raise UnsupportedModelError("a folded bias does not fit int32")
    return folded


def _geometry(e: _Emitter, dilations: bool = True) -> Fields:
    a = e.a
    kh, kw = (int(v) for v in (a.get("kernel") or e.graph.tensors[e.node.inputs[1]].shape[2:] or (1, 1)))
    sh, sw = (int(v) for v in (a.get("strides") or (1, 1)))
    pt, pl = (int(v) for v in (a.get("pads") or (0, 0, 0, 0))[:2])
    f: Fields = [
        ("kernel_h", str(kh)), ("kernel_w", str(kw)),
        ("stride_h", str(sh)), ("stride_w", str(sw)),
        ("pad_top", str(pt)), ("pad_left", str(pl)),
    ]
    if dilations:
        dh, dw = (int(v) for v in (a.get("dilations") or (1, 1)))
        f += [("dilation_h", str(dh)), ("dilation_w", str(dw))]
    return f


def _conv2d(e: _Emitter) -> LayerCode:
    if e.node.op == "dense":  # a sequence [N, T, K]: T pixels of a 1x1 convolution, same bytes
        (t, k), m = e.shape(0), e.const(1).shape[0]
        (c, h, w), (o, oh, ow), a = (k, 1, t), (m, 1, t), e.a
        weights, bias = e.const(1).reshape(m, k, 1, 1), e.const(2)
    else:
        (c, h, w), (o, oh, ow), a = e.shape(0), e.shape(-1), e.a
        weights, bias = e.const(1), e.const(2)
    ohwi = weights.transpose(0, 2, 3, 1)
    e.code.fields = [
        ("in_h", str(h)), ("in_w", str(w)), ("in_c", str(c)),
        ("out_h", str(oh)), ("out_w", str(ow)), ("out_c", str(o)),
        *_geometry(e),
        ("input_zp", str(int(a["x_zero_point"]))), ("output_zp", str(requant_zero_point(a))),
        ("act_min", str(int(a["lo"]))), ("act_max", str(int(a["hi"]))),
        ("weights", e.weights(ohwi, f"OHWI {list(ohwi.shape)}")),
        ("bias_folded", e.array("bias", "int32_t", folded := _folded_bias(weights, bias, a["x_zero_point"]), _FOLDED)),
        *e.requant(bias=folded),
        ("lut", e.lut()),
    ]
    return e.code


def _depthwise_conv2d(e: _Emitter) -> LayerCode:
    (c, h, w), (o, oh, ow), a = e.shape(0), e.shape(-1), e.a
    weights, bias = e.const(1), e.const(2)
    if o % c:
        raise UnsupportedModelError(f"node {shown(e.node.name)}: depthwise output channels {o} not a multiple of {c}")
    hwc = weights[:, 0].transpose(1, 2, 0)
    e.code.fields = [
        ("in_h", str(h)), ("in_w", str(w)), ("in_c", str(c)),
        ("out_h", str(oh)), ("out_w", str(ow)),
        ("ch_mult", str(o // c)),
        *_geometry(e),
        ("input_zp", str(int(a["x_zero_point"]))), ("output_zp", str(requant_zero_point(a))),
        ("act_min", str(int(a["lo"]))), ("act_max", str(int(a["hi"]))),
        ("weights", e.weights(hwc, f"HWC {list(hwc.shape)}")),
        ("bias_folded", e.array("bias", "int32_t", folded := _folded_bias(weights, bias, a["x_zero_point"]), _FOLDED)),
        *e.requant(bias=folded),
        ("lut", e.lut()),
    ]
    return e.code


def _dense_fields(e: _Emitter, w: np.ndarray, b: np.ndarray, zx: int, zy: int, lo: int, hi: int, prefix: str,
                  mult_key: str, shift_key: str, lut_key: str) -> Fields:
    return [
        ("in_features", str(w.shape[1])), ("out_features", str(w.shape[0])),
        ("input_zp", str(zx)), ("output_zp", str(zy)),
        ("act_min", str(lo)), ("act_max", str(hi)),
        ("weights", e.weights(w, f"[out][in] {list(w.shape)}", prefix)),
        ("bias_folded", e.array(f"{prefix}bias", "int32_t", folded := _folded_bias(w, b, zx), _FOLDED)),
        *e.requant(prefix, mult_key, shift_key, bias=folded),
        ("lut", e.lut(lut_key, prefix)),
    ]


def _dense(e: _Emitter) -> LayerCode:
    a = e.a
    e.code.fields = _dense_fields(e, e.const(1), e.const(2), int(a["x_zero_point"]), requant_zero_point(a),
                                  int(a["lo"]), int(a["hi"]), "", "multiplier", "shift", "lut")
    return e.code


def _squeeze_excite(e: _Emitter) -> LayerCode:
    (c, h, w), a = e.shape(0), e.a
    fc1 = _dense_fields(e, e.const(1), e.const(2), int(a["pool_zero_point"]), int(a["fc1_zero_point"]),
                        int(a["fc1_lo"]), int(a["fc1_hi"]), "fc1_", "fc1_multiplier", "fc1_shift", "fc1_lut")
    fc2 = _dense_fields(e, e.const(3), e.const(4), int(a["fc1_zero_point"]), int(a["fc2_zero_point"]),
                        int(a["fc2_lo"]), int(a["fc2_hi"]), "fc2_", "fc2_multiplier", "fc2_shift", "fc2_lut")
    e.code.fields = [
        ("in_h", str(h)), ("in_w", str(w)), ("channels", str(c)),
        ("input_zp", str(int(a["x_zero_point"]))),
        ("pool_mult", str(int(a["pool_multiplier"]))), ("pool_shift", str(int(a["pool_shift"]))),
        ("fc1", fc1), ("fc2", fc2),
        ("gate_zp", str(int(a["gate_zero_point"]))),
        ("mul_mult", str(int(a["mul_multiplier"]))), ("mul_shift", str(int(a["mul_shift"]))),
        ("output_zp", str(int(a["y_zero_point"]))),
        ("act_min", str(int(a["lo"]))), ("act_max", str(int(a["hi"]))),
    ]
    e.code.notes = [
        f"pool s={float_text(a['pool_scale'])} zp={int(a['pool_zero_point'])}, "
        f"hidden s={float_text(a['fc1_scale'])} zp={int(a['fc1_zero_point'])}, "
        f"gate s={float_text(a['gate_scale'])} zp={int(a['gate_zero_point'])}"
    ]
    return e.code


def _add(e: _Emitter) -> LayerCode:
    a = e.a
    if int(a.get("left_shift", 20)) != 20:
        raise UnsupportedModelError(f"node {shown(e.node.name)}: add_s8 implements left_shift 20 only")
    e.code.fields = [
        ("size", str(int(np.prod(e.shape(-1))))),
        ("a_zp", str(int(a["a_zero_point"]))), ("b_zp", str(int(a["b_zero_point"]))),
        ("a_mult", str(int(a["a_multiplier"]))), ("a_shift", str(int(a["a_shift"]))),
        ("b_mult", str(int(a["b_multiplier"]))), ("b_shift", str(int(a["b_shift"]))),
        ("out_mult", str(int(a["multiplier"]))), ("out_shift", str(int(a["shift"]))),
        ("output_zp", str(requant_zero_point(a))),
        ("act_min", str(int(a["lo"]))), ("act_max", str(int(a["hi"]))),
        ("lut", e.lut()),
    ]
    return e.code


def _mul(e: _Emitter) -> LayerCode:
    """mul_s8 on NHWC: rows = pixels, cols = channels; a [C] gate is broadcast over the rows."""
    a = e.a
    out, b = e.shape(-1), e.shape(1)
    cols = out[0] if len(out) == 3 else int(np.prod(out))
    e.code.fields = [
        ("rows", str(int(np.prod(out)) // cols)), ("cols", str(cols)),
        ("b_broadcast", "1" if b != out else "0"),
        ("a_zp", str(int(a["a_zero_point"]))), ("b_zp", str(int(a["b_zero_point"]))),
        ("out_mult", str(int(a["multiplier"]))), ("out_shift", str(int(a["shift"]))),
        ("output_zp", str(int(a["y_zero_point"]))),
        ("act_min", str(int(a["lo"]))), ("act_max", str(int(a["hi"]))),
    ]
    return e.code


def _global_avg_pool(e: _Emitter) -> LayerCode:
    (c, h, w), a = e.shape(0), e.a
    e.code.fields = [
        ("in_h", str(h)), ("in_w", str(w)), ("channels", str(c)),
        ("input_zp", str(int(a["x_zero_point"]))), ("output_zp", str(int(a["y_zero_point"]))),
        ("out_mult", str(int(a["multiplier"]))), ("out_shift", str(int(a["shift"]))),
    ]
    return e.code


def _avg_pool(e: _Emitter) -> LayerCode:
    (c, h, w), (_, oh, ow), a = e.shape(0), e.shape(-1), e.a
    e.code.fields = [
        ("in_h", str(h)), ("in_w", str(w)), ("channels", str(c)),
        ("out_h", str(oh)), ("out_w", str(ow)),
        *_geometry(e, dilations=False),
        ("input_zp", str(int(a["x_zero_point"]))), ("output_zp", str(int(a["y_zero_point"]))),
        ("mult_by_count", e.array("mult_by_count", "int32_t", np.asarray(a["multiplier"]),
                                  "multiplier for a window of n valid taps, indexed by n")),
        ("shift_by_count", e.array("shift_by_count", "int8_t", np.asarray(a["shift"]),
                                   "shift for a window of n valid taps, indexed by n")),
    ]
    return e.code


def _max_pool(e: _Emitter) -> LayerCode:
    (c, h, w), (_, oh, ow) = e.shape(0), e.shape(-1)
    e.code.fields = [
        ("in_h", str(h)), ("in_w", str(w)), ("channels", str(c)),
        ("out_h", str(oh)), ("out_w", str(ow)),
        *_geometry(e),
    ]
    return e.code


def _lut(e: _Emitter) -> LayerCode:
    e.code.fields = [("size", str(int(np.prod(e.shape(-1))))), ("table", e.lut())]
    return e.code


def _conv_transpose(e: _Emitter) -> LayerCode:
    (c, h, w), (o, oh, ow), a = e.shape(0), e.shape(-1), e.a
    weights = e.const(1)
    ohwi = weights.transpose(0, 2, 3, 1)
    e.code.fields = [
        ("in_h", str(h)), ("in_w", str(w)), ("in_c", str(c)),
        ("out_h", str(oh)), ("out_w", str(ow)), ("out_c", str(o)),
        *_geometry(e),
        ("input_zp", str(int(a["x_zero_point"]))), ("output_zp", str(requant_zero_point(a))),
        ("act_min", str(int(a["lo"]))), ("act_max", str(int(a["hi"]))),
        ("weights", e.array("weights", "int8_t", ohwi, f"weights, OHWI {list(ohwi.shape)}")),
        ("bias", e.array("bias", "int32_t", e.const(2), "bias (not folded: the taps vary per pixel)")),
        *e.requant(),
        ("lut", e.lut()),
    ]
    return e.code


def _resize_shape(e: _Emitter) -> Fields:
    (c, h, w), (_, oh, ow) = e.shape(0), e.shape(-1)
    return [("in_h", str(h)), ("in_w", str(w)), ("channels", str(c)), ("out_h", str(oh)), ("out_w", str(ow))]


def _resize_nearest(e: _Emitter) -> LayerCode:
    e.code.fields = _resize_shape(e) + [
        (f"{axis}_index", e.array(f"{axis}_index", "int32_t", e.a[f"{axis}_index"], f"input {what} of each output {what}"))
        for axis, what in (("y", "row"), ("x", "column"))
    ]
    return e.code


def _resize_bilinear(e: _Emitter) -> LayerCode:
    e.code.fields = _resize_shape(e) + [
        (f"{axis}_{k}", e.array(f"{axis}_{k}", "int32_t", e.a[f"{axis}_{k}"], f"{what}, per output {axis}"))
        for axis in ("y", "x")
        for k, what in (("i0", "first tap"), ("i1", "second tap"), ("frac", "weight of the second tap in 1/1024"))
    ]
    return e.code


def storage_dims(shape: tuple[int, ...]) -> tuple[tuple[int, ...], dict[int, int]]:
    """The per-sample dims in C storage order (NHWC for rank 4), left-padded to 3 with ones, and
    where each logical axis (batch excluded) lands among them."""
    if len(shape) == 4:
        dims, where = (shape[2], shape[3], shape[1]), {1: 2, 2: 0, 3: 1}
    else:
        dims, where = tuple(shape[1:]), {a: a - 1 for a in range(1, len(shape))}
    if len(dims) > 3:
        raise UnsupportedModelError(f"tensors of rank {len(shape)} have no C layout")
    pad = 3 - len(dims)
    return (1,) * pad + tuple(int(d) for d in dims), {a: i + pad for a, i in where.items()}


def _concat(e: _Emitter) -> LayerCode:
    shapes = [e.graph.tensors[i].shape for i in e.node.inputs]
    dims, where = storage_dims(shapes[0])
    axis = where[int(e.a["axis"])]
    outer = int(np.prod(dims[:axis]))
    inner = [int(np.prod(storage_dims(s)[0][axis:])) for s in shapes]
    rq = e.a["requant"]
    e.code.fields = [
        ("num_inputs", str(len(shapes))), ("outer", str(outer)),
        ("inner", e.array("inner", "int32_t", np.array(inner), "bytes per outer step of each input")),
        ("requant", e.array("requant", "int8_t", np.array([r is not None for r in rq]),
                            "1: input requantized, 0: copied (same quantization as the output)")),
        ("input_zp", e.array("input_zp", "int32_t", np.array([r[0] if r else 0 for r in rq]), "input zero points")),
        ("mult", e.array("mult", "int32_t", np.array([r[1] if r else 0 for r in rq]), "requantization multipliers")),
        ("shift", e.array("shift", "int8_t", np.array([r[2] if r else 0 for r in rq]), "requantization shifts")),
        ("output_zp", str(int(e.a["y_zero_point"]))),
    ]
    return e.code


def _slice(e: _Emitter) -> LayerCode:
    dims, where = storage_dims(e.graph.tensors[e.node.inputs[0]].shape)
    out_dims, _ = storage_dims(e.graph.tensors[e.node.outputs[0]].shape)
    starts = [0, 0, 0]
    for start, axis in zip(e.a["starts"], e.a["axes"]):
        starts[where[int(axis)]] = int(start)
    e.code.fields = [
        *((f"in_d{i}", str(d)) for i, d in enumerate(dims)),
        *((f"start{i}", str(s)) for i, s in enumerate(starts)),
        *((f"out_d{i}", str(d)) for i, d in enumerate(out_dims)),
    ]
    return e.code


# --- 16x8 (int16 activations): zero points are 0, biases int64 and unfolded, tables int16[513] ----
def _lut16(e: _Emitter, key: str = "lut", prefix: str = "") -> str:
    table = e.a.get(key)
    if table is None:
        return "NULL"
    return e.array(f"{prefix}lut", "int16_t", np.asarray(table), "fused activation table, int16[513], interpolated")


def _hswish16(e: _Emitter) -> str:
    stage = e.a.get("hswish")
    if stage is None:
        return "NULL"
    return e.array("hswish", "int32_t", np.asarray(stage, np.int64),
                   "fused hard-swish {frac_bits, offset, width, mult, shift} (mnv3c_hswish16)")


def _conv2d_s16(e: _Emitter) -> LayerCode:
    if e.node.op == "dense":  # a sequence [N, T, K]: T pixels of a 1x1 convolution, as in `_conv2d`
        (t, k), m = e.shape(0), e.const(1).shape[0]
        (c, h, w), (o, oh, ow), a = (k, 1, t), (m, 1, t), e.a
        ohwi = e.const(1).reshape(m, 1, 1, k)
    else:
        (c, h, w), (o, oh, ow), a = e.shape(0), e.shape(-1), e.a
        ohwi = e.const(1).transpose(0, 2, 3, 1)
    e.code.fields = [
        ("in_h", str(h)), ("in_w", str(w)), ("in_c", str(c)),
        ("out_h", str(oh)), ("out_w", str(ow)), ("out_c", str(o)),
        *_geometry(e),
        ("act_min", str(int(a["lo"]))), ("act_max", str(int(a["hi"]))),
        ("weights", e.array("weights", "int8_t", ohwi, f"weights, OHWI {list(ohwi.shape)}")),
        ("bias", e.array("bias", "int64_t", e.const(2), "bias, per output channel")),
        *e.requant(),
        ("lut", _lut16(e)),
        ("hswish", _hswish16(e)),
    ]
    return e.code


def _depthwise_conv2d_s16(e: _Emitter) -> LayerCode:
    (c, h, w), (o, oh, ow), a = e.shape(0), e.shape(-1), e.a
    if o % c:
        raise UnsupportedModelError(f"node {shown(e.node.name)}: depthwise output channels {o} not a multiple of {c}")
    hwc = e.const(1)[:, 0].transpose(1, 2, 0)
    e.code.fields = [
        ("in_h", str(h)), ("in_w", str(w)), ("in_c", str(c)),
        ("out_h", str(oh)), ("out_w", str(ow)),
        ("ch_mult", str(o // c)),
        *_geometry(e),
        ("act_min", str(int(a["lo"]))), ("act_max", str(int(a["hi"]))),
        ("weights", e.array("weights", "int8_t", hwc, f"weights, HWC {list(hwc.shape)}")),
        ("bias", e.array("bias", "int64_t", e.const(2), "bias, per output channel")),
        *e.requant(),
        ("lut", _lut16(e)),
        ("hswish", _hswish16(e)),
    ]
    return e.code


def _dense_s16_fields(e: _Emitter, w: np.ndarray, b: np.ndarray, lo: int, hi: int, prefix: str, mult_key: str,
                      shift_key: str, lut_key: str) -> Fields:
    return [
        ("in_features", str(w.shape[1])), ("out_features", str(w.shape[0])),
        ("act_min", str(lo)), ("act_max", str(hi)),
        ("weights", e.array(f"{prefix}weights", "int8_t", w, f"weights, [out][in] {list(w.shape)}")),
        ("bias", e.array(f"{prefix}bias", "int64_t", b, "bias, per output feature")),
        *e.requant(prefix, mult_key, shift_key),
        ("lut", _lut16(e, lut_key, prefix)),
        ("hswish", _hswish16(e) if not prefix else "NULL"),  # a squeeze-excite's gate is a table
    ]


def _dense_s16(e: _Emitter) -> LayerCode:
    a = e.a
    e.code.fields = _dense_s16_fields(e, e.const(1), e.const(2), int(a["lo"]), int(a["hi"]), "", "multiplier",
                                      "shift", "lut")
    return e.code


def _squeeze_excite_s16(e: _Emitter) -> LayerCode:
    (c, h, w), a = e.shape(0), e.a
    fc1 = _dense_s16_fields(e, e.const(1), e.const(2), int(a["fc1_lo"]), int(a["fc1_hi"]), "fc1_", "fc1_multiplier",
                            "fc1_shift", "fc1_lut")
    fc2 = _dense_s16_fields(e, e.const(3), e.const(4), int(a["fc2_lo"]), int(a["fc2_hi"]), "fc2_", "fc2_multiplier",
                            "fc2_shift", "fc2_lut")
    e.code.fields = [
        ("in_h", str(h)), ("in_w", str(w)), ("channels", str(c)),
        ("pool_mult", str(int(a["pool_multiplier"]))), ("pool_shift", str(int(a["pool_shift"]))),
        ("fc1", fc1), ("fc2", fc2),
        ("mul_mult", str(int(a["mul_multiplier"]))), ("mul_shift", str(int(a["mul_shift"]))),
        ("act_min", str(int(a["lo"]))), ("act_max", str(int(a["hi"]))),
    ]
    e.code.notes = [f"pool s={float_text(a['pool_scale'])}, hidden s={float_text(a['fc1_scale'])}, "
                    f"gate s={float_text(a['gate_scale'])} (int16, zero points 0)"]
    return e.code


def _add_s16(e: _Emitter) -> LayerCode:
    a = e.a
    if int(a.get("left_shift", 15)) != 15:
        raise UnsupportedModelError(f"node {shown(e.node.name)}: add_s16 implements left_shift 15 only")
    e.code.fields = [
        ("size", str(int(np.prod(e.shape(-1))))),
        ("a_mult", str(int(a["a_multiplier"]))), ("a_shift", str(int(a["a_shift"]))),
        ("b_mult", str(int(a["b_multiplier"]))), ("b_shift", str(int(a["b_shift"]))),
        ("out_mult", str(int(a["multiplier"]))), ("out_shift", str(int(a["shift"]))),
        ("act_min", str(int(a["lo"]))), ("act_max", str(int(a["hi"]))),
        ("lut", _lut16(e)),
        ("hswish", _hswish16(e)),
    ]
    return e.code


def _lut_s16(e: _Emitter) -> LayerCode:
    e.code.fields = [("size", str(int(np.prod(e.shape(-1))))), ("table", _lut16(e))]
    return e.code


def _requantize(e: _Emitter) -> LayerCode:
    a = e.a
    e.code.fields = [
        ("size", str(int(np.prod(e.shape(-1))))),
        ("input_zp", str(int(a["x_zero_point"]))), ("output_zp", str(int(a["y_zero_point"]))),
        ("mult", str(int(a["multiplier"]))), ("shift", str(int(a["shift"]))),
    ]
    return e.code


def _row_fields(e: _Emitter, axis: int) -> Fields:
    """x[rows][size][inner] of the C layout, ``axis`` (logical) being the middle one."""
    dims, where = storage_dims(e.graph.tensors[e.node.outputs[0]].shape)
    at = where[axis]
    return [("rows", str(int(np.prod(dims[:at])))), ("size", str(dims[at])), ("inner", str(int(np.prod(dims[at + 1:]))))]


def _softmax(e: _Emitter) -> LayerCode:
    """Rows along the softmax axis: the channel axis is the last one in the C layout (NHWC)."""
    e.code.fields = [*_row_fields(e, int(e.a["axis"])),
                     ("multiplier", str(int(e.a["multiplier"]))), ("left_shift", str(int(e.a["left_shift"]))),
                     ("diff_min", str(int(e.a["diff_min"])))]
    int16 = e.graph.tensors[e.node.outputs[0]].dtype == "int16"
    e.code.notes.append("int16 softmax (16x8, gemmlowp exp): output scale 1/32768, zero point 0" if int16
                        else "int8 softmax (TFLite semantics): output scale 1/256, zero point -128")
    return e.code


def _layer_norm(e: _Emitter) -> LayerCode:
    a = e.a
    e.code.fields = [*_row_fields(e, len(e.graph.tensors[e.node.outputs[0]].shape) - 1),
                     ("eps", str(int(a["eps"]))), ("out_shift", str(int(a["out_shift"]))),
                     ("output_zp", str(int(a["y_zero_point"]))),
                     ("gamma", e.array("gamma", "int32_t", np.asarray(a["gamma"]),
                                       "round(gamma * sqrt(size) / s_y * 2^(out_shift - 24)), per channel")),
                     ("beta", e.array("beta", "int64_t", np.asarray(a["beta"]),
                                      "round(beta / s_y * 2^out_shift), per channel"))]
    e.code.notes.append("integer layer norm over the last axis (runtime_c/layer_norm_s8.c; 16x8: layer_norm_s16.c)")
    return e.code


def _transpose(e: _Emitter) -> LayerCode:
    box = gather_box(e.node, e.graph)
    assert box is not None  # plan/kernels.py chose transpose_s8 because it is one
    dims, strides = box
    e.code.fields = [*((f"d{i}", str(d)) for i, d in enumerate(dims)), *((f"s{i}", str(s)) for i, s in enumerate(strides))]
    return e.code


def _batch_matmul(e: _Emitter) -> LayerCode:
    """Strides of each operand's (batch, row, column) axes in its C layout (NHWC for 4-D)."""
    a = e.a
    shapes = [e.graph.tensors[t].shape for t in (*e.node.inputs, e.node.outputs[0])]
    (ab, ar, ad), (bb, bd, bc), (yb, yr, yc) = ([0, *axis_strides(s)] if len(s) == 3 else axis_strides(s)
                                               for s in shapes)
    y = shapes[2]
    e.code.fields = [
        ("batches", str(int(y[1]) if len(y) == 4 else 1)), ("rows", str(int(y[-2]))), ("cols", str(int(y[-1]))),
        ("depth", str(int(shapes[0][-1]))),
        ("a_batch_stride", str(ab)), ("a_row_stride", str(ar)), ("a_depth_stride", str(ad)),
        ("b_batch_stride", str(bb)), ("b_depth_stride", str(bd)), ("b_col_stride", str(bc)),
        ("y_batch_stride", str(yb)), ("y_row_stride", str(yr)), ("y_col_stride", str(yc)),
        ("a_zp", str(int(a["a_zero_point"]))), ("b_zp", str(int(a["b_zero_point"]))),
        ("out_mult", str(int(a["multiplier"]))), ("out_shift", str(int(a["shift"]))),
        ("output_zp", str(int(a["y_zero_point"]))),
        ("act_min", str(int(a["lo"]))), ("act_max", str(int(a["hi"]))),
    ]
    return e.code


_EMITTERS: dict[str, Callable[[_Emitter], LayerCode]] = {
    "mnv3c_conv2d_s16_params": _conv2d_s16,
    "mnv3c_depthwise_conv2d_s16_params": _depthwise_conv2d_s16,
    "mnv3c_dense_s16_params": _dense_s16,
    "mnv3c_squeeze_excite_s16_params": _squeeze_excite_s16,
    "mnv3c_add_s16_params": _add_s16,
    "mnv3c_lut_s16_params": _lut_s16,
    "mnv3c_requantize_params": _requantize,
    "mnv3c_conv2d_params": _conv2d,
    "mnv3c_depthwise_conv2d_params": _depthwise_conv2d,
    "mnv3c_dense_params": _dense,
    "mnv3c_squeeze_excite_params": _squeeze_excite,
    "mnv3c_add_params": _add,
    "mnv3c_mul_params": _mul,
    "mnv3c_global_avg_pool_params": _global_avg_pool,
    "mnv3c_avg_pool_params": _avg_pool,
    "mnv3c_max_pool_params": _max_pool,
    "mnv3c_lut_params": _lut,
    "mnv3c_conv_transpose_params": _conv_transpose,
    "mnv3c_resize_nearest_params": _resize_nearest,
    "mnv3c_resize_bilinear_params": _resize_bilinear,
    "mnv3c_concat_params": _concat,
    "mnv3c_slice_params": _slice,
    "mnv3c_softmax_params": _softmax,
    "mnv3c_layer_norm_params": _layer_norm,
    "mnv3c_transpose_params": _transpose,
    "mnv3c_batch_matmul_params": _batch_matmul,
}


def layer_code(params_type: str, node: Node, graph: Graph, names: CNames, layout: str = "",
               out_stage: str = "") -> LayerCode:
    return _EMITTERS[params_type](_Emitter(node, graph, names, layout, out_stage))
