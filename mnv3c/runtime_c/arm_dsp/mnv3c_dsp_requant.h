/*
 * mnv3c_dsp_requant.h - the output stage of the arm_dsp (and arm_mve) kernels: the general
 * MultiplyByQuantizedMultiplier of ../mnv3c_requant.h, and a short exact one that the code generator
 * selects per layer (the kernels' _short entry points).
 *
 * The short output stage. For one output channel with multiplier M in [2^30, 2^31), shift -r with
 * r >= 1 and output zero point zp, the general stage computes
 *     y = clamp8(RDBP(SRDHM(acc, M), r) + zp, lo, hi)                            (docs/ARITHMETIC.md)
 * The code generator stores per channel (codegen/layouts.py "dsp_out_table")
 *     mx = 2M - 2^32 (an int32, negative),  k = 2^(r-1) + zp * 2^r,  r
 * and the kernel computes
 *     t = SMMLAR(acc, mx, acc) = floor((acc * 2^32 + acc * mx + 2^31) / 2^32)     (64-bit inside)
 *       = floor((2 acc M + 2^31) / 2^32) = floor((acc M + 2^30) / 2^31) = SRDHM(acc, M)
 *     v = SSAT8((t - [acc < 0] + k) >> r)          (arithmetic shift: a floor)
 * four instructions and a saturation instead of about fourteen, for every int32 acc. Why it is exact:
 *   - SRDHM(acc, M) = floor((acc M + 2^30) / 2^31) for M != INT32_MIN (../mnv3c_requant.h, mnv3c_srdhm).
 *   - RDBP(t, r) = floor((t - [t < 0] + 2^(r-1)) / 2^r) for r >= 1 (../mnv3c_requant.h, mnv3c_mbqm), and
 *     adding zp inside the floor is adding zp * 2^r to the numerator: RDBP(t, r) + zp = floor((t - [t < 0] + k) / 2^r).
 *   - [acc < 0] may replace [t < 0]: M > 0, so acc >= 0 gives t >= 0, and acc < 0 gives
 *     acc M <= -2^30, t <= 0; they differ only at t = 0 with acc < 0, where floor((k - 1) / 2^r) =
 *     floor(k / 2^r) = zp because 0 <= 2^(r-1) - 1 < 2^(r-1) < 2^r.
 *   - No overflow: |t| <= |acc| (M < 2^31), and the code generator proves |acc| + |k| + 1 < 2^31 for every
 *     input from the weights and bias (plan/kernels.py short_requant_exact), every M in [2^30, 2^31)
 *     (so mx fits an int32) and 1 <= r <= 31.
 *   - SSAT8 then [lo, hi] (both in [-128, 127]) is clamp8 to [lo, hi].
 * tests/test_kernel_variants.py checks it against the general stage under QEMU on edge and random values.
 */
#ifndef MNV3C_DSP_REQUANT_H
#define MNV3C_DSP_REQUANT_H

#include <arm_acle.h>
#include <stdint.h>

#include "mnv3c_kernels.h"
#include "mnv3c_requant.h"

/* For the helpers a kernel instantiates once per output stage: the specialization must happen. */
#define MNV3C_DSP_INLINE static inline __attribute__((always_inline))

/* Output stage modes, a compile-time argument of every kernel body. GENERAL: mnv3c_mbqm, bias added
 * after the sums; the SHORT modes: the short stage, sums started at the bias of the table, and then
 * nothing (act_min -128, act_max 127, no table), the fused table, or any clamp and optional table. */
enum { MNV3C_DSP_GENERAL = 0, MNV3C_DSP_SHORT = 1, MNV3C_DSP_SHORT_LUT = 2, MNV3C_DSP_SHORT_CLAMP = 3 };

/* The short table: per block of four output channels (out_c padded to a multiple of 4) 16 words,
 * the four folded biases, then {mx, k, r} of each channel (the short kernels' out_mult). */
#define MNV3C_DSP_TABLE_BLOCK 16

/* The output stage of a layer, copied into locals so the int8 stores cannot alias it. */
typedef struct {
    const int32_t *bias, *mult; /* general: per channel; short: mult is the table */
    const int8_t *shift;
    int32_t zp, lo, hi;
    const int8_t *lut;
    int32_t out_c;
    const int8_t *lut128; /* lut + 128 (NULL without a table): indexed by the int8 value */
} mnv3c_dsp_out;

