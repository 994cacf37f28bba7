/*
 * mnv3c_dsp_gemm.h - the two-pixel x four-output-channel SMLAD product shared by the arm_dsp
 * convolutions (conv1x1_s8_arm_dsp.c, conv2d_s8_arm_dsp.c, dense_s8_arm_dsp.c).
 *
 * Operands:
 *   - x: the K reduction values of two pixels p, q, widened by mnv3c_dsp_widen_pair into a buffer of
 *     K4 / 4 groups (K4 = K rounded up to 4, zero-padded), each group four words
 *         [SXTB16(xp), SXTB16(xq), SXTB16(ROR(xp, 8)), SXTB16(ROR(xq, 8))]
 *     = the (c0, c2) and (c1, c3) int16 pairs of the group's four values c0..c3, pixel p then q.
 *   - w: the weights re-laid out at compile time (mnv3c/codegen/layouts.py "pointwise_dsp"): out_c
 *     padded to a multiple of 4 with zero rows, K to K4 with zeros, then per block of four output
 *     channels o0..o3 and group of four values four words
 *         A = [o0c0 o1c0 o0c2 o1c2]  B = [o2c0 o3c0 o2c2 o3c2]  C = [o0c1 o1c1 o0c3 o1c3]  D = [o2c1 o3c1 o2c3 o3c3]
 *     so that SXTB16(A) = (w[o0][c0], w[o0][c2]) and SXTB16(ROR(A, 8)) = (w[o1][c0], w[o1][c2]).
 * Per group the inner loop is 2 LDRD + 4 LDR + 8 SXTB16 + 16 SMLAD = 32 MACs in 30 instructions,
 * plus 3 for the loop. Output channels past out_c and a missing pixel q (zero inputs) are computed
 * and dropped, never stored. In the short output modes the sums start at the table's biases
 * (mnv3c_dsp_requant.h), in the general one at 0. Sums are exact int32: SMLAD wraps like the portable kernels' int32
 * sums, and the quantizer bounds them (128 * sum|w| + |bias| < 2^31).
 */
#ifndef MNV3C_DSP_GEMM_H
#define MNV3C_DSP_GEMM_H

#include <arm_acle.h>
#include <stdint.h>

#include "mnv3c_dsp_requant.h"

#if !defined(__ARM_FEATURE_DSP) || __ARM_FEATURE_DSP != 1
#error "the arm_dsp kernels need the Arm DSP extension (-mcpu=cortex-m4/m7/m33)"
#endif

/* A word of a weights array (int8_t, aligned to 16 bytes by the code generator) read as int32. */
typedef int32_t mnv3c_dsp_word __attribute__((may_alias));

/* SXTB16(ROR(v, 8)): bytes 1 and 3 as two int16 (GCC 12's arm_acle.h has no __ror). */
static inline int32_t mnv3c_dsp_sxtb16_ror8(int32_t v)
{
    int32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(v));
    return r;
}

/* Four int8 values from any address as one word; fewer than four valid bytes are zero-padded. */
static inline int32_t mnv3c_dsp_load4(const int8_t *x, int32_t valid)
{
    int32_t v = 0;
    int32_t i;
    if (valid >= 4) {
        __builtin_memcpy(&v, x, 4); /* one unaligned LDR */
        return v;
    }
    for (i = 0; i < valid; ++i) {
        v |= (int32_t)((uint32_t)(uint8_t)x[i] << (8 * i));
    }
    return v;
}

/* Widens n values of pixels p (xp) and q (xq; NULL: zeros) into ceil(n / 4) groups at buf. */
static inline void mnv3c_dsp_widen_pair(const int8_t *xp, const int8_t *xq, int32_t n, int32_t *buf)
{
    int32_t c;
    for (c = 0; c < n; c += 4, buf += 4) {
        const int32_t a = mnv3c_dsp_load4(xp + c, n - c);
        const int32_t b = xq != NULL ? mnv3c_dsp_load4(xq + c, n - c) : 0;
        buf[0] = __sxtb16(a);
        buf[1] = __sxtb16(b);
        buf[2] = mnv3c_dsp_sxtb16_ror8(a);
        buf[3] = mnv3c_dsp_sxtb16_ror8(b);
    }
}

/* One SMLAD step: x pairs xa (pixel p), xc (pixel q) against the next weight word. */
#define MNV3C_DSP_STEP(A, B, QA, QB)                  \
    "ldr %[w0], [%[w]], #4\n\t"                       \
    "sxtb16 %[w1], %[w0]\n\t"                         \
    "sxtb16 %[w0], %[w0], ror #8\n\t"                 \
    "smlad %[" A "], %[xa], %[w1], %[" A "]\n\t"      \
    "smlad %[" QA "], %[xc], %[w1], %[" QA "]\n\t"    \
    "smlad %[" B "], %[xa], %[w0], %[" B "]\n\t"      \
    "smlad %[" QB "], %[xc], %[w0], %[" QB "]\n\t"

/* Zero start sums (the general output stage adds the bias after the sums). */
static const int32_t mnv3c_dsp_zero_start[4] = {0, 0, 0, 0};

/*
 * The sums of one block of four output channels of both pixels, started at start[0..3]: 14 live
 * registers (8 sums, 2 x pairs, 2 weight pairs, 2 pointers), all named so that the sums stay in r4-r11
 * for the written-out output stage (mnv3c_dsp_store_pq). The loop bound comes in r3, is pushed, and
 * is re-read from the stack each iteration of two groups (an odd count enters at the second). A
 * statement macro over the caller's register variables.
 */
