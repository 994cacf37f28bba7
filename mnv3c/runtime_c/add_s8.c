/*
 * add_s8.c - TFLite int8 Add (the residual connection) of two tensors of the same shape.
 *
 * Layout: any (elementwise over p->size elements); y may be a or b (in place).
 * Arithmetic (docs/ARITHMETIC.md, "add"), left_shift = 20:
 *   a' = MBQM((a - a_zp) << 20, a_mult, a_shift),  b' = MBQM((b - b_zp) << 20, b_mult, b_shift)
 *   y  = clamp8(MBQM(a' + b', out_mult, out_shift) + output_zp, act_min, act_max), then lut.
 * (a - a_zp) << 20 is at most 255 * 2^20 < 2^28 and a', b' <= 2^27, so no step overflows.
 */
#include "mnv3c_kernels.h"
#include "mnv3c_requant.h"

#define MNV3C_ADD_LEFT_SHIFT 20

void mnv3c_add_s8(const mnv3c_add_params *p, const int8_t *a, const int8_t *b, int8_t *y,
                  void *scratch)
{
    int32_t i;
    (void)scratch;
    for (i = 0; i < p->size; ++i) {
        const int32_t av = ((int32_t)a[i] - p->a_zp) * ((int32_t)1 << MNV3C_ADD_LEFT_SHIFT);
        const int32_t bv = ((int32_t)b[i] - p->b_zp) * ((int32_t)1 << MNV3C_ADD_LEFT_SHIFT);
        const int32_t sum =
            mnv3c_mbqm(av, p->a_mult, p->a_shift) + mnv3c_mbqm(bv, p->b_mult, p->b_shift);
        y[i] = mnv3c_requant_out(sum, p->out_mult, p->out_shift, p->output_zp, p->act_min,
                                 p->act_max, p->lut);
    }
}

size_t mnv3c_add_s8_scratch_bytes(const mnv3c_add_params *p)
{
    (void)p;
    return 0;
}
