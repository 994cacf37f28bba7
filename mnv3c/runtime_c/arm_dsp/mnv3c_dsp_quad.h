/*
 * mnv3c_dsp_quad.h - the four-pixel x two-output-channel SMLAD product of conv1x1_s8_arm_dsp.c.
 *
 * Against mnv3c_dsp_gemm.h's two pixels x four channels, each weight word widened by SXTB16 feeds
 * four pixels instead of two: per group of four values 2 LDR + 4 SXTB16 of the weights, 4 LDRD of
 * the inputs and 16 SMLAD = 32 MACs in 26 instructions (30 there), plus 1.5 for the loop.
 * Operands:
 *   - x: the K values of four pixels widened by mnv3c_dsp_widen_quad into K4 / 4 groups of eight words
 *         [SXTB16(x0), SXTB16(x1), SXTB16(x2), SXTB16(x3), SXTB16(ROR(x0, 8)), ..., SXTB16(ROR(x3, 8))]
 *     (pixel x_i's (c0, c2) pairs, then its (c1, c3) pairs).
 *   - w: the "pointwise_dsp" weights (mnv3c_dsp_gemm.h) read two channels at a time: per group the
 *     words A (o0, o1: c0, c2) and C (o0, o1: c1, c3) at offsets 0 and 8 give channels o0 and o1, the
 *     words B and D at offsets 4 and 12 channels o2 and o3; one pointer steps 16 bytes per group.
 * The sums start at the table's biases (short modes) or 0 (general) and are exact int32 (SMLAD wraps
 * like the portable sums; the quantizer bounds them).
 */
#ifndef MNV3C_DSP_QUAD_H
#define MNV3C_DSP_QUAD_H

#include "mnv3c_dsp_gemm.h"

/* Widens n values of four pixels into ceil(n / 4) groups of eight words at buf. */
static inline void mnv3c_dsp_widen_quad(const int8_t *const x[4], int32_t n, int32_t *buf)
{
    int32_t c, i;
    for (c = 0; c < n; c += 4, buf += 8) {
        for (i = 0; i < 4; ++i) {
            const int32_t v = mnv3c_dsp_load4(x[i] + c, n - c);
            buf[i] = __sxtb16(v);
            buf[4 + i] = mnv3c_dsp_sxtb16_ror8(v);
        }
    }
}

/* Four SMLAD: the weight pairs of channels a (r2) and b (r3) against two pixels' pairs (r0, r1). */
#define MNV3C_DSP_QUAD4(A0, B0, A1, B1)  \
    "ldrd r0, r1, [r12], #8\n\t"           \
    "smlad " A0 ", r0, r2, " A0 "\n\t"     \
    "smlad " B0 ", r0, r3, " B0 "\n\t"     \
    "smlad " A1 ", r1, r2, " A1 "\n\t"     \
    "smlad " B1 ", r1, r3, " B1 "\n\t"
#define MNV3C_DSP_QUAD_GROUP                  \
    "ldr r3, [lr], #16\n\t"                    \
    "sxtb16 r2, r3\n\t"                        \
    "sxtb16 r3, r3, ror #8\n\t"                \
    MNV3C_DSP_QUAD4("r4", "r8", "r5", "r9")    \
    MNV3C_DSP_QUAD4("r6", "r10", "r7", "r11")  \
    "ldr r3, [lr, #-8]\n\t"                    \
    "sxtb16 r2, r3\n\t"                        \
    "sxtb16 r3, r3, ror #8\n\t"                \
    MNV3C_DSP_QUAD4("r4", "r8", "r5", "r9")    \
    MNV3C_DSP_QUAD4("r6", "r10", "r7", "r11")

/* The short stage of one channel of the four pixels (sums in A0..A3), its {mx, k, r} by LDM from r3;
 * the table base and the output stride wait at [sp] and [sp, #4]; stores at [r12 + I + i * stride]. */
