/*
 * global_avg_pool_s8.c - mean over all pixels of each channel.
 *
 * Layout: x NHWC [in_h * in_w][channels] -> y [channels].
 * Arithmetic (docs/ARITHMETIC.md, "global_avg_pool"): acc = sum (x - input_zp),
 *   y = clamp8(MBQM(acc, out_mult, out_shift) + output_zp, -128, 127),
 *   out_mult/out_shift = Q(sx / (sy * in_h * in_w)).
 * One channel at a time with a strided read: no int32 accumulator array, no scratch.
 */
#include "mnv3c_kernels.h"
#include "mnv3c_requant.h"

void mnv3c_global_avg_pool_s8(const mnv3c_global_avg_pool_params *p, const int8_t *MNV3C_RESTRICT x,
                              int8_t *MNV3C_RESTRICT y, void *scratch)
{
    const int32_t pixels = p->in_h * p->in_w;
    const int32_t channels = p->channels;
    int32_t c, px;
    (void)scratch;
    for (c = 0; c < channels; ++c) {
        const int8_t *xc = x + c;
        int32_t acc = 0;
        for (px = 0; px < pixels; ++px, xc += channels) {
            acc += (int32_t)*xc - p->input_zp;
        }
        y[c] = mnv3c_clamp8(mnv3c_mbqm(acc, p->out_mult, p->out_shift) + p->output_zp, -128, 127);
    }
}

size_t mnv3c_global_avg_pool_s8_scratch_bytes(const mnv3c_global_avg_pool_params *p)
{
    (void)p;
    return 0;
}
