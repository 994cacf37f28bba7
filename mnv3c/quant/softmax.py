"""int8 and int16 softmax with TFLite / TFLM semantics: the integer references the C kernels
softmax_s8 and softmax_s16 match.

TFLite's int8 softmax (reference_ops::Softmax, the kernel TFLM and CMSIS-NN's arm_softmax_s8
agree with) works in gemmlowp fixed point: for each row, d = x - max(x) is rescaled by
beta * s_in into Q5.26, exp(d) is evaluated in Q0.31 (a Taylor polynomial on [-1/4, 0) times
exp(-2^k) for each set bit of the remainder), the exps are summed in Q12.19, the sum's reciprocal
comes from three Newton-Raphson steps, and each output is exp(d) / sum in units of 1/256, shifted
by -128. Differences below ``diff_min`` give exactly 0 probability (code -128). The output
quantization is fixed: scale 1/256, zero point -128. One extension: where TFLite stops on a
check (a row whose exps sum to 512 or more, possible only in rows of 512+ elements, where every
probability is below 1/512), the quotient rounds to 0 as RDBP by 32 or more would.

int16 (16x8 mixed precision): the same steps on symmetric int16 inputs (diff_min bounds every
difference the exp sees, so |d| · 2^left_shift <= 31 · 2^26 whatever the input width,
`softmax_params` checks it), the quotient in units of 1/32768 clamped to [0, 32767]: TFLite's int16
softmax output quantization (scale 1/32768, zero point 0). TFLite's own int16 kernel evaluates exp
and the reciprocal by tables; this is the more precise gemmlowp path of its int8 kernel.

Written step by step after the TFLite reference (same helper names), vectorized over rows.
docs/ARITHMETIC.md "softmax" states the same contract.
"""

from __future__ import annotations

import math

import numpy as np

from mnv3c.errors import UnsupportedModelError, shown
from mnv3c.ir.graph import Graph, Node, QuantParams, Tensor
from mnv3c.quant.intops import INT32_MAX, INT32_MIN, _i32, quantize_multiplier, rdbp, srdhm
from mnv3c.quant.intops16 import INT16_MAX

DIFF_INTEGER_BITS = 5  # Q5.26 input differences
ACCUM_INTEGER_BITS = 12  # Q12.19 sum of exps: exact for rows of up to 4095 elements
MAX_ROW = (1 << ACCUM_INTEGER_BITS) - 1  # each exp is at most 1.0 = 2^19 in Q12.19
OUTPUT_SCALE = 1.0 / 256.0
OUTPUT_ZERO_POINT = -128
OUTPUT16_SCALE = 1.0 / 32768.0  # TFLite's int16 softmax output: [0, 1) in Q0.15, zero point 0
OUTPUT16_ZERO_POINT = 0
DIFF_LIMIT = ((1 << DIFF_INTEGER_BITS) - 1) << (31 - DIFF_INTEGER_BITS)  # 31 · 2^26: |d| · 2^left_shift at most

# gemmlowp's fixed-point constants (raw Q0.31 unless noted)
_EXP_MINUS_ONE_EIGHTH = 1895147668  # exp(-1/8)
_ONE_THIRD = 715827883
_EXP_BARREL = ((-2, 1672461947), (-1, 1302514674), (0, 790015084), (1, 290630308), (2, 39332535),
               (3, 720401), (4, 242))  # (k, exp(-2^k))  # fmt: skip
_48_OVER_17 = 1515870810  # Q2.29
_MINUS_32_OVER_17 = -1010580540  # Q2.29


