/*
 * conv2d_s8_arm_dsp.c - general convolution (group 1, dilation 1, any kernel, stride, padding) for
 * Cortex-M cores with the DSP extension: the arithmetic of ../conv2d_s8.c (same bytes), on the
 * two-pixel x four-output-channel SMLAD product of mnv3c_dsp_gemm.h. In MobileNets: the 3x3 stem.
 *
 * In NHWC one row of a pixel's receptive field, kernel_w * in_c values, is contiguous in x, so the
 * patch is never gathered value by value: each of its kernel_h rows is widened straight from x
 * with word loads (mnv3c_dsp_widen_pair), rows padded to R4 = 4 * ceil(kernel_w * in_c / 4) values.
 * Only a row that crosses the padding is first assembled in a small stack row, with input_zp in
 * the padded taps, which is what the folded bias expects (acc = bias_folded + sum x' w, x' =
 * input_zp on padded taps: mnv3c_kernels.h).
 * Weights: "conv_dsp" (mnv3c/codegen/layouts.py): OHWI with each kernel row padded from
 * kernel_w * in_c to R4 values, then laid out as "pointwise_dsp" over K = kernel_h * R4.
 * Precondition (plan/kernels.py): group 1, dilation 1, kernel_h * R4 <= MNV3C_PW_MAX_C.
 * Two entry points as in conv1x1_s8_arm_dsp.c (the _short one has the proven short output stage).
 */
#include "mnv3c_arm_dsp.h"
#include "mnv3c_dsp_gemm.h"

/* The row ky of the receptive field at (iy0 + ky, ix0 ..) as n = kernel_w * in_c values: a pointer
 * into x when every tap is inside, else assembled in `tmp` with input_zp in the padded taps. */
static const int8_t *patch_row(const mnv3c_conv2d_params *p, const int8_t *x, int32_t iy, int32_t ix0, int8_t *tmp)
{
    const int32_t in_c = p->in_c;
    int32_t kx, c;
    if (iy >= 0 && iy < p->in_h && ix0 >= 0 && ix0 + p->kernel_w <= p->in_w) {
        return x + (iy * p->in_w + ix0) * in_c;
    }
    for (kx = 0; kx < p->kernel_w; ++kx) {
        const int32_t ix = ix0 + kx;
        const int inside = iy >= 0 && iy < p->in_h && ix >= 0 && ix < p->in_w;
        for (c = 0; c < in_c; ++c) {
            tmp[kx * in_c + c] = inside ? x[(iy * p->in_w + ix) * in_c + c] : (int8_t)p->input_zp;
        }
    }
    return tmp;
}

static mnv3c_dsp_out out_of(const mnv3c_conv2d_params *p)
{
    const mnv3c_dsp_out s = {p->bias_folded, p->out_mult, p->out_shift, p->output_zp,
                             p->act_min,     p->act_max,  p->lut,       p->out_c,
                             p->lut != NULL ? p->lut + 128 : NULL};
    return s;
}

MNV3C_DSP_INLINE void conv2d(const mnv3c_conv2d_params *p, const int8_t *MNV3C_RESTRICT x,
                            int8_t *MNV3C_RESTRICT y, int mode)
{
    const int32_t out_c = p->out_c;
    const int32_t n = p->kernel_w * p->in_c;    /* values per receptive-field row */
    const int32_t row_groups = (n + 3) >> 2;    /* R4 / 4 */
    const int32_t pixels = p->out_h * p->out_w;
    const mnv3c_dsp_out s = out_of(p);
    int32_t xbuf[MNV3C_PW_MAX_C];
    int8_t tmp_p[MNV3C_PW_MAX_C], tmp_q[MNV3C_PW_MAX_C];
    int32_t i, ky;
    for (i = 0; i < pixels; i += 2) {
        const int has_q = i + 1 < pixels;
        const int32_t oyp = i / p->out_w, oxp = i - oyp * p->out_w;
        const int32_t oyq = has_q ? (i + 1) / p->out_w : 0, oxq = has_q ? i + 1 - oyq * p->out_w : 0;
        int8_t *yp = y + i * out_c;
        int8_t *yq = has_q ? yp + out_c : NULL;
        for (ky = 0; ky < p->kernel_h; ++ky) {
            const int8_t *rp = patch_row(p, x, oyp * p->stride_h - p->pad_top + ky, oxp * p->stride_w - p->pad_left, tmp_p);
            const int8_t *rq = has_q ? patch_row(p, x, oyq * p->stride_h - p->pad_top + ky,
                                                 oxq * p->stride_w - p->pad_left, tmp_q)
                                     : NULL;
            mnv3c_dsp_widen_pair(rp, rq, n, xbuf + 4 * row_groups * ky);
        }
        mnv3c_dsp_gemm_pair(xbuf, row_groups * p->kernel_h, p->weights, &s, yp, yq, mode);
    }
}

MNV3C_DSP_ENTRY_POINTS(mnv3c_conv2d_s8_arm_dsp, conv2d, mnv3c_conv2d_params, out_of)
