"""int8 softmax with TFLite / TFLM semantics: the integer reference the C kernel softmax_s8 matches.

TFLite's int8 softmax (reference_ops::Softmax, the kernel TFLM and CMSIS-NN's arm_softmax_s8
agree with) works in gemmlowp fixed point: for each row, d = x - max(x) is rescaled by
beta * s_in into Q5.26, exp(d) is evaluated in Q0.31 (a Taylor polynomial on [-1/4, 0) times
exp(-2^k) for each set bit of the remainder), the exps are summed in Q12.19, the sum's reciprocal
comes from three Newton-Raphson steps, and each output is exp(d) / sum in units of 1/256, shifted
by -128. Differences below ``diff_min`` give exactly 0 probability (code -128). The output
quantization is fixed: scale 1/256, zero point -128. One extension: where TFLite stops on a
check (a row whose exps sum to 512 or more, possible only in rows of 512+ elements, where every
probability is below 1/512), the quotient rounds to 0 as RDBP by 32 or more would.

Written step by step after the TFLite reference (same helper names), vectorized over rows.
docs/ARITHMETIC.md "softmax" states the same contract.
"""

from __future__ import annotations

import math

import numpy as np

from mnv3c.errors import UnsupportedModelError, shown
from mnv3c.ir.graph import Graph, Node, QuantParams, Tensor
from mnv3c.quant.intops import INT32_MAX, INT32_MIN, _i32, quantize_multiplier, rdbp, srdhm

DIFF_INTEGER_BITS = 5  # Q5.26 input differences
ACCUM_INTEGER_BITS = 12  # Q12.19 sum of exps: exact for rows of up to 4095 elements
MAX_ROW = (1 << ACCUM_INTEGER_BITS) - 1  # each exp is at most 1.0 = 2^19 in Q12.19
OUTPUT_SCALE = 1.0 / 256.0
OUTPUT_ZERO_POINT = -128

# gemmlowp's fixed-point constants (raw Q0.31 unless noted)
_EXP_MINUS_ONE_EIGHTH = 1895147668  # exp(-1/8)
_ONE_THIRD = 715827883
_EXP_BARREL = ((-2, 1672461947), (-1, 1302514674), (0, 790015084), (1, 290630308), (2, 39332535),
               (3, 720401), (4, 242))  # (k, exp(-2^k))  # fmt: skip
_48_OVER_17 = 1515870810  # Q2.29
_MINUS_32_OVER_17 = -1010580540  # Q2.29


def softmax_params(input_scale: float, beta: float = 1.0) -> tuple[int, int, int]:
    """(multiplier, left_shift, diff_min) for an int8 input of scale ``input_scale``, as TFLite's
    PreprocessSoftmaxScaling and CalculateInputRadius compute them (in double precision)."""
    real = min(float(beta) * float(input_scale) * (1 << (31 - DIFF_INTEGER_BITS)), (1 << 31) - 1.0)
    try:
        multiplier, left_shift = quantize_multiplier(real)
    except ValueError:
        raise UnsupportedModelError(f"softmax input scale {input_scale:g} is too large for the int8 kernel "
                                    "(use --no-softmax)") from None
    if left_shift < 0:
        raise UnsupportedModelError(f"softmax input scale {input_scale:g} is too small for the int8 kernel "
                                    "(use --no-softmax)")
    radius = math.floor(((1 << DIFF_INTEGER_BITS) - 1) * (1 << (31 - DIFF_INTEGER_BITS)) / (1 << left_shift))
    return multiplier, left_shift, -radius


