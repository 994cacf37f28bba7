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
 * Two drivers: mnv3c_dsp_quad_pair (one pair, the output stage in C: general and clamp modes, what is
 * left) and mnv3c_dsp_quad_row (SHORT and SHORT_LUT: all pairs of a stream in one asm loop, per pair
 * 16 instructions around the product and 6.5 per output value in the stage plus the table, against
 * about 55 and 7 with the pair loop in C).
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

#define MNV3C_DSP_QUAD_LUT(A0, A1, A2, A3)                                              \
    "ldrb " A0 ", [r0, " A0 "]\n\t" "ldrb " A1 ", [r0, " A1 "]\n\t"                      \
    "ldrb " A2 ", [r0, " A2 "]\n\t" "ldrb " A3 ", [r0, " A3 "]\n\t"

/*
 * Output channels o, o + 1 (o even) of four pixels from `groups` (>= 1) widened groups (the block
 * weights at w: "pointwise_dsp" + 16 * groups * (o >> 2) + 4 * ((o >> 1) & 1)). y: pixel 0's outputs,
 * pixel i's at y + i * out_c; channels at or past out_c are not stored. The output stage in C
 * (mnv3c_dsp_requant): for the general and clamp modes and the last channel of an odd out_c; the
 * whole pairs of the SHORT and SHORT_LUT modes go through mnv3c_dsp_quad_row.
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

/* The first group of a pair, its sums started at the biases of channels a (r4) and b (r8): the first
 * four SMLAD of each pixel take them as the addend (instead of six MOV copies), the two pixels 2, 3
 * pairs loaded into their own sums' registers r6, r7 and read before those are written. */
#define MNV3C_DSP_QUAD_FIRST                  \
    "ldr r3, [lr], #16\n\t"                    \
    "sxtb16 r2, r3\n\t"                        \
    "sxtb16 r3, r3, ror #8\n\t"                \
    "ldrd r0, r1, [r12], #8\n\t"               \
    "ldrd r6, r7, [r12], #8\n\t"               \
    "smlad r5, r1, r2, r4\n\t"                 \
    "smlad r9, r1, r3, r8\n\t"                 \
    "smlad r10, r6, r3, r8\n\t"                \
    "smlad r11, r7, r3, r8\n\t"                \
    "smlad r6, r6, r2, r4\n\t"                 \
    "smlad r7, r7, r2, r4\n\t"                 \
    "smlad r4, r0, r2, r4\n\t"                 \
    "smlad r8, r0, r3, r8\n\t"                 \
    "ldr r3, [lr, #-8]\n\t"                    \
    "sxtb16 r2, r3\n\t"                        \
    "sxtb16 r3, r3, ror #8\n\t"                \
    MNV3C_DSP_QUAD4("r4", "r8", "r5", "r9")    \
    MNV3C_DSP_QUAD4("r6", "r10", "r7", "r11")

/*
 * The short stage of one channel of the four pixels in a row (mnv3c_dsp_quad_row): sums A0..A3, {mx, k, r}
 * by LDM from the parameter cursor r3, then LOAD (from the frame: the table base into r0 and the table,
 * and for channel b the stride into r1) and STORE (channel b: both channels' bytes).
 */
#define MNV3C_DSP_ROW_OUT(A0, A1, A2, A3, LOAD, STORE)               \
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
    LOAD(A0, A1, A2, A3)                                              \
    STORE(A0, A1, A2, A3)
#define MNV3C_DSP_ROW_LUT(A0, A1, A2, A3) "ldrd r0, r1, [sp, #20]\n\t" MNV3C_DSP_QUAD_LUT(A0, A1, A2, A3)
#define MNV3C_DSP_ROW_LUT_A(A0, A1, A2, A3) "ldr r0, [sp, #20]\n\t" MNV3C_DSP_QUAD_LUT(A0, A1, A2, A3)
#define MNV3C_DSP_ROW_NOLUT(A0, A1, A2, A3) "ldr r1, [sp, #24]\n\t"
#define MNV3C_DSP_ROW_NONE(A0, A1, A2, A3)
/* Both channels of each pixel as one halfword (channel b's byte inserted above channel a's, r4-r7):
 * four STRH at [r12 + i * stride] (unaligned where out_c or y is odd: Armv7-M and Armv8-M
 * Mainline do unaligned STRH unless CCR.UNALIGN_TRP is set, which the runtime never sets). */
#define MNV3C_DSP_ROW_STORE(B0, B1, B2, B3)                         \
    "bfi r4, " B0 ", #8, #8\n\t"                                      \
    "bfi r5, " B1 ", #8, #8\n\t"                                      \
    "bfi r6, " B2 ", #8, #8\n\t"                                      \
    "bfi r7, " B3 ", #8, #8\n\t"                                      \
    "strh r4, [r12]\n\t"                                              \
    "strh r5, [r12, r1]\n\t"                                          \
    "add r2, r12, r1, lsl #1\n\t"                                     \
    "strh r6, [r2]\n\t"                                               \
    "strh r7, [r2, r1]\n\t"

/*
 * The frame of mnv3c_dsp_quad_row: one stream of channel pairs (the even pairs o = 0, 4, 8, ... or the
 * odd ones o = 2, 6, ...) of a layer, set once per call by mnv3c_dsp_row_init, its output cursor per
 * four pixels by mnv3c_dsp_row_at. Within a stream every step is the same: the table 64 bytes on, the
 * weights 16 * groups bytes on (where the product loop leaves its pointer), the output 4 bytes on.
 * Words (the asm's stack offsets are 4 times the index):
 *   0 end of xbuf, 1 (groups - 1) odd (the loop enters at its second group), 2 xbuf, 3 the first pair's
 *   biases in the table, 4 its {mx, k, r}, 5 lut128, 6 out_c (the output stride), 7 y + o, 8 its end,
 *   9 the first pair's weights (read into lr, not pushed).
 */
