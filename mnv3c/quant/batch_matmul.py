"""int8 product of two runtime tensors with TFLite BATCH_MATMUL semantics: the reference the C
kernel batch_matmul_s8 matches. Both operands per-tensor asymmetric int8, an int32 accumulator of
(a - za)·(b - zb), requantized by MBQM(acc, Q(sa·sb/sy)) + zy and clamped.
"""

from __future__ import annotations

import numpy as np

from mnv3c.errors import UnsupportedModelError, shown
from mnv3c.quant import intops

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
