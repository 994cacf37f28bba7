/*
 * softmax_s8.c - int8 softmax along rows, TFLite/TFLM int8 semantics (gemmlowp fixed point).
 *
 * Layout: x is [rows][size][inner], the softmax runs along the middle axis (inner 1: contiguous
 * rows, the channel axis of NHWC; larger: another axis of the C layout, e.g. the last one of
 * [N, heads, T, T] attention scores stored NHWC). y has x's layout and must not overlap x.
 * Arithmetic: docs/ARITHMETIC.md "softmax", bit-exact with mnv3c/quant/softmax.py. Per row:
 * d = x - max(x) rescaled to Q5.26, exp(d) in Q0.31, the sum of exps in Q12.19, its reciprocal by
 * Newton-Raphson, y = exp(d) / sum in units of 1/256, minus 128. No float, no tables, no scratch.
 */
#include "mnv3c_kernels.h"
#include "mnv3c_fixedpoint.h"

/* exp(a) for a in [-1/4, 0), Q0.31: Taylor expansion around -1/8. */
static int32_t exp_on_interval(int32_t a)
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
static int32_t exp_on_negative_values(int32_t a)
{
    static const int32_t barrel[7] = {1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242};
    const int32_t one_quarter = (int32_t)1 << 24;
    const int32_t a_mod = (a & (one_quarter - 1)) - one_quarter;
    const int32_t remainder = a_mod - a;
    int32_t result = exp_on_interval(mnv3c_sat_shl(a_mod, 5));
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

/* exp(d) in Q0.31 for a difference d = x - max in [diff_min, 0]. */
static int32_t row_exp(const mnv3c_softmax_params *p, int32_t d)
{
    return exp_on_negative_values(mnv3c_srdhm(d * ((int32_t)1 << p->left_shift), p->multiplier));
}

void mnv3c_softmax_s8(const mnv3c_softmax_params *p, const int8_t *MNV3C_RESTRICT x,
                      int8_t *MNV3C_RESTRICT y, void *scratch)
{
    const size_t step = (size_t)p->inner;
    int32_t r, i, c;
    (void)scratch;
    for (r = 0; r < p->rows; ++r) {
      for (i = 0; i < p->inner; ++i) {
        const size_t base = (size_t)r * (size_t)p->size * step + (size_t)i;
        const int8_t *xr = x + base;
        int8_t *yr = y + base;
        int32_t max = -128, sum = 0, headroom, scale, exponent;
        for (c = 0; c < p->size; ++c) {
            max = xr[(size_t)c * step] > max ? xr[(size_t)c * step] : max;
        }
        for (c = 0; c < p->size; ++c) {
            const int32_t d = (int32_t)xr[(size_t)c * step] - max;
            if (d >= p->diff_min) {
                sum += mnv3c_rdbp(row_exp(p, d), 12); /* Q0.31 -> Q12.19 */
            }
        }
        headroom = mnv3c_leading_zeros((uint32_t)sum);
        scale = mnv3c_one_over_one_plus_x((int32_t)(((uint32_t)sum << headroom) - 0x80000000u));
        exponent = (12 - headroom) + 31 - 8;
        for (c = 0; c < p->size; ++c) {
            const int32_t d = (int32_t)xr[(size_t)c * step] - max;
            int32_t v = -128;
            if (d >= p->diff_min && exponent <= 31) { /* > 31: sum >= 512, every quotient rounds to 0 */
                v = mnv3c_rdbp(mnv3c_srdhm(scale, row_exp(p, d)), exponent) - 128;
                v = v > 127 ? 127 : v;
            }
            yr[(size_t)c * step] = (int8_t)v;
        }
      }
    }
}

size_t mnv3c_softmax_s8_scratch_bytes(const mnv3c_softmax_params *p)
{
    (void)p;
    return 0;
}
