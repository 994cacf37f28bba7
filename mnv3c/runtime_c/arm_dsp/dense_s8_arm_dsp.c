/*
 * dense_s8_arm_dsp.c - fully connected layer for Cortex-M cores with the DSP extension: the
 * arithmetic of ../dense_s8.c (same bytes), four output channels at a time with SMLAD.
 *
 * The input vector is widened once into (c0, c2) / (c1, c3) int16 pairs (mnv3c_dsp_widen_pair with
 * no second pixel); the weights are "pointwise_dsp" (mnv3c/codegen/layouts.py, described in
 * mnv3c_dsp_gemm.h), so per group of four inputs and four output channels: 2 + 4 loads, 8 SXTB16,
 * 8 SMLAD for 16 MACs. Output channels past out_features (zero rows) are computed and dropped.
 * Precondition (plan/kernels.py): in_features <= MNV3C_PW_MAX_C.
 * Two entry points as in conv1x1_s8_arm_dsp.c (_short: the proven short output stage).
 */
#include "mnv3c_arm_dsp.h"
#include "mnv3c_dsp_gemm.h"

static mnv3c_dsp_out out_of(const mnv3c_dense_params *p)
{
    const mnv3c_dsp_out s = {p->bias_folded, p->out_mult, p->out_shift, p->output_zp,
                             p->act_min,     p->act_max,  p->lut,       p->out_features,
                             p->lut != NULL ? p->lut + 128 : NULL};
    return s;
}

MNV3C_DSP_INLINE void dense(const mnv3c_dense_params *p, const int8_t *MNV3C_RESTRICT x, int8_t *MNV3C_RESTRICT y,
                           int mode)
{
    const int32_t groups = (p->in_features + 3) >> 2;
    const mnv3c_dsp_out s = out_of(p);
    const mnv3c_dsp_word *w = (const mnv3c_dsp_word *)(const void *)p->weights;
    int32_t xbuf[MNV3C_PW_MAX_C];
    int32_t o, g;
    mnv3c_dsp_widen_pair(x, NULL, p->in_features, xbuf);
    for (o = 0; o < s.out_c; o += 4) {
        const int32_t *xb = xbuf;
        int32_t a[4], a0, a1, a2, a3;
        mnv3c_dsp_start(&s, o, mode, a);
        a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3];
        for (g = 0; g < groups; ++g, xb += 4, w += 4) {
            const int32_t even = xb[0], odd = xb[2];
            a0 = __smlad(even, __sxtb16(w[0]), a0);
            a1 = __smlad(even, mnv3c_dsp_sxtb16_ror8(w[0]), a1);
            a2 = __smlad(even, __sxtb16(w[1]), a2);
            a3 = __smlad(even, mnv3c_dsp_sxtb16_ror8(w[1]), a3);
            a0 = __smlad(odd, __sxtb16(w[2]), a0);
            a1 = __smlad(odd, mnv3c_dsp_sxtb16_ror8(w[2]), a1);
            a2 = __smlad(odd, __sxtb16(w[3]), a2);
            a3 = __smlad(odd, mnv3c_dsp_sxtb16_ror8(w[3]), a3);
        }
        {
            const int32_t sums[8] = {a0, a1, a2, a3, 0, 0, 0, 0};
            mnv3c_dsp_store_block(&s, o, sums, y, NULL, mode);
        }
    }
}

MNV3C_DSP_ENTRY_POINTS(mnv3c_dense_s8_arm_dsp, dense, mnv3c_dense_params, out_of)
