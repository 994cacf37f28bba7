/*
 * squeeze_excite_s8_arm_mve.c - ../squeeze_excite_s8.c (same bytes) for Cortex-M55 (Helium, MVE): the
 * pool and the channel scale on vectors, both dense layers by dense_s8_arm_mve.c (portable weights).
 *
 * Pool: 16 channels per pass down the pixels, four widening VLDRB.S32 and four VADD per pixel, the
 * last partial group predicated (VCTP); then the portable finish per channel.
 *
 * Scale: y = clamp8(MBQM(x, M, -r) + zp, lo, hi) with x = (a - a_zp)(g - g_zp), |x| <= 255 * 255.
 * The gate is first widened to int16 g - g_zp in the scratch after pooled/r. Per pixel and eight
 * channels: VLDRB.S16 of the inputs, VSUB of a_zp, VLDRH of the gate, VMULLB/VMULLT give x exactly
 * in the even and odd lanes, and per lane the short output stage of arm_dsp/mnv3c_dsp_requant.h:
 *     t = VQRDMULH(x, M) = SRDHM(x, M),  v = (t + (x >> 31) + k) >> r,  k = 2^(r-1) + zp * 2^r
 * (same proof, acc = x; exact for M in [2^30, 2^31) and r in [1, 22], |x| + |k| + 1 < 2^31, which
 * plan/kernels.py checks before choosing this kernel). |v| <= 2^15 - 2^7, so VMOVNT narrows the odd
 * lanes back between the even ones without wrapping, and VMAX/VMIN on int16 clamp to [lo, hi].
 * Scratch: channels + R bytes as the portable kernel, rounded up to 4, then the int16 gate (2 bytes
 * per channel, channels rounded up to 8).
 */
#include <arm_mve.h>

#include "mnv3c_arm_mve.h"
#include "mnv3c_requant.h"

static int8_t pool_finish(const mnv3c_squeeze_excite_params *p, int32_t sum, int32_t zp_sum)
{
    return mnv3c_clamp8(mnv3c_mbqm(sum - zp_sum, p->pool_mult, p->pool_shift) + p->fc1.input_zp, -128, 127);
}

/* pooled[c] = the global average pool of channel c (zero point fc1.input_zp). */
static void pool(const mnv3c_squeeze_excite_params *p, const int8_t *x, int8_t *pooled)
{
    const int32_t pixels = p->in_h * p->in_w, C = p->channels, zp_sum = pixels * p->input_zp;
    int32_t c, px, i;
    for (c = 0; c < C; c += 16) {
        const int32_t n = C - c < 16 ? C - c : 16;
        const mve_pred16_t q0 = vctp32q((uint32_t)n), q1 = vctp32q((uint32_t)(n > 4 ? n - 4 : 0));
        const mve_pred16_t q2 = vctp32q((uint32_t)(n > 8 ? n - 8 : 0)), q3 = vctp32q((uint32_t)(n > 12 ? n - 12 : 0));
        const int8_t *xc = x + c;
        int32x4_t s0 = vdupq_n_s32(0), s1 = s0, s2 = s0, s3 = s0;
        int32_t sum[16];
        if (n == 16) {
            for (px = 0; px < pixels; ++px, xc += C) {
                s0 = vaddq_s32(s0, vldrbq_s32(xc));
                s1 = vaddq_s32(s1, vldrbq_s32(xc + 4));
                s2 = vaddq_s32(s2, vldrbq_s32(xc + 8));
                s3 = vaddq_s32(s3, vldrbq_s32(xc + 12));
            }
        } else { /* the last n < 16 channels, predicated */
            for (px = 0; px < pixels; ++px, xc += C) {
                s0 = vaddq_s32(s0, vldrbq_z_s32(xc, q0));
                s1 = vaddq_s32(s1, vldrbq_z_s32(xc + 4, q1));
                s2 = vaddq_s32(s2, vldrbq_z_s32(xc + 8, q2));
                s3 = vaddq_s32(s3, vldrbq_z_s32(xc + 12, q3));
            }
        }
        vst1q_s32(sum, s0);
        vst1q_s32(sum + 4, s1);
        vst1q_s32(sum + 8, s2);
        vst1q_s32(sum + 12, s3);
        for (i = 0; i < n; ++i) {
            pooled[c + i] = pool_finish(p, sum[i], zp_sum);
        }
    }
}

