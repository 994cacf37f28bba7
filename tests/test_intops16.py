"""The 16x8 arithmetic (int16 activations, int8 weights) pinned on hand-computed cases, and the
mixed-precision graph: converters at int8/int16 boundaries, fast simulator == reference kernels."""

from __future__ import annotations

import numpy as np
import pytest

from mnv3c.quant import intops16 as q16
from mnv3c.quant.batch_matmul import batch_matmul_s16
from mnv3c.quant.softmax import DIFF_LIMIT, softmax_params, softmax_s16
from mnv3c.errors import UnsupportedModelError
from mnv3c.quant.intops import AddParams, quantize_multiplier
from mnv3c.quant.layer_norm import MAX_ROW16, layer_norm_params, layer_norm_s16
from mnv3c.analysis import layer_stats
from mnv3c.quant import mixed as mixed_mod
from mnv3c.quant.mixed import (_next_layer, all_int16, choose_mixed, fidelity, first_meeting, precision_cost, rebuild,
                               output_rows, position_scores, tensor_bytes,
                               without_softmax)
from mnv3c.quant.quantize import ALIASING, quantize_with_float
from mnv3c.quant.simulate import dequantize_tensor, quantize_input, run_node, simulate
from mnv3c.reference.float_exec import run_float
from quant_graphs import calib_inputs, data_movement_graph, tiny_mobilenet

HALF = 1 << 30  # 0.5 as a Q31 multiplier


def test_reduced_multiplier_rounds_and_caps() -> None:
    assert q16.reduced_multiplier([HALF, 0x40008000, 0x40007FFF, 0x7FFEFFFF, 0x7FFF0000, (1 << 31) - 1]).tolist() == [
        0x4000, 0x4001, 0x4000, 0x7FFF, 0x7FFF, 0x7FFF]


def test_mbqm64_ties_round_up_and_shifts() -> None:
    # x * 0.5: ties (odd x) go to +inf (one floor shift), unlike the int8 path's ties away from zero
    assert q16.mbqm64([1, -1, 3, -3, 1000, -1000], HALF, 0).tolist() == [1, 0, 2, -1, 500, -500]
    assert q16.mbqm64([3, -3], HALF, 2).tolist() == [6, -6]  # x * 0.5 * 2^2
    assert q16.mbqm64([5, -5, 4, -4, 12, -12], HALF, -2).tolist() == [1, -1, 1, 0, 2, -1]  # x / 8
    assert q16.mbqm64(1 << 46, HALF, -31).tolist() == 1 << 14  # the widest right shift (46 bits)
    assert q16.mbqm64(-(1 << 47), HALF, -31).tolist() == -(1 << 15)  # the most negative accepted input


@pytest.mark.parametrize("x,shift,error", [(1 << 47, 0, OverflowError), (1, 8, ValueError), (1, -32, ValueError),
                                           ((1 << 40), 7, OverflowError)])  # the last: result leaves int32
def test_mbqm64_rejects_what_tflite_asserts(x, shift, error) -> None:
    with pytest.raises(error):
        q16.mbqm64(x, HALF, shift)


def test_requantize16_saturates_and_clamps() -> None:
    acc = np.array([[10 ** 9, -(10 ** 9), 200, -200]], np.int64)
    assert q16.requantize16(acc, HALF, 0).tolist() == [[32767, -32768, 100, -100]]
    assert q16.requantize16(acc, HALF, 0, lo=0, hi=50).tolist() == [[50, 0, 50, 0]]  # a fused relu6


def test_lut16_interpolates_between_entries() -> None:
    table = np.zeros(q16.LUT16_SIZE, np.int16)
    table[255], table[256], table[257] = -300, 0, 100
    x = np.array([0, 64, 63, 127, 128, -1, -128, -64], np.int16)
    # x >> 7 picks the entry, the low 7 bits interpolate: (slope * frac + 64) >> 7
    assert q16.lut16(x, table).tolist() == [0, 50, 49, 99, 100, -300 + (300 * 127 + 64 >> 7), -300, -150]


def test_make_lut16_is_exact_on_entries_and_identity_interpolates_exactly() -> None:
    s = 0.001
    ident = q16.make_lut16(lambda v: v, s, s)
    x = np.arange(-32768, 32640, 37, dtype=np.int64).astype(np.int16)
    assert np.array_equal(q16.lut16(x, ident), x)  # a linear function is reproduced code for code...
    top = np.arange(32640, 32768, dtype=np.int64).astype(np.int16)  # ...but the last entry saturates at 32767
    assert np.abs(q16.lut16(top, ident).astype(int) - top).max() == 1
    hsig = q16.make_lut16(lambda v: np.clip(v / 6 + 0.5, 0, 1), 3.5 / 32767, 1 / 32767)
    assert hsig[0] == 0 and hsig[-1] == 32767 and hsig[256] == 16384  # f(0) = 0.5 -> 16383.5 away from 0


