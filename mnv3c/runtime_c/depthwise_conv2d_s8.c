/*
 * depthwise_conv2d_s8.c - int8 depthwise convolution with channel multiplier ch_mult: any kernel
 * size (3x3, 5x5, ...), stride, padding and dilation.
 *
 * Layout: x NHWC [in_h][in_w][in_c], weights HWC [kernel_h][kernel_w][in_c * ch_mult],
 *         y NHWC [out_h][out_w][in_c * ch_mult]; output channel o = c * ch_mult + j reads input
 *         channel c.
 * Arithmetic (docs/ARITHMETIC.md, "depthwise_conv2d"):
 *   acc[o] = bias_folded[o] + sum over all taps of x' * w[tap][o],  x' = input_zp on padded taps,
 * which equals bias[o] + sum over valid taps of (x - input_zp) * w. Taps first, bias last (no
 * partial sum exceeds 128 * sum|w|).
 *
 * Fast path (ch_mult 1, dilation 1, in_c <= MNV3C_DW_MAX_C: every MobileNet layer). Per output
 * pixel the valid tap rectangle [ky_lo, ky_hi) x [kx_lo, kx_hi) is clipped once, then the channels
 * are processed four at a time with the four accumulators in registers (no accumulator array, no
 * per-tap padding test): per tap 4 input bytes + 4 weight bytes, contiguous, and 4 MACs.
 * Padded taps (border pixels only; most pixels of the 6x6 and 3x3 planes with 5x5 kernels) must
 * add input_zp * w. Rather than visiting them, a border pixel sums (x - input_zp) * w over the
 * valid taps and adds input_zp * sum(all w) of its channel, computed once per call into a stack
 * array: sum_valid (x - zp) w + zp sum_all w = sum_valid x w + zp sum_padded w, the same value.
 * No int32 step overflows: |sum_valid (x - zp) w| <= 255 sum|w| (the quantizer's bound), and
 * |zp sum_all w| and the final sum are both <= 128 sum|w|.
 * Other geometries (ch_mult > 1, dilation, more channels) use the direct blocked loop below.
 */
#include "mnv3c_kernels.h"
#include "mnv3c_requant.h"

#define MNV3C_DW_BLOCK 16
#define MNV3C_DW_MAX_C 1024 /* per-channel sums on the stack: 4 KiB */

static void depthwise_direct(const mnv3c_depthwise_conv2d_params *p, const int8_t *x, int8_t *y)
{
    const int32_t in_c = p->in_c;
    const int32_t m = p->ch_mult;
    const int32_t out_c = in_c * m;
    int32_t acc[MNV3C_DW_BLOCK];
    int32_t oy, ox, ob, ky, kx, i;
    for (oy = 0; oy < p->out_h; ++oy) {
        const int32_t iy0 = oy * p->stride_h - p->pad_top;
        for (ox = 0; ox < p->out_w; ++ox, y += out_c) {
            const int32_t ix0 = ox * p->stride_w - p->pad_left;
            int32_t blk_c = 0, blk_j = 0; /* output channel ob = blk_c * m + blk_j (no division) */
            for (ob = 0; ob < out_c; ob += MNV3C_DW_BLOCK) {
                const int32_t n = out_c - ob < MNV3C_DW_BLOCK ? out_c - ob : MNV3C_DW_BLOCK;
                for (i = 0; i < n; ++i) {
                    acc[i] = 0;
                }
                for (ky = 0; ky < p->kernel_h; ++ky) {
                    const int32_t iy = iy0 + ky * p->dilation_h;
                    const int row_valid = iy >= 0 && iy < p->in_h;
                    for (kx = 0; kx < p->kernel_w; ++kx) {
                        const int32_t ix = ix0 + kx * p->dilation_w;
                        const int8_t *w = p->weights + (ky * p->kernel_w + kx) * out_c + ob;
                        if (!row_valid || ix < 0 || ix >= p->in_w) {
                            for (i = 0; i < n; ++i) { /* padded tap: undo the folded -zp * w */
                                acc[i] += p->input_zp * w[i];
                            }
                        } else if (m == 1) {
                            const int8_t *xt = x + (iy * p->in_w + ix) * in_c + ob;
                            for (i = 0; i < n; ++i) {
                                acc[i] += (int32_t)xt[i] * w[i];
                            }
                        } else {
                            const int8_t *xt = x + (iy * p->in_w + ix) * in_c + blk_c;
                            int32_t j = blk_j;
                            for (i = 0; i < n; ++i) {
                                acc[i] += (int32_t)*xt * w[i];
                                if (++j == m) {
                                    j = 0;
                                    ++xt;
                                }
                            }
                        }
                    }
                }
                for (i = 0; i < n; ++i) {
                    const int32_t o = ob + i;
                    y[o] = mnv3c_requant_out(acc[i] + p->bias_folded[o], p->out_mult[o],
                                             p->out_shift[o], p->output_zp, p->act_min, p->act_max,
                                             p->lut);
                }
                for (blk_j += n; blk_j >= m; blk_j -= m) {
                    ++blk_c;
                }
            }
        }
    }
}

static int32_t max_i32(int32_t a, int32_t b)
{
    return a > b ? a : b;
}

static int32_t min_i32(int32_t a, int32_t b)
{
    return a < b ? a : b;
}

/* The requantized output of one accumulator (taps only; the folded bias is added here). */
#define MNV3C_DW_OUT(i, acc)                                                                      \
    y[c + (i)] = mnv3c_requant_out((acc) + bias[c + (i)], mult[c + (i)], shift[c + (i)], zy, lo,  \
                                   hi, lut)

