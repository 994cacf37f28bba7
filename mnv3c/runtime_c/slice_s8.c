/*
 * slice_s8.c - a box of a tensor (ONNX Slice with step 1, and the parts of Split).
 *
 * Layout: the C storage order seen as 3-D, x [in_d0][in_d1][in_d2] (NHWC images: H, W, C) ->
 * y [out_d0][out_d1][out_d2] starting at (start0, start1, start2). y keeps x's quantization.
 */
#include "mnv3c_kernels.h"

void mnv3c_slice_s8(const mnv3c_slice_params *p, const int8_t *MNV3C_RESTRICT x, int8_t *MNV3C_RESTRICT y,
                    void *scratch)
{
    int32_t i, j, k;
    (void)scratch;
    for (i = 0; i < p->out_d0; ++i) {
        for (j = 0; j < p->out_d1; ++j, y += p->out_d2) {
            const size_t at = (((size_t)(p->start0 + i) * (size_t)p->in_d1 + (size_t)(p->start1 + j))
                               * (size_t)p->in_d2 + (size_t)p->start2);
            for (k = 0; k < p->out_d2; ++k) {
                y[k] = x[at + (size_t)k];
            }
        }
    }
}

size_t mnv3c_slice_s8_scratch_bytes(const mnv3c_slice_params *p)
{
    (void)p;
    return 0;
}
