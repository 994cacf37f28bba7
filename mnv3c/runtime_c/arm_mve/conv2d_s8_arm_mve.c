/*
 * conv2d_s8_arm_mve.c - general convolution (group 1, dilation 1, any kernel, stride, padding) for
 * Cortex-M55 (Helium, MVE): the arithmetic of ../conv2d_s8.c (same bytes). In MobileNets: the 3x3 stem.
 *
 * Per pair of output pixels the two receptive fields are copied into stack rows of K = kernel_h *
 * kernel_w * in_c values in the weights' OHWI order, zero-padded to K16 (K rounded up to 16): each
 * kernel row is kernel_w * in_c contiguous values of x (NHWC), copied with predicated vector loads and
 * stores; only a row that crosses the padding is copied tap by tap, input_zp in the padded taps, which
 * is what the folded bias expects (acc = bias_folded + sum x' w, x' = input_zp on padded taps:
 * mnv3c_kernels.h). Then per block of four output channels and 16 values: two input vectors, four
 * weight vectors and eight VMLADAVA (the weights read once for both pixels, no predication), then the
 * output stage of four channels of both pixels (the short one on vectors, mnv3c_mve_requant.h).
 * Weights: "rows_mve" (mnv3c/codegen/layouts.py): the OHWI rows, out_c padded to a multiple of 4 with
 * zero rows and each row to K16 with zeros (the rows past out_c are computed and dropped).
 * Precondition (plan/kernels.py): group 1, dilation 1, K <= MNV3C_CONV_MVE_MAX_K.
 * Two entry points as in conv1x1_s8_arm_mve.c (_short: the proven short output stage).
 */
#include "mnv3c_arm_mve.h"
#include "mnv3c_mve_dot.h"

/* n bytes from src to dst, 16 at a time, the last vector predicated. */
static void copy(int8_t *dst, const int8_t *src, int32_t n)
{
    int32_t c;
    for (c = 0; c < n; c += 16) {
        const mve_pred16_t lanes = vctp8q((uint32_t)(n - c));
        vstrbq_p_s8(dst + c, vldrbq_z_s8(src + c, lanes), lanes);
    }
}

/* The receptive field of the output pixel whose window starts at input (iy0, ix0), into buf[K]. */
static void patch(const mnv3c_conv2d_params *p, const int8_t *x, int32_t iy0, int32_t ix0, int8_t *buf)
{
    const int32_t in_c = p->in_c, n = p->kernel_w * in_c;
    const int cols_inside = ix0 >= 0 && ix0 + p->kernel_w <= p->in_w;
    int32_t ky, kx;
    for (ky = 0; ky < p->kernel_h; ++ky, buf += n) {
        const int32_t iy = iy0 + ky;
        if (cols_inside && iy >= 0 && iy < p->in_h) {
            copy(buf, x + (iy * p->in_w + ix0) * in_c, n);
            continue;
        }
        for (kx = 0; kx < p->kernel_w; ++kx) {
            const int32_t ix = ix0 + kx;
            if (iy >= 0 && iy < p->in_h && ix >= 0 && ix < p->in_w) {
                copy(buf + kx * in_c, x + (iy * p->in_w + ix) * in_c, in_c);
            } else {
                int32_t c;
                for (c = 0; c < in_c; ++c) {
                    buf[kx * in_c + c] = (int8_t)p->input_zp;
                }
            }
        }
    }
}

