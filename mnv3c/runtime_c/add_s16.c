/*
 * add_s16.c - TFLite int16 Add (the residual connection) of two tensors of the same shape.
 *
 * Layout: any (elementwise over p->size elements); y may be a or b (in place).
 * Arithmetic (docs/ARITHMETIC.md, "int16 (16x8)"), zero points 0, left_shift = 15:
 *   a' = MBQM(a << 15, a_mult, a_shift),  b' = MBQM(b << 15, b_mult, b_shift)
 *   y  = clamp16(MBQM(a' + b', out_mult, out_shift), act_min, act_max),
 * then the fused activation (lut or hswish).
 * |a << 15| <= 2^30 and a', b' <= 2^29 (multipliers <= 1/2), so no step overflows int32.
 */
#include "mnv3c_kernels_s16.h"
#include "mnv3c_requant_s16.h"

#define MNV3C_ADD_S16_LEFT_SHIFT 15

void mnv3c_add_s16(const mnv3c_add_s16_params *p, const int16_t *a, const int16_t *b, int16_t *y,
                   void *scratch)
{
    int32_t i;
    (void)scratch;
    for (i = 0; i < p->size; ++i) {
        const int32_t av = (int32_t)a[i] * ((int32_t)1 << MNV3C_ADD_S16_LEFT_SHIFT);
        const int32_t bv = (int32_t)b[i] * ((int32_t)1 << MNV3C_ADD_S16_LEFT_SHIFT);
        const int32_t sum = mnv3c_mbqm(av, p->a_mult, p->a_shift) + mnv3c_mbqm(bv, p->b_mult, p->b_shift);
        const int16_t t = mnv3c_clamp16(mnv3c_mbqm(sum, p->out_mult, p->out_shift), p->act_min, p->act_max);
        y[i] = mnv3c_act16(t, p->lut, p->hswish);
    }
}

size_t mnv3c_add_s16_scratch_bytes(const mnv3c_add_s16_params *p)
{
    (void)p;
    return 0;
}
