/*
 * squeeze_excite_s8_arm_dsp.c - ../squeeze_excite_s8.c (same bytes) for Cortex-M cores with the DSP
 * extension: the pool with SXTAB16, both dense layers by dense_s8_arm_dsp.c (on "pointwise_dsp"
 * weights, both fc1 and fc2 laid out so), and the channel scale with SMULBB/SMULTT and an SMMLAR
 * output stage.
 *
 * Pool: eight channels per pass down the pixels, two word loads and four SXTAB16 per pixel (1
 * instruction per value instead of about 2.5), the int16 halves flushed into int32 sums every 256
 * pixels (256 * [-128, 127] fits an int16); then the portable finish per channel.
 *
 * Scale: y = clamp8(MBQM(x, M, -r) + zp, lo, hi) with x = (a - a_zp)(g - g_zp), |x| <= 255 * 255.
 * The gate is first turned into int16 pairs 2(g - g_zp) per group of four channels ((c0, c2), (c1, c3)
 * as SXTB16 and SXTB16 ROR 8 split a word) in the scratch after pooled/r. Per pixel and four
 * channels: one word load, SXTB16 / SXTB16 ROR 8, SSUB16 of the zero point pair, SMULBB/SMULTT give
 * x2 = 2x exactly (|x2| < 2^17), and per value
 *     v = SSAT8((SMMLAR(x2, M, k) - [x2 < 0]) >> r),   k = 2^(r-1) + zp * 2^r
 * SMMLAR(x2, M, k) = k + floor((2xM + 2^31) / 2^32) = k + SRDHM(x, M); the rest is the short output
 * stage of mnv3c_dsp_requant.h (same proof, acc = x): exact for M in [2^30, 2^31) and r in [1, 22]
 * (|x| + |k| + 1 < 2^31), which plan/kernels.py checks before choosing this kernel (_se_scale_exact).
 * Scratch: channels + R bytes as the portable kernel, rounded up to 4, then the int16 gate pairs
 * (2 bytes per channel, channels rounded up to 8).
 */
#include "mnv3c_arm_dsp.h"
#include "mnv3c_dsp_gemm.h"

#define MNV3C_SE_CHUNK 256 /* pixels whose int8 sum fits an int16 half */

/* Adds n (1 .. 256) pixels of eight channels, a row of `stride` bytes apart, into the int16 pairs
 * h[0..3] = (c0, c2), (c1, c3), (c4, c6), (c5, c7): two loads and four SXTAB16 per pixel (written out:
 * GCC spills the stride and the bound of this loop). */
static void pool_chunk(const int8_t *xc, int32_t n, int32_t stride, int32_t h[4])
{
    int32_t e0 = 0, o0 = 0, e1 = 0, o1 = 0, v0, v1;
    const int8_t *const end = xc + n * stride;
    __asm__ volatile(
        "1:\n\t"
        "ldr %[v1], [%[x], #4]\n\t"
        "ldr %[v0], [%[x]]\n\t"
        "add %[x], %[x], %[s]\n\t"
        "sxtab16 %[e1], %[e1], %[v1]\n\t"
        "sxtab16 %[o1], %[o1], %[v1], ror #8\n\t"
        "sxtab16 %[e0], %[e0], %[v0]\n\t"
        "sxtab16 %[o0], %[o0], %[v0], ror #8\n\t"
        "cmp %[x], %[end]\n\t"
        "bne 1b\n\t"
        : [e0] "+r"(e0), [o0] "+r"(o0), [e1] "+r"(e1), [o1] "+r"(o1), [x] "+r"(xc), [v0] "=&r"(v0), [v1] "=&r"(v1)
        : [s] "r"(stride), [end] "r"(end)
        : "cc", "memory");
    h[0] = e0, h[1] = o0, h[2] = e1, h[3] = o1;
}