/* Four output channels o .. o + 3 (rows w, k16 apart) of pixels p (xp) and q (xq): acc[0..3], acc[4..7]. */
MNV3C_DSP_INLINE void block(const int8_t *xp, const int8_t *xq, const int8_t *w, int32_t k16, int32_t acc[8])
{
    const int8_t *w1 = w + k16, *w2 = w1 + k16, *w3 = w2 + k16;
    int32_t p0 = acc[0], p1 = acc[1], p2 = acc[2], p3 = acc[3], q0 = acc[4], q1 = acc[5], q2 = acc[6], q3 = acc[7];
    int32_t c;
    for (c = 0; c < k16; c += 16) {
        const int8x16_t vp = vldrbq_s8(xp + c), vq = vldrbq_s8(xq + c);
        int8x16_t v = vldrbq_s8(w + c);
        p0 = vmladavaq_s8(p0, vp, v);
        q0 = vmladavaq_s8(q0, vq, v);
        v = vldrbq_s8(w1 + c);
        p1 = vmladavaq_s8(p1, vp, v);
        q1 = vmladavaq_s8(q1, vq, v);
        v = vldrbq_s8(w2 + c);
        p2 = vmladavaq_s8(p2, vp, v);
        q2 = vmladavaq_s8(q2, vq, v);
        v = vldrbq_s8(w3 + c);
        p3 = vmladavaq_s8(p3, vp, v);
        q3 = vmladavaq_s8(q3, vq, v);
    }
    acc[0] = p0, acc[1] = p1, acc[2] = p2, acc[3] = p3, acc[4] = q0, acc[5] = q1, acc[6] = q2, acc[7] = q3;
}

/* All out_c outputs of pixels p and q (yq == NULL: p only; its sums are computed and dropped). */
MNV3C_DSP_INLINE void pair(const mnv3c_dsp_out *s, const int8_t *xp, const int8_t *xq, const int8_t *w,
                           int32_t k16, int8_t *yp, int8_t *yq, int mode)
{
    int32_t o, i, acc[8];
    for (o = 0; o < s->out_c; o += 4, w += 4 * k16) {
        const int32_t n = s->out_c - o < 4 ? s->out_c - o : 4;
        if (mode != MNV3C_DSP_GENERAL) {
            const int32_t *tab = s->mult + (o >> 2) * MNV3C_MVE_TABLE_VECTOR;
            for (i = 0; i < 4; ++i) {
                acc[i] = acc[4 + i] = tab[i];
            }
            block(xp, xq, w, k16, acc);
            mnv3c_mve_store4(s, tab, acc, yp + o, n, mode);
            if (yq != NULL) {
                mnv3c_mve_store4(s, tab, acc + 4, yq + o, n, mode);
            }
            continue;
        }
        for (i = 0; i < 8; ++i) {
            acc[i] = 0;
        }
        block(xp, xq, w, k16, acc);
        for (i = 0; i < n; ++i) {
            yp[o + i] = mnv3c_dsp_requant(s, o + i, acc[i], mode);
            if (yq != NULL) {
                yq[o + i] = mnv3c_dsp_requant(s, o + i, acc[4 + i], mode);
            }
        }
    }
}

/*
 * K16 = 32 (the 3x3x3 stem) in a short mode, one pixel: its two input vectors stay in registers and each
 * output is two weight loads and two VMLADAVA; four sums make a vector for the short stage.
 */
MNV3C_DSP_INLINE void pixel32(const mnv3c_dsp_out *s, const int8_t *buf, const int8_t *w, int8_t *y, int mode)
{
    const int8x16_t xa = vldrbq_s8(buf), xb = vldrbq_s8(buf + 16);
    const int32_t *tab = s->mult;
    int32_t o;
    for (o = 0; o < s->out_c; o += 4, w += 128, tab += MNV3C_MVE_TABLE_VECTOR) {
        int32x4_t acc = vldrwq_s32(tab);
        int32_t sums[4];
        sums[0] = vmladavaq_s8(vmladavq_s8(xa, vldrbq_s8(w)), xb, vldrbq_s8(w + 16));
        sums[1] = vmladavaq_s8(vmladavq_s8(xa, vldrbq_s8(w + 32)), xb, vldrbq_s8(w + 48));
        sums[2] = vmladavaq_s8(vmladavq_s8(xa, vldrbq_s8(w + 64)), xb, vldrbq_s8(w + 80));
        sums[3] = vmladavaq_s8(vmladavq_s8(xa, vldrbq_s8(w + 96)), xb, vldrbq_s8(w + 112));
        acc = vaddq_s32(acc, vld1q_s32(sums));
        {
            int32x4_t v = mnv3c_mve_short(acc, tab, s->lo, s->hi);
            if (mnv3c_mve_has_lut(s, mode)) {
                v = mnv3c_mve_lut32(v, s->lut);
            }
            if (s->out_c - o >= 4) {
                vstrbq_s32(y + o, v);
            } else {
                vstrbq_p_s32(y + o, v, vctp32q((uint32_t)(s->out_c - o)));
            }
        }
    }
}