#define MNV3C_DSP_QUAD_OUT(A0, A1, A2, A3, I, LUT)                   \
    "ldm r3!, {r0, r1, r2}\n\t"                                       \
    "smmlar " A0 ", " A0 ", r0, " A0 "\n\t"                           \
    "smmlar " A1 ", " A1 ", r0, " A1 "\n\t"                           \
    "smmlar " A2 ", " A2 ", r0, " A2 "\n\t"                           \
    "smmlar " A3 ", " A3 ", r0, " A3 "\n\t"                           \
    "sub " A0 ", " A0 ", " A0 ", lsr #31\n\t"                         \
    "sub " A1 ", " A1 ", " A1 ", lsr #31\n\t"                         \
    "sub " A2 ", " A2 ", " A2 ", lsr #31\n\t"                         \
    "sub " A3 ", " A3 ", " A3 ", lsr #31\n\t"                         \
    "add " A0 ", " A0 ", r1\n\t"                                      \
    "add " A1 ", " A1 ", r1\n\t"                                      \
    "add " A2 ", " A2 ", r1\n\t"                                      \
    "add " A3 ", " A3 ", r1\n\t"                                      \
    "asr " A0 ", " A0 ", r2\n\t"                                      \
    "asr " A1 ", " A1 ", r2\n\t"                                      \
    "asr " A2 ", " A2 ", r2\n\t"                                      \
    "asr " A3 ", " A3 ", r2\n\t"                                      \
    "ssat " A0 ", #8, " A0 "\n\t"                                     \
    "ssat " A1 ", #8, " A1 "\n\t"                                     \
    "ssat " A2 ", #8, " A2 "\n\t"                                     \
    "ssat " A3 ", #8, " A3 "\n\t"                                     \
    "ldrd r0, r1, [sp]\n\t"                                           \
    LUT                                                               \
    "add r2, r12, #" I "\n\t"                                         \
    "strb " A0 ", [r2]\n\t"                                           \
    "strb " A1 ", [r2, r1]\n\t"                                       \
    "strb " A2 ", [r2, r1, lsl #1]\n\t"                               \
    "add r2, r2, r1, lsl #1\n\t"                                      \
    "strb " A3 ", [r2, r1]\n\t"
#define MNV3C_DSP_QUAD_LUT(A0, A1, A2, A3)                                              \
    "ldrb " A0 ", [r0, " A0 "]\n\t" "ldrb " A1 ", [r0, " A1 "]\n\t"                      \
    "ldrb " A2 ", [r0, " A2 "]\n\t" "ldrb " A3 ", [r0, " A3 "]\n\t"

/*
 * Output channels o, o + 1 (o even) of four pixels from `groups` (>= 1) widened groups (the block
 * weights at w: "pointwise_dsp" + 16 * groups * (o >> 2) + 4 * ((o >> 1) & 1)). y: pixel 0's outputs,
 * pixel i's at y + i * out_c; channels at or past out_c are not stored.
 */
