/*
 * dense_s8_riscv.c - int8 fully connected layer for RV32IMC cores: the arithmetic of ../dense_s8.c
 * (same bytes), shaped for a register-rich load/store ISA.
 *
 * Eight outputs per pass over x, eight register sums: per input one byte load of x, the 8
 * weights of the block at constant offsets from one pointer, 8 MUL + 8 ADD, two pointer
 * increments: 28 instructions for 8 MACs (the portable kernel's four rows take 19 for 4; a block
 * of 16 makes GCC 12 hoist all 16 weight loads and spill the sums). Plain
 * 32-bit products. Weights: "dense_rv" ([out / 8][in][8], out padded with zero rows:
 * mnv3c/codegen/layouts.py); padded outputs are not stored.
 * Two entry points, chosen per layer at compile time: mnv3c_dense_s8_riscv_short where the one-MULH
 * output stage (mnv3c_rv_gemm.h) is proven exact for the layer, the general MBQM elsewhere.
 */
#include "mnv3c_kernels.h"
#include "mnv3c_riscv.h"
#include "mnv3c_rv_gemm.h"

#define MNV3C_RV_DENSE_BLOCK 8

MNV3C_RV_INLINE void dense(const mnv3c_dense_params *p, const int8_t *MNV3C_RESTRICT x, int8_t *MNV3C_RESTRICT y,
                           int short_rq)
{
    const int32_t k = p->in_features, n_out = p->out_features;
    const mnv3c_rv_out s = mnv3c_rv_out_init(p->bias_folded, p->out_mult, p->out_shift, p->output_zp,
                                             p->act_min, p->act_max, p->lut, n_out);
    const int8_t *w = p->weights;
    const int8_t *const x_end = x + k;
    int32_t o, i;
    for (o = 0; o < n_out; o += MNV3C_RV_DENSE_BLOCK) {
        int32_t acc[MNV3C_RV_DENSE_BLOCK];
        const int8_t *xc = x;
        const int32_t n = n_out - o < MNV3C_RV_DENSE_BLOCK ? n_out - o : MNV3C_RV_DENSE_BLOCK;
        for (i = 0; i < MNV3C_RV_DENSE_BLOCK; ++i) { /* the sums start at the bias */
            acc[i] = mnv3c_rv_bias(&s, o, n, i);
        }
        while (xc < x_end) {
            const int32_t xv = *xc++;
#pragma GCC unroll 8 /* the sums stay in registers */
            for (i = 0; i < MNV3C_RV_DENSE_BLOCK; ++i) {
                acc[i] += xv * w[i];
            }
            w += MNV3C_RV_DENSE_BLOCK;
        }
        for (i = 0; i < n; ++i) {
            mnv3c_rv_store(&s, o + i, acc[i], 0, 0, 0, 1, y, short_rq);
        }
    }
}

void mnv3c_dense_s8_riscv(const mnv3c_dense_params *p, const int8_t *MNV3C_RESTRICT x, int8_t *MNV3C_RESTRICT y,
                          void *scratch)
{
    (void)scratch;
    dense(p, x, y, 0);
}

void mnv3c_dense_s8_riscv_short(const mnv3c_dense_params *p, const int8_t *MNV3C_RESTRICT x,
                                int8_t *MNV3C_RESTRICT y, void *scratch)
{
    (void)scratch;
    dense(p, x, y, 1);
}

size_t mnv3c_dense_s8_riscv_scratch_bytes(const mnv3c_dense_params *p)
{
    (void)p;
    return 0;
}

size_t mnv3c_dense_s8_riscv_short_scratch_bytes(const mnv3c_dense_params *p)
{
    (void)p;
    return 0;
}
