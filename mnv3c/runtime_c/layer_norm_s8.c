/*
 * layer_norm_s8.c - int8 LayerNormalization over the last axis, integer only:
 * y = gamma * (x - mean) / sqrt(var + eps) + beta, bit-exact with mnv3c/quant/layer_norm.py.
 *
 * Layout: x is [rows][size][inner], normalised along the middle axis (as softmax_s8; inner 1 for
 * the last axis of a row-major [N, T, D]).
 * y has x's layout and must not overlap x. No scratch, no division, no float.
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
 *   6. y_i = clamp8(RDBP64(r_i * gamma[i] + beta[i], out_shift) + output_zp), with the per-channel
 *      gamma[i] = round(g_i * sqrt(n) / s_y * 2^G) (int32) and beta[i] = round(b_i / s_y * 2^out_shift)
 *      (int64), out_shift = G + 24.
 * RDBP64(v, e) rounds v / 2^e to nearest, ties away from zero.
 */
#include "mnv3c_kernels.h"
#include "mnv3c_fixedpoint.h"

#define MNV3C_LN_NORM_BITS 24

/* v / 2^e rounded to nearest, ties away from zero (0 <= e <= 62). */
static int64_t rdbp64(int64_t v, int32_t e)
{
    const int64_t half = e > 0 ? (int64_t)1 << (e - 1) : 0;
    return v >= 0 ? (v + half) >> e : -((-v + half) >> e);
}

/* floor(sqrt(v)) for v < 2^62, bit by bit. */
static uint32_t isqrt64(uint64_t v)
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

void mnv3c_layer_norm_s8(const mnv3c_layer_norm_params *p, const int8_t *MNV3C_RESTRICT x,
                         int8_t *MNV3C_RESTRICT y, void *scratch)
{
    const size_t step = (size_t)p->inner;
    int32_t r, i, c;
    (void)scratch;
    for (r = 0; r < p->rows; ++r) {
      for (i = 0; i < p->inner; ++i) {
        const size_t base = (size_t)r * (size_t)p->size * step + (size_t)i;
        const int8_t *xr = x + base;
        int8_t *yr = y + base;
        int32_t sum = 0, k = 0, f;
        uint64_t w = (uint64_t)p->eps;
        for (c = 0; c < p->size; ++c) {
            sum += xr[(size_t)c * step];
        }
        for (c = 0; c < p->size; ++c) {
            const int32_t u = p->size * xr[(size_t)c * step] - sum;
            w += (uint64_t)((int64_t)u * u);
        }
        if (w == 0u) {
            w = 1u;
        }
        while (w < ((uint64_t)1 << 60)) {
            w <<= 2;
            ++k;
        }
        f = mnv3c_one_over_one_plus_x((int32_t)(2u * isqrt64(w) - 0x80000000u));
        for (c = 0; c < p->size; ++c) {
            const int32_t u = p->size * xr[(size_t)c * step] - sum;
            const int64_t norm = rdbp64((int64_t)u * f, 61 - k - MNV3C_LN_NORM_BITS);
            const int64_t v = rdbp64(norm * p->gamma[c] + p->beta[c], p->out_shift) + p->output_zp;
            yr[(size_t)c * step] = (int8_t)(v < -128 ? -128 : (v > 127 ? 127 : v));
        }
      }
    }
}

size_t mnv3c_layer_norm_s8_scratch_bytes(const mnv3c_layer_norm_params *p)
{
    (void)p;
    return 0;
}
