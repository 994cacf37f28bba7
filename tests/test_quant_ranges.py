"""Range estimators, histogram bookkeeping and the ½-LSB property of activation LUTs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mnv3c.quant import intops
from mnv3c.quant.quantize import _act_fn
from mnv3c.quant.ranges import (Histogram, estimate_range, minmax_range, mse_range, percentile_range,
                                quantization_mse, scale_zero_point)


def _hist(x: np.ndarray, chunks: int = 3) -> Histogram:
    h = Histogram(1024)
    for part in np.array_split(x, chunks):
        h.add(part)
    return h


def test_histogram_counts_are_exact_across_growing_batches():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(0, 0.1, 1000), rng.normal(0, 5, 1000), np.zeros(37)]).astype(np.float32)
    h = _hist(x, chunks=5)
    assert h.total == x.size and h.zeros == 37
    assert (h.min, h.max) == (float(x.min()), float(x.max()))
    assert minmax_range(h) == (float(x.min()), float(x.max()))


def test_weighted_histogram_counts_a_value_as_often_as_its_weight():
    """Weight 3 on a value is that value added three times, through bin merges too: the MSE
    estimator sees the same error either way."""
    rng = np.random.default_rng(5)
    x = np.concatenate([rng.normal(0, 0.1, (4, 2, 50)), rng.normal(0, 4, (4, 2, 50))]).astype(np.float32)
    x[0, 0, :5] = 0.0
    weights = np.array([1.0, 3.0]).reshape(1, 2, 1)
    weighted, repeated = Histogram(1024), Histogram(1024)
    for part in np.array_split(x, 4):
        weighted.add(part, weights)
        repeated.add(part)
        repeated.add(np.repeat(part[:, 1:], 2, axis=1))
    assert weighted.total == repeated.total and weighted.zeros == repeated.zeros == 5
    assert np.array_equal(weighted.pos, repeated.pos) and np.array_equal(weighted.neg, repeated.neg)
    assert (weighted.min, weighted.max) == (repeated.min, repeated.max)
    assert mse_range(weighted) == mse_range(repeated)


def test_auto_judges_a_weighted_tensor_by_its_weighted_error():
    """Values of two channels: small ones that matter 10^4 times more than the large ones. Weighted,
    the range clips the large channel instead of rounding the small one away."""
    rng = np.random.default_rng(6)
    small, large = rng.normal(0, 0.2, 20_000), rng.normal(0, 20, 20_000)
    x = np.stack([small, large]).astype(np.float32)[None]
    plain, weighted = Histogram(2048), Histogram(2048)
    plain.add(x)
    weighted.add(x, np.array([1e4, 1.0]).reshape(1, 2, 1))
    lo, hi = estimate_range(plain, "auto", weighted=weighted)
    assert hi < 0.5 * estimate_range(plain, "auto")[1]
    assert estimate_range(plain, "minmax", weighted=weighted) == minmax_range(plain)
    assert estimate_range(plain, "percentile", weighted=weighted) == percentile_range(plain)
    assert quantization_mse(weighted, lo, hi)[0] < quantization_mse(weighted, *estimate_range(plain, "auto"))[0]


def test_minmax_range_always_includes_zero():
    h = _hist(np.linspace(0.5, 2.0, 100))
    assert minmax_range(h) == (0.0, 2.0)


def test_percentile_clips_outliers_only():
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.uniform(-1, 1, 200_000), [50.0, -40.0]])
    lo, hi = percentile_range(_hist(x), 99.99)
    assert -1.1 < lo < -0.9 and 0.9 < hi < 1.1


def test_mse_clips_heavy_tails_and_beats_minmax():
    rng = np.random.default_rng(2)
    x = rng.laplace(0, 1, 100_000).astype(np.float32)
    h = _hist(x)
    lo, hi = mse_range(h)
    assert hi < x.max() and lo > x.min()
    assert quantization_mse(h, lo, hi)[0] < quantization_mse(h, *minmax_range(h))[0]
    # and on the real data too, not only on the histogram's model of it
    def real_mse(lo, hi):
        s, z = scale_zero_point(lo, hi)
        q = np.clip(intops.round_half_away(x / s) + z, -128, 127)
        return float((((q - z) * s - x) ** 2).mean())
    assert real_mse(lo, hi) < real_mse(*minmax_range(h))


def test_mse_through_hard_swish_clips_its_flat_negative_side():
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.normal(0, 2, 50_000), rng.uniform(-12, -3, 5_000)]).astype(np.float32)
    lo, hi = mse_range(_hist(x), _act_fn("hard_swish", {}))
    assert -4.0 < lo < -1.0 and hi > 0.8 * x.max()


def test_auto_picks_the_least_mse_estimator():
    rng = np.random.default_rng(4)
    h = _hist(rng.standard_t(3, 50_000))
    auto = quantization_mse(h, *estimate_range(h, "auto"))[0]
    for m in ("minmax", "percentile", "mse"):
        assert auto <= quantization_mse(h, *estimate_range(h, m))[0] + 1e-12
    with pytest.raises(ValueError):
        estimate_range(h, "bogus")


@given(lo=st.floats(-100, 0), hi=st.floats(0, 100))
def test_scale_zero_point_represents_zero_and_the_range(lo, hi):
    s, z = scale_zero_point(lo, hi)
    assert s > 0 and -128 <= z <= 127
    if hi - lo > 1e-6:
        assert (-128 - z) * s <= lo + s and (127 - z) * s >= hi - s


@settings(max_examples=60, deadline=None)
@given(act=st.sampled_from(["hard_swish", "hard_sigmoid", "sigmoid"]),
       st_=st.floats(1e-3, 0.2), zt=st.integers(-128, 127), sy=st.floats(1e-3, 0.2), zy=st.integers(-128, 127))
def test_lut_error_is_at_most_half_an_output_lsb(act, st_, zt, sy, zy):
    params = {"alpha": 1 / 6, "beta": 0.5} if act == "hard_sigmoid" else {}
    f = _act_fn(act, params)
    table = intops.make_lut(f, st_, zt, sy, zy)
    x = st_ * (np.arange(256) - 128 - zt)
    exact = f(x)
    representable = (exact >= (-128 - zy) * sy) & (exact <= (127 - zy) * sy)
    err = np.abs((table.astype(np.float64) - zy) * sy - exact)
    assert np.all(err[representable] <= sy / 2 + 1e-9)
    assert np.all(err[~representable] <= np.abs(exact[~representable]) + sy)  # clamped, never wrapped
