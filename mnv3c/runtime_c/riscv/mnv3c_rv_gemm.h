/*
 * mnv3c_rv_gemm.h - the register-blocked int8 matrix product of the RV32IMC convolutions
 * (conv1x1_s8_riscv.c, conv2d_s8_riscv.c) and their output stage.
 *
 * Four output pixels x four output channels per block: the pixels' k inputs are interleaved into a
 * stack buffer xb[k][4] by the caller, the weights are "pointwise_rv" ([out_c / 4][k][4], out_c
 * padded with zero rows: mnv3c/codegen/layouts.py). Per input one pointer gives the 4 inputs and
 * one the 4 weights (8 byte loads at constant offsets), then 16 MUL + 16 ADD into 16 register sums
 * and two pointer increments, the loop test: 43 instructions for 16 MACs, all in registers, as GCC 12
 * allocates them without its first scheduling pass (the including kernels turn it off; with it, 46:
 * one sum and the end pointer live on the stack). Plain 32-bit products: |sum| <= 1024 * 128 * 128 = 2^24.
 * Output stage per value: the general MBQM, or where plan/kernels.py proved it exact for the layer
 * (every shift in [-21, -1], |acc| < 2^29) the one-MULH form of ../mnv3c_requant.h; then zero
 * point, clamp, optional table. Pixels past n (a last partial block) are computed on the caller's
 * zero inputs and not stored; padded output channels are not stored.
 */
#ifndef MNV3C_RV_GEMM_H
#define MNV3C_RV_GEMM_H

#include <stdint.h>

#include "mnv3c_requant.h"

/* For the helpers a kernel instantiates once per output stage: the specialization must happen. */
#define MNV3C_RV_INLINE static inline __attribute__((always_inline))

/* The output stage of a layer, copied into locals so the int8 stores cannot alias it. */
typedef struct {
    const int32_t *bias, *mult;
    const int8_t *shift;
    int32_t zp, lo, hi;
    const int8_t *lut;
    int32_t out_c;
    int32_t zp_odd; /* 2 * zp + 1 (mnv3c_rv_out_init) */
    int32_t range;  /* hi - lo */
} mnv3c_rv_out;

static inline mnv3c_rv_out mnv3c_rv_out_init(const int32_t *bias, const int32_t *mult, const int8_t *shift,
                                             int32_t zp, int32_t lo, int32_t hi, const int8_t *lut, int32_t out_c)
{
    const mnv3c_rv_out s = {bias, mult, shift, zp, lo, hi, lut, out_c, 2 * zp + 1, hi - lo};
    return s;
}

/*
 * mnv3c_mbqm_small (../mnv3c_requant.h) written for RV32: there w = u + 1 < 0 iff u < -1, one SLTI,
 * and the + 1 folds into the rounding constant (4 ALU instructions after the MULH instead of 5; the
 * portable form suits Arm's shifted operands).
 */
MNV3C_RV_INLINE int32_t mnv3c_rv_mbqm_small(int32_t x, int32_t multiplier, int32_t r1, int32_t round)
{
    const int32_t u = (int32_t)mnv3c_asr64((int64_t)(x * 4) * multiplier, 32);
    return mnv3c_asr(u + (round + 1) - 2 * (int32_t)(u < -1), r1);
}

/* Requantizes one sum of channel o (bias included); round: mnv3c_mbqm_small_round(-shift, zp). */
MNV3C_RV_INLINE int8_t mnv3c_rv_finish(const mnv3c_rv_out *s, int32_t acc, int32_t mult, int32_t shift,
                                       int32_t round, int short_rq)
{
    int32_t v;
    if (short_rq) {
        v = mnv3c_rv_mbqm_small(acc, mult, 1 - shift, round);
    } else {
        v = mnv3c_mbqm(acc, mult, shift) + s->zp;
    }
    if ((uint32_t)(v - s->lo) > (uint32_t)s->range) { /* one compare on the common in-range path */
        v = v < s->lo ? s->lo : s->hi;
    }
    return s->lut != NULL ? s->lut[v + 128] : (int8_t)v;
}

/* Output channel o (< out_c) of the first n (1..4) pixels, pixel j at y + j * out_c + o; the sums
 * v0 .. v3 include the bias. */
MNV3C_RV_INLINE void mnv3c_rv_store(const mnv3c_rv_out *s, int32_t o, int32_t v0, int32_t v1, int32_t v2,
                                    int32_t v3, int32_t n, int8_t *y, int short_rq)
{
    const int32_t mult = s->mult[o], shift = s->shift[o];
    /* = mnv3c_mbqm_small_round(-shift, zp) for shift <= -1, which the short form requires */
    const int32_t round = short_rq ? s->zp_odd * ((int32_t)1 << -shift) : 0;
    int8_t *yo = y + o;
    yo[0] = mnv3c_rv_finish(s, v0, mult, shift, round, short_rq);
    if (n > 1) {
        yo[s->out_c] = mnv3c_rv_finish(s, v1, mult, shift, round, short_rq);
    }
    if (n > 2) {
        yo[2 * s->out_c] = mnv3c_rv_finish(s, v2, mult, shift, round, short_rq);
    }
    if (n > 3) {
        yo[3 * s->out_c] = mnv3c_rv_finish(s, v3, mult, shift, round, short_rq);
    }
}

/* The bias of channel o + i, or 0 past the last channel (left = out_c - o). */
MNV3C_RV_INLINE int32_t mnv3c_rv_bias(const mnv3c_rv_out *s, int32_t o, int32_t left, int32_t i)
{
    return i < left ? s->bias[o + i] : 0;
}

