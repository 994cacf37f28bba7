"""Integer reference kernels: the executable form of docs/ARITHMETIC.md.

Every function here is what the C kernels in `mnv3c/runtime_c/` must reproduce byte for byte, so
the code follows the document literally (same helper names, same evaluation order) rather than
being clever. Layout is NCHW like the IR; intermediates are int64 numpy arrays that are checked to
stay in int32 range wherever the C code holds an int32, so a contract violation raises instead of
silently differing from the C (where it would be undefined behaviour).
"""

from __future__ import annotations

import math
from typing import Callable, Iterator, NamedTuple, Sequence

import numpy as np

INT32_MIN = -(1 << 31)
INT32_MAX = (1 << 31) - 1
ADD_LEFT_SHIFT = 20

ArrayLike = np.ndarray | int | Sequence[int]
Pair = tuple[int, int]
Pads = tuple[int, int, int, int]  # (top, left, bottom, right), as in the IR


# --- fixed-point helpers ------------------------------------------------------------------------


def _i32(x: ArrayLike, what: str) -> np.ndarray:
    """``x`` as int64, asserting every value is an int32 (what the C code would hold)."""
    a = np.asarray(x, dtype=np.int64)
    if a.size and (a.min() < INT32_MIN or a.max() > INT32_MAX):
        raise OverflowError(f"{what} leaves int32 range [{a.min()}, {a.max()}]")
    return a


def srdhm(a: ArrayLike, b: ArrayLike) -> np.ndarray:
    """SaturatingRoundingDoublingHighMul, elementwise (numpy broadcasting)."""
    a64, b64 = _i32(a, "srdhm a"), _i32(b, "srdhm b")
    ab = a64 * b64  # |ab| <= 2^62: exact in int64
    v = ab + np.where(ab >= 0, 1 << 30, 1 - (1 << 30))
    q = np.where(v >= 0, v >> 31, -((-v) >> 31))  # C division truncates toward zero
    saturate = (a64 == INT32_MIN) & (b64 == INT32_MIN)
    return np.where(saturate, INT32_MAX, q).astype(np.int32)


def rdbp(x: ArrayLike, exponent: ArrayLike) -> np.ndarray:
    """RoundingDivideByPOT: x / 2^exponent rounded to nearest, ties away from zero."""
    x64 = _i32(x, "rdbp x")
    e = np.asarray(exponent, dtype=np.int64)
    if e.size and (e.min() < 0 or e.max() > 31):
        raise ValueError(f"rdbp exponent must be in [0, 31], got [{e.min()}, {e.max()}]")
    mask = (np.int64(1) << e) - 1
    remainder = x64 & mask
    threshold = (mask >> 1) + (x64 < 0)
    return ((x64 >> e) + (remainder > threshold)).astype(np.int32)


def mbqm(x: ArrayLike, multiplier: ArrayLike, shift: ArrayLike) -> np.ndarray:
    """MultiplyByQuantizedMultiplier: x · multiplier · 2^(shift - 31), TFLite double rounding."""
    s = np.asarray(shift, dtype=np.int64)
    if s.size and (s.min() < -31 or s.max() > 30):
        raise ValueError(f"shift must be in [-31, 30], got [{s.min()}, {s.max()}]")
    left, right = np.maximum(s, 0), np.maximum(-s, 0)
    scaled = _i32(_i32(x, "mbqm x") << left, "mbqm x * (1 << left)")  # the quantizer's guarantee
    return rdbp(srdhm(scaled, multiplier), right)


