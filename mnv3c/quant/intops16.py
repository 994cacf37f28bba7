"""Integer reference kernels of the 16x8 scheme (int16 activations, int8 weights): the executable
form of docs/ARITHMETIC.md's "int16" section, which the C kernels `*_s16.c` reproduce byte for byte.

TFLite's 16x8 quantization: activations symmetric int16 (zero point 0), weights symmetric int8 per
output channel, int64 bias and accumulator for conv/depthwise/dense, requantized by TFLite's int64
MultiplyByQuantizedMultiplier (`mbqm64`: a 16-bit "reduced" multiplier and one rounding shift).
Add uses TFLite's int16 left shift of 15; the other kernels (mul, pools) reuse the int32 helpers of `intops`.
Activation tables have 513 int16 entries with linear interpolation, as TFLite's int16 LUTs; a fused
hard-swish is computed instead (`hard_swish16`): its quadratic part spans [-3, 3], a few table
entries when the pre-activation range is wide (PP-OCRv3's recogniser: +-172, 9 entries), and the
interpolation error of x(x+3)/6 then reached several output codes. TFLite has no int16 HARD_SWISH.
"""

from __future__ import annotations

from typing import Callable, NamedTuple, Sequence

import numpy as np

from mnv3c.quant.intops import (AddParams, ArrayLike, Pads, Pair, _i32, _mbqm64,
                                _per_channel, _taps, _valid_count, mbqm, quantize_multiplier,
                                round_half_away)

INT16_MIN, INT16_MAX = -(1 << 15), (1 << 15) - 1
ADD_LEFT_SHIFT_16 = 15
ACC_LIMIT_64 = 1 << 47  # mbqm64's input bound (TFLite asserts it)
LUT16_SIZE = 513


def reduced_multiplier(multiplier: ArrayLike) -> np.ndarray:
    """TFLite's 16-bit multiplier of a Q31 one: (m + 2^15) >> 16, capped at 0x7FFF."""
    m = np.asarray(multiplier, dtype=np.int64)
    return np.where(m < 0x7FFF0000, (m + (1 << 15)) >> 16, 0x7FFF)


def mbqm64(x: ArrayLike, multiplier: ArrayLike, shift: ArrayLike) -> np.ndarray:
    """TFLite's int64 MultiplyByQuantizedMultiplier: (x · reduced(m) + 2^(14 - s)) >> (15 - s),
    a floor shift (ties round up), for |x| < 2^47 and shift in [-31, 7]; the result is an int32."""
    x64 = np.asarray(x, dtype=np.int64)
    s = np.asarray(shift, dtype=np.int64)
    if s.size and (s.min() < -31 or s.max() > 7):
        raise ValueError(f"mbqm64 shift must be in [-31, 7], got [{s.min()}, {s.max()}]")
    if x64.size and (x64.min() < -ACC_LIMIT_64 or x64.max() >= ACC_LIMIT_64):
        raise OverflowError(f"mbqm64 input leaves [-2^47, 2^47): [{x64.min()}, {x64.max()}]")
    total = 15 - s
    y = (x64 * reduced_multiplier(multiplier) + (np.int64(1) << (total - 1))) >> total
    return _i32(y, "mbqm64 result")


def mul16(a: np.ndarray, b: np.ndarray, multiplier: int, shift: int, lo: int = INT16_MIN,
          hi: int = INT16_MAX) -> np.ndarray:
    """TFLite's int16 Mul (zero points 0): clamp16(MBQM(a·b, M, S), lo, hi), numpy broadcasting;
    |a·b| <= 2^30 fits the int32 MBQM of `intops`."""
    acc = a.astype(np.int64) * b.astype(np.int64)
    return np.clip(mbqm(acc, multiplier, shift), lo, hi).astype(np.int16)


def lut16(x: np.ndarray, table: np.ndarray) -> np.ndarray:
    """TFLite's int16 LUTLookup: entry (x >> 7) + 256, interpolated by the low 7 bits, rounded."""
    if table.shape != (LUT16_SIZE,):
        raise ValueError(f"an int16 LUT has {LUT16_SIZE} entries, got shape {table.shape}")
    v = np.asarray(x, dtype=np.int64)
    t = np.asarray(table, dtype=np.int64)
    index = (v >> 7) + 256
    base = t[index]
    delta = ((t[index + 1] - base) * (v & 0x7F) + 64) >> 7
    return (base + delta).astype(np.int16)


