/*
 * conv1x1_s8_arm_dsp.c - pointwise convolution for Cortex-M cores with the DSP extension (M4, M7,
 * M33): the arithmetic of ../conv1x1_s8.c (same bytes), four pixels x two output channels per
 * block with SMLAD on SXTB16-widened pairs (mnv3c_dsp_quad.h).
 *
 * Weights: "pointwise_dsp" (mnv3c/codegen/layouts.py, described in mnv3c_dsp_gemm.h). The inputs
 * of four pixels are widened once into a stack buffer (8 KiB at most) and reused by every output
 * channel; the last one to three pixels go by pairs, two pixels x four channels (mnv3c_dsp_gemm.h).
 * Precondition (plan/kernels.py): pointwise geometry as conv1x1_s8, in_c <= MNV3C_PW_MAX_C.
 * Two entry points, chosen per layer at compile time: mnv3c_conv1x1_s8_arm_dsp_short where the
 * short output stage is proven exact for the layer (mnv3c_dsp_requant.h), the other one elsewhere.
 */
#include "mnv3c_arm_dsp.h"
#include "mnv3c_dsp_quad.h"

MNV3C_DSP_INLINE void conv1x1(const mnv3c_conv2d_params *p, const int8_t *MNV3C_RESTRICT x,
                             int8_t *MNV3C_RESTRICT y, int mode)
{
    const int32_t in_c = p->in_c, groups = (in_c + 3) >> 2;
    const int32_t out_c = p->out_c;
    const int32_t pixels = p->in_h * p->in_w;
    const mnv3c_dsp_out s = mnv3c_dsp_conv_out(p);
    const int8_t *const w = p->weights;
    int32_t xbuf[2 * MNV3C_PW_MAX_C];
    int32_t px, o;
    for (px = 0; px + 4 <= pixels; px += 4) {
        const int8_t *const xs[4] = {x + px * in_c, x + (px + 1) * in_c, x + (px + 2) * in_c, x + (px + 3) * in_c};
        mnv3c_dsp_widen_quad(xs, in_c, xbuf);
        o = 0;
        if ((mode == MNV3C_DSP_SHORT || mode == MNV3C_DSP_SHORT_LUT) && out_c >= 2) {
            mnv3c_dsp_quad_row(xbuf, groups, w, &s, out_c >> 1, y + px * out_c, mode);
            o = out_c & ~1;
        }
        for (; o < out_c; o += 2) {
            mnv3c_dsp_quad_pair(xbuf, groups, w + 16 * groups * (o >> 2) + 4 * ((o >> 1) & 1), &s, o,
                                y + px * out_c, mode);
        }
    }
    for (; px < pixels; px += 2) { /* the last one to three pixels: pairs (mnv3c_dsp_gemm.h) */
        const int8_t *xp = x + px * in_c;
        int8_t *yp = y + px * out_c;
        int8_t *yq = px + 1 < pixels ? yp + out_c : NULL;
        mnv3c_dsp_widen_pair(xp, yq != NULL ? xp + in_c : NULL, in_c, xbuf);
        mnv3c_dsp_gemm_pair(xbuf, groups, w, &s, yp, yq, mode);
    }
}

MNV3C_DSP_ENTRY_POINTS(mnv3c_conv1x1_s8_arm_dsp, conv1x1, mnv3c_conv2d_params, mnv3c_dsp_conv_out)