def test_hard_swish16_hand_computed() -> None:
    """st = sy = 2^-10: F = 16 would put offset + 32767·2^F past 2^31, so F = 15; offset = 3·2^10·2^15,
    width = 6·2^10·2^15, M,S = Q(2^-10 / (6·2^15)) = (round(2/3·2^31), -27), reduced to 21845. E.g.
    x = 1 (t = 1024): u = 2^27, t·g = 2^37, (2^37·21845 + 2^41) >> 42 = 683 (exact 682.67); x = -1.5:
    -9·2^33·21845 >> 42 -> -384 (exact -384); the ramp ends at x = -3 and 3 (g = 0, g = width)."""
    stage = q16.hswish_params(2.0 ** -10, 2.0 ** -10)
    assert stage == (15, 3 << 25, 6 << 25, 1431655765, -27)
    t = np.array([0, -3072, 3072, 1024, -1024, -1536, 32767, -32768, -4000], np.int16)
    assert q16.hard_swish16(t, stage).tolist() == [0, 0, 3072, 683, -341, -384, 32767, 0, 0]


def test_hswish_params_fraction_bits_follow_the_scale() -> None:
    """A tiny pre-activation scale makes the ramp's offset 3/st codes: 2^-24 leaves F = 5
    ((32767 + 3·2^24)·2^5 < 2^31 <= ·2^6); below 3·2^-31 not even F = 0 fits int32."""
    assert q16.hswish_params(2.0 ** -24, 2.0 ** -24).frac_bits == 5
    with pytest.raises(ValueError):
        q16.hswish_params(1e-10, 1e-10)


def test_hard_swish16_is_within_one_code_where_the_table_is_not() -> None:
    """At PP-OCRv3's widest pre-activation range (+-172) the 513-entry table holds 9 entries over
    hard-swish's quadratic part [-3, 3]: interpolating x(x+3)/6 misses by several output codes,
    the computed stage by at most one, on every int16 code."""
    st = sy = 172.0 / 32767
    t = np.arange(-32768, 32768, dtype=np.int64).astype(np.int16)
    x = t.astype(np.float64) * st
    exact = x * np.clip(x + 3, 0, 6) / 6 / sy
    table = q16.make_lut16(lambda v: v * np.clip(v + 3, 0, 6) / 6, st, sy)
    assert np.abs(q16.lut16(t, table) - exact).max() > 3
    assert np.abs(q16.hard_swish16(t, q16.hswish_params(st, sy)) - exact).max() <= 1


def test_layer_norm16_ties_saturation_and_the_longest_row() -> None:
    """gamma 0: the output is beta alone, so beta / s_y = +-2.5 rounds away from zero to +-3 and
    +-40000 saturates; a constant row has variance 0 (eps alone) and gives beta; [a, -a] normalises
    to +-1 exactly enough that gamma / s_y = 1000 gives +-1000; the longest row of alternating
    extremes (the largest sum of squares) stays finite and normalises to +-1 too."""
    sy = 1 / 4096
    p = layer_norm_params(4, 1e-5, 1 / 32768, sy, np.zeros(4), np.array([2.5, -2.5, 40000.0, -40000.0]) * sy, int16=True)
    y = layer_norm_s16(np.array([[5, -7, 11, 300]], np.int16), p["eps"], p["gamma"], p["beta"], p["out_shift"])
    np.testing.assert_array_equal(y, [[3, -3, 32767, -32768]])
    p = layer_norm_params(3, 1e-5, 1 / 32768, sy, np.ones(3), np.array([1.0, -2.0, 0.5]) * sy, int16=True)
    y = layer_norm_s16(np.full((1, 3), -32768, np.int16), p["eps"], p["gamma"], p["beta"], p["out_shift"])
    np.testing.assert_array_equal(y, [[1, -2, 1]])  # 0.5 -> 1: away from zero
    p = layer_norm_params(2, 0.0, 1 / 32768, 1 / 1000, np.ones(2), np.zeros(2), int16=True)
    y = layer_norm_s16(np.array([[1234, -1234], [-32768, 32767]], np.int16), p["eps"], p["gamma"], p["beta"], p["out_shift"])
    np.testing.assert_array_equal(y, [[1000, -1000], [-1000, 1000]])
    n = MAX_ROW16
    x = np.where(np.arange(n) % 2 == 0, -32768, 32767).astype(np.int16)[None]
    p = layer_norm_params(n, 0.0, 1 / 32768, 1 / 1000, np.ones(n), np.zeros(n), int16=True)
    np.testing.assert_array_equal(layer_norm_s16(x, p["eps"], p["gamma"], p["beta"], p["out_shift"]),
                                  np.where(x < 0, -1000, 1000))
    with pytest.raises(Exception, match="at most 812"):
        layer_norm_params(n + 1, 1e-5, 1.0, 1.0, np.ones(n + 1), np.zeros(n + 1), int16=True)


def test_mul16_by_hand() -> None:
    """TFLite's int16 Mul: the int32 MBQM of a·b. SRDHM rounds a positive tie up and a negative one
    towards zero (gemmlowp's nudge), the right shift rounds half away from zero (RDBP), the product
    of two -32768 is 2^30 (fits int32), the result saturates at the int16 bounds and the clamp."""
    half = 1 << 30  # 0.5 in Q31
    a, b = np.array([3, -3, 2, -2, -32768, 181], np.int16), np.array([5, 5, 3, 3, -32768, 181], np.int16)
    assert list(q16.mul16(a[:2], b[:2], half, 0)) == [8, -7]  # 7.5, -7.5
    assert list(q16.mul16(a[2:4], b[2:4], half, -1)) == [2, -2]  # 6 * 0.5 = 3, then +-3 / 2 = +-1.5
    assert list(q16.mul16(a[4:], b[4:], half, 0)) == [32767, 16381]  # 2^29 saturates; 32761 / 2 = 16380.5
    assert list(q16.mul16(a[4:], b[4:], half, -2, lo=0, hi=4000)) == [4000, 4000]  # 2^27 and 4095 clamped
    assert list(q16.mul16(np.array([-32768], np.int16), np.array([32767], np.int16), half, 0)) == [-32768]


