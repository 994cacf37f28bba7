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

MNV3C_DSP_INLINE void conv1x1(const mnv3c_conv2d_params *p, const int8_t *MNV3C_RESTRICT x,
                             int8_t *MNV3C_RESTRICT y, int mode)
{
    const int32_t pixels = p->in_h * p->in_w;
    const mnv3c_dsp_out s = mnv3c_dsp_conv_out(p);
    int32_t px;
    for (px = 0; px < pixels; ++px, x += p->in_c, y += p->out_c) {
        mnv3c_mve_pixel(&s, x, p->weights, p->in_c, y, mode);
    }
}

MNV3C_DSP_ENTRY_POINTS(mnv3c_conv1x1_s8_arm_mve, conv1x1, mnv3c_conv2d_params, mnv3c_dsp_conv_out)
