/*
 * slice_s16.c - a box of an int16 tensor (16x8 scheme): slice_s8's layout and params, in int16
 * elements. y keeps x's scale; no arithmetic.
 *
 * Layout: the C storage order seen as 3-D, x [in_d0][in_d1][in_d2] (NHWC images: H, W, C) ->
 * y [out_d0][out_d1][out_d2] starting at (start0, start1, start2).
 */
#include "mnv3c_kernels_s16.h"

void mnv3c_slice_s16(const mnv3c_slice_params *p, const int16_t *MNV3C_RESTRICT x, int16_t *MNV3C_RESTRICT y,
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

size_t mnv3c_slice_s16_scratch_bytes(const mnv3c_slice_params *p)
{
    (void)p;
    return 0;
}
