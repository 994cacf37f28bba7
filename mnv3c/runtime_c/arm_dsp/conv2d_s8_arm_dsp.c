/*
 * conv2d_s8_arm_dsp.c - general convolution (group 1, dilation 1, any kernel, stride, padding) for
 * Cortex-M cores with the DSP extension: the arithmetic of ../conv2d_s8.c (same bytes), on the
 * two-pixel x four-output-channel SMLAD product of mnv3c_dsp_gemm.h. In MobileNets: the 3x3 stem.
 *
 * Per pair of output pixels, each receptive field, K = kernel_h * kernel_w * in_c values in the
 * weights' OHWI order, is copied into a stack row (a kernel row is kernel_w * in_c contiguous values
 * of x in NHWC: copied a word at a time; only a row that crosses the padding goes tap by tap, with
 * input_zp in the padded taps, which is what the folded bias expects: acc = bias_folded + sum x' w,
 * x' = input_zp on padded taps, mnv3c_kernels.h), widened once (mnv3c_dsp_widen_pair) and reduced
 * against every output channel. K is padded only once to a multiple of 4 (27 -> 28 for the 3x3x3
 * stem), not per kernel row.
 * Weights: "pointwise_dsp" (mnv3c/codegen/layouts.py) over the OHWI rows of K values.
 * Precondition (plan/kernels.py): group 1, dilation 1, K rounded up to 4 <= MNV3C_PW_MAX_C.
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

/* n bytes from src to dst: words (unaligned LDR/STR), then the last bytes. */
static inline void copy_bytes(int8_t *dst, const int8_t *src, int32_t n)
{
    int32_t i;
    for (i = 0; i + 4 <= n; i += 4) {
        int32_t v;
        __builtin_memcpy(&v, src + i, 4);
        __builtin_memcpy(dst + i, &v, 4);
    }
    for (; i < n; ++i) {
        dst[i] = src[i];
    }
}

/* The receptive field of the output pixel whose window starts at input (iy0, ix0), into buf[K]. */
static void patch(const mnv3c_conv2d_params *p, const int8_t *x, int32_t iy0, int32_t ix0, int8_t *buf)
{
    const int32_t in_c = p->in_c, n = p->kernel_w * in_c;
    int32_t ky, kx, c;
    for (ky = 0; ky < p->kernel_h; ++ky, buf += n) {
        const int32_t iy = iy0 + ky;
        if (iy >= 0 && iy < p->in_h && ix0 >= 0 && ix0 + p->kernel_w <= p->in_w) {
            copy_bytes(buf, x + (iy * p->in_w + ix0) * in_c, n);
            continue;
        }
        for (kx = 0; kx < p->kernel_w; ++kx) {
            const int32_t ix = ix0 + kx;
            const int inside = iy >= 0 && iy < p->in_h && ix >= 0 && ix < p->in_w;
            for (c = 0; c < in_c; ++c) {
                buf[kx * in_c + c] = inside ? x[(iy * p->in_w + ix) * in_c + c] : (int8_t)p->input_zp;
            }
        }
    }
}

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
        mnv3c_dsp_gemm_pair(xbuf, (k + 3) >> 2, p->weights, &s, yp, yq, mode);
    }
}

MNV3C_DSP_ENTRY_POINTS(mnv3c_conv2d_s8_arm_dsp, conv2d, mnv3c_conv2d_params, out_of)
