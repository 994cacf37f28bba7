/*
 * depthwise_conv2d_s8_xtensa.c - depthwise convolution (ch_mult 1) for the Xtensa LX106 (ESP8266:
 * call0, 16 registers, no 32x32->64 multiply, no signed byte load): the arithmetic of
 * ../depthwise_conv2d_s8.c (same bytes).
 *
 * One output pixel x four channels per block, four register sums. Per output pixel the address of
 * every tap (kernel_h * kernel_w) is computed once into a stack table; a tap in the padding points
 * at a row of input_zp bytes instead, which cancels the -input_zp * w folded into the bias exactly
 * (as ../conv2d_s8.c), so border and interior pixels run the same loop with no test per tap. Per
 * tap of a block: the four inputs as one L32I, XORed with 0x80808080 (each byte is then x + 128,
 * unsigned) and four EXTUI; four L16SI weights (int16, "depthwise_xt"); 4 MUL16S + 4 ADD. The
 * + 128 is taken back once per channel: sum (x + 128) w - 128 sum w (the weight sums on the stack,
 * computed once per call). An input not 4-byte aligned (not from the code generator, whose buffers
 * are 16-byte aligned and rows a multiple of 4 bytes here) takes the same loop with byte loads.
 * Weights: "depthwise_xt" ([in_c / 4][kernel_h * kernel_w][4] int16). Output stage: mnv3c_xt_gemm.h.
 * Precondition (plan/kernels.py): ch_mult 1, in_c a multiple of 4 and <= MNV3C_XT_DW_MAX_C,
 * kernel_h * kernel_w <= MNV3C_XT_DW_MAX_TAPS. Two entry points, chosen per layer at compile time:
 * mnv3c_depthwise_conv2d_s8_xtensa_short where the one-MULH output stage is proven exact for the
 * layer, the general MBQM elsewhere.
 */
#include "mnv3c_kernels.h"
#include "mnv3c_xtensa.h"
#include "mnv3c_xt_gemm.h"

#define MNV3C_XT_DW_MAX_C 1024  /* the input_zp row and the weight sums on the stack */
#define MNV3C_XT_DW_MAX_TAPS 64 /* the tap address table on the stack */

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

/* Every channel block of one output pixel; m[c]: 128 * the sum of channel c's weights. */
MNV3C_XT_INLINE void channels(const mnv3c_xt_out *out, int32_t taps, const int8_t *const *t, const int16_t *w,
                              const int32_t *m, int8_t *yp, int aligned, int short_rq)
{
    const mnv3c_xt_out local = *out, *const s = &local; /* the int8 stores cannot alias a local copy */
    const int8_t *const *const t_end = t + taps;
    const uint32_t flip = 0x80808080u;
    int32_t c;
    for (c = 0; c < s->out_c; c += 4, w += 4 * taps) {
        const int16_t *wt = w;
        const int8_t *const *ti = t;
        uint32_t a0 = (uint32_t)(s->bias[c] - m[c]), a1 = (uint32_t)(s->bias[c + 1] - m[c + 1]);
        uint32_t a2 = (uint32_t)(s->bias[c + 2] - m[c + 2]), a3 = (uint32_t)(s->bias[c + 3] - m[c + 3]);
#pragma GCC unroll 2
        for (; ti < t_end; ++ti, wt += 4) {
            const uint8_t *u = (const uint8_t *)*ti + c;
            uint32_t v;
            if (aligned) {
                v = *(const uint32_t *)(const void *)u ^ flip; /* byte j: x_j + 128 (little-endian) */
            } else {
                v = ((uint32_t)u[0] | (uint32_t)u[1] << 8 | (uint32_t)u[2] << 16 | (uint32_t)u[3] << 24) ^ flip;
            }
            a0 += (uint32_t)((int32_t)(v & 0xFFu) * wt[0]);
            a1 += (uint32_t)((int32_t)((v >> 8) & 0xFFu) * wt[1]);
            a2 += (uint32_t)((int32_t)((v >> 16) & 0xFFu) * wt[2]);
            a3 += (uint32_t)((int32_t)(v >> 24) * wt[3]);
        }
        mnv3c_xt_store2(s, c, a0, 0, 0, yp, short_rq);
        mnv3c_xt_store2(s, c + 1, a1, 0, 0, yp, short_rq);
        mnv3c_xt_store2(s, c + 2, a2, 0, 0, yp, short_rq);
        mnv3c_xt_store2(s, c + 3, a3, 0, 0, yp, short_rq);
    }
}

