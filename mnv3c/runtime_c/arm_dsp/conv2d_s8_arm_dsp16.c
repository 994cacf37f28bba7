/*
 * conv2d_s8_arm_dsp16.c - general convolution (group 1, dilation 1, any kernel, stride, padding) with
 * small weights for Cortex-M cores with the DSP extension: the arithmetic of ../conv2d_s8.c (same
 * bytes), as conv2d_s8_arm_dsp.c but on weights already widened to int16 pairs at compile time. In
 * MobileNets: the 3x3 stem (432 weights, 896 bytes as int16).
 *
 * Per pair of output pixels the receptive fields (K = kernel_h * kernel_w * in_c values in OHWI
 * order) are copied into stack rows, interior windows a word at a time per kernel row (the last word
 * of a row overlapping the one before), a window crossing the padding tap by tap with input_zp in
 * the padded taps (what the folded bias expects: mnv3c_kernels.h); both are widened once
 * (mnv3c_dsp_widen_pair) and reduced against every block of four output channels: per group of four
 * values 2 LDRD of the inputs, 4 LDRD of the weights and 16 SMLAD = 32 MACs in 22 instructions (+3 for
 * the loop), against 30 when the weights are widened in the loop (mnv3c_dsp_gemm.h).
 * Weights: "pointwise_dsp16" (mnv3c/codegen/layouts.py): out_c padded to a multiple of 4 and K to K4
 * with zeros, then per block of four output channels o0..o3 and group of four values c0..c3 eight
 * words of int16 pairs (o0: c0, c2), (o1: c0, c2), (o2: c0, c2), (o3: c0, c2), (o0: c1, c3), ...,
 * (o3: c1, c3): twice the bytes of the int8 weights, which is why plan/kernels.py chooses this kernel
 * only for small layers (CONV_DSP16_MAX_WEIGHTS) and conv2d_s8_arm_dsp.c for the others.
 * Precondition (plan/kernels.py): group 1, dilation 1, K4 <= MNV3C_PW_MAX_C.
 * Two entry points as in conv1x1_s8_arm_dsp.c (the _short one has the proven short output stage).
 */
#include "mnv3c_arm_dsp.h"
#include "mnv3c_dsp_gemm.h"

static mnv3c_dsp_out out_of(const mnv3c_conv2d_params *p)
{
    const mnv3c_dsp_out s = {p->bias_folded, p->out_mult, p->out_shift, p->output_zp,
                             p->act_min,     p->act_max,  p->lut,       p->out_c,
                             p->lut != NULL ? p->lut + 128 : NULL};
    return s;
}

/* n bytes from src to dst: words (unaligned LDR/STR), the last one overlapping when n is not a
 * multiple of 4; fewer than 4 bytes one by one. */
static inline void copy_row(int8_t *dst, const int8_t *src, int32_t n)
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

