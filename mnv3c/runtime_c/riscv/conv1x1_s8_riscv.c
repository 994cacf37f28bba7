/*
 * conv1x1_s8_riscv.c - pointwise convolution for RV32IMC cores (no DSP, no vectors, 31 registers):
 * the arithmetic of ../conv1x1_s8.c (same bytes), shaped for a register-rich load/store ISA.
 *
 * The portable kernel's two-pixel packing needs 32x32->64 products, which cost MUL + MULH and a
 * carried 64-bit add on RV32. Here every product is a plain 32-bit MUL: four pixels at a time are
 * interleaved into a stack buffer [in_c][4] and multiplied by every block of four output channels
 * (mnv3c_rv_gemm.h: 16 register sums). Weights: "pointwise_rv".
 * Precondition (plan/kernels.py): pointwise geometry as conv1x1_s8, in_c <= MNV3C_PW_MAX_C.
 * Two entry points, chosen per layer at compile time: mnv3c_conv1x1_s8_riscv_short where the
 * one-MULH output stage is proven exact for the layer, the general MBQM elsewhere.
 */
/* GCC's first scheduling pass hoists the block's loads and products and spills two of its 16 sums:
 * without it the inner loop is 43 instructions for 16 MACs, no stack traffic, instead of 46 (for the
 * whole file, so every inlined helper shares the options). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-schedule-insns")
#endif
#include "mnv3c_kernels.h"
#include "mnv3c_riscv.h"
#include "mnv3c_rv_gemm.h"

/* Interleaves n (1..4) pixels of in_c inputs, pixel stride in_c, into xb[in_c][4] (zeros past n). */
static void interleave(const int8_t *x, int32_t in_c, int32_t n, int8_t *xb)
{
    int32_t c, j;
    for (j = 0; j < 4; ++j) {
        const int8_t *xj = x + j * in_c;
        int8_t *d = xb + j;
        for (c = 0; c < in_c; ++c, d += 4) {
            *d = j < n ? xj[c] : 0;
        }
    }
}

MNV3C_RV_INLINE void conv1x1(const mnv3c_conv2d_params *p, const int8_t *MNV3C_RESTRICT x,
                             int8_t *MNV3C_RESTRICT y, int short_rq)
{
    const int32_t in_c = p->in_c, out_c = p->out_c;
    const int32_t pixels = p->in_h * p->in_w;
    const mnv3c_rv_out s = mnv3c_rv_out_init(p->bias_folded, p->out_mult, p->out_shift, p->output_zp,
                                              p->act_min, p->act_max, p->lut, out_c);
    const int8_t *const w = p->weights;
    int8_t xb[4 * MNV3C_PW_MAX_C];
    int32_t px;
    for (px = 0; px < pixels; px += 4) {
        const int32_t n = pixels - px < 4 ? pixels - px : 4;
        interleave(x + px * in_c, in_c, n, xb);
        mnv3c_rv_gemm(xb, in_c, w, &s, n, y + px * out_c, short_rq);
    }
}

void mnv3c_conv1x1_s8_riscv(const mnv3c_conv2d_params *p, const int8_t *MNV3C_RESTRICT x,
                            int8_t *MNV3C_RESTRICT y, void *scratch)
{
    (void)scratch;
    conv1x1(p, x, y, 0);
}

void mnv3c_conv1x1_s8_riscv_short(const mnv3c_conv2d_params *p, const int8_t *MNV3C_RESTRICT x,
                                  int8_t *MNV3C_RESTRICT y, void *scratch)
{
    (void)scratch;
    conv1x1(p, x, y, 1);
}

size_t mnv3c_conv1x1_s8_riscv_scratch_bytes(const mnv3c_conv2d_params *p)
{
    (void)p;
    return 0;
}

size_t mnv3c_conv1x1_s8_riscv_short_scratch_bytes(const mnv3c_conv2d_params *p)
{
    (void)p;
    return 0;
}