def _mbqm64(x: ArrayLike, multiplier: ArrayLike, shift: ArrayLike) -> np.ndarray:
    """`mbqm` as int64, bit-identical, in fewer passes: the fast path of `requantize` and `add`.

    `srdhm`, `rdbp` and `mbqm` above are the reference text (tested against it exhaustively on
    edge values and random values in tests/test_intops.py). Why the shortcuts are exact, with
    ab = a·b (|ab| <= 2^62, so nothing below overflows int64) and ``>>`` the arithmetic (floor)
    shift:

    * SRDHM: the nudged v = ab + nudge has the sign of ab (ab >= 0 -> v >= 2^30; ab < 0 ->
      v <= -2^30). For v >= 0, trunc(v / 2^31) = floor((ab + 2^30) / 2^31). For v < 0,
      trunc(v / 2^31) = ceil(v / 2^31) = floor((v + 2^31 - 1) / 2^31) = floor((ab + 2^30) / 2^31).
      So q = (ab + 2^30) >> 31 for every sign. Its range: ab >= -2^31·(2^31 - 1) gives
      q >= -2^31 + 1; ab <= 2^62 - 2^31 unless a == b == INT32_MIN, giving q <= INT32_MAX; that
      one pair gives q = 2^31, which ``min(q, INT32_MAX)`` turns into the saturated INT32_MAX.
    * RDBP with e >= 1: the spec adds 1 to floor(x / 2^e) iff remainder > threshold, i.e.
      remainder >= 2^e - c with c = mask - threshold = 2^(e-1) - [x < 0] (in [0, 2^e - 1]);
      hence the result is floor((x + c) / 2^e) = (x + 2^(e-1) - [x < 0]) >> e. With e == 0
      the spec returns x (remainder 0 never exceeds threshold >= 0), so c must be 0 there:
      c = ((1 << e) >> 1) + ((x >> 63) & -[e > 0]) covers both ((x >> 63) is -1 iff x < 0).
    """
    x64 = _i32(x, "mbqm x")
    s = np.asarray(shift, dtype=np.int64)
    if s.size and (s.min() < -31 or s.max() > 30):
        raise ValueError(f"shift must be in [-31, 30], got [{s.min()}, {s.max()}]")
    m = _i32(multiplier, "srdhm b")
    left, right = np.maximum(s, 0), np.maximum(-s, 0)
    if left.any():
        x64 = _i32(x64 << left, "mbqm x * (1 << left)")  # the quantizer's guarantee
    q = x64 * m  # a fresh array: every step below is in place
    q += 1 << 30
    q >>= 31
    if m.size and m.min() == INT32_MIN:  # only a == b == INT32_MIN can exceed INT32_MAX
        np.minimum(q, INT32_MAX, out=q)
    if not right.any():
        return q
    half = (np.int64(1) << right) >> 1
    if right.min() > 0:  # every channel shifts: c = 2^(e-1) - [x < 0]
        c = q >> 63
    else:
        c = (q >> 63) & -(right > 0).astype(np.int64)
    c += half
    q += c
    q >>= right
    return q


def round_half_away(v: np.ndarray | float) -> np.ndarray:
    """Round to nearest, ties away from zero (C's round()), exactly: no ``|v| + 0.5`` float error."""
    a = np.abs(np.asarray(v, dtype=np.float64))
    f = np.floor(a)
    r = f + (a - f >= 0.5)  # a - floor(a) is exact in binary floating point
    return (np.sign(v) * r).astype(np.int64)


class MultiplierRangeError(ValueError):
    """A requantization multiplier the int8 kernels cannot represent (the model's scales are extreme)."""


def quantize_multiplier(real: float) -> tuple[int, int]:
    """TFLite's QuantizeMultiplier: (multiplier, shift) with real = multiplier · 2^(shift - 31).

    Reals below about 2^-32 flush to (0, 0) exactly like TFLite; reals that would need a shift
    above 30 (>= 2^30) or negative/non-finite reals are rejected, the kernels cannot represent them.
    """
    if not math.isfinite(real) or real < 0:
        raise MultiplierRangeError(f"multiplier must be a finite non-negative real, got {real!r}")
    if real == 0:
        return 0, 0
    q, shift = math.frexp(real)  # real = q · 2^shift, q in [0.5, 1)
    q_fixed = int(round_half_away(q * (1 << 31)))  # q · 2^31 is exact in a double
    if q_fixed == 1 << 31:
        q_fixed //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    if shift > 30:
        raise MultiplierRangeError(f"multiplier {real!r} is too large (shift {shift} > 30)")
    return q_fixed, shift


