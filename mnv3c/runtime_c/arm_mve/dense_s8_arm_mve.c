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
    const mnv3c_dsp_out s = out_of(p);
    mnv3c_mve_pixel(&s, x, p->weights, p->in_features, y, mode);
}

MNV3C_DSP_ENTRY_POINTS(mnv3c_dense_s8_arm_mve, dense, mnv3c_dense_params, out_of)
