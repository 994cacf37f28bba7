/*
 * transpose_s8.c - move bytes into a new order: ONNX Transpose, and a Reshape whose element order
 * differs in the C layout (e.g. [N, T, H*E] row-major <-> [N, T, H, E] stored NHWC).
 *
 * Layout: y is written contiguously as a 4-D box y[d0][d1][d2][d3] (outermost first);
 * y[i0][i1][i2][i3] = x[i0*s0 + i1*s1 + i2*s2 + i3*s3]. The code generator derives the dims and
 * strides from the op's index map in the C storage order of both tensors (and checks it). y keeps
 * x's quantization; y must not overlap x. No arithmetic, no scratch.
 */
#include "mnv3c_kernels.h"

void mnv3c_transpose_s8(const mnv3c_transpose_params *p, const int8_t *MNV3C_RESTRICT x,
                        int8_t *MNV3C_RESTRICT y, void *scratch)
{
    int32_t i0, i1, i2, i3;
    (void)scratch;
    for (i0 = 0; i0 < p->d0; ++i0) {
        for (i1 = 0; i1 < p->d1; ++i1) {
            for (i2 = 0; i2 < p->d2; ++i2) {
                const int8_t *src = x + (ptrdiff_t)i0 * p->s0 + (ptrdiff_t)i1 * p->s1 + (ptrdiff_t)i2 * p->s2;
                for (i3 = 0; i3 < p->d3; ++i3, src += p->s3) {
                    *y++ = *src;
                }
            }
        }
    }
}

size_t mnv3c_transpose_s8_scratch_bytes(const mnv3c_transpose_params *p)
{
    (void)p;
    return 0;
}
