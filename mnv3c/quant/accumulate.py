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
    quantizer guarantees Σ|w|·255 + |bias| < 2^31, so int32 never overflows).

    Works channels-last (NHWC) so each tap's multiply-add runs over a contiguous channel axis
    rather than the tiny OW rows of the late layers (3x3, 6x6), into preallocated buffers."""
    m = w.shape[0] // x.shape[1]
    n, c, h, wd = x.shape
    pt, pl, pb, pr = pads
    xp = np.zeros((n, h + pt + pb, wd + pl + pr, c), np.int32)  # padding holds 0 (the real 0)
    inner = xp[:, pt: pt + h, pl: pl + wd, :]
    inner[...] = x.transpose(0, 2, 3, 1)
    inner -= np.int32(zx)
    if m > 1:
        xp = np.repeat(xp, m, axis=3)
    kh, kw = w.shape[2], w.shape[3]
    (sh, sw), (dh, dw) = strides, dilations
    oh = (xp.shape[1] - dh * (kh - 1) - 1) // sh + 1
    ow = (xp.shape[2] - dw * (kw - 1) - 1) // sw + 1
    acc = np.zeros((n, oh, ow, w.shape[0]), np.int32)
    if bias is not None:
        acc += np.asarray(bias, np.int32)
    tmp = np.empty_like(acc)
    wt = w.astype(np.int32)
    for ky in range(kh):
        for kx in range(kw):
            tap = xp[:, ky * dh: ky * dh + sh * (oh - 1) + 1: sh, kx * dw: kx * dw + sw * (ow - 1) + 1: sw, :]
            np.multiply(tap, wt[:, 0, ky, kx], out=tmp)
            acc += tmp
    return acc.transpose(0, 3, 1, 2).astype(np.int64, order="C")
