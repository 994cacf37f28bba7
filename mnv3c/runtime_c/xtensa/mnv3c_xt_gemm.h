/*
 * mnv3c_xt_gemm.h - the output stage and the register-blocked int8 matrix product of the Xtensa
 * LX106 (ESP8266) variants (conv1x1_s8_xtensa.c, conv2d_s8_xtensa.c, dense_s8_xtensa.c).
 *
 * What the LX106 lacks, and how the variants do without it:
 *   - No 32x32->64 multiply (MUL32 low only, MUL16S/MUL16U): an int64 product is a __muldi3 call,
 *     which also makes call0's caller-saved registers spill around it. The output stage here takes
 *     the high word of the requantization product from four 16-bit partial products
 *     (mnv3c_xt_mulhi) and the general MBQM from it and one MULL (mnv3c_xt_mbqm): no int64 anywhere.
 *   - No signed byte load (L8UI only; with no SEXT, sign extension is SLLI + SRAI): the weights are
 *     stored offset by 128 ("pointwise_xt"/"dense_xt": w ^ 0x80 read as uint8, one L8UI), and
 *     sum x (w + 128) - 128 sum x = sum x w, with sum x taken once per pixel; the inputs are
 *     sign-extended once into an int16 buffer (L16SI), not once per product.
 *   - 16 registers (call0: a1 is the stack pointer): a block is 2 pixels x 4 output channels, eight
 *     sums, both pixels' inputs, one weight and three pointers (a 4 x 4 block spills its sums), and
 *     the big stack buffer belongs to the caller, so the block's spills stay within L32I's offset range.
 * Products: |x (w + 128)| <= 128 * 255, so sums of 1024 stay far inside int32; they are kept as
 * uint32 (modular) and read as int32 at the end, where they equal the portable kernels' sums.
 */
#ifndef MNV3C_XT_GEMM_H
#define MNV3C_XT_GEMM_H

#include <stdint.h>

#include "mnv3c_requant.h"

/* For the helpers a kernel instantiates once per output stage: the specialization must happen. */
#define MNV3C_XT_INLINE static inline __attribute__((always_inline))

/*
 * A kernel's hot loop nest, one copy per output stage, out of line: its frame is small (the
 * caller's input buffer is not, so its spills stay within L32I's offset range), and without GCC's
 * first scheduling pass, which hoists the loads and products of a block and spills its sums (the
 * two-pixel block's inner loop: 38 instructions, 13 of them stack traffic, instead of 26, one;
 * unrolled twice, 48 per two inputs).
 */
#define MNV3C_XT_HOT static __attribute__((noinline, optimize("no-schedule-insns")))

/*
 * floor(a * m / 2^32) for any int32 a and m = mh * 2^16 + ml in [0, 2^31) (mh < 2^15), from four
 * 16-bit partial products: a = ah 2^16 + al (ah signed, al unsigned), so
 *   a m = ah mh 2^32 + (ah ml + al mh) 2^16 + al ml,
 *   t = ah ml + floor(al ml / 2^16)             |ah ml| < 2^31 - 2^16: no overflow
 *   floor(a m / 2^32) = ah mh + floor(t / 2^16) + floor(((t mod 2^16) + al mh) / 2^16)
 * (nested floors of power-of-two divisions compose; (t mod 2^16) + al mh < 2^31).
 * tests/test_xtensa.py checks it against Python on edge and random values.
 */
MNV3C_XT_INLINE int32_t mnv3c_xt_mulhi(int32_t a, int32_t mh, int32_t ml)
{
    const int32_t ah = mnv3c_asr(a, 16);
    const uint32_t al = (uint32_t)a & 0xFFFFu;
    const int32_t t = ah * ml + (int32_t)((al * (uint32_t)ml) >> 16);
    const int32_t w = (int32_t)((uint32_t)t & 0xFFFFu) + (int32_t)(al * (uint32_t)mh);
    return ah * mh + mnv3c_asr(t, 16) + (w >> 16);
}

/*
 * mnv3c_mbqm (../mnv3c_requant.h) without int64: SRDHM's t = floor((x M + 2^30) / 2^31) is
 * 2 hi + floor((lo + 2^30) / 2^31) with hi = floor(x M / 2^32) (mnv3c_xt_mulhi) and lo = x M mod 2^32
 * (one MULL), and floor((lo + 2^30) / 2^31) = ((lo >> 30) + 1) >> 1 for lo in [0, 2^32). The rest is
 * mnv3c_mbqm's own rounding. |t| < 2^31, so 2 hi cannot overflow.
 */
