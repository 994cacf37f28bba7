/*
 * dense_s8_xtensa.c - int8 fully connected layer for the Xtensa LX106: the arithmetic of
 * ../dense_s8.c (same bytes).
 *
 * The input is sign-extended once into a stack buffer (int16) and summed; then eight outputs per
 * pass over it, eight register sums: per input one L16SI, the 8 weights of the block (offset by 128,
 * one L8UI each) at constant offsets from one pointer, 8 multiplies + 8 adds. Weights: "dense_xt"
 * ([out / 8][in][8], out padded with zero rows, each byte w ^ 0x80: mnv3c/codegen/layouts.py);
 * padded outputs are not stored. Output stage: mnv3c_xt_gemm.h (no int64).
 * Precondition (plan/kernels.py): one row, in_features <= MNV3C_PW_MAX_C.
 * Two entry points, chosen per layer at compile time: mnv3c_dense_s8_xtensa_short where the
 * one-MULH output stage is proven exact for the layer, the general MBQM elsewhere.
 */
#include "mnv3c_kernels.h"
#include "mnv3c_xtensa.h"
#include "mnv3c_xt_gemm.h"

#define MNV3C_XT_DENSE_BLOCK 8

/* Every output of the input in xb[0 .. k) (128 * its sum: m); out of line as mnv3c_xt_gemm. */
MNV3C_XT_INLINE void dense_blocks(const mnv3c_xt_out *s, const int16_t *xb, int32_t k, int32_t m,
                                  const uint8_t *w, int8_t *y, int short_rq)
{
    const int16_t *const x_end = xb + k;
    int32_t o, i;
    for (o = 0; o < s->out_c; o += MNV3C_XT_DENSE_BLOCK) {
        uint32_t acc[MNV3C_XT_DENSE_BLOCK];
        const int16_t *xc = xb;
        const int32_t n = s->out_c - o < MNV3C_XT_DENSE_BLOCK ? s->out_c - o : MNV3C_XT_DENSE_BLOCK;
        for (i = 0; i < MNV3C_XT_DENSE_BLOCK; ++i) { /* the sums start at the bias */
            acc[i] = (uint32_t)mnv3c_xt_bias(s, o, n, i) - (uint32_t)m;
        }
#pragma GCC unroll 2
        while (xc < x_end) {
            const int32_t xv = *xc++;
#pragma GCC unroll 8 /* the sums stay in registers */
            for (i = 0; i < MNV3C_XT_DENSE_BLOCK; ++i) {
                acc[i] += (uint32_t)(xv * w[i]);
            }
            w += MNV3C_XT_DENSE_BLOCK;
        }
        for (i = 0; i < n; ++i) {
            mnv3c_xt_store2(s, o + i, acc[i], 0, 0, y, short_rq);
        }
    }
}

MNV3C_XT_HOT void dense_general(const mnv3c_xt_out *s, const int16_t *xb, int32_t k, int32_t m, const uint8_t *w,
                                int8_t *y)
{
    dense_blocks(s, xb, k, m, w, y, 0);
}

MNV3C_XT_HOT void dense_short(const mnv3c_xt_out *s, const int16_t *xb, int32_t k, int32_t m, const uint8_t *w,
                              int8_t *y)
{
    dense_blocks(s, xb, k, m, w, y, 1);
}

MNV3C_XT_INLINE void dense(const mnv3c_dense_params *p, const int8_t *MNV3C_RESTRICT x, int8_t *MNV3C_RESTRICT y,
                           int short_rq)
{
    const int32_t k = p->in_features;
    const mnv3c_xt_out s = mnv3c_xt_out_init(p->bias_folded, p->out_mult, p->out_shift, p->output_zp,
                                             p->act_min, p->act_max, p->lut, p->out_features);
    int16_t xb[MNV3C_PW_MAX_C];
    int32_t i, sum = 0;
    for (i = 0; i < k; ++i) {
        xb[i] = x[i];
        sum += x[i];
    }
    if (short_rq) {
        dense_short(&s, xb, k, 128 * sum, (const uint8_t *)p->weights, y);
    } else {
        dense_general(&s, xb, k, 128 * sum, (const uint8_t *)p->weights, y);
    }
}

void mnv3c_dense_s8_xtensa(const mnv3c_dense_params *p, const int8_t *MNV3C_RESTRICT x, int8_t *MNV3C_RESTRICT y,
                           void *scratch)
{
    (void)scratch;
    dense(p, x, y, 0);
}

void mnv3c_dense_s8_xtensa_short(const mnv3c_dense_params *p, const int8_t *MNV3C_RESTRICT x,
                                 int8_t *MNV3C_RESTRICT y, void *scratch)
{
    (void)scratch;
    dense(p, x, y, 1);
}

size_t mnv3c_dense_s8_xtensa_scratch_bytes(const mnv3c_dense_params *p)
{
    (void)p;
    return 0;
}

size_t mnv3c_dense_s8_xtensa_short_scratch_bytes(const mnv3c_dense_params *p)
{
    (void)p;
    return 0;
}
