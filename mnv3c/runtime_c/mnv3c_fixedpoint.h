/*
 * mnv3c_fixedpoint.h - gemmlowp fixed-point pieces shared by the softmax and layer-norm kernels,
 * bit-exact with mnv3c/quant/softmax.py (sat_shl, one_over_one_plus_x, leading zeros).
 */
#ifndef MNV3C_FIXEDPOINT_H
#define MNV3C_FIXEDPOINT_H

#include "mnv3c_requant.h"

/* x * 2^exponent saturated to int32 (gemmlowp SaturatingRoundingMultiplyByPOT, exponent > 0). */
static inline int32_t mnv3c_sat_shl(int32_t x, int32_t exponent)
{
    const int32_t threshold = (int32_t)(((int32_t)1 << (31 - exponent)) - 1);
    if (x > threshold) {
        return INT32_MAX;
    }
    if (x < -threshold) {
        return INT32_MIN;
    }
    return x * ((int32_t)1 << exponent);
}

/* 1 / (1 + a) for a in [0, 1), Q0.31, three Newton-Raphson steps in Q2.29 (gemmlowp). */
static inline int32_t mnv3c_one_over_one_plus_x(int32_t a)
{
    const int64_t sum = (int64_t)a + INT32_MAX;
    const int32_t half_denominator = (int32_t)((sum + 1) / 2); /* RoundingHalfSum, sum >= 0 */
    int32_t x = 1515870810 + mnv3c_srdhm(half_denominator, -1010580540); /* 48/17 - 32/17 d */
    int32_t i;
    for (i = 0; i < 3; ++i) {
        const int32_t one_minus = ((int32_t)1 << 29) - mnv3c_srdhm(half_denominator, x);
        x += mnv3c_sat_shl(mnv3c_srdhm(x, one_minus), 2);
    }
    return mnv3c_sat_shl(x, 1);
}

/* Leading zero bits of x > 0. */
static inline int32_t mnv3c_leading_zeros(uint32_t x)
{
    int32_t n = 0;
    while ((x & 0x80000000u) == 0u) {
        x <<= 1;
        ++n;
    }
    return n;
}

#endif /* MNV3C_FIXEDPOINT_H */
