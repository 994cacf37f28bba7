"""The integer reference kernels: requant arithmetic pinned by hand-computed cases, kernels against
slow loop implementations written straight from docs/ARITHMETIC.md."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mnv3c.quant import intops as q

I32_MIN, I32_MAX = -(2**31), 2**31 - 1


# --- SRDHM: round(a·b / 2^31), ties toward +inf (the nudge), one saturating case --------------------


@pytest.mark.parametrize(
    "a, b, expected",
    [
        (I32_MIN, I32_MIN, I32_MAX),  # the only overflow: saturates
        (2**30, 2**30, 2**29),  # 2^60 / 2^31
        (1, 2**30, 1),  # +0.5 -> 1
        (-1, 2**30, 0),  # -0.5 -> 0 (nudge 1 - 2^30, then truncation toward zero)
        (3, 2**30, 2),  # +1.5 -> 2
        (-3, 2**30, -1),  # -1.5 -> -1
        (I32_MAX, I32_MAX, I32_MAX - 1),  # (2^31-1)^2 / 2^31 = 2^31 - 2 + (1 + 2^30)/2^31 -> 2^31 - 2
        (I32_MIN, I32_MAX, -I32_MAX),  # -(2^31 - 1) - 0.5 + 2^-31 truncates to -(2^31 - 1)
        (I32_MIN, 2**30, -(2**30)),
        (12345, 0, 0),
    ],
)
def test_srdhm(a: int, b: int, expected: int) -> None:
    assert int(q.srdhm(a, b)) == expected


def test_srdhm_rejects_non_int32() -> None:
    with pytest.raises(OverflowError):
        q.srdhm(2**31, 1)


# --- RDBP: round(x / 2^e), ties away from zero ----------------------------------------------------


@pytest.mark.parametrize(
    "x, e, expected",
    [
        (5, 1, 3),  # 2.5 -> 3: remainder 1 > threshold 0
        (-5, 1, -3),  # -2.5 -> -3: -5 >> 1 = -3, remainder 1, threshold 0 + 1 = 1, no increment
        (4, 1, 2),
        (-4, 1, -2),
        (6, 2, 2),  # 1.5 -> 2
        (-6, 2, -2),  # -1.5 -> -2
        (-5, 2, -1),  # -1.25 -> -1: -5 >> 2 = -2, remainder 3 > threshold 2
        (-7, 2, -2),  # -1.75 -> -2
        (7, 0, 7),  # exponent 0 is the identity
        (-7, 0, -7),
        (2**30, 31, 1),  # +0.5 -> 1
        (-(2**30), 31, -1),  # -0.5 -> -1
        (I32_MAX, 31, 1),
        (I32_MIN, 31, -1),  # exactly -1
        (-(2**30) + 1, 31, 0),  # just above -0.5 -> 0
    ],
)
def test_rdbp(x: int, e: int, expected: int) -> None:
    assert int(q.rdbp(x, e)) == expected


def test_rdbp_exponent_range() -> None:
    with pytest.raises(ValueError):
        q.rdbp(1, 32)
    with pytest.raises(ValueError):
        q.rdbp(1, -1)


# --- MBQM = RDBP(SRDHM(x · 2^left, M), right) -----------------------------------------------------


@pytest.mark.parametrize(
    "x, m, s, expected",
    [
        (77, 2**30, 1, 77),  # real 1.0: identity
        (-77, 2**30, 1, -77),
        (1, 2**30, 30, 2**29),  # largest shift: x · 2^29
        (-1, 2**30, 30, -(2**29)),
        (I32_MAX, I32_MAX, -31, 1),  # smallest shift: (2^31-2) / 2^31 -> 1
        (I32_MIN, 2**30, -31, -1),  # -2^31 · 2^-32 = -0.5 -> -1 (away from zero)
        (2**30, 2**30, -31, 0),  # 2^30 · 2^-32 = 0.25 -> 0
        (-3, 2**30, 0, -1),  # -1.5: SRDHM already rounds it (to -1), RDBP(.., 0) keeps it
        (-3, 2**30, -1, -1),  # -0.75: SRDHM -> -1, RDBP(-1, 1) = -0.5 -> -1
        (3, 2**30, -1, 1),  # +0.75: SRDHM -> 2, RDBP(2, 1) = 1
        (100, 0, 5, 0),  # multiplier 0
    ],
)
def test_mbqm(x: int, m: int, s: int, expected: int) -> None:
    assert int(q.mbqm(x, m, s)) == expected


def test_mbqm_left_shift_overflow_is_a_contract_violation() -> None:
    assert int(q.mbqm(-(2**15), 2**30, 16)) == -(2**30)  # x · 2^16 = INT32_MIN still fits...
    with pytest.raises(OverflowError):
        q.mbqm(2**15, 2**30, 16)  # ... 2^31 does not
    with pytest.raises(ValueError):
        q.mbqm(1, 2**30, 31)
    with pytest.raises(ValueError):
        q.mbqm(1, 2**30, -32)


@settings(max_examples=200, deadline=None)
@given(x=st.integers(I32_MIN, I32_MAX), real=st.floats(2**-31, 0.999, allow_nan=False))
def test_mbqm_is_close_to_the_real_product(x: int, real: float) -> None:
    m, s = q.quantize_multiplier(real)
    exact = x * m * 2.0 ** (s - 31)
    assert abs(int(q.mbqm(x, m, s)) - exact) <= 1.0  # two roundings of at most 1/2 each


# --- quantize_multiplier ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "real, expected",
    [
        (0.0, (0, 0)),
        (1.0, (2**30, 1)),  # exact powers of two: mantissa 0.5
        (0.5, (2**30, 0)),
        (0.25, (2**30, -1)),
        (2.0**-31, (2**30, -30)),
        (2.0**-32, (2**30, -31)),  # smallest representable shift
        (2.0**-33, (0, 0)),  # shift -32: flushed to zero like TFLite
        (2.0**29, (2**30, 30)),  # largest representable shift
        (0.75, (3 * 2**29, 0)),
        (1 - 2.0**-31, (2**31 - 1, 0)),  # just below 1: the largest mantissa
        (1 - 2.0**-32, (2**30, 1)),  # q·2^31 = 2^31 - 0.5 rounds away to 2^31: halve, shift + 1
        (1 - 2.0**-40, (2**30, 1)),
        (0.5 + 2.0**-32, (2**30 + 1, 0)),  # q·2^31 = 2^30 + 0.5: tie rounds away (banker's gives 2^30)
        (0.5 + 3 * 2.0**-33, (2**30 + 1, 0)),  # 2^30 + 0.75
    ],
)
def test_quantize_multiplier(real: float, expected: tuple[int, int]) -> None:
    assert q.quantize_multiplier(real) == expected


@pytest.mark.parametrize("real", [2.0**30, 2.0**31, -0.5, math.inf, math.nan])
def test_quantize_multiplier_rejects(real: float) -> None:
    with pytest.raises(ValueError):
        q.quantize_multiplier(real)


@settings(max_examples=200, deadline=None)
@given(real=st.floats(2.0**-32, 2.0**29, allow_nan=False))
def test_quantize_multiplier_encoding(real: float) -> None:
    m, s = q.quantize_multiplier(real)
    assert 2**30 <= m < 2**31 and -31 <= s <= 30
    assert abs(m * 2.0 ** (s - 31) - real) <= 2.0 ** (s - 32)  # within half a unit of the mantissa


# --- round_half_away, requantize, LUT -----------------------------------------------------------


def test_round_half_away() -> None:
    v = np.array([0.5, -0.5, 1.5, 2.5, -2.5, 0.49999999999999994, -0.49999999999999994, 3.0, -0.0])
    assert q.round_half_away(v).tolist() == [1, -1, 2, 3, -3, 0, 0, 3, 0]


def test_requantize_clamps_and_saturates_to_int8() -> None:
    acc = np.array([[-(2**31), -1000, -1, 0, 1, 1000, 2**31 - 1]])
    m, s = q.quantize_multiplier(0.5)
    y = q.requantize(acc, m, s, zy=3)
    assert y.dtype == np.int8
    assert y.tolist() == [[-128, -128, 3, 3, 4, 127, 127]]  # shift 0: SRDHM alone rounds, -0.5 -> 0, +0.5 -> 1
    assert q.requantize(acc, m, s, zy=3, lo=3, hi=6).tolist() == [[3, 3, 3, 3, 4, 6, 6]]  # fused relu-like


def test_requantize_per_channel_and_fused_lut() -> None:
    acc = np.array([[10, 10]])
    mult = [q.quantize_multiplier(0.5)[0], q.quantize_multiplier(1.0)[0]]
    shift = [q.quantize_multiplier(0.5)[1], q.quantize_multiplier(1.0)[1]]
    assert q.requantize(acc, mult, shift, zy=0).tolist() == [[5, 10]]
    table = np.arange(256, dtype=np.int64)[::-1].astype(np.int8)  # lut[i] = 127 - i (as int8)
    assert q.requantize(acc, mult, shift, zy=0, lut=table).tolist() == [[int(table[133]), int(table[138])]]


def test_make_lut() -> None:
    identity = q.make_lut(lambda v: v, st=0.1, zt=5, sy=0.1, zy=5)
    assert identity.tolist() == list(range(-128, 128))
    relu = q.make_lut(lambda v: np.maximum(v, 0), st=0.5, zt=-10, sy=0.25, zy=-128)
    # entry i is x = i - 128, real 0.5 (x + 10); y = 2 (x + 10) - 128 for x >= -10, else -128
    expected = [max(-128, min(127, 2 * max(x + 10, 0) - 128)) for x in range(-128, 128)]
    assert relu.tolist() == expected
    assert q.lut(np.array([-128, 0, 127], dtype=np.int8), relu).tolist() == [expected[0], expected[128], expected[255]]


# --- kernels against naive loops written from ARITHMETIC.md ---------------------------------------


def _naive_conv(x, w, bias, zx, strides, pads, dilations, m):
    """acc[n, o, oy, ox] of a grouped conv with one input channel per m outputs (m=None: group 1)."""
    n_, c_, h, wd = x.shape
    o_, _, kh, kw = w.shape
    (sh, sw), (pt, pl, pb, pr), (dh, dw) = strides, pads, dilations
    oh = (h + pt + pb - dh * (kh - 1) - 1) // sh + 1
    ow = (wd + pl + pr - dw * (kw - 1) - 1) // sw + 1
    acc = np.zeros((n_, o_, oh, ow), dtype=np.int64)
    for n in range(n_):
        for o in range(o_):
            chans = range(c_) if m is None else [o // m]
            for oy in range(oh):
                for ox in range(ow):
                    a = int(bias[o])
                    for ci, c in enumerate(chans):
                        for ky in range(kh):
                            for kx in range(kw):
                                iy, ix = oy * sh - pt + ky * dh, ox * sw - pl + kx * dw
                                if 0 <= iy < h and 0 <= ix < wd:
                                    a += (int(x[n, c, iy, ix]) - zx) * int(w[o, ci, ky, kx])
                    acc[n, o, oy, ox] = a
    return acc


geometry = st.tuples(
    st.sampled_from([1, 3, 5]),  # kernel
    st.sampled_from([(1, 1), (2, 2), (2, 1)]),  # strides
    st.tuples(*[st.integers(0, 2)] * 4),  # pads
    st.sampled_from([(1, 1), (2, 1)]),  # dilations
)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), geo=geometry, depthwise=st.booleans(), m=st.sampled_from([1, 2]))
def test_conv_matches_naive_loops(seed: int, geo, depthwise: bool, m: int) -> None:
    k, strides, pads, dilations = geo
    rng = np.random.default_rng(seed)
    extent = dilations[0] * (k - 1) + 1  # the window must fit the unpadded input
    c, h, wd = int(rng.integers(1, 5)), int(rng.integers(extent, extent + 4)), int(rng.integers(k, k + 4))
    o = c * m if depthwise else int(rng.integers(1, 5))
    x = rng.integers(-128, 128, (1, c, h, wd)).astype(np.int8)
    w = rng.integers(-127, 128, (o, 1 if depthwise else c, k, k)).astype(np.int8)
    bias = rng.integers(-5000, 5000, o)
    zx, zy = int(rng.integers(-128, 128)), int(rng.integers(-128, 128))
    mult, shift = q.quantize_multiplier(float(rng.uniform(1e-4, 0.05)))
    fn = q.depthwise_conv2d if depthwise else q.conv2d
    y = fn(x, w, bias, zx, zy, mult, shift, strides, pads, dilations)
    acc = _naive_conv(x, w, bias, zx, strides, pads, dilations, m if depthwise else None)
    expected = np.clip(q.mbqm(acc, mult, shift).astype(np.int64) + zy, -128, 127)
    np.testing.assert_array_equal(y, expected)


def test_conv_padding_holds_real_zero() -> None:
    # 3x3 kernel on a 1x1 input with pad 1: only the centre tap is valid, whatever zx is.
    x = np.array([[[[10]]]], dtype=np.int8)
    w = np.full((1, 1, 3, 3), 100, dtype=np.int8)
    w[0, 0, 1, 1] = 2
    m, s = q.quantize_multiplier(1.0)
    y = q.conv2d(x, w, [1], zx=-20, zy=0, multiplier=m, shift=s, pads=(1, 1, 1, 1))
    assert y.tolist() == [[[[(10 + 20) * 2 + 1]]]]


def test_dense() -> None:
    x = np.array([[1, 2, 3]], dtype=np.int8)
    w = np.array([[1, 0, -1], [2, 2, 2]], dtype=np.int8)
    m, s = q.quantize_multiplier(0.5)
    y = q.dense(x, w, [10, -3], zx=1, zy=-1, multiplier=m, shift=s)
    # acc = [0·1 + 1·0 + 2·(-1) + 10, 2·(0 + 1 + 2) - 3] = [8, 3]; halves: 4, 1.5 -> 2
    assert y.tolist() == [[3, 1]]


def test_add_equal_scales_is_integer_addition() -> None:
    p = q.add_params(0.1, 0.1, 0.1)
    assert p == q.AddParams(2**30, 0, 2**30, 0, 2**30, -18)
    a = np.array([10, -50, 100], dtype=np.int8)
    b = np.array([20, -60, 100], dtype=np.int8)
    assert q.add(a, 0, b, 0, p, 0).tolist() == [30, -110, 127]
    assert q.add(a, 5, b, -5, p, 1, lo=1).tolist() == [31, 1, 127]  # (10-5)+(20+5)+1; relu clamp


def test_mul_channel_broadcast() -> None:
    x = np.arange(-8, 8, dtype=np.int8).reshape(1, 2, 2, 4)
    g = np.array([[2, -1]], dtype=np.int8)[:, :, None, None]
    m, s = q.quantize_multiplier(1.0)
    y = q.mul(x, -1, g, 0, m, s, zy=0)
    np.testing.assert_array_equal(y, (x.astype(np.int64) + 1) * g)


def test_pools() -> None:
    x = np.array([[[[1, 2, 3], [4, 5, 6], [7, 8, 9]]]], dtype=np.int8)
    m, s = q.quantize_multiplier(1 / 9)
    assert q.global_avg_pool(x, 0, 0, m, s).tolist() == [[5]]
    mt, stbl = q.avg_pool_multipliers(1.0, 1.0, (2, 2))
    assert mt[0] == 0 and stbl[0] == 0 and len(mt) == 5
    # 2x2 windows, stride 2, pad 1 top/left: valid-tap counts 1, 2 / 2, 4 (count_include_pad false)
    y = q.avg_pool(x, 0, 0, mt, stbl, (2, 2), (2, 2), (1, 1, 0, 0))
    assert y.tolist() == [[[[1, 3], [6, 7]]]]  # 1; (2+3)/2 = 2.5 -> 3; (4+7)/2 = 5.5 -> 6; 28/4 = 7
    neg = -x - 100
    assert q.max_pool(neg.astype(np.int8), (2, 2), (2, 2), (1, 1, 0, 0)).tolist() == [[[[-101, -102], [-104, -105]]]]


def test_squeeze_excite_is_its_composition() -> None:
    rng = np.random.default_rng(0)
    x = rng.integers(-128, 128, (1, 6, 3, 3)).astype(np.int8)
    hsig = q.make_lut(lambda v: np.clip(v / 6 + 0.5, 0, 1), 0.05, 3, 1 / 255, -128)
    pm, ps = q.quantize_multiplier(1 / 9)
    fc1 = q.DenseQ(rng.integers(-127, 128, (2, 6)).astype(np.int8), rng.integers(-99, 99, 2), -128,
                   *q.quantize_multiplier(0.01), lo=-128)
    fc2 = q.DenseQ(rng.integers(-127, 128, (6, 2)).astype(np.int8), rng.integers(-99, 99, 6), 3,
                   *q.quantize_multiplier(0.02), lut=hsig)
    mm, ms = q.quantize_multiplier(1 / 255)
    y = q.squeeze_excite(x, 4, -7, pm, ps, fc1, fc2, -128, mm, ms, 2)
    p = q.global_avg_pool(x, 4, -7, pm, ps)
    r = q.dense(p, fc1.w, fc1.bias, -7, -128, fc1.multiplier, fc1.shift)
    g = q.lut(q.dense(r, fc2.w, fc2.bias, -128, 3, fc2.multiplier, fc2.shift), hsig)
    np.testing.assert_array_equal(y, q.mul(x, 4, g[:, :, None, None], -128, mm, ms, 2))


# --- the fast requantization path (_mbqm64) against the reference text (srdhm/rdbp/mbqm) -------

_EDGE_X = [I32_MIN, I32_MIN + 1, -(1 << 30) - 1, -(1 << 30), -(1 << 30) + 1, -65537, -65536, -3, -2, -1,
           0, 1, 2, 3, 65535, 65536, (1 << 30) - 1, 1 << 30, (1 << 30) + 1, I32_MAX - 1, I32_MAX]
_EDGE_M = [I32_MIN, I32_MIN + 1, -(1 << 30), -1, 0, 1, 2, 1 << 29, (1 << 30) - 1, 1 << 30, (1 << 30) + 1,
           1518500250, I32_MAX - 1, I32_MAX]


def _mbqm_reference_or_error(x: np.ndarray, m: int, s: int) -> np.ndarray | None:
    try:
        return q.mbqm(x, m, s)
    except OverflowError:
        return None


def test_fast_mbqm_matches_reference_on_edge_values() -> None:
    """Every edge x, every edge multiplier, every shift -31..30: bit-identical or both raise."""
    x = np.array(_EDGE_X, dtype=np.int64)
    for m in _EDGE_M:
        for s in range(-31, 31):
            ref = _mbqm_reference_or_error(x, m, s)
            if ref is None:
                with pytest.raises(OverflowError):
                    q._mbqm64(x, m, s)
                continue
            np.testing.assert_array_equal(q._mbqm64(x, m, s), ref.astype(np.int64))
            for xi in _EDGE_X:  # scalars go through the same code
                xs = np.array([xi], np.int64)
                if _mbqm_reference_or_error(xs, m, s) is not None:
                    assert q._mbqm64(xs, m, s)[0] == q.mbqm(xs, m, s)[0]


def test_fast_mbqm_matches_reference_on_ties() -> None:
    """Exact SRDHM halves (a·b = k·2^31 ± 2^30) and exact RDBP halves for every right shift."""
    k = np.arange(-40, 41, dtype=np.int64)
    for s in range(-31, 1):
        e = -s
        # x·2^30 / 2^31 = x/2 gives SRDHM ties; x·2^(e-1) + ... gives RDBP ties after it
        x = np.concatenate([k, k * (1 << max(e, 1)) + (1 << max(e, 1) >> 1), -(k * (1 << max(e, 1)))])
        x = x[(x >= I32_MIN) & (x <= I32_MAX)]
        for m in (1 << 30, I32_MAX, (1 << 30) + 1, 1 << 29):
            np.testing.assert_array_equal(q._mbqm64(x, m, s), q.mbqm(x, m, s).astype(np.int64))


@pytest.mark.parametrize("seed", range(4))
def test_fast_mbqm_matches_reference_on_random_values(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 4096
    # per-channel multipliers/shifts mixing left, zero and right shifts (as requantize broadcasts)
    m = rng.integers(I32_MIN, I32_MAX, size=(1, 16), endpoint=True)
    m[0, :3] = (I32_MIN, I32_MAX, 0)
    s = rng.integers(-31, 1, size=(1, 16))
    s[0, :4] = (0, -31, -1, 0)
    x = rng.integers(I32_MIN, I32_MAX, size=(n, 16), endpoint=True)
    x[:, 0] = I32_MIN
    np.testing.assert_array_equal(q._mbqm64(x, m, s), q.mbqm(x, m, s).astype(np.int64))
    small = rng.integers(-(1 << 16), 1 << 16, size=(n, 16))
    sl = rng.integers(-31, 15, size=(1, 16))
    np.testing.assert_array_equal(q._mbqm64(small, m, sl), q.mbqm(small, m, sl).astype(np.int64))
    for sc in (-31, -7, -1, 0, 3):
        np.testing.assert_array_equal(q._mbqm64(small, int(m[0, 5]), sc),
                                      q.mbqm(small, int(m[0, 5]), sc).astype(np.int64))


def test_fast_mbqm_keeps_the_contract_checks() -> None:
    with pytest.raises(OverflowError):
        q._mbqm64(np.array([1 << 31]), 1 << 30, 0)
    with pytest.raises(OverflowError):
        q._mbqm64(np.array([1 << 20]), 1 << 30, 12)
    with pytest.raises(ValueError):
        q._mbqm64(np.array([1]), 1 << 30, 31)
    with pytest.raises(ValueError):
        q._mbqm64(np.array([1]), 1 << 30, -32)


def test_apply_lut_int8_fast_path_matches_index_form() -> None:
    table = np.random.default_rng(0).integers(-128, 128, size=256).astype(np.int8)
    x = np.arange(-128, 128, dtype=np.int8).reshape(16, 16)
    np.testing.assert_array_equal(q.apply_lut(x, table), table[x.astype(np.int64) + 128])
    np.testing.assert_array_equal(q.apply_lut(x.astype(np.int32), table), table[x.astype(np.int64) + 128])
