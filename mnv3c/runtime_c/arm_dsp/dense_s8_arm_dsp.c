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

MNV3C_DSP_INLINE void dense(const mnv3c_dense_params *p, const int8_t *MNV3C_RESTRICT x, int8_t *MNV3C_RESTRICT y,
                           int short_rq)
{
    const int32_t groups = (p->in_features + 3) >> 2;
    const mnv3c_dsp_out s = {p->bias_folded, p->out_mult, p->out_shift, p->output_zp,
                             p->act_min,     p->act_max,  p->lut,       p->out_features};
    const mnv3c_dsp_word *w = (const mnv3c_dsp_word *)(const void *)p->weights;
    int32_t xbuf[MNV3C_PW_MAX_C];
    int32_t o, g;
    mnv3c_dsp_widen_pair(x, NULL, p->in_features, xbuf);
    for (o = 0; o < s.out_c; o += 4) {
        const int32_t *xb = xbuf;
        int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
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
        mnv3c_dsp_store_pair(&s, o, a0, 0, y, NULL, short_rq);
        mnv3c_dsp_store_pair(&s, o + 1, a1, 0, y, NULL, short_rq);
        mnv3c_dsp_store_pair(&s, o + 2, a2, 0, y, NULL, short_rq);
        mnv3c_dsp_store_pair(&s, o + 3, a3, 0, y, NULL, short_rq);
    }
}

void mnv3c_dense_s8_arm_dsp(const mnv3c_dense_params *p, const int8_t *MNV3C_RESTRICT x, int8_t *MNV3C_RESTRICT y,
                            void *scratch)
{
    (void)scratch;
    dense(p, x, y, 0);
}

void mnv3c_dense_s8_arm_dsp_short(const mnv3c_dense_params *p, const int8_t *MNV3C_RESTRICT x,
                                  int8_t *MNV3C_RESTRICT y, void *scratch)
{
    (void)scratch;
    dense(p, x, y, 1);
}

size_t mnv3c_dense_s8_arm_dsp_scratch_bytes(const mnv3c_dense_params *p)
{
    (void)p;
    return 0;
}

size_t mnv3c_dense_s8_arm_dsp_short_scratch_bytes(const mnv3c_dense_params *p)
{
    (void)p;
    return 0;
}
