"""Per-tensor range estimation for int8 activations: histogram and the min/max, percentile and
MSE-optimal estimators, and the (scale, zero point) of a range.

Calibration cannot keep every activation of every calibration sample in memory, so each tensor
is summarised by a `Histogram` anchored at 0 (ranges must include 0 anyway). Its bins only ever
merge in pairs when the observed magnitude grows, so counts stay exact and the result does not
depend on the batch order beyond that merge. A histogram may also count each value with a weight
(its channel's importance to the layers that read it, `calibrate.depthwise_channel_weights`): the
MSE estimator then minimises the error those layers see instead of the tensor's own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from mnv3c.quant.intops import round_half_away

QMIN, QMAX = -128, 127
LEVELS = QMAX - QMIN  # 255 steps between the extreme codes
MIN_SCALE = 1e-9  # below this a tensor is zero for all practical purposes (and multipliers stay finite)
SOFTMAX_RESOLUTION = 1.0 / 32768  # the finest probability step mnv3c's softmax kernels output (int16's)


@dataclass
class Histogram:
    """Counts of |x| in ``bins`` equal bins of ``width`` on each side of 0, plus exact zeros;
    with weights (`add`'s ``weights``), the bins sum the weights of their values instead."""

    bins: int = 2048
    width: float = 0.0
    pos: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    neg: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    zeros: int = 0
    min: float = 0.0
    max: float = 0.0

    def add(self, x: np.ndarray, weights: np.ndarray | None = None) -> None:
        """Count ``x``'s values, or with ``weights`` (broadcast to ``x``'s shape) sum their weights;
        a histogram is either always weighted or never. ValueError if any value is NaN or infinite
        (no finite range holds them, and the bin doubling below would never end)."""
        x = np.asarray(x, np.float32)
        w = None if weights is None else np.broadcast_to(np.asarray(weights, np.float64), x.shape).ravel()
        x = x.ravel()
        if x.size == 0:
            return
        if not np.isfinite(x).all():
            raise ValueError("histogram of non-finite values")
        self.min, self.max = min(self.min, float(x.min())), max(self.max, float(x.max()))
        mag = max(-self.min, self.max)
        nonzero = x != 0
        self.zeros += int(x.size - np.count_nonzero(nonzero)) if w is None else float(w[~nonzero].sum())
        if mag == 0.0:
            return
        if self.width == 0.0:
            self.width = mag / self.bins * (1 + 1e-6)
            dtype = np.int64 if w is None else np.float64
            self.pos, self.neg = np.zeros(self.bins, dtype), np.zeros(self.bins, dtype)
        while mag >= self.width * self.bins:
            self.pos, self.neg = _merge_pairs(self.pos), _merge_pairs(self.neg)
            self.width *= 2
        nz = x[nonzero]
        wz = None if w is None else w[nonzero]
        idx = np.minimum((np.abs(nz) / self.width).astype(np.int64), self.bins - 1)
        for side, sel in ((self.pos, nz > 0), (self.neg, nz < 0)):
            counts = np.bincount(idx[sel], None if wz is None else wz[sel], minlength=self.bins)
            side += counts.astype(side.dtype)

    def coarsened(self, bins: int) -> "Histogram":
        """The same histogram with at most ``bins`` bins per side (merged in equal groups)."""
        if self.width == 0.0 or self.bins <= bins or self.bins % bins:
            return self
        k = self.bins // bins
        return Histogram(bins, self.width * k, self.pos.reshape(bins, k).sum(axis=1),
                         self.neg.reshape(bins, k).sum(axis=1), self.zeros, self.min, self.max)

    @property
    def total(self) -> float:
        """The number of values (their summed weight when weighted)."""
        return float(self.pos.sum() + self.neg.sum() + self.zeros)

    def centers_counts(self) -> tuple[np.ndarray, np.ndarray]:
        """Bin centres (ascending, negative side first) and their counts, zeros excluded."""
        if self.width == 0.0:
            return np.zeros(0), np.zeros(0)
        c = (np.arange(self.bins) + 0.5) * self.width
        # The outermost occupied bins are clamped to the exact extremes so min/max stay exact.
        centers = np.concatenate([-c[::-1], c])
        counts = np.concatenate([self.neg[::-1], self.pos]).astype(np.float64)
        return np.clip(centers, self.min, self.max), counts


def _merge_pairs(counts: np.ndarray) -> np.ndarray:
    merged = counts.reshape(-1, 2).sum(axis=1)
    return np.concatenate([merged, np.zeros(counts.size - merged.size, counts.dtype)])


# --- range -> quantization parameters --------------------------------------------------------
def scale_zero_point(lo: float, hi: float) -> tuple[float, int]:
    """int8 asymmetric (scale, zero point) covering [lo, hi] (extended to include 0)."""
    lo, hi = min(float(lo), 0.0), max(float(hi), 0.0)
    scale = (hi - lo) / LEVELS
    if scale < MIN_SCALE:
        return 1.0 / LEVELS, 0  # an (all but) all-zero tensor: any scale represents it
    zp = int(np.clip(round_half_away(QMIN - lo / scale), QMIN, QMAX))
    return float(np.float32(scale)), zp


# --- estimators ------------------------------------------------------------------------------
def minmax_range(h: Histogram) -> tuple[float, float]:
    return min(h.min, 0.0), max(h.max, 0.0)


def percentile_range(h: Histogram, percentile: float = 99.99) -> tuple[float, float]:
    """Clip the (100 - p)/2 % tails on each occupied side (one-sided for one-signed tensors)."""
    centers, counts = h.centers_counts()
    if counts.sum() == 0:
        return minmax_range(h)
    two_sided = h.min < 0 < h.max
    tail = (100.0 - percentile) / 100.0 * h.total / (2 if two_sided else 1)
    cdf = np.cumsum(counts)
    lo = centers[np.searchsorted(cdf, tail, side="right")] if h.min < 0 else 0.0
    hi = centers[min(np.searchsorted(cdf, cdf[-1] - tail, side="left"), centers.size - 1)] if h.max > 0 else 0.0
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    return (lo, hi) if hi > lo else minmax_range(h)


def quantization_mse(h: Histogram, lo: np.ndarray, hi: np.ndarray,
                     f: Callable[[np.ndarray], np.ndarray] | None = None) -> np.ndarray:
    """Expected squared error of quantizing the histogram's values into each range [lo_i, hi_i].

    Values inside the range get the rounding noise step²/12 (times f'² when the error is measured
    after the activation ``f``); values outside are clipped to the range's edge. Exact zeros are
    representable and cost nothing. ``f`` lets the pre-activation tensor of h-swish clip where the
    activation is flat for free.
    """
    centers, counts = h.centers_counts()
    lo, hi = np.atleast_1d(np.asarray(lo, np.float64)), np.atleast_1d(np.asarray(hi, np.float64))
    if centers.size == 0:
        return np.zeros(lo.shape)
    step = ((hi - lo) / LEVELS)[:, None]
    c = centers[None, :]
    clipped = np.clip(c, lo[:, None], hi[:, None])
    inside = (c >= lo[:, None]) & (c <= hi[:, None])
    if f is None:
        clip_err, slope2 = (c - clipped) ** 2, 1.0
    else:
        fc = f(centers)
        clip_err = (fc[None, :] - f(clipped)) ** 2
        eps = 1e-3 * h.width + 1e-12
        slope2 = ((f(centers + eps) - f(centers - eps)) / (2 * eps))[None, :] ** 2
    err = np.where(inside, slope2 * step**2 / 12.0, clip_err)
    return (err * counts[None, :]).sum(axis=1)


_FRACTIONS = np.geomspace(0.05, 1.0, 48)
_SEARCH_BINS = 512  # per side; the search only needs the clipping error's shape, not fine detail


def mse_range(h: Histogram, f: Callable[[np.ndarray], np.ndarray] | None = None) -> tuple[float, float]:
    """The clipping range of least `quantization_mse`, searched as fractions of each side's extreme:
    first both sides together, then each side in turn with the other fixed (coordinate descent)."""
    lo0, hi0 = minmax_range(h)
    if hi0 - lo0 <= 0.0 or h.width == 0.0:
        return lo0, hi0
    hs = h.coarsened(_SEARCH_BINS)
    los = lo0 * _FRACTIONS if lo0 < 0 else np.zeros(1)
    his = hi0 * _FRACTIONS if hi0 > 0 else np.zeros(1)
    k = max(los.size, his.size)
    lo_c, hi_c = np.resize(los, k), np.resize(his, k)
    best = int(np.argmin(quantization_mse(hs, lo_c, hi_c, f)))
    lo, hi = float(lo_c[best]), float(hi_c[best])
    for _ in range(2):
        hi = float(his[np.argmin(quantization_mse(hs, np.full(his.size, lo), his, f))])
        lo = float(los[np.argmin(quantization_mse(hs, los, np.full(los.size, hi), f))])
    return lo, hi


def softmax_margin(row: int) -> float:
    """How far below its row's maximum m a softmax input may be raised without moving any
    probability by half a SOFTMAX_RESOLUTION step: a value raised to at most m - M adds at most
    e^-M to the row's sum of e^(x - m), which the maximum alone makes >= 1, so each probability
    moves by at most (row - 1)·e^-M; M = ln(2 (row - 1) / resolution) (19.9 for 6625 classes,
    11.1 for 2). Rounding the logits already moves probabilities far more (relatively by half the
    logit scale), so this costs nothing measurable."""
    return math.log(2 * max(row - 1, 1) / SOFTMAX_RESOLUTION)


def softmax_floor(row_max_min: float, row: int) -> float:
    """The lowest value worth representing in a tensor only a softmax over rows of ``row`` reads,
    given the smallest row maximum seen in calibration (`softmax_margin` below it)."""
    return row_max_min - softmax_margin(row)


ESTIMATORS = ("minmax", "percentile", "mse")


def estimate_range(h: Histogram, method: str, percentile: float = 99.99,
                   f: Callable[[np.ndarray], np.ndarray] | None = None,
                   weighted: Histogram | None = None) -> tuple[float, float]:
    """The range of ``method``; "auto" picks the estimator whose range has the least MSE
    (measured through ``f`` when given) on the calibration histogram. ``weighted``: the same values
    weighted by their importance to the tensor's readers; "mse" and "auto" minimise the error
    the readers see instead (minmax and percentile stay counts of values)."""
    e = h if weighted is None else weighted
    if method == "minmax":
        return minmax_range(h)
    if method == "percentile":
        return percentile_range(h, percentile)
    if method == "mse":
        return mse_range(e, f)
    if method == "auto":
        candidates = [minmax_range(h), percentile_range(h, percentile), mse_range(e, f)]
        err = [float(quantization_mse(e, lo, hi, f)[0]) for lo, hi in candidates]
        return candidates[int(np.argmin(err))]
    raise ValueError(f"unknown calibration method '{method}' (expected one of {ESTIMATORS + ('auto',)})")
