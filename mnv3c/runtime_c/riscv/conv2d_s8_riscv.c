/*
 * conv2d_s8_riscv.c - general int8 convolution (group 1) for RV32IMC cores, e.g. the MobileNet
 * 3x3 stride-2 stem: the arithmetic of ../conv2d_s8.c (same bytes).
 *
 * Four output pixels at a time: their receptive fields (k = kernel_h * kernel_w * in_c values, 27
 * for the stem) are gathered into a stack buffer xb[k][4] (im2col; a padded tap reads input_zp,
 * which cancels the -input_zp * w folded into the bias exactly, as in ../conv2d_s8.c), then the
 * four-pixel x four-channel register-blocked product of mnv3c_rv_gemm.h runs over all output
 * channels. The OHWI weights row of an output channel is one contiguous run of k values in the
 * gathered order, so the weights take the "pointwise_rv" layout of [out_c][k].
 * Precondition (plan/kernels.py): group 1, k <= MNV3C_PW_MAX_C.
 * Two entry points, chosen per layer at compile time: mnv3c_conv2d_s8_riscv_short where the
 * one-MULH output stage is proven exact for the layer, the general MBQM elsewhere.
 */
/* GCC's first scheduling pass hoists the block's loads and products and spills two of its 16 sums:
 * without it the inner loop is 43 instructions for 16 MACs, no stack traffic, instead of 46 (for the
 * whole file, so every inlined helper shares the options). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-schedule-insns")
#endif
#include "mnv3c_kernels.h"
#include "mnv3c_riscv.h"
#include "mnv3c_rv_gemm.h"

/* Gathers the receptive field of output pixel (oy, ox) into lane j of xb[k][4]. */
static void gather(const mnv3c_conv2d_params *p, const int8_t *x, int32_t oy, int32_t ox, int32_t j, int8_t *xb)
{
    const int32_t in_c = p->in_c, zp = p->input_zp;
    const int32_t iy0 = oy * p->stride_h - p->pad_top, ix0 = ox * p->stride_w - p->pad_left;
    int8_t *d = xb + j;
    int32_t ky, kx, c;
    if (p->dilation_h == 1 && p->dilation_w == 1 && iy0 >= 0 && iy0 + p->kernel_h <= p->in_h && ix0 >= 0 &&
        ix0 + p->kernel_w <= p->in_w) { /* interior: each kernel row is one run of kernel_w * in_c bytes */
        const int32_t run = p->kernel_w * in_c, row = p->in_w * in_c;
        const int8_t *s = x + (iy0 * p->in_w + ix0) * in_c;
        for (ky = 0; ky < p->kernel_h; ++ky, s += row) {
            for (c = 0; c < run; ++c, d += 4) {
                *d = s[c];
            }
        }
        return;
    }
    for (ky = 0; ky < p->kernel_h; ++ky) {
        const int32_t iy = iy0 + ky * p->dilation_h;
        for (kx = 0; kx < p->kernel_w; ++kx) {
            const int32_t ix = ix0 + kx * p->dilation_w;
            if (iy >= 0 && iy < p->in_h && ix >= 0 && ix < p->in_w) {
                const int8_t *s = x + (iy * p->in_w + ix) * in_c;
                for (c = 0; c < in_c; ++c, d += 4) {
                    *d = s[c];
                }
            } else {
                for (c = 0; c < in_c; ++c, d += 4) {
                    *d = (int8_t)zp;
                }
            }
        }
    }
}

MNV3C_RV_INLINE void conv2d(const mnv3c_conv2d_params *p, const int8_t *MNV3C_RESTRICT x,
                            int8_t *MNV3C_RESTRICT y, int short_rq)
{
    const int32_t out_c = p->out_c, out_w = p->out_w;
    const int32_t k = p->kernel_h * p->kernel_w * p->in_c;
    const int32_t pixels = p->out_h * out_w;
    const mnv3c_rv_out s = mnv3c_rv_out_init(p->bias_folded, p->out_mult, p->out_shift, p->output_zp,
                                              p->act_min, p->act_max, p->lut, out_c);
    int8_t xb[4 * MNV3C_PW_MAX_C];
    int32_t px, j, oy = 0, ox = 0; /* (oy, ox) of pixel px, kept without a division (none on the LX106) */
    for (px = 0; px < pixels; px += 4) {
        const int32_t n = pixels - px < 4 ? pixels - px : 4;
        for (j = 0; j < 4; ++j) { /* a missing last pixel repeats the previous one, not stored */
            gather(p, x, oy, ox, j, xb);
            if (j + 1 < n && ++ox == out_w) {
                ox = 0;
                ++oy;
            }
        }
        if (++ox == out_w) {
            ox = 0;
            ++oy;
        }
        mnv3c_rv_gemm(xb, k, p->weights, &s, n, y + px * out_c, short_rq);
    }
}

void mnv3c_conv2d_s8_riscv(const mnv3c_conv2d_params *p, const int8_t *MNV3C_RESTRICT x,
                           int8_t *MNV3C_RESTRICT y, void *scratch)
{
    (void)scratch;
    conv2d(p, x, y, 0);
}

void mnv3c_conv2d_s8_riscv_short(const mnv3c_conv2d_params *p, const int8_t *MNV3C_RESTRICT x,
                                 int8_t *MNV3C_RESTRICT y, void *scratch)
{
    (void)scratch;
    conv2d(p, x, y, 1);
}

size_t mnv3c_conv2d_s8_riscv_scratch_bytes(const mnv3c_conv2d_params *p)
{
    (void)p;
    return 0;
}

size_t mnv3c_conv2d_s8_riscv_short_scratch_bytes(const mnv3c_conv2d_params *p)
{
    (void)p;
    return 0;
}
