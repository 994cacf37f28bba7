/*
 * mnv3c_dsp_requant.h - the short exact output stage of the arm_dsp kernels.
 *
 * MBQM(acc, M, -r) of docs/ARITHMETIC.md is RDBP(SRDHM(acc, M), r). When the code generator has
 * proved, for a layer, that every shift is in [-31, -1] (r >= 1) and that |acc| < 2^30 for every
 * possible input (|bias| + 255 * sum|w| < 2^30, plan/kernels.py "_short_requant"), it is exactly
 *     t = SMMULR(2 * acc, M)                       (2 * acc cannot overflow)
 *       = floor((2 acc M + 2^31) / 2^32) = floor((acc M + 2^30) / 2^31) = SRDHM(acc, M)
 *     RDBP(t, r) = (t + (t < 0 ? -1 : 0) + 2^(r-1)) >> r
 * (the second line is the identity derived in ../mnv3c_requant.h for mnv3c_mbqm; |t| < 2^30, so
 * nothing overflows). Five instructions instead of about fourteen, same bytes.
 * Below: the whole output stage of the arm_dsp kernels (requantize, zero point, clamp, table).
 */
#ifndef MNV3C_DSP_REQUANT_H
#define MNV3C_DSP_REQUANT_H

#include <stdint.h>

#include "mnv3c_requant.h"

/* For the helpers a kernel instantiates once per output stage: the specialization must happen. */
#define MNV3C_DSP_INLINE static inline __attribute__((always_inline))

/* SMMULR: (a * b + 2^31) >> 32, the rounded high word (GCC 12's arm_acle.h has no intrinsic). */
static inline int32_t mnv3c_dsp_smmulr(int32_t a, int32_t b)
{
    int32_t r;
    __asm__("smmulr %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
    return r;
}

/* MBQM(acc, mult, -r) for 1 <= r <= 31, |acc| < 2^30; round = 2^(r-1). */
static inline int32_t mnv3c_dsp_mbqm_short(int32_t acc, int32_t mult, int32_t r, int32_t round)
{
    const int32_t t = mnv3c_dsp_smmulr(acc * 2, mult);
    return mnv3c_asr(t - (int32_t)(t < 0) + round, r);
}

/* The output stage of a layer, copied into locals so the int8 stores cannot alias it. */
typedef struct {
    const int32_t *bias, *mult;
    const int8_t *shift;
    int32_t zp, lo, hi;
    const int8_t *lut;
    int32_t out_c;
} mnv3c_dsp_out;

/* clamp8(v + zp, lo, hi), then the optional fused table. */
MNV3C_DSP_INLINE int8_t mnv3c_dsp_finish(int32_t v, const mnv3c_dsp_out *s)
{
    const int8_t t = mnv3c_clamp8(v + s->zp, s->lo, s->hi);
    return s->lut != NULL ? s->lut[(int32_t)t + 128] : t;
}

/* Requantizes output channel o of one pixel (o < out_c). */
MNV3C_DSP_INLINE int8_t mnv3c_dsp_requant(const mnv3c_dsp_out *s, int32_t o, int32_t acc, int short_rq)
{
    const int32_t shift = s->shift[o];
    if (short_rq) {
        return mnv3c_dsp_finish(mnv3c_dsp_mbqm_short(acc + s->bias[o], s->mult[o], -shift,
                                                     (int32_t)1 << (-shift - 1)), s);
    }
    return mnv3c_dsp_finish(mnv3c_mbqm(acc + s->bias[o], s->mult[o], shift), s);
}

/*
 * Requantizes output channel o of both pixels (yq == NULL: no pixel q); o >= out_c is padding.
 * short_rq: the layer's proven short output stage (mnv3c_dsp_requant.h), else the general MBQM.
 */
MNV3C_DSP_INLINE void mnv3c_dsp_store_pair(const mnv3c_dsp_out *s, int32_t o, int32_t acc_p, int32_t acc_q,
                                           int8_t *yp, int8_t *yq, int short_rq)
{
    if (o < s->out_c) {
        const int32_t bias = s->bias[o], mult = s->mult[o], shift = s->shift[o];
        if (short_rq) {
            const int32_t r = -shift, round = (int32_t)1 << (r - 1);
            yp[o] = mnv3c_dsp_finish(mnv3c_dsp_mbqm_short(acc_p + bias, mult, r, round), s);
            if (yq != NULL) {
                yq[o] = mnv3c_dsp_finish(mnv3c_dsp_mbqm_short(acc_q + bias, mult, r, round), s);
            }
        } else {
            yp[o] = mnv3c_dsp_finish(mnv3c_mbqm(acc_p + bias, mult, shift), s);
            if (yq != NULL) {
                yq[o] = mnv3c_dsp_finish(mnv3c_mbqm(acc_q + bias, mult, shift), s);
            }
        }
    }
}

/* Output channels o .. o + 3 of pixels p (sums[0..3]) and q (sums[4..7]; yq == NULL: none). */
static inline void mnv3c_dsp_store_block(const mnv3c_dsp_out *s, int32_t o, const int32_t sums[8], int8_t *yp,
                                         int8_t *yq, int short_rq)
{
    const int32_t n = s->out_c - o < 4 ? s->out_c - o : 4;
    int32_t i;
    for (i = 0; i < n; ++i) {
        mnv3c_dsp_store_pair(s, o + i, sums[i], sums[4 + i], yp, yq, short_rq);
    }
}

#endif /* MNV3C_DSP_REQUANT_H */