/* Where the int16 gate starts in the scratch. */
static size_t table_offset(const mnv3c_squeeze_excite_params *p)
{
    return ((size_t)p->channels + (size_t)p->fc1.out_features + 3u) & ~(size_t)3u;
}

/* The short stage of four x lanes up to the shift. */
static inline int32x4_t stage(int32x4_t x, int32_t m, int32_t k, int32_t minus_r)
{
    const int32x4_t t = vaddq_s32(vqrdmulhq_n_s32(x, m), vshrq_n_s32(x, 31));
    return vshlq_r_s32(vaddq_n_s32(t, k), minus_r);
}

/* y = x scaled per channel by the gate (scratch[0 .. channels)). */
static void scale(const mnv3c_squeeze_excite_params *p, const int8_t *x, int8_t *y, void *scratch)
{
    const int8_t *gate = (const int8_t *)scratch;
    int16_t *g16 = (int16_t *)(void *)((uint8_t *)scratch + table_offset(p));
    const int32_t pixels = p->in_h * p->in_w, C = p->channels, a_zp = p->input_zp, r = -p->mul_shift;
    const int32_t m = p->mul_mult, k = ((int32_t)1 << (r - 1)) + p->output_zp * ((int32_t)1 << r);
    const int16x8_t lo = vdupq_n_s16((int16_t)p->act_min), hi = vdupq_n_s16((int16_t)p->act_max);
    int32_t px, c;
    for (c = 0; c < C; ++c) {
        g16[c] = (int16_t)(gate[c] - p->gate_zp);
    }
    for (px = 0; px < pixels; ++px, x += C, y += C) {
        for (c = 0; c + 8 <= C; c += 8) {
            const int16x8_t u = vsubq_n_s16(vldrbq_s16(x + c), (int16_t)a_zp), g = vldrhq_s16(g16 + c);
            const int32x4_t even = stage(vmullbq_int_s16(u, g), m, k, -r);
            const int32x4_t odd = stage(vmulltq_int_s16(u, g), m, k, -r);
            const int16x8_t v = vmovntq_s32(vreinterpretq_s16_s32(even), odd);
            vstrbq_s16(y + c, vminq_s16(vmaxq_s16(v, lo), hi));
        }
        if (c < C) { /* the last C - c < 8 channels, predicated */
            const mve_pred16_t lanes = vctp16q((uint32_t)(C - c));
            const int16x8_t u = vsubq_n_s16(vldrbq_z_s16(x + c, lanes), (int16_t)a_zp);
            const int16x8_t g = vldrhq_z_s16(g16 + c, lanes);
            const int32x4_t even = stage(vmullbq_int_s16(u, g), m, k, -r);
            const int32x4_t odd = stage(vmulltq_int_s16(u, g), m, k, -r);
            const int16x8_t v = vmovntq_s32(vreinterpretq_s16_s32(even), odd);
            vstrbq_p_s16(y + c, vminq_s16(vmaxq_s16(v, lo), hi), lanes);
        }
    }
}

void mnv3c_squeeze_excite_s8_arm_mve(const mnv3c_squeeze_excite_params *p, const int8_t *x, int8_t *y,
                                     void *scratch)
{
    int8_t *pooled_then_gate = (int8_t *)scratch, *r = pooled_then_gate + p->channels;
    pool(p, x, pooled_then_gate);
    mnv3c_dense_s8_arm_mve(&p->fc1, pooled_then_gate, r, NULL);
    mnv3c_dense_s8_arm_mve(&p->fc2, r, pooled_then_gate, NULL);
    scale(p, x, y, scratch);
}

size_t mnv3c_squeeze_excite_s8_arm_mve_scratch_bytes(const mnv3c_squeeze_excite_params *p)
{
    return table_offset(p) + 2u * (((size_t)p->channels + 7u) & ~(size_t)7u);
}