# --- requantization and activation tables --------------------------------------------------------


def _per_channel(v: ArrayLike, ndim: int, axis: int) -> np.ndarray:
    """A scalar or per-channel vector shaped to broadcast along ``axis`` of an ndim array."""
    a = np.asarray(v, dtype=np.int64)
    if a.ndim == 0:
        return a
    shape = [1] * ndim
    shape[axis] = a.size
    return a.reshape(shape)


def requantize(
    acc: np.ndarray,
    multiplier: ArrayLike,
    shift: ArrayLike,
    zy: int,
    lo: int = -128,
    hi: int = 127,
    lut: np.ndarray | None = None,
    axis: int = 1,
) -> np.ndarray:
    """clamp8(MBQM(acc, M[c], S[c]) + zy, lo, hi), then the optional fused LUT (int8 result)."""
    m = _per_channel(multiplier, acc.ndim, axis)
    s = _per_channel(shift, acc.ndim, axis)
    y = _mbqm64(acc, m, s)  # = mbqm(acc, m, s), as a fresh int64 array
    y += zy
    t = np.clip(y, lo, hi, out=y).astype(np.int8)
    return t if lut is None else apply_lut(t, lut)


def make_lut(f: Callable[[np.ndarray], np.ndarray], st: float, zt: int, sy: float, zy: int) -> np.ndarray:
    """The 256-entry table of a fused activation ``f`` from (st, zt) to (sy, zy), in float64."""
    x = st * (np.arange(256, dtype=np.float64) - 128 - zt)
    y = round_half_away(np.asarray(f(x), dtype=np.float64) / sy) + zy
    return np.clip(y, -128, 127).astype(np.int8)


def apply_lut(x: np.ndarray, table: np.ndarray) -> np.ndarray:
    """y = table[x + 128]."""
    if table.shape != (256,):
        raise ValueError(f"a LUT has 256 entries, got shape {table.shape}")
    x = np.asarray(x)
    if x.dtype == np.int8:  # same lookup without an int64 index copy: x's byte u is x + 128 ^ 128
        return np.roll(np.asarray(table, dtype=np.int8), 128)[x.view(np.uint8)]
    return np.asarray(table, dtype=np.int8)[np.asarray(x, dtype=np.int64) + 128]


lut = apply_lut  # the standalone kernel under the document's name (kernels take a `lut=` argument)


# --- layers with weights -------------------------------------------------------------------------


def _out_size(size: int, k: int, stride: int, pad0: int, pad1: int, dilation: int) -> int:
    n = (size + pad0 + pad1 - dilation * (k - 1) - 1) // stride + 1
    if n < 1:
        raise ValueError("the window does not fit the padded input")
    return n


def _taps(
    x: np.ndarray, zx: int, kernel: Pair, strides: Pair, pads: Pads, dilations: Pair
) -> Iterator[tuple[int, int, np.ndarray]]:
    """Yield (ky, kx, patch[N,C,OH,OW]) of x - zx; padded positions hold 0 (the real value 0)."""
    (kh, kw), (sh, sw), (pt, pl, pb, pr), (dh, dw) = kernel, strides, pads, dilations
    _, _, h, w = x.shape
    oh, ow = _out_size(h, kh, sh, pt, pb, dh), _out_size(w, kw, sw, pl, pr, dw)
    xp = np.pad(x.astype(np.int64) - zx, ((0, 0), (0, 0), (pt, pb), (pl, pr)))
    for ky in range(kh):
        for kx in range(kw):
            y0, x0 = ky * dh, kx * dw
            yield ky, kx, xp[:, :, y0 : y0 + sh * (oh - 1) + 1 : sh, x0 : x0 + sw * (ow - 1) + 1 : sw]