def test_add16_uses_left_shift_15() -> None:
    p = AddParams(*quantize_multiplier(0.5), *quantize_multiplier(0.25), *quantize_multiplier(2 / (1 << 15)))
    a, b = np.array([1000, -32768, 32767]), np.array([1000, -32768, 32767])
    # real: a*sa + b*sb with sa = 2 * sb, output scale 2 * sb: y = a/2 ... exact here: a*0.5 + b*0.25 scaled by 2
    y = q16.add(a.astype(np.int16), b.astype(np.int16), p)
    assert y.tolist() == [1500, -32768, 32767]


def test_converters_between_int8_and_int16() -> None:
    m, s = quantize_multiplier(256.0)
    x = np.arange(-128, 128, dtype=np.int8)
    assert np.array_equal(q16.int8_to_int16(x, -3, m, s), np.minimum((x.astype(np.int64) + 3) * 256, 32767))
    m, s = quantize_multiplier(1 / 256)
    y = q16.int16_to_int8(np.array([384, -384, 640, 32767, -32768], np.int16), 5, m, s)
    assert y.tolist() == [2 + 5, -2 + 5, 3 + 5, 127, -128 + 5]  # 1.5 -> 2 and 2.5 -> 3: ties away from zero


def test_concat16_copies_and_requantizes_by_hand() -> None:
    """TFLite's int16 concat: an input with y's scale is copied; another is requantized by the int32
    MBQM (SRDHM then RDBP: double rounding) and saturated to int16."""
    a = np.array([[3, 2, -2, 1, -1, -3]], np.int16)
    b = np.array([[32767, -32768, 16384, -16383]], np.int16)
    quarter = (0, HALF, -1)  # 2^30 · 2^(-1-31) = 1/4
    y = q16.concat([a, a, b], 1, [None, quarter, (0, HALF, 2)])  # the last: x · 2
    # 3/4 -> 1; ±2/4 -> ±1 (ties away from zero); 1/4 -> 1 but -1/4 -> 0: SRDHM rounds +1/2 up, -1/2 to 0
    assert y.tolist() == [[3, 2, -2, 1, -1, -3, 1, 1, -1, 1, 0, -1, 32767, -32768, 32767, -32766]]
    assert q16.concat([b], 1, [(0, HALF, 16)]).tolist() == [[32767, -32768, 32767, -32768]]  # 2^31 fits, saturates
    assert q16.concat([a], 1, [(0, 0, 0)]).tolist() == [[0] * 6]  # a factor below 2^-32 flushes to 0


def test_int16_data_movement_follows_its_input_and_concat_copies_shared_inputs() -> None:
    """slice and transpose take their input's precision and scale (no converter after an int16
    layer); an int16 concat copies the input that shares its quantization, requantizes the others
    (a slice of another tensor, the converted graph input) and runs its 16x8 kernel."""
    g = data_movement_graph()
    ref, qg = quantize_with_float(g, calib_inputs(16, seed=2, shape=(3, 6, 8)), progress=False)
    q = rebuild(ref, qg, all_int16(ref))
    nodes = {n.op: n for n in q.nodes}
    assert all(q.tensors[n.outputs[0]].dtype == "int16" for n in q.nodes if n.op != "requantize")
    assert [n.inputs[0] for n in q.nodes if n.op == "requantize"] == ["input", ref.outputs[0]]  # the int8 I/O only
    for n in q.nodes:
        if n.op in ("slice", "transpose"):
            assert q.tensors[n.outputs[0]].quant.scale == q.tensors[n.inputs[0]].quant.scale
    concat = nodes["concat"]
    assert concat.attrs["requant"][1] is None and concat.attrs["requant"][0] is not None
    assert concat.attrs["requant"][2] is not None and concat.attrs["y_zero_point"] == 0
    assert all(r[0] == 0 for r in concat.attrs["requant"] if r is not None)
    x = quantize_input(q, calib_inputs(4, seed=3, shape=(3, 6, 8)))
    env = simulate(q, x, keep_all=True)
    assert env[concat.outputs[0]].dtype == np.int16
    want = q16.concat([env[i] for i in concat.inputs], 1, concat.attrs["requant"])
    assert np.array_equal(env[concat.outputs[0]], want)
    f = run_float(ref, {ref.inputs[0]: dequantize_tensor(q, q.inputs[0], x)}, keep_all=True)
    got = dequantize_tensor(q, concat.outputs[0], env[concat.outputs[0]])
    assert np.abs(got - f[concat.outputs[0]]).max() < 0.01 * np.abs(f[concat.outputs[0]]).max()


