/*
 * layer_norm_s16.c - 16x8 LayerNormalization over the last axis, integer only: layer_norm_s8.c's
 * arithmetic (its header comment, steps 1-6) on symmetric int16 codes, bit-exact with
 * mnv3c/quant/layer_norm.py (layer_norm_s16).
 *
 * Layout: x is [rows][size][inner], normalised along the middle axis; y has x's layout and must not
 * overlap x. No scratch, no division, no float.
 *
 * Differences from the int8 kernel: x and y are int16 with zero point 0 (output_zp is 0), y
 * saturates to int16; |u_i| < size * 2^16, so sum u_i^2 < size^3 * 2^32 < 2^61 for size <= 812
 * (the quantizer's limit, with eps < 2^61): W < 2^62 as in the int8 kernel.
 */
#include "mnv3c_kernels_s16.h"
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

void mnv3c_layer_norm_s16(const mnv3c_layer_norm_params *p, const int16_t *MNV3C_RESTRICT x,
                          int16_t *MNV3C_RESTRICT y, void *scratch)
{
    const size_t step = (size_t)p->inner;
    int32_t r, i, c;
    (void)scratch;
    for (r = 0; r < p->rows; ++r) {
      for (i = 0; i < p->inner; ++i) {
        const size_t base = (size_t)r * (size_t)p->size * step + (size_t)i;
        const int16_t *xr = x + base;
        int16_t *yr = y + base;
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
            yr[(size_t)c * step] = (int16_t)(v < -32768 ? -32768 : (v > 32767 ? 32767 : v));
        }
      }
    }
}

size_t mnv3c_layer_norm_s16_scratch_bytes(const mnv3c_layer_norm_params *p)
{
    (void)p;
    return 0;
}
