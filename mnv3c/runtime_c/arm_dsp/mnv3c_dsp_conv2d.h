/*
 * mnv3c_dsp_conv2d.h - the pixel-pair driver of the arm_dsp general convolutions (conv2d_s8_arm_dsp.c
 * on int8 "pointwise_dsp" weights, conv2d_s8_arm_dsp16.c on int16 "pointwise_dsp16" weights): both
 * gather the same receptive fields and differ only in the block product that reduces them.
 *
 * Per pair of output pixels p, q each receptive field, K = kernel_h * kernel_w * in_c values in the
 * weights' OHWI order, is copied into a stack row: a window wholly inside the input a word at a time
 * per kernel row (the last word of a row overlapping the one before), a window crossing the padding
 * tap by tap with input_zp in the padded taps (what the folded bias expects: acc = bias_folded +
 * sum x' w, x' = input_zp on padded taps, mnv3c_kernels.h). Both rows are widened once
 * (mnv3c_dsp_widen_pair) and the product reduces them against every block of four output channels.
 * K is padded only once to a multiple of 4 (27 -> 28 for the 3x3x3 stem), not per kernel row.
 * Precondition (plan/kernels.py): group 1, dilation 1, K rounded up to 4 <= MNV3C_PW_MAX_C.
 */
#ifndef MNV3C_DSP_CONV2D_H
#define MNV3C_DSP_CONV2D_H

#include "mnv3c_dsp_gemm.h"

/* n bytes from src to dst: words (unaligned LDR/STR), the last one overlapping when n is not a
 * multiple of 4; fewer than 4 bytes one by one. */
static inline void mnv3c_dsp_copy_row(int8_t *dst, const int8_t *src, int32_t n)
{
    int32_t i, v;
    if (n < 4) {
        for (i = 0; i < n; ++i) {
            dst[i] = src[i];
        }
        return;
    }
    for (i = 0; i + 4 < n; i += 4) {
        __builtin_memcpy(&v, src + i, 4);
        __builtin_memcpy(dst + i, &v, 4);
    }
    __builtin_memcpy(&v, src + n - 4, 4);
    __builtin_memcpy(dst + n - 4, &v, 4);
}

/* The receptive field of the output pixel whose window starts at input (iy0, ix0), into buf[K].
 * Out of line (called twice per pair); `unused` because the model's translation unit includes
 * every kernel header without calling it. */
static __attribute__((unused)) void mnv3c_dsp_conv2d_patch(const mnv3c_conv2d_params *p, const int8_t *x,
                                                           int32_t iy0, int32_t ix0, int8_t *buf)
{
    const int32_t in_c = p->in_c, n = p->kernel_w * in_c, row = p->in_w * in_c;
    int32_t ky, kx, c;
    if (iy0 >= 0 && iy0 + p->kernel_h <= p->in_h && ix0 >= 0 && ix0 + p->kernel_w <= p->in_w) {
        const int8_t *src = x + (iy0 * p->in_w + ix0) * in_c;
        for (ky = 0; ky < p->kernel_h; ++ky, buf += n, src += row) {
            mnv3c_dsp_copy_row(buf, src, n);
        }
        return;
    }
    for (ky = 0; ky < p->kernel_h; ++ky, buf += n) {
        const int32_t iy = iy0 + ky;
        for (kx = 0; kx < p->kernel_w; ++kx) {
            const int32_t ix = ix0 + kx;
            const int inside = iy >= 0 && iy < p->in_h && ix >= 0 && ix < p->in_w;
            for (c = 0; c < in_c; ++c) {
                buf[kx * in_c + c] = inside ? x[(iy * p->in_w + ix) * in_c + c] : (int8_t)p->input_zp;
            }
        }
    }
}

/* The kernel body `body(p, x, y, mode)` of a general convolution whose block product is
 * `gemm(xbuf, groups, weights, &s, yp, yq, mode)` (mnv3c_dsp_gemm_pair's signature). A macro, not a
 * function pointer, so that each kernel compiles its own product inline. */
#define MNV3C_DSP_CONV2D_BODY(body, gemm)                                                                    \
    MNV3C_DSP_INLINE void body(const mnv3c_conv2d_params *p, const int8_t *MNV3C_RESTRICT x,                 \
                               int8_t *MNV3C_RESTRICT y, int mode)                                           \
    {                                                                                                        \
        const mnv3c_dsp_out s = mnv3c_dsp_conv_out(p);                                                       \
        const int32_t out_c = p->out_c, k = p->kernel_h * p->kernel_w * p->in_c;                             \
        const int32_t pixels = p->out_h * p->out_w;                                                          \
        int32_t xbuf[MNV3C_PW_MAX_C];                                                                        \
        int8_t patch_p[MNV3C_PW_MAX_C], patch_q[MNV3C_PW_MAX_C];                                             \
        int32_t i, oy = 0, ox = 0;                                                                           \
        for (i = 0; i < pixels; i += 2) {                                                                    \
            const int has_q = i + 1 < pixels;                                                                \
            int8_t *yp = y + i * out_c;                                                                       \
            int8_t *yq = has_q ? yp + out_c : NULL;                                                           \
            mnv3c_dsp_conv2d_patch(p, x, oy * p->stride_h - p->pad_top, ox * p->stride_w - p->pad_left,      \
                                   patch_p);                                                                 \
            if (++ox == p->out_w) {                                                                          \
                ox = 0, ++oy;                                                                                \
            }                                                                                                \
            if (has_q) {                                                                                     \
                mnv3c_dsp_conv2d_patch(p, x, oy * p->stride_h - p->pad_top, ox * p->stride_w - p->pad_left,  \
                                       patch_q);                                                             \
                if (++ox == p->out_w) {                                                                      \
                    ox = 0, ++oy;                                                                            \
                }                                                                                            \
            }                                                                                                \
            mnv3c_dsp_widen_pair(patch_p, has_q ? patch_q : NULL, k, xbuf);                                  \
            gemm(xbuf, (k + 3) >> 2, p->weights, &s, yp, yq, mode);                                         \
        }                                                                                                    \
    }

#endif /* MNV3C_DSP_CONV2D_H */
