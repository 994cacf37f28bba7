/*
 * avg_pool_s16.c - average pooling of int16 activations, count_include_pad = false (zero points 0).
 *
 * Layout: x NHWC [in_h][in_w][channels], y NHWC [out_h][out_w][channels].
 * Arithmetic (docs/ARITHMETIC.md, "int16 (16x8)"): for a window with n valid taps,
 *   acc = sum over valid taps of x, y = clamp16(MBQM(acc, mult_by_count[n], shift_by_count[n])).
 */
#include "mnv3c_kernels_s16.h"
#include "mnv3c_requant_s16.h"

static int32_t max_i32(int32_t a, int32_t b)
{
    return a > b ? a : b;
}

static int32_t min_i32(int32_t a, int32_t b)
{
    return a < b ? a : b;
}

void mnv3c_avg_pool_s16(const mnv3c_avg_pool_params *p, const int16_t *MNV3C_RESTRICT x,
                        int16_t *MNV3C_RESTRICT y, void *scratch)
{
    const int32_t channels = p->channels;
    int32_t oy, ox, c, iy, ix;
    (void)scratch;
    for (oy = 0; oy < p->out_h; ++oy) {
        const int32_t iy0 = oy * p->stride_h - p->pad_top;
        const int32_t y_begin = max_i32(iy0, 0);
        const int32_t y_end = min_i32(iy0 + p->kernel_h, p->in_h);
        for (ox = 0; ox < p->out_w; ++ox, y += channels) {
            const int32_t ix0 = ox * p->stride_w - p->pad_left;
            const int32_t x_begin = max_i32(ix0, 0);
            const int32_t x_end = min_i32(ix0 + p->kernel_w, p->in_w);
            const int32_t count = max_i32(y_end - y_begin, 0) * max_i32(x_end - x_begin, 0);
            for (c = 0; c < channels; ++c) {
                int32_t acc = 0;
                for (iy = y_begin; iy < y_end; ++iy) {
                    for (ix = x_begin; ix < x_end; ++ix) {
                        acc += x[(iy * p->in_w + ix) * channels + c];
                    }
                }
                y[c] = mnv3c_clamp16(mnv3c_mbqm(acc, p->mult_by_count[count], p->shift_by_count[count]),
                                     INT16_MIN, INT16_MAX);
            }
        }
    }
}

size_t mnv3c_avg_pool_s16_scratch_bytes(const mnv3c_avg_pool_params *p)
{
    (void)p;
    return 0;
}
