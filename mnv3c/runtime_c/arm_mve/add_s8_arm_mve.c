/*
 * add_s8_arm_mve.c - ../add_s8.c (same bytes) for Cortex-M55 (Helium, MVE), four elements per vector.
 *
 * Per input: x = (a - a_zp) << 20 (|x| < 2^28), t = VQRDMULH(x, M) = SRDHM(x, M), then RDBP(t, r) for
 * r = -shift in [0, 21] as VRSHL by -r of t - [t < 0] (../mnv3c_requant.h mnv3c_mbqm: RDBP(t, r) =
 * floor((t - [t < 0] + 2^(r-1)) / 2^r) for r >= 1, which is VRSHL's rounding; r = 0 masks the
 * correction off). Then s = a' + b' (|s| < 2^28) and the output stage
 *     v = (SRDHM(s, M) - [t < 0] + k) >> r,  k = 2^(r-1) + zp * 2^r,  r = -out_shift in [1, 21]
 * (the same identity with zp folded into the floor; |t| + |k| + 1 < 2^31), VMAX/VMIN to [act_min,
 * act_max], the optional table by a gather. The last partial vector is predicated. plan/kernels.py
 * (_add_arm) checks the shifts and the multiplier before choosing it.
 */
#include <arm_mve.h>

#include "mnv3c_arm_mve.h"
#include "mnv3c_mve_requant.h"

#define MNV3C_ADD_LEFT_SHIFT 20

/* MBQM((v - zp) << 20, m, -r) of four lanes; mask = -1 if r >= 1 else 0. */
static inline int32x4_t rescale(int32x4_t v, int32_t zp, int32_t m, int32_t r, int32x4_t mask)
{
    const int32x4_t t = vqrdmulhq_n_s32(vshlq_n_s32(vsubq_n_s32(v, zp), MNV3C_ADD_LEFT_SHIFT), m);
    return vrshlq_n_s32(vaddq_s32(t, vandq_s32(vshrq_n_s32(t, 31), mask)), -r);
}

void mnv3c_add_s8_arm_mve(const mnv3c_add_params *p, const int8_t *a, const int8_t *b, int8_t *y, void *scratch)
{
    const int32_t ra = -p->a_shift, rb = -p->b_shift, r = -p->out_shift, n = p->size;
    const int32_t k = ((int32_t)1 << (r - 1)) + p->output_zp * ((int32_t)1 << r);
    const int32x4_t mask_a = vdupq_n_s32(ra > 0 ? -1 : 0), mask_b = vdupq_n_s32(rb > 0 ? -1 : 0);
    const int32x4_t lo = vdupq_n_s32(p->act_min), hi = vdupq_n_s32(p->act_max);
    int32_t i;
    (void)scratch;
    for (i = 0; i < n; i += 4) {
        const mve_pred16_t lanes = vctp32q((uint32_t)(n - i));
        const int32x4_t s = vaddq_s32(rescale(vldrbq_z_s32(a + i, lanes), p->a_zp, p->a_mult, ra, mask_a),
                                      rescale(vldrbq_z_s32(b + i, lanes), p->b_zp, p->b_mult, rb, mask_b));
        int32x4_t t = vqrdmulhq_n_s32(s, p->out_mult);
        t = vshlq_r_s32(vaddq_n_s32(vaddq_s32(t, vshrq_n_s32(t, 31)), k), -r);
        t = vminq_s32(vmaxq_s32(t, lo), hi);
        if (p->lut != NULL) {
            t = mnv3c_mve_lut32(t, p->lut);
        }
        vstrbq_p_s32(y + i, t, lanes);
    }
}

size_t mnv3c_add_s8_arm_mve_scratch_bytes(const mnv3c_add_params *p)
{
    (void)p;
    return 0;
}