/* SMULBB / SMULTT (GCC 12's arm_acle.h has neither): the product of the bottom / top int16 halves. */
static inline int32_t smulbb(int32_t a, int32_t b)
{
    int32_t r;
    __asm__("smulbb %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
    return r;
}

static inline int32_t smultt(int32_t a, int32_t b)
{
    int32_t r;
    __asm__("smultt %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
    return r;
}

static int8_t pool_finish(const mnv3c_squeeze_excite_params *p, int32_t sum, int32_t zp_sum)
{
    return mnv3c_clamp8(mnv3c_mbqm(sum - zp_sum, p->pool_mult, p->pool_shift) + p->fc1.input_zp, -128, 127);
}

/* pooled[c] = the global average pool of channel c (zero point fc1.input_zp). */
static void pool(const mnv3c_squeeze_excite_params *p, const int8_t *x, int8_t *pooled)
{
    const int32_t pixels = p->in_h * p->in_w, C = p->channels, zp_sum = pixels * p->input_zp;
    int32_t c, px, i;
    for (c = 0; c + 8 <= C; c += 8) {
        int32_t sum[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        for (px = 0; px < pixels; px += MNV3C_SE_CHUNK) {
            const int32_t n = pixels - px < MNV3C_SE_CHUNK ? pixels - px : MNV3C_SE_CHUNK;
            int32_t h[4], e0, o0, e1, o1; /* (c0, c2), (c1, c3), (c4, c6), (c5, c7) */
            pool_chunk(x + px * C + c, n, C, h);
            e0 = h[0], o0 = h[1], e1 = h[2], o1 = h[3];
            sum[0] += (int16_t)e0, sum[2] += e0 >> 16, sum[1] += (int16_t)o0, sum[3] += o0 >> 16;
            sum[4] += (int16_t)e1, sum[6] += e1 >> 16, sum[5] += (int16_t)o1, sum[7] += o1 >> 16;
        }
        for (i = 0; i < 8; ++i) {
            pooled[c + i] = pool_finish(p, sum[i], zp_sum);
        }
    }
    for (; c < C; ++c) {
        const int8_t *xc = x + c, *const end = xc + pixels * C;
        int32_t s = 0;
        for (; xc != end; xc += C) {
            s += *xc;
        }
        pooled[c] = pool_finish(p, s, zp_sum);
    }
}

/* Where the int16 gate pairs start in the scratch. */
static size_t table_offset(const mnv3c_squeeze_excite_params *p)
{
    return ((size_t)p->channels + (size_t)p->fc1.out_features + 3u) & ~(size_t)3u;
}

/* The scale's constants, copied into locals so the int8 stores cannot alias them. */
typedef struct {
    int32_t m, k, r, lo, hi;
} scale_out;

/* One value of the scale from x2 = 2 (a - a_zp)(g - g_zp); clamp: the layer's range is not [-128, 127]. */
MNV3C_DSP_INLINE int8_t scaled(int32_t x2, const scale_out *s, int clamp)
{
    int32_t t;
    __asm__("smmlar %0, %1, %2, %3" : "=r"(t) : "r"(x2), "r"(s->m), "r"(s->k));
    t = __ssat(mnv3c_asr(t - (int32_t)((uint32_t)x2 >> 31), s->r), 8);
    if (clamp) {
        t = t < s->lo ? s->lo : (t > s->hi ? s->hi : t);
    }
    return (int8_t)t;
}

MNV3C_DSP_INLINE void scale_body(const mnv3c_squeeze_excite_params *p, const int8_t *x, int8_t *y,
                                 const mnv3c_dsp_word *gate2, const int8_t *gate, int clamp)
{
    const int32_t pixels = p->in_h * p->in_w, C = p->channels, C4 = C & ~3, a_zp = p->input_zp, g_zp = p->gate_zp;
    const int32_t zz = (int32_t)(((uint32_t)(uint16_t)a_zp << 16) | (uint16_t)a_zp);
    const int32_t r = -p->mul_shift;
    const scale_out s = {p->mul_mult, ((int32_t)1 << (r - 1)) + p->output_zp * ((int32_t)1 << r), r, p->act_min,
                         p->act_max};
    int32_t px, c;
    for (px = 0; px < pixels; ++px, x += C, y += C) {
        const mnv3c_dsp_word *g = gate2;
        for (c = 0; c < C4; c += 4, g += 2) {
            int32_t v, e, o;
            __builtin_memcpy(&v, x + c, 4);
            e = __ssub16(__sxtb16(v), zz);
            o = __ssub16(mnv3c_dsp_sxtb16_ror8(v), zz);
            y[c] = scaled(smulbb(e, g[0]), &s, clamp);
            y[c + 1] = scaled(smulbb(o, g[1]), &s, clamp);
            y[c + 2] = scaled(smultt(e, g[0]), &s, clamp);
            y[c + 3] = scaled(smultt(o, g[1]), &s, clamp);
        }
        for (; c < C; ++c) {
            y[c] = scaled(2 * ((int32_t)x[c] - a_zp) * ((int32_t)gate[c] - g_zp), &s, clamp);
        }
    }
}

/* y = x scaled per channel by the gate (scratch[0 .. channels)). */
static void scale(const mnv3c_squeeze_excite_params *p, const int8_t *x, int8_t *y, void *scratch)
{
    const int8_t *gate = (const int8_t *)scratch;
    mnv3c_dsp_word *gate2 = (mnv3c_dsp_word *)(void *)((uint8_t *)scratch + table_offset(p));
    int16_t *h = (int16_t *)(void *)gate2;
    const int32_t C4 = p->channels & ~3;
    int32_t c;
    for (c = 0; c < C4; c += 4, h += 4) { /* halves in order (c0, c2), (c1, c3) of each word pair */
        h[0] = (int16_t)(2 * (gate[c] - p->gate_zp));
        h[1] = (int16_t)(2 * (gate[c + 2] - p->gate_zp));
        h[2] = (int16_t)(2 * (gate[c + 1] - p->gate_zp));
        h[3] = (int16_t)(2 * (gate[c + 3] - p->gate_zp));
    }
    if (p->act_min == -128 && p->act_max == 127) {
        scale_body(p, x, y, gate2, gate, 0);
    } else {
        scale_body(p, x, y, gate2, gate, 1);
    }
}

void mnv3c_squeeze_excite_s8_arm_dsp(const mnv3c_squeeze_excite_params *p, const int8_t *x, int8_t *y,
                                     void *scratch)
{
    int8_t *pooled_then_gate = (int8_t *)scratch, *r = pooled_then_gate + p->channels;
    pool(p, x, pooled_then_gate);
    mnv3c_dense_s8_arm_dsp(&p->fc1, pooled_then_gate, r, NULL);
    mnv3c_dense_s8_arm_dsp(&p->fc2, r, pooled_then_gate, NULL);
    scale(p, x, y, scratch);
}

size_t mnv3c_squeeze_excite_s8_arm_dsp_scratch_bytes(const mnv3c_squeeze_excite_params *p)
{
    return table_offset(p) + 2u * (((size_t)p->channels + 7u) & ~(size_t)7u);
}
