/*
 * mnv3c_requant.h - the fixed-point helpers of docs/ARITHMETIC.md (TFLite/gemmlowp), bit-exact
 * with mnv3c/quant/intops.py. Every kernel requantizes its int32 accumulator with these.
 *
 * Portability: only C99 + <stddef.h>/<stdint.h>. Right shifts of negative values are written as
 * ~(~x >> n), which is exactly an arithmetic shift without relying on implementation-defined
 * behaviour; compilers emit a single ASR for it.
 */
#ifndef MNV3C_REQUANT_H
#define MNV3C_REQUANT_H

#include <stddef.h>
#include <stdint.h>

/* Arithmetic (sign-extending) right shift, 0 <= n <= 31. */
static inline int32_t mnv3c_asr(int32_t x, int32_t n)
{
    return x >= 0 ? (x >> n) : ~(~x >> n);
}

/* Arithmetic right shift of an int64, 0 <= n <= 63 (same idiom; a single shift/funnel on Arm). */
static inline int64_t mnv3c_asr64(int64_t x, int32_t n)
{
    return x >= 0 ? (x >> n) : ~(~x >> n);
}

/*
 * SaturatingRoundingDoublingHighMul: round(a * b / 2^31), saturating the single overflow case.
 *
 * The spec (ARITHMETIC.md) adds a sign-dependent nudge and divides truncating toward zero. That
 * equals one floor: for ab >= 0 it is floor((ab + 2^30) / 2^31); for ab < 0, v = ab + 1 - 2^30 is
 * negative, trunc(v / 2^31) = ceil(v / 2^31) = floor((v + 2^31 - 1) / 2^31) = floor((ab + 2^30) / 2^31).
 * So SRDHM = (ab + 2^30) >> 31 (arithmetic), which is SMLAL into a constant + two shifts on Arm
 * instead of a sign test, a 64-bit select and a 64-bit division fix-up.
 */
static inline int32_t mnv3c_srdhm(int32_t a, int32_t b)
{
    if (a == INT32_MIN && b == INT32_MIN) {
        return INT32_MAX;
    }
    return (int32_t)mnv3c_asr64((int64_t)a * (int64_t)b + ((int64_t)1 << 30), 31);
}

/* RoundingDivideByPOT: x / 2^exponent, to nearest, ties away from zero; 0 <= exponent <= 31. */
static inline int32_t mnv3c_rdbp(int32_t x, int32_t exponent)
{
    const int32_t mask = (int32_t)(((int64_t)1 << exponent) - 1);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return mnv3c_asr(x, exponent) + (remainder > threshold ? 1 : 0);
}

/*
 * MultiplyByQuantizedMultiplier: x * multiplier * 2^(shift - 31), multiplier in [2^30, 2^31) or 0,
 * shift in [-31, 30]. The quantizer guarantees x * 2^max(shift, 0) fits in int32.
 *
 * This is the hot path of every kernel, so it is written branch-light but computes exactly
 * RDBP(SRDHM(x << left, multiplier), right):
 *   - multiplier is never INT32_MIN, so SRDHM cannot saturate: t = (x * multiplier + 2^30) >> 31.
 *   - RDBP(t, r) for r >= 1 rounds half away from zero:
 *       t >= 0: floor((t + 2^(r-1)) / 2^r);   t < 0: floor((t - 1 + 2^(r-1)) / 2^r).
 *     With u = t - (t < 0) (one ADD of t's sign, t >= -2^31 + 1 so no overflow) both cases are
 *     floor((u + 2^(r-1)) / 2^r) = ((u >> (r-1)) + 1) >> 1 (nested floors of power-of-two
 *     divisions compose), and (u >> (r-1)) + 1 cannot overflow because t <= 2^31 - 2.
 *   - shift > 0 means right == 0 (RDBP is the identity); shift <= 0 means left == 0.
 * About 14 Cortex-M7 instructions instead of ~40; tests/test_kernels_c.py checks it against
 * intops.mbqm on edge values, exact ties and random values.
 */
static inline int32_t mnv3c_mbqm(int32_t x, int32_t multiplier, int32_t shift)
{
    int32_t t;
    if (shift > 0) {
        return (int32_t)mnv3c_asr64((int64_t)(x * ((int32_t)1 << shift)) * multiplier +
                                        ((int64_t)1 << 30), 31);
    }
    t = (int32_t)mnv3c_asr64((int64_t)x * multiplier + ((int64_t)1 << 30), 31);
    if (shift == 0) {
        return t;
    }
    t -= (int32_t)(t < 0); /* t - 1 when negative: the tie then rounds away from zero */
    return mnv3c_asr(mnv3c_asr(t, -shift - 1) + 1, 1);
}

