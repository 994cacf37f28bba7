/*
 * dense_s8.c - int8 fully connected layer: y[o] = requant(bias_folded[o] + sum_k x[k] * w[o][k]).
 *
 * Layout: x [in_features], weights [out_features][in_features], y [out_features].
 * Arithmetic: docs/ARITHMETIC.md "dense" (no padding, so the folded bias is exact; the dot product
 * is accumulated first and the bias added last).
 */
#include "mnv3c_kernels.h"
#include "mnv3c_requant.h"

void mnv3c_dense_s8(const mnv3c_dense_params *p, const int8_t *MNV3C_RESTRICT x,
                    int8_t *MNV3C_RESTRICT y, void *scratch)
{
    const int32_t k_len = p->in_features;
    const int8_t *w = p->weights;
    int32_t o, k;
    (void)scratch;
    for (o = 0; o < p->out_features; ++o, w += k_len) {
        int32_t acc = 0;
        for (k = 0; k < k_len; ++k) {
            acc += (int32_t)x[k] * w[k];
        }
        y[o] = mnv3c_requant_out(acc + p->bias_folded[o], p->out_mult[o], p->out_shift[o],
                                 p->output_zp, p->act_min, p->act_max, p->lut);
    }
}

size_t mnv3c_dense_s8_scratch_bytes(const mnv3c_dense_params *p)
{
    (void)p;
    return 0;
}
