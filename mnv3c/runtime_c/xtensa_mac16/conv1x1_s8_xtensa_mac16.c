/*
 * conv1x1_s8_xtensa_mac16.c - pointwise convolution for windowed Xtensa cores with MAC16 (ESP32):
 * the arithmetic of ../conv1x1_s8.c (same bytes).
 *
 * Up to eight pixels at a time, their in_c inputs sign-extended once into a stack buffer (int16,
 * zeros up to the padded length), then mnv3c_mac16_gemm.h's product: one MULA.DD.*.LDINC per MAC,
 * the LX106 variants' output stage with its per-channel constants split once for the block.
 * Weights "pointwise_mac16" (int16, about twice the flash of int8: mnv3c_mac16_gemm.h).
 * Precondition (plan/kernels.py): pointwise geometry as conv1x1_s8, in_c <= MNV3C_PW_MAX_C.
 * Two entry points, chosen per layer at compile time: _short where the one-MULH output stage is
 * proven exact for the layer, the general MBQM elsewhere.
 */
#include "mnv3c_kernels.h"
#include "mnv3c_xtensa_mac16.h"
#include "mnv3c_mac16_gemm.h"

MNV3C_XT_HOT void block_general(const int16_t *x, int32_t n, int32_t quads, const int16_t *w,
                                const mnv3c_xt_out *s, int8_t *y)
{
    mnv3c_mac16_block(x, n, quads, w, s, y, 0);
}

MNV3C_XT_HOT void block_short(const int16_t *x, int32_t n, int32_t quads, const int16_t *w, const mnv3c_xt_out *s,
                              int8_t *y)
{
    mnv3c_mac16_block(x, n, quads, w, s, y, 1);
}

MNV3C_XT_INLINE void conv1x1(const mnv3c_conv2d_params *p, const int8_t *MNV3C_RESTRICT x,
                             int8_t *MNV3C_RESTRICT y, int short_rq)
{
    const int32_t in_c = p->in_c, out_c = p->out_c, kp = MNV3C_MAC16_KP(in_c), stride = kp + 2;
    const int32_t pixels = p->in_h * p->in_w, per_block = mnv3c_mac16_rows(stride);
    const mnv3c_xt_out s = mnv3c_xt_out_init(p->bias_folded, p->out_mult, p->out_shift, p->output_zp,
                                             p->act_min, p->act_max, p->lut, out_c);
    const int16_t *const w = (const int16_t *)(const void *)p->weights;
    int16_t buf[MNV3C_MAC16_BUF_VALUES] __attribute__((aligned(4)));
    int32_t px, c, i;
    for (i = 0; i < per_block; ++i) { /* the padding stays zero: each pixel fills 0 .. in_c of its row */
        for (c = in_c; c < stride; ++c) {
            buf[i * stride + c] = 0;
        }
    }
    for (px = 0; px < pixels; px += per_block) {
        const int32_t n = pixels - px < per_block ? pixels - px : per_block;
        const int8_t *xp = x + px * in_c;
        for (i = 0; i < n; ++i, xp += in_c) {
            int16_t *const row = buf + i * stride;
            for (c = 0; c < in_c; ++c) {
                row[c] = xp[c];
            }
        }
        if (short_rq) {
            block_short(buf, n, kp / 4, w, &s, y + px * out_c);
        } else {
            block_general(buf, n, kp / 4, w, &s, y + px * out_c);
        }
    }
}

void mnv3c_conv1x1_s8_xtensa_mac16(const mnv3c_conv2d_params *p, const int8_t *MNV3C_RESTRICT x,
                                   int8_t *MNV3C_RESTRICT y, void *scratch)
{
    (void)scratch;
    conv1x1(p, x, y, 0);
}

void mnv3c_conv1x1_s8_xtensa_mac16_short(const mnv3c_conv2d_params *p, const int8_t *MNV3C_RESTRICT x,
                                         int8_t *MNV3C_RESTRICT y, void *scratch)
{
    (void)scratch;
    conv1x1(p, x, y, 1);
}

size_t mnv3c_conv1x1_s8_xtensa_mac16_scratch_bytes(const mnv3c_conv2d_params *p)
{
    (void)p;
    return 0;
}

size_t mnv3c_conv1x1_s8_xtensa_mac16_short_scratch_bytes(const mnv3c_conv2d_params *p)
{
    (void)p;
    return 0;
}
