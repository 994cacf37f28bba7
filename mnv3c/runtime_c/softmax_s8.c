/*
 * softmax_s8.c - int8 softmax along rows, TFLite/TFLM int8 semantics (gemmlowp fixed point).
 *
 * Layout: x is [rows][size][inner], the softmax runs along the middle axis (inner 1: contiguous
 * rows, the channel axis of NHWC; larger: another axis of the C layout, e.g. the last one of
 * [N, heads, T, T] attention scores stored NHWC). y has x's layout and must not overlap x.
 * Arithmetic: docs/ARITHMETIC.md "softmax", bit-exact with mnv3c/quant/softmax.py. Per row:
 * d = x - max(x) rescaled to Q5.26, exp(d) in Q0.31, the sum of exps in Q12.19, its reciprocal by
 * Newton-Raphson (mnv3c_softmax_exp.h, shared with softmax_s16.c), y = exp(d) / sum in units of
 * 1/256, minus 128. No float, no tables, no scratch.
 */
#include "mnv3c_softmax_exp.h"

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
        int32_t max = -128, sum = 0, scale, exponent;
        for (c = 0; c < p->size; ++c) {
            max = xr[(size_t)c * step] > max ? xr[(size_t)c * step] : max;
        }
        for (c = 0; c < p->size; ++c) {
            const int32_t d = (int32_t)xr[(size_t)c * step] - max;
            if (d >= p->diff_min) {
                sum += mnv3c_rdbp(mnv3c_softmax_exp(p, d), 12); /* Q0.31 -> Q12.19 */
            }
        }
        scale = mnv3c_softmax_reciprocal(sum, 8, &exponent);
        for (c = 0; c < p->size; ++c) {
            const int32_t d = (int32_t)xr[(size_t)c * step] - max;
            int32_t v = -128;
            if (d >= p->diff_min && exponent <= 31) { /* > 31: sum >= 512, every quotient rounds to 0 */
                v = mnv3c_rdbp(mnv3c_srdhm(scale, mnv3c_softmax_exp(p, d)), exponent) - 128;
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
