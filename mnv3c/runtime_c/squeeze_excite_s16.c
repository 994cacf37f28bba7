/*
 * squeeze_excite_s16.c - the 16x8 squeeze-and-excite block without a full-size intermediate.
 *
 * Layout: x, y NHWC [in_h][in_w][channels] (y may be x: the pool reads all of x before the
 * multiply writes). Weights as in dense_s16.c: fc1 [R][channels], fc2 [channels][R].
 * Arithmetic (docs/ARITHMETIC.md, "int16 (16x8)"), zero points 0:
 *   pooled = global_avg_pool_s16(x)    -> scratch[0 .. channels)
 *   r      = dense_s16(fc1, pooled)    -> scratch[channels .. channels + R)
 *   gate   = dense_s16(fc2, r) (+ lut) -> scratch[0 .. channels)   (overwrites pooled)
 *   y[px][c] = clamp16(MBQM(x[px][c] * gate[c], mul_mult, mul_shift), act_min, act_max)
 *   (|x * gate| <= 2^30: an int32).
 * Scratch: 2 * (channels + R) bytes.
 */
#include "mnv3c_kernels_s16.h"
#include "mnv3c_requant_s16.h"

void mnv3c_squeeze_excite_s16(const mnv3c_squeeze_excite_s16_params *p, const int16_t *x, int16_t *y,
                              void *scratch)
{
    int16_t *pooled_then_gate = (int16_t *)scratch;
    int16_t *r = pooled_then_gate + p->channels;
    const int32_t pixels = p->in_h * p->in_w;
    mnv3c_global_avg_pool_params pool;
    int32_t px, c;

    pool.in_h = p->in_h;
    pool.in_w = p->in_w;
    pool.channels = p->channels;
    pool.input_zp = 0;
    pool.output_zp = 0;
    pool.out_mult = p->pool_mult;
    pool.out_shift = p->pool_shift;
    mnv3c_global_avg_pool_s16(&pool, x, pooled_then_gate, NULL);

    mnv3c_dense_s16(&p->fc1, pooled_then_gate, r, NULL);
    mnv3c_dense_s16(&p->fc2, r, pooled_then_gate, NULL);

    for (px = 0; px < pixels; ++px, x += p->channels, y += p->channels) {
        for (c = 0; c < p->channels; ++c) {
            const int32_t prod = (int32_t)x[c] * (int32_t)pooled_then_gate[c];
            y[c] = mnv3c_clamp16(mnv3c_mbqm(prod, p->mul_mult, p->mul_shift), p->act_min, p->act_max);
        }
    }
}

size_t mnv3c_squeeze_excite_s16_scratch_bytes(const mnv3c_squeeze_excite_s16_params *p)
{
    return 2u * ((size_t)p->channels + (size_t)p->fc1.out_features);
}