def softmax_s8(x: np.ndarray, multiplier: int, left_shift: int, diff_min: int, axis: int = -1) -> np.ndarray:
    """int8 softmax of ``x`` along ``axis`` (int8 result, scale 1/256, zero point -128)."""
    rows = np.moveaxis(np.asarray(x, dtype=np.int64), axis, -1)
    if rows.shape[-1] > MAX_ROW:
        raise UnsupportedModelError(f"softmax over {rows.shape[-1]} elements: the int8 kernel sums at most {MAX_ROW}")
    diff = rows - rows.max(axis=-1, keepdims=True)
    valid = diff >= diff_min
    scaled = _i32(np.where(valid, diff, 0) << left_shift, "softmax diff * 2^left_shift")
    e = np.where(valid, exp_on_negative_values(srdhm(scaled, multiplier)), 0)
    sum_of_exps = _i32(rdbp(e, ACCUM_INTEGER_BITS).astype(np.int64).sum(axis=-1, keepdims=True),
                       "softmax sum of exps")  # Rescale<12>: Q0.31 -> Q12.19
    scale, bits_over_unit = get_reciprocal(sum_of_exps, ACCUM_INTEGER_BITS)
    exponent = bits_over_unit + 31 - 8
    # TFLite refuses exponent > 31 (a sum of exps of 512 or more); the quotient then rounds to 0.
    y = np.where(exponent > 31, 0, rdbp(srdhm(scale, e), np.minimum(exponent, 31))) + OUTPUT_ZERO_POINT
    y = np.where(valid, np.clip(y, -128, 127), -128).astype(np.int8)
    return np.moveaxis(y, -1, axis)


def exp_on_negative_values(a: np.ndarray) -> np.ndarray:
    """exp(a) in Q0.31 for a <= 0 in Q5.26 (gemmlowp's exp_on_negative_values<5>)."""
    a = _i32(a, "exp input")
    frac_bits = 31 - DIFF_INTEGER_BITS
    one_quarter = 1 << (frac_bits - 2)
    a_mod_quarter_minus_one_quarter = (a & (one_quarter - 1)) - one_quarter
    result = _exp_on_interval_between_negative_one_quarter_and_0_excl(
        _saturating_shl(a_mod_quarter_minus_one_quarter, DIFF_INTEGER_BITS))  # Rescale<0>
    remainder = a_mod_quarter_minus_one_quarter - a
    for k, multiplier in _EXP_BARREL:
        result = np.where(remainder & (1 << (frac_bits + k)), srdhm(result, multiplier), result)
    return np.where(a == 0, INT32_MAX, result).astype(np.int64)


def _exp_on_interval_between_negative_one_quarter_and_0_excl(a: np.ndarray) -> np.ndarray:
    """exp(a) for a in [-1/4, 0), Q0.31: Taylor expansion around -1/8."""
    x = _i32(a + (1 << 28), "exp x")  # a + 1/8
    x2 = srdhm(x, x)
    x3 = srdhm(x2, x)
    x4 = srdhm(x2, x2)
    x4_over_4 = rdbp(x4, 2)
    poly = rdbp(_i32(srdhm(_i32(x4_over_4.astype(np.int64) + x3, "exp x4/4 + x3"), _ONE_THIRD).astype(np.int64)
                     + x2, "exp poly"), 1)
    return _i32(_EXP_MINUS_ONE_EIGHTH + srdhm(_EXP_MINUS_ONE_EIGHTH, _i32(x + poly, "exp x + poly")).astype(np.int64),
                "exp result")


def get_reciprocal(x: np.ndarray, integer_digits: int) -> tuple[np.ndarray, np.ndarray]:
    """(1/x in Q0.31 scaled into [1/2, 1), bits over unit) for x > 0 with ``integer_digits``
    integer bits (TFLite's GetReciprocal)."""
    x = _i32(x, "reciprocal input")
    headroom_plus_one = 32 - np.frexp(x.astype(np.float64))[1].astype(np.int64)  # leading zeros of uint32 x > 0
    shifted = ((x << headroom_plus_one) & 0xFFFFFFFF) - (1 << 31)  # uint32 arithmetic, as int32
    return one_over_one_plus_x(shifted), integer_digits - headroom_plus_one