/* One group of four values (16 bytes of the widened buffer) of both pixels against a block's weights. */
#define MNV3C_DSP_GEMM_GROUP(STEP)                  \
    "ldrd %[xa], %[xc], [%[xb]], #8\n\t"            \
    STEP("p0", "p1", "q0", "q1")                    \
    STEP("p2", "p3", "q2", "q3")                    \
    "ldrd %[xa], %[xc], [%[xb]], #8\n\t"            \
    STEP("p0", "p1", "q0", "q1")                    \
    STEP("p2", "p3", "q2", "q3")

#define MNV3C_DSP_GEMM_BLOCK(STEP, start, end, xbuf, weights)                                                \
    do {                                                                                                 \
        register int32_t xa __asm__("r0"), xc __asm__("r1");                                             \
        register const int32_t *w0 __asm__("r2") = (start);                                              \
        register const int32_t *w1 __asm__("r3") = (end);                                                \
        register const int32_t *xb __asm__("r12") = (xbuf);                                              \
        register const int8_t *wp __asm__("lr") = (weights);                                             \
        __asm__ volatile(                                                                                \
            "str %[w1], [sp, #-8]!\n\t"                                                                  \
            "ldm %[w0], {r4, r5, r6, r7}\n\t"                                                            \
            "mov r8, r4\n\t"                                                                             \
            "mov r9, r5\n\t"                                                                             \
            "mov r10, r6\n\t"                                                                            \
            "mov r11, r7\n\t"                                                                            \
            "sub %[xa], %[w1], %[xb]\n\t"                                                                \
            "tst %[xa], #16\n\t"                                                                         \
            "bne 2f\n\t"                                                                                 \
            "1:\n\t"                                                                                     \
            MNV3C_DSP_GEMM_GROUP(STEP)                                                                   \
            "2:\n\t"                                                                                     \
            MNV3C_DSP_GEMM_GROUP(STEP)                                                                   \
            "ldr %[w1], [sp]\n\t"                                                                        \
            "cmp %[xb], %[w1]\n\t"                                                                       \
            "bne 1b\n\t"                                                                                 \
            "add sp, sp, #8\n\t"                                                                         \
            : [p0] "=&r"(p0), [p1] "=&r"(p1), [p2] "=&r"(p2), [p3] "=&r"(p3), [q0] "=&r"(q0),            \
              [q1] "=&r"(q1), [q2] "=&r"(q2), [q3] "=&r"(q3), [xb] "+r"(xb), [w] "+r"(wp), [xa] "=&r"(xa), \
              [xc] "=&r"(xc), [w0] "+r"(w0), [w1] "+r"(w1)                                               \
            :                                                                                            \
            : "cc", "memory");                                                                           \
        (weights) = wp;                                                                                  \
    } while (0)

/* `name(xbuf, groups, weights, s, yp, yq, mode)`: all out_c output channels of pixels p, q (yq == NULL:
 * p only) from `groups` (>= 1) widened groups, STEP the product's step on the weights' layout: whole
 * blocks of both pixels in a short mode with the written-out stage, the rest (the general and clamp
 * modes, a last partial block, a lone pixel) through mnv3c_dsp_store_block. */
#define MNV3C_DSP_DEFINE_GEMM_PAIR(name, STEP)                                                           \
    MNV3C_DSP_INLINE void name(const int32_t *xbuf, int32_t groups, const int8_t *weights,               \
                               const mnv3c_dsp_out *s, int8_t *yp, int8_t *yq, int mode)                 \
    {                                                                                                    \
        const int8_t *w = weights;                                                                       \
        const int32_t *const end = xbuf + 4 * groups;                                                    \
        register int32_t p0 __asm__("r4"), p1 __asm__("r5"), p2 __asm__("r6"), p3 __asm__("r7");         \
        register int32_t q0 __asm__("r8"), q1 __asm__("r9"), q2 __asm__("r10"), q3 __asm__("r11");       \
        int32_t o = 0;                                                                                   \
        if ((mode == MNV3C_DSP_SHORT || mode == MNV3C_DSP_SHORT_LUT) && yq != NULL) {                    \
            for (; o + 4 <= s->out_c; o += 4) {                                                          \
                MNV3C_DSP_GEMM_BLOCK(STEP, s->mult + (o >> 2) * MNV3C_DSP_TABLE_BLOCK, end, xbuf, w);    \
                mnv3c_dsp_store_pq(s, o, p0, p1, p2, p3, q0, q1, q2, q3, yp, yq, mode);                  \
            }                                                                                            \
        }                                                                                                \
        for (; o < s->out_c; o += 4) {                                                                   \
            MNV3C_DSP_GEMM_BLOCK(STEP,                                                                   \
                                 mode != MNV3C_DSP_GENERAL ? s->mult + (o >> 2) * MNV3C_DSP_TABLE_BLOCK  \
                                                           : mnv3c_dsp_zero_start,                       \
                                 end, xbuf, w);                                                          \
            {                                                                                            \
                const int32_t sums[8] = {p0, p1, p2, p3, q0, q1, q2, q3};                                \
                mnv3c_dsp_store_block(s, o, sums, yp, yq, mode);                                         \
            }                                                                                            \
        }                                                                                                \
    }

MNV3C_DSP_DEFINE_GEMM_PAIR(mnv3c_dsp_gemm_pair, MNV3C_DSP_STEP)

#undef MNV3C_DSP_STEP

#endif /* MNV3C_DSP_GEMM_H */
