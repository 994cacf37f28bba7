/*
 * squeeze_excite_s8.c - the MobileNetV3 squeeze-and-excite block without a full-size intermediate.
 *
 * Layout: x, y NHWC [in_h][in_w][channels] (y may be x: in place is safe, the pool reads all of x
 * before the multiply writes). Weights as in dense_s8.c: fc1 [R][channels], fc2 [channels][R].
 * Arithmetic (docs/ARITHMETIC.md, "squeeze_excite"), composed of the standalone kernels:
 *   pooled = global_avg_pool(x)          -> scratch[0 .. channels)   (zero point fc1.input_zp)
 *   r      = dense(fc1, pooled) (relu)   -> scratch[channels .. channels + R)
 *   gate   = dense(fc2, r) (h-sigmoid)   -> scratch[0 .. channels)   (overwrites pooled)
 *   y[px][c] = mul(x[px][c], gate[c])    (gate zero point gate_zp)
 * Scratch: channels + R bytes, byte-aligned.
 * The first and last stages are also entry points of their own (mnv3c_squeeze_excite_s8_pool,
 * _scale), so a target variant (riscv/) composes them around its own dense kernels.
 */
#include "mnv3c_kernels.h"
#include "mnv3c_requant.h"

void mnv3c_squeeze_excite_s8_pool(const mnv3c_squeeze_excite_params *p, const int8_t *x, void *scratch)
{
    mnv3c_global_avg_pool_params pool;
    pool.in_h = p->in_h;
    pool.in_w = p->in_w;
    pool.channels = p->channels;
    pool.input_zp = p->input_zp;
    pool.output_zp = p->fc1.input_zp;
    pool.out_mult = p->pool_mult;
    pool.out_shift = p->pool_shift;
    mnv3c_global_avg_pool_s8(&pool, x, (int8_t *)scratch, NULL);
}

void mnv3c_squeeze_excite_s8_scale(const mnv3c_squeeze_excite_params *p, const int8_t *x, int8_t *y,
                                   void *scratch)
{
    mnv3c_mul_params scale;
    scale.rows = p->in_h * p->in_w;
    scale.cols = p->channels;
    scale.b_broadcast = 1;
    scale.a_zp = p->input_zp;
    scale.b_zp = p->gate_zp;
    scale.out_mult = p->mul_mult;
    scale.out_shift = p->mul_shift;
    scale.output_zp = p->output_zp;
    scale.act_min = p->act_min;
    scale.act_max = p->act_max;
    mnv3c_mul_s8(&scale, x, (const int8_t *)scratch, y, NULL);
}

void mnv3c_squeeze_excite_s8(const mnv3c_squeeze_excite_params *p, const int8_t *x, int8_t *y,
                             void *scratch)
{
    int8_t *pooled_then_gate = (int8_t *)scratch;
    int8_t *r = pooled_then_gate + p->channels;
    mnv3c_squeeze_excite_s8_pool(p, x, scratch);
    mnv3c_dense_s8(&p->fc1, pooled_then_gate, r, NULL);
    mnv3c_dense_s8(&p->fc2, r, pooled_then_gate, NULL);
    mnv3c_squeeze_excite_s8_scale(p, x, y, scratch);
}

size_t mnv3c_squeeze_excite_s8_scratch_bytes(const mnv3c_squeeze_excite_params *p)
{
    return (size_t)p->channels + (size_t)p->fc1.out_features;
}
