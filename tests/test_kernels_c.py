"""The C kernels (mnv3c/runtime_c) are byte-identical to the numpy reference (mnv3c.quant.intops, and
mnv3c.quant.intops16 for the 16x8 kernels `*_s16` and the int8/int16 converters `requantize_*`).

Each kernel case is built once (numpy NCHW reference result + the NHWC/OHWI/HWC data the C API
takes) and run three ways: through ctypes on an -O2 shared library (hypothesis property tests),
inside a sanitizer-instrumented C driver generated from fixed-seed cases (ASan in a ctypes-loaded
.so is awkward), and cross-compiled for Cortex-M to check the freestanding, float-free build.
"""

from __future__ import annotations

import ctypes
import re
import shutil
import subprocess
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mnv3c
from mnv3c.quant import intops as q
from mnv3c.quant import intops16 as q16
from mnv3c.quant.batch_matmul import batch_matmul_s8, batch_matmul_s16
from mnv3c.quant.layer_norm import MAX_ROW16, layer_norm_params, layer_norm_s8, layer_norm_s16
from mnv3c.quant.softmax import softmax_params, softmax_s8, softmax_s16

RUNTIME = Path(mnv3c.__file__).parent / "runtime_c"
SOURCES = sorted(RUNTIME.glob("*.c"))
STRICT = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic"]

Pick = Callable[[Sequence[Any]], Any]

# --- ctypes mirror of mnv3c_kernels.h (checked field by field against offsetof) -------------------

I32, I64, P8, P16, P32, P64 = "i32", "i64", "p8", "p16", "p32", "p64"
STRUCTS: dict[str, list[tuple[str, str]]] = {
    "conv2d": [(f, I32) for f in "in_h in_w in_c out_h out_w out_c kernel_h kernel_w stride_h stride_w "
               "pad_top pad_left dilation_h dilation_w input_zp output_zp act_min act_max".split()]
    + [("weights", P8), ("bias_folded", P32), ("out_mult", P32), ("out_shift", P8), ("lut", P8)],
    "depthwise_conv2d": [(f, I32) for f in "in_h in_w in_c out_h out_w ch_mult kernel_h kernel_w stride_h "
                         "stride_w pad_top pad_left dilation_h dilation_w input_zp output_zp act_min act_max".split()]
    + [("weights", P8), ("bias_folded", P32), ("out_mult", P32), ("out_shift", P8), ("lut", P8)],
    "dense": [(f, I32) for f in "in_features out_features input_zp output_zp act_min act_max".split()]
    + [("weights", P8), ("bias_folded", P32), ("out_mult", P32), ("out_shift", P8), ("lut", P8)],
    "add": [(f, I32) for f in "size a_zp b_zp a_mult a_shift b_mult b_shift out_mult out_shift output_zp "
            "act_min act_max".split()] + [("lut", P8)],
    "mul": [(f, I32) for f in "rows cols b_broadcast a_zp b_zp out_mult out_shift output_zp act_min act_max".split()],
    "global_avg_pool": [(f, I32) for f in "in_h in_w channels input_zp output_zp out_mult out_shift".split()],
    "avg_pool": [(f, I32) for f in "in_h in_w channels out_h out_w kernel_h kernel_w stride_h stride_w "
                 "pad_top pad_left input_zp output_zp".split()] + [("mult_by_count", P32), ("shift_by_count", P8)],
    "max_pool": [(f, I32) for f in "in_h in_w channels out_h out_w kernel_h kernel_w stride_h stride_w "
                 "pad_top pad_left dilation_h dilation_w".split()],
    "lut": [("size", I32), ("table", P8)],
    "resize_nearest": [(f, I32) for f in "in_h in_w channels out_h out_w".split()] + [("y_index", P32), ("x_index", P32)],
    "resize_bilinear": [(f, I32) for f in "in_h in_w channels out_h out_w".split()]
    + [(f, P32) for f in "y_i0 y_i1 y_frac x_i0 x_i1 x_frac".split()],
    "conv_transpose": [(f, I32) for f in "in_h in_w in_c out_h out_w out_c kernel_h kernel_w stride_h stride_w "
                       "pad_top pad_left dilation_h dilation_w input_zp output_zp act_min act_max".split()]
    + [("weights", P8), ("bias", P32), ("out_mult", P32), ("out_shift", P8), ("lut", P8)],
    "concat": [("num_inputs", I32), ("outer", I32), ("inner", P32), ("requant", P8), ("input_zp", P32),
               ("mult", P32), ("shift", P8), ("output_zp", I32)],
    "slice": [(f, I32) for f in "in_d0 in_d1 in_d2 start0 start1 start2 out_d0 out_d1 out_d2".split()],
    "squeeze_excite": [(f, I32) for f in "in_h in_w channels input_zp pool_mult pool_shift".split()]
    + [("fc1", "dense"), ("fc2", "dense")]
    + [(f, I32) for f in "gate_zp mul_mult mul_shift output_zp act_min act_max".split()],
    # mnv3c_kernels_s16.h
    "conv2d_s16": [(f, I32) for f in "in_h in_w in_c out_h out_w out_c kernel_h kernel_w stride_h stride_w "
                   "pad_top pad_left dilation_h dilation_w act_min act_max".split()]
    + [("weights", P8), ("bias", P64), ("out_mult", P32), ("out_shift", P8), ("lut", P16), ("hswish", P32)],
    "depthwise_conv2d_s16": [(f, I32) for f in "in_h in_w in_c out_h out_w ch_mult kernel_h kernel_w stride_h "
                             "stride_w pad_top pad_left dilation_h dilation_w act_min act_max".split()]
    + [("weights", P8), ("bias", P64), ("out_mult", P32), ("out_shift", P8), ("lut", P16), ("hswish", P32)],
    "dense_s16": [(f, I32) for f in "in_features out_features act_min act_max".split()]
    + [("weights", P8), ("bias", P64), ("out_mult", P32), ("out_shift", P8), ("lut", P16), ("hswish", P32)],
    "add_s16": [(f, I32) for f in "size a_mult a_shift b_mult b_shift out_mult out_shift act_min act_max".split()]
    + [("lut", P16), ("hswish", P32)],
    "squeeze_excite_s16": [(f, I32) for f in "in_h in_w channels pool_mult pool_shift".split()]
    + [("fc1", "dense_s16"), ("fc2", "dense_s16")] + [(f, I32) for f in "mul_mult mul_shift act_min act_max".split()],
    "lut_s16": [("size", I32), ("table", P16)],
    "requantize": [(f, I32) for f in "size input_zp output_zp mult shift".split()],
    "softmax": [(f, I32) for f in "rows size inner multiplier left_shift diff_min".split()],
    "transpose": [(f, I32) for f in "d0 d1 d2 d3 s0 s1 s2 s3".split()],
    "batch_matmul": [(f, I32) for f in "batches rows cols depth a_batch_stride a_row_stride a_depth_stride "
                     "b_batch_stride b_depth_stride b_col_stride y_batch_stride y_row_stride y_col_stride a_zp b_zp "
                     "out_mult out_shift output_zp act_min act_max".split()],
    "layer_norm": [(f, I32) for f in "rows size inner".split()] + [("eps", I64)]
    + [(f, I32) for f in "out_shift output_zp".split()] + [("gamma", P32), ("beta", P64)],
}
CTYPE = {I32: ctypes.c_int32, I64: ctypes.c_int64, P8: ctypes.POINTER(ctypes.c_int8), P16: ctypes.POINTER(ctypes.c_int16),
         P32: ctypes.POINTER(ctypes.c_int32), P64: ctypes.POINTER(ctypes.c_int64)}
NP_TYPE = {P8: np.int8, P16: np.int16, P32: np.int32, P64: np.int64}
C_TYPE = {P8: "int8_t", P16: "int16_t", P32: "int32_t", P64: "int64_t"}
CLASSES: dict[str, type[ctypes.Structure]] = {}
for _name, _fields in STRUCTS.items():
    CLASSES[_name] = type(_name, (ctypes.Structure,), {"_fields_": [(f, CTYPE.get(k) or CLASSES[k]) for f, k in _fields]})


@dataclass
class Case:
    """One kernel call: C params (ints, arrays for pointers, dicts for nested structs), NHWC data."""

    kernel: str
    struct: str
    params: dict[str, Any]
    inputs: list[np.ndarray]
    expected: np.ndarray

    @property
    def input_array(self) -> bool:
        """concat_s8 and concat_s16 take their inputs as one array of pointers."""
        return self.kernel in ("concat_s8", "concat_s16")

    @property
    def in_place_ok(self) -> bool:
        return self.kernel in ("add_s8", "mul_s8", "lut_s8", "squeeze_excite_s8", "add_s16", "mul_s16", "lut_s16",
                               "squeeze_excite_s16")


# --- case builders: structure from `pick` (hypothesis-shrinkable), data from a seeded rng -----------

CHANNELS = [1, 3, 4, 7, 8, 16, 17, 33]


def _zp(pick: Pick, rng: np.random.Generator) -> int:
    return pick([-128, 127, int(rng.integers(-128, 128)), int(rng.integers(-128, 128))])


