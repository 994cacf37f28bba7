/*
 * global_avg_pool_s8.c - mean over all pixels of each channel.
 *
 * Layout: x NHWC [in_h * in_w][channels] -> y [channels].
 * Arithmetic (docs/ARITHMETIC.md, "global_avg_pool"): acc = sum (x - input_zp),
 *   y = clamp8(MBQM(acc, out_mult, out_shift) + output_zp, -128, 127),
 *   out_mult/out_shift = Q(sx / (sy * in_h * in_w)).
 * Four channels per pass down the pixels (one pointer step per four loads and adds), the zero
 * point taken out once per channel: acc = sum x - pixels * input_zp (|acc| <= 255 * pixels).
 */
#include "mnv3c_kernels.h"
#include "mnv3c_requant.h"

static int8_t finish(const mnv3c_global_avg_pool_params *p, int32_t sum, int32_t zp_sum)
{
    return mnv3c_clamp8(mnv3c_mbqm(sum - zp_sum, p->out_mult, p->out_shift) + p->output_zp, -128, 127);
}

void mnv3c_global_avg_pool_s8(const mnv3c_global_avg_pool_params *p, const int8_t *MNV3C_RESTRICT x,
                              int8_t *MNV3C_RESTRICT y, void *scratch)
{
    const int32_t pixels = p->in_h * p->in_w;
    const int32_t channels = p->channels;
    const int32_t zp_sum = pixels * p->input_zp;
    const int8_t *const x_end = x + pixels * channels;
    int32_t c;
    (void)scratch;
    for (c = 0; c + 4 <= channels; c += 4) {
        const int8_t *xc = x + c;
        int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (; xc < x_end; xc += channels) {
            s0 += xc[0];
            s1 += xc[1];
            s2 += xc[2];
            s3 += xc[3];
        }
        y[c] = finish(p, s0, zp_sum);
        y[c + 1] = finish(p, s1, zp_sum);
        y[c + 2] = finish(p, s2, zp_sum);
        y[c + 3] = finish(p, s3, zp_sum);
    }
    for (; c < channels; ++c) {
        const int8_t *xc = x + c;
        int32_t s0 = 0;
        for (; xc < x_end; xc += channels) {
            s0 += *xc;
        }
        y[c] = finish(p, s0, zp_sum);
    }
}

size_t mnv3c_global_avg_pool_s8_scratch_bytes(const mnv3c_global_avg_pool_params *p)
{
    (void)p;
    return 0;
}
