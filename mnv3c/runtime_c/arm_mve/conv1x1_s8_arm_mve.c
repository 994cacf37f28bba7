/*
 * conv1x1_s8_arm_mve.c - pointwise convolution for Cortex-M55 (Helium, MVE): the arithmetic of
 * ../conv1x1_s8.c (same bytes). Per pair of pixels p, q and block of four output channels, 16 input
 * channels at a time: one VLDRB of each pixel's inputs, four VLDRB of the block's weights (one pointer
 * walks them) and eight VMLADAVA (16 int8 products summed into a scalar int32): 14 instructions (+ the
 * loop) per 128 MACs, each weight vector read once for both pixels. The last partial vector of a row
 * of inputs is a zeroing predicated load (VCTP), so any in_c works and nothing is read past a row.
 * Then the output stage of the block's four channels of both pixels on two vectors (the short one,
 * mnv3c_mve_requant.h, its table "mve_out_table" loaded once for both), or the general one.
 * Weights: "pointwise_mve" (mnv3c/codegen/layouts.py): out_c padded to a multiple of 4 with zero rows,
 * in_c to a multiple of 16 with zeros, per block of four channels and chunk of 16 values the four rows'
 * bytes; padding channels are computed and not stored. A last lone pixel is computed as pixel p and q.
 * Sums are exact int32 like the portable kernel's (the quantizer bounds them).
 * Two entry points, chosen per layer at compile time: mnv3c_conv1x1_s8_arm_mve_short where the
 * short output stage is proven exact for the layer (../arm_dsp/mnv3c_dsp_requant.h), the other one elsewhere.
 */
#include "mnv3c_arm_mve.h"
#include "mnv3c_mve_dot.h"

/* One chunk of 16 values of the block: p's inputs in q0, q's in q1, the four rows' weights at [w] (the
 * pointer then moves on by 64 bytes), eight VMLADAVA. */
#define MNV3C_MVE_CHUNK                       \
    "vldrb.u8 q2, [%[w]], #64\n\t"            \
    "vldrb.u8 q3, [%[w], #-48]\n\t"           \
    "vmladava.s8 %[p0], q0, q2\n\t"           \
    "vmladava.s8 %[q0], q1, q2\n\t"           \
    "vldrb.u8 q2, [%[w], #-32]\n\t"           \
    "vmladava.s8 %[p1], q0, q3\n\t"           \
    "vmladava.s8 %[q1], q1, q3\n\t"           \
    "vldrb.u8 q3, [%[w], #-16]\n\t"           \
    "vmladava.s8 %[p2], q0, q2\n\t"           \
    "vmladava.s8 %[q2], q1, q2\n\t"           \
    "vmladava.s8 %[p3], q0, q3\n\t"           \
    "vmladava.s8 %[q3], q1, q3\n\t"

/*
 * Sums of output channels o .. o + 3 (block weights w) of pixels p (xp) and q (xq) over k values,
 * continued from acc[0..3] (p) and acc[4..7] (q). Written out: VMLADAVA accumulates only into even
 * registers, and the eight sums need all of them (lr included), which GCC does not find by itself
 * (it shuffled sums through odd registers and the stack, 22 instructions per chunk instead of 16).
 * The last k % 16 inputs are zeroing predicated loads (VCTP); the weights are zero-padded to 16.
 */
MNV3C_DSP_INLINE void block(const int8_t *xp, const int8_t *xq, const int8_t *w, int32_t k, int32_t acc[8])
{
    /* plain initializers: cppcheck misreads expressions after an asm register */
    const int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3], a4 = acc[4], a5 = acc[5], a6 = acc[6],
                  a7 = acc[7], chunks = k >> 4, tail = k & 15;
    register int32_t p0 __asm__("r0") = a0;
    register int32_t p1 __asm__("r2") = a1;
    register int32_t p2 __asm__("r4") = a2;
    register int32_t p3 __asm__("r6") = a3;
    register int32_t q0 __asm__("r8") = a4;
    register int32_t q1 __asm__("r10") = a5;
    register int32_t q2 __asm__("r12") = a6;
    register int32_t q3 __asm__("lr") = a7;
    register const int8_t *rp __asm__("r1") = xp;
    register const int8_t *rq __asm__("r3") = xq;
    register const int8_t *rw __asm__("r5") = w;
    register int32_t n __asm__("r9") = chunks;
    register int32_t rest __asm__("r11") = tail;
    __asm__ volatile(
        "cmp %[n], #0\n\t"
        "beq 2f\n\t"
        "1:\n\t"
        "vldrb.u8 q0, [%[xp]], #16\n\t"
        "vldrb.u8 q1, [%[xq]], #16\n\t"
        MNV3C_MVE_CHUNK
        "subs %[n], %[n], #1\n\t"
        "bne 1b\n\t"
        "2:\n\t"
        "cmp %[rest], #0\n\t"
        "beq 3f\n\t"
        "vctp.8 %[rest]\n\t"
        "vpstt\n\t"
        "vldrbt.u8 q0, [%[xp]]\n\t"
        "vldrbt.u8 q1, [%[xq]]\n\t"
        MNV3C_MVE_CHUNK
        "3:\n\t"
        : [p0] "+r"(p0), [p1] "+r"(p1), [p2] "+r"(p2), [p3] "+r"(p3), [q0] "+r"(q0), [q1] "+r"(q1), [q2] "+r"(q2),
          [q3] "+r"(q3), [xp] "+r"(rp), [xq] "+r"(rq), [w] "+r"(rw), [n] "+r"(n)
        : [rest] "r"(rest)
        : "q0", "q1", "q2", "q3", "cc", "memory");
    acc[0] = p0, acc[1] = p1, acc[2] = p2, acc[3] = p3, acc[4] = q0, acc[5] = q1, acc[6] = q2, acc[7] = q3;
}

