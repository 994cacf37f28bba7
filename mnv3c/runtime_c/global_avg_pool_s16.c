/*
 * global_avg_pool_s16.c - mean over H and W of int16 activations (zero points 0).
 *
 * Layout: x NHWC [in_h][in_w][channels], y [channels].
 * Arithmetic (docs/ARITHMETIC.md, "int16 (16x8)"): acc = sum over pixels of x (int32: the quantizer
 * keeps in_h * in_w * 2^15 < 2^31), y = clamp16(MBQM(acc, out_mult, out_shift)).
 */
#include "mnv3c_kernels_s16.h"
#include "mnv3c_requant_s16.h"

void mnv3c_global_avg_pool_s16(const mnv3c_global_avg_pool_params *p, const int16_t *MNV3C_RESTRICT x,
                               int16_t *MNV3C_RESTRICT y, void *scratch)
{
    const int32_t pixels = p->in_h * p->in_w;
    const int32_t channels = p->channels;
    int32_t c, px;
    (void)scratch;
    for (c = 0; c < channels; ++c) {
        const int16_t *xc = x + c;
        int32_t acc = 0;
        for (px = 0; px < pixels; ++px, xc += channels) {
            acc += *xc;
        }
        y[c] = mnv3c_clamp16(mnv3c_mbqm(acc, p->out_mult, p->out_shift), INT16_MIN, INT16_MAX);
    }
}

size_t mnv3c_global_avg_pool_s16_scratch_bytes(const mnv3c_global_avg_pool_params *p)
{
    (void)p;
    return 0;
}
