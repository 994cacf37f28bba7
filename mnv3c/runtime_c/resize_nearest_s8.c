/*
 * resize_nearest_s8.c - nearest-neighbour resize (TFLite RESIZE_NEAREST_NEIGHBOR, any ONNX mode).
 *
 * Layout: x NHWC [in_h][in_w][channels] -> y [out_h][out_w][channels]; y keeps x's quantization.
 * The compiler resolves the ONNX coordinate transform and nearest_mode into the tables: output
 * row i copies input row y_index[i], output column j input column x_index[j]. Pure byte copies (no libc: the runtime is freestanding).
 */
#include "mnv3c_kernels.h"

void mnv3c_resize_nearest_s8(const mnv3c_resize_nearest_params *p, const int8_t *MNV3C_RESTRICT x,
                             int8_t *MNV3C_RESTRICT y, void *scratch)
{
    const int32_t channels = p->channels;
    int32_t i, j, c;
    (void)scratch;
    for (i = 0; i < p->out_h; ++i) {
        const int8_t *row = x + (size_t)p->y_index[i] * (size_t)p->in_w * (size_t)channels;
        for (j = 0; j < p->out_w; ++j, y += channels) {
            const int8_t *src = row + (size_t)p->x_index[j] * (size_t)channels;
            for (c = 0; c < channels; ++c) {
                y[c] = src[c];
            }
        }
    }
}

size_t mnv3c_resize_nearest_s8_scratch_bytes(const mnv3c_resize_nearest_params *p)
{
    (void)p;
    return 0;
}
