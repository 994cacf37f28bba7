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
 * Loop order: channels innermost so x, w and y are all read contiguously; channels are processed
 * in blocks of MNV3C_DW_BLOCK with the accumulators in a small local array (no scratch).
 */
#include "mnv3c_kernels.h"
#include "mnv3c_requant.h"

#define MNV3C_DW_BLOCK 16

void mnv3c_depthwise_conv2d_s8(const mnv3c_depthwise_conv2d_params *p,
                               const int8_t *MNV3C_RESTRICT x, int8_t *MNV3C_RESTRICT y,
                               void *scratch)
{
    const int32_t in_c = p->in_c;
    const int32_t m = p->ch_mult;
    const int32_t out_c = in_c * m;
    int32_t acc[MNV3C_DW_BLOCK];
    int32_t oy, ox, ob, ky, kx, i;
    (void)scratch;
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

size_t mnv3c_depthwise_conv2d_s8_scratch_bytes(const mnv3c_depthwise_conv2d_params *p)
{
    (void)p;
    return 0;
}