def _with_bias(acc: np.ndarray, bias: ArrayLike | None) -> np.ndarray:
    if bias is not None:
        acc = acc + _per_channel(_i32(bias, "bias"), acc.ndim, 1)
    return _i32(acc, "accumulator")  # the quantizer guarantees Σ|w|·255 + |bias| < 2^31


def conv2d(
    x: np.ndarray,
    w: np.ndarray,
    bias: ArrayLike | None,
    zx: int,
    zy: int,
    multiplier: ArrayLike,
    shift: ArrayLike,
    strides: Pair = (1, 1),
    pads: Pads = (0, 0, 0, 0),
    dilations: Pair = (1, 1),
    lo: int = -128,
    hi: int = 127,
    lut: np.ndarray | None = None,
) -> np.ndarray:
    """Convolution (group 1): x[N,C,H,W] int8, w[O,C,kh,kw] int8 -> y[N,O,OH,OW] int8."""
    wl = w.astype(np.int64)
    acc = None
    for ky, kx, patch in _taps(x, zx, w.shape[2:], strides, pads, dilations):
        term = np.einsum("nchw,oc->nohw", patch, wl[:, :, ky, kx])
        acc = term if acc is None else acc + term
    return requantize(_with_bias(acc, bias), multiplier, shift, zy, lo, hi, lut)


def depthwise_conv2d(
    x: np.ndarray,
    w: np.ndarray,
    bias: ArrayLike | None,
    zx: int,
    zy: int,
    multiplier: ArrayLike,
    shift: ArrayLike,
    strides: Pair = (1, 1),
    pads: Pads = (0, 0, 0, 0),
    dilations: Pair = (1, 1),
    lo: int = -128,
    hi: int = 127,
    lut: np.ndarray | None = None,
) -> np.ndarray:
    """Depthwise conv: w[C·m,1,kh,kw]; output channel o reads input channel o // m (ONNX groups)."""
    m = w.shape[0] // x.shape[1]
    if w.shape[1] != 1 or m * x.shape[1] != w.shape[0]:
        raise ValueError(f"depthwise weights {w.shape} do not match {x.shape[1]} input channels")
    wl = w.astype(np.int64)
    acc = None
    for ky, kx, patch in _taps(x, zx, w.shape[2:], strides, pads, dilations):
        term = (np.repeat(patch, m, axis=1) if m > 1 else patch) * wl[None, :, 0, ky, kx, None, None]
        acc = term if acc is None else acc + term
    return requantize(_with_bias(acc, bias), multiplier, shift, zy, lo, hi, lut)


def dense(
    x: np.ndarray,
    w: np.ndarray,
    bias: ArrayLike | None,
    zx: int,
    zy: int,
    multiplier: ArrayLike,
    shift: ArrayLike,
    lo: int = -128,
    hi: int = 127,
    lut: np.ndarray | None = None,
) -> np.ndarray:
    """Fully connected: x[N,K] int8, w[M,K] int8 -> y[N,M] int8 (y = x @ w.T + b)."""
    acc = (x.astype(np.int64) - zx) @ w.astype(np.int64).T
    return requantize(_with_bias(acc, bias), multiplier, shift, zy, lo, hi, lut)


# --- elementwise ---------------------------------------------------------------------------------


class AddParams(NamedTuple):
    """The three (multiplier, shift) pairs of TFLite's int8 Add."""

    ma: int
    sa: int
    mb: int
    sb: int
    my: int
    sy: int


def add_params(sa: float, sb: float, sy: float, left_shift: int = ADD_LEFT_SHIFT) -> AddParams:
    """Multipliers of `add` for input scales sa, sb and output scale sy (TFLite's PrepareAdd;
    ``left_shift`` 20 for int8, 15 for int16)."""
    tm = 2 * max(sa, sb)
    return AddParams(
        *quantize_multiplier(sa / tm),
        *quantize_multiplier(sb / tm),
        *quantize_multiplier(tm / ((1 << left_shift) * sy)),
    )


