/*
 * conv1x1_s8_arm_mve.c - pointwise convolution for Cortex-M55 (Helium, MVE): the arithmetic of
 * ../conv1x1_s8.c (same bytes). Per pixel and block of four output channels, 16 input channels at
 * a time: one VLDRB of the inputs, then per output channel one VLDRB of its weights and one
 * VMLADAVA (16 int8 products summed into a scalar int32): 9 instructions (+ the loop) per 64 MACs.
 * The last partial vector of a row is predicated (VCTP), so any in_c works, nothing is read past a
 * row, and no padding is needed.
 * Weights: the portable OHWI layout (rows of in_c contiguous values), no re-layout.
 * Sums are exact int32 like the portable kernel's (the quantizer bounds them).
 * Two entry points, chosen per layer at compile time: mnv3c_conv1x1_s8_arm_mve_short where the
 * short output stage is proven exact for the layer (../arm_dsp/mnv3c_dsp_requant.h), the other one
 * elsewhere.
 */
#include <arm_mve.h>

#include "mnv3c_arm_mve.h"
#include "mnv3c_dsp_requant.h"

/* Dot products of x[0 .. n) with the rows w0 .. w3 (n >= 1), added to acc[0..3]. */
MNV3C_DSP_INLINE void dot4(const int8_t *x, const int8_t *w0, int32_t k, int32_t n, int32_t acc[4])
{
    const int8_t *w1 = w0 + k, *w2 = w1 + k, *w3 = w2 + k;
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    int32_t c;
    for (c = 0; c + 16 <= n; c += 16) {
        const int8x16_t v = vldrbq_s8(x + c);
        a0 = vmladavaq_s8(a0, v, vldrbq_s8(w0 + c));
        a1 = vmladavaq_s8(a1, v, vldrbq_s8(w1 + c));
        a2 = vmladavaq_s8(a2, v, vldrbq_s8(w2 + c));
        a3 = vmladavaq_s8(a3, v, vldrbq_s8(w3 + c));
    }
    if (c < n) { /* the last n - c < 16 values: predicated loads read nothing past the rows */
        const mve_pred16_t lanes = vctp8q((uint32_t)(n - c));
        const int8x16_t v = vldrbq_z_s8(x + c, lanes);
        a0 = vmladavaq_p_s8(a0, v, vldrbq_z_s8(w0 + c, lanes), lanes);
        a1 = vmladavaq_p_s8(a1, v, vldrbq_z_s8(w1 + c, lanes), lanes);
        a2 = vmladavaq_p_s8(a2, v, vldrbq_z_s8(w2 + c, lanes), lanes);
        a3 = vmladavaq_p_s8(a3, v, vldrbq_z_s8(w3 + c, lanes), lanes);
    }
    acc[0] = a0, acc[1] = a1, acc[2] = a2, acc[3] = a3;
}

/* a + the dot product of x[0 .. n) with the row w. */
MNV3C_DSP_INLINE int32_t dot1(const int8_t *x, const int8_t *w, int32_t n, int32_t a)
{
    int32_t c;
    for (c = 0; c + 16 <= n; c += 16) {
        a = vmladavaq_s8(a, vldrbq_s8(x + c), vldrbq_s8(w + c));
    }
    if (c < n) {
        const mve_pred16_t lanes = vctp8q((uint32_t)(n - c));
        a = vmladavaq_p_s8(a, vldrbq_z_s8(x + c, lanes), vldrbq_z_s8(w + c, lanes), lanes);
    }
    return a;
}

static mnv3c_dsp_out out_of(const mnv3c_conv2d_params *p)
{
    const mnv3c_dsp_out s = {p->bias_folded, p->out_mult, p->out_shift, p->output_zp,
                             p->act_min,     p->act_max,  p->lut,       p->out_c,
                             p->lut != NULL ? p->lut + 128 : NULL};
    return s;
}

MNV3C_DSP_INLINE void conv1x1(const mnv3c_conv2d_params *p, const int8_t *MNV3C_RESTRICT x,
                             int8_t *MNV3C_RESTRICT y, int mode)
{
    const int32_t in_c = p->in_c;
    const int32_t out_c = p->out_c;
    const int32_t pixels = p->in_h * p->in_w;
    const mnv3c_dsp_out s = out_of(p);
    int32_t px, o, acc[4];
    for (px = 0; px < pixels; ++px, x += in_c, y += out_c) {
        const int8_t *w = p->weights;
        for (o = 0; o + 4 <= out_c; o += 4, w += 4 * in_c) {
            mnv3c_dsp_start(&s, o, mode, acc);
            dot4(x, w, in_c, in_c, acc);
            y[o] = mnv3c_dsp_requant(&s, o, acc[0], mode);
            y[o + 1] = mnv3c_dsp_requant(&s, o + 1, acc[1], mode);
            y[o + 2] = mnv3c_dsp_requant(&s, o + 2, acc[2], mode);
            y[o + 3] = mnv3c_dsp_requant(&s, o + 3, acc[3], mode);
        }
        if (o < out_c) {
            mnv3c_dsp_start(&s, o, mode, acc);
            for (; o < out_c; ++o, w += in_c) {
                y[o] = mnv3c_dsp_requant(&s, o, dot1(x, w, in_c, acc[o & 3]), mode);
            }
        }
    }
}

MNV3C_DSP_ENTRY_POINTS(mnv3c_conv1x1_s8_arm_mve, conv1x1, mnv3c_conv2d_params, out_of)
