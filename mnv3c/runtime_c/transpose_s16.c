/*
 * transpose_s16.c - move int16 activations (16x8 scheme) into a new order: transpose_s8's element
 * map (ONNX Transpose, and a Reshape whose element order differs in the C layout) over int16
 * elements; strides count elements. y keeps x's scale; y must not overlap x. No arithmetic.
 *
 * Layout: y is written contiguously as a 4-D box y[d0][d1][d2][d3] (outermost first);
 * y[i0][i1][i2][i3] = x[i0*s0 + i1*s1 + i2*s2 + i3*s3].
 */
#include "mnv3c_kernels_s16.h"

void mnv3c_transpose_s16(const mnv3c_transpose_params *p, const int16_t *MNV3C_RESTRICT x,
                         int16_t *MNV3C_RESTRICT y, void *scratch)
{
    int32_t i0, i1, i2, i3;
    (void)scratch;
    for (i0 = 0; i0 < p->d0; ++i0) {
        for (i1 = 0; i1 < p->d1; ++i1) {
            for (i2 = 0; i2 < p->d2; ++i2) {
                const int16_t *src = x + (ptrdiff_t)i0 * p->s0 + (ptrdiff_t)i1 * p->s1 + (ptrdiff_t)i2 * p->s2;
                for (i3 = 0; i3 < p->d3; ++i3, src += p->s3) {
                    *y++ = *src;
                }
            }
        }
    }
}

size_t mnv3c_transpose_s16_scratch_bytes(const mnv3c_transpose_params *p)
{
    (void)p;
    return 0;
}
