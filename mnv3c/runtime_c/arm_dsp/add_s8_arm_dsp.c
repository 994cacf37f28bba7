/*
 * add_s8_arm_dsp.c - ../add_s8.c (same bytes) for Cortex-M cores with the DSP extension.
 *
 * Each input's rescale a' = MBQM((a - a_zp) << 20, a_mult, a_shift) depends on one int8 value only,
 * so it is computed once per call for all 256 values with the portable MBQM (exact by construction)
 * into two stack tables of 2a' and 2b' (int32, 2 KB). Per element then: two loads, two table loads,
 * one ADD and the short output stage of mnv3c_dsp_requant.h on s = a' + b' (|s| < 2^28):
 *     v = SSAT8((SMMLAR(2s, M, k) - [s < 0]) >> r),  k = 2^(r-1) + zp * 2^r
 * (SMMLAR(2s, M, k) = k + SRDHM(s, M); exact for M in [2^30, 2^31) and r in [1, 21]: |s| + |k| + 1 < 2^31),
 * the clamp to [act_min, act_max] only when it is narrower than [-128, 127], then the optional table:
 * about 12 instructions per element instead of about 49. plan/kernels.py (_add_arm) checks the shifts
 * and the multiplier before choosing it.
 */
#include "mnv3c_arm_dsp.h"
#include "mnv3c_dsp_requant.h"

#define MNV3C_ADD_LEFT_SHIFT 20

/* table[v + 128] = 2 MBQM((v - zp) << 20, mult, shift) for every int8 v. */
static void rescale_table(int32_t *table, int32_t zp, int32_t mult, int32_t shift)
{
    int32_t v;
    for (v = -128; v < 128; ++v) {
        table[v + 128] = 2 * mnv3c_mbqm((v - zp) * ((int32_t)1 << MNV3C_ADD_LEFT_SHIFT), mult, shift);
    }
}

MNV3C_DSP_INLINE void add_body(const mnv3c_add_params *p, const int32_t *ta, const int32_t *tb, const int8_t *a,
                               const int8_t *b, int8_t *y, int clamp)
{
    const int32_t m = p->out_mult, r = -p->out_shift, k = ((int32_t)1 << (r - 1)) + p->output_zp * ((int32_t)1 << r);
    const int32_t lo = p->act_min, hi = p->act_max, n = p->size;
    int32_t i;
    for (i = 0; i < n; ++i) {
        const int32_t s2 = ta[a[i]] + tb[b[i]];
        int32_t t;
        __asm__("smmlar %0, %1, %2, %3" : "=r"(t) : "r"(s2), "r"(m), "r"(k));
        t = __ssat(mnv3c_asr(t - (int32_t)((uint32_t)s2 >> 31), r), 8);
        if (clamp) {
            t = t < lo ? lo : (t > hi ? hi : t);
        }
        y[i] = (int8_t)t;
    }
}

void mnv3c_add_s8_arm_dsp(const mnv3c_add_params *p, const int8_t *a, const int8_t *b, int8_t *y, void *scratch)
{
    int32_t ta[256], tb[256];
    int32_t i;
    (void)scratch;
    rescale_table(ta, p->a_zp, p->a_mult, p->a_shift);
    rescale_table(tb, p->b_zp, p->b_mult, p->b_shift);
    if (p->act_min == -128 && p->act_max == 127) {
        add_body(p, ta + 128, tb + 128, a, b, y, 0);
    } else {
        add_body(p, ta + 128, tb + 128, a, b, y, 1);
    }
    if (p->lut != NULL) { /* the fused activation, as a second pass (as ../add_s8.c) */
        for (i = 0; i < p->size; ++i) {
            y[i] = p->lut[(int32_t)y[i] + 128];
        }
    }
}

size_t mnv3c_add_s8_arm_dsp_scratch_bytes(const mnv3c_add_params *p)
{
    (void)p;
    return 0;
}
