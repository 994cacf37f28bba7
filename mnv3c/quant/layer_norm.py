"""int8 LayerNormalization over the last axis, integer only: the reference the C kernel
layer_norm_s8 matches bit for bit (runtime_c/layer_norm_s8.c's header states the same steps).

Per row of n codes: u = n·x - sum(x) (the zero point cancels), W = sum(u²) + eps with
eps = round(n³·epsilon / s_x²), so (x - mean) / sqrt(var + epsilon) = sqrt(n)·u / sqrt(W); W is
normalised by 4^k into [2^60, 2^62), its floor square root s in [2^30, 2^31) inverted with
gemmlowp's Newton-Raphson reciprocal (softmax.one_over_one_plus_x); u / sqrt(W) is kept in Q24 and
the per-channel gamma·sqrt(n)/s_y (int32, 2^G) and beta/s_y (int64, 2^(G+24)) give the output codes.
No division anywhere, so the C runs the same on a Cortex-M0.

The 16x8 variant (layer_norm_s16.c) is the same arithmetic on symmetric int16 codes (zero point 0,
int16 saturation): |u| < n·2^16, so sum(u²) < n³·2^32 stays below 2^61 up to MAX_ROW16 values.
"""

from __future__ import annotations

import math

import numpy as np

from mnv3c.errors import UnsupportedModelError
from mnv3c.quant.intops import round_half_away
from mnv3c.quant.softmax import one_over_one_plus_x

NORM_BITS = 24  # u / sqrt(W) in Q24: |value| <= 1
GAMMA_BITS = 23  # |gamma| codes below 2^23: r·gamma < 2^47
MAX_ROW = 4096  # sum(u²) <= 65025·n³ < 2^52, far below 2^62 with eps added
MAX_ROW16 = 812  # int16 codes: sum(u²) < n³·2^32 < 2^61, and eps < 2^61, so W < 2^62


def layer_norm_params(n: int, epsilon: float, sx: float, sy: float, gamma: np.ndarray,
                      beta: np.ndarray, int16: bool = False) -> dict[str, object]:
    """The kernel's integer parameters (attrs ``eps``, ``gamma`` int32[n], ``beta`` int64[n], ``out_shift``);
    ``int16``: for layer_norm_s16 (int16 codes in and out)."""
    max_row, eps_bits, kind = (MAX_ROW16, 61, "int16") if int16 else (MAX_ROW, 60, "int8")
    if n > max_row:
        raise UnsupportedModelError(f"layer_norm over {n} values: the {kind} kernel normalises at most {max_row}")
    eps = round(n ** 3 * float(epsilon) / float(sx) ** 2)
    if eps >= 1 << eps_bits:  # W = sum(u²) + eps < 2^62
        raise UnsupportedModelError(f"layer_norm epsilon {epsilon:g} is too large for input scale {sx:g}")
    g = np.asarray(gamma, np.float64) * math.sqrt(n) / float(sy)
    b = np.asarray(beta, np.float64) / float(sy)
    top = float(np.abs(g).max()) if g.size else 0.0
    bits = GAMMA_BITS if top == 0 else min(GAMMA_BITS - math.frexp(top)[1], 62 - NORM_BITS)
    b_top = float(np.abs(b).max()) if b.size else 0.0
    if b_top > 0:  # fewer fraction bits rather than beta·2^out_shift >= 2^62 (int16 output steps are small)
        bits = min(bits, 61 - NORM_BITS - math.frexp(b_top)[1])
    out_shift = bits + NORM_BITS
    if out_shift < 0 or np.abs(b).max(initial=0) * 2.0 ** out_shift >= 2.0 ** 62:
        raise UnsupportedModelError(f"layer_norm scale or shift is too large for the {kind} kernel")
    return {"eps": int(eps), "out_shift": int(out_shift),
            "gamma": np.asarray(round_half_away(g * 2.0 ** bits), np.int32),
            "beta": np.asarray(round_half_away(b * 2.0 ** out_shift), np.int64)}


def rdbp64(v: np.ndarray, e: np.ndarray | int) -> np.ndarray:
    """v / 2^e to nearest, ties away from zero, in int64 (0 <= e <= 62)."""
    v = np.asarray(v, np.int64)
    e = np.asarray(e, np.int64)
    half = np.where(e > 0, np.int64(1) << np.maximum(e - 1, 0), 0)
    return np.where(v >= 0, (v + half) >> e, -((-v + half) >> e))


def layer_norm_s8(x: np.ndarray, eps: int, gamma: np.ndarray, beta: np.ndarray, out_shift: int, zy: int) -> np.ndarray:
    """int8 layer norm of ``x`` over its last axis (int8 result)."""
    return np.clip(_layer_norm(x, eps, gamma, beta, out_shift) + int(zy), -128, 127).astype(np.int8)


def layer_norm_s16(x: np.ndarray, eps: int, gamma: np.ndarray, beta: np.ndarray, out_shift: int) -> np.ndarray:
    """16x8 layer norm of int16 ``x`` over its last axis (int16 result, zero points 0)."""
    return np.clip(_layer_norm(x, eps, gamma, beta, out_shift), -32768, 32767).astype(np.int16)


def _layer_norm(x: np.ndarray, eps: int, gamma: np.ndarray, beta: np.ndarray, out_shift: int) -> np.ndarray:
    """The output codes before the zero point and saturation (int64), steps 1-6 of the C header."""
    x = np.asarray(x, np.int64)
    n = x.shape[-1]
    u = n * x - x.sum(axis=-1, keepdims=True)
    w = np.maximum((u * u).sum(axis=-1, keepdims=True) + int(eps), 1)
    k = np.maximum((62 - _bit_length(w)) // 2, 0)
    s = np.vectorize(lambda v: math.isqrt(int(v)), otypes=[np.int64])(w << (2 * k))
    f = one_over_one_plus_x(2 * s - (1 << 31)).astype(np.int64)
    norm = rdbp64(u * f, 61 - k - NORM_BITS)
    return rdbp64(norm * np.asarray(gamma, np.int64) + np.asarray(beta, np.int64), int(out_shift))


def _bit_length(w: np.ndarray) -> np.ndarray:
    return np.vectorize(lambda v: int(v).bit_length(), otypes=[np.int64])(w)
