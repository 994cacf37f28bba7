/*
 * depthwise_conv2d_s8_arm_mve.c - depthwise convolution (ch_mult 1; any kernel, stride, padding,
 * dilation) for Cortex-M55 (Helium, MVE): the arithmetic of ../depthwise_conv2d_s8.c (same bytes).
 *
 * Per output pixel a table holds every tap's address (inside the input, or a row of input_zp
 * bytes for a padded tap, as the folded bias expects: mnv3c_kernels.h); interior pixels add tap
 * offsets computed once per call. Then 16 channels at a time, four int32x4 sums in vector
 * registers: per tap two widening VLDRB.S16 of the inputs, two of the weights (portable HWC
 * layout, no re-layout), VMULLB/VMULLT (even and odd lanes to int32) and VADD: 16 MACs in 12
 * instructions. A last group of fewer than 16 channels is predicated (VCTP), so nothing is read
 * past a row.
 * Precondition (plan/kernels.py): ch_mult 1, in_c <= MNV3C_DW_MVE_MAX_C, kernel_h * kernel_w <=
 * MNV3C_DW_MVE_MAX_TAPS. Two entry points as in conv1x1_s8_arm_mve.c (_short: proven short stage, on
 * the four sum vectors, mnv3c_mve_requant.h; its table "mve_dw_out_table").
 */
#include <arm_mve.h>

#include "mnv3c_arm_mve.h"
#include "mnv3c_dsp_requant.h"
#include "mnv3c_mve_requant.h"

/* Channels c .. c + n - 1 (n <= 16) of one output pixel: every tap, then the output stage. */
MNV3C_DSP_INLINE void group(const mnv3c_dsp_out *s, const int8_t *const *tap, int32_t taps, int32_t c,
                            int32_t n, const int8_t *w, int32_t C, int8_t *y, int mode)
{
    /* e0/o0: even/odd channels of c .. c+7, e1/o1: of c+8 .. c+15; in the short modes started at their
     * biases (the "mve_dw_out_table" of the group: four vectors of 16 words) */
    const int32_t *tab = s->mult + (c >> 4) * 4 * MNV3C_MVE_TABLE_VECTOR;
    int32x4_t e0 = vdupq_n_s32(0), o0 = e0, e1 = e0, o1 = e0;
    int32_t even[8], odd[8];
    int32_t t, i;
    if (mode != MNV3C_DSP_GENERAL) {
        e0 = mnv3c_mve_start(tab);
        o0 = mnv3c_mve_start(tab + MNV3C_MVE_TABLE_VECTOR);
        e1 = mnv3c_mve_start(tab + 2 * MNV3C_MVE_TABLE_VECTOR);
        o1 = mnv3c_mve_start(tab + 3 * MNV3C_MVE_TABLE_VECTOR);
    }
    if (n == 16) {
        for (t = 0; t < taps; ++t, w += C) {
            const int8_t *x = tap[t] + c;
            const int16x8_t x0 = vldrbq_s16(x), w0 = vldrbq_s16(w + c);
            const int16x8_t x1 = vldrbq_s16(x + 8), w1 = vldrbq_s16(w + c + 8);
            e0 = vaddq_s32(e0, vmullbq_int_s16(x0, w0));
            o0 = vaddq_s32(o0, vmulltq_int_s16(x0, w0));
            e1 = vaddq_s32(e1, vmullbq_int_s16(x1, w1));
            o1 = vaddq_s32(o1, vmulltq_int_s16(x1, w1));
        }
    } else {
        const mve_pred16_t p0 = vctp16q((uint32_t)n), p1 = vctp16q((uint32_t)(n > 8 ? n - 8 : 0));
        for (t = 0; t < taps; ++t, w += C) {
            const int8_t *x = tap[t] + c;
            const int16x8_t x0 = vldrbq_z_s16(x, p0), w0 = vldrbq_z_s16(w + c, p0);
            const int16x8_t x1 = vldrbq_z_s16(x + 8, p1), w1 = vldrbq_z_s16(w + c + 8, p1);
            e0 = vaddq_s32(e0, vmullbq_int_s16(x0, w0));
            o0 = vaddq_s32(o0, vmulltq_int_s16(x0, w0));
            e1 = vaddq_s32(e1, vmullbq_int_s16(x1, w1));
            o1 = vaddq_s32(o1, vmulltq_int_s16(x1, w1));
        }
    }
    if (mode != MNV3C_DSP_GENERAL) { /* the vector short stage; VMOVNT puts the odd channels back between */
        int16x8_t lo = vmovntq_s32(vreinterpretq_s16_s32(mnv3c_mve_short(e0, tab, s->lo, s->hi)),
                                   mnv3c_mve_short(o0, tab + MNV3C_MVE_TABLE_VECTOR, s->lo, s->hi));
        int16x8_t hi = vmovntq_s32(vreinterpretq_s16_s32(mnv3c_mve_short(e1, tab + 2 * MNV3C_MVE_TABLE_VECTOR, s->lo, s->hi)),
                                   mnv3c_mve_short(o1, tab + 3 * MNV3C_MVE_TABLE_VECTOR, s->lo, s->hi));
        if (mnv3c_mve_has_lut(s, mode)) {
            lo = mnv3c_mve_lut16(lo, s->lut);
            hi = mnv3c_mve_lut16(hi, s->lut);
        }
        if (n == 16) {
            vstrbq_s16(y + c, lo);
            vstrbq_s16(y + c + 8, hi);
        } else {
            vstrbq_p_s16(y + c, lo, vctp16q((uint32_t)n));
            vstrbq_p_s16(y + c + 8, hi, vctp16q((uint32_t)(n > 8 ? n - 8 : 0)));
        }
        return;
    }
    vst1q_s32(even, e0);
    vst1q_s32(even + 4, e1);
    vst1q_s32(odd, o0);
    vst1q_s32(odd + 4, o1);
    for (i = 0; i < n; ++i) {
        y[c + i] = mnv3c_dsp_requant(s, c + i, (i & 1) ? odd[i >> 1] : even[i >> 1], mode);
    }
}

