"""Fast exact accumulators for the convolutions of the integer simulator.

`intops.conv2d` / `intops.depthwise_conv2d` accumulate tap by tap in int64, which is the readable
specification but slow on a test set. The accumulator ``bias + Σ (x - zx)·w`` is an exact integer
whatever the evaluation order (ARITHMETIC.md), so here it is computed with a float64 BLAS matmul
(every partial sum is an integer below 2^31 < 2^53, hence exact) or int32 multiply-adds, and the
result goes through `intops.requantize` unchanged. Tests check byte equality with intops.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

Pair = tuple[int, int]
Pads = tuple[int, int, int, int]


def _padded(x: np.ndarray, zx: int, pads: Pads, dtype: type) -> np.ndarray:
    """x - zx with the padding holding 0 (the real value 0)."""
    xc = x.astype(dtype) - dtype(zx)
    pt, pl, pb, pr = pads
    return np.pad(xc, ((0, 0), (0, 0), (pt, pb), (pl, pr))) if any(pads) else xc


def _out_hw(xp: np.ndarray, k: Pair, s: Pair, d: Pair) -> Pair:
    return ((xp.shape[2] - d[0] * (k[0] - 1) - 1) // s[0] + 1, (xp.shape[3] - d[1] * (k[1] - 1) - 1) // s[1] + 1)


def conv2d_acc(x: np.ndarray, w: np.ndarray, bias: np.ndarray | None, zx: int, strides: Pair,
               pads: Pads, dilations: Pair) -> np.ndarray:
    """int64 [N,O,OH,OW] accumulators of a group-1 convolution, by im2col and one float64 matmul."""
    xp = _padded(x, zx, pads, np.float64)
    kh, kw = w.shape[2], w.shape[3]
    oh, ow = _out_hw(xp, (kh, kw), strides, dilations)
    n, c = xp.shape[:2]
    if (kh, kw) == (1, 1):
        cols = xp[:, :, ::strides[0], ::strides[1]][:, :, :oh, :ow].reshape(n, c, oh * ow)
    else:
        sn, sc, sh, sw = xp.strides
        win = as_strided(xp, (n, c, kh, kw, oh, ow),
                         (sn, sc, sh * dilations[0], sw * dilations[1], sh * strides[0], sw * strides[1]),
                         writeable=False)
        cols = win.reshape(n, c * kh * kw, oh * ow)
    acc = np.matmul(w.reshape(w.shape[0], -1).astype(np.float64), cols).reshape(n, w.shape[0], oh, ow)
    if bias is not None:
        acc += np.asarray(bias, np.float64).reshape(1, -1, 1, 1)
    return acc.astype(np.int64)


def depthwise_acc(x: np.ndarray, w: np.ndarray, bias: np.ndarray | None, zx: int, strides: Pair,
                  pads: Pads, dilations: Pair) -> np.ndarray:
    """int64 [N,C·m,OH,OW] accumulators of a depthwise convolution, tap by tap in int32 (the
    quantizer guarantees Σ|w|·255 + |bias| < 2^31, so int32 never overflows)."""
    m = w.shape[0] // x.shape[1]
    xp = _padded(x, zx, pads, np.int32)
    if m > 1:
        xp = np.repeat(xp, m, axis=1)
    kh, kw = w.shape[2], w.shape[3]
    (oh, ow), (sh, sw), (dh, dw) = _out_hw(xp, (kh, kw), strides, dilations), strides, dilations
    acc = np.zeros((xp.shape[0], w.shape[0], oh, ow), np.int32)
    if bias is not None:
        acc += np.asarray(bias, np.int32).reshape(1, -1, 1, 1)
    wt = w.astype(np.int32)
    for ky in range(kh):
        for kx in range(kw):
            tap = xp[:, :, ky * dh: ky * dh + sh * (oh - 1) + 1: sh, kx * dw: kx * dw + sw * (ow - 1) + 1: sw]
            acc += tap * wt[None, :, 0, ky, kx, None, None]
    return acc.astype(np.int64)