def _requant(pick: Pick, rng: np.random.Generator, n: int, acc_bound: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel (mult, shift): mostly scaling outputs into int8 range, sometimes at the extremes."""
    max_shift = min(30, 31 - int(acc_bound).bit_length())  # x · 2^shift must fit int32
    centre = 8 - int(acc_bound).bit_length()
    mult = rng.integers(2**30, 2**31, n)
    shift = np.clip(centre + rng.integers(-1, 6, n), -31, max_shift)
    mode = pick(["typical", "power_of_two", "extreme"])
    if mode == "power_of_two":  # M = 2^30 makes exact rounding ties frequent
        mult[:] = 2**30
    if mode == "extreme":
        mult = rng.choice([0, 2**30, 2**31 - 1, int(mult[0])], n)
        shift = rng.choice([-31, max_shift, int(shift[0])], n)
    return mult.astype(np.int32), shift.astype(np.int8)


def _activation(pick: Pick, rng: np.random.Generator, zy: int) -> tuple[int, int, np.ndarray | None]:
    kind = pick(["none", "relu", "relu6", "lut"])
    if kind == "relu":
        return zy, 127, None
    if kind == "relu6":
        return zy, min(127, zy + int(rng.integers(0, 100))), None
    if kind == "lut":
        return -128, 127, rng.integers(-128, 128, 256).astype(np.int8)
    return -128, 127, None


def _weights(pick: Pick, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    kind = pick(["random", "extreme", "tiny"])
    if kind == "extreme":
        return rng.choice(np.array([-127, 127]), shape).astype(np.int8)
    if kind == "tiny":  # small accumulators: small right shifts, frequent rounding ties
        return rng.integers(-2, 3, shape).astype(np.int8)
    return rng.integers(-127, 128, shape).astype(np.int8)


def _bias(pick: Pick, rng: np.random.Generator, abs_w_sums: np.ndarray) -> np.ndarray:
    """int32 bias within the quantizer's guarantee Σ|w|·255 + |bias| < 2^31."""
    limit = pick([0, 2**10, 2**20, 2**31 - 1 - 255 * int(abs_w_sums.max())])
    return rng.integers(-limit, limit + 1, abs_w_sums.size).astype(np.int64)


def _out(size: int, k: int, stride: int, p0: int, p1: int, dil: int) -> int:
    return (size + p0 + p1 - dil * (k - 1) - 1) // stride + 1


def _window(pick: Pick, kernels: Sequence[tuple[int, int]], dilate: bool) -> dict[str, Any]:
    kh, kw = pick(kernels)
    sh, sw = pick([(1, 1), (2, 2), (2, 1), (1, 2)])
    dh, dw = pick([(1, 1), (2, 2), (1, 2)]) if dilate else (1, 1)
    pads = (pick(range(kh)), pick(range(kw)), pick(range(kh)), pick(range(kw)))  # top, left, bottom, right
    h = max(pick(range(1, 10)), dh * (kh - 1) + 1 - pads[0] - pads[2])
    w = max(pick(range(1, 10)), dw * (kw - 1) + 1 - pads[1] - pads[3])
    return dict(kernel=(kh, kw), strides=(sh, sw), dilations=(dh, dw), pads=pads, h=h, w=w,
                oh=_out(h, kh, sh, pads[0], pads[2], dh), ow=_out(w, kw, sw, pads[1], pads[3], dw))


def _geometry(g: dict[str, Any], with_dilation: bool = True) -> dict[str, int]:
    d = dict(in_h=g["h"], in_w=g["w"], out_h=g["oh"], out_w=g["ow"], kernel_h=g["kernel"][0],
             kernel_w=g["kernel"][1], stride_h=g["strides"][0], stride_w=g["strides"][1],
             pad_top=g["pads"][0], pad_left=g["pads"][1])
    if with_dilation:
        d.update(dilation_h=g["dilations"][0], dilation_w=g["dilations"][1])
    return d


def nhwc(x: np.ndarray) -> np.ndarray:
    """[1,C,H,W] -> [H,W,C]."""
    return np.ascontiguousarray(x[0].transpose(1, 2, 0))


def conv_case(pick: Pick, rng: np.random.Generator, pointwise: bool = False) -> Case:
    c, o = pick(CHANNELS), pick(CHANNELS)
    if pointwise:
        h, w = pick(range(1, 8)), pick(range(1, 8))
        g = dict(kernel=(1, 1), strides=(1, 1), dilations=(1, 1), pads=(0, 0, 0, 0), h=h, w=w, oh=h, ow=w)
    else:
        g = _window(pick, [(1, 1), (3, 3), (5, 5), (3, 1)], dilate=True)
    x = rng.integers(-128, 128, (1, c, g["h"], g["w"])).astype(np.int8)
    wt = _weights(pick, rng, (o, c) + g["kernel"])
    abs_sums = np.abs(wt.astype(np.int64)).sum(axis=(1, 2, 3))
    bias = _bias(pick, rng, abs_sums)
    zx, zy = _zp(pick, rng), _zp(pick, rng)
    mult, shift = _requant(pick, rng, o, int((abs_sums * 255 + np.abs(bias)).max()))
    lo, hi, lut = _activation(pick, rng, zy)
    y = q.conv2d(x, wt, bias, zx, zy, mult, shift, g["strides"], g["pads"], g["dilations"], lo, hi, lut)
    params = dict(_geometry(g), in_c=c, out_c=o, input_zp=zx, output_zp=zy, act_min=lo, act_max=hi,
                  weights=wt.transpose(0, 2, 3, 1), bias_folded=bias - zx * wt.astype(np.int64).sum(axis=(1, 2, 3)),
                  out_mult=mult, out_shift=shift, lut=lut)
    return Case("conv1x1_s8" if pointwise else "conv2d_s8", "conv2d", params, [nhwc(x)], nhwc(y))


def depthwise_case(pick: Pick, rng: np.random.Generator) -> Case:
    c, m = pick(CHANNELS), pick([1, 2])
    g = _window(pick, [(3, 3), (5, 5), (1, 1), (3, 1), (2, 2)], dilate=True)  # odd and even tap counts
    x = rng.integers(-128, 128, (1, c, g["h"], g["w"])).astype(np.int8)
    wt = _weights(pick, rng, (c * m, 1) + g["kernel"])
    abs_sums = np.abs(wt.astype(np.int64)).sum(axis=(1, 2, 3))
    bias = _bias(pick, rng, abs_sums)
    zx, zy = _zp(pick, rng), _zp(pick, rng)
    mult, shift = _requant(pick, rng, c * m, int((abs_sums * 255 + np.abs(bias)).max()))
    lo, hi, lut = _activation(pick, rng, zy)
    y = q.depthwise_conv2d(x, wt, bias, zx, zy, mult, shift, g["strides"], g["pads"], g["dilations"], lo, hi, lut)
    params = dict(_geometry(g), in_c=c, ch_mult=m, input_zp=zx, output_zp=zy, act_min=lo, act_max=hi,
                  weights=wt[:, 0].transpose(1, 2, 0), bias_folded=bias - zx * wt.astype(np.int64).sum(axis=(1, 2, 3)),
                  out_mult=mult, out_shift=shift, lut=lut)
    return Case("depthwise_conv2d_s8", "depthwise_conv2d", params, [nhwc(x)], nhwc(y))


def _dense_layer(pick: Pick, rng: np.random.Generator, k: int, n: int, zx: int) -> tuple[q.DenseQ, dict[str, Any]]:
    wt = _weights(pick, rng, (n, k))
    abs_sums = np.abs(wt.astype(np.int64)).sum(axis=1)
    bias = _bias(pick, rng, abs_sums)
    zy = _zp(pick, rng)
    mult, shift = _requant(pick, rng, n, int((abs_sums * 255 + np.abs(bias)).max()))
    lo, hi, lut = _activation(pick, rng, zy)
    params = dict(in_features=k, out_features=n, input_zp=zx, output_zp=zy, act_min=lo, act_max=hi, weights=wt,
                  bias_folded=bias - zx * wt.astype(np.int64).sum(axis=1), out_mult=mult, out_shift=shift, lut=lut)
    return q.DenseQ(wt, bias, zy, mult, shift, lo, hi, lut), params


def dense_case(pick: Pick, rng: np.random.Generator) -> Case:
    k, n, zx = pick(CHANNELS + [100]), pick(CHANNELS), _zp(pick, rng)
    x = rng.integers(-128, 128, (1, k)).astype(np.int8)
    d, params = _dense_layer(pick, rng, k, n, zx)
    y = q.dense(x, d.w, d.bias, zx, d.zy, d.multiplier, d.shift, d.lo, d.hi, d.lut)
    return Case("dense_s8", "dense", params, [x[0]], y[0])


def _scale(rng: np.random.Generator) -> float:
    return float(2.0 ** rng.uniform(-10, 0))


def add_case(pick: Pick, rng: np.random.Generator) -> Case:
    size = pick([1, 3, 16, 17, 100])
    a, b = (rng.integers(-128, 128, size).astype(np.int8) for _ in range(2))
    za, zb, zy = _zp(pick, rng), _zp(pick, rng), _zp(pick, rng)
    sa = _scale(rng)
    sb = pick([sa, _scale(rng)])
    p = q.add_params(sa, sb, pick([sa, _scale(rng)]))
    lo, hi, lut = _activation(pick, rng, zy)
    y = q.add(a, za, b, zb, p, zy, lo, hi, lut)
    params = dict(size=size, a_zp=za, b_zp=zb, a_mult=p.ma, a_shift=p.sa, b_mult=p.mb, b_shift=p.sb,
                  out_mult=p.my, out_shift=p.sy, output_zp=zy, act_min=lo, act_max=hi, lut=lut)
    return Case("add_s8", "add", params, [a, b], y)


def mul_case(pick: Pick, rng: np.random.Generator) -> Case:
    rows, cols, broadcast = pick([1, 4, 9]), pick(CHANNELS), pick([0, 1])
    a = rng.integers(-128, 128, (rows, cols)).astype(np.int8)
    b = rng.integers(-128, 128, (1, cols) if broadcast else (rows, cols)).astype(np.int8)
    za, zb, zy = _zp(pick, rng), _zp(pick, rng), _zp(pick, rng)
    mult, shift = (int(v[0]) for v in _requant(pick, rng, 1, 256 * 256))
    shift = pick([shift, -1, -21, -22, -31, 0, 14])  # the one-MULH output stage's ends and the general one
    lo, hi, _ = _activation(pick, rng, zy)
    y = q.mul(a, za, b, zb, mult, shift, zy, lo, hi)
    params = dict(rows=rows, cols=cols, b_broadcast=broadcast, a_zp=za, b_zp=zb, out_mult=mult, out_shift=shift,
                  output_zp=zy, act_min=lo, act_max=hi)
    return Case("mul_s8", "mul", params, [a, b[0] if broadcast else b], y)


def global_avg_pool_case(pick: Pick, rng: np.random.Generator) -> Case:
    c, h, w = pick(CHANNELS), pick([1, 2, 7]), pick([1, 3, 7])
    x = rng.integers(-128, 128, (1, c, h, w)).astype(np.int8)
    zx, zy = _zp(pick, rng), _zp(pick, rng)
    if pick(["scales", "raw"]) == "scales":
        mult, shift = q.quantize_multiplier(_scale(rng) / (_scale(rng) * h * w))
    else:
        mult, shift = (int(v[0]) for v in _requant(pick, rng, 1, 255 * h * w))
    y = q.global_avg_pool(x, zx, zy, mult, shift)
    params = dict(in_h=h, in_w=w, channels=c, input_zp=zx, output_zp=zy, out_mult=mult, out_shift=shift)
    return Case("global_avg_pool_s8", "global_avg_pool", params, [nhwc(x)], y[0])


def avg_pool_case(pick: Pick, rng: np.random.Generator) -> Case:
    c = pick(CHANNELS)
    g = _window(pick, [(2, 2), (3, 3), (5, 5), (3, 1)], dilate=False)
    x = rng.integers(-128, 128, (1, c, g["h"], g["w"])).astype(np.int8)
    zx, zy = _zp(pick, rng), _zp(pick, rng)
    sx = _scale(rng)
    mt, stbl = q.avg_pool_multipliers(sx, pick([sx, _scale(rng)]), g["kernel"])
    y = q.avg_pool(x, zx, zy, mt, stbl, g["kernel"], g["strides"], g["pads"])
    params = dict(_geometry(g, with_dilation=False), channels=c, input_zp=zx, output_zp=zy,
                  mult_by_count=mt, shift_by_count=stbl)
    return Case("avg_pool_s8", "avg_pool", params, [nhwc(x)], nhwc(y))


def max_pool_case(pick: Pick, rng: np.random.Generator) -> Case:
    c = pick(CHANNELS)
    g = _window(pick, [(2, 2), (3, 3), (5, 5), (1, 3)], dilate=True)
    x = rng.integers(-128, pick([-127, 128]), (1, c, g["h"], g["w"])).astype(np.int8)  # sometimes all -128
    y = q.max_pool(x, g["kernel"], g["strides"], g["pads"], g["dilations"])
    return Case("max_pool_s8", "max_pool", dict(_geometry(g), channels=c), [nhwc(x)], nhwc(y))


def lut_case(pick: Pick, rng: np.random.Generator) -> Case:
    x = rng.integers(-128, 128, pick([1, 7, 300])).astype(np.int8)
    table = rng.integers(-128, 128, 256).astype(np.int8)
    return Case("lut_s8", "lut", dict(size=x.size, table=table), [x], q.lut(x, table))


def squeeze_excite_case(pick: Pick, rng: np.random.Generator, heights: tuple[int, ...] = (1, 3, 5),
                        widths: tuple[int, ...] = (1, 2, 4)) -> Case:
    c, r, h, w = pick(CHANNELS), pick([1, 2, 4, 8]), pick(heights), pick(widths)
    x = rng.integers(-128, 128, (1, c, h, w)).astype(np.int8)
    zx, pool_zp, gate_zp, zy = (_zp(pick, rng) for _ in range(4))
    pool_m, pool_s = q.quantize_multiplier(_scale(rng) / (_scale(rng) * h * w))
    fc1, p1 = _dense_layer(pick, rng, c, r, pool_zp)
    fc2, p2 = _dense_layer(pick, rng, r, c, fc1.zy)
    mul_m, mul_s = (int(v[0]) for v in _requant(pick, rng, 1, 256 * 256))
    lo, hi, _ = _activation(pick, rng, zy)
    y = q.squeeze_excite(x, zx, pool_zp, pool_m, pool_s, fc1, fc2, gate_zp, mul_m, mul_s, zy, lo, hi)
    params = dict(in_h=h, in_w=w, channels=c, input_zp=zx, pool_mult=pool_m, pool_shift=pool_s, fc1=p1, fc2=p2,
                  gate_zp=gate_zp, mul_mult=mul_m, mul_shift=mul_s, output_zp=zy, act_min=lo, act_max=hi)
    return Case("squeeze_excite_s8", "squeeze_excite", params, [nhwc(x)], nhwc(y))


def _resize_shape(pick: Pick) -> tuple[int, int, int, int, int]:
    c, h, w = pick(CHANNELS), pick(range(1, 7)), pick(range(1, 7))
    return c, h, w, pick([1, 2 * h, 3 * h, max(1, h // 2), h + 1]), pick([1, 2 * w, 4 * w, max(1, w // 2), w + 3])


def resize_nearest_case(pick: Pick, rng: np.random.Generator) -> Case:
    from mnv3c.reference.resize import COORDINATE_MODES, NEAREST_MODES, nearest_indices
    c, h, w, oh, ow = _resize_shape(pick)
    mode, nearest = pick(COORDINATE_MODES), pick(NEAREST_MODES)
    rows, cols = (nearest_indices(o, i, o / i, mode, nearest).astype(np.int32) for o, i in ((oh, h), (ow, w)))
    x = rng.integers(-128, 128, (1, c, h, w)).astype(np.int8)
    params = dict(in_h=h, in_w=w, channels=c, out_h=oh, out_w=ow, y_index=rows, x_index=cols)
    return Case("resize_nearest_s8", "resize_nearest", params, [nhwc(x)], nhwc(q.resize_nearest(x, rows, cols)))


def resize_bilinear_case(pick: Pick, rng: np.random.Generator) -> Case:
    c, h, w, oh, ow = _resize_shape(pick)
    align, half = pick([(True, False), (False, True), (False, False)])
    taps = [q.bilinear_taps(o, i, q.tflite_bilinear_coords(o, i, align, half)) for o, i in ((oh, h), (ow, w))]
    x = rng.integers(pick([-128, 100]), 128, (1, c, h, w)).astype(np.int8)
    params = dict(in_h=h, in_w=w, channels=c, out_h=oh, out_w=ow,
                  **{f"{a}_{k}": v for a, t in zip("yx", taps) for k, v in zip(("i0", "i1", "frac"), t)})
    return Case("resize_bilinear_s8", "resize_bilinear", params, [nhwc(x)], nhwc(q.resize_bilinear(x, *taps)))


def conv_transpose_case(pick: Pick, rng: np.random.Generator) -> Case:
    c, o = pick(CHANNELS[:6]), pick(CHANNELS[:6])
    kh, kw = pick([(2, 2), (3, 3), (4, 4), (1, 1), (3, 2)])
    (sh, sw), (dh, dw) = pick([(2, 2), (1, 1), (3, 2)]), pick([(1, 1), (2, 1)])
    h, w = pick(range(1, 6)), pick(range(1, 6))
    pads = (pick(range(kh)), pick(range(kw)), pick(range(kh)), pick(range(kw)))
    oph, opw = pick(range(sh)), pick(range(sw))
    oh = max(1, sh * (h - 1) + oph + dh * (kh - 1) + 1 - pads[0] - pads[2])
    ow = max(1, sw * (w - 1) + opw + dw * (kw - 1) + 1 - pads[1] - pads[3])
    x = rng.integers(-128, 128, (1, c, h, w)).astype(np.int8)
    wt = _weights(pick, rng, (o, c, kh, kw))
    abs_sums = np.abs(wt.astype(np.int64)).sum(axis=(1, 2, 3))
    bias = _bias(pick, rng, abs_sums)
    zx, zy = _zp(pick, rng), _zp(pick, rng)
    mult, shift = _requant(pick, rng, o, int((abs_sums * 255 + np.abs(bias)).max()))
    lo, hi, lut = _activation(pick, rng, zy)
    y = q.conv_transpose(x, wt, bias, zx, zy, mult, shift, (sh, sw), pads, (dh, dw), (oh, ow), lo, hi, lut)
    params = dict(in_h=h, in_w=w, in_c=c, out_h=oh, out_w=ow, out_c=o, kernel_h=kh, kernel_w=kw, stride_h=sh,
                  stride_w=sw, pad_top=pads[0], pad_left=pads[1], dilation_h=dh, dilation_w=dw, input_zp=zx,
                  output_zp=zy, act_min=lo, act_max=hi, weights=wt.transpose(0, 2, 3, 1), bias=bias,
                  out_mult=mult, out_shift=shift, lut=lut)
    return Case("conv_transpose_s8", "conv_transpose", params, [nhwc(x)], nhwc(y))


def concat_case(pick: Pick, rng: np.random.Generator) -> Case:
    outer, n_in, zy = pick([1, 3, 12]), pick([1, 2, 3, 5]), _zp(pick, rng)
    inner = [pick([1, 4, 7, 16]) for _ in range(n_in)]
    xs = [rng.integers(-128, 128, (outer, k)).astype(np.int8) for k in inner]
    requant = [None if pick([True, False]) else (_zp(pick, rng), *q.quantize_multiplier(_scale(rng) / _scale(rng) / 4))
               for _ in range(n_in)]
    y = q.concat(xs, 1, requant, zy)
    params = dict(num_inputs=n_in, outer=outer, inner=np.array(inner), requant=np.array([r is not None for r in requant]),
                  input_zp=np.array([r[0] if r else 0 for r in requant]), mult=np.array([r[1] if r else 0 for r in requant]),
                  shift=np.array([r[2] if r else 0 for r in requant]), output_zp=zy)
    return Case("concat_s8", "concat", params, xs, y)


def slice_case(pick: Pick, rng: np.random.Generator) -> Case:
    dims = [pick([1, 3, 5]), pick([1, 2, 6]), pick(CHANNELS)]
    starts = [pick(range(d)) for d in dims]
    sizes = [pick(range(1, d - s + 1)) for d, s in zip(dims, starts)]
    x = rng.integers(-128, 128, dims).astype(np.int8)
    y = x[tuple(slice(s, s + n) for s, n in zip(starts, sizes))]
    params = dict(in_d0=dims[0], in_d1=dims[1], in_d2=dims[2], start0=starts[0], start1=starts[1], start2=starts[2],
                  out_d0=sizes[0], out_d1=sizes[1], out_d2=sizes[2])
    return Case("slice_s8", "slice", params, [x], np.ascontiguousarray(y))
# --- 16x8 cases (int16 activations, zero points 0, int64 bias; intops16 is the reference) -----------


def _x16(pick: Pick, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    kind = pick(["random", "extreme", "small"])
    if kind == "extreme":
        return rng.choice(np.array([-32768, 32767]), shape).astype(np.int16)
    if kind == "small":
        return rng.integers(-300, 301, shape).astype(np.int16)
    return rng.integers(-32768, 32768, shape).astype(np.int16)


def _requant16(pick: Pick, rng: np.random.Generator, n: int, acc_bound: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel (mult, shift), shift in [-31, 7], scaling the accumulator into int16 range mostly;
    mbqm64's result stays an int32 (acc_bound · 2^shift < 2^31), the quantizer's guarantee."""
    bits = int(acc_bound).bit_length()
    max_shift = min(7, 30 - bits)
    mult = rng.integers(2**30, 2**31, n)
    shift = np.clip(15 - bits + rng.integers(-1, 4, n), -31, max_shift)
    mode = pick(["typical", "power_of_two", "extreme"])
    if mode == "power_of_two":  # M = 2^30: exact ties (which mbqm64 rounds up)
        mult[:] = 2**30
    if mode == "extreme":
        mult = rng.choice([0, 2**30, 0x7FFF0000 - 1, 0x7FFF0000, 2**31 - 1], n)
        shift = rng.choice([-31, max_shift, int(shift[0])], n)
    return mult.astype(np.int32), shift.astype(np.int8)


def _activation16(pick: Pick, rng: np.random.Generator,
                  hswish: bool = True) -> tuple[int, int, np.ndarray | None, q16.HardSwish16 | None]:
    """(lo, hi, table, hard-swish stage); the stage over pre-activation scales from 2^-24 (few
    fraction bits) to 2^-1, output scales around them."""
    kind = pick(["none", "relu", "relu6", "lut"] + (["hswish"] if hswish else []))
    if kind == "relu":
        return 0, 32767, None, None
    if kind == "relu6":
        return 0, int(rng.integers(1, 32768)), None, None
    if kind == "lut":
        return -32768, 32767, rng.integers(-32768, 32768, q16.LUT16_SIZE).astype(np.int16), None
    if kind == "hswish":
        st = float(2.0 ** rng.uniform(-24, -1))
        return -32768, 32767, None, q16.hswish_params(st, st * float(2.0 ** rng.uniform(-1, 0.5)))
    return -32768, 32767, None, None


def _bias64(pick: Pick, rng: np.random.Generator, n: int) -> np.ndarray:
    limit = pick([0, 2**10, 2**30, 2**40])
    return rng.integers(-limit, limit + 1, n).astype(np.int64)


def conv16_case(pick: Pick, rng: np.random.Generator) -> Case:
    c, o = pick(CHANNELS), pick(CHANNELS)
    g = _window(pick, [(1, 1), (3, 3), (5, 5), (3, 1)], dilate=True)
    x = _x16(pick, rng, (1, c, g["h"], g["w"]))
    wt = _weights(pick, rng, (o, c) + g["kernel"])
    bias = _bias64(pick, rng, o)
    mult, shift = _requant16(pick, rng, o, int((np.abs(wt.astype(np.int64)).sum(axis=(1, 2, 3)) * 32768 + np.abs(bias)).max()))
    lo, hi, lut, hs = _activation16(pick, rng)
    y = q16.conv2d(x, wt, bias, mult, shift, g["strides"], g["pads"], g["dilations"], lo, hi, lut, hs)
    params = dict(_geometry(g), in_c=c, out_c=o, act_min=lo, act_max=hi, weights=wt.transpose(0, 2, 3, 1),
                  bias=bias, out_mult=mult, out_shift=shift, lut=lut, hswish=_hs(hs))
    return Case("conv2d_s16", "conv2d_s16", params, [nhwc(x)], nhwc(y))


def depthwise16_case(pick: Pick, rng: np.random.Generator) -> Case:
    c, m = pick(CHANNELS), pick([1, 2])
    g = _window(pick, [(3, 3), (5, 5), (1, 1), (3, 1)], dilate=True)
    x = _x16(pick, rng, (1, c, g["h"], g["w"]))
    wt = _weights(pick, rng, (c * m, 1) + g["kernel"])
    bias = _bias64(pick, rng, c * m)
    mult, shift = _requant16(pick, rng, c * m, int((np.abs(wt.astype(np.int64)).sum(axis=(1, 2, 3)) * 32768 + np.abs(bias)).max()))
    lo, hi, lut, hs = _activation16(pick, rng)
    y = q16.depthwise_conv2d(x, wt, bias, mult, shift, g["strides"], g["pads"], g["dilations"], lo, hi, lut, hs)
    params = dict(_geometry(g), in_c=c, ch_mult=m, act_min=lo, act_max=hi, weights=wt[:, 0].transpose(1, 2, 0),
                  bias=bias, out_mult=mult, out_shift=shift, lut=lut, hswish=_hs(hs))
    return Case("depthwise_conv2d_s16", "depthwise_conv2d_s16", params, [nhwc(x)], nhwc(y))


def _hs(stage: q16.HardSwish16 | None) -> np.ndarray | None:
    return None if stage is None else np.array(stage, np.int32)


def _dense16_layer(pick: Pick, rng: np.random.Generator, k: int, n: int,
                   hswish: bool = False) -> tuple[q16.DenseQ16, q16.HardSwish16 | None, dict[str, Any]]:
    """A dense layer; with a hard-swish stage only when ``hswish`` (a squeeze-excite's have none)."""
    wt = _weights(pick, rng, (n, k))
    bias = _bias64(pick, rng, n)
    mult, shift = _requant16(pick, rng, n, int((np.abs(wt.astype(np.int64)).sum(axis=1) * 32768 + np.abs(bias)).max()))
    lo, hi, lut, hs = _activation16(pick, rng, hswish)
    params = dict(in_features=k, out_features=n, act_min=lo, act_max=hi, weights=wt, bias=bias, out_mult=mult,
                  out_shift=shift, lut=lut, hswish=_hs(hs))
    return q16.DenseQ16(wt, bias, mult, shift, lo, hi, lut), hs, params


def dense16_case(pick: Pick, rng: np.random.Generator) -> Case:
    k, n = pick(CHANNELS + [100]), pick(CHANNELS)
    x = _x16(pick, rng, (1, k))
    d, hs, params = _dense16_layer(pick, rng, k, n, hswish=True)
    y = q16.dense(x, d.w, d.bias, d.multiplier, d.shift, d.lo, d.hi, d.lut, hs)
    return Case("dense_s16", "dense_s16", params, [x[0]], y[0])


def add16_case(pick: Pick, rng: np.random.Generator) -> Case:
    size = pick([1, 3, 16, 17, 100])
    a, b = _x16(pick, rng, (size,)), _x16(pick, rng, (size,))
    sa = _scale(rng)
    p = q.add_params(sa, pick([sa, _scale(rng)]), pick([sa, _scale(rng)]), q16.ADD_LEFT_SHIFT_16)
    lo, hi, lut, hs = _activation16(pick, rng)
    y = q16.add(a, b, p, lo, hi, lut, hs)
    params = dict(size=size, a_mult=p.ma, a_shift=p.sa, b_mult=p.mb, b_shift=p.sb, out_mult=p.my, out_shift=p.sy,
                  act_min=lo, act_max=hi, lut=lut, hswish=_hs(hs))
    return Case("add_s16", "add_s16", params, [a, b], y)


def mul16_case(pick: Pick, rng: np.random.Generator) -> Case:
    rows, cols, broadcast = pick([1, 4, 9]), pick(CHANNELS), pick([0, 1])
    a = _x16(pick, rng, (rows, cols))
    b = _x16(pick, rng, (1, cols) if broadcast else (rows, cols))
    mult = int(rng.integers(2**30, 2**31))
    shift = pick([-15, -1, 0, int(rng.integers(-31, 1))])  # |a·b| <= 2^30: no left shift fits int32
    lo, hi, _, _ = _activation16(pick, rng, hswish=False)
    y = q16.mul16(a, b, mult, shift, lo, hi)
    params = dict(rows=rows, cols=cols, b_broadcast=broadcast, a_zp=0, b_zp=0, out_mult=mult, out_shift=shift,
                  output_zp=0, act_min=lo, act_max=hi)
    return Case("mul_s16", "mul", params, [a, b[0] if broadcast else b], y)


def global_avg_pool16_case(pick: Pick, rng: np.random.Generator) -> Case:
    c, h, w = pick(CHANNELS), pick([1, 2, 7]), pick([1, 3, 7])
    x = _x16(pick, rng, (1, c, h, w))
    mult, shift = q.quantize_multiplier(_scale(rng) / (_scale(rng) * h * w))
    y = q16.global_avg_pool(x, mult, shift)
    params = dict(in_h=h, in_w=w, channels=c, input_zp=0, output_zp=0, out_mult=mult, out_shift=shift)
    return Case("global_avg_pool_s16", "global_avg_pool", params, [nhwc(x)], y[0])


def avg_pool16_case(pick: Pick, rng: np.random.Generator) -> Case:
    c = pick(CHANNELS)
    g = _window(pick, [(2, 2), (3, 3), (5, 5), (3, 1)], dilate=False)
    x = _x16(pick, rng, (1, c, g["h"], g["w"]))
    sx = _scale(rng)
    mt, stbl = q.avg_pool_multipliers(sx, pick([sx, sx * 2, sx / 3]), g["kernel"])
    y = q16.avg_pool(x, mt, stbl, g["kernel"], g["strides"], g["pads"])
    params = dict(_geometry(g, with_dilation=False), channels=c, input_zp=0, output_zp=0, mult_by_count=mt,
                  shift_by_count=stbl)
    return Case("avg_pool_s16", "avg_pool", params, [nhwc(x)], nhwc(y))


def max_pool16_case(pick: Pick, rng: np.random.Generator) -> Case:
    c = pick(CHANNELS)
    g = _window(pick, [(2, 2), (3, 3), (5, 5), (1, 3)], dilate=True)
    x = rng.integers(-32768, pick([-32767, 32768]), (1, c, g["h"], g["w"])).astype(np.int16)  # sometimes all min
    y = q16.max_pool(x, g["kernel"], g["strides"], g["pads"], g["dilations"])
    return Case("max_pool_s16", "max_pool", dict(_geometry(g), channels=c), [nhwc(x)], nhwc(y))


def lut16_case(pick: Pick, rng: np.random.Generator) -> Case:
    x = _x16(pick, rng, (pick([1, 7, 300]),))
    table = rng.integers(-32768, 32768, q16.LUT16_SIZE).astype(np.int16)
    return Case("lut_s16", "lut_s16", dict(size=x.size, table=table), [x], q16.lut16(x, table))


def squeeze_excite16_case(pick: Pick, rng: np.random.Generator) -> Case:
    c, r, h, w = pick(CHANNELS), pick([1, 2, 4, 8]), pick([1, 3, 5]), pick([1, 2, 4])
    x = _x16(pick, rng, (1, c, h, w))
    pool_m, pool_s = q.quantize_multiplier(_scale(rng) / (_scale(rng) * h * w))
    fc1, _, p1 = _dense16_layer(pick, rng, c, r)
    fc2, _, p2 = _dense16_layer(pick, rng, r, c)
    mul_m, mul_s = q.quantize_multiplier(float(2.0 ** rng.uniform(-16, -14)))  # x·g / 2^15: back to int16
    lo, hi, _, _ = _activation16(pick, rng, hswish=False)
    y = q16.squeeze_excite(x, pool_m, pool_s, fc1, fc2, mul_m, mul_s, lo, hi)
    params = dict(in_h=h, in_w=w, channels=c, pool_mult=pool_m, pool_shift=pool_s, fc1=p1, fc2=p2, mul_mult=mul_m,
                  mul_shift=mul_s, act_min=lo, act_max=hi)
    return Case("squeeze_excite_s16", "squeeze_excite_s16", params, [nhwc(x)], nhwc(y))


def concat16_case(pick: Pick, rng: np.random.Generator) -> Case:
    """Copied and requantized int16 inputs: factors from 2^-20 (flushing to 0) up to the largest
    left shift the quantizer allows (16, saturating), M = 2^30 for exact ties."""
    outer, n_in = pick([1, 3, 12]), pick([1, 2, 3, 5])
    inner = [pick([1, 4, 7, 16]) for _ in range(n_in)]
    xs = [_x16(pick, rng, (outer, k)) for k in inner]
    requant = []
    for _ in range(n_in):
        kind = pick(["copy", "scale", "tie", "widest"])
        if kind == "copy":
            requant.append(None)
        elif kind == "scale":
            requant.append((0, *q.quantize_multiplier(float(2.0 ** rng.uniform(-20, 4)))))
        else:
            requant.append((0, 1 << 30, int(rng.integers(-8, 1)) if kind == "tie" else 16))
    y = q16.concat(xs, 1, requant)
    params = dict(num_inputs=n_in, outer=outer, inner=np.array(inner), requant=np.array([r is not None for r in requant]),
                  input_zp=np.zeros(n_in), mult=np.array([r[1] if r else 0 for r in requant]),
                  shift=np.array([r[2] if r else 0 for r in requant]), output_zp=0)
    return Case("concat_s16", "concat", params, xs, y)


def slice16_case(pick: Pick, rng: np.random.Generator) -> Case:
    case = slice_case(pick, rng)
    x = _x16(pick, rng, case.inputs[0].shape)
    box = tuple(slice(case.params[f"start{i}"], case.params[f"start{i}"] + case.params[f"out_d{i}"]) for i in range(3))
    return replace(case, kernel="slice_s16", inputs=[x], expected=np.ascontiguousarray(x[box]))


def transpose16_case(pick: Pick, rng: np.random.Generator) -> Case:
    """transpose_case's random box over int16 elements (strides count elements, not bytes)."""
    shape = [pick([1, 2, 3, 5]) for _ in range(4)]
    perm = list(rng.permutation(4))
    x = _x16(pick, rng, tuple(shape))
    strides = [int(v) // x.itemsize for v in x.strides]
    params = {**{f"d{i}": shape[p] for i, p in enumerate(perm)}, **{f"s{i}": strides[p] for i, p in enumerate(perm)}}
    return Case("transpose_s16", "transpose", params, [x], np.ascontiguousarray(x.transpose(perm)))


def requantize_s8_s16_case(pick: Pick, rng: np.random.Generator) -> Case:
    x = rng.integers(-128, 128, pick([1, 7, 300])).astype(np.int8)
    zx = _zp(pick, rng)
    mult, shift = q.quantize_multiplier(pick([256.0, 255 / 2 ** rng.uniform(0, 1), 32767 / 255]))
    y = q16.int8_to_int16(x, zx, mult, shift)
    return Case("requantize_s8_s16", "requantize", dict(size=x.size, input_zp=zx, output_zp=0, mult=mult, shift=shift),
                [x], y)


def requantize_s16_s8_case(pick: Pick, rng: np.random.Generator) -> Case:
    x = _x16(pick, rng, (pick([1, 7, 300]),))
    zy = _zp(pick, rng)
    mult, shift = q.quantize_multiplier(pick([1 / 256, 255 / 32767, 2 ** -rng.uniform(7, 9)]))
    y = q16.int16_to_int8(x, zy, mult, shift)
    return Case("requantize_s16_s8", "requantize", dict(size=x.size, input_zp=0, output_zp=zy, mult=mult, shift=shift),
                [x], y)


def softmax_case(pick: Pick, rng: np.random.Generator) -> Case:
    """Noise, a narrow band or ties, up to the 4095-element row limit (512+ equal maxima: past
    TFLite's exponent check, see mnv3c/quant/softmax.py); rows contiguous or strided (inner > 1)."""
    rows, size, inner = pick([1, 3]), pick([1, 2, 10, 100, 1000, 4095]), pick([1, 1, 3, 8])
    lo, hi = pick([(-128, 128), (40, 48), (7, 8)])
    x = rng.integers(lo, hi, (rows, size, inner)).astype(np.int8)
    m, s, d = softmax_params(float(2.0 ** rng.uniform(-9, 3)))
    params = dict(rows=rows, size=size, inner=inner, multiplier=m, left_shift=s, diff_min=d)
    return Case("softmax_s8", "softmax", params, [x], softmax_s8(x, m, s, d, axis=1))


def softmax16_case(pick: Pick, rng: np.random.Generator) -> Case:
    """int16 rows: the full code range (differences to -65535, most below diff_min), a narrow band
    (every difference used, 4095 of them summed), ties, and a dominating max; scales from the
    smallest the kernel takes (left_shift 0: diff_min about -2^31) to the largest (left_shift 30:
    diff_min -1), where |diff_min| · 2^left_shift is at its 31 · 2^26 bound; strided rows."""
    rows, size, inner = pick([1, 3]), pick([1, 2, 10, 100, 1000, 4095]), pick([1, 1, 3, 8])
    kind = pick(["random", "band", "ties", "dominant"])
    if kind == "dominant":
        x = np.full((rows, size, inner), -32768, np.int16)
        x[:, int(rng.integers(size)), :] = 32767
    else:
        x = _x16(pick, rng, (rows, size, inner)) if kind == "random" else \
            rng.integers(-300, 300 if kind == "band" else -298, (rows, size, inner)).astype(np.int16)
    scale = pick([float(2.0 ** rng.uniform(-20, 0)), 2.0 ** -27, 15.99])  # 15.99: left_shift 30
    m, s, d = softmax_params(scale)
    params = dict(rows=rows, size=size, inner=inner, multiplier=m, left_shift=s, diff_min=d)
    return Case("softmax_s16", "softmax", params, [x], softmax_s16(x, m, s, d, axis=1))


def transpose_case(pick: Pick, rng: np.random.Generator) -> Case:
    """A random permutation of a random 4-D box, as strides into the contiguous input."""
    shape = [pick([1, 2, 3, 5]) for _ in range(4)]
    perm = list(rng.permutation(4))
    x = rng.integers(-128, 128, shape).astype(np.int8)
    y = np.ascontiguousarray(x.transpose(perm))
    strides = [int(v) // x.itemsize for v in x.strides]
    params = {**{f"d{i}": shape[p] for i, p in enumerate(perm)}, **{f"s{i}": strides[p] for i, p in enumerate(perm)}}
    return Case("transpose_s8", "transpose", params, [x], y)


def batch_matmul_case(pick: Pick, rng: np.random.Generator) -> Case:
    """[B, M, K] x [B, K, N], b read transposed from a [B, N, K] array half the time (Q.K^T)."""
    batches, rows, cols, depth = pick([1, 3]), pick([1, 4, 9]), pick([1, 5, 20]), pick([1, 15, 64])
    a = rng.integers(-128, 128, (batches, rows, depth)).astype(np.int8)
    b_stored = rng.integers(-128, 128, (batches, depth, cols)).astype(np.int8)
    transposed = pick([0, 1])
    if transposed:
        b_stored = np.ascontiguousarray(b_stored.transpose(0, 2, 1))
    b = b_stored.transpose(0, 2, 1) if transposed else b_stored
    za, zb, zy = _zp(pick, rng), _zp(pick, rng), _zp(pick, rng)
    m, sh = q.quantize_multiplier(pick([1 / 256, 2.0 ** -rng.uniform(6, 14), 0.7]))
    lo, hi = pick([(-128, 127), (zy, 127)])
    y = batch_matmul_s8(a, za, b, zb, m, sh, zy, lo, hi)
    bs = [int(v) for v in b_stored.strides]
    params = dict(batches=batches, rows=rows, cols=cols, depth=depth, a_batch_stride=rows * depth, a_row_stride=depth,
                  a_depth_stride=1, b_batch_stride=bs[0], b_depth_stride=bs[2] if transposed else bs[1],
                  b_col_stride=bs[1] if transposed else bs[2], y_batch_stride=rows * cols, y_row_stride=cols,
                  y_col_stride=1, a_zp=za, b_zp=zb, out_mult=m, out_shift=sh, output_zp=zy, act_min=lo, act_max=hi)
    return Case("batch_matmul_s8", "batch_matmul", params, [a, b_stored], y)


def batch_matmul16_case(pick: Pick, rng: np.random.Generator) -> Case:
    """[B, M, K] x [B, K, N] of int16 codes (extremes: (-32768)² products), b read transposed from a
    [B, N, K] array half the time; mbqm64's shift ends, M = 2^30 ties, a relu clamp."""
    batches, rows, cols, depth = pick([1, 3]), pick([1, 4, 9]), pick([1, 5, 20]), pick([1, 15, 64])
    a = _x16(pick, rng, (batches, rows, depth))
    b_stored = _x16(pick, rng, (batches, depth, cols))
    transposed = pick([0, 1])
    if transposed:
        b_stored = np.ascontiguousarray(b_stored.transpose(0, 2, 1))
    b = b_stored.transpose(0, 2, 1) if transposed else b_stored
    bits = int(depth << 30).bit_length()  # |acc| < 2^bits; the result must stay an int32
    m = pick([1 << 30, int(rng.integers(1 << 30, 1 << 31)), (1 << 31) - 1])
    sh = int(pick([15 - bits, 16 - bits, -31, min(7, 30 - bits)]))
    lo, hi = pick([(-32768, 32767), (0, 32767)])
    y = batch_matmul_s16(a, b, m, sh, lo, hi)
    bs = [int(v) // b_stored.itemsize for v in b_stored.strides]
    params = dict(batches=batches, rows=rows, cols=cols, depth=depth, a_batch_stride=rows * depth, a_row_stride=depth,
                  a_depth_stride=1, b_batch_stride=bs[0], b_depth_stride=bs[2] if transposed else bs[1],
                  b_col_stride=bs[1] if transposed else bs[2], y_batch_stride=rows * cols, y_row_stride=cols,
                  y_col_stride=1, a_zp=0, b_zp=0, out_mult=m, out_shift=sh, output_zp=0, act_min=lo, act_max=hi)
    return Case("batch_matmul_s16", "batch_matmul", params, [a, b_stored], y)


def layer_norm_case(pick: Pick, rng: np.random.Generator) -> Case:
    """Rows of noise, constant rows (variance 0: eps alone) and saturating outputs, contiguous or strided."""
    rows, size, inner = pick([1, 3]), pick([1, 2, 15, 120, 4096]), pick([1, 1, 4])
    kind = pick(["random", "constant", "narrow"])
    x = {"random": lambda: rng.integers(-128, 128, (rows, size, inner)),
         "constant": lambda: np.full((rows, size, inner), int(rng.integers(-128, 128))),
         "narrow": lambda: rng.integers(3, 5, (rows, size, inner))}[kind]().astype(np.int8)
    sx, sy = _scale(rng), pick([_scale(rng), 0.02, 0.005])
    gamma, beta = rng.normal(0, pick([0.1, 1.0, 4.0]), size), rng.normal(0, pick([0.0, 0.5]), size)
    p = layer_norm_params(size, pick([1e-5, 1e-6, 0.1]), sx, sy, gamma, beta)
    zy = _zp(pick, rng)
    y = np.moveaxis(layer_norm_s8(np.moveaxis(x, 1, -1), p["eps"], p["gamma"], p["beta"], p["out_shift"], zy), -1, 1)
    params = dict(rows=rows, size=size, inner=inner, output_zp=zy, **p)
    return Case("layer_norm_s8", "layer_norm", params, [x], np.ascontiguousarray(y))


def layer_norm16_case(pick: Pick, rng: np.random.Generator) -> Case:
    """As `layer_norm_case` on int16 codes: extremes (the largest sum of squares at the longest row),
    constant rows and saturating outputs."""
    rows, size, inner = pick([1, 3]), pick([1, 2, 15, 120, MAX_ROW16]), pick([1, 1, 4])
    kind = pick(["random", "constant", "narrow"])
    x = {"random": lambda: _x16(pick, rng, (rows, size, inner)),
         "constant": lambda: np.full((rows, size, inner), int(rng.integers(-32768, 32768)), np.int16),
         "narrow": lambda: rng.integers(3, 5, (rows, size, inner))}[kind]().astype(np.int16)
    sx, sy = _scale(rng) / 256, pick([_scale(rng) / 256, 0.02 / 256, 0.005 / 256])
    gamma, beta = rng.normal(0, pick([0.1, 1.0, 4.0]), size), rng.normal(0, pick([0.0, 0.5]), size)
    eps = pick([1e-5, 1e-6, 0.1 if size <= 120 else 1e-3])  # n³·eps/sx² < 2^61: int16 scales are small
    p = layer_norm_params(size, eps, sx, sy, gamma, beta, int16=True)
    y = np.moveaxis(layer_norm_s16(np.moveaxis(x, 1, -1), p["eps"], p["gamma"], p["beta"], p["out_shift"]), -1, 1)
    params = dict(rows=rows, size=size, inner=inner, output_zp=0, **p)
    return Case("layer_norm_s16", "layer_norm", params, [x], np.ascontiguousarray(y))


BUILDERS: dict[str, Callable[[Pick, np.random.Generator], Case]] = {
    "conv2d_s8": conv_case,
    "conv1x1_s8": lambda pick, rng: conv_case(pick, rng, pointwise=True),
    "depthwise_conv2d_s8": depthwise_case,
    "dense_s8": dense_case,
    "add_s8": add_case,
    "mul_s8": mul_case,
    "global_avg_pool_s8": global_avg_pool_case,
    "avg_pool_s8": avg_pool_case,
    "max_pool_s8": max_pool_case,
    "lut_s8": lut_case,
    "squeeze_excite_s8": squeeze_excite_case,
    "resize_nearest_s8": resize_nearest_case,
    "resize_bilinear_s8": resize_bilinear_case,
    "conv_transpose_s8": conv_transpose_case,
    "concat_s8": concat_case,
    "slice_s8": slice_case,
    "conv2d_s16": conv16_case,
    "depthwise_conv2d_s16": depthwise16_case,
    "dense_s16": dense16_case,
    "add_s16": add16_case,
    "mul_s16": mul16_case,
    "global_avg_pool_s16": global_avg_pool16_case,
    "avg_pool_s16": avg_pool16_case,
    "max_pool_s16": max_pool16_case,
    "lut_s16": lut16_case,
    "squeeze_excite_s16": squeeze_excite16_case,
    "concat_s16": concat16_case,
    "slice_s16": slice16_case,
    "transpose_s16": transpose16_case,
    "requantize_s8_s16": requantize_s8_s16_case,
    "requantize_s16_s8": requantize_s16_s8_case,
    "softmax_s8": softmax_case,
    "softmax_s16": softmax16_case,
    "transpose_s8": transpose_case,
    "batch_matmul_s8": batch_matmul_case,
    "batch_matmul_s16": batch_matmul16_case,
    "layer_norm_s8": layer_norm_case,
    "layer_norm_s16": layer_norm16_case,
}


def test_every_kernel_source_is_covered() -> None:
    assert {p.stem for p in SOURCES} == set(BUILDERS)


# --- running a case through ctypes ----------------------------------------------------------------


def _struct(name: str, values: dict[str, Any], keep: list[np.ndarray]) -> ctypes.Structure:
    s = CLASSES[name]()
    for field, kind in STRUCTS[name]:
        v = values[field]
        if kind in CLASSES:
            setattr(s, field, _struct(kind, v, keep))
        elif kind in (I32, I64):
            setattr(s, field, int(v))
        elif v is not None:
            arr = np.ascontiguousarray(v, dtype=NP_TYPE[kind])
            keep.append(arr)
            setattr(s, field, arr.ctypes.data_as(CTYPE[kind]))
    return s


def _ptr(a: np.ndarray) -> ctypes.c_void_p:
    return ctypes.c_void_p(a.ctypes.data)


def run_ctypes(lib: ctypes.CDLL, case: Case, in_place: bool = False) -> np.ndarray:
    keep: list[np.ndarray] = []
    p = _struct(case.struct, case.params, keep)
    scratch_fn = getattr(lib, f"mnv3c_{case.kernel}_scratch_bytes")
    scratch_fn.restype = ctypes.c_size_t
    n_scratch = scratch_fn(ctypes.byref(p))
    scratch = np.zeros(n_scratch, np.int8)
    inputs = [np.ascontiguousarray(a) for a in case.inputs]  # int8 or int16, as the kernel reads
    out = inputs[0].copy() if in_place else np.empty(case.expected.shape, case.expected.dtype)
    if in_place:
        inputs[0] = out
    kernel = getattr(lib, f"mnv3c_{case.kernel}")
    kernel.restype = None
    args = [(ctypes.c_void_p * len(inputs))(*(a.ctypes.data for a in inputs))] if case.input_array else \
        list(map(_ptr, inputs))
    kernel(ctypes.byref(p), *args, _ptr(out), _ptr(scratch) if n_scratch else None)
    return out


def _compile(out: Path, flags: list[str], extra: list[Path]) -> Path:
    cmd = ["gcc", *STRICT, *flags, f"-I{RUNTIME}", *map(str, SOURCES), *map(str, extra), "-o", str(out)]
    res = subprocess.run(cmd, capture_output=True, text=True)
    assert res.returncode == 0, f"{' '.join(cmd)}\n{res.stderr}"
    return out


REQUANT_PROBE = """
#include "mnv3c_requant_s16.h"
/* TFLite's int64 MBQM (16x8), int16 LUT lookup and the int16 hard-swish, elementwise over n values. */
void mnv3c_test_mbqm64(const int64_t *x, const int32_t *m, const int32_t *s, int32_t *out, int32_t n)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        out[i] = mnv3c_mbqm64(x[i], m[i], s[i]);
    }
}
void mnv3c_test_lut16(const int16_t *x, const int16_t *lut, int16_t *out, int32_t n)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        out[i] = mnv3c_lut16(x[i], lut);
    }
}
void mnv3c_test_hswish16(const int16_t *x, const int32_t *hs, int16_t *out, int32_t n)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        out[i] = mnv3c_hswish16(x[i], hs);
    }
}
/* op 0: SRDHM(a, b); 1: RDBP(a, b); 2: MBQM(a, b, c); 3: mnv3c_mbqm_small(a, b, 1 - c, round(-c, zp))
 * with zp = (i % 256) - 128, minus zp: elementwise over n values. */
static int32_t small_minus_zp(int32_t x, int32_t m, int32_t shift, int32_t zp)
{
    return mnv3c_mbqm_small(x, m, 1 - shift, mnv3c_mbqm_small_round(-shift, zp)) - zp;
}
void mnv3c_test_requant(int32_t op, const int32_t *a, const int32_t *b, const int32_t *c, int32_t *out, int32_t n)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        out[i] = op == 0 ? mnv3c_srdhm(a[i], b[i]) : op == 1 ? mnv3c_rdbp(a[i], b[i])
               : op == 2 ? mnv3c_mbqm(a[i], b[i], c[i]) : small_minus_zp(a[i], b[i], c[i], (i % 256) - 128);
    }
}
"""


def _layout_probe(tmp: Path) -> Path:
    """C source exporting sizeof and every offsetof of the structs, to check the ctypes mirror."""
    lines = ['#include <stddef.h>', '#include "mnv3c_kernels_s16.h"', "const size_t mnv3c_test_layout[] = {"]
    for name, fields in STRUCTS.items():
        lines.append(f"    sizeof(mnv3c_{name}_params),")
        lines += [f"    offsetof(mnv3c_{name}_params, {f})," for f, _ in fields]
    path = tmp / "layout_probe.c"
    path.write_text("\n".join(lines + ["};", ""]))
    return path


@pytest.fixture(scope="session")
def lib(tmp_path_factory: pytest.TempPathFactory) -> ctypes.CDLL:
    tmp = tmp_path_factory.mktemp("mnv3c_rt")
    (tmp / "requant_probe.c").write_text(REQUANT_PROBE)
    probes = [_layout_probe(tmp), tmp / "requant_probe.c"]
    return ctypes.CDLL(str(_compile(tmp / "libmnv3c_rt.so", ["-O2", "-fPIC", "-shared"], probes)))


def _c_requant(lib: ctypes.CDLL, op: int, a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    args = [np.ascontiguousarray(v, dtype=np.int32) for v in (a, b, c)]
    out = np.empty(a.size, np.int32)
    lib.mnv3c_test_requant(op, *map(_ptr, args), _ptr(out), a.size)
    return out


EDGES = np.array([-(2**31), -(2**31) + 1, -(2**30), -3, -2, -1, 0, 1, 2, 3, 2**30, 2**31 - 1], dtype=np.int64)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_requant_helpers_match_intops(lib: ctypes.CDLL, seed: int) -> None:
    """SRDHM/RDBP/MBQM of mnv3c_requant.h on every pair of edge values, exact ties and random values."""
    rng = np.random.default_rng(seed)
    a, b = (v.ravel() for v in np.meshgrid(EDGES, EDGES))
    a = np.concatenate([a, rng.integers(-(2**31), 2**31, 2000)])
    b = np.concatenate([b, rng.integers(-(2**31), 2**31, 2000)])
    np.testing.assert_array_equal(_c_requant(lib, 0, a, b, b), q.srdhm(a, b))

    e = rng.integers(0, 32, a.size)
    ties = (rng.integers(-(2**20), 2**20, a.size) << e) + np.where(e > 0, 1 << np.maximum(e - 1, 0), 0)
    x = np.where(rng.random(a.size) < 0.5, a, np.clip(ties, -(2**31), 2**31 - 1))
    np.testing.assert_array_equal(_c_requant(lib, 1, x, e, e), q.rdbp(x, e))

    shift = rng.integers(-31, 31, a.size)
    mult = np.where(rng.random(a.size) < 0.3, 2**30, rng.integers(2**30, 2**31, a.size))
    x = a >> np.maximum(shift, 0)  # x · 2^left fits int32, the quantizer's guarantee
    np.testing.assert_array_equal(_c_requant(lib, 2, x, mult, shift), q.mbqm(x, mult, shift))

    # the one-MULH form for |x| < 2^29, shifts -1 .. -21: edges of x and M, exact ties of both roundings
    shift = rng.integers(-21, 0, a.size)
    x = np.concatenate([[-(2**29) + 1, 2**29 - 1, -1, 0, 1], rng.integers(-(2**29) + 1, 2**29, a.size - 5)])
    x = np.where(rng.random(a.size) < 0.3, x >> rng.integers(0, 29, a.size), x)  # small values too
    mult = np.where(rng.random(a.size) < 0.3, rng.choice([2**30, 2**31 - 1], a.size), mult)
    np.testing.assert_array_equal(_c_requant(lib, 3, x, mult, shift), q.mbqm(x, mult, shift))
    # M = 2^30: SRDHM(x) = x / 2 rounded half up (odd x), and RDBP's halves are at x = (2k + 1) 2^r
    ties = (rng.integers(-(2**7), 2**7, a.size) * 2 + 1) << -shift
    x = np.clip(ties + rng.integers(-2, 3, a.size), -(2**29) + 1, 2**29 - 1)
    m30 = np.full(a.size, 2**30)
    np.testing.assert_array_equal(_c_requant(lib, 3, x, m30, shift), q.mbqm(x, m30, shift))


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_int16_helpers_match_intops16(lib: ctypes.CDLL, seed: int) -> None:
    """mnv3c_mbqm64 on edge multipliers, both shift ends, exact ties and random values; mnv3c_lut16 on
    every int16 input of a random table; mnv3c_hswish16 on every int16 input of a random stage."""
    rng = np.random.default_rng(seed)
    n = 4000
    shift = rng.integers(-31, 8, n)
    mult = rng.choice([0, 2**30, 0x7FFF0000 - 1, 0x7FFF0000, 2**31 - 1, int(rng.integers(2**30, 2**31))], n)
    bound = np.minimum(2 ** (30 - np.maximum(shift, 0)), 2**47 - 1)  # result fits int32, |x| < 2^47
    x = rng.integers(-(2**47), 2**47, n) % (2 * bound) - bound
    ties = (rng.integers(-(2**20), 2**20, n) << (15 - shift)) + (1 << (14 - shift))  # exact halves
    x = np.where(rng.random(n) < 0.3, np.clip(ties, -bound, bound - 1), x)
    out = np.empty(n, np.int32)
    args = [np.ascontiguousarray(x, np.int64), np.ascontiguousarray(mult, np.int32), np.ascontiguousarray(shift, np.int32)]
    lib.mnv3c_test_mbqm64(*map(_ptr, args), _ptr(out), n)
    np.testing.assert_array_equal(out, q16.mbqm64(x, mult, shift))

    table = rng.integers(-32768, 32768, q16.LUT16_SIZE).astype(np.int16)
    v = np.arange(-32768, 32768, dtype=np.int64).astype(np.int16)
    got = np.empty_like(v)
    lib.mnv3c_test_lut16(_ptr(v), _ptr(table), _ptr(got), v.size)
    np.testing.assert_array_equal(got, q16.lut16(v, table))

    _, _, _, stage = _activation16(lambda options: "hswish", rng)
    lib.mnv3c_test_hswish16(_ptr(v), _ptr(np.array(stage, np.int32)), _ptr(got), v.size)
    np.testing.assert_array_equal(got, q16.hard_swish16(v, stage))


def test_ctypes_mirror_matches_header(lib: ctypes.CDLL) -> None:
    expected = []
    for name, fields in STRUCTS.items():
        expected.append(ctypes.sizeof(CLASSES[name]))
        expected += [getattr(CLASSES[name], f).offset for f, _ in fields]
    actual = (ctypes.c_size_t * len(expected)).in_dll(lib, "mnv3c_test_layout")
    assert list(actual) == expected


@pytest.mark.parametrize("kernel", sorted(BUILDERS))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_kernel_matches_intops(lib: ctypes.CDLL, kernel: str, data: st.DataObject) -> None:
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    case = BUILDERS[kernel](lambda options: data.draw(st.sampled_from(list(options))), rng)
    np.testing.assert_array_equal(run_ctypes(lib, case), case.expected)
    if case.in_place_ok:
        np.testing.assert_array_equal(run_ctypes(lib, case, in_place=True), case.expected)
    if kernel == "conv1x1_s8":  # the general kernel must agree on pointwise layers too
        np.testing.assert_array_equal(run_ctypes(lib, replace(case, kernel="conv2d_s8")), case.expected)


# --- the same cases under AddressSanitizer + UBSan, in a generated C driver -------------------------


def _c_int(v: int) -> str:
    return "INT32_MIN" if v == -(2**31) else str(v)


def _c_array(name: str, ctype: str, values: np.ndarray) -> str:
    flat = np.ravel(values).astype(np.int64)
    return f"static const {ctype} {name}[{flat.size}] __attribute__((aligned(4))) = {{{', '.join(_c_int(int(v)) for v in flat)}}};"


def _c_init(prefix: str, name: str, values: dict[str, Any], decls: list[str]) -> str:
    """A designated initializer for a params struct; pointer fields become static arrays in decls."""
    parts = []
    for field, kind in STRUCTS[name]:
        v = values[field]
        if kind in CLASSES:
            parts.append(f".{field} = {_c_init(f'{prefix}_{field}', kind, v, decls)}")
        elif kind in (I32, I64):
            parts.append(f".{field} = {_c_int(int(v))}")
        elif v is None:
            parts.append(f".{field} = NULL")
        else:
            decls.append(_c_array(f"{prefix}_{field}", C_TYPE[kind], v))
            parts.append(f".{field} = {prefix}_{field}")
    return "{" + ", ".join(parts) + "}"


def _c_case(i: int, case: Case) -> str:
    decls: list[str] = []
    init = _c_init(f"c{i}", case.struct, case.params, decls)
    decls.append(f"static const mnv3c_{case.struct}_params c{i}_p = {init};")
    decls += [_c_array(f"c{i}_in{j}", f"{a.dtype}_t", a) for j, a in enumerate(case.inputs)]
    decls.append(_c_array(f"c{i}_exp", f"{case.expected.dtype}_t", case.expected))
    ins = [f"in{j}" for j in range(len(case.inputs))]
    body = [f"static int case{i}(void)", "{",
            f"    const size_t n_scratch = mnv3c_{case.kernel}_scratch_bytes(&c{i}_p);",
            "    void *scratch = n_scratch ? malloc(n_scratch) : NULL;",
            f"    {case.expected.dtype}_t *out = malloc(sizeof c{i}_exp);", "    int bad;"]
    body += [f"    {a.dtype}_t *in{j} = copy(c{i}_in{j}, sizeof c{i}_in{j});" for j, a in enumerate(case.inputs)]
    if case.input_array:
        body.append(f"    const {case.inputs[0].dtype}_t *const xs[] = {{{', '.join(ins)}}};")
    call_ins = "xs" if case.input_array else ", ".join(ins)
    body += [f"    mnv3c_{case.kernel}(&c{i}_p, {call_ins}, out, scratch);",
             f"    bad = memcmp(out, c{i}_exp, sizeof c{i}_exp) != 0;",
             f'    if (bad) printf("case {i} ({case.kernel}) differs\\n");',
             *[f"    free({n});" for n in ins], "    free(out);", "    free(scratch);", "    return bad;", "}"]
    return "\n".join(decls + body)


def test_kernels_under_sanitizers(tmp_path: Path) -> None:
    """Fixed-seed cases of every kernel, exact-size heap buffers: any stray byte is reported."""
    cases = []
    for k, build in sorted(BUILDERS.items()):
        for seed in range(6):
            rng = np.random.default_rng([seed, len(k)])
            cases.append(build(lambda options: list(options)[rng.integers(len(options))], rng))
    src = ["#include <stdint.h>", "#include <stdio.h>", "#include <stdlib.h>", "#include <string.h>",
           '#include "mnv3c_kernels_s16.h"',
           "static void *copy(const void *src, size_t n)",
           "{", "    void *dst = malloc(n);", "    memcpy(dst, src, n);", "    return dst;", "}"]
    src += [_c_case(i, c) for i, c in enumerate(cases)]
    src += ["int main(void)", "{", "    int failures = 0;", *[f"    failures += case{i}();" for i in range(len(cases))],
            '    printf("%d passed, %d failed\\n", ' + f"{len(cases)} - failures, failures);",
            "    return failures != 0;", "}", ""]
    driver = tmp_path / "driver.c"
    driver.write_text("\n".join(src))
    exe = _compile(tmp_path / "driver", ["-O1", "-g", "-fsanitize=address,undefined", "-fno-sanitize-recover=all",
                                         "-fno-omit-frame-pointer"], [driver])
    res = subprocess.run([str(exe)], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
    assert f"{len(cases)} passed, 0 failed" in res.stdout


# --- portability: freestanding cross builds, no float, no libc beyond memcpy/memset -----------------

CROSS = {
    "cortex-m7": ["arm-none-eabi-gcc", "-mcpu=cortex-m7", "-mthumb"],
    "cortex-m0": ["arm-none-eabi-gcc", "-mcpu=cortex-m0", "-mthumb", "-mfloat-abi=soft"],  # float would call __aeabi_f*
    "rv32imc": ["riscv64-unknown-elf-gcc", "-march=rv32imc", "-mabi=ilp32"],  # float would call __*sf*/__*df*
}
ALLOWED_UNDEFINED = {"memcpy", "memset", "__aeabi_lmul", "__muldi3"}  # 64-bit multiply helpers (SRDHM)


@pytest.mark.parametrize("target", sorted(CROSS))
def test_cross_compiles_freestanding(tmp_path: Path, target: str) -> None:
    cc, *flags = CROSS[target]
    if shutil.which(cc) is None:
        pytest.skip(f"{cc} not installed")
    nm = cc.replace("gcc", "nm")
    undefined: set[str] = set()
    for src in SOURCES:
        obj = tmp_path / f"{src.stem}.o"
        cmd = [cc, *STRICT, *flags, "-O2", "-ffreestanding", "-c", str(src), "-o", str(obj)]
        res = subprocess.run(cmd, capture_output=True, text=True)
        assert res.returncode == 0, f"{' '.join(cmd)}\n{res.stderr}"
        syms = subprocess.run([nm, "-u", str(obj)], capture_output=True, text=True, check=True).stdout.split()
        undefined |= {s for s in syms if s != "U" and not s.startswith("mnv3c_")}
    assert undefined <= ALLOWED_UNDEFINED


def test_sources_include_only_the_allowed_headers() -> None:
    allowed = {"stdint.h", "stddef.h", "string.h", "mnv3c_kernels.h", "mnv3c_requant.h", "mnv3c_kernels_s16.h",
               "mnv3c_requant_s16.h", "mnv3c_fixedpoint.h", "mnv3c_layer_norm_rows.h", "mnv3c_softmax_exp.h"}
    for src in [*SOURCES, *RUNTIME.glob("*.h")]:
        includes = set(re.findall(r'^#include [<"](.+)[>"]', src.read_text(), re.M))
        assert includes <= allowed, src.name


# --- fast paths of the optimized kernels: long reductions, odd pixel counts, interior vs border -----


def _conv_case_fixed(rng: np.random.Generator, c: int, o: int, h: int, w: int, kernel: tuple[int, int],
                     stride: int, pads: tuple[int, int, int, int], x_fill: int | None, w_fill: int | None) -> Case:
    """A conv2d case with chosen geometry; x_fill / w_fill force extreme constant data (lane bounds)."""
    g = dict(kernel=kernel, strides=(stride, stride), dilations=(1, 1), pads=pads, h=h, w=w,
             oh=_out(h, kernel[0], stride, pads[0], pads[2], 1), ow=_out(w, kernel[1], stride, pads[1], pads[3], 1))
    x = (np.full((1, c, h, w), x_fill) if x_fill is not None else rng.integers(-128, 128, (1, c, h, w))).astype(np.int8)
    wt = (np.full((o, c) + kernel, w_fill) if w_fill is not None else rng.integers(-127, 128, (o, c) + kernel)).astype(np.int8)
    abs_sums = np.abs(wt.astype(np.int64)).sum(axis=(1, 2, 3))
    bias = rng.integers(-1000, 1000, o).astype(np.int64)
    zx, zy = int(rng.integers(-128, 128)), int(rng.integers(-128, 128))
    mult, shift = _requant(lambda opts: list(opts)[0], rng, o, int((abs_sums * 255 + np.abs(bias)).max()))
    y = q.conv2d(x, wt, bias, zx, zy, mult, shift, g["strides"], g["pads"], g["dilations"], -128, 127, None)
    params = dict(_geometry(g), in_c=c, out_c=o, input_zp=zx, output_zp=zy, act_min=-128, act_max=127,
                  weights=wt.transpose(0, 2, 3, 1), bias_folded=bias - zx * wt.astype(np.int64).sum(axis=(1, 2, 3)),
                  out_mult=mult, out_shift=shift, lut=None)
    pointwise = kernel == (1, 1) and stride == 1 and pads == (0, 0, 0, 0)
    return Case("conv1x1_s8" if pointwise else "conv2d_s8", "conv2d", params, [nhwc(x)], nhwc(y))


@pytest.mark.parametrize("c", [254, 255, 256, 300, 511, 600, 1025])
@pytest.mark.parametrize("fill", [(None, None), (-128, -127), (-128, 127), (127, 127)])
def test_conv1x1_long_reductions(lib: ctypes.CDLL, c: int, fill: tuple[int | None, int | None]) -> None:
    """Two-pixel packed lanes over several 255-channel runs (and the > 1024 fallback), at the lane
    bound (|x| = 128, |w| = 127 everywhere), with an odd pixel count (the last pixel alone)."""
    rng = np.random.default_rng(c)
    case = _conv_case_fixed(rng, c, 7, 1, 3, (1, 1), 1, (0, 0, 0, 0), *fill)
    np.testing.assert_array_equal(run_ctypes(lib, case), case.expected)
    np.testing.assert_array_equal(run_ctypes(lib, replace(case, kernel="conv2d_s8")), case.expected)


@pytest.mark.parametrize("c,kernel", [(3, (3, 3)), (30, (3, 3)), (120, (3, 3)), (41, (5, 5))])
@pytest.mark.parametrize("stride", [1, 2])
def test_conv2d_packed_im2col(lib: ctypes.CDLL, c: int, kernel: tuple[int, int], stride: int) -> None:
    """conv2d's gathered two-pixel path (receptive field <= 1024 values, several lane runs) and its
    direct fallback (c = 120 with 3x3 = 1080 values), odd output pixel counts, padded borders."""
    rng = np.random.default_rng(c * stride)
    for fill in [(None, None), (-128, -127)]:
        case = _conv_case_fixed(rng, c, 5, 7, 5, kernel, stride, (1, 2, 1, 0), *fill)
        np.testing.assert_array_equal(run_ctypes(lib, case), case.expected)


@pytest.mark.parametrize("c", [1, 3, 4, 7, 20, 1025])
@pytest.mark.parametrize("kernel,stride,pads,hw", [((3, 3), 1, (1, 1, 1, 1), (9, 8)), ((3, 3), 2, (0, 1, 1, 1), (11, 10)),
                                                   ((5, 5), 1, (2, 2, 2, 2), (9, 7)), ((5, 5), 2, (1, 2, 2, 1), (12, 9)),
                                                   ((5, 5), 1, (2, 2, 2, 2), (3, 3))])
def test_depthwise_interior_and_border(lib: ctypes.CDLL, c: int, kernel: tuple[int, int], stride: int,
                                       pads: tuple[int, int, int, int], hw: tuple[int, int]) -> None:
    """Planes large enough to have interior pixels (straight sum) and border pixels (valid taps plus
    input_zp * sum w), channel counts with and without a 4-channel remainder, the > 1024 fallback."""
    rng = np.random.default_rng(c + 100 * stride)
    h, w = hw
    g = dict(kernel=kernel, strides=(stride, stride), dilations=(1, 1), pads=pads, h=h, w=w,
             oh=_out(h, kernel[0], stride, pads[0], pads[2], 1), ow=_out(w, kernel[1], stride, pads[1], pads[3], 1))
    for zx in (-128, 127, int(rng.integers(-128, 128))):
        x = rng.integers(-128, 128, (1, c, h, w)).astype(np.int8)
        wt = rng.choice(np.array([-127, 127]), (c, 1) + kernel).astype(np.int8) if zx == 127 else \
            rng.integers(-127, 128, (c, 1) + kernel).astype(np.int8)
        abs_sums = np.abs(wt.astype(np.int64)).sum(axis=(1, 2, 3))
        bias = rng.integers(-(2**20), 2**20, c).astype(np.int64)
        zy = int(rng.integers(-128, 128))
        mult, shift = _requant(lambda opts: list(opts)[0], rng, c, int((abs_sums * 255 + np.abs(bias)).max()))
        y = q.depthwise_conv2d(x, wt, bias, zx, zy, mult, shift, g["strides"], g["pads"], g["dilations"], -128, 127, None)
        params = dict(_geometry(g), in_c=c, ch_mult=1, input_zp=zx, output_zp=zy, act_min=-128, act_max=127,
                      weights=wt[:, 0].transpose(1, 2, 0), bias_folded=bias - zx * wt.astype(np.int64).sum(axis=(1, 2, 3)),
                      out_mult=mult, out_shift=shift, lut=None)
        case = Case("depthwise_conv2d_s8", "depthwise_conv2d", params, [nhwc(x)], nhwc(y))
        np.testing.assert_array_equal(run_ctypes(lib, case), case.expected)
