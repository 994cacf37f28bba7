/*
 * conv2d_s8.c - general int8 convolution (group 1): any kernel, stride, padding, dilation.
 *
 * Layout: x NHWC [in_h][in_w][in_c], weights OHWI [out_c][kernel_h][kernel_w][in_c],
 *         y NHWC [out_h][out_w][out_c].
 * Arithmetic (docs/ARITHMETIC.md, "conv2d"): for output pixel (oy, ox) and channel o,
 *   acc = bias[o] + sum over valid taps of (x - input_zp) * w
 *       = bias_folded[o] + sum over all taps of x' * w,   x' = x, or input_zp for a padded tap,
 * because bias_folded = bias - input_zp * sum(w). The tap sum is accumulated first and the bias
 * added last: every partial sum is bounded by 128 * sum|w| < 2^31, so nothing overflows.
 * Pointwise 1x1 stride-1 layers should use the faster conv1x1_s8.c (same params, same result).
 *
 * Speed: when one output pixel's receptive field (kernel_h * kernel_w * in_c values, 27 for the
 * MobileNet stem) fits MNV3C_PW_MAX_C, two output pixels at a time are gathered (im2col, padded
 * taps read as input_zp, exactly the x' above) into one packed int32 buffer on the stack, and the
 * shared two-pixel product of conv1x1 (mnv3c_pair_rows_s8 in mnv3c_requant.h) does the rest: each
 * weight row is then one contiguous run of the OHWI layout. Larger fields use the direct loop.
 */
#include "mnv3c_kernels.h"
#include "mnv3c_requant.h"

/* sum_c x[c] * w[c] over one tap's input channels. */
static int32_t dot_s8(const int8_t *x, const int8_t *w, int32_t n)
{
    int32_t acc = 0;
    int32_t c;
    for (c = 0; c < n; ++c) {
        acc += (int32_t)x[c] * (int32_t)w[c];
    }
    return acc;
}

/* The contribution of a padded tap: input_zp * sum_c w[c] (it undoes the folded -input_zp * w). */
static int32_t pad_tap_s8(int32_t zp, const int8_t *w, int32_t n)
{
    int32_t sum = 0;
    int32_t c;
    for (c = 0; c < n; ++c) {
        sum += w[c];
    }
    return zp * sum;
}

static void conv2d_direct(const mnv3c_conv2d_params *p, const int8_t *x, int8_t *y)
{
    const int32_t in_c = p->in_c;
    const int32_t filter_size = p->kernel_h * p->kernel_w * in_c;
    int32_t oy, ox, o, ky, kx;
    for (oy = 0; oy < p->out_h; ++oy) {
        const int32_t iy0 = oy * p->stride_h - p->pad_top;
        for (ox = 0; ox < p->out_w; ++ox) {
            const int32_t ix0 = ox * p->stride_w - p->pad_left;
            for (o = 0; o < p->out_c; ++o) {
                const int8_t *w = p->weights + o * filter_size;
                int32_t acc = 0;
                for (ky = 0; ky < p->kernel_h; ++ky) {
                    const int32_t iy = iy0 + ky * p->dilation_h;
                    const int row_valid = iy >= 0 && iy < p->in_h;
                    for (kx = 0; kx < p->kernel_w; ++kx) {
                        const int32_t ix = ix0 + kx * p->dilation_w;
                        const int8_t *w_tap = w + (ky * p->kernel_w + kx) * in_c;
                        if (row_valid && ix >= 0 && ix < p->in_w) {
                            acc += dot_s8(x + (iy * p->in_w + ix) * in_c, w_tap, in_c);
                        } else {
                            acc += pad_tap_s8(p->input_zp, w_tap, in_c);
                        }
                    }
                }
                *y++ = mnv3c_requant_out(acc + p->bias_folded[o], p->out_mult[o], p->out_shift[o],
                                         p->output_zp, p->act_min, p->act_max, p->lut);
            }
        }
    }
}

/*
 * Gathers output pixel (oy, ox)'s receptive field in OHWI tap order into xpack[0 .. k):
 * xpack[i] += v * scale, with v = x or input_zp for a padded tap (scale 1 for pixel p, 2^23 for q).
 */
static void gather_field(const mnv3c_conv2d_params *p, const int8_t *x, int32_t oy, int32_t ox,
                         int32_t *xpack, int32_t scale)
{
    const int32_t in_c = p->in_c;
    const int32_t iy0 = oy * p->stride_h - p->pad_top;
    const int32_t ix0 = ox * p->stride_w - p->pad_left;
    const int32_t pad_v = p->input_zp * scale;
    int32_t ky, kx, c;
    for (ky = 0; ky < p->kernel_h; ++ky) {
        const int32_t iy = iy0 + ky * p->dilation_h;
        const int row_valid = iy >= 0 && iy < p->in_h;
        for (kx = 0; kx < p->kernel_w; ++kx, xpack += in_c) {
            const int32_t ix = ix0 + kx * p->dilation_w;
            if (row_valid && ix >= 0 && ix < p->in_w) {
                const int8_t *xt = x + (iy * p->in_w + ix) * in_c;
                for (c = 0; c < in_c; ++c) {
                    xpack[c] += (int32_t)xt[c] * scale;
                }
            } else {
                for (c = 0; c < in_c; ++c) {
                    xpack[c] += pad_v;
                }
            }
        }
    }
}

void mnv3c_conv2d_s8(const mnv3c_conv2d_params *p, const int8_t *MNV3C_RESTRICT x,
                     int8_t *MNV3C_RESTRICT y, void *scratch)
{
    const int32_t k = p->kernel_h * p->kernel_w * p->in_c;
    const int32_t out_c = p->out_c;
    const int32_t pixels = p->out_h * p->out_w;
    int32_t xpack[MNV3C_PW_MAX_C];
    int32_t px, i, oy, ox;
    (void)scratch;
    if (k > MNV3C_PW_MAX_C) {
        conv2d_direct(p, x, y);
        return;
    }
    oy = 0;
    ox = 0; /* (oy, ox) of pixel px, advanced without division (no divide on Cortex-M0) */
    for (px = 0; px < pixels; px += 2) {
        int8_t *ya = y + px * out_c;
        int8_t *yb = px + 1 < pixels ? ya + out_c : NULL;
        for (i = 0; i < k; ++i) {
            xpack[i] = 0;
        }
        gather_field(p, x, oy, ox, xpack, 1);
        if (++ox == p->out_w) {
            ox = 0;
            ++oy;
        }
        if (yb != NULL) {
            gather_field(p, x, oy, ox, xpack, (int32_t)1 << MNV3C_PW_LANE_BITS);
            if (++ox == p->out_w) {
                ox = 0;
                ++oy;
            }
        }
        mnv3c_pair_rows_s8(xpack, k, p->weights, out_c, p->bias_folded, p->out_mult,
                           p->out_shift, p->output_zp, p->act_min, p->act_max, p->lut, ya, yb);
    }
}

size_t mnv3c_conv2d_s8_scratch_bytes(const mnv3c_conv2d_params *p)
{
    (void)p;
    return 0;
}
