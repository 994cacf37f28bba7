/*
 * depthwise_conv2d_s16.c - 16x8 depthwise convolution: int16 activations, int8 weights, int64 accumulator.
 *
 * Layout: x NHWC [in_h][in_w][in_c], weights HWC [kernel_h][kernel_w][in_c * ch_mult],
 *         y NHWC [out_h][out_w][in_c * ch_mult]; output channel o reads input channel o / ch_mult.
 * Arithmetic (docs/ARITHMETIC.md, "int16 (16x8)"): acc = bias[o] + sum over valid taps of x * w,
 * y = clamp16(MBQM64(acc, out_mult[o], out_shift[o]), act_min, act_max),
 * then the fused activation (lut or hswish).
 */
#include "mnv3c_kernels_s16.h"
#include "mnv3c_requant_s16.h"

void mnv3c_depthwise_conv2d_s16(const mnv3c_depthwise_conv2d_s16_params *p, const int16_t *MNV3C_RESTRICT x,
                                int16_t *MNV3C_RESTRICT y, void *scratch)
{
    const int32_t out_c = p->in_c * p->ch_mult;
    int32_t oy, ox, c, m, ky, kx;
    (void)scratch;
    for (oy = 0; oy < p->out_h; ++oy) {
        const int32_t iy0 = oy * p->stride_h - p->pad_top;
        for (ox = 0; ox < p->out_w; ++ox) {
            const int32_t ix0 = ox * p->stride_w - p->pad_left;
            for (c = 0; c < p->in_c; ++c) {
                for (m = 0; m < p->ch_mult; ++m) {
                    const int32_t o = c * p->ch_mult + m; /* output channel o reads input channel c */
                    int64_t acc = p->bias[o];
                    for (ky = 0; ky < p->kernel_h; ++ky) {
                        const int32_t iy = iy0 + ky * p->dilation_h;
                        if (iy < 0 || iy >= p->in_h) {
                            continue;
                        }
                        for (kx = 0; kx < p->kernel_w; ++kx) {
                            const int32_t ix = ix0 + kx * p->dilation_w;
                            if (ix >= 0 && ix < p->in_w) {
                                acc += (int32_t)x[(iy * p->in_w + ix) * p->in_c + c] *
                                       (int32_t)p->weights[(ky * p->kernel_w + kx) * out_c + o];
                            }
                        }
                    }
                    *y++ = mnv3c_requant_out16(acc, p->out_mult[o], p->out_shift[o], p->act_min, p->act_max,
                                               p->lut, p->hswish);
                }
            }
        }
    }
}

size_t mnv3c_depthwise_conv2d_s16_scratch_bytes(const mnv3c_depthwise_conv2d_s16_params *p)
{
    (void)p;
    return 0;
}