def test_batch_matmul16_by_hand() -> None:
    """TFLite's int16 BATCH_MATMUL: an int64 accumulator ((-32768)² · 4 = 2^32 does not wrap), the
    int64 MBQM (one floor shift: ties round up, unlike the int8 kernel's ties away from zero) and
    the int16 clamp."""
    a = np.array([[[-32768] * 4, [1] * 4, [-1] * 4, [3, 0, 0, 0]]], np.int16)  # [1, 4, 4]
    b = np.full((1, 4, 1), -32768, np.int16)  # [1, 4, 1]
    y = batch_matmul_s16(a, b, HALF, -17)  # 0.5 · 2^-17 = 2^-18
    assert y.ravel().tolist() == [16384, 0, 1, 0]  # 2^32 / 2^18; -0.5 -> 0 and +0.5 -> 1 (ties up); -0.375 -> 0
    assert batch_matmul_s16(a, b, HALF, -2).ravel().tolist() == [32767, -16384, 16384, -12288]  # 2^29 saturates
    assert batch_matmul_s16(a, b, HALF, -17, lo=0, hi=8).ravel().tolist() == [8, 0, 1, 0]  # a fused relu/clip


def test_softmax16_by_hand() -> None:
    """The int8 softmax's gemmlowp steps on int16 codes, output in units of 1/32768 (zero point 0):
    uniform rows give 32768/n rounded (n = 1: 1 saturates to 32767), equal maxima share exactly, a
    max 65535 codes above the rest takes everything, and diff_min cuts exps off (hand-chosen
    M = 2^30, L = 27: one code is 1.0, so the row 0, -1, -2, -3 is e^0..e^-3)."""
    m, sh, d = softmax_params(2.0 ** -10)
    assert (m, sh, d) == (HALF, 17, -15872)  # 2^-10 · 2^26 = 0.5 · 2^17; -floor(31 · 2^26 / 2^17)
    for n, want in ((1, 32767), (2, 16384), (3, 10923), (6, 5461), (7, 4681), (4095, 8)):  # 10922.67, 5461.33, ...
        assert softmax_s16(np.full((1, n), 123, np.int16), m, sh, d).tolist() == [[want] * n]
    assert softmax_s16(np.array([[32767, -32768, -32768, 32767]], np.int16), m, sh, d).tolist() == [[16384, 0, 0, 16384]]
    assert softmax_s16(np.array([[32767, -32768, -32768]], np.int16), m, sh, d).tolist() == [[32767, 0, 0]]
    x = np.array([[0, -1, -2, -3]], np.int16)
    # 32768 · e^-k / (1 + e^-1 + e^-2) = 21798.6, 8019.3, 2950.1; e^-3 cut off by diff_min -2
    assert softmax_s16(x, HALF, 27, -2).tolist() == [[21799, 8019, 2950, 0]]
    assert softmax_s16(x, HALF, 27, -3).tolist() == [[21100, 7762, 2856, 1050]]  # with e^-3: 21099.8, ... 1050.5
    assert softmax_s16(x.T, HALF, 27, -3, axis=0).T.tolist() == [[21100, 7762, 2856, 1050]]  # any axis


@pytest.mark.parametrize("scale", [2.0 ** -27, 1e-4, 15.99])
def test_softmax16_every_int16_difference_fits_at_extreme_scales(scale: float) -> None:
    """diff_min bounds the differences the kernel rescales, |diff_min| · 2^L <= 31 · 2^26, at the
    smallest scale the kernel takes (L = 0, diff_min about -2^31: every int16 difference is used)
    and the largest (L = 30, diff_min -1); a row spanning the int16 range (differences down to
    -65535) runs through the simulator's int32 guards, and still sums to about 32768."""
    m, sh, d = softmax_params(scale)
    assert 0 <= sh <= 30 and -d << sh <= DIFF_LIMIT < 2 ** 31
    x = np.concatenate([np.arange(-32768, 32768, 32), [32767]]).astype(np.int16)[None]  # 2049 values
    y = softmax_s16(x, m, sh, d)
    assert y.max() <= 32767 and abs(int(y.astype(np.int64).sum()) - 32768) <= x.size // 2 + 1


@pytest.mark.parametrize("scale", [1e-9, 16.0])
def test_softmax_refuses_scales_outside_the_kernel(scale: float) -> None:
    """Below 2^-27 the rescaling would need a right shift; from 16 up, a left shift over 30."""
    with pytest.raises(UnsupportedModelError, match="softmax input scale"):
        softmax_params(scale)


@pytest.fixture(scope="module")
def tiny() -> tuple:
    g = tiny_mobilenet(seed=3)
    calib = calib_inputs(48, seed=4)
    ref, qg = quantize_with_float(g, calib, progress=False)
    return ref, qg, calib


def test_mixed_graph_converts_at_boundaries_and_keeps_int8_io(tiny) -> None:
    ref, qg, calib = tiny
    names = [n.name for n in ref.nodes if n.op in ("conv2d", "depthwise_conv2d")]
    mixed = rebuild(ref, qg, {names[1]: "int16", names[2]: "int16"})
    conv = [n for n in mixed.nodes if n.op == "requantize"]
    assert [mixed.tensors[n.outputs[0]].dtype for n in conv] == ["int16", "int8"]
    assert mixed.tensors[mixed.inputs[0]].dtype == "int8" and mixed.tensors[mixed.outputs[0]].dtype == "int8"
    for n in mixed.nodes:  # every node reads its own precision (requantize reads the other one)
        ins = [mixed.tensors[i] for i in n.inputs if not mixed.tensors[i].is_const]
        want = {mixed.tensors[n.outputs[0]].dtype} if n.op != "requantize" else {"int8", "int16"} - {
            mixed.tensors[n.outputs[0]].dtype}
        assert {t.dtype for t in ins} == want, n.name
    for n in mixed.nodes:
        if n.name in names[1:3]:
            assert mixed.tensors[n.inputs[2]].dtype == "int64" and n.attrs["x_zero_point"] == 0