def softmax_params(input_scale: float, beta: float = 1.0) -> tuple[int, int, int]:
    """(multiplier, left_shift, diff_min) for an int8 or int16 input of scale ``input_scale``, as
    TFLite's PreprocessSoftmaxScaling and CalculateInputRadius compute them (in double precision).

    The kernels compute d · 2^left_shift in int32 only for differences d >= diff_min; whatever the
    input's width (an int16 difference reaches -65535), that product is then at most 31 · 2^26 in
    magnitude. Checked here, so a scale that broke it would be refused instead of overflowing."""
    real = min(float(beta) * float(input_scale) * (1 << (31 - DIFF_INTEGER_BITS)), (1 << 31) - 1.0)
    try:
        multiplier, left_shift = quantize_multiplier(real)
    except ValueError:
        raise UnsupportedModelError(f"softmax input scale {input_scale:g} is too large for the integer kernel "
                                    "(use --no-softmax)") from None
    if left_shift < 0:
        raise UnsupportedModelError(f"softmax input scale {input_scale:g} is too small for the integer kernel "
                                    "(use --no-softmax)")
    radius = math.floor(DIFF_LIMIT / (1 << left_shift))
    if left_shift > 30 or radius << left_shift > DIFF_LIMIT:
        raise UnsupportedModelError(f"softmax input scale {input_scale:g}: differences down to {-radius} shifted by "
                                    f"{left_shift} leave int32")
    return multiplier, left_shift, -radius


def softmax_s8(x: np.ndarray, multiplier: int, left_shift: int, diff_min: int, axis: int = -1) -> np.ndarray:
    """int8 softmax of ``x`` along ``axis`` (int8 result, scale 1/256, zero point -128)."""
    q, valid = _quotients(x, multiplier, left_shift, diff_min, axis, 8)
    y = np.where(valid, np.clip(q + OUTPUT_ZERO_POINT, -128, 127), -128).astype(np.int8)
    return np.moveaxis(y, -1, axis)


def softmax_s16(x: np.ndarray, multiplier: int, left_shift: int, diff_min: int, axis: int = -1) -> np.ndarray:
    """int16 softmax of symmetric int16 ``x`` along ``axis`` (int16 result, scale 1/32768, zero point
    0): a probability of 1 (a row whose max dominates) saturates to 32767."""
    q, valid = _quotients(x, multiplier, left_shift, diff_min, axis, 15)
    y = np.where(valid, np.clip(q, 0, INT16_MAX), 0).astype(np.int16)
    return np.moveaxis(y, -1, axis)