MNV3C_DSP_INLINE void mnv3c_dsp_quad_pair(const int32_t *xbuf, int32_t groups, const int8_t *w,
                                          const mnv3c_dsp_out *s, int32_t o, int8_t *y, int mode)
{
    register int32_t a0 __asm__("r4"), a1 __asm__("r5"), a2 __asm__("r6"), a3 __asm__("r7");
    register int32_t b0 __asm__("r8"), b1 __asm__("r9"), b2 __asm__("r10"), b3 __asm__("r11");
    const int32_t *const tab = s->mult + (o >> 2) * MNV3C_DSP_TABLE_BLOCK;
    {
        /* plain initializers: cppcheck misreads expressions after an asm register */
        const int32_t *const start = mode != MNV3C_DSP_GENERAL ? tab + (o & 3) : mnv3c_dsp_zero_start;
        const int32_t *const end = xbuf + 8 * groups;
        register int32_t x0 __asm__("r0"), x1 __asm__("r1");
        register const int32_t *we __asm__("r2") = start;
        register const int32_t *wv __asm__("r3") = end;
        register const int32_t *xb __asm__("r12") = xbuf;
        register const int8_t *wp __asm__("lr") = w;
        __asm__ volatile(
            "str r3, [sp, #-8]!\n\t"
            "ldrd r4, r8, [r2]\n\t"
            "mov r5, r4\n\t"
            "mov r6, r4\n\t"
            "mov r7, r4\n\t"
            "mov r9, r8\n\t"
            "mov r10, r8\n\t"
            "mov r11, r8\n\t"
            "sub r0, r3, r12\n\t"
            "tst r0, #32\n\t"
            "bne 2f\n\t"
            "1:\n\t"
            MNV3C_DSP_QUAD_GROUP
            "2:\n\t"
            MNV3C_DSP_QUAD_GROUP
            "ldr r3, [sp]\n\t"
            "cmp r12, r3\n\t"
            "bne 1b\n\t"
            "add sp, sp, #8\n\t"
            : "=&r"(a0), "=&r"(a1), "=&r"(a2), "=&r"(a3), "=&r"(b0), "=&r"(b1), "=&r"(b2), "=&r"(b3), "=&r"(x0),
              "=&r"(x1), "+r"(we), "+r"(wv), "+r"(xb), "+r"(wp)
            :
            : "cc", "memory");
    }
    if ((mode == MNV3C_DSP_SHORT || mode == MNV3C_DSP_SHORT_LUT) && o + 2 <= s->out_c) {
        const int8_t *const lut128 = s->lut128;
        const int32_t out_c = s->out_c;
        const int32_t *const params = tab + 4 + 3 * (o & 3);
        int8_t *const yo = y + o;
        register const int8_t *lut __asm__("r0") = lut128;
        register int32_t stride __asm__("r1") = out_c;
        register int32_t r __asm__("r2");
        register const int32_t *ch __asm__("r3") = params;
        register int8_t *ry __asm__("r12") = yo;
        if (mode == MNV3C_DSP_SHORT_LUT) {
            __asm__ volatile(
                "push {r0, r1}\n\t"
                MNV3C_DSP_QUAD_OUT("r4", "r5", "r6", "r7", "0", MNV3C_DSP_QUAD_LUT("r4", "r5", "r6", "r7"))
                MNV3C_DSP_QUAD_OUT("r8", "r9", "r10", "r11", "1", MNV3C_DSP_QUAD_LUT("r8", "r9", "r10", "r11"))
                "add sp, sp, #8\n\t"
                : "+r"(a0), "+r"(a1), "+r"(a2), "+r"(a3), "+r"(b0), "+r"(b1), "+r"(b2), "+r"(b3), "+r"(lut),
                  "+r"(stride), "=&r"(r), "+r"(ch)
                : "r"(ry)
                : "cc", "memory");
        } else {
            __asm__ volatile(
                "push {r0, r1}\n\t"
                MNV3C_DSP_QUAD_OUT("r4", "r5", "r6", "r7", "0", "")
                MNV3C_DSP_QUAD_OUT("r8", "r9", "r10", "r11", "1", "")
                "add sp, sp, #8\n\t"
                : "+r"(a0), "+r"(a1), "+r"(a2), "+r"(a3), "+r"(b0), "+r"(b1), "+r"(b2), "+r"(b3), "+r"(lut),
                  "+r"(stride), "=&r"(r), "+r"(ch)
                : "r"(ry)
                : "cc", "memory");
        }
        return;
    }
    {
        const int32_t sums[8] = {a0, a1, a2, a3, b0, b1, b2, b3};
        int32_t i, j;
        for (j = 0; j < 2 && o + j < s->out_c; ++j) {
            for (i = 0; i < 4; ++i) {
                y[i * s->out_c + o + j] = mnv3c_dsp_requant(s, o + j, sums[4 * j + i], mode);
            }
        }
    }
}

/*
 * The short stage of one channel of the four pixels in a row (mnv3c_dsp_quad_row): sums A0..A3, {mx, k, r}
 * by LDM from the params cursor r3, [the table base at [sp, #20] and] the stride at [sp, #24]; stores
 * at [r12 + I + i * stride].
 */