typedef struct {
    int32_t word[10];
} mnv3c_dsp_row_frame;

/* The frame of the even (odd = 0) or odd (odd = 1) stream of a layer; groups >= 2. */
static inline void mnv3c_dsp_row_init(mnv3c_dsp_row_frame *f, const int32_t *xbuf, int32_t groups, const int8_t *w,
                                      const mnv3c_dsp_out *s, int32_t odd)
{
    f->word[0] = (int32_t)(uintptr_t)(xbuf + 8 * groups);
    f->word[1] = (groups - 1) & 1;
    f->word[2] = (int32_t)(uintptr_t)xbuf;
    f->word[3] = (int32_t)(uintptr_t)(s->mult + 2 * odd);
    f->word[4] = (int32_t)(uintptr_t)(s->mult + 4 + 6 * odd);
    f->word[5] = (int32_t)(uintptr_t)s->lut128;
    f->word[6] = s->out_c;
    f->word[9] = (int32_t)(uintptr_t)(w + 4 * odd);
}

/* Points the stream at the four pixels whose pixel 0's outputs are at y: its pairs' first channels
 * 2 * odd, 2 * odd + 4, ... below out_c - 1 (at least one: the caller skips an empty stream). */
static inline void mnv3c_dsp_row_at(mnv3c_dsp_row_frame *f, int8_t *y, int32_t npairs, int32_t odd)
{
    f->word[7] = (int32_t)(uintptr_t)(y + 2 * odd);
    f->word[8] = (int32_t)(uintptr_t)(y + 2 * odd + 4 * ((npairs + 1 - odd) >> 1));
}

/*
 * One stream of channel pairs of four pixels in the SHORT or SHORT_LUT mode (a compile-time constant),
 * its whole loop in one asm block: per pair the first group (MNV3C_DSP_QUAD_FIRST), the product loop of
 * mnv3c_dsp_quad_pair over the other groups and the written-out stage, with the cursors in the frame
 * (words 0-8 copied onto the stack by one LDM and one PUSH) instead of recomputed from o by compiled C.
 */
MNV3C_DSP_INLINE void mnv3c_dsp_quad_row(const mnv3c_dsp_row_frame *frame, int mode)
{
    const int32_t *f = frame->word;
#define MNV3C_DSP_ROW(LOAD_A, LOAD)                                                                    \
    __asm__ volatile(                                                                                 \
        "ldm %[f], {r1, r2, r3, r4, r5, r6, r7, r8, r9, r10}\n\t"                                     \
        "push {r1, r2, r3, r4, r5, r6, r7, r8, r9}\n\t"                                               \
        "mov lr, r10\n\t"                                                                             \
        "0:\n\t"                                                                                      \
        "ldr r3, [sp, #12]\n\t"                                                                       \
        "ldrd r4, r8, [r3]\n\t"                                                                       \
        "ldr r12, [sp, #8]\n\t"                                                                       \
        MNV3C_DSP_QUAD_FIRST                                                                          \
        "ldr r0, [sp, #4]\n\t"                                                                        \
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
        MNV3C_DSP_ROW_OUT("r4", "r5", "r6", "r7", LOAD_A, MNV3C_DSP_ROW_NONE)                         \
        MNV3C_DSP_ROW_OUT("r8", "r9", "r10", "r11", LOAD, MNV3C_DSP_ROW_STORE)                        \
        "add r3, r3, #40\n\t"                                                                         \
        "ldr r0, [sp, #12]\n\t"                                                                       \
        "add r0, r0, #64\n\t"                                                                         \
        "strd r0, r3, [sp, #12]\n\t"                                                                  \
        "ldr r1, [sp, #32]\n\t"                                                                       \
        "add r12, r12, #4\n\t"                                                                        \
        "str r12, [sp, #28]\n\t"                                                                      \
        "cmp r12, r1\n\t"                                                                             \
        "bne 0b\n\t"                                                                                  \
        "add sp, sp, #36\n\t"                                                                         \
        : [f] "+l"(f)                                                                                 \
        :                                                                                             \
        : "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "r12", "lr", "cc", "memory")
    if (mode == MNV3C_DSP_SHORT_LUT) {
        MNV3C_DSP_ROW(MNV3C_DSP_ROW_LUT_A, MNV3C_DSP_ROW_LUT);
    } else {
        MNV3C_DSP_ROW(MNV3C_DSP_ROW_NONE, MNV3C_DSP_ROW_NOLUT);
    }
#undef MNV3C_DSP_ROW
}

#undef MNV3C_DSP_QUAD4
#undef MNV3C_DSP_QUAD_GROUP
#undef MNV3C_DSP_QUAD_LUT
#undef MNV3C_DSP_ROW_OUT
#undef MNV3C_DSP_ROW_LUT
#undef MNV3C_DSP_ROW_NOLUT
#undef MNV3C_DSP_ROW_STORE
#undef MNV3C_DSP_ROW_LUT_A
#undef MNV3C_DSP_ROW_NONE
#undef MNV3C_DSP_QUAD_FIRST

#endif /* MNV3C_DSP_QUAD_H */