void mnv3c_depthwise_conv2d_s8(const mnv3c_depthwise_conv2d_params *p,
                               const int8_t *MNV3C_RESTRICT x, int8_t *MNV3C_RESTRICT y,
                               void *scratch)
{
    const int32_t C = p->in_c;
    const int32_t kh = p->kernel_h, kw = p->kernel_w;
    const int32_t in_h = p->in_h, in_w = p->in_w;
    const int32_t row = in_w * C;
    const int32_t zx = p->input_zp, zy = p->output_zp, lo = p->act_min, hi = p->act_max;
    const int8_t *lut = p->lut;
    const int32_t *bias = p->bias_folded, *mult = p->out_mult;
    const int8_t *shift = p->out_shift;
    int32_t zp_wsum[MNV3C_DW_MAX_C]; /* input_zp * sum of all taps, per channel */
    int32_t oy, ox, c, ky, kx, t;
    (void)scratch;
    if (p->ch_mult != 1 || p->dilation_h != 1 || p->dilation_w != 1 || C > MNV3C_DW_MAX_C) {
        depthwise_direct(p, x, y);
        return;
    }
    for (c = 0; c < C; ++c) {
        int32_t sum = 0;
        for (t = 0; t < kh * kw; ++t) {
            sum += p->weights[t * C + c];
        }
        zp_wsum[c] = zx * sum;
    }
    for (oy = 0; oy < p->out_h; ++oy) {
        const int32_t iy0 = oy * p->stride_h - p->pad_top;
        const int32_t ky_lo = max_i32(0, -iy0), ky_hi = min_i32(kh, in_h - iy0);
        for (ox = 0; ox < p->out_w; ++ox, y += C) {
            const int32_t ix0 = ox * p->stride_w - p->pad_left;
            const int32_t kx_lo = max_i32(0, -ix0), kx_hi = min_i32(kw, in_w - ix0);
            const int32_t nky = ky_hi - ky_lo, nkx = kx_hi - kx_lo;
            /* first valid tap of channel 0, and the steps between rows of taps */
            const int8_t *x_first = x + ((iy0 + ky_lo) * in_w + ix0 + kx_lo) * C;
            const int8_t *w_first = p->weights + (ky_lo * kw + kx_lo) * C;
            const int32_t x_row_step = row - nkx * C, w_row_step = (kw - nkx) * C;
            if (nky == kh && nkx == kw) { /* interior: every tap valid, plain sum of x * w */
                for (c = 0; c + 4 <= C; c += 4) {
                    int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
                    const int8_t *xt = x_first + c;
                    const int8_t *wt = w_first + c;
                    for (ky = 0; ky < nky; ++ky, xt += x_row_step, wt += w_row_step) {
                        for (kx = 0; kx < nkx; ++kx, xt += C, wt += C) {
                            a0 += xt[0] * wt[0];
                            a1 += xt[1] * wt[1];
                            a2 += xt[2] * wt[2];
                            a3 += xt[3] * wt[3];
                        }
                    }
                    MNV3C_DW_OUT(0, a0);
                    MNV3C_DW_OUT(1, a1);
                    MNV3C_DW_OUT(2, a2);
                    MNV3C_DW_OUT(3, a3);
                }
                for (; c < C; ++c) {
                    int32_t a0 = 0;
                    const int8_t *xt = x_first + c;
                    const int8_t *wt = w_first + c;
                    for (ky = 0; ky < nky; ++ky, xt += x_row_step, wt += w_row_step) {
                        for (kx = 0; kx < nkx; ++kx, xt += C, wt += C) {
                            a0 += *xt * *wt;
                        }
                    }
                    MNV3C_DW_OUT(0, a0);
                }
            } else { /* border: sum_valid (x - zp) * w + zp * sum_all w */
                for (c = 0; c + 4 <= C; c += 4) {
                    int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
                    const int8_t *xt = x_first + c;
                    const int8_t *wt = w_first + c;
                    for (ky = 0; ky < nky; ++ky, xt += x_row_step, wt += w_row_step) {
                        for (kx = 0; kx < nkx; ++kx, xt += C, wt += C) {
                            a0 += (xt[0] - zx) * wt[0];
                            a1 += (xt[1] - zx) * wt[1];
                            a2 += (xt[2] - zx) * wt[2];
                            a3 += (xt[3] - zx) * wt[3];
                        }
                    }
                    MNV3C_DW_OUT(0, a0 + zp_wsum[c]);
                    MNV3C_DW_OUT(1, a1 + zp_wsum[c + 1]);
                    MNV3C_DW_OUT(2, a2 + zp_wsum[c + 2]);
                    MNV3C_DW_OUT(3, a3 + zp_wsum[c + 3]);
                }
                for (; c < C; ++c) {
                    int32_t a0 = 0;
                    const int8_t *xt = x_first + c;
                    const int8_t *wt = w_first + c;
                    for (ky = 0; ky < nky; ++ky, xt += x_row_step, wt += w_row_step) {
                        for (kx = 0; kx < nkx; ++kx, xt += C, wt += C) {
                            a0 += (*xt - zx) * *wt;
                        }
                    }
                    MNV3C_DW_OUT(0, a0 + zp_wsum[c]);
                }
            }
        }
    }
}

#undef MNV3C_DW_OUT

size_t mnv3c_depthwise_conv2d_s8_scratch_bytes(const mnv3c_depthwise_conv2d_params *p)
{
    (void)p;
    return 0;
}
