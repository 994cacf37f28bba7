/*
 * conv1x1_s8_arm_dsp.c - pointwise convolution for Cortex-M cores with the DSP extension (M4, M7,
 * M33): the arithmetic of ../conv1x1_s8.c (same bytes), two pixels x four output channels per
 * block with SMLAD on SXTB16-widened pairs (mnv3c_dsp_gemm.h).
 *
 * Weights: "pointwise_dsp" (mnv3c/codegen/layouts.py, described in mnv3c_dsp_gemm.h). The inputs
 * of each pixel pair are widened once into a stack buffer and reused by every output channel.
 * Precondition (plan/kernels.py): pointwise geometry as conv1x1_s8, in_c <= MNV3C_PW_MAX_C.
 * Two entry points, chosen per layer at compile time: mnv3c_conv1x1_s8_arm_dsp_short where the
 * short output stage is proven exact for the layer (mnv3c_dsp_requant.h), the other one elsewhere.
 */
#include "mnv3c_arm_dsp.h"
#include "mnv3c_dsp_gemm.h"

MNV3C_DSP_INLINE void conv1x1(const mnv3c_conv2d_params *p, const int8_t *MNV3C_RESTRICT x,
                             int8_t *MNV3C_RESTRICT y, int mode)
{
    const int32_t in_c = p->in_c;
    const int32_t out_c = p->out_c;
    const int32_t pixels = p->in_h * p->in_w;
    const mnv3c_dsp_out s = mnv3c_dsp_conv_out(p);
    const int8_t *const w = p->weights;
    int32_t xbuf[MNV3C_PW_MAX_C];
    int32_t px;
    for (px = 0; px < pixels; px += 2) {
        const int8_t *xp = x + px * in_c;
        int8_t *yp = y + px * out_c;
        int8_t *yq = px + 1 < pixels ? yp + out_c : NULL;
        mnv3c_dsp_widen_pair(xp, yq != NULL ? xp + in_c : NULL, in_c, xbuf);
        mnv3c_dsp_gemm_pair(xbuf, (in_c + 3) >> 2, w, &s, yp, yq, mode);
    }
}

MNV3C_DSP_ENTRY_POINTS(mnv3c_conv1x1_s8_arm_dsp, conv1x1, mnv3c_conv2d_params, mnv3c_dsp_conv_out)