#undef MNV3C_MVE_CHUNK

/* The short stage of one block for both pixels: the table's vectors loaded once. */
MNV3C_DSP_INLINE void store_pair(const mnv3c_dsp_out *s, const int32_t *tab, const int32_t acc[8], int8_t *yp,
                                 int8_t *yq, int32_t n, int mode)
{
    const int32x4_t m = vldrwq_s32(tab + 4), k = vldrwq_s32(tab + 8), r = vldrwq_s32(tab + 12);
    const int32x4_t lo = vdupq_n_s32(s->lo), hi = vdupq_n_s32(s->hi);
    int32x4_t a = vld1q_s32(acc), b = vld1q_s32(acc + 4);
    a = vshlq_s32(vaddq_s32(vaddq_s32(vqrdmulhq_s32(a, m), vshrq_n_s32(a, 31)), k), r);
    b = vshlq_s32(vaddq_s32(vaddq_s32(vqrdmulhq_s32(b, m), vshrq_n_s32(b, 31)), k), r);
    a = vminq_s32(vmaxq_s32(a, lo), hi);
    b = vminq_s32(vmaxq_s32(b, lo), hi);
    if (mnv3c_mve_has_lut(s, mode)) {
        a = mnv3c_mve_lut32(a, s->lut);
        b = mnv3c_mve_lut32(b, s->lut);
    }
    if (n == 4) {
        vstrbq_s32(yp, a);
        if (yq != NULL) {
            vstrbq_s32(yq, b);
        }
        return;
    }
    vstrbq_p_s32(yp, a, vctp32q((uint32_t)n));
    if (yq != NULL) {
        vstrbq_p_s32(yq, b, vctp32q((uint32_t)n));
    }
}

/* All out_c outputs of pixels p (xp) and q (xq; yq == NULL: q is p again, not stored). */
MNV3C_DSP_INLINE void pair(const mnv3c_dsp_out *s, const int8_t *xp, const int8_t *xq, const int8_t *w,
                           int32_t k, int8_t *yp, int8_t *yq, int mode)
{
    const int32_t block_bytes = 4 * ((k + 15) & ~15);
    int32_t o, i, acc[8];
    for (o = 0; o < s->out_c; o += 4, w += block_bytes) {
        const int32_t n = s->out_c - o < 4 ? s->out_c - o : 4;
        if (mode != MNV3C_DSP_GENERAL) {
            const int32_t *tab = s->mult + (o >> 2) * MNV3C_MVE_TABLE_VECTOR;
            for (i = 0; i < 4; ++i) {
                acc[i] = acc[4 + i] = tab[i];
            }
            block(xp, xq, w, k, acc);
            store_pair(s, tab, acc, yp + o, yq != NULL ? yq + o : NULL, n, mode);
            continue;
        }
        for (i = 0; i < 8; ++i) {
            acc[i] = 0;
        }
        block(xp, xq, w, k, acc);
        for (i = 0; i < n; ++i) {
            yp[o + i] = mnv3c_dsp_requant(s, o + i, acc[i], mode);
            if (yq != NULL) {
                yq[o + i] = mnv3c_dsp_requant(s, o + i, acc[4 + i], mode);
            }
        }
    }
}

MNV3C_DSP_INLINE void conv1x1(const mnv3c_conv2d_params *p, const int8_t *MNV3C_RESTRICT x,
                             int8_t *MNV3C_RESTRICT y, int mode)
{
    const int32_t pixels = p->in_h * p->in_w, in_c = p->in_c, out_c = p->out_c;
    const mnv3c_dsp_out s = mnv3c_dsp_conv_out(p);
    int32_t px;
    for (px = 0; px + 2 <= pixels; px += 2, x += 2 * in_c, y += 2 * out_c) {
        pair(&s, x, x + in_c, p->weights, in_c, y, y + out_c, mode);
    }
    if (px < pixels) {
        pair(&s, x, x, p->weights, in_c, y, NULL, mode);
    }
}

MNV3C_DSP_ENTRY_POINTS(mnv3c_conv1x1_s8_arm_mve, conv1x1, mnv3c_conv2d_params, mnv3c_dsp_conv_out)
