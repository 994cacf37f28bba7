/*
 * conv2d_s8_xtensa.c - general int8 convolution (group 1) for the Xtensa LX106, e.g. the MobileNet
 * 3x3 stride-2 stem: the arithmetic of ../conv2d_s8.c (same bytes).
 *
 * Two output pixels at a time: their receptive fields (k = kernel_h * kernel_w * in_c values) are
 * gathered, sign-extended, into a stack buffer xb[k][2] (int16; a padded tap reads input_zp, which
 * cancels the -input_zp * w folded into the bias exactly, as in ../conv2d_s8.c) and summed, then
 * the two-pixel x four-channel product of mnv3c_xt_gemm.h runs over all output channels. The OHWI
 * weights row of an output channel is one run of k values in the gathered order: "pointwise_xt".
 * Precondition (plan/kernels.py): group 1, k <= MNV3C_PW_MAX_C.
 * Two entry points, chosen per layer at compile time: mnv3c_conv2d_s8_xtensa_short where the
 * one-MULH output stage is proven exact for the layer, the general MBQM elsewhere.
 */
#include "mnv3c_kernels.h"
#include "mnv3c_xtensa.h"
#include "mnv3c_xt_gemm.h"

/* Gathers the receptive field of output pixel (oy, ox) into lane j of xb[k][2]; returns 128 * its sum. */
static int32_t gather(const mnv3c_conv2d_params *p, const int8_t *x, int32_t oy, int32_t ox, int32_t j,
                      int16_t *xb)
{
    const int32_t in_c = p->in_c, zp = p->input_zp;
    const int32_t iy0 = oy * p->stride_h - p->pad_top, ix0 = ox * p->stride_w - p->pad_left;
    int16_t *d = xb + j;
    int32_t ky, kx, c, sum = 0;
    for (ky = 0; ky < p->kernel_h; ++ky) {
        const int32_t iy = iy0 + ky * p->dilation_h;
        for (kx = 0; kx < p->kernel_w; ++kx) {
            const int32_t ix = ix0 + kx * p->dilation_w;
            if (iy >= 0 && iy < p->in_h && ix >= 0 && ix < p->in_w) {
                const int8_t *s = x + (iy * p->in_w + ix) * in_c;
                for (c = 0; c < in_c; ++c, d += 2) {
                    const int32_t v = s[c];
                    *d = (int16_t)v;
                    sum += v;
                }
            } else {
                for (c = 0; c < in_c; ++c, d += 2) {
                    *d = (int16_t)zp;
                }
                sum += in_c * zp;
            }
        }
    }
    return 128 * sum;
}

MNV3C_XT_HOT void gemm_general(const int16_t *xb, int32_t k, const int8_t *w, const mnv3c_xt_out *s, int32_t m0,
                               int32_t m1, int32_t two, int8_t *y)
{
    mnv3c_xt_gemm(xb, k, w, s, m0, m1, two, y, 0);
}

MNV3C_XT_HOT void gemm_short(const int16_t *xb, int32_t k, const int8_t *w, const mnv3c_xt_out *s, int32_t m0,
                             int32_t m1, int32_t two, int8_t *y)
{
    mnv3c_xt_gemm(xb, k, w, s, m0, m1, two, y, 1);
}

MNV3C_XT_INLINE void conv2d(const mnv3c_conv2d_params *p, const int8_t *MNV3C_RESTRICT x,
                            int8_t *MNV3C_RESTRICT y, int short_rq)
{
    const int32_t out_c = p->out_c, out_w = p->out_w;
    const int32_t k = p->kernel_h * p->kernel_w * p->in_c;
    const int32_t pixels = p->out_h * out_w;
    const mnv3c_xt_out s = mnv3c_xt_out_init(p->bias_folded, p->out_mult, p->out_shift, p->output_zp,
                                             p->act_min, p->act_max, p->lut, out_c);
    int16_t xb[2 * MNV3C_PW_MAX_C];
    int32_t px, oy = 0, ox = 0; /* (oy, ox) of pixel px, kept without a division (none on the LX106) */
    for (px = 0; px < pixels; px += 2) {
        const int32_t two = pixels - px > 1;
        const int32_t m0 = gather(p, x, oy, ox, 0, xb);
        int32_t m1 = 0;
        if (++ox == out_w) {
            ox = 0;
            ++oy;
        }
        if (two) {
            m1 = gather(p, x, oy, ox, 1, xb);
            if (++ox == out_w) {
                ox = 0;
                ++oy;
            }
        } else { /* a missing second pixel: zeros, not stored */
            int32_t i;
            for (i = 0; i < k; ++i) {
                xb[2 * i + 1] = 0;
            }
        }
        if (short_rq) {
            gemm_short(xb, k, p->weights, &s, m0, m1, two, y + px * out_c);
        } else {
            gemm_general(xb, k, p->weights, &s, m0, m1, two, y + px * out_c);
        }
    }
}

void mnv3c_conv2d_s8_xtensa(const mnv3c_conv2d_params *p, const int8_t *MNV3C_RESTRICT x,
                            int8_t *MNV3C_RESTRICT y, void *scratch)
{
    (void)scratch;
    conv2d(p, x, y, 0);
}

void mnv3c_conv2d_s8_xtensa_short(const mnv3c_conv2d_params *p, const int8_t *MNV3C_RESTRICT x,
                                  int8_t *MNV3C_RESTRICT y, void *scratch)
{
    (void)scratch;
    conv2d(p, x, y, 1);
}

size_t mnv3c_conv2d_s8_xtensa_scratch_bytes(const mnv3c_conv2d_params *p)
{
    (void)p;
    return 0;
}

size_t mnv3c_conv2d_s8_xtensa_short_scratch_bytes(const mnv3c_conv2d_params *p)
{
    (void)p;
    return 0;
}