def one_over_one_plus_x(a: np.ndarray) -> np.ndarray:
    """1 / (1 + a) for a in [0, 1) in Q0.31, by Newton-Raphson in Q2.29 (gemmlowp)."""
    half_denominator = _rounding_half_sum(_i32(a, "reciprocal a"), INT32_MAX)
    x = _i32(_48_OVER_17 + srdhm(half_denominator, _MINUS_32_OVER_17).astype(np.int64), "nr x0")
    for _ in range(3):
        one_minus = _i32((1 << 29) - srdhm(half_denominator, x).astype(np.int64), "nr 1 - d*x")
        x = _i32(x + _saturating_shl(srdhm(x, one_minus), 2), "nr x")
    return _saturating_shl(x, 1)


def _rounding_half_sum(a: np.ndarray, b: int) -> np.ndarray:
    """(a + b) / 2 to nearest, ties away from zero, in int64 like gemmlowp's RoundingHalfSum."""
    s = a.astype(np.int64) + b
    v = s + np.where(s >= 0, 1, -1)
    return np.where(v >= 0, v // 2, -((-v) // 2))


def _saturating_shl(x: np.ndarray, exponent: int) -> np.ndarray:
    """x * 2^exponent saturated to int32 (gemmlowp's SaturatingRoundingMultiplyByPOT, exponent > 0)."""
    x = np.asarray(x, dtype=np.int64)
    threshold = (1 << (31 - exponent)) - 1
    return np.where(x > threshold, INT32_MAX, np.where(x < -threshold, INT32_MIN, x << exponent))


def int8_softmax_fits(graph: Graph) -> bool:
    """Whether ``graph``'s trailing softmax (if any) has rows the int8 kernel can sum (a CTC
    recogniser's 6625 classes do not: its host applies the softmax, --no-softmax)."""
    last = graph.producers().get(graph.outputs[0])
    return last is None or last.op != "softmax" or int(graph.tensors[last.inputs[0]].shape[int(last.attrs.get(
        "axis", -1))]) <= MAX_ROW


def append_softmax(qg: Graph, ref: Graph, float_graph: Graph) -> None:
    """End int8 graph ``qg`` (which stops at the logits, see quantize.prepare) with ``float_graph``'s
    trailing softmax as an int8 ``softmax`` node: attrs ``axis`` (any but the batch axis),
    ``multiplier``, ``left_shift``, ``diff_min``; output scale 1/256, zero point -128. ``ref``, the
    float graph qg approximates tensor by tensor, gets the float softmax back too."""
    sm = float_graph.producers()[float_graph.outputs[0]]
    logits = qg.tensors[qg.outputs[0]]
    rank = len(logits.shape)
    axis = int(sm.attrs.get("axis", -1)) % rank
    if axis == 0:
        raise UnsupportedModelError(f"node {shown(sm.name)}: the int8 softmax does not run over the batch axis "
                                    "(use --no-softmax)")
    if int(logits.shape[axis]) > MAX_ROW:
        raise UnsupportedModelError(f"node {shown(sm.name)}: softmax over {logits.shape[axis]} classes, the int8 kernel "
                                    f"sums at most {MAX_ROW} (use --no-softmax)")
    multiplier, left_shift, diff_min = softmax_params(float(logits.quant.scale))
    y = qg.add_tensor(Tensor(sm.outputs[0], logits.shape, "int8",
                             quant=QuantParams.per_tensor(OUTPUT_SCALE, OUTPUT_ZERO_POINT)))
    qg.add_node(Node(sm.name, "softmax", [logits.name], [y.name],
                     {"axis": axis, "multiplier": multiplier, "left_shift": left_shift, "diff_min": diff_min}))
    qg.outputs = [y.name]
    ref.add_tensor(Tensor(y.name, logits.shape, float_graph.tensors[y.name].dtype))
    ref.add_node(Node(sm.name, "softmax", [logits.name], [y.name], {"axis": axis}))
    ref.outputs = [y.name]
    for g in (qg, ref):
        g.meta.setdefault("quant", {}).update(host_softmax_axis=None, softmax="int8")