/* All output pixels; one copy per output stage and input alignment (MNV3C_XT_HOT). */
MNV3C_XT_INLINE void pixels(const mnv3c_depthwise_conv2d_params *p, const mnv3c_xt_out *s, const int8_t *x,
                            const int8_t *zrow, const int32_t *m, int8_t *y, int aligned, int short_rq)
{
    const int32_t C = p->in_c, taps = p->kernel_h * p->kernel_w;
    const int8_t *t[MNV3C_XT_DW_MAX_TAPS];
    int32_t oy, ox;
    for (oy = 0; oy < p->out_h; ++oy) {
        for (ox = 0; ox < p->out_w; ++ox, y += C) {
            taps_of(p, x, zrow, oy, ox, t);
            channels(s, taps, t, (const int16_t *)(const void *)p->weights, m, y, aligned, short_rq);
        }
    }
}

MNV3C_XT_HOT void pixels_short(const mnv3c_depthwise_conv2d_params *p, const mnv3c_xt_out *s, const int8_t *x,
                               const int8_t *zrow, const int32_t *m, int8_t *y)
{
    pixels(p, s, x, zrow, m, y, 1, 1);
}

MNV3C_XT_HOT void pixels_general(const mnv3c_depthwise_conv2d_params *p, const mnv3c_xt_out *s, const int8_t *x,
                                 const int8_t *zrow, const int32_t *m, int8_t *y)
{
    pixels(p, s, x, zrow, m, y, 1, 0);
}

MNV3C_XT_HOT void pixels_unaligned(const mnv3c_depthwise_conv2d_params *p, const mnv3c_xt_out *s, const int8_t *x,
                                   const int8_t *zrow, const int32_t *m, int8_t *y, int short_rq)
{
    if (short_rq) {
        pixels(p, s, x, zrow, m, y, 0, 1);
    } else {
        pixels(p, s, x, zrow, m, y, 0, 0);
    }
}

static void depthwise(const mnv3c_depthwise_conv2d_params *p, const int8_t *MNV3C_RESTRICT x,
                      int8_t *MNV3C_RESTRICT y, int short_rq)
{
    const int32_t C = p->in_c, taps = p->kernel_h * p->kernel_w;
    const mnv3c_xt_out s = mnv3c_xt_out_init(p->bias_folded, p->out_mult, p->out_shift, p->output_zp,
                                             p->act_min, p->act_max, p->lut, C);
    const int16_t *w = (const int16_t *)(const void *)p->weights;
    int8_t zrow[MNV3C_XT_DW_MAX_C] __attribute__((aligned(4)));
    int32_t m[MNV3C_XT_DW_MAX_C];
    int32_t c, i;
    for (c = 0; c < C; c += 4, w += 4 * taps) {
        int32_t j;
        for (j = 0; j < 4; ++j) {
            int32_t sum = 0;
            for (i = 0; i < taps; ++i) {
                sum += w[4 * i + j];
            }
            m[c + j] = 128 * sum;
            zrow[c + j] = (int8_t)p->input_zp;
        }
    }
    if (((uintptr_t)x & 3u) != 0u) {
        pixels_unaligned(p, &s, x, zrow, m, y, short_rq);
    } else if (short_rq) {
        pixels_short(p, &s, x, zrow, m, y);
    } else {
        pixels_general(p, &s, x, zrow, m, y);
    }
}

void mnv3c_depthwise_conv2d_s8_xtensa(const mnv3c_depthwise_conv2d_params *p, const int8_t *MNV3C_RESTRICT x,
                                      int8_t *MNV3C_RESTRICT y, void *scratch)
{
    (void)scratch;
    depthwise(p, x, y, 0);
}

void mnv3c_depthwise_conv2d_s8_xtensa_short(const mnv3c_depthwise_conv2d_params *p,
                                            const int8_t *MNV3C_RESTRICT x, int8_t *MNV3C_RESTRICT y,
                                            void *scratch)
{
    (void)scratch;
    depthwise(p, x, y, 1);
}

size_t mnv3c_depthwise_conv2d_s8_xtensa_scratch_bytes(const mnv3c_depthwise_conv2d_params *p)
{
    (void)p;
    return 0;
}

size_t mnv3c_depthwise_conv2d_s8_xtensa_short_scratch_bytes(const mnv3c_depthwise_conv2d_params *p)
{
    (void)p;
    return 0;
}
