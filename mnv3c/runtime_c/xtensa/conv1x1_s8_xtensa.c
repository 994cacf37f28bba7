/*
 * conv1x1_s8_xtensa.c - pointwise convolution for the Xtensa LX106 (ESP8266: call0, 16 registers,
 * no 32x32->64 multiply, no signed byte load): the arithmetic of ../conv1x1_s8.c (same bytes).
 *
 * Two pixels at a time: their in_c inputs are sign-extended once into a stack buffer xb[in_c][2]
 * (int16) and summed, then every block of four output channels runs over them (mnv3c_xt_gemm.h:
 * eight register sums, weights "pointwise_xt" offset by 128, no int64 in the output stage).
 * Precondition (plan/kernels.py): pointwise geometry as conv1x1_s8, in_c <= MNV3C_PW_MAX_C.
 * Two entry points, chosen per layer at compile time: mnv3c_conv1x1_s8_xtensa_short where the
 * one-MULH output stage is proven exact for the layer, the general MBQM elsewhere.
 */
#include "mnv3c_kernels.h"
#include "mnv3c_xtensa.h"
#include "mnv3c_xt_gemm.h"

/* Interleaves pixel a (and b, or zeros when b is NULL) of in_c inputs into xb[in_c][2]; returns
 * 128 * the sum of each pixel's inputs in *m0, *m1. */
static void interleave(const int8_t *a, const int8_t *b, int32_t in_c, int16_t *xb, int32_t *m0, int32_t *m1)
{
    int32_t c, s0 = 0, s1 = 0;
    for (c = 0; c < in_c; ++c, xb += 2) {
        const int32_t u = a[c], v = b != NULL ? b[c] : 0;
        xb[0] = (int16_t)u;
        xb[1] = (int16_t)v;
        s0 += u;
        s1 += v;
    }
    *m0 = 128 * s0;
    *m1 = 128 * s1;
}

MNV3C_XT_HOT void gemm_general(const int16_t *xb, int32_t k, const int8_t *w, const mnv3c_xt_out *s, int32_t m0,
                               int32_t m1, int32_t two, int8_t *y)
{
    mnv3c_xt_gemm(xb, k, w, s, m0, m1, two, y, 0);
}

MNV3C_XT_HOT void gemm_short(const int16_t *xb, int32_t k, const int8_t *w, const mnv3c_xt_out *s, int32_t m0,
                             int32_t m1, int32_t two, int8_t *y)
{
    mnv3c_xt_gemm(xb, k, w, s, m0, m1, two, y, 1);
}

MNV3C_XT_INLINE void conv1x1(const mnv3c_conv2d_params *p, const int8_t *MNV3C_RESTRICT x,
                             int8_t *MNV3C_RESTRICT y, int short_rq)
{
    const int32_t in_c = p->in_c, out_c = p->out_c;
    const int32_t pixels = p->in_h * p->in_w;
    const mnv3c_xt_out s = mnv3c_xt_out_init(p->bias_folded, p->out_mult, p->out_shift, p->output_zp,
                                             p->act_min, p->act_max, p->lut, out_c);
    int16_t xb[2 * MNV3C_PW_MAX_C];
    int32_t px, m0, m1;
    for (px = 0; px < pixels; px += 2) {
        const int32_t two = pixels - px > 1;
        const int8_t *xa = x + px * in_c;
        interleave(xa, two ? xa + in_c : NULL, in_c, xb, &m0, &m1);
        if (short_rq) {
            gemm_short(xb, in_c, p->weights, &s, m0, m1, two, y + px * out_c);
        } else {
            gemm_general(xb, in_c, p->weights, &s, m0, m1, two, y + px * out_c);
        }
    }
}

void mnv3c_conv1x1_s8_xtensa(const mnv3c_conv2d_params *p, const int8_t *MNV3C_RESTRICT x,
                             int8_t *MNV3C_RESTRICT y, void *scratch)
{
    (void)scratch;
    conv1x1(p, x, y, 0);
}

void mnv3c_conv1x1_s8_xtensa_short(const mnv3c_conv2d_params *p, const int8_t *MNV3C_RESTRICT x,
                                   int8_t *MNV3C_RESTRICT y, void *scratch)
{
    (void)scratch;
    conv1x1(p, x, y, 1);
}

size_t mnv3c_conv1x1_s8_xtensa_scratch_bytes(const mnv3c_conv2d_params *p)
{
    (void)p;
    return 0;
}

size_t mnv3c_conv1x1_s8_xtensa_short_scratch_bytes(const mnv3c_conv2d_params *p)
{
    (void)p;
    return 0;
}