MNV3C_XT_INLINE int32_t mnv3c_xt_mbqm(int32_t x, int32_t multiplier, int32_t shift)
{
    const int32_t xs = shift > 0 ? (int32_t)((uint32_t)x << shift) : x;
    const uint32_t lo = (uint32_t)xs * (uint32_t)multiplier;
    int32_t t = 2 * mnv3c_xt_mulhi(xs, multiplier >> 16, multiplier & 0xFFFF) + (int32_t)(((lo >> 30) + 1u) >> 1);
    if (shift >= 0) {
        return t;
    }
    t -= (int32_t)(t < 0); /* t - 1 when negative: the tie then rounds away from zero */
    return mnv3c_asr(mnv3c_asr(t, -shift - 1) + 1, 1);
}

/* The output stage of a layer, copied into locals so the int8 stores cannot alias it. */
typedef struct {
    const int32_t *bias, *mult;
    const int8_t *shift;
    int32_t zp, lo, hi;
    const int8_t *lut;
    int32_t out_c;
    int32_t zp_odd; /* 2 * zp + 1 */
    int32_t range;  /* hi - lo */
} mnv3c_xt_out;

static inline mnv3c_xt_out mnv3c_xt_out_init(const int32_t *bias, const int32_t *mult, const int8_t *shift,
                                             int32_t zp, int32_t lo, int32_t hi, const int8_t *lut, int32_t out_c)
{
    const mnv3c_xt_out s = {bias, mult, shift, zp, lo, hi, lut, out_c, 2 * zp + 1, hi - lo};
    return s;
}

/* One channel's requantization constants, split once and used for every pixel of a block. */
typedef struct {
    int32_t mult, mh, ml, shift, r1, round;
} mnv3c_xt_chan;

MNV3C_XT_INLINE mnv3c_xt_chan mnv3c_xt_chan_of(const mnv3c_xt_out *s, int32_t o, int short_rq)
{
    mnv3c_xt_chan c;
    c.mult = s->mult[o];
    c.shift = s->shift[o];
    c.mh = c.mult >> 16;
    c.ml = c.mult & 0xFFFF;
    c.r1 = 1 - c.shift;
    /* = mnv3c_mbqm_small_round(-shift, zp) + 1 for shift <= -1, which the short form requires */
    c.round = short_rq ? s->zp_odd * ((int32_t)1 << -c.shift) + 1 : 0;
    return c;
}

/*
 * Requantizes one sum (bias included). short_rq: mnv3c_mbqm_small (../mnv3c_requant.h, exact where
 * plan/kernels.py proves shift in [-21, -1] and |acc| < 2^29), its MULH as mnv3c_xt_mulhi; else the
 * general MBQM (mnv3c_xt_mbqm). Then clamp and the optional table.
 */
MNV3C_XT_INLINE int8_t mnv3c_xt_finish(const mnv3c_xt_out *s, const mnv3c_xt_chan *c, int32_t acc, int short_rq)
{
    int32_t v;
    if (short_rq) {
        const int32_t u = mnv3c_xt_mulhi(acc * 4, c->mh, c->ml); /* w = u + 1; w < 0 iff u < -1 */
#ifdef __XTENSA_WINDOWED_ABI__
        v = mnv3c_asr(u + c->round - 2 * (int32_t)((uint32_t)(u + 1) >> 31), c->r1); /* no branch */
#else
        v = mnv3c_asr(u + c->round - 2 * (int32_t)(u < -1), c->r1);
#endif
    } else {
        v = mnv3c_xt_mbqm(acc, c->mult, c->shift) + s->zp;
    }
#ifdef __XTENSA_WINDOWED_ABI__
    v = v < s->lo ? s->lo : v > s->hi ? s->hi : v; /* the ESP32 class has MIN/MAX */
#else
    if ((uint32_t)(v - s->lo) > (uint32_t)s->range) { /* one compare on the common in-range path */
        v = v < s->lo ? s->lo : s->hi;
    }
#endif
    return s->lut != NULL ? s->lut[v + 128] : (int8_t)v;
}

