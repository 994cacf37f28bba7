/*
 * mnv3c_requant.h - the fixed-point helpers of docs/ARITHMETIC.md (TFLite/gemmlowp), bit-exact
 * with mnv3c/quant/intops.py. Every kernel requantizes its int32 accumulator with these.
 *
 * Portability: only C99 + <stddef.h>/<stdint.h>. Right shifts of negative values are written as
 * ~(~x >> n), which is exactly an arithmetic shift without relying on implementation-defined
 * behaviour; compilers emit a single ASR for it.
 */
#ifndef MNV3C_REQUANT_H
#define MNV3C_REQUANT_H

#include <stddef.h>
#include <stdint.h>

/* Arithmetic (sign-extending) right shift, 0 <= n <= 31. */
static inline int32_t mnv3c_asr(int32_t x, int32_t n)
{
    return x >= 0 ? (x >> n) : ~(~x >> n);
}

/* SaturatingRoundingDoublingHighMul: round(a * b / 2^31), saturating the single overflow case. */
static inline int32_t mnv3c_srdhm(int32_t a, int32_t b)
{
    int64_t ab;
    int64_t nudge;
    if (a == INT32_MIN && b == INT32_MIN) {
        return INT32_MAX;
    }
    ab = (int64_t)a * (int64_t)b;
    nudge = ab >= 0 ? ((int64_t)1 << 30) : (1 - ((int64_t)1 << 30));
    return (int32_t)((ab + nudge) / ((int64_t)1 << 31)); /* C division truncates toward zero */
}

/* RoundingDivideByPOT: x / 2^exponent, to nearest, ties away from zero; 0 <= exponent <= 31. */
static inline int32_t mnv3c_rdbp(int32_t x, int32_t exponent)
{
    const int32_t mask = (int32_t)(((int64_t)1 << exponent) - 1);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return mnv3c_asr(x, exponent) + (remainder > threshold ? 1 : 0);
}

/*
 * MultiplyByQuantizedMultiplier: x * multiplier * 2^(shift - 31), multiplier in [2^30, 2^31) or 0,
 * shift in [-31, 30]. The quantizer guarantees x * 2^max(shift, 0) fits in int32.
 */
static inline int32_t mnv3c_mbqm(int32_t x, int32_t multiplier, int32_t shift)
{
    const int32_t left = shift > 0 ? shift : 0;
    const int32_t right = shift > 0 ? 0 : -shift;
    return mnv3c_rdbp(mnv3c_srdhm(x * ((int32_t)1 << left), multiplier), right);
}

/* min(max(v, lo), hi) as int8; lo/hi are already in [-128, 127]. */
static inline int8_t mnv3c_clamp8(int32_t v, int32_t lo, int32_t hi)
{
    return (int8_t)(v < lo ? lo : (v > hi ? hi : v));
}

/*
 * The output stage shared by conv/dense/add: t = clamp8(MBQM(acc) + zp, lo, hi), then the optional
 * fused activation table y = lut[t + 128] (lut == NULL: y = t).
 */
static inline int8_t mnv3c_requant_out(int32_t acc, int32_t multiplier, int32_t shift, int32_t zp,
                                       int32_t lo, int32_t hi, const int8_t *lut)
{
    const int8_t t = mnv3c_clamp8(mnv3c_mbqm(acc, multiplier, shift) + zp, lo, hi);
    return lut != NULL ? lut[(int32_t)t + 128] : t;
}

#endif /* MNV3C_REQUANT_H */