/* A kernel row of n <= 16 bytes (all kernel rows inside the input) with one predicated copy each. */
MNV3C_DSP_INLINE void patch_rows16(const mnv3c_conv2d_params *p, const int8_t *x, int32_t iy0, int32_t ix0,
                                   int8_t *buf, int32_t n, mve_pred16_t lanes)
{
    const int32_t row = p->in_w * p->in_c;
    const int8_t *src = x + (iy0 * p->in_w + ix0) * p->in_c;
    int32_t ky;
    for (ky = 0; ky < p->kernel_h; ++ky, buf += n, src += row) {
        vstrbq_p_s8(buf, vldrbq_z_s8(src, lanes), lanes);
    }
}

/* K16 = 32 and kernel rows of at most 16 bytes, in a short mode: pixel by pixel, interior windows copied
 * row by row with one predicate. */
MNV3C_DSP_INLINE void conv2d32(const mnv3c_conv2d_params *p, const int8_t *MNV3C_RESTRICT x,
                              int8_t *MNV3C_RESTRICT y, int mode)
{
    const int32_t n = p->kernel_w * p->in_c;
    const mnv3c_dsp_out s = mnv3c_dsp_conv_out(p);
    const mve_pred16_t lanes = vctp8q((uint32_t)n);
    int8_t buf[32];
    int32_t oy, ox, i;
    for (i = 0; i < 32; ++i) { /* the padding's weights are 0 */
        buf[i] = 0;
    }
    for (oy = 0; oy < p->out_h; ++oy) {
        const int32_t iy0 = oy * p->stride_h - p->pad_top;
        const int rows_inside = iy0 >= 0 && iy0 + p->kernel_h <= p->in_h;
        for (ox = 0; ox < p->out_w; ++ox, y += p->out_c) {
            const int32_t ix0 = ox * p->stride_w - p->pad_left;
            if (rows_inside && ix0 >= 0 && ix0 + p->kernel_w <= p->in_w) {
                patch_rows16(p, x, iy0, ix0, buf, n, lanes);
            } else {
                patch(p, x, iy0, ix0, buf);
            }
            pixel32(&s, buf, p->weights, y, mode);
        }
    }
}

MNV3C_DSP_INLINE void conv2d(const mnv3c_conv2d_params *p, const int8_t *MNV3C_RESTRICT x,
                            int8_t *MNV3C_RESTRICT y, int mode)
{
    const int32_t k = p->kernel_h * p->kernel_w * p->in_c, k16 = (k + 15) & ~15;
    const int32_t pixels = p->out_h * p->out_w, out_c = p->out_c;
    const mnv3c_dsp_out s = mnv3c_dsp_conv_out(p);
    int8_t buf_p[MNV3C_CONV_MVE_MAX_K], buf_q[MNV3C_CONV_MVE_MAX_K];
    int32_t i, oy = 0, ox = 0;
    if (k16 == 32 && p->kernel_w * p->in_c <= 16 && mode != MNV3C_DSP_GENERAL) {
        conv2d32(p, x, y, mode);
        return;
    }
    for (i = 0; i < k16; ++i) { /* the padding's weights are 0; q is read (and dropped) without a pixel q */
        buf_p[i] = buf_q[i] = 0;
    }
    for (i = 0; i < pixels; i += 2) {
        const int has_q = i + 1 < pixels;
        int8_t *yp = y + i * out_c;
        patch(p, x, oy * p->stride_h - p->pad_top, ox * p->stride_w - p->pad_left, buf_p);
        if (++ox == p->out_w) {
            ox = 0, ++oy;
        }
        if (has_q) {
            patch(p, x, oy * p->stride_h - p->pad_top, ox * p->stride_w - p->pad_left, buf_q);
            if (++ox == p->out_w) {
                ox = 0, ++oy;
            }
        }
        pair(&s, buf_p, buf_q, p->weights, k16, yp, has_q ? yp + out_c : NULL, mode);
    }
}

MNV3C_DSP_ENTRY_POINTS(mnv3c_conv2d_s8_arm_mve, conv2d, mnv3c_conv2d_params, mnv3c_dsp_conv_out)