/* The bias of channel o + i, or 0 past the last channel (left = out_c - o). */
MNV3C_XT_INLINE int32_t mnv3c_xt_bias(const mnv3c_xt_out *s, int32_t o, int32_t left, int32_t i)
{
    return i < left ? s->bias[o + i] : 0;
}

/* Channel o of pixel 0 (and of pixel 1 at y + out_c when two): the sums include the bias. */
MNV3C_XT_INLINE void mnv3c_xt_store2(const mnv3c_xt_out *s, int32_t o, uint32_t v0, uint32_t v1, int32_t two,
                                     int8_t *y, int short_rq)
{
    const mnv3c_xt_chan c = mnv3c_xt_chan_of(s, o, short_rq);
    y[o] = mnv3c_xt_finish(s, &c, (int32_t)v0, short_rq);
    if (two) {
        y[o + s->out_c] = mnv3c_xt_finish(s, &c, (int32_t)v1, short_rq);
    }
}

/*
 * Output channels o .. o + 3 of two pixels whose k inputs are interleaved in xb[k][2] (int16),
 * weights wb[k][4] (offset by 128); m0, m1: 128 * sum x of each pixel. Per input: two L16SI, four
 * L8UI, 8 multiplies, 8 adds (the loop unrolled twice: 48 instructions per two inputs).
 */
MNV3C_XT_INLINE void mnv3c_xt_block(const int16_t *xb, int32_t k, const uint8_t *wb, const mnv3c_xt_out *s,
                                    int32_t o, int32_t m0, int32_t m1, int32_t two, int8_t *y, int short_rq)
{
    const int16_t *const end = xb + 2 * k;
    const int32_t left = s->out_c - o;
    uint32_t a0 = (uint32_t)mnv3c_xt_bias(s, o, left, 0), b0 = (uint32_t)mnv3c_xt_bias(s, o, left, 1);
    uint32_t c0 = (uint32_t)mnv3c_xt_bias(s, o, left, 2), d0 = (uint32_t)mnv3c_xt_bias(s, o, left, 3);
    uint32_t a1 = a0 - (uint32_t)m1, b1 = b0 - (uint32_t)m1, c1 = c0 - (uint32_t)m1, d1 = d0 - (uint32_t)m1;
    a0 -= (uint32_t)m0, b0 -= (uint32_t)m0, c0 -= (uint32_t)m0, d0 -= (uint32_t)m0;
#pragma GCC unroll 2
    while (xb < end) {
        const int32_t x0 = xb[0], x1 = xb[1];
        int32_t w = wb[0];
        a0 += (uint32_t)(x0 * w), a1 += (uint32_t)(x1 * w);
        w = wb[1];
        b0 += (uint32_t)(x0 * w), b1 += (uint32_t)(x1 * w);
        w = wb[2];
        c0 += (uint32_t)(x0 * w), c1 += (uint32_t)(x1 * w);
        w = wb[3];
        d0 += (uint32_t)(x0 * w), d1 += (uint32_t)(x1 * w);
        xb += 2;
        wb += 4;
    }
    mnv3c_xt_store2(s, o, a0, a1, two, y, short_rq);
    if (left > 1) {
        mnv3c_xt_store2(s, o + 1, b0, b1, two, y, short_rq);
    }
    if (left > 2) {
        mnv3c_xt_store2(s, o + 2, c0, c1, two, y, short_rq);
    }
    if (left > 3) {
        mnv3c_xt_store2(s, o + 3, d0, d1, two, y, short_rq);
    }
}

/* Every output channel of the one or two pixels in xb[k][2]; w: "pointwise_xt" weights. */
MNV3C_XT_INLINE void mnv3c_xt_gemm(const int16_t *xb, int32_t k, const int8_t *w, const mnv3c_xt_out *s,
                                   int32_t m0, int32_t m1, int32_t two, int8_t *y, int short_rq)
{
    const uint8_t *wu = (const uint8_t *)w;
    int32_t o;
    for (o = 0; o < s->out_c; o += 4, wu += 4 * k) {
        mnv3c_xt_block(xb, k, wu, s, o, m0, m1, two, y, short_rq);
    }
}

#endif /* MNV3C_XT_GEMM_H */