def test_int16_fused_hard_swish_is_computed_not_tabled(tiny) -> None:
    """Every int16 layer with a fused hard-swish (conv, depthwise, dense of tiny_mobilenet) carries
    the computed stage and no table, and its output is that stage of its pre-activation codes."""
    ref, qg, calib = tiny
    q = rebuild(ref, qg, all_int16(ref))
    fused = [n for n in q.nodes if n.attrs.get("act") == "hard_swish"]
    assert {n.op for n in fused} == {"conv2d", "depthwise_conv2d", "dense"}
    assert all(isinstance(n.attrs.get("hswish"), q16.HardSwish16) and n.attrs.get("lut") is None for n in fused)
    n = fused[0]
    env = simulate(q, quantize_input(q, calib[:4]), keep_all=True)
    pre = _pre_activation_codes(q, n, env)
    assert np.array_equal(env[n.outputs[0]], q16.hard_swish16(pre, n.attrs["hswish"]))


def test_int16_hard_swish_falls_back_to_the_table_where_no_stage_fits() -> None:
    """Scales no int32 stage represents (a pre-activation of scale 2^-29, all but zero) keep the
    513-entry table instead of failing the compile; ordinary scales get the computed stage."""
    from mnv3c.ir.graph import Node
    from mnv3c.quant.calibrate import pre_act_name
    from mnv3c.quant.quantize import _output_stage16

    n = Node("c", "conv2d", ["x", "w", "b"], ["y"], {"act": "hard_swish"})
    with pytest.raises(ValueError):
        q16.hswish_params(2.0 ** -29, 2.0 ** -20)
    _, stage = _output_stage16(n, {"y": (2.0 ** -20, 0), pre_act_name("y"): (2.0 ** -29, 0)})
    assert "hswish" not in stage and stage["lut"].shape == (513,)
    _, stage = _output_stage16(n, {"y": (2.0 ** -10, 0), pre_act_name("y"): (2.0 ** -10, 0)})
    assert isinstance(stage["hswish"], q16.HardSwish16) and "lut" not in stage


def _pre_activation_codes(q, n, env) -> np.ndarray:
    """Node ``n``'s int16 pre-activation codes: the node run with its fused activation removed."""
    bare = type(n)(n.name, n.op, list(n.inputs), list(n.outputs), {**n.attrs, "hswish": None}, list(n.fused))
    return run_node(q, bare, env)


def test_int16_fast_simulator_equals_reference_kernels(tiny) -> None:
    ref, qg, calib = tiny
    q = rebuild(ref, qg, all_int16(ref))
    x = quantize_input(q, calib[:8])
    fast, slow = simulate(q, x, keep_all=True), simulate(q, x, keep_all=True, reference_kernels=True)
    for name, v in fast.items():
        assert v.dtype == slow[name].dtype and np.array_equal(v, slow[name]), name


def test_int16_everywhere_is_closer_to_float_than_int8(tiny) -> None:
    """On inputs the int8 input represents exactly (so only the layers add noise), the logits of
    16x8 everywhere (before the int8 output) are closer to float than int8's."""
    ref, qg, calib = tiny
    x = dequantize_tensor(qg, qg.inputs[0], quantize_input(qg, calib_inputs(64, seed=9)))
    q = rebuild(ref, qg, all_int16(ref))
    logits = without_softmax(ref).outputs[0]  # the model ends in an int8 softmax: compare what feeds it
    f = run_float(ref, {ref.inputs[0]: x}, keep_all=True)[logits].astype(np.float64)

    def sqnr(graph) -> float:
        y = dequantize_tensor(graph, logits, simulate(graph, quantize_input(graph, x), keep_all=True)[logits])
        return 10 * np.log10((f ** 2).sum() / ((f - y) ** 2).sum())

    assert q.tensors[logits].dtype == "int16" and sqnr(q) > sqnr(qg) + 6  # int8 weights remain: not 8 bits more
    assert fidelity(ref, q, x)["sqnr_db"] > fidelity(ref, qg, x)["sqnr_db"] + 3  # through the int8 output


def test_greedy_promotion_stops_at_the_target_and_reports_costs(tiny) -> None:
    ref, qg, calib = tiny
    s8 = fidelity(ref, qg, calib)["sqnr_db"]
    mixed, steps = choose_mixed(ref, qg, calib, target_sqnr=s8 + 3)
    assert steps[0]["promoted"] is None and steps[0]["extra_tensor_bytes"] == 0 and steps[0]["measured"]
    assert steps[-1]["target_met"] and steps[-1]["measured"] and steps[-1]["sqnr_db"] >= s8 + 3
    assert all(not s.get("target_met", False) for s in steps[:-1])
    assert steps[-2]["measured"] and steps[-2]["sqnr_db"] < s8 + 3  # the step before the stop missed it
    assert all(s["sqnr_db"] < s8 + 3 for s in steps[:-1] if s["measured"])
    assert all(s["sqnr_db"] is None for s in steps if not s["measured"])
    assert [s["int16_macs"] for s in steps] == sorted(s["int16_macs"] for s in steps)
    promoted = {s["promoted"] for s in steps[1:]}
    assert {n.name for n in mixed.nodes if mixed.tensors[n.outputs[0]].dtype == "int16" and n.op != "requantize"} >= promoted
    body = without_softmax(mixed)  # the costs the rows price are the built graph's
    assert steps[-1]["tensor_bytes"] == tensor_bytes(body)
    assert steps[-1]["converters"] == sum(n.op == "requantize" for n in body.nodes)