/* The output stage of a convolution (conv1x1, conv2d) from its params. */
static inline mnv3c_dsp_out mnv3c_dsp_conv_out(const mnv3c_conv2d_params *p)
{
    const mnv3c_dsp_out s = {p->bias_folded, p->out_mult, p->out_shift, p->output_zp,
                             p->act_min,     p->act_max,  p->lut,       p->out_c,
                             p->lut != NULL ? p->lut + 128 : NULL};
    return s;
}

/* The mode of a _short entry point for its layer's clamp and table. */
static inline int mnv3c_dsp_short_mode(const mnv3c_dsp_out *s)
{
    if (s->lo != -128 || s->hi != 127) {
        return MNV3C_DSP_SHORT_CLAMP;
    }
    return s->lut != NULL ? MNV3C_DSP_SHORT_LUT : MNV3C_DSP_SHORT;
}

/* The short stage up to the saturation: ch = {mx, k, r} of the channel. */
MNV3C_DSP_INLINE int32_t mnv3c_dsp_short(int32_t acc, const int32_t *ch)
{
    int32_t t;
    __asm__("smmlar %0, %1, %2, %1" : "=r"(t) : "r"(acc), "r"(ch[0]));
    t = t - (int32_t)((uint32_t)acc >> 31) + ch[1];
    return __ssat(mnv3c_asr(t, ch[2]), 8);
}

/* What the short stage stores for v in [-128, 127]: the clamp and the table of the mode. */
MNV3C_DSP_INLINE int8_t mnv3c_dsp_short_finish(int32_t v, const mnv3c_dsp_out *s, int mode)
{
    if (mode == MNV3C_DSP_SHORT_CLAMP) {
        v = v < s->lo ? s->lo : (v > s->hi ? s->hi : v);
        return s->lut != NULL ? s->lut128[v] : (int8_t)v;
    }
    return mode == MNV3C_DSP_SHORT_LUT ? s->lut128[v] : (int8_t)v;
}

/* General stage: clamp8(v + zp, lo, hi), then the optional fused table. */
MNV3C_DSP_INLINE int8_t mnv3c_dsp_finish(int32_t v, const mnv3c_dsp_out *s)
{
    const int8_t t = mnv3c_clamp8(v + s->zp, s->lo, s->hi);
    return s->lut != NULL ? s->lut[(int32_t)t + 128] : t;
}

/* Output channel o (o < out_c) of a sum: the short stage (the sum started at the table's bias) or
 * the general one (bias added here). */
MNV3C_DSP_INLINE int8_t mnv3c_dsp_requant(const mnv3c_dsp_out *s, int32_t o, int32_t acc, int mode)
{
    if (mode != MNV3C_DSP_GENERAL) {
        const int32_t *ch = s->mult + (o >> 2) * MNV3C_DSP_TABLE_BLOCK + 4 + 3 * (o & 3);
        return mnv3c_dsp_short_finish(mnv3c_dsp_short(acc, ch), s, mode);
    }
    return mnv3c_dsp_finish(mnv3c_mbqm(acc + s->bias[o], s->mult[o], s->shift[o]), s);
}

/* Where the sums of output channels o .. o + 3 start: their biases in the short modes, else 0. */
MNV3C_DSP_INLINE void mnv3c_dsp_start(const mnv3c_dsp_out *s, int32_t o, int mode, int32_t a[4])
{
    int32_t i;
    for (i = 0; i < 4; ++i) {
        a[i] = mode != MNV3C_DSP_GENERAL ? s->mult[(o >> 2) * MNV3C_DSP_TABLE_BLOCK + i] : 0;
    }
}

/* The short stage of one channel (ch = {mx, k, r}) of pixel p and, when yq != NULL, of pixel q. */
MNV3C_DSP_INLINE void mnv3c_dsp_short_pair(const mnv3c_dsp_out *s, const int32_t *ch, int32_t acc_p, int32_t acc_q,
                                           int8_t *yp, int8_t *yq, int mode)
{
    *yp = mnv3c_dsp_short_finish(mnv3c_dsp_short(acc_p, ch), s, mode);
    if (yq != NULL) {
        *yq = mnv3c_dsp_short_finish(mnv3c_dsp_short(acc_q, ch), s, mode);
    }
}

/*
 * Output channels o .. o + 3 of pixels p (sums[0..3]) and q (sums[4..7]; yq == NULL: none); channels
 * at or past out_c are padding and are not stored. A whole block of both pixels is written out
 * straight, the rest (the last block, a last lone pixel) loops.
 */