#define MNV3C_DSP_ROW_OUT(A0, A1, A2, A3, I, LUT)                    \
    "ldm r3!, {r0, r1, r2}\n\t"                                       \
    "smmlar " A0 ", " A0 ", r0, " A0 "\n\t"                           \
    "smmlar " A1 ", " A1 ", r0, " A1 "\n\t"                           \
    "smmlar " A2 ", " A2 ", r0, " A2 "\n\t"                           \
    "smmlar " A3 ", " A3 ", r0, " A3 "\n\t"                           \
    "sub " A0 ", " A0 ", " A0 ", lsr #31\n\t"                         \
    "sub " A1 ", " A1 ", " A1 ", lsr #31\n\t"                         \
    "sub " A2 ", " A2 ", " A2 ", lsr #31\n\t"                         \
    "sub " A3 ", " A3 ", " A3 ", lsr #31\n\t"                         \
    "add " A0 ", " A0 ", r1\n\t"                                      \
    "add " A1 ", " A1 ", r1\n\t"                                      \
    "add " A2 ", " A2 ", r1\n\t"                                      \
    "add " A3 ", " A3 ", r1\n\t"                                      \
    "asr " A0 ", " A0 ", r2\n\t"                                      \
    "asr " A1 ", " A1 ", r2\n\t"                                      \
    "asr " A2 ", " A2 ", r2\n\t"                                      \
    "asr " A3 ", " A3 ", r2\n\t"                                      \
    "ssat " A0 ", #8, " A0 "\n\t"                                     \
    "ssat " A1 ", #8, " A1 "\n\t"                                     \
    "ssat " A2 ", #8, " A2 "\n\t"                                     \
    "ssat " A3 ", #8, " A3 "\n\t"                                     \
    LUT                                                               \
    "add r2, r12, #" I "\n\t"                                         \
    "strb " A0 ", [r2]\n\t"                                           \
    "strb " A1 ", [r2, r1]\n\t"                                       \
    "strb " A2 ", [r2, r1, lsl #1]\n\t"                               \
    "add r2, r2, r1, lsl #1\n\t"                                      \
    "strb " A3 ", [r2, r1]\n\t"
#define MNV3C_DSP_ROW_LUT(A0, A1, A2, A3) "ldrd r0, r1, [sp, #20]\n\t" MNV3C_DSP_QUAD_LUT(A0, A1, A2, A3)
#define MNV3C_DSP_ROW_NOLUT "ldr r1, [sp, #24]\n\t"

/*
 * Output channels 0 .. 2 * npairs - 1 (npairs >= 1, 2 * npairs <= out_c) of four pixels in the SHORT or
 * SHORT_LUT mode (a compile-time constant), the whole loop over channel pairs in one asm block: per pair
 * the product of mnv3c_dsp_quad_pair and the written-out stage, with the cursors (table, weights, output)
 * kept in a frame on the stack between pairs instead of recomputed from o by compiled C (about 60
 * instructions per pair before). The frame (ten words, pushed by the asm, offsets fixed in the code):
 *   0 end of xbuf, 4 groups odd (the loop enters at its second group), 8 xbuf,
 *   12 the pair's biases in the table, 16 its {mx, k, r}, 20 lut128, 24 out_c (the output stride),
 *   28 y + o, 32 y + 2 * npairs, 36 16 * groups - 4 (and w, read into lr).
 * Pairs alternate within a table block of four channels: the even pair's biases at +0 and parameters
 * at +16 bytes, the odd pair's at +8 and +40, the next block at +64; the even pair's weights at w, the
 * odd pair's at w + 4, the next block's at w + 16 * groups. After a pair the parameter cursor is 24
 * bytes on (two LDM): 40 or 56 past the bias cursor, which tells the pair's parity.
 */
