/*
 * conv1x1_s8.c - pointwise convolution (kernel 1x1, stride 1, no padding): the dominant cost of
 * MobileNet. A matrix product: y[px][o] = requant(bias_folded[o] + sum_c x[px][c] * w[o][c]).
 *
 * Layout: x NHWC [in_h * in_w][in_c], weights OHWI = [out_c][in_c], y [in_h * in_w][out_c].
 * Arithmetic: docs/ARITHMETIC.md "conv2d" with no padded taps, so the folded bias is exact.
 * Precondition (the code generator checks it): kernel_h == kernel_w == 1, stride 1, pads 0,
 * out_h == in_h, out_w == in_w; other geometry fields are ignored.
 *
 * Loop order: one input pixel at a time (its in_c bytes stay in registers/cache), four output
 * channels per pass over it (four independent accumulators, one load of x per four MACs).
 */
#include "mnv3c_kernels.h"
#include "mnv3c_requant.h"

void mnv3c_conv1x1_s8(const mnv3c_conv2d_params *p, const int8_t *MNV3C_RESTRICT x,
                      int8_t *MNV3C_RESTRICT y, void *scratch)
{
    const int32_t in_c = p->in_c;
    const int32_t out_c = p->out_c;
    const int32_t pixels = p->in_h * p->in_w;
    int32_t px, o, c;
    (void)scratch;
    for (px = 0; px < pixels; ++px, x += in_c, y += out_c) {
        for (o = 0; o + 4 <= out_c; o += 4) {
            const int8_t *w0 = p->weights + o * in_c;
            const int8_t *w1 = w0 + in_c;
            const int8_t *w2 = w1 + in_c;
            const int8_t *w3 = w2 + in_c;
            int32_t acc0 = 0, acc1 = 0, acc2 = 0, acc3 = 0;
            for (c = 0; c < in_c; ++c) {
                const int32_t xv = x[c];
                acc0 += xv * w0[c];
                acc1 += xv * w1[c];
                acc2 += xv * w2[c];
                acc3 += xv * w3[c];
            }
            y[o] = mnv3c_requant_out(acc0 + p->bias_folded[o], p->out_mult[o], p->out_shift[o],
                                     p->output_zp, p->act_min, p->act_max, p->lut);
            y[o + 1] = mnv3c_requant_out(acc1 + p->bias_folded[o + 1], p->out_mult[o + 1],
                                         p->out_shift[o + 1], p->output_zp, p->act_min, p->act_max,
                                         p->lut);
            y[o + 2] = mnv3c_requant_out(acc2 + p->bias_folded[o + 2], p->out_mult[o + 2],
                                         p->out_shift[o + 2], p->output_zp, p->act_min, p->act_max,
                                         p->lut);
            y[o + 3] = mnv3c_requant_out(acc3 + p->bias_folded[o + 3], p->out_mult[o + 3],
                                         p->out_shift[o + 3], p->output_zp, p->act_min, p->act_max,
                                         p->lut);
        }
        for (; o < out_c; ++o) {
            const int8_t *w = p->weights + o * in_c;
            int32_t acc = 0;
            for (c = 0; c < in_c; ++c) {
                acc += (int32_t)x[c] * w[c];
            }
            y[o] = mnv3c_requant_out(acc + p->bias_folded[o], p->out_mult[o], p->out_shift[o],
                                     p->output_zp, p->act_min, p->act_max, p->lut);
        }
    }
}

size_t mnv3c_conv1x1_s8_scratch_bytes(const mnv3c_conv2d_params *p)
{
    (void)p;
    return 0;
}