MNV3C_DSP_INLINE void mnv3c_dsp_store_block(const mnv3c_dsp_out *s, int32_t o, const int32_t sums[8], int8_t *yp,
                                            int8_t *yq, int mode)
{
    const int32_t n = s->out_c - o < 4 ? s->out_c - o : 4;
    int32_t i;
    if (mode != MNV3C_DSP_GENERAL) {
        const int32_t *ch = s->mult + (o >> 2) * MNV3C_DSP_TABLE_BLOCK + 4;
        if (n == 4 && yq != NULL) {
            mnv3c_dsp_short_pair(s, ch, sums[0], sums[4], yp + o, yq + o, mode);
            mnv3c_dsp_short_pair(s, ch + 3, sums[1], sums[5], yp + o + 1, yq + o + 1, mode);
            mnv3c_dsp_short_pair(s, ch + 6, sums[2], sums[6], yp + o + 2, yq + o + 2, mode);
            mnv3c_dsp_short_pair(s, ch + 9, sums[3], sums[7], yp + o + 3, yq + o + 3, mode);
            return;
        }
        for (i = 0; i < n; ++i, ch += 3) {
            mnv3c_dsp_short_pair(s, ch, sums[i], sums[4 + i], yp + o + i, yq != NULL ? yq + o + i : NULL, mode);
        }
        return;
    }
    for (i = 0; i < n; ++i) {
        const int32_t bias = s->bias[o + i], mult = s->mult[o + i], shift = s->shift[o + i];
        yp[o + i] = mnv3c_dsp_finish(mnv3c_mbqm(sums[i] + bias, mult, shift), s);
        if (yq != NULL) {
            yq[o + i] = mnv3c_dsp_finish(mnv3c_mbqm(sums[4 + i] + bias, mult, shift), s);
        }
    }
}

/*
 * The short stage of one output channel of pixels p and q, in place on their sums P and Q, with the
 * channel's {mx, k, r} in r0, r1, r2 (loaded by LDM from the table cursor in r3): t = SMMLAR(acc, mx, acc),
 * t - [t < 0] + k (the sign of t, not of acc: the stage's own definition, mnv3c_dsp_requant.h's proof),
 * >> r, SSAT 8, the table (LUT: its base register), one STRB each at byte I of yp (r12) and yq (lr).
 * Shared with the assembly of the depthwise pair and the RGB stem, which keep their sums in the same registers.
 */
#define MNV3C_DSP_STAGE_PQ(P, Q, I, LUT)                        \
    "ldm r3!, {r0, r1, r2}\n\t"                                  \
    "smmlar " P ", " P ", r0, " P "\n\t"                         \
    "smmlar " Q ", " Q ", r0, " Q "\n\t"                         \
    MNV3C_DSP_STAGE_TAIL(P, Q, I, LUT)
#define MNV3C_DSP_STAGE_TAIL(P, Q, I, LUT)                      \
    "sub " P ", " P ", " P ", lsr #31\n\t"                       \
    "sub " Q ", " Q ", " Q ", lsr #31\n\t"                       \
    "add " P ", " P ", r1\n\t"                                   \
    "add " Q ", " Q ", r1\n\t"                                   \
    "asr " P ", " P ", r2\n\t"                                   \
    "asr " Q ", " Q ", r2\n\t"                                   \
    "ssat " P ", #8, " P "\n\t"                                  \
    "ssat " Q ", #8, " Q "\n\t"                                  \
    LUT                                                          \
    "strb " P ", [r12, #" I "]\n\t"                              \
    "strb " Q ", [lr, #" I "]\n\t"
#define MNV3C_DSP_LUT_PQ(P, Q, BASE) "ldrb " P ", [" BASE ", " P "]\n\t" "ldrb " Q ", [" BASE ", " Q "]\n\t"

/*
 * A whole block of four output channels of both pixels in the SHORT or SHORT_LUT mode (mode a
 * compile-time constant), the eight sums in r4-r7 (p) and r8-r11 (q) where the kernels' product loops
 * leave them, written out: 6.5 instructions per output value plus the table (about 19 in the compiled
 * C, which spilled sums and parameters around the four channels). With the table, its base comes in r0,
 * waits on the stack while mx of channel 0 is live (14 registers are), then stays in r4.
 */
