/*
 * mul_s8.c - TFLite int8 Mul, elementwise or with a per-channel vector broadcast over pixels.
 *
 * Layout: a and y [rows][cols]; b [rows][cols] (b_broadcast == 0) or [cols] (b_broadcast != 0,
 * e.g. the squeeze-excite channel scale on an NHWC tensor: rows = H*W, cols = C). y may be a.
 * Arithmetic (docs/ARITHMETIC.md, "mul"):
 *   y = clamp8(MBQM((a - a_zp) * (b - b_zp), out_mult, out_shift) + output_zp, act_min, act_max).
 */
#include "mnv3c_kernels.h"
#include "mnv3c_requant.h"

void mnv3c_mul_s8(const mnv3c_mul_params *p, const int8_t *a, const int8_t *b, int8_t *y,
                  void *scratch)
{
    const int32_t cols = p->cols;
    const int32_t b_row_step = p->b_broadcast ? 0 : cols;
    int32_t r, c;
    (void)scratch;
    for (r = 0; r < p->rows; ++r, a += cols, b += b_row_step, y += cols) {
        for (c = 0; c < cols; ++c) {
            const int32_t prod = ((int32_t)a[c] - p->a_zp) * ((int32_t)b[c] - p->b_zp);
            y[c] = mnv3c_clamp8(mnv3c_mbqm(prod, p->out_mult, p->out_shift) + p->output_zp,
                                p->act_min, p->act_max);
        }
    }
}

size_t mnv3c_mul_s8_scratch_bytes(const mnv3c_mul_params *p)
{
    (void)p;
    return 0;
}
