/*
 * dense_s8_arm_mve.c - fully connected layer for Cortex-M55 (Helium, MVE): the arithmetic of
 * ../dense_s8.c (same bytes), the pointwise kernel's dot products (mnv3c_mve_dot.h) on the one input
 * vector: per block of four outputs, one VLDRB of 16 inputs and per output one VLDRB of its weights and
 * one VMLADAVA, the last partial vector predicated.
 * Weights: the portable [out][in] layout, no re-layout. Any in_features.
 * Two entry points as in conv1x1_s8_arm_mve.c (_short: the proven short output stage, four outputs at once).
 */
#include "mnv3c_arm_mve.h"
#include "mnv3c_mve_dot.h"
#include "mnv3c_mve_requant.h"

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
    const int32_t k = p->in_features, n = p->out_features;
    const mnv3c_dsp_out s = out_of(p);
    const int8_t *w = p->weights;
    int32_t o, acc[4];
    if (mode != MNV3C_DSP_GENERAL) { /* the vector short stage, four outputs at once */
        const int32_t *tab = s.mult;
        for (o = 0; o < n; o += 4, tab += MNV3C_MVE_TABLE_VECTOR) {
            const int32_t m = n - o < 4 ? n - o : 4;
            mnv3c_dsp_start(&s, o, mode, acc);
            if (m == 4) {
                dot4(x, w, k, k, acc);
                w += 4 * k;
            } else {
                int32_t i;
                for (i = 0; i < m; ++i, w += k) {
                    acc[i] = dot1(x, w, k, acc[i]);
                }
            }
            mnv3c_mve_store4(&s, tab, acc, y + o, m, mode);
        }
        return;
    }
    for (o = 0; o + 4 <= n; o += 4, w += 4 * k) {
        mnv3c_dsp_start(&s, o, mode, acc);
        dot4(x, w, k, k, acc);
        y[o] = mnv3c_dsp_requant(&s, o, acc[0], mode);
        y[o + 1] = mnv3c_dsp_requant(&s, o + 1, acc[1], mode);
        y[o + 2] = mnv3c_dsp_requant(&s, o + 2, acc[2], mode);
        y[o + 3] = mnv3c_dsp_requant(&s, o + 3, acc[3], mode);
    }
    if (o < n) {
        mnv3c_dsp_start(&s, o, mode, acc);
        for (; o < n; ++o, w += k) {
            y[o] = mnv3c_dsp_requant(&s, o, dot1(x, w, k, acc[o & 3]), mode);
        }
    }
}

MNV3C_DSP_ENTRY_POINTS(mnv3c_dense_s8_arm_mve, dense, mnv3c_dense_params, out_of)