def make_lut16(f: Callable[[np.ndarray], np.ndarray], sx: float, sy: float) -> np.ndarray:
    """The 513-entry table of ``f`` from int16 scale ``sx`` to int16 scale ``sy``: entry i holds
    f at x = (i - 256) · 128 codes (the last one, 32768, is only interpolated towards)."""
    x = sx * (np.arange(LUT16_SIZE, dtype=np.float64) - 256) * 128
    y = round_half_away(np.asarray(f(x), dtype=np.float64) / sy)
    return np.clip(y, INT16_MIN, INT16_MAX).astype(np.int16)


class HardSwish16(NamedTuple):
    """The integer hard-swish stage `hard_swish16`: pre-activation codes t (scale st) to codes of sy."""

    frac_bits: int  # F: the gate's ramp is computed in 2^-F input codes
    offset: int  # round(3 / st · 2^F)
    width: int  # round(6 / st · 2^F), at most the largest ramp value an int16 code reaches
    multiplier: int  # with shift: Q(st² / (6 · sy · 2^F))
    shift: int


HSWISH_MAX_FRAC_BITS = 16


def hard_swish16(t: np.ndarray, p: HardSwish16) -> np.ndarray:
    """x · relu6(x + 3) / 6 on int16 codes: u = t · 2^F + offset, g = clamp(u, 0, width) (the ramp
    x + 3 in 2^-F codes), y = clamp16(mbqm64(t · g, M, S)); |t · g| < 2^15 · 2^31 (`hswish_params`)."""
    t64 = np.asarray(t, dtype=np.int64)
    g = np.clip(t64 * (1 << p.frac_bits) + p.offset, 0, p.width)
    return np.clip(mbqm64(t64 * g, p.multiplier, p.shift), INT16_MIN, INT16_MAX).astype(np.int16)


def hswish_params(st: float, sy: float) -> HardSwish16:
    """The `hard_swish16` stage from pre-activation scale ``st`` to output scale ``sy``: the most
    fraction bits F (at most HSWISH_MAX_FRAC_BITS) with offset and width in int32 and a
    multiplier mbqm64 represents (not flushed to 0, result in int32); ValueError when no F has."""
    for f in range(HSWISH_MAX_FRAC_BITS, -1, -1):
        offset = int(round_half_away(3.0 / st * (1 << f)))
        ramp_top = INT16_MAX * (1 << f) + offset  # the largest u an int16 code reaches
        width = min(int(round_half_away(6.0 / st * (1 << f))), ramp_top)
        real = st * st / (6.0 * sy * (1 << f))
        m, s = quantize_multiplier(real)
        if ramp_top < 1 << 31 and m != 0 and (1 << 15) * width * real < 2.0 ** 31:
            return HardSwish16(f, offset, width, m, s)
    raise ValueError(f"no int16 hard-swish stage for scales {st!r} -> {sy!r}")


def activate16(t: np.ndarray, lut: np.ndarray | None = None, hswish: HardSwish16 | None = None) -> np.ndarray:
    """The fused activation of an int16 output stage: the table, the hard-swish stage, or none."""
    if lut is not None:
        return lut16(t, lut)
    return t if hswish is None else hard_swish16(t, hswish)


def requantize16(acc: np.ndarray, multiplier: ArrayLike, shift: ArrayLike, lo: int = INT16_MIN,
                 hi: int = INT16_MAX, lut: np.ndarray | None = None, axis: int = 1,
                 hswish: HardSwish16 | None = None) -> np.ndarray:
    """clamp16(mbqm64(acc, M[c], S[c]), lo, hi), then the optional fused activation (`activate16`)."""
    m = _per_channel(multiplier, acc.ndim, axis)
    s = _per_channel(shift, acc.ndim, axis)
    return activate16(np.clip(mbqm64(acc, m, s), lo, hi).astype(np.int16), lut, hswish)


def _acc64(acc: np.ndarray, bias: ArrayLike | None) -> np.ndarray:
    acc = np.asarray(acc, dtype=np.int64)
    if bias is not None:
        acc = acc + _per_channel(bias, acc.ndim, 1)
    return acc