static mnv3c_dsp_out out_of(const mnv3c_depthwise_conv2d_params *p)
{
    const mnv3c_dsp_out s = {p->bias_folded, p->out_mult, p->out_shift, p->output_zp,
                             p->act_min,     p->act_max,  p->lut,       p->in_c,
                             p->lut != NULL ? p->lut + 128 : NULL};
    return s;
}

MNV3C_DSP_INLINE void depthwise(const mnv3c_depthwise_conv2d_params *p, const int8_t *MNV3C_RESTRICT x,
                               int8_t *MNV3C_RESTRICT y, int mode)
{
    const int32_t C = p->in_c, kh = p->kernel_h, kw = p->kernel_w, taps = kh * kw;
    const int32_t in_h = p->in_h, in_w = p->in_w;
    const mnv3c_dsp_out s = out_of(p);
    const int8_t *tap[MNV3C_DW_MVE_MAX_TAPS];
    int32_t offset[MNV3C_DW_MVE_MAX_TAPS];
    int8_t zrow[MNV3C_DW_MVE_MAX_C];
    int32_t oy, ox, c, t, ky, kx;
    for (c = 0; c < C; ++c) {
        zrow[c] = (int8_t)p->input_zp;
    }
    for (ky = 0; ky < kh; ++ky) {
        for (kx = 0; kx < kw; ++kx) {
            offset[ky * kw + kx] = (ky * p->dilation_h * in_w + kx * p->dilation_w) * C;
        }
    }
    for (oy = 0; oy < p->out_h; ++oy) {
        const int32_t iy0 = oy * p->stride_h - p->pad_top;
        const int rows_inside = iy0 >= 0 && iy0 + (kh - 1) * p->dilation_h < in_h;
        for (ox = 0; ox < p->out_w; ++ox, y += C) {
            const int32_t ix0 = ox * p->stride_w - p->pad_left;
            if (rows_inside && ix0 >= 0 && ix0 + (kw - 1) * p->dilation_w < in_w) {
                const int8_t *x0 = x + (iy0 * in_w + ix0) * C;
                for (t = 0; t < taps; ++t) {
                    tap[t] = x0 + offset[t];
                }
            } else {
                for (ky = 0; ky < kh; ++ky) {
                    const int32_t iy = iy0 + ky * p->dilation_h;
                    for (kx = 0; kx < kw; ++kx) {
                        const int32_t ix = ix0 + kx * p->dilation_w;
                        const int inside = iy >= 0 && iy < in_h && ix >= 0 && ix < in_w;
                        tap[ky * kw + kx] = inside ? x + (iy * in_w + ix) * C : zrow;
                    }
                }
            }
            for (c = 0; c + 16 <= C; c += 16) {
                group(&s, tap, taps, c, 16, p->weights, C, y, mode);
            }
            if (c < C) {
                group(&s, tap, taps, c, C - c, p->weights, C, y, mode);
            }
        }
    }
}

MNV3C_DSP_ENTRY_POINTS(mnv3c_depthwise_conv2d_s8_arm_mve, depthwise, mnv3c_depthwise_conv2d_params, out_of)
