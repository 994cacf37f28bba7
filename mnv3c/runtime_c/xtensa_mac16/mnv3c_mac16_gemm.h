/*
 * mnv3c_mac16_gemm.h - the int16 matrix product of the MAC16 variants (conv1x1_s8_xtensa_mac16.c,
 * conv2d_s8_xtensa_mac16.c): n buffered input rows against every output channel's weight row.
 *
 * MAC16 has one accumulator, so there is no register blocking: each output value is one dot
 * product of a pixel's inputs with the channel's weights, both int16, in which every
 * multiply-accumulate also loads the next word of one operand (MULA.DD.LL/HH.LDINC, alternating
 * the input and weight pointers): 4 MACs per 6 instructions with the loop's count and branch. The
 * hardware loop (LOOP) is not used: GCC may have put the caller's own loop in LBEG/LEND. The output
 * stage is the LX106 variants' (../xtensa/mnv3c_xt_gemm.h: no int64, as the core has no MULSH).
 * Weights "pointwise_mac16" (mnv3c/codegen/layouts.py): int16 [out_c][kp], kp = k rounded up to a
 * multiple of 4 with zero weights, then two zero values the loop reads ahead: about twice the bytes
 * of the int8 weights, counted in weights_bytes like any array; 4-byte aligned.
 */
#ifndef MNV3C_MAC16_GEMM_H
#define MNV3C_MAC16_GEMM_H

#include <stdint.h>

#include "mnv3c_requant.h"
#include "mnv3c_xt_gemm.h"

/*
 * sum x[i] w[i] over i < 4 * quads (quads >= 1); x, w 4-byte aligned, each read one word past.
 * Per iteration, m0/m2 (this word of x and w) are read and then reloaded, and m1/m3 loaded and
 * then read, never read-write-read: QEMU 7.2 (its TCG translation of MAC16) may read a stale m
 * register when one that was read is reloaded and read again before the translation block ends,
 * and each iteration ends at its branch. ACC and m0..m3 are not GCC's (its configuration leaves
 * MAC16 unused), so the asm owns them. Off Xtensa (a host compile check of the ESP-IDF
 * component) the same sum in C.
 */
MNV3C_XT_INLINE int32_t mnv3c_mac16_dot(const int16_t *x, const int16_t *w, int32_t quads)
{
#ifdef __XTENSA__
    int32_t acc;
    const int16_t *xp = x - 2, *wp = w - 2; /* LDINC adds 4 before it loads */
    __asm__ volatile(
        "wsr.acclo %[zero]\n\t"
        "wsr.acchi %[zero]\n\t"
        "ldinc m0, %[xp]\n\t"
        "ldinc m2, %[wp]\n\t"
        "1:\n\t"
        "mula.dd.ll.ldinc m1, %[xp], m0, m2\n\t"
        "mula.dd.hh.ldinc m3, %[wp], m0, m2\n\t"
        "mula.dd.ll.ldinc m0, %[xp], m1, m3\n\t"
        "mula.dd.hh.ldinc m2, %[wp], m1, m3\n\t"
        "addi %[n], %[n], -1\n\t"
        "bnez %[n], 1b\n\t"
        "rsr.acclo %[acc]\n\t"
        : [acc] "=r"(acc), [xp] "+r"(xp), [wp] "+r"(wp), [n] "+r"(quads)
        : [zero] "r"(0)
        : "memory");
    return acc;
#else
    int32_t acc = 0, i;
    for (i = 0; i < 4 * quads; ++i) {
        acc += x[i] * w[i];
    }
    return acc;
#endif
}

/* The padded row length for k values; a block buffers up to MNV3C_MAC16_MAX_PIXELS rows of it + 2
 * (the read-ahead) in MNV3C_MAC16_BUF_VALUES int16, at least two for the widest layer, as the LX106
 * variants' 4 KiB. */
#define MNV3C_MAC16_KP(k) (((k) + 3) & ~3)
#define MNV3C_MAC16_BUF_VALUES (2 * (MNV3C_MAC16_KP(MNV3C_PW_MAX_C) + 2))
#define MNV3C_MAC16_MAX_PIXELS 8

/* How many rows of stride values one block buffers. */
static inline int32_t mnv3c_mac16_rows(int32_t stride)
{
    const int32_t fit = MNV3C_MAC16_BUF_VALUES / stride;
    return fit < MNV3C_MAC16_MAX_PIXELS ? fit : MNV3C_MAC16_MAX_PIXELS;
}

/* Channels 0 .. out_c - 1 of n <= MNV3C_MAC16_MAX_PIXELS pixels, buffered in x at a stride of
 * 4 * quads + 2 values; w: "pointwise_mac16" rows of 4 * quads; each channel's output constants are
 * split once for all n. */
MNV3C_XT_INLINE void mnv3c_mac16_block(const int16_t *x, int32_t n, int32_t quads, const int16_t *w, const mnv3c_xt_out *out,
                           int8_t *y, int short_rq)
{
    const mnv3c_xt_out s = *out; /* a local copy: the int8 stores below cannot alias it */
    const int32_t row = 4 * quads, stride = row + 2;
    int32_t o, i;
    for (o = 0; o < s.out_c; ++o, w += row) {
        const mnv3c_xt_chan c = mnv3c_xt_chan_of(&s, o, short_rq);
        const int32_t bias = s.bias[o];
        int32_t acc[MNV3C_MAC16_MAX_PIXELS]; /* the sums first, then the output stage: fewer live registers */
        const int16_t *xi = x;
        int8_t *yo = y + o;
        for (i = 0; i < n; ++i, xi += stride) {
            acc[i] = bias + mnv3c_mac16_dot(xi, w, quads);
        }
        for (i = 0; i < n; ++i, yo += s.out_c) {
            *yo = mnv3c_xt_finish(&s, &c, acc[i], short_rq);
        }
    }
}

#endif /* MNV3C_MAC16_GEMM_H */