def conv2d(x: np.ndarray, w: np.ndarray, bias: ArrayLike | None, multiplier: ArrayLike, shift: ArrayLike,
           strides: Pair = (1, 1), pads: Pads = (0, 0, 0, 0), dilations: Pair = (1, 1), lo: int = INT16_MIN,
           hi: int = INT16_MAX, lut: np.ndarray | None = None, hswish: HardSwish16 | None = None) -> np.ndarray:
    """Convolution (group 1): x[N,C,H,W] int16, w[O,C,kh,kw] int8, bias int64 -> y int16."""
    wl = w.astype(np.int64)
    acc = None
    for ky, kx, patch in _taps(x, 0, w.shape[2:], strides, pads, dilations):
        term = np.einsum("nchw,oc->nohw", patch, wl[:, :, ky, kx])
        acc = term if acc is None else acc + term
    return requantize16(_acc64(acc, bias), multiplier, shift, lo, hi, lut, hswish=hswish)


def depthwise_conv2d(x: np.ndarray, w: np.ndarray, bias: ArrayLike | None, multiplier: ArrayLike,
                     shift: ArrayLike, strides: Pair = (1, 1), pads: Pads = (0, 0, 0, 0),
                     dilations: Pair = (1, 1), lo: int = INT16_MIN, hi: int = INT16_MAX,
                     lut: np.ndarray | None = None, hswish: HardSwish16 | None = None) -> np.ndarray:
    """Depthwise conv: w[C·m,1,kh,kw]; output channel o reads input channel o // m."""
    m = w.shape[0] // x.shape[1]
    wl = w.astype(np.int64)
    acc = None
    for ky, kx, patch in _taps(x, 0, w.shape[2:], strides, pads, dilations):
        term = (np.repeat(patch, m, axis=1) if m > 1 else patch) * wl[None, :, 0, ky, kx, None, None]
        acc = term if acc is None else acc + term
    return requantize16(_acc64(acc, bias), multiplier, shift, lo, hi, lut, hswish=hswish)


def dense(x: np.ndarray, w: np.ndarray, bias: ArrayLike | None, multiplier: ArrayLike, shift: ArrayLike,
          lo: int = INT16_MIN, hi: int = INT16_MAX, lut: np.ndarray | None = None,
          hswish: HardSwish16 | None = None) -> np.ndarray:
    """Fully connected: x[N,K] int16, w[M,K] int8, bias int64 -> y[N,M] int16."""
    acc = x.astype(np.int64) @ w.astype(np.int64).T
    return requantize16(_acc64(acc, bias), multiplier, shift, lo, hi, lut, hswish=hswish)


def add(a: np.ndarray, b: np.ndarray, p: AddParams, lo: int = INT16_MIN, hi: int = INT16_MAX,
        lut: np.ndarray | None = None, hswish: HardSwish16 | None = None) -> np.ndarray:
    """Residual add: both inputs shifted left by 15 and rescaled to a common domain (int32)."""
    a2 = _mbqm64(a.astype(np.int64) << ADD_LEFT_SHIFT_16, p.ma, p.sa)
    b2 = _mbqm64(b.astype(np.int64) << ADD_LEFT_SHIFT_16, p.mb, p.sb)
    acc = _i32(a2 + b2, "add16 sum")
    return activate16(np.clip(_mbqm64(acc, p.my, p.sy), lo, hi).astype(np.int16), lut, hswish)


def global_avg_pool(x: np.ndarray, multiplier: int, shift: int) -> np.ndarray:
    """Mean over H, W: the int32 sum requantized by Q(sx / (sy · H·W)) (int16 in and out)."""
    acc = _i32(x.astype(np.int64).sum(axis=(2, 3)), "pool16 sum")
    return np.clip(_mbqm64(acc, multiplier, shift), INT16_MIN, INT16_MAX).astype(np.int16)


def avg_pool(x: np.ndarray, mult_table: np.ndarray, shift_table: np.ndarray, kernel: Pair, strides: Pair,
             pads: Pads = (0, 0, 0, 0)) -> np.ndarray:
    """Average over the valid taps of each window; tables indexed by the number of valid taps."""
    acc = sum(p for _, _, p in _taps(x, 0, kernel, strides, pads, (1, 1)))
    n = _valid_count(x.shape, kernel, strides, pads, (1, 1))
    y = _mbqm64(_i32(acc, "avg_pool16 sum"), np.asarray(mult_table, np.int64)[n], np.asarray(shift_table, np.int64)[n])
    return np.clip(y, INT16_MIN, INT16_MAX).astype(np.int16)