def _quotients(x: np.ndarray, multiplier: int, left_shift: int, diff_min: int, axis: int,
               output_bits: int) -> tuple[np.ndarray, np.ndarray]:
    """(exp(d) / sum in units of 2^-output_bits before the output's offset and clamp, d >= diff_min),
    rows along the last axis: the steps the int8 and int16 softmax share."""
    rows = np.moveaxis(np.asarray(x, dtype=np.int64), axis, -1)
    if rows.shape[-1] > MAX_ROW:
        raise UnsupportedModelError(f"softmax over {rows.shape[-1]} elements: the integer kernel sums at most {MAX_ROW}")
    diff = rows - rows.max(axis=-1, keepdims=True)
    valid = diff >= diff_min
    scaled = _i32(np.where(valid, diff, 0) << left_shift, "softmax diff * 2^left_shift")
    e = np.where(valid, exp_on_negative_values(srdhm(scaled, multiplier)), 0)
    sum_of_exps = _i32(rdbp(e, ACCUM_INTEGER_BITS).astype(np.int64).sum(axis=-1, keepdims=True),
                       "softmax sum of exps")  # Rescale<12>: Q0.31 -> Q12.19
    scale, bits_over_unit = get_reciprocal(sum_of_exps, ACCUM_INTEGER_BITS)
    exponent = bits_over_unit + 31 - output_bits
    # TFLite refuses exponent > 31 (int8: a sum of exps of 512 or more); the quotient then rounds to 0.
    return np.where(exponent > 31, 0, rdbp(srdhm(scale, e), np.minimum(exponent, 31))), valid


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
    """End quantized graph ``qg`` (which stops at the logits, see quantize.prepare) with
    ``float_graph``'s trailing softmax as a ``softmax`` node: attrs ``axis`` (any but the batch
    axis), ``multiplier``, ``left_shift``, ``diff_min``. ``ref``, the float graph qg approximates
    tensor by tensor, gets the float softmax back too.

    The softmax takes its logits' precision. int8 logits: the int8 kernel, output scale 1/256, zero
    point -128. int16 logits (their int8 converter is the graph output): the int16 kernel reads
    them instead, output 1/32768, 0, and the converter moves behind it into the same int8 1/256,
    -128: rounding the logits to int8 first would cost an error the exp turns into a relative
    error of every probability, while rounding a probability to 1/256 costs at most 1/512."""
    sm = float_graph.producers()[float_graph.outputs[0]]
    logits = _int16_logits(qg) or qg.tensors[qg.outputs[0]]
    rank = len(logits.shape)
    axis = int(sm.attrs.get("axis", -1)) % rank
    if axis == 0:
        raise UnsupportedModelError(f"node {shown(sm.name)}: the integer softmax does not run over the batch axis "
                                    "(use --no-softmax)")
    if int(logits.shape[axis]) > MAX_ROW:
        raise UnsupportedModelError(f"node {shown(sm.name)}: softmax over {logits.shape[axis]} classes, the integer "
                                    f"kernel sums at most {MAX_ROW} (use --no-softmax)")
    multiplier, left_shift, diff_min = softmax_params(float(logits.quant.scale))
    int16 = logits.dtype == "int16"
    y = qg.add_tensor(Tensor(sm.outputs[0], logits.shape, logits.dtype, quant=QuantParams.per_tensor(
        *((OUTPUT16_SCALE, OUTPUT16_ZERO_POINT) if int16 else (OUTPUT_SCALE, OUTPUT_ZERO_POINT)))))
    qg.add_node(Node(sm.name, "softmax", [logits.name], [y.name],
                     {"axis": axis, "multiplier": multiplier, "left_shift": left_shift, "diff_min": diff_min}))
    qg.outputs = [_probabilities_to_int8(qg, y) if int16 else y.name]
    ref.add_tensor(Tensor(y.name, logits.shape, float_graph.tensors[y.name].dtype))
    ref.add_node(Node(sm.name, "softmax", [logits.name], [y.name], {"axis": axis}))
    ref.outputs = [y.name]
    for g in (qg, ref):
        g.meta.setdefault("quant", {}).update(host_softmax_axis=None, softmax="int8")


def _int16_logits(qg: Graph) -> Tensor | None:
    """The int16 logits behind ``qg``'s output converter (removed, nothing else reads it), if any."""
    conv = qg.producers().get(qg.outputs[0])
    if conv is None or conv.op != "requantize" or qg.tensors[conv.inputs[0]].dtype != "int16" \
            or qg.consumers()[conv.outputs[0]]:
        return None
    qg.nodes.remove(conv)
    del qg.tensors[conv.outputs[0]]
    return qg.tensors[conv.inputs[0]]


def _probabilities_to_int8(qg: Graph, y: Tensor) -> str:
    """The int16 -> int8 converter of int16 probabilities into the int8 softmax output's 1/256, -128
    (y8 = clamp8(MBQM(y16, Q(2^-7)) - 128): 32767 -> 127), as quantize's converters are named."""
    out = f"{y.name}@int8"
    qg.add_tensor(Tensor(out, y.shape, "int8", quant=QuantParams.per_tensor(OUTPUT_SCALE, OUTPUT_ZERO_POINT)))
    m, sh = quantize_multiplier(OUTPUT16_SCALE / OUTPUT_SCALE)
    qg.add_node(Node(out, "requantize", [y.name], [out],
                     {"x_zero_point": 0, "y_zero_point": OUTPUT_ZERO_POINT, "multiplier": m, "shift": sh}))
    return out
