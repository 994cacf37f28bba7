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
 * short output stage is proven exact for the layer (../arm_dsp/mnv3c_dsp_requant.h; here on four
 * outputs at once, mnv3c_mve_requant.h, its table "mve_out_table"), the other one elsewhere.
 */
#include "mnv3c_arm_mve.h"
#include "mnv3c_mve_dot.h"
#include "mnv3c_mve_requant.h"

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
        if (mode != MNV3C_DSP_GENERAL) { /* the vector short stage, four outputs at once */
            const int32_t *tab = s.mult;
            for (o = 0; o < out_c; o += 4, tab += MNV3C_MVE_TABLE_VECTOR) {
                const int32_t n = out_c - o < 4 ? out_c - o : 4;
                mnv3c_dsp_start(&s, o, mode, acc);
                if (n == 4) {
                    dot4(x, w, in_c, in_c, acc);
                    w += 4 * in_c;
                } else {
                    int32_t i;
                    for (i = 0; i < n; ++i, w += in_c) {
                        acc[i] = dot1(x, w, in_c, acc[i]);
                    }
                }
                mnv3c_mve_store4(&s, tab, acc, y + o, n, mode);
            }
            continue;
        }
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
