/*
 * lut_s8.c - standalone table activation (h-swish, h-sigmoid, sigmoid, ...): y = table[x + 128].
 *
 * Layout: any (elementwise over p->size elements); y may be x (in place).
 * Arithmetic: docs/ARITHMETIC.md "lut"; the table itself is built at compile time (make_lut).
 */
#include "mnv3c_kernels.h"

void mnv3c_lut_s8(const mnv3c_lut_params *p, const int8_t *x, int8_t *y, void *scratch)
{
    int32_t i;
    (void)scratch;
    for (i = 0; i < p->size; ++i) {
        y[i] = p->table[(int32_t)x[i] + 128];
    }
}

size_t mnv3c_lut_s8_scratch_bytes(const mnv3c_lut_params *p)
{
    (void)p;
    return 0;
}
