/*
 * mul_s16.c - TFLite int16 Mul (16x8 scheme: symmetric int16, zero points 0), elementwise or with
 * a per-channel vector broadcast over pixels (the layouts of mul_s8.c; its params struct, zero
 * points unused).
 *
 * Arithmetic (docs/ARITHMETIC.md, "int16 (16x8)", mul):
 *   y = clamp16(MBQM(a * b, out_mult, out_shift), act_min, act_max)
 * with TFLite's int32 MultiplyByQuantizedMultiplier: |a * b| <= 2^30, so the product fits int32.
 */
#include "mnv3c_kernels_s16.h"
#include "mnv3c_requant_s16.h"

void mnv3c_mul_s16(const mnv3c_mul_params *p, const int16_t *a, const int16_t *b, int16_t *y,
                   void *scratch)
{
    const int32_t cols = p->cols;
    const int32_t b_row_step = p->b_broadcast ? 0 : cols;
    const int32_t mult = p->out_mult, shift = p->out_shift, lo = p->act_min, hi = p->act_max;
    int32_t r, c;
    (void)scratch;
    for (r = 0; r < p->rows; ++r, a += cols, b += b_row_step, y += cols) {
        for (c = 0; c < cols; ++c) {
            y[c] = mnv3c_clamp16(mnv3c_mbqm((int32_t)a[c] * (int32_t)b[c], mult, shift), lo, hi);
        }
    }
}

size_t mnv3c_mul_s16_scratch_bytes(const mnv3c_mul_params *p)
{
    (void)p;
    return 0;
}