/* Output channels o .. o + 3 of the n pixels interleaved in xb[k][4], weights wb[k][4]. */
MNV3C_RV_INLINE void mnv3c_rv_block(const int8_t *xb, int32_t k, const int8_t *wb, const mnv3c_rv_out *s,
                                    int32_t o, int32_t n, int8_t *y, int short_rq)
{
    const int8_t *const end = xb + 4 * k;
    const int32_t left = s->out_c - o;
    /* [channel][pixel] sums, starting at the bias (0 for padded channels, which are not stored) */
    int32_t a0 = mnv3c_rv_bias(s, o, left, 0), b0 = mnv3c_rv_bias(s, o, left, 1);
    int32_t c0 = mnv3c_rv_bias(s, o, left, 2), d0 = mnv3c_rv_bias(s, o, left, 3);
    int32_t a1 = a0, a2 = a0, a3 = a0, b1 = b0, b2 = b0, b3 = b0, c1 = c0, c2 = c0, c3 = c0, d1 = d0, d2 = d0,
            d3 = d0;
    while (xb < end) {
        const int32_t x0 = xb[0], x1 = xb[1], x2 = xb[2], x3 = xb[3];
        int32_t w = wb[0];
        a0 += x0 * w, a1 += x1 * w, a2 += x2 * w, a3 += x3 * w;
        w = wb[1];
        b0 += x0 * w, b1 += x1 * w, b2 += x2 * w, b3 += x3 * w;
        w = wb[2];
        c0 += x0 * w, c1 += x1 * w, c2 += x2 * w, c3 += x3 * w;
        w = wb[3];
        d0 += x0 * w, d1 += x1 * w, d2 += x2 * w, d3 += x3 * w;
        xb += 4;
        wb += 4;
    }
    mnv3c_rv_store(s, o, a0, a1, a2, a3, n, y, short_rq);
    if (left > 1) {
        mnv3c_rv_store(s, o + 1, b0, b1, b2, b3, n, y, short_rq);
    }
    if (left > 2) {
        mnv3c_rv_store(s, o + 2, c0, c1, c2, c3, n, y, short_rq);
    }
    if (left > 3) {
        mnv3c_rv_store(s, o + 3, d0, d1, d2, d3, n, y, short_rq);
    }
}

/*
 * Output channels o .. o + 3 of the first n (1 or 2) pixels in xb[k][4]: a last partial block of a
 * layer with few pixels (3 x 3 planes: 9 = 4 + 4 + 1) would waste most of the four-pixel block's
 * products. One pixel: 16 instructions per 4 MACs; two: 25 per 8.
 */
MNV3C_RV_INLINE void mnv3c_rv_block_few(const int8_t *xb, int32_t k, const int8_t *wb, const mnv3c_rv_out *s,
                                        int32_t o, int32_t n, int8_t *y, int short_rq)
{
    const int8_t *const end = xb + 4 * k;
    const int32_t left = s->out_c - o;
    int32_t a0 = mnv3c_rv_bias(s, o, left, 0), b0 = mnv3c_rv_bias(s, o, left, 1);
    int32_t c0 = mnv3c_rv_bias(s, o, left, 2), d0 = mnv3c_rv_bias(s, o, left, 3);
    int32_t a1 = a0, b1 = b0, c1 = c0, d1 = d0;
    if (n == 1) {
        for (; xb < end; xb += 4, wb += 4) {
            const int32_t x0 = xb[0];
            a0 += x0 * wb[0], b0 += x0 * wb[1], c0 += x0 * wb[2], d0 += x0 * wb[3];
        }
    } else {
        for (; xb < end; xb += 4, wb += 4) {
            const int32_t x0 = xb[0], x1 = xb[1];
            int32_t w = wb[0];
            a0 += x0 * w, a1 += x1 * w;
            w = wb[1];
            b0 += x0 * w, b1 += x1 * w;
            w = wb[2];
            c0 += x0 * w, c1 += x1 * w;
            w = wb[3];
            d0 += x0 * w, d1 += x1 * w;
        }
    }
    mnv3c_rv_store(s, o, a0, a1, 0, 0, n, y, short_rq);
    if (left > 1) {
        mnv3c_rv_store(s, o + 1, b0, b1, 0, 0, n, y, short_rq);
    }
    if (left > 2) {
        mnv3c_rv_store(s, o + 2, c0, c1, 0, 0, n, y, short_rq);
    }
    if (left > 3) {
        mnv3c_rv_store(s, o + 3, d0, d1, 0, 0, n, y, short_rq);
    }
}

/* Every output channel of the n (1..4) pixels interleaved in xb[k][4]; w: "pointwise_rv" weights. */
MNV3C_RV_INLINE void mnv3c_rv_gemm(const int8_t *xb, int32_t k, const int8_t *w, const mnv3c_rv_out *s, int32_t n,
                                   int8_t *y, int short_rq)
{
    int32_t o;
    if (n == 4 && s->lut != NULL) { /* every block but a last partial one: no pixel count test, and */
        for (o = 0; o < s->out_c; o += 4, w += 4 * k) { /* the table test resolved outside the loop */
            mnv3c_rv_block(xb, k, w, s, o, 4, y, short_rq);
        }
        return;
    }
    if (n == 4) {
        for (o = 0; o < s->out_c; o += 4, w += 4 * k) {
            mnv3c_rv_block(xb, k, w, s, o, 4, y, short_rq);
        }
        return;
    }
    for (o = 0; o < s->out_c; o += 4, w += 4 * k) {
        if (n == 3) {
            mnv3c_rv_block(xb, k, w, s, o, 3, y, short_rq);
        } else {
            mnv3c_rv_block_few(xb, k, w, s, o, n, y, short_rq);
        }
    }
}

#endif /* MNV3C_RV_GEMM_H */
