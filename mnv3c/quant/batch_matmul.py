"""Products of two runtime tensors with TFLite BATCH_MATMUL semantics: the references the C kernels
batch_matmul_s8 and batch_matmul_s16 match.

int8: both operands per-tensor asymmetric int8, an int32 accumulator of (a - za)·(b - zb),
requantized by MBQM(acc, Q(sa·sb/sy)) + zy and clamped. 16x16 (mixed precision): both operands
symmetric int16, an int64 accumulator of a·b, requantized by TFLite's int64 MBQM (`intops16.mbqm64`)
and clamped to int16, as TFLite's int16 BATCH_MATMUL.
"""

from __future__ import annotations

import numpy as np

from mnv3c.errors import UnsupportedModelError, shown
from mnv3c.quant import intops, intops16

ACC_LIMIT = 1 << 31


def batch_matmul_params(name: str, depth: int, sa: float, sb: float, sy: float) -> tuple[int, int]:
    """(multiplier, shift) of Q(sa·sb/sy), refused where depth·255²·2^left_shift could leave int32."""
    m, s = intops.quantize_multiplier(sa * sb / sy)
    if depth * 255 * 255 << max(s, 0) >= ACC_LIMIT:
        raise UnsupportedModelError(f"node {shown(name)}: matmul over {depth} values could overflow the int32 "
                                    "accumulator of the int8 kernel")
    return m, s


def batch_matmul_s8(a: np.ndarray, za: int, b: np.ndarray, zb: int, multiplier: int, shift: int, zy: int,
                    lo: int = -128, hi: int = 127) -> np.ndarray:
    """numpy matmul of int8 ``a`` [..., M, K] and ``b`` [..., K, N] (int8 result)."""
    acc = np.matmul(a.astype(np.int64) - za, b.astype(np.int64) - zb)
    return intops.requantize(acc, multiplier, shift, zy, lo, hi)


def batch_matmul_params16(name: str, depth: int, sa: float, sb: float, sy: float) -> tuple[int, int]:
    """(multiplier, shift) of Q(sa·sb/sy) for the 16x16 kernel, refused outside mbqm64's limits: shift
    in [-31, 7], |acc| <= depth·2^30 below 2^47, and the requantized bound an int32."""
    m, s = intops.quantize_multiplier(sa * sb / sy)
    bound = depth * (1 << 30)  # |a·b| <= (-32768)^2
    if s > 7 or bound >= intops16.ACC_LIMIT_64 or bound * (sa * sb / sy) >= 2.0 ** 31:
        raise UnsupportedModelError(f"node {shown(name)}: int16 matmul over {depth} values leaves the int64 "
                                    f"requantization's range (shift {s})")
    return m, s


def batch_matmul_s16(a: np.ndarray, b: np.ndarray, multiplier: int, shift: int, lo: int = intops16.INT16_MIN,
                     hi: int = intops16.INT16_MAX) -> np.ndarray:
    """numpy matmul of int16 ``a`` [..., M, K] and ``b`` [..., K, N] (int16 result), zero points 0."""
    acc = np.matmul(a.astype(np.int64), b.astype(np.int64))
    return np.clip(intops16.mbqm64(acc, multiplier, shift), lo, hi).astype(np.int16)
