/*
 * mnv3c_layer_norm_rows.h - the integer row walk shared by layer_norm_s8.c and layer_norm_s16.c.
 * Why one body: the int8 and the 16x8 kernels must stay step-for-step the same arithmetic
 * (mnv3c/quant/layer_norm.py models both with one function), so they share it instead of copying it.
 *
 * Layout: x is [rows][size][inner], normalised along the middle axis (inner 1 for the last axis of
 * a row-major [N, T, D]); y has x's layout and must not overlap x. No scratch, no division, no float.
 *
 * Arithmetic, per row of n = size codes x_i (the input zero point cancels out):
 *   1. sum = sum_i x_i (int32); u_i = n * x_i - sum (int32, = n * (x_i - mean) exactly).
 *   2. W = sum_i u_i^2 + eps (int64; eps = round(n^3 * epsilon / s_x^2), so that
 *      (x_i - mean) / sqrt(var + epsilon) = sqrt(n) * u_i / sqrt(W); W < 2^62, W >= 1).
 *   3. Normalise: the least k >= 0 with W * 4^k >= 2^60; s = isqrt(W * 4^k) (floor square root,
 *      bit by bit), so s is in [2^30, 2^31) and sqrt(W) ~ s * 2^-k.
 *   4. Reciprocal: f = one_over_one_plus_x(2 s - 2^31) (gemmlowp's 1 / (1 + a) in Q0.31, three
 *      Newton-Raphson steps, as softmax_s8), so 1 / s = f * 2^-61 and 1 / sqrt(W) = f * 2^(k - 61).
 *   5. r_i = RDBP64(u_i * f, 61 - k - 24): u_i / sqrt(W) in Q24 (|r_i| <= 2^24).
 *   6. y_i = clamp(RDBP64(r_i * gamma[i] + beta[i], out_shift) + output_zp), with the per-channel
 *      gamma[i] = round(g_i * sqrt(n) / s_y * 2^G) (int32) and beta[i] = round(b_i / s_y * 2^out_shift)
 *      (int64), out_shift = G + 24; clamp to int8 or int16.
 * RDBP64(v, e) rounds v / 2^e to nearest, ties away from zero.
 *
 * The element width is a compile-time constant at each call site (1 or 2 bytes), so each kernel
 * inlines a loop specialised to its type.
 */
#ifndef MNV3C_LAYER_NORM_ROWS_H
#define MNV3C_LAYER_NORM_ROWS_H

#include "mnv3c_kernels.h"
#include "mnv3c_fixedpoint.h"

#define MNV3C_LN_NORM_BITS 24

/* v / 2^e rounded to nearest, ties away from zero (0 <= e <= 62). */
static inline int64_t mnv3c_ln_rdbp64(int64_t v, int32_t e)
{
    const int64_t half = e > 0 ? (int64_t)1 << (e - 1) : 0;
    return v >= 0 ? (v + half) >> e : -((-v + half) >> e);
}

/* floor(sqrt(v)) for v < 2^62, bit by bit. */
static inline uint32_t mnv3c_ln_isqrt64(uint64_t v)
{
    uint64_t res = 0, bit = (uint64_t)1 << 62;
    while (bit > v) {
        bit >>= 2;
    }
    while (bit != 0) {
        if (v >= res + bit) {
            v -= res + bit;
            res = (res >> 1) + bit;
        } else {
            res >>= 1;
        }
        bit >>= 2;
    }
    return (uint32_t)res;
}

/* Code j of x, of `width` bytes (1: int8, 2: int16). */
static inline int32_t mnv3c_ln_load(const void *x, size_t j, int32_t width)
{
    return width == 2 ? ((const int16_t *)x)[j] : ((const int8_t *)x)[j];
}

/* Store v, saturated to the type of `width` bytes, as code j of y. */
static inline void mnv3c_ln_store(void *y, size_t j, int64_t v, int32_t width)
{
    if (width == 2) {
        ((int16_t *)y)[j] = (int16_t)(v < -32768 ? -32768 : (v > 32767 ? 32767 : v));
    } else {
        ((int8_t *)y)[j] = (int8_t)(v < -128 ? -128 : (v > 127 ? 127 : v));
    }
}

/* Steps 1-6 above over every row of x into y; `width` is the element size in bytes (1 or 2). */
static inline void mnv3c_layer_norm_rows(const mnv3c_layer_norm_params *p, const void *x, void *y,
                                         int32_t width)
{
    const size_t step = (size_t)p->inner;
    int32_t r, i, c;
    for (r = 0; r < p->rows; ++r) {
      for (i = 0; i < p->inner; ++i) {
        const size_t base = (size_t)r * (size_t)p->size * step + (size_t)i;
        int32_t sum = 0, k = 0, f;
        uint64_t w = (uint64_t)p->eps;
        for (c = 0; c < p->size; ++c) {
            sum += mnv3c_ln_load(x, base + (size_t)c * step, width);
        }
        for (c = 0; c < p->size; ++c) {
            const int32_t u = p->size * mnv3c_ln_load(x, base + (size_t)c * step, width) - sum;
            w += (uint64_t)((int64_t)u * u);
        }
        if (w == 0u) {
            w = 1u;
        }
        while (w < ((uint64_t)1 << 60)) {
            w <<= 2;
            ++k;
        }
        f = mnv3c_one_over_one_plus_x((int32_t)(2u * mnv3c_ln_isqrt64(w) - 0x80000000u));
        for (c = 0; c < p->size; ++c) {
            const int32_t u = p->size * mnv3c_ln_load(x, base + (size_t)c * step, width) - sum;
            const int64_t norm = mnv3c_ln_rdbp64((int64_t)u * f, 61 - k - MNV3C_LN_NORM_BITS);
            const int64_t v = mnv3c_ln_rdbp64(norm * p->gamma[c] + p->beta[c], p->out_shift) + p->output_zp;
            mnv3c_ln_store(y, base + (size_t)c * step, v, width);
        }
      }
    }
}

#endif
