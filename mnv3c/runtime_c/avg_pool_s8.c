/*
 * avg_pool_s8.c - average pooling, count_include_pad = false.
 *
 * Layout: x NHWC [in_h][in_w][channels], y NHWC [out_h][out_w][channels].
 * Arithmetic (docs/ARITHMETIC.md, "avg_pool"): for a window with n valid taps,
 *   acc = sum over valid taps of (x - input_zp),
 *   y = clamp8(MBQM(acc, mult_by_count[n], shift_by_count[n]) + output_zp, -128, 127).
 * Loop order: channels innermost in blocks of MNV3C_POOL_BLOCK local accumulators (no scratch).
 */
#include "mnv3c_kernels.h"
#include "mnv3c_requant.h"

#define MNV3C_POOL_BLOCK 16

static int32_t max_i32(int32_t a, int32_t b)
{
    return a > b ? a : b;
}

static int32_t min_i32(int32_t a, int32_t b)
{
    return a < b ? a : b;
}

void mnv3c_avg_pool_s8(const mnv3c_avg_pool_params *p, const int8_t *MNV3C_RESTRICT x,
                       int8_t *MNV3C_RESTRICT y, void *scratch)
{
    const int32_t channels = p->channels;
    int32_t acc[MNV3C_POOL_BLOCK];
    int32_t oy, ox, cb, iy, ix, i;
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
            const int32_t mult = p->mult_by_count[count];
            const int32_t shift = p->shift_by_count[count];
            for (cb = 0; cb < channels; cb += MNV3C_POOL_BLOCK) {
                const int32_t n = min_i32(channels - cb, MNV3C_POOL_BLOCK);
                for (i = 0; i < n; ++i) {
                    acc[i] = 0;
                }
                for (iy = y_begin; iy < y_end; ++iy) {
                    for (ix = x_begin; ix < x_end; ++ix) {
                        const int8_t *xt = x + (iy * p->in_w + ix) * channels + cb;
                        for (i = 0; i < n; ++i) {
                            acc[i] += (int32_t)xt[i] - p->input_zp;
                        }
                    }
                }
                for (i = 0; i < n; ++i) {
                    y[cb + i] =
                        mnv3c_clamp8(mnv3c_mbqm(acc[i], mult, shift) + p->output_zp, -128, 127);
                }
            }
        }
    }
}

size_t mnv3c_avg_pool_s8_scratch_bytes(const mnv3c_avg_pool_params *p)
{
    (void)p;
    return 0;
}