MNV3C_DSP_INLINE void mnv3c_dsp_quad_row(const int32_t *xbuf, int32_t groups, const int8_t *w, const mnv3c_dsp_out *s,
                                         int32_t npairs, int8_t *y, int mode)
{
    const int32_t frame[11] = {(int32_t)(uintptr_t)(xbuf + 8 * groups), groups & 1, (int32_t)(uintptr_t)xbuf,
                               (int32_t)(uintptr_t)s->mult, (int32_t)(uintptr_t)(s->mult + 4),
                               (int32_t)(uintptr_t)s->lut128, s->out_c, (int32_t)(uintptr_t)y,
                               (int32_t)(uintptr_t)(y + 2 * npairs), 16 * groups - 4,
                               (int32_t)(uintptr_t)w};
    const int32_t *f = frame;
#define MNV3C_DSP_ROW(STAGE_A, STAGE_B)                                                           \
    __asm__ volatile(                                                                                 \
        "ldm %[f], {r1, r2, r3, r4, r5, r6, r7, r8, r9, r10, r11}\n\t"                                \
        "push {r1, r2, r3, r4, r5, r6, r7, r8, r9, r10}\n\t"                                          \
        "mov lr, r11\n\t"                                                                             \
        "0:\n\t"                                                                                      \
        "ldr r3, [sp, #12]\n\t"                                                                       \
        "ldrd r4, r8, [r3]\n\t"                                                                       \
        "mov r5, r4\n\t"                                                                              \
        "mov r6, r4\n\t"                                                                              \
        "mov r7, r4\n\t"                                                                              \
        "mov r9, r8\n\t"                                                                              \
        "mov r10, r8\n\t"                                                                             \
        "mov r11, r8\n\t"                                                                             \
        "ldrd r0, r12, [sp, #4]\n\t"                                                                  \
        "cbnz r0, 2f\n\t"                                                                             \
        "1:\n\t"                                                                                      \
        MNV3C_DSP_QUAD_GROUP                                                                          \
        "2:\n\t"                                                                                      \
        MNV3C_DSP_QUAD_GROUP                                                                          \
        "ldr r3, [sp]\n\t"                                                                            \
        "cmp r12, r3\n\t"                                                                             \
        "bne 1b\n\t"                                                                                  \
        "ldr r3, [sp, #16]\n\t"                                                                       \
        "ldr r12, [sp, #28]\n\t"                                                                      \
        STAGE_A                                                                                       \
        STAGE_B                                                                                       \
        "ldr r0, [sp, #12]\n\t"                                                                       \
        "ldr r1, [sp, #36]\n\t"                                                                       \
        "sub r2, r3, r0\n\t"                                                                          \
        "tst r2, #16\n\t"                                                                             \
        "itee eq\n\t"                                                                                 \
        "addeq r0, r0, #8\n\t"                                                                        \
        "movne r0, r3\n\t"                                                                            \
        "addne r3, r3, #16\n\t"                                                                       \
        "ite eq\n\t"                                                                                  \
        "subeq lr, lr, r1\n\t"                                                                        \
        "subne lr, lr, #4\n\t"                                                                        \
        "strd r0, r3, [sp, #12]\n\t"                                                                  \
        "ldr r1, [sp, #32]\n\t"                                                                       \
        "add r12, r12, #2\n\t"                                                                        \
        "str r12, [sp, #28]\n\t"                                                                      \
        "cmp r12, r1\n\t"                                                                             \
        "bne 0b\n\t"                                                                                  \
        "add sp, sp, #40\n\t"                                                                         \
        : [f] "+l"(f)                                                                                 \
        :                                                                                             \
        : "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "r12", "lr", "cc", "memory")
    if (mode == MNV3C_DSP_SHORT_LUT) {
        MNV3C_DSP_ROW(MNV3C_DSP_ROW_OUT("r4", "r5", "r6", "r7", "0", MNV3C_DSP_ROW_LUT("r4", "r5", "r6", "r7")),
                      MNV3C_DSP_ROW_OUT("r8", "r9", "r10", "r11", "1", MNV3C_DSP_ROW_LUT("r8", "r9", "r10", "r11")));
    } else {
        MNV3C_DSP_ROW(MNV3C_DSP_ROW_OUT("r4", "r5", "r6", "r7", "0", MNV3C_DSP_ROW_NOLUT),
                      MNV3C_DSP_ROW_OUT("r8", "r9", "r10", "r11", "1", MNV3C_DSP_ROW_NOLUT));
    }
#undef MNV3C_DSP_ROW
}

#undef MNV3C_DSP_QUAD4
#undef MNV3C_DSP_QUAD_GROUP
#undef MNV3C_DSP_QUAD_OUT
#undef MNV3C_DSP_QUAD_LUT
#undef MNV3C_DSP_ROW_OUT
#undef MNV3C_DSP_ROW_LUT
#undef MNV3C_DSP_ROW_NOLUT

#endif /* MNV3C_DSP_QUAD_H */
