/*
 * requantize_s8_s16.c - a mixed-precision boundary: int8 activations as int16.
 *
 * Layout: any (elementwise over p->size elements).
 * Arithmetic (docs/ARITHMETIC.md, "int16 (16x8)"): y = clamp16(MBQM(x - input_zp, mult, shift)),
 * mult/shift = Q(s8 / s16) (about 2^7: |x - zp| << shift stays below 2^17).
 */
#include "mnv3c_kernels_s16.h"
#include "mnv3c_requant_s16.h"

void mnv3c_requantize_s8_s16(const mnv3c_requantize_params *p, const int8_t *MNV3C_RESTRICT x,
                             int16_t *MNV3C_RESTRICT y, void *scratch)
{
    int32_t i;
    (void)scratch;
    for (i = 0; i < p->size; ++i) {
        y[i] = mnv3c_clamp16(mnv3c_mbqm((int32_t)x[i] - p->input_zp, p->mult, p->shift), INT16_MIN, INT16_MAX);
    }
}

size_t mnv3c_requantize_s8_s16_scratch_bytes(const mnv3c_requantize_params *p)
{
    (void)p;
    return 0;
}
