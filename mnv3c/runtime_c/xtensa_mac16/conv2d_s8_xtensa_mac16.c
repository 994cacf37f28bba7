/*
 * conv2d_s8_xtensa_mac16.c - general int8 convolution (group 1) for windowed Xtensa cores with
 * MAC16 (ESP32), e.g. the MobileNet 3x3 stride-2 stem: the arithmetic of ../conv2d_s8.c (same bytes).
 *
 * Up to eight output pixels at a time: their receptive fields (k = kernel_h * kernel_w * in_c
 * values, in OHWI order) are gathered, sign-extended, into a stack buffer of int16 rows (a padded
 * tap reads input_zp, which cancels the -input_zp * w folded into the bias exactly, as in
 * ../conv2d_s8.c; zeros up to the padded length; pixels with every tap inside copy from tap offsets
 * computed once per call), then mnv3c_mac16_gemm.h's product runs over all
 * output channels. Weights "pointwise_mac16": the OHWI row of each output channel, int16.
 * Precondition (plan/kernels.py): group 1, k <= MNV3C_PW_MAX_C.
 * Two entry points, chosen per layer at compile time: _short where the one-MULH output stage is
 * proven exact for the layer, the general MBQM elsewhere.
 */
#include "mnv3c_kernels.h"
#include "mnv3c_xtensa_mac16.h"
#include "mnv3c_mac16_gemm.h"

#define MNV3C_MAC16_CONV_MAX_TAPS 64 /* the interior pixels' tap offsets on the stack */

/* Gathers the receptive field of output pixel (oy, ox) into d[0 .. k): off[t], the tap offsets
 * (taps <= MNV3C_MAC16_CONV_MAX_TAPS, else NULL), serve pixels whose taps are all inside. */
static void gather(const mnv3c_conv2d_params *p, const int8_t *x, const int32_t *off, int32_t oy, int32_t ox,
                   int16_t *d)
{
    const int32_t in_c = p->in_c, zp = p->input_zp, kh = p->kernel_h, kw = p->kernel_w;
    const int32_t iy0 = oy * p->stride_h - p->pad_top, ix0 = ox * p->stride_w - p->pad_left;
    int32_t ky, kx, c, t;
    if (off != NULL && iy0 >= 0 && iy0 + (kh - 1) * p->dilation_h < p->in_h && ix0 >= 0 &&
        ix0 + (kw - 1) * p->dilation_w < p->in_w) {
        const int8_t *const base = x + (iy0 * p->in_w + ix0) * in_c;
        for (t = 0; t < kh * kw; ++t, d += in_c) {
            const int8_t *const s = base + off[t];
            for (c = 0; c < in_c; ++c) {
                d[c] = s[c];
            }
        }
        return;
    }
    for (ky = 0; ky < kh; ++ky) {
        const int32_t iy = iy0 + ky * p->dilation_h;
        for (kx = 0; kx < kw; ++kx, d += in_c) {
            const int32_t ix = ix0 + kx * p->dilation_w;
            if (iy >= 0 && iy < p->in_h && ix >= 0 && ix < p->in_w) {
                const int8_t *s = x + (iy * p->in_w + ix) * in_c;
                for (c = 0; c < in_c; ++c) {
                    d[c] = s[c];
                }
            } else {
                for (c = 0; c < in_c; ++c) {
                    d[c] = (int16_t)zp;
                }
            }
        }
    }
}

MNV3C_XT_HOT void block_general(const int16_t *x, int32_t n, int32_t quads, const int16_t *w,
                                const mnv3c_xt_out *s, int8_t *y)
{
    mnv3c_mac16_block(x, n, quads, w, s, y, 0);
}

MNV3C_XT_HOT void block_short(const int16_t *x, int32_t n, int32_t quads, const int16_t *w, const mnv3c_xt_out *s,
                              int8_t *y)
{
    mnv3c_mac16_block(x, n, quads, w, s, y, 1);
}

MNV3C_XT_INLINE void conv2d(const mnv3c_conv2d_params *p, const int8_t *MNV3C_RESTRICT x,
                            int8_t *MNV3C_RESTRICT y, int short_rq)
{
    const int32_t out_c = p->out_c, out_w = p->out_w;
    const int32_t k = p->kernel_h * p->kernel_w * p->in_c, kp = MNV3C_MAC16_KP(k), stride = kp + 2;
    const int32_t pixels = p->out_h * out_w, per_block = mnv3c_mac16_rows(stride);
    const mnv3c_xt_out s = mnv3c_xt_out_init(p->bias_folded, p->out_mult, p->out_shift, p->output_zp,
                                             p->act_min, p->act_max, p->lut, out_c);
    const int16_t *const w = (const int16_t *)(const void *)p->weights;
    const int32_t taps = p->kernel_h * p->kernel_w;
    int16_t buf[MNV3C_MAC16_BUF_VALUES] __attribute__((aligned(4)));
    int32_t off[MNV3C_MAC16_CONV_MAX_TAPS];
    int32_t px, i, c, oy = 0, ox = 0; /* (oy, ox) of pixel px, kept without a division */
    for (i = 0; i < taps && i < MNV3C_MAC16_CONV_MAX_TAPS; ++i) {
        off[i] = ((i / p->kernel_w) * p->dilation_h * p->in_w + (i % p->kernel_w) * p->dilation_w) * p->in_c;
    }
    for (i = 0; i < per_block; ++i) { /* the padding stays zero: each pixel fills 0 .. k of its row */
        for (c = k; c < stride; ++c) {
            buf[i * stride + c] = 0;
        }
    }
    for (px = 0; px < pixels; px += per_block) {
        const int32_t n = pixels - px < per_block ? pixels - px : per_block;
        for (i = 0; i < n; ++i) {
            gather(p, x, taps <= MNV3C_MAC16_CONV_MAX_TAPS ? off : NULL, oy, ox, buf + i * stride);
            if (++ox == out_w) {
                ox = 0;
                ++oy;
            }
        }
        if (short_rq) {
            block_short(buf, n, kp / 4, w, &s, y + px * out_c);
        } else {
            block_general(buf, n, kp / 4, w, &s, y + px * out_c);
        }
    }
}

void mnv3c_conv2d_s8_xtensa_mac16(const mnv3c_conv2d_params *p, const int8_t *MNV3C_RESTRICT x,
                                  int8_t *MNV3C_RESTRICT y, void *scratch)
{
    (void)scratch;
    conv2d(p, x, y, 0);
}

void mnv3c_conv2d_s8_xtensa_mac16_short(const mnv3c_conv2d_params *p, const int8_t *MNV3C_RESTRICT x,
                                        int8_t *MNV3C_RESTRICT y, void *scratch)
{
    (void)scratch;
    conv2d(p, x, y, 1);
}

size_t mnv3c_conv2d_s8_xtensa_mac16_scratch_bytes(const mnv3c_conv2d_params *p)
{
    (void)p;
    return 0;
}

size_t mnv3c_conv2d_s8_xtensa_mac16_short_scratch_bytes(const mnv3c_conv2d_params *p)
{
    (void)p;
    return 0;
}
