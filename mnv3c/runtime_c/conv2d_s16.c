/*
 * conv2d_s16.c - 16x8 convolution (group 1): int16 activations, int8 weights, int64 accumulator.
 *
 * Layout: x NHWC [in_h][in_w][in_c], weights OHWI [out_c][kernel_h][kernel_w][in_c],
 *         y NHWC [out_h][out_w][out_c].
 * Arithmetic (docs/ARITHMETIC.md, "int16 (16x8)"), as TFLite's 16x8 ConvPerChannel: for output pixel
 * (oy, ox) and channel o, acc = bias[o] + sum over valid taps of x * w (padded taps are the real 0,
 * i.e. skipped), y = clamp16(MBQM64(acc, out_mult[o], out_shift[o]), act_min, act_max),
 * then the fused activation (lut or hswish).
 * Products (|x * w| <= 2^22) are summed in int32 runs of 511, joined in int64: the quantizer bounds
 * |acc| below 2^47. The result is the exact integer sum, whatever the grouping.
 */
#include "mnv3c_kernels_s16.h"
#include "mnv3c_requant_s16.h"

void mnv3c_conv2d_s16(const mnv3c_conv2d_s16_params *p, const int16_t *MNV3C_RESTRICT x,
                      int16_t *MNV3C_RESTRICT y, void *scratch)
{
    const int32_t in_c = p->in_c;
    const int32_t filter_size = p->kernel_h * p->kernel_w * in_c;
    int32_t oy, ox, o, ky, kx;
    (void)scratch;
    for (oy = 0; oy < p->out_h; ++oy) {
        const int32_t iy0 = oy * p->stride_h - p->pad_top;
        for (ox = 0; ox < p->out_w; ++ox) {
            const int32_t ix0 = ox * p->stride_w - p->pad_left;
            for (o = 0; o < p->out_c; ++o) {
                const int8_t *w = p->weights + o * filter_size;
                int64_t acc = p->bias[o];
                for (ky = 0; ky < p->kernel_h; ++ky) {
                    const int32_t iy = iy0 + ky * p->dilation_h;
                    if (iy < 0 || iy >= p->in_h) {
                        continue;
                    }
                    for (kx = 0; kx < p->kernel_w; ++kx) {
                        const int32_t ix = ix0 + kx * p->dilation_w;
                        if (ix >= 0 && ix < p->in_w) {
                            acc += mnv3c_dot_s16(x + (iy * p->in_w + ix) * in_c, w + (ky * p->kernel_w + kx) * in_c, in_c);
                        }
                    }
                }
                *y++ = mnv3c_requant_out16(acc, p->out_mult[o], p->out_shift[o], p->act_min, p->act_max,
                                           p->lut, p->hswish);
            }
        }
    }
}

size_t mnv3c_conv2d_s16_scratch_bytes(const mnv3c_conv2d_s16_params *p)
{
    (void)p;
    return 0;
}
