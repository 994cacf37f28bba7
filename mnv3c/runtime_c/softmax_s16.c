/*
 * softmax_s16.c - int16 softmax along rows for 16x8 mixed precision: symmetric int16 input
 * (zero point 0), int16 output of scale 1/32768 and zero point 0 (TFLite's int16 softmax output
 * quantization), computed as softmax_s8 does (gemmlowp fixed point, mnv3c_softmax_exp.h) rather
 * than with TFLite's int16 exp/reciprocal tables.
 *
 * Layout: softmax_s8's, x[rows][size][inner] along the middle axis, y must not overlap x.
 * Arithmetic: docs/ARITHMETIC.md "softmax", bit-exact with softmax_s16 in mnv3c/quant/softmax.py.
 * An int16 difference x - max reaches -65535, but only d >= diff_min is rescaled, and the
 * quantizer keeps |diff_min| * 2^left_shift <= 31 * 2^26. The sum of exps is at most 4095 in
 * Q12.19, so the RDBP exponent (12 - clz(sum)) + 16 is at most 28: no TFLite exponent check.
 * y = clamp(exp(d) / sum in units of 1/32768, 0, 32767); d < diff_min gives 0. No scratch.
 */
#include "mnv3c_kernels_s16.h"
#include "mnv3c_softmax_exp.h"

void mnv3c_softmax_s16(const mnv3c_softmax_params *p, const int16_t *MNV3C_RESTRICT x,
                       int16_t *MNV3C_RESTRICT y, void *scratch)
{
    const size_t step = (size_t)p->inner;
    int32_t r, i, c;
    (void)scratch;
    for (r = 0; r < p->rows; ++r) {
      for (i = 0; i < p->inner; ++i) {
        const size_t base = (size_t)r * (size_t)p->size * step + (size_t)i;
        const int16_t *xr = x + base;
        int16_t *yr = y + base;
        int32_t max = INT16_MIN, sum = 0, scale, exponent;
        for (c = 0; c < p->size; ++c) {
            max = xr[(size_t)c * step] > max ? xr[(size_t)c * step] : max;
        }
        for (c = 0; c < p->size; ++c) {
            const int32_t d = (int32_t)xr[(size_t)c * step] - max;
            if (d >= p->diff_min) {
                sum += mnv3c_rdbp(mnv3c_softmax_exp(p, d), 12); /* Q0.31 -> Q12.19 */
            }
        }
        scale = mnv3c_softmax_reciprocal(sum, 15, &exponent);
        for (c = 0; c < p->size; ++c) {
            const int32_t d = (int32_t)xr[(size_t)c * step] - max;
            int32_t v = 0;
            if (d >= p->diff_min) {
                v = mnv3c_rdbp(mnv3c_srdhm(scale, mnv3c_softmax_exp(p, d)), exponent);
                v = v > INT16_MAX ? INT16_MAX : v;
            }
            yr[(size_t)c * step] = (int16_t)v;
        }
      }
    }
}

size_t mnv3c_softmax_s16_scratch_bytes(const mnv3c_softmax_params *p)
{
    (void)p;
    return 0;
}
