/*
 * resize_bilinear_s8.c - bilinear resize, TFLite's integer RESIZE_BILINEAR on the raw int8 codes.
 *
 * Layout: x NHWC [in_h][in_w][channels] -> y [out_h][out_w][channels]; y keeps x's quantization.
 * Per output row i the taps are rows y_i0[i], y_i1[i] with weights 1024 - y_frac[i] and y_frac[i]
 * (1/1024 units; the compiler computes them with TFLite's ComputeInterpolationValuesInteger), the
 * same per column. Arithmetic (docs/ARITHMETIC.md, "resize_bilinear"):
 *   s = sum over the four taps of x * wy * wx   (|s| < 2^30: int32)
 *   y = clamp8((s + (s > 0 ? 2^19 : -2^19)) / 2^20)   (C division: truncates toward zero)
 */
#include "mnv3c_kernels.h"
#include "mnv3c_requant.h"

void mnv3c_resize_bilinear_s8(const mnv3c_resize_bilinear_params *p, const int8_t *MNV3C_RESTRICT x,
                              int8_t *MNV3C_RESTRICT y, void *scratch)
{
    const int32_t channels = p->channels;
    const size_t row_bytes = (size_t)p->in_w * (size_t)channels;
    int32_t i, j, c;
    (void)scratch;
    for (i = 0; i < p->out_h; ++i) {
        const int8_t *top = x + (size_t)p->y_i0[i] * row_bytes;
        const int8_t *bottom = x + (size_t)p->y_i1[i] * row_bytes;
        const int32_t wy1 = p->y_frac[i], wy0 = 1024 - wy1;
        for (j = 0; j < p->out_w; ++j, y += channels) {
            const size_t left = (size_t)p->x_i0[j] * (size_t)channels;
            const size_t right = (size_t)p->x_i1[j] * (size_t)channels;
            const int32_t wx1 = p->x_frac[j], wx0 = 1024 - wx1;
            for (c = 0; c < channels; ++c) {
                const int32_t s = (int32_t)top[left + c] * wy0 * wx0 + (int32_t)bottom[left + c] * wy1 * wx0
                                + (int32_t)top[right + c] * wy0 * wx1 + (int32_t)bottom[right + c] * wy1 * wx1;
                y[c] = mnv3c_clamp8((s + (s > 0 ? (1 << 19) : -(1 << 19))) / (1 << 20), -128, 127);
            }
        }
    }
}

size_t mnv3c_resize_bilinear_s8_scratch_bytes(const mnv3c_resize_bilinear_params *p)
{
    (void)p;
    return 0;
}