def add(
    a: np.ndarray,
    za: int,
    b: np.ndarray,
    zb: int,
    p: AddParams,
    zy: int,
    lo: int = -128,
    hi: int = 127,
    lut: np.ndarray | None = None,
) -> np.ndarray:
    """Residual add (numpy broadcasting): both inputs rescaled to a common 2^20-scaled domain."""
    a2 = _mbqm64((a.astype(np.int64) - za) << ADD_LEFT_SHIFT, p.ma, p.sa)  # = mbqm(...)
    b2 = _mbqm64((b.astype(np.int64) - zb) << ADD_LEFT_SHIFT, p.mb, p.sb)
    a2 += b2
    acc = _i32(a2, "add sum")
    return requantize(acc, p.my, p.sy, zy, lo, hi, lut)


def mul(
    a: np.ndarray,
    za: int,
    b: np.ndarray,
    zb: int,
    multiplier: int,
    shift: int,
    zy: int,
    lo: int = -128,
    hi: int = 127,
) -> np.ndarray:
    """Elementwise product (numpy broadcasting, e.g. b[N,C,1,1] for the SE channel scale)."""
    acc = (a.astype(np.int64) - za) * (b.astype(np.int64) - zb)
    return requantize(acc, multiplier, shift, zy, lo, hi)


# --- pooling -------------------------------------------------------------------------------------


def global_avg_pool(x: np.ndarray, zx: int, zy: int, multiplier: int, shift: int) -> np.ndarray:
    """Mean over H, W: x[N,C,H,W] -> y[N,C] int8 with M,S = Q(sx / (sy · H·W))."""
    acc = (x.astype(np.int64) - zx).sum(axis=(2, 3))
    return requantize(acc, multiplier, shift, zy)


def avg_pool_multipliers(sx: float, sy: float, kernel: Pair) -> tuple[np.ndarray, np.ndarray]:
    """Per-divisor (M, S) tables indexed by the number of valid taps n (entry 0 unused, = (0, 0))."""
    pairs = [(0, 0)] + [quantize_multiplier(sx / (sy * n)) for n in range(1, kernel[0] * kernel[1] + 1)]
    m, s = zip(*pairs)
    return np.array(m, dtype=np.int32), np.array(s, dtype=np.int8)


def _valid_count(shape: tuple[int, ...], kernel: Pair, strides: Pair, pads: Pads, dilations: Pair) -> np.ndarray:
    """Number of non-padding taps of each output window, [OH, OW]."""
    ones = np.ones((1, 1) + tuple(shape[2:]), dtype=np.int8)
    return sum(p for _, _, p in _taps(ones, 0, kernel, strides, pads, dilations))[0, 0]


def avg_pool(
    x: np.ndarray,
    zx: int,
    zy: int,
    mult_table: np.ndarray,
    shift_table: np.ndarray,
    kernel: Pair,
    strides: Pair,
    pads: Pads = (0, 0, 0, 0),
) -> np.ndarray:
    """Average over the valid taps of each window (count_include_pad false); tables as above."""
    acc = sum(p for _, _, p in _taps(x, zx, kernel, strides, pads, (1, 1)))
    n = _valid_count(x.shape, kernel, strides, pads, (1, 1))
    m = np.asarray(mult_table, dtype=np.int64)[n]
    s = np.asarray(shift_table, dtype=np.int64)[n]
    y = _mbqm64(acc, m, s)  # = mbqm(acc, m, s)
    y += zy
    return np.clip(y, -128, 127, out=y).astype(np.int8)


def max_pool(
    x: np.ndarray,
    kernel: Pair,
    strides: Pair,
    pads: Pads = (0, 0, 0, 0),
    dilations: Pair = (1, 1),
) -> np.ndarray:
    """Max of the valid taps; padding never wins (a window with no valid tap gives -128)."""
    shifted = x.astype(np.int64) + 129  # valid taps >= 1, padding (0) never wins
    out = None
    for _, _, p in _taps(shifted, 0, kernel, strides, pads, dilations):
        out = p if out is None else np.maximum(out, p)
    return (np.maximum(out, 1) - 129).astype(np.int8)