/*
 * MBQM(x, multiplier, -r) + zp for |x| < 2^29 and 1 <= r <= 21 (MNV3C_MBQM_SMALL_MAX_R) with one
 * 32x32->64 high multiply (MULH on RV32, SMULL on Arm) and no 64-bit add. Exact, by nested floors:
 *   u = floor(x M / 2^30) = high word of (4x) * M   (|4x| < 2^31)
 *   w = u + 1:  SRDHM(x, M) = t = floor((x M + 2^30) / 2^31) = floor(w / 2),  t < 0 iff w < 0
 *   RDBP(t, r) = floor((t - [t < 0] + 2^(r-1)) / 2^r)            (see mnv3c_mbqm above)
 *              = floor((w - 2 [w < 0] + 2^r) / 2^(r+1))
 * and adding zp * 2^(r+1) inside gives the zero point for free: round = 2^r + zp * 2^(r+1)
 * (mnv3c_mbqm_small_round), r1 = r + 1. |w| <= 2^30 + 1 and |round| < 2^30 for r <= 21 and
 * |zp| <= 128, so no step overflows. tests/test_kernels_c.py checks it against intops.mbqm.
 */
#define MNV3C_MBQM_SMALL_MAX_R 21

static inline int32_t mnv3c_mbqm_small_round(int32_t r, int32_t zp)
{
    return (r > 0 ? (int32_t)1 << r : 0) + zp * ((int32_t)1 << (r + 1));
}

static inline int32_t mnv3c_mbqm_small(int32_t x, int32_t multiplier, int32_t r1, int32_t round)
{
    const int32_t w = (int32_t)mnv3c_asr64((int64_t)(x * 4) * multiplier, 32) + 1;
    return mnv3c_asr(w - 2 * (int32_t)((uint32_t)w >> 31) + round, r1); /* LSR + SUB with LSL on Arm */
}

/*
 * The same for 0 <= r <= 21: r = 0 is SRDHM alone, t + zp = floor((w + 2 zp) / 2), so the RDBP
 * correction is masked off (sign_mask = r >= 1 ? -1 : 0) and round = 2 zp
 * (mnv3c_mbqm_small_round gives that for r = 0). For shifts that may be 0 (the residual add's inputs).
 */
static inline int32_t mnv3c_mbqm_small0(int32_t x, int32_t multiplier, int32_t r1, int32_t round,
                                        int32_t sign_mask)
{
    const int32_t w = (int32_t)mnv3c_asr64((int64_t)(x * 4) * multiplier, 32) + 1;
    return mnv3c_asr(w - ((2 * (int32_t)((uint32_t)w >> 31)) & sign_mask) + round, r1);
}

/* The small form applies: shift in [-MNV3C_MBQM_SMALL_MAX_R, -1] (|x| < 2^29 is the caller's). */
static inline int mnv3c_mbqm_small_ok(int32_t shift)
{
    return shift <= -1 && shift >= -MNV3C_MBQM_SMALL_MAX_R;
}

/* min(max(v, lo), hi) as int8; lo/hi are already in [-128, 127]. */
static inline int8_t mnv3c_clamp8(int32_t v, int32_t lo, int32_t hi)
{
    return (int8_t)(v < lo ? lo : (v > hi ? hi : v));
}

/*
 * The output stage shared by conv/dense/add: t = clamp8(MBQM(acc) + zp, lo, hi), then the optional
 * fused activation table y = lut[t + 128] (lut == NULL: y = t).
 */
static inline int8_t mnv3c_requant_out(int32_t acc, int32_t multiplier, int32_t shift, int32_t zp,
                                       int32_t lo, int32_t hi, const int8_t *lut)
{
    const int8_t t = mnv3c_clamp8(mnv3c_mbqm(acc, multiplier, shift) + zp, lo, hi);
    return lut != NULL ? lut[(int32_t)t + 128] : t;
}

/*
 * Two-pixel packed dot products (used by conv1x1_s8.c and conv2d_s8.c; see conv1x1_s8.c for the
 * derivation). X[c] = x_p[c] + x_q[c] * 2^23 packs two pixels; sum_c X[c] * w[c] accumulated in
 * int64 holds S_p + S_q * 2^23, and the lanes separate exactly while |S_p| < 2^22, i.e. for runs of
 * at most MNV3C_PW_RUN channels (|x|, |w| <= 128). Plain integer C: one 32x32->64 MAC per 2 MACs.
 */
#define MNV3C_PW_LANE_BITS 23 /* position of pixel q's lane in X */
#define MNV3C_PW_RUN 255      /* channels per exact lane run: 255 * 2^14 < 2^22 */
#define MNV3C_PW_MAX_C 1024   /* packed-pixel buffer on the stack: 4 KiB */

/* Adds the two lanes of a packed accumulator (see the header) to the int32 sums *sp and *sq. */
static inline void mnv3c_split_lanes(int64_t acc, int32_t *sp, int32_t *sq)
{
    const uint32_t low_mask = ((uint32_t)1 << MNV3C_PW_LANE_BITS) - 1u;
    const int32_t sign_bit = (int32_t)1 << (MNV3C_PW_LANE_BITS - 1);
    /* sign-extend the low 23 bits: (v ^ 2^22) - 2^22 for v in [0, 2^23) */
    const int32_t low = (int32_t)(((uint32_t)acc & low_mask) ^ (uint32_t)sign_bit) - sign_bit;
    *sp += low;
    *sq += (int32_t)mnv3c_asr64(acc - low, MNV3C_PW_LANE_BITS); /* exact: acc - low = S_q * 2^23 */
}