MNV3C_DSP_INLINE void mnv3c_dsp_store_pq(const mnv3c_dsp_out *s, int32_t o, int32_t p0_, int32_t p1_, int32_t p2_,
                                         int32_t p3_, int32_t q0_, int32_t q1_, int32_t q2_, int32_t q3_, int8_t *yp,
                                         int8_t *yq, int mode)
{
    register int32_t p0 __asm__("r4") = p0_;
    register int32_t p1 __asm__("r5") = p1_;
    register int32_t p2 __asm__("r6") = p2_;
    register int32_t p3 __asm__("r7") = p3_;
    register int32_t q0 __asm__("r8") = q0_;
    register int32_t q1 __asm__("r9") = q1_;
    register int32_t q2 __asm__("r10") = q2_;
    register int32_t q3 __asm__("r11") = q3_;
    register const int32_t *ch __asm__("r3") = s->mult + (o >> 2) * MNV3C_DSP_TABLE_BLOCK + 4;
    register int8_t *rp __asm__("r12") = yp + o;
    register int8_t *rq __asm__("lr") = yq + o;
    register int32_t k __asm__("r1");
    register int32_t r __asm__("r2");
    if (mode == MNV3C_DSP_SHORT_LUT) {
        const int8_t *const lut = s->lut128; /* (plain initializers: cppcheck misreads asm-register ones) */
        register const int8_t *mx __asm__("r0") = lut;
        __asm__ volatile(
            "push {r0}\n\t"
            "ldm r3!, {r0, r1, r2}\n\t"
            "smmlar r4, r4, r0, r4\n\t"
            "smmlar r8, r8, r0, r8\n\t"
            "pop {r0}\n\t"
            MNV3C_DSP_STAGE_TAIL("r4", "r8", "0", MNV3C_DSP_LUT_PQ("r4", "r8", "r0"))
            "mov r4, r0\n\t"
            MNV3C_DSP_STAGE_PQ("r5", "r9", "1", MNV3C_DSP_LUT_PQ("r5", "r9", "r4"))
            MNV3C_DSP_STAGE_PQ("r6", "r10", "2", MNV3C_DSP_LUT_PQ("r6", "r10", "r4"))
            MNV3C_DSP_STAGE_PQ("r7", "r11", "3", MNV3C_DSP_LUT_PQ("r7", "r11", "r4"))
            : "+r"(p0), "+r"(p1), "+r"(p2), "+r"(p3), "+r"(q0), "+r"(q1), "+r"(q2), "+r"(q3), "+r"(ch),
              "+r"(mx), "=&r"(k), "=&r"(r)
            : "r"(rp), "r"(rq)
            : "cc", "memory");
        return;
    }
    register int32_t mx __asm__("r0");
    __asm__ volatile(
        MNV3C_DSP_STAGE_PQ("r4", "r8", "0", "")
        MNV3C_DSP_STAGE_PQ("r5", "r9", "1", "")
        MNV3C_DSP_STAGE_PQ("r6", "r10", "2", "")
        MNV3C_DSP_STAGE_PQ("r7", "r11", "3", "")
        : "+r"(p0), "+r"(p1), "+r"(p2), "+r"(p3), "+r"(q0), "+r"(q1), "+r"(q2), "+r"(q3), "+r"(ch),
          "=&r"(mx), "=&r"(k), "=&r"(r)
        : "r"(rp), "r"(rq)
        : "cc", "memory");
}


/* A kernel body `name(p, x, y, mode)` behind its two entry points: the general one and the _short one,
 * which picks its mode from the layer's clamp and table once per call. */
#define MNV3C_DSP_ENTRY_POINTS(entry, body, params_type, out_of)                                            \
    void entry(const params_type *p, const int8_t *MNV3C_RESTRICT x, int8_t *MNV3C_RESTRICT y, void *scratch) \
    {                                                                                                       \
        (void)scratch;                                                                                      \
        body(p, x, y, MNV3C_DSP_GENERAL);                                                                   \
    }                                                                                                       \
    void entry##_short(const params_type *p, const int8_t *MNV3C_RESTRICT x, int8_t *MNV3C_RESTRICT y,       \
                       void *scratch)                                                                       \
    {                                                                                                       \
        const mnv3c_dsp_out s = out_of(p);                                                                  \
        (void)scratch;                                                                                      \
        switch (mnv3c_dsp_short_mode(&s)) {                                                                 \
        case MNV3C_DSP_SHORT: body(p, x, y, MNV3C_DSP_SHORT); break;                                        \
        case MNV3C_DSP_SHORT_LUT: body(p, x, y, MNV3C_DSP_SHORT_LUT); break;                                \
        default: body(p, x, y, MNV3C_DSP_SHORT_CLAMP); break;                                               \
        }                                                                                                   \
    }                                                                                                       \
    size_t entry##_scratch_bytes(const params_type *p)                                                      \
    {                                                                                                       \
        (void)p;                                                                                            \
        return 0;                                                                                           \
    }                                                                                                       \
    size_t entry##_short_scratch_bytes(const params_type *p)                                                \
    {                                                                                                       \
        (void)p;                                                                                            \
        return 0;                                                                                           \
    }

#endif /* MNV3C_DSP_REQUANT_H */
