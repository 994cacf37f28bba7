/*
 * lut_s16.c - standalone int16 table activation: y = lut16(x, table), 513 entries interpolated.
 *
 * Layout: any (elementwise over p->size elements); y may be x (in place).
 * Arithmetic: docs/ARITHMETIC.md "int16 (16x8)" (TFLite's int16 LUTLookup); the table is built at
 * compile time (intops16.make_lut16).
 */
#include "mnv3c_kernels_s16.h"
#include "mnv3c_requant_s16.h"

void mnv3c_lut_s16(const mnv3c_lut_s16_params *p, const int16_t *x, int16_t *y, void *scratch)
{
    int32_t i;
    (void)scratch;
    for (i = 0; i < p->size; ++i) {
        y[i] = mnv3c_lut16(x[i], p->table);
    }
}

size_t mnv3c_lut_s16_scratch_bytes(const mnv3c_lut_s16_params *p)
{
    (void)p;
    return 0;
}