/*
 * sum_c X[c] * w[c] over packed X[0 .. n) for three weight rows w0, w0 + k, w0 + 2k (n <= MNV3C_PW_RUN),
 * lanes added to p* (pixel p) and q* (pixel q). A plain pointer-walking loop: GCC keeps xp, three
 * weight pointers, the end pointer, X, one weight and six accumulator halves in registers (9
 * instructions per 6 MACs on Cortex-M7). Unrolling makes GCC keep several X live and spill, which
 * costs more than the loop test it saves; a fourth row does not fit the 14 registers either.
 */
static inline void mnv3c_dot3_packed(const int32_t *xp, const int8_t *w0, int32_t k, int32_t n,
                                     int32_t *p0, int32_t *p1, int32_t *p2, int32_t *q0,
                                     int32_t *q1, int32_t *q2)
{
    const int8_t *w1 = w0 + k;
    const int8_t *w2 = w1 + k;
    const int32_t *end = xp + n;
    int64_t a0 = 0, a1 = 0, a2 = 0;
    while (xp < end) {
        const int32_t xv = *xp++;
        a0 += (int64_t)xv * *w0++;
        a1 += (int64_t)xv * *w1++;
        a2 += (int64_t)xv * *w2++;
    }
    mnv3c_split_lanes(a0, p0, q0);
    mnv3c_split_lanes(a1, p1, q1);
    mnv3c_split_lanes(a2, p2, q2);
}

/* One weight row against packed X[0 .. n), n <= MNV3C_PW_RUN (leftover output channels). */
static inline void mnv3c_dot1_packed(const int32_t *xp, const int8_t *w, int32_t n, int32_t *sp,
                                     int32_t *sq)
{
    const int32_t *end = xp + n;
    int64_t a = 0;
    while (xp < end) {
        a += (int64_t)*xp++ * *w++;
    }
    mnv3c_split_lanes(a, sp, sq);
}

/*
 * The shared body of conv1x1_s8 and conv2d_s8: two output pixels p, q whose k input values are
 * packed in xpack[0 .. k) (k <= MNV3C_PW_MAX_C), against all out_c weight rows ([out_c][k]), then
 * requantized; yb == NULL means there is no pixel q (its lane is then 0 and ignored).
 * Requantization parameters are loaded once per output channel and used for both pixels. All
 * partial sums stay scalars (no arrays), so the per-block bookkeeping stays in registers.
 */
static inline void mnv3c_pair_rows_s8(const int32_t *xpack, int32_t k, const int8_t *w, int32_t out_c,
                                      const int32_t *bias, const int32_t *mult, const int8_t *shift,
                                      int32_t zp, int32_t lo, int32_t hi, const int8_t *lut,
                                      int8_t *ya, int8_t *yb)
{
    int32_t o, c;
    for (o = 0; o + 3 <= out_c; o += 3, w += 3 * k) {
        int32_t p0 = 0, p1 = 0, p2 = 0, q0 = 0, q1 = 0, q2 = 0;
        for (c = 0; c < k; c += MNV3C_PW_RUN) {
            const int32_t n = k - c < MNV3C_PW_RUN ? k - c : MNV3C_PW_RUN;
            mnv3c_dot3_packed(xpack + c, w + c, k, n, &p0, &p1, &p2, &q0, &q1, &q2);
        }
        ya[o] = mnv3c_requant_out(p0 + bias[o], mult[o], shift[o], zp, lo, hi, lut);
        ya[o + 1] = mnv3c_requant_out(p1 + bias[o + 1], mult[o + 1], shift[o + 1], zp, lo, hi, lut);
        ya[o + 2] = mnv3c_requant_out(p2 + bias[o + 2], mult[o + 2], shift[o + 2], zp, lo, hi, lut);
        if (yb != NULL) {
            yb[o] = mnv3c_requant_out(q0 + bias[o], mult[o], shift[o], zp, lo, hi, lut);
            yb[o + 1] = mnv3c_requant_out(q1 + bias[o + 1], mult[o + 1], shift[o + 1], zp, lo, hi,
                                          lut);
            yb[o + 2] = mnv3c_requant_out(q2 + bias[o + 2], mult[o + 2], shift[o + 2], zp, lo, hi,
                                          lut);
        }
    }
    for (; o < out_c; ++o, w += k) {
        int32_t p0 = 0, q0 = 0;
        for (c = 0; c < k; c += MNV3C_PW_RUN) {
            const int32_t n = k - c < MNV3C_PW_RUN ? k - c : MNV3C_PW_RUN;
            mnv3c_dot1_packed(xpack + c, w + c, n, &p0, &q0);
        }
        ya[o] = mnv3c_requant_out(p0 + bias[o], mult[o], shift[o], zp, lo, hi, lut);
        if (yb != NULL) {
            yb[o] = mnv3c_requant_out(q0 + bias[o], mult[o], shift[o], zp, lo, hi, lut);
        }
    }
}

#endif /* MNV3C_REQUANT_H */