def test_search_measures_a_few_prefixes() -> None:
    """first_meeting finds the first k where a growing fidelity meets the target with about
    2·log2(k) measurements, n when nothing meets it, and never measures the same k twice."""
    for n in (0, 1, 2, 7, 40, 64):
        for first in range(1, n + 2):
            seen: list[int] = []

            def met(k: int) -> bool:
                assert k not in seen and 1 <= k <= n
                seen.append(k)
                return k >= first

            assert first_meeting(met, n) == min(first, n)
            assert len(seen) <= 2 * max(1, n).bit_length() + 1


def test_search_computes_nothing_more_when_int8_meets_the_target(tiny, monkeypatch) -> None:
    ref, qg, calib = tiny
    monkeypatch.setattr(mixed_mod, "isolated_sensitivity", lambda *a: pytest.fail("sensitivity computed"))
    q, steps = choose_mixed(ref, qg, calib, target_agreement=0.0)
    assert q is qg and len(steps) == 1 and steps[0]["target_met"] and steps[0]["promoted"] is None


def test_precision_cost_predicts_the_built_graph(tiny) -> None:
    """The search prices candidates without building them: its tensor bytes must be the built
    graph's, its work the int16 MACs plus the elements every converter of the built graph moves
    (on the logits graph the search prices: a trailing softmax is left out)."""
    ref, qg = (without_softmax(g) for g in tiny[:2])
    macs = {r["name"]: r["macs"] for r in layer_stats(ref)}
    names = sorted(all_int16(ref))
    rng = np.random.default_rng(0)
    for subset in ([], names, *(rng.choice(names, k, replace=False) for k in (1, 2, 3, len(names) // 2))):
        precision = {k: "int16" for k in subset}
        built = rebuild(ref, qg, precision)
        moved = sum(int(np.prod(built.tensors[n.outputs[0]].shape[1:])) for n in built.nodes if n.op == "requantize")
        assert precision_cost(ref, precision, macs) == (sum(macs[k] for k in subset) + moved, tensor_bytes(built))


def test_greedy_promotion_prices_marginal_cost(tiny) -> None:
    """Of layers with the same gain, the one whose promotion is cheapest goes first; closing a gap
    between int16 layers costs less than its MACs (converters go away); a layer without gain waits."""
    ref = without_softmax(tiny[0])
    macs = {r["name"]: r["macs"] for r in layer_stats(ref)}
    names = [n.name for n in ref.nodes if n.name in all_int16(ref)]
    base = precision_cost(ref, {}, macs)
    gain = {k: 1.0 for k in names}
    cheapest = min(names, key=lambda k: sum(precision_cost(ref, {k: "int16"}, macs)[i] / max(base[i], 1)
                                             for i in range(2)))
    assert _next_layer(ref, {}, names, gain, macs, base) == cheapest
    rest = {k: "int16" for k in names if k != names[1]}  # a gap between int16 layers: closing it saves converters
    closing = precision_cost(ref, {**rest, names[1]: "int16"}, macs)[0] - precision_cost(ref, rest, macs)[0]
    assert closing < macs[names[1]] < precision_cost(ref, {names[1]: "int16"}, macs)[0] - base[0]
    no_gain = {**gain, names[0]: 0.0}
    assert _next_layer(ref, {}, names[:2], no_gain, macs, base) == names[1]


def test_int16_views_keep_their_input_parameters() -> None:
    """A reshape (and every op that copies codes) must read its output with its input's int16 scale.
    Regression: the bundled model's Flatten took its own calibrated int16 bound, every int16 logit
    was scaled wrong (24.7 dB instead of 44.5 dB at the output); int8 shares the parameters already."""
    g = tiny_mobilenet(seed=3)
    calib = calib_inputs(48, seed=4)
    ref, qg = (without_softmax(x) for x in quantize_with_float(g, calib, progress=False))
    ranges = qg.meta["quant"]["ranges"]
    view = next(n for n in ref.nodes if n.op == "reshape")
    ranges[view.outputs[0]] = {**ranges.get(view.outputs[0], {}), "int16_bound": 1e3}  # as after a wider pool
    q = rebuild(ref, qg, all_int16(ref))
    views = [n for n in q.nodes if n.op in ALIASING]
    assert views
    for n in views:
        assert (q.tensors[n.outputs[0]].quant.scale, q.tensors[n.outputs[0]].quant.zero_point) == (
            q.tensors[n.inputs[0]].quant.scale, q.tensors[n.inputs[0]].quant.zero_point), n.name


def test_fidelity_rows_are_output_positions() -> None:
    """A CTC sequence [N, T, C] is judged per step and an NCHW map with channels per pixel, as they
    are read; flattened, one argmax over T*C would hide every step but the loudest."""
    seq = np.array([[[0, 1, 0], [5, 0, 0]]], np.float64)  # steps argmax 1, 0
    rows = output_rows(seq.reshape(1, -1), (1, 2, 3))
    assert rows.shape == (2, 3) and list(rows.argmax(1)) == [1, 0]
    nchw = np.arange(2 * 2 * 1 * 3, dtype=np.float64).reshape(2, 2, 1, 3)  # 2 samples, 2 channels, 1x3 pixels
    rows = output_rows(nchw.reshape(2, -1), (1, 2, 1, 3))
    assert rows.shape == (6, 2) and list(rows[0]) == [0, 3] and list(rows[5]) == [8, 11]
    assert output_rows(nchw.reshape(2, -1)[:, :3], (1, 1, 1, 3)).shape == (6, 1)  # one channel: no argmax
    assert output_rows(np.ones((4, 10)), (1, 10)).shape == (4, 10)


def test_position_scores_by_hand() -> None:
    """Agreement and cosine per CTC step; a one-channel map: agreement 1, cosine per sample."""
    f = np.array([[0.0, 1.0, 0.0, 5.0, 0.0, 0.0]])  # 2 steps x 3 classes: argmax 1, 0
    q = np.array([[0.0, 1.0, 0.0, 0.0, 0.0, 5.0]])  # argmax 1, 2
    agree, cos = position_scores(f, q, (1, 2, 3))
    assert agree == 0.5 and cos == 0.5  # step cosines 1 and 0
    agree, cos = position_scores(np.array([[1.0, 2.0, 3.0, 4.0]]), np.array([[4.0, 3.0, 2.0, 1.0]]), (1, 1, 2, 2))
    assert agree == 1.0 and abs(cos - 20 / 30) < 1e-12  # one cosine over the whole map, not per pixel


def test_cosine_target_promotes_until_met(tiny) -> None:
    ref, qg, calib = tiny
    c8 = fidelity(ref, qg, calib)["cosine"]
    target = c8 + (1 - c8) / 2  # half the int8 cosine deficit
    _, steps = choose_mixed(ref, qg, calib, target_cosine=target)
    assert len(steps) > 1 and steps[-1]["target_met"] and steps[-1]["cosine"] >= target
    assert all(s["cosine"] < target for s in steps[:-1] if s["measured"])


def test_search_stops_near_all_int16_when_the_target_is_unreachable() -> None:
    """When even every promotion misses the target, the search stops at the fewest promotions whose
    fidelity is within tolerance of all of them (here: agreement saturating at 0.92 from k = 13),
    measuring about 2·log2(n) prefixes; the old search returned n (every layer int16)."""
    from mnv3c.quant.mixed import near_all_int16
    for n, plateau in ((40, 13), (64, 1), (64, 64), (7, 5)):
        measured: dict[int, dict[str, float | None]] = {}

        def score(k: int) -> dict[str, float | None]:
            if k not in measured:
                measured[k] = {"sqnr_db": 20.0, "agreement": 0.92 * min(k, plateau) / plateau, "cosine": 0.9}
            return measured[k]

        def met(k: int) -> bool:
            return score(k)["agreement"] >= 0.99

        def near(k: int) -> bool:
            return near_all_int16(score(k), score(n), 100, None, 0.99, None)

        assert first_meeting(met, n, near) == plateau
        assert first_meeting(met, n) == n  # without the relaxed predicate: every layer
        assert len(measured) <= 2 * n.bit_length() + 1


def test_missed_target_is_retried_with_adaptive_rounding_and_the_closer_search_kept(tiny) -> None:
    """A mixed search that misses its target even with every layer int16 is run once more on the
    adaptively rounded quantization; the outcome closer to the target is kept and says so. A met
    target (or a caller that already rounds adaptively: no ``requantize``) does not requantize."""
    from mnv3c.quant.mixed import closer, precision_with_rounding_fallback
    ref, qg, calib = tiny
    calls = []

    def requantize():
        calls.append(1)
        return quantize_with_float(tiny_mobilenet(seed=3), calib, progress=False, adaptive_rounding=True)

    targets = (200.0, None, None)  # unreachable
    kept_ref, kept, steps = precision_with_rounding_fallback(ref, qg, calib, "mixed", targets, requantize, False)
    auto = steps[-1]["adaptive_rounding_auto"]
    assert calls == [1] and auto["tried"] and not steps[-1]["target_met"]
    rtn, adaptive = auto["round_to_nearest"], auto["adaptive"]
    assert rtn["target_met"] is False and adaptive["target_met"] is False
    def key(r):
        return tuple((c["sqnr_db"], c["cosine"], c["agreement"]) for c in (r["all_int16"], r))
    assert auto["kept"] == (key(adaptive) > key(rtn))
    assert kept.meta["quant"]["adaptive_rounding"] is auto["kept"] and (kept_ref is ref) is not auto["kept"]
    assert steps[-1]["sqnr_db"] == (adaptive if auto["kept"] else rtn)["sqnr_db"]

    def refuse():
        raise AssertionError("a met target must not requantize")

    s8 = fidelity(ref, qg, calib)["sqnr_db"]
    _, _, met = precision_with_rounding_fallback(ref, qg, calib, "mixed", (s8 - 1, None, None), refuse, False)
    assert met[-1]["target_met"] and met[-1]["adaptive_rounding_auto"] is None and len(met) == 1
    _, _, unmet = precision_with_rounding_fallback(ref, qg, calib, "mixed", targets, None, False)
    assert unmet[-1]["adaptive_rounding_auto"] is None
    assert precision_with_rounding_fallback(ref, qg, calib, "int16", targets, refuse, False)[2] is None
    row = {"target_met": False, "agreement": 0.9, "cosine": 0.99, "sqnr_db": 20.0, "extra_tensor_bytes": 10}
    assert closer({**row, "target_met": True, "agreement": 0.5}, row)  # a met target first
    assert closer({**row, "agreement": 0.91}, row) and not closer(row, row)
    assert closer({**row, "sqnr_db": 21.0, "agreement": 0.8}, row)  # SQNR first: agreement is the noisiest
    assert closer({**row, "cosine": 0.995, "agreement": 0.8}, row)
    assert closer({**row, "sqnr_db": None}, row) and closer({**row, "extra_tensor_bytes": 0}, row)
    top = {"agreement": 0.95, "cosine": 0.99, "sqnr_db": 20.0}  # a miss: the higher ceiling wins over the stop
    assert closer({**row, "sqnr_db": 19.0, "all_int16": top}, {**row, "all_int16": {**top, "sqnr_db": 19.5}})


def test_unmet_message_names_the_ceiling_and_the_fix() -> None:
    from mnv3c.commands.eval_cmd import unmet_message
    msg = unmet_message({"target_met": False, "sqnr_db": 20.0, "agreement": 0.92, "cosine": 0.95,
                         "all_int16": {"sqnr_db": 20.3, "agreement": 0.922, "cosine": 0.951}})
    assert "\n" not in msg and "92.20%" in msg and "int8 weights" in msg and "--adaptive-rounding" in msg
    tried = {"tried": True, "kept": True, "round_to_nearest": {"agreement": 0.9, "cosine": 0.95},
             "adaptive": {"agreement": 0.92, "cosine": 0.951}}
    msg = unmet_message({"target_met": False, "agreement": 0.92, "cosine": 0.951, "sqnr_db": 20.3,
                         "all_int16": {"sqnr_db": 20.3, "agreement": 0.922, "cosine": 0.951},
                         "adaptive_rounding_auto": tried})
    assert "\n" not in msg and "adaptive rounding of the weights was tried (kept" in msg and "90.00%" in msg
    assert "try --adaptive-rounding" not in msg


def test_unmet_message_without_promotable_layers_says_so() -> None:
    from mnv3c.commands.eval_cmd import unmet_message
    msg = unmet_message({"target_met": False, "sqnr_db": 20.0, "agreement": 0.92, "cosine": 0.95, "all_int16": None})
    assert "\n" not in msg and "no layer" in msg and "int16 kernel" in msg and "all-int16" not in msg


def test_mixed_search_measures_against_the_model_not_the_bias_corrected_reference() -> None:
    """The search's scores are the mixed graph's fidelity to the model (`prepare`d), not to the
    equalized, bias-corrected graph it was quantized from: the two differ, and a target met
    against the corrections is not met against the model."""
    from mnv3c.quant.quantize import prepare
    g = tiny_mobilenet(seed=3)
    calib = calib_inputs(48, seed=4)
    ref, qg = quantize_with_float(g, calib, progress=False)
    model = prepare(g)
    s_model, s_ref = fidelity(model, qg, calib)["sqnr_db"], fidelity(ref, qg, calib)["sqnr_db"]
    assert abs(s_model - s_ref) > 0.1  # the corrections move the float graph: the test can tell them apart
    mixed, steps = choose_mixed(ref, qg, calib, target_sqnr=s_model + 3, float_graph=model)
    assert steps[0]["sqnr_db"] == pytest.approx(s_model)
    measured = [s for s in steps if s["measured"]]
    last = measured[-1]
    assert last["sqnr_db"] == pytest.approx(fidelity(model, mixed, calib)["sqnr_db"])
    assert last["target_met"] == (fidelity(model, mixed, calib)["sqnr_db"] >= s_model + 3)


def test_mixed_search_measures_on_the_search_data_when_given() -> None:
    """`quantize_model`'s search_data: the search's scores are fidelity on those inputs (against
    the model), not on the calibration inputs the quantization was fitted to; report says which."""
    from mnv3c.compiler import quantize_model
    from mnv3c.quant.quantize import prepare, quant_report
    g = tiny_mobilenet(seed=3)
    calib, search = calib_inputs(48, seed=4), calib_inputs(40, seed=11)
    # unreachable, so the search measures to the end; adaptive rounding from the start: no retry with it
    options = {"precision": "mixed", "target_sqnr": 200.0, "adaptive_rounding": True}
    q = quantize_model("tiny", None, calib, progress=False, loaded=(g, {}), options={**options, "search_data": search})
    steps = q.qgraph.meta["quant"]["mixed_steps"]
    int8 = quantize_model("tiny", None, calib, progress=False, loaded=(g, {}), options={"adaptive_rounding": True}).qgraph
    on_search, on_calib = fidelity(prepare(g), int8, search)["sqnr_db"], fidelity(prepare(g), int8, calib)["sqnr_db"]
    assert abs(on_search - on_calib) > 0.1
    assert steps[0]["sqnr_db"] == pytest.approx(on_search)
    assert quant_report(q.qgraph)["mixed_search"] == "40 search inputs"
    default = quantize_model("tiny", None, calib, progress=False, loaded=(g, {}), options=options).qgraph
    assert default.meta["quant"]["mixed_steps"][0]["sqnr_db"] == pytest.approx(on_calib)
    assert quant_report(default)["mixed_search"] == "calibration inputs"
