/*
 * conv_transpose_s8.c - transposed convolution (TFLite TRANSPOSE_CONV, group 1), gather form.
 *
 * Layout: x NHWC [in_h][in_w][in_c] -> y [out_h][out_w][out_c]; weights OHWI
 * [out_c][kernel_h][kernel_w][in_c]. Arithmetic (docs/ARITHMETIC.md, "conv_transpose"): input
 * pixel (iy, ix) contributes (x - input_zp) * w[o][ky][kx] to output (iy*stride_h + ky*dilation_h
 * - pad_top, ...). TFLite scatters into an int32 image; here each output pixel sums the taps that
 * land on it (t = oy + pad_top - ky*dilation_h must be a multiple of stride_h, t / stride_h an
 * input row), the same integer sum with only out_c int32 accumulators of scratch. Then bias (raw,
 * not folded: the number of taps varies per pixel) and per-channel requantization as conv2d.
 * No division (Cortex-M0 has none): indices are found by subtraction.
 */
#include "mnv3c_kernels.h"
#include "mnv3c_requant.h"

/* t / stride when t is a non-negative multiple of stride below stride * size, else -1. */
static int32_t source_index(int32_t t, int32_t stride, int32_t size)
{
    int32_t i = 0;
    if (t < 0) {
        return -1;
    }
    while (t >= stride && i < size) {
        t -= stride;
        ++i;
    }
    return (t == 0 && i < size) ? i : -1;
}

void mnv3c_conv_transpose_s8(const mnv3c_conv_transpose_params *p, const int8_t *MNV3C_RESTRICT x,
                             int8_t *MNV3C_RESTRICT y, void *scratch)
{
    int32_t *acc = (int32_t *)scratch;
    const int32_t in_c = p->in_c, out_c = p->out_c;
    const size_t tap_stride = (size_t)p->kernel_h * (size_t)p->kernel_w * (size_t)in_c; /* per output channel */
    int32_t oy, ox, o, ky, kx, c;
    for (oy = 0; oy < p->out_h; ++oy) {
        for (ox = 0; ox < p->out_w; ++ox, y += out_c) {
            for (o = 0; o < out_c; ++o) {
                acc[o] = 0;
            }
            for (ky = 0; ky < p->kernel_h; ++ky) {
                const int32_t iy = source_index(oy + p->pad_top - ky * p->dilation_h, p->stride_h, p->in_h);
                if (iy < 0) {
                    continue;
                }
                for (kx = 0; kx < p->kernel_w; ++kx) {
                    const int32_t ix = source_index(ox + p->pad_left - kx * p->dilation_w, p->stride_w, p->in_w);
                    const int8_t *xp, *wp;
                    if (ix < 0) {
                        continue;
                    }
                    xp = x + ((size_t)iy * (size_t)p->in_w + (size_t)ix) * (size_t)in_c;
                    wp = p->weights + ((size_t)ky * (size_t)p->kernel_w + (size_t)kx) * (size_t)in_c;
                    for (o = 0; o < out_c; ++o, wp += tap_stride) {
                        int32_t sum = 0;
                        for (c = 0; c < in_c; ++c) {
                            sum += ((int32_t)xp[c] - p->input_zp) * (int32_t)wp[c];
                        }
                        acc[o] += sum;
                    }
                }
            }
            for (o = 0; o < out_c; ++o) {
                const int32_t v = mnv3c_clamp8(mnv3c_mbqm(acc[o] + p->bias[o], p->out_mult[o], p->out_shift[o])
                                               + p->output_zp, p->act_min, p->act_max);
                y[o] = p->lut != NULL ? p->lut[v + 128] : (int8_t)v;
            }
        }
    }
}

size_t mnv3c_conv_transpose_s8_scratch_bytes(const mnv3c_conv_transpose_params *p)
{
    return (size_t)p->out_c * sizeof(int32_t);
}