# --- squeeze-and-excite --------------------------------------------------------------------------


class DenseQ(NamedTuple):
    """One quantized fully connected layer of a squeeze-excite block (its input zp is implied)."""

    w: np.ndarray
    bias: np.ndarray | None
    zy: int
    multiplier: ArrayLike
    shift: ArrayLike
    lo: int = -128
    hi: int = 127
    lut: np.ndarray | None = None


def squeeze_excite(
    x: np.ndarray,
    zx: int,
    pool_zy: int,
    pool_multiplier: int,
    pool_shift: int,
    fc1: DenseQ,
    fc2: DenseQ,
    gate_zp: int,
    mul_multiplier: int,
    mul_shift: int,
    zy: int,
    lo: int = -128,
    hi: int = 127,
) -> np.ndarray:
    """y = x · gate: pool -> fc1 (fused relu) -> fc2 (fused h-sigmoid LUT, zero point gate_zp) -> mul.

    fc1 reads the pool output (zero point pool_zy), fc2 reads fc1's output (zero point fc1.zy).
    """
    p = global_avg_pool(x, zx, pool_zy, pool_multiplier, pool_shift)
    r = dense(p, fc1.w, fc1.bias, pool_zy, fc1.zy, fc1.multiplier, fc1.shift, fc1.lo, fc1.hi, fc1.lut)
    g = dense(r, fc2.w, fc2.bias, fc1.zy, fc2.zy, fc2.multiplier, fc2.shift, fc2.lo, fc2.hi, fc2.lut)
    return mul(x, zx, g[:, :, None, None], gate_zp, mul_multiplier, mul_shift, zy, lo, hi)


# --- resize, transposed convolution, concatenation -------------------------------------------------

RESIZE_ONE = 1 << 10  # bilinear coordinates and weights are in 1/1024 units (TFLite's scale_10)


