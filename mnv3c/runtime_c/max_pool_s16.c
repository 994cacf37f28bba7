/*
 * max_pool_s16.c - max pooling of int16 activations; padding never wins.
 *
 * Layout: x NHWC [in_h][in_w][channels], y NHWC [out_h][out_w][channels].
 * Arithmetic (docs/ARITHMETIC.md, "max_pool"): the max of the valid taps, INT16_MIN for a window
 * without one. The output keeps the input's quantization.
 */
#include "mnv3c_kernels_s16.h"

void mnv3c_max_pool_s16(const mnv3c_max_pool_params *p, const int16_t *MNV3C_RESTRICT x,
                        int16_t *MNV3C_RESTRICT y, void *scratch)
{
    const int32_t channels = p->channels;
    int32_t oy, ox, ky, kx, c;
    (void)scratch;
    for (oy = 0; oy < p->out_h; ++oy) {
        const int32_t iy0 = oy * p->stride_h - p->pad_top;
        for (ox = 0; ox < p->out_w; ++ox, y += channels) {
            const int32_t ix0 = ox * p->stride_w - p->pad_left;
            for (c = 0; c < channels; ++c) {
                y[c] = INT16_MIN;
            }
            for (ky = 0; ky < p->kernel_h; ++ky) {
                const int32_t iy = iy0 + ky * p->dilation_h;
                if (iy < 0 || iy >= p->in_h) {
                    continue;
                }
                for (kx = 0; kx < p->kernel_w; ++kx) {
                    const int32_t ix = ix0 + kx * p->dilation_w;
                    const int16_t *xt;
                    if (ix < 0 || ix >= p->in_w) {
                        continue;
                    }
                    xt = x + (iy * p->in_w + ix) * channels;
                    for (c = 0; c < channels; ++c) {
                        y[c] = xt[c] > y[c] ? xt[c] : y[c];
                    }
                }
            }
        }
    }
}

size_t mnv3c_max_pool_s16_scratch_bytes(const mnv3c_max_pool_params *p)
{
    (void)p;
    return 0;
}
