/*
 * mnv3c_mve_requant.h - the short exact output stage of ../arm_dsp/mnv3c_dsp_requant.h on four lanes
 * at once (Helium), for the arm_mve kernels' _short entry points.
 *
 * Same arithmetic and the same proof as the scalar stage there, with VQRDMULH for the first step:
 * VQRDMULH(acc, M) = sat((2 acc M + 2^31) >> 32) = floor((acc M + 2^30) / 2^31) = SRDHM(acc, M) (the
 * saturation needs acc = M = INT32_MIN; M >= 2^30), then u = t + (acc >> 31) + k (acc >> 31 is
 * -[acc < 0]), v = u >> r (VSHL by -r: an arithmetic shift), and clamp8 to [act_min, act_max] with VMAX
 * and VMIN (that range lies in [-128, 127], so no separate saturation). Per lane the table holds M, k
 * and -r (codegen/layouts.py "mve_out_table": per vector of four lanes 16 words, the biases, M, k, -r).
 */
#ifndef MNV3C_MVE_REQUANT_H
#define MNV3C_MVE_REQUANT_H

#include <arm_mve.h>
#include <stdint.h>

#include "mnv3c_dsp_requant.h"

#define MNV3C_MVE_TABLE_VECTOR 16 /* words of the table per vector of four lanes */

/* The four biases a vector's sums start at. */
MNV3C_DSP_INLINE int32x4_t mnv3c_mve_start(const int32_t *tab)
{
    return vldrwq_s32(tab);
}

/* clamp8(MBQM(acc) + zp, lo, hi) of four lanes, tab = the vector's 16 table words. */
MNV3C_DSP_INLINE int32x4_t mnv3c_mve_short(int32x4_t acc, const int32_t *tab, int32_t lo, int32_t hi)
{
    int32x4_t t = vqrdmulhq_s32(acc, vldrwq_s32(tab + 4));
    t = vaddq_s32(vaddq_s32(t, vshrq_n_s32(acc, 31)), vldrwq_s32(tab + 8));
    t = vshlq_s32(t, vldrwq_s32(tab + 12));
    return vminq_s32(vmaxq_s32(t, vdupq_n_s32(lo)), vdupq_n_s32(hi));
}

/* The fused table of four lanes (values in [-128, 127]); lut128 = lut + 128. */
MNV3C_DSP_INLINE int32x4_t mnv3c_mve_lut32(int32x4_t v, const int8_t *lut)
{
    return vldrbq_gather_offset_s32(lut, vreinterpretq_u32_s32(vaddq_n_s32(v, 128)));
}

/* The same on eight int16 lanes. */
MNV3C_DSP_INLINE int16x8_t mnv3c_mve_lut16(int16x8_t v, const int8_t *lut)
{
    return vldrbq_gather_offset_s16(lut, vreinterpretq_u16_s16(vaddq_n_s16(v, 128)));
}

/* The table applies in this short mode (SHORT_CLAMP: if the layer has one). */
MNV3C_DSP_INLINE int mnv3c_mve_has_lut(const mnv3c_dsp_out *s, int mode)
{
    return mode == MNV3C_DSP_SHORT_LUT || (mode == MNV3C_DSP_SHORT_CLAMP && s->lut != NULL);
}

/* The first n (1..4) of four outputs from their sums acc[0..3] (started at the biases), the short stage
 * with the table words tab of their vector. */
MNV3C_DSP_INLINE void mnv3c_mve_store4(const mnv3c_dsp_out *s, const int32_t *tab, const int32_t acc[4], int8_t *y,
                                       int32_t n, int mode)
{
    int32x4_t v = mnv3c_mve_short(vld1q_s32(acc), tab, s->lo, s->hi);
    if (mnv3c_mve_has_lut(s, mode)) {
        v = mnv3c_mve_lut32(v, s->lut);
    }
    if (n == 4) {
        vstrbq_s32(y, v);
    } else {
        vstrbq_p_s32(y, v, vctp32q((uint32_t)n));
    }
}

#endif /* MNV3C_MVE_REQUANT_H */