def _cdiv(a: np.ndarray, b: int) -> np.ndarray:
    """C integer division (truncates toward zero)."""
    a = np.asarray(a, dtype=np.int64)
    return np.where(a >= 0, a // b, -((-a) // b))


def bilinear_taps(out_len: int, in_len: int, scaled: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(i0, i1, frac) of TFLite's ComputeInterpolationValuesInteger for input coordinates ``scaled``
    (in 1/1024 units): i0 = max(scaled / 1024, 0), i1 = min(ceil, in_len - 1), frac = scaled - 1024·i0
    (frac may leave [0, 1024) at the borders; both taps then read the same pixel)."""
    v = np.asarray(scaled, dtype=np.int64)
    i0 = np.maximum(_cdiv(v, RESIZE_ONE), 0)
    i1 = np.minimum(_cdiv(v + RESIZE_ONE - 1, RESIZE_ONE), in_len - 1)
    return i0.astype(np.int32), i1.astype(np.int32), (v - RESIZE_ONE * i0).astype(np.int32)


def tflite_bilinear_coords(out_len: int, in_len: int, align_corners: bool, half_pixel: bool) -> np.ndarray:
    """TFLite's integer input coordinates (1/1024 units) of ResizeBilinearInteger."""
    if align_corners and out_len > 1:
        scale_10 = (RESIZE_ONE * (in_len - 1) + (out_len - 1) // 2) // (out_len - 1)
    else:
        scale_10 = (RESIZE_ONE * in_len + out_len // 2) // out_len
    v = np.arange(out_len, dtype=np.int64) * scale_10
    return v + (scale_10 // 2 - (1 << 9)) if half_pixel else v


def resize_nearest(x: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """y[:, :, i, j] = x[:, :, rows[i], cols[j]]: a copy, y keeps x's quantization."""
    return x[:, :, np.asarray(rows, np.int64)][:, :, :, np.asarray(cols, np.int64)]


def resize_bilinear(x: np.ndarray, y_taps: tuple[np.ndarray, ...], x_taps: tuple[np.ndarray, ...]) -> np.ndarray:
    """TFLite's int8 bilinear resize on the raw codes (y keeps x's quantization):
    s = Σ x[yi, xj]·wy·wx over the four taps (weights in 1/1024 units), y = (s ± 2^19) / 2^20
    rounded half away from zero by C's truncating division."""
    (r0, r1, fy), (c0, c1, fx) = ((np.asarray(a, np.int64) for a in t) for t in (y_taps, x_taps))
    v = x.astype(np.int64)
    wy1, wy0 = fy[:, None], RESIZE_ONE - fy[:, None]
    wx1, wx0 = fx[None, :], RESIZE_ONE - fx[None, :]
    top, bottom = v[:, :, r0], v[:, :, r1]
    s = (top[:, :, :, c0] * wy0 * wx0 + bottom[:, :, :, c0] * wy1 * wx0
         + top[:, :, :, c1] * wy0 * wx1 + bottom[:, :, :, c1] * wy1 * wx1)
    s = _i32(s, "bilinear sum")
    y = _cdiv(s + np.where(s > 0, 1 << 19, -(1 << 19)), 1 << 20)
    return np.clip(y, -128, 127).astype(np.int8)


def conv_transpose(
    x: np.ndarray,
    w: np.ndarray,
    bias: ArrayLike | None,
    zx: int,
    zy: int,
    multiplier: ArrayLike,
    shift: ArrayLike,
    strides: Pair,
    pads: Pads,
    dilations: Pair,
    out_hw: Pair,
    lo: int = -128,
    hi: int = 127,
    lut: np.ndarray | None = None,
) -> np.ndarray:
    """Transposed convolution (group 1), TFLite's TRANSPOSE_CONV: w[O,C,kh,kw] int8; every input
    pixel (iy, ix) adds (x - zx)·w[:, :, ky, kx] at output (iy·sh + ky·dh - pad_top, ...); then
    bias and per-channel requantization as conv2d."""
    (sh, sw), (dh, dw), (pt, pl) = strides, dilations, pads[:2]
    n, _, h, wd = x.shape
    o, _, kh, kw = w.shape
    oh, ow = out_hw
    full = np.zeros((n, o, max(sh * (h - 1) + dh * (kh - 1) + 1, pt + oh),
                     max(sw * (wd - 1) + dw * (kw - 1) + 1, pl + ow)), np.int64)
    xc, wl = x.astype(np.int64) - zx, w.astype(np.int64)
    for ky in range(kh):
        for kx in range(kw):
            full[:, :, ky * dh: ky * dh + sh * (h - 1) + 1: sh, kx * dw: kx * dw + sw * (wd - 1) + 1: sw] += \
                np.einsum("nchw,oc->nohw", xc, wl[:, :, ky, kx])
    acc = _with_bias(full[:, :, pt: pt + oh, pl: pl + ow], bias)
    return requantize(acc, multiplier, shift, zy, lo, hi, lut)


def requantize_copy(x: np.ndarray, zx: int, multiplier: int, shift: int, zy: int) -> np.ndarray:
    """TFLite's int8 REQUANTIZE: y = clamp8(MBQM(x - zx, M, S) + zy), M,S = Q(sx / sy)."""
    return requantize(x.astype(np.int64) - zx, multiplier, shift, zy)


def concat(xs: Sequence[np.ndarray], axis: int, requant: Sequence[tuple[int, int, int] | None], zy: int) -> np.ndarray:
    """Concatenation along ``axis``; input i is copied as is (None: it already has y's quantization,
    TFLite's CONCATENATION) or requantized with its (zx, M, S)."""
    parts = [x if r is None else requantize_copy(x, r[0], r[1], r[2], zy) for x, r in zip(xs, requant)]
    return np.concatenate(parts, axis=axis)