def max_pool(x: np.ndarray, kernel: Pair, strides: Pair, pads: Pads = (0, 0, 0, 0),
             dilations: Pair = (1, 1)) -> np.ndarray:
    """Max of the valid taps; padding never wins (a window with no valid tap gives -32768)."""
    shifted = x.astype(np.int64) + (1 - INT16_MIN)  # valid taps >= 1, padding (0) never wins
    out = None
    for _, _, p in _taps(shifted, 0, kernel, strides, pads, dilations):
        out = p if out is None else np.maximum(out, p)
    return (np.maximum(out, 1) + INT16_MIN - 1).astype(np.int16)


class DenseQ16(NamedTuple):
    """One quantized fully connected layer of an int16 squeeze-excite block."""

    w: np.ndarray
    bias: np.ndarray | None
    multiplier: ArrayLike
    shift: ArrayLike
    lo: int = INT16_MIN
    hi: int = INT16_MAX
    lut: np.ndarray | None = None


def squeeze_excite(x: np.ndarray, pool_multiplier: int, pool_shift: int, fc1: DenseQ16, fc2: DenseQ16,
                   mul_multiplier: int, mul_shift: int, lo: int = INT16_MIN, hi: int = INT16_MAX) -> np.ndarray:
    """y = x · gate, all int16: pool -> fc1 -> fc2 (+ gate LUT) -> clamp(MBQM(x · g), lo, hi)."""
    p = global_avg_pool(x, pool_multiplier, pool_shift)
    r = dense(p, fc1.w, fc1.bias, fc1.multiplier, fc1.shift, fc1.lo, fc1.hi, fc1.lut)
    g = dense(r, fc2.w, fc2.bias, fc2.multiplier, fc2.shift, fc2.lo, fc2.hi, fc2.lut)
    acc = x.astype(np.int64) * g[:, :, None, None].astype(np.int64)  # |x·g| <= 2^30: an int32
    return np.clip(_mbqm64(_i32(acc, "se16 product"), mul_multiplier, mul_shift), lo, hi).astype(np.int16)


def requantize_copy16(x: np.ndarray, multiplier: int, shift: int) -> np.ndarray:
    """TFLite's int16 -> int16 REQUANTIZE (zero points 0): clamp16(MBQM(x, Q(sx / sy))), the int32
    MBQM of `intops` (SRDHM then RDBP: ties away from zero). |x| <= 2^15, so x · 2^shift fits an
    int32 for every shift <= 16, which the quantizer checks."""
    return np.clip(_mbqm64(x.astype(np.int64), multiplier, shift), INT16_MIN, INT16_MAX).astype(np.int16)


def concat(xs: Sequence[np.ndarray], axis: int, requant: Sequence[tuple[int, int, int] | None]) -> np.ndarray:
    """Concatenation of int16 tensors along ``axis``, as the int8 `intops.concat` with zero points 0:
    input i is copied (None: it has y's scale) or requantized by `requantize_copy16` with its
    (0, M, S), M,S = Q(s_i / s_y)."""
    parts = [x if r is None else requantize_copy16(x, r[1], r[2]) for x, r in zip(xs, requant)]
    return np.concatenate(parts, axis=axis)


def int8_to_int16(x: np.ndarray, zx: int, multiplier: int, shift: int) -> np.ndarray:
    """Boundary converter: clamp16(MBQM(x - zx, Q(s8 / s16)))."""
    y = _mbqm64(x.astype(np.int64) - zx, multiplier, shift)
    return np.clip(y, INT16_MIN, INT16_MAX).astype(np.int16)


def int16_to_int8(x: np.ndarray, zy: int, multiplier: int, shift: int) -> np.ndarray:
    """Boundary converter: clamp8(MBQM(x, Q(s16 / s8)) + zy)."""
    y = _mbqm64(x.astype(np.int64), multiplier, shift) + zy
    return np.clip(y, -128, 127).astype(np.int8)