/* The receptive field of the output pixel whose window starts at input (iy0, ix0), into buf[K]. */
static void patch(const mnv3c_conv2d_params *p, const int8_t *x, int32_t iy0, int32_t ix0, int8_t *buf)
{
    const int32_t in_c = p->in_c, n = p->kernel_w * in_c, row = p->in_w * in_c;
    int32_t ky, kx, c;
    if (iy0 >= 0 && iy0 + p->kernel_h <= p->in_h && ix0 >= 0 && ix0 + p->kernel_w <= p->in_w) {
        const int8_t *src = x + (iy0 * p->in_w + ix0) * in_c;
        for (ky = 0; ky < p->kernel_h; ++ky, buf += n, src += row) {
            copy_row(buf, src, n);
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

/* Four SMLAD of the x pairs xa (pixel p), xc (pixel q) against the next two int16 weight words. */
#define MNV3C_DSP16_STEP(A, B, QA, QB)                \
    "ldrd %[w0], %[w1], [%[w]], #8\n\t"               \
    "smlad %[" A "], %[xa], %[w0], %[" A "]\n\t"      \
    "smlad %[" QA "], %[xc], %[w0], %[" QA "]\n\t"    \
    "smlad %[" B "], %[xa], %[w1], %[" B "]\n\t"      \
    "smlad %[" QB "], %[xc], %[w1], %[" QB "]\n\t"

/* All out_c output channels of pixels p, q (yq == NULL: p only) from `groups` (>= 1) widened groups. */
MNV3C_DSP_INLINE void gemm16_pair(const int32_t *xbuf, int32_t groups, const int8_t *weights,
                                  const mnv3c_dsp_out *s, int8_t *yp, int8_t *yq, int mode)
{
    const int8_t *w = weights;
    const int32_t *const end = xbuf + 4 * groups;
    int32_t o;
    for (o = 0; o < s->out_c; o += 4) {
        const int32_t *xb = xbuf;
        int32_t a[4];
        int32_t p0, p1, p2, p3, q0, q1, q2, q3;
        int32_t xa, xc, w0, w1 = (int32_t)end;
        mnv3c_dsp_start(s, o, mode, a);
        p0 = q0 = a[0], p1 = q1 = a[1], p2 = q2 = a[2], p3 = q3 = a[3];
        /* 14 live registers, as mnv3c_dsp_gemm_pair: the loop bound is pushed and re-read */
        __asm__ volatile(
            "str %[w1], [sp, #-8]!\n\t"
            "1:\n\t"
            "ldrd %[xa], %[xc], [%[xb]], #8\n\t"
            MNV3C_DSP16_STEP("p0", "p1", "q0", "q1")
            MNV3C_DSP16_STEP("p2", "p3", "q2", "q3")
            "ldrd %[xa], %[xc], [%[xb]], #8\n\t"
            MNV3C_DSP16_STEP("p0", "p1", "q0", "q1")
            MNV3C_DSP16_STEP("p2", "p3", "q2", "q3")
            "ldr %[w1], [sp]\n\t"
            "cmp %[xb], %[w1]\n\t"
            "bne 1b\n\t"
            "add sp, sp, #8\n\t"
            : [p0] "+r"(p0), [p1] "+r"(p1), [p2] "+r"(p2), [p3] "+r"(p3), [q0] "+r"(q0), [q1] "+r"(q1),
              [q2] "+r"(q2), [q3] "+r"(q3), [xb] "+r"(xb), [w] "+r"(w), [xa] "=&r"(xa), [xc] "=&r"(xc),
              [w0] "=&r"(w0), [w1] "+r"(w1)
            :
            : "cc", "memory");
        {
            const int32_t sums[8] = {p0, p1, p2, p3, q0, q1, q2, q3};
            mnv3c_dsp_store_block(s, o, sums, yp, yq, mode);
        }
    }
}

#undef MNV3C_DSP16_STEP

MNV3C_DSP_INLINE void conv2d(const mnv3c_conv2d_params *p, const int8_t *MNV3C_RESTRICT x,
                            int8_t *MNV3C_RESTRICT y, int mode)
{
    const int32_t out_c = p->out_c;
    const int32_t k = p->kernel_h * p->kernel_w * p->in_c;
    const int32_t pixels = p->out_h * p->out_w;
    const mnv3c_dsp_out s = out_of(p);
    int32_t xbuf[MNV3C_PW_MAX_C];
    int8_t patch_p[MNV3C_PW_MAX_C], patch_q[MNV3C_PW_MAX_C];
    int32_t i, oy = 0, ox = 0;
    for (i = 0; i < pixels; i += 2) {
        const int has_q = i + 1 < pixels;
        int8_t *yp = y + i * out_c;
        int8_t *yq = has_q ? yp + out_c : NULL;
        patch(p, x, oy * p->stride_h - p->pad_top, ox * p->stride_w - p->pad_left, patch_p);
        if (++ox == p->out_w) {
            ox = 0, ++oy;
        }
        if (has_q) {
            patch(p, x, oy * p->stride_h - p->pad_top, ox * p->stride_w - p->pad_left, patch_q);
            if (++ox == p->out_w) {
                ox = 0, ++oy;
            }
        }
        mnv3c_dsp_widen_pair(patch_p, has_q ? patch_q : NULL, k, xbuf);
        gemm16_pair(xbuf, (k + 3) >> 2, p->weights, &s, yp, yq, mode);
    }
}

MNV3C_DSP_ENTRY_POINTS(mnv3c_conv2d_s8_arm_dsp16, conv2d, mnv3c_conv2d_params, out_of)
