/*
 * dense_s16.c - 16x8 fully connected layer: y = x @ w.T + bias, int64 accumulator.
 *
 * Layout: x [in_features], weights [out_features][in_features], y [out_features].
 * Arithmetic (docs/ARITHMETIC.md, "int16 (16x8)"), as TFLite's 16x8 FullyConnected:
 *   y[o] = clamp16(MBQM64(bias[o] + sum_i x[i] * w[o][i], out_mult[o], out_shift[o]), act_min, act_max),
 * then the fused activation (lut or hswish).
 */
#include "mnv3c_kernels_s16.h"
#include "mnv3c_requant_s16.h"

void mnv3c_dense_s16(const mnv3c_dense_s16_params *p, const int16_t *MNV3C_RESTRICT x,
                     int16_t *MNV3C_RESTRICT y, void *scratch)
{
    const int8_t *w = p->weights;
    int32_t o;
    (void)scratch;
    for (o = 0; o < p->out_features; ++o, w += p->in_features) {
        const int64_t acc = p->bias[o] + mnv3c_dot_s16(x, w, p->in_features);
        y[o] = mnv3c_requant_out16(acc, p->out_mult[o], p->out_shift[o], p->act_min, p->act_max, p->lut,
                                   p->hswish);
    }
}

size_t mnv3c_dense_s16_scratch_bytes(const mnv3c_dense_s16_params *p)
{
    (void)p;
    return 0;
}
