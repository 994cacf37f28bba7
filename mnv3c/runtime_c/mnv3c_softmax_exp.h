/*
 * mnv3c_softmax_exp.h - the per-row steps softmax_s8.c and softmax_s16.c share (gemmlowp fixed
 * point, bit-exact with mnv3c/quant/softmax.py): exp of a rescaled difference and the reciprocal of
 * the sum of exps. Only the input/output element types, the output's units (1/256 or 1/32768) and
 * its offset and clamp differ between the two kernels (docs/ARITHMETIC.md "softmax").
 */
#ifndef MNV3C_SOFTMAX_EXP_H
#define MNV3C_SOFTMAX_EXP_H

#include "mnv3c_kernels.h"
#include "mnv3c_fixedpoint.h"

/* exp(a) for a in [-1/4, 0), Q0.31: Taylor expansion around -1/8. */
static inline int32_t mnv3c_exp_on_interval(int32_t a)
{
    const int32_t exp_minus_one_eighth = 1895147668;
    const int32_t one_third = 715827883;
    const int32_t x = a + ((int32_t)1 << 28);
    const int32_t x2 = mnv3c_srdhm(x, x);
    const int32_t x3 = mnv3c_srdhm(x2, x);
    const int32_t x4 = mnv3c_srdhm(x2, x2);
    const int32_t x4_over_4 = mnv3c_rdbp(x4, 2);
    const int32_t poly = mnv3c_rdbp(mnv3c_srdhm(x4_over_4 + x3, one_third) + x2, 1);
    return exp_minus_one_eighth + mnv3c_srdhm(exp_minus_one_eighth, x + poly);
}

/* exp(a) in Q0.31 for a <= 0 in Q5.26. */
static inline int32_t mnv3c_exp_on_negative_values(int32_t a)
{
    static const int32_t barrel[7] = {1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242};
    const int32_t one_quarter = (int32_t)1 << 24;
    const int32_t a_mod = (a & (one_quarter - 1)) - one_quarter;
    const int32_t remainder = a_mod - a;
    int32_t result = mnv3c_exp_on_interval(mnv3c_sat_shl(a_mod, 5));
    int32_t k;
    if (a == 0) {
        return INT32_MAX;
    }
    for (k = 0; k < 7; ++k) { /* bit 24 + k of the remainder is 2^(k - 2) */
        if (remainder & ((int32_t)1 << (24 + k))) {
            result = mnv3c_srdhm(result, barrel[k]);
        }
    }
    return result;
}

/* exp(d) in Q0.31 for a difference d = x - max in [diff_min, 0]: the quantizer keeps
 * |diff_min| * 2^left_shift <= 31 * 2^26, so the product is an int32 for int8 and int16 inputs. */
static inline int32_t mnv3c_softmax_exp(const mnv3c_softmax_params *p, int32_t d)
{
    return mnv3c_exp_on_negative_values(mnv3c_srdhm(d * ((int32_t)1 << p->left_shift), p->multiplier));
}

/* 1 / sum (sum of exps in Q12.19, > 0) as a Q0.31 factor in [1/2, 1), returned with the RDBP
 * exponent that turns SRDHM(factor, exp) into units of 2^-output_bits. */
static inline int32_t mnv3c_softmax_reciprocal(int32_t sum, int32_t output_bits, int32_t *exponent)
{
    const int32_t headroom = mnv3c_leading_zeros((uint32_t)sum);
    *exponent = (12 - headroom) + 31 - output_bits;
    return mnv3c_one_over_one_plus_x((int32_t)(((uint32_t)sum << headroom) - 0x80000000u));
}

#endif /* MNV3C_SOFTMAX_EXP_H */
