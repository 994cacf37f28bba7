/*
 * depthwise_conv2d_s8_riscv.c - depthwise convolution (ch_mult 1) for RV32IMC cores: the
 * arithmetic of ../depthwise_conv2d_s8.c (same bytes), shaped for a register-rich load/store ISA.
 *
 * Two output pixels x four channels per block, eight register sums. Per output pixel pair the
 * address of every tap (kernel_h * kernel_w) of both pixels is computed once into a stack table; a
 * tap in the padding points at a row of input_zp bytes instead, which cancels the -input_zp * w
 * folded into the bias exactly (as ../conv2d_s8.c), so border and interior pixels run the same
 * loop with no test per tap. Per tap of a block: two table loads and two adds for the addresses,
 * 4 weight + 8 input byte loads at constant offsets, 8 MUL + 8 ADD.
 * Weights: "depthwise_rv" ([in_c / 4][kernel_h * kernel_w][4]: the block's taps contiguous).
 * Precondition (plan/kernels.py): ch_mult 1, in_c a multiple of 4 and <= MNV3C_RV_DW_MAX_C,
 * kernel_h * kernel_w <= MNV3C_RV_DW_MAX_TAPS. Two entry points, chosen per layer at compile time:
 * mnv3c_depthwise_conv2d_s8_riscv_short where the one-MULH output stage is proven exact for the
 * layer, the general MBQM elsewhere.
 */
#include "mnv3c_kernels.h"
#include "mnv3c_riscv.h"
#include "mnv3c_rv_gemm.h"

#define MNV3C_RV_DW_MAX_C 1024   /* the input_zp row on the stack */
#define MNV3C_RV_DW_MAX_TAPS 64 /* the tap address tables on the stack */

/* Tap addresses of output pixel (oy, ox): its input pixel, or the input_zp row where padded. */
static void taps_of(const mnv3c_depthwise_conv2d_params *p, const int8_t *x, const int8_t *zrow, int32_t oy,
                    int32_t ox, const int8_t **t)
{
    const int32_t iy0 = oy * p->stride_h - p->pad_top, ix0 = ox * p->stride_w - p->pad_left;
    int32_t ky, kx;
    for (ky = 0; ky < p->kernel_h; ++ky) {
        const int32_t iy = iy0 + ky * p->dilation_h;
        for (kx = 0; kx < p->kernel_w; ++kx) {
            const int32_t ix = ix0 + kx * p->dilation_w;
            const int valid = iy >= 0 && iy < p->in_h && ix >= 0 && ix < p->in_w;
            *t++ = valid ? x + (iy * p->in_w + ix) * p->in_c : zrow;
        }
    }
}

/* Every channel block of one output pixel pair (n = 1: the second table repeats the first, not stored). */
MNV3C_RV_INLINE void channels(const mnv3c_rv_out *s, int32_t taps, const int8_t *const *t0, const int8_t *const *t1,
                              const int8_t *w, int32_t n, int8_t *yp, int short_rq)
{
    int32_t c, i;
    for (c = 0; c < s->out_c; c += 4, w += 4 * taps) {
        const int8_t *wt = w;
        int32_t a0 = s->bias[c], a1 = s->bias[c + 1], a2 = s->bias[c + 2], a3 = s->bias[c + 3];
        int32_t b0 = a0, b1 = a1, b2 = a2, b3 = a3;
        for (i = 0; i < taps; ++i, wt += 4) {
            const int8_t *u = t0[i] + c, *v = t1[i] + c;
            const int32_t w0 = wt[0], w1 = wt[1], w2 = wt[2], w3 = wt[3];
            a0 += u[0] * w0, a1 += u[1] * w1, a2 += u[2] * w2, a3 += u[3] * w3;
            b0 += v[0] * w0, b1 += v[1] * w1, b2 += v[2] * w2, b3 += v[3] * w3;
        }
        mnv3c_rv_store(s, c, a0, b0, 0, 0, n, yp, short_rq);
        mnv3c_rv_store(s, c + 1, a1, b1, 0, 0, n, yp, short_rq);
        mnv3c_rv_store(s, c + 2, a2, b2, 0, 0, n, yp, short_rq);
        mnv3c_rv_store(s, c + 3, a3, b3, 0, 0, n, yp, short_rq);
    }
}

MNV3C_RV_INLINE void depthwise(const mnv3c_depthwise_conv2d_params *p, const int8_t *MNV3C_RESTRICT x,
                               int8_t *MNV3C_RESTRICT y, int short_rq)
{
    const int32_t C = p->in_c, taps = p->kernel_h * p->kernel_w;
    const int32_t pixels = p->out_h * p->out_w;
    const mnv3c_rv_out s = mnv3c_rv_out_init(p->bias_folded, p->out_mult, p->out_shift, p->output_zp,
                                              p->act_min, p->act_max, p->lut, C);
    int8_t zrow[MNV3C_RV_DW_MAX_C];
    const int8_t *t0[MNV3C_RV_DW_MAX_TAPS], *t1[MNV3C_RV_DW_MAX_TAPS];
    int32_t px, c, oy = 0, ox = 0;
    for (c = 0; c < C; ++c) {
        zrow[c] = (int8_t)p->input_zp;
    }
    for (px = 0; px < pixels; px += 2) {
        const int32_t n = pixels - px < 2 ? 1 : 2; /* a missing second pixel repeats the first, not stored */
        int8_t *yp = y + px * C;
        taps_of(p, x, zrow, oy, ox, t0);
        if (n > 1 && ++ox == p->out_w) { /* (oy, ox) kept without a division (none on the LX106) */
            ox = 0;
            ++oy;
        }
        taps_of(p, x, zrow, oy, ox, t1);
        if (++ox == p->out_w) {
            ox = 0;
            ++oy;
        }
        if (n == 2 && s.lut != NULL) { /* the pixel count and table tests resolved outside the loop */
            channels(&s, taps, t0, t1, p->weights, 2, yp, short_rq);
        } else if (n == 2) {
            channels(&s, taps, t0, t1, p->weights, 2, yp, short_rq);
        } else {
            channels(&s, taps, t0, t1, p->weights, 1, yp, short_rq);
        }
    }
}

void mnv3c_depthwise_conv2d_s8_riscv(const mnv3c_depthwise_conv2d_params *p, const int8_t *MNV3C_RESTRICT x,
                                     int8_t *MNV3C_RESTRICT y, void *scratch)
{
    (void)scratch;
    depthwise(p, x, y, 0);
}

void mnv3c_depthwise_conv2d_s8_riscv_short(const mnv3c_depthwise_conv2d_params *p,
                                           const int8_t *MNV3C_RESTRICT x, int8_t *MNV3C_RESTRICT y,
                                           void *scratch)
{
    (void)scratch;
    depthwise(p, x, y, 1);
}

size_t mnv3c_depthwise_conv2d_s8_riscv_scratch_bytes(const mnv3c_depthwise_conv2d_params *p)
{
    (void)p;
    return 0;
}

size_t mnv3c_depthwise_conv2d_s8_riscv_short_scratch_bytes(const mnv3c_depthwise_conv2d_params *p)
{
    (void)p;
    return 0;
}
