/*
 * requantize_s16_s8.c - a mixed-precision boundary: int16 activations back to int8.
 *
 * Layout: any (elementwise over p->size elements).
 * Arithmetic (docs/ARITHMETIC.md, "int16 (16x8)"): y = clamp8(MBQM(x, mult, shift) + output_zp),
 * mult/shift = Q(s16 / s8).
 */
#include "mnv3c_kernels_s16.h"
#include "mnv3c_requant_s16.h"

void mnv3c_requantize_s16_s8(const mnv3c_requantize_params *p, const int16_t *MNV3C_RESTRICT x,
                             int8_t *MNV3C_RESTRICT y, void *scratch)
{
    int32_t i;
    (void)scratch;
    for (i = 0; i < p->size; ++i) {
        y[i] = mnv3c_clamp8(mnv3c_mbqm(x[i], p->mult, p->shift) + p->output_zp, -128, 127);
    }
}

size_t mnv3c_requantize_s16_s8_scratch_bytes(const mnv3c_requantize_params *p)
{
    (void)p;
    return 0;
}
