/*
 * concat_s8.c - concatenation (TFLite CONCATENATION), with TFLite's int8 REQUANTIZE for inputs
 * whose quantization differs from the output's.
 *
 * Layout: viewed in the C storage order (NHWC for images), input i is [outer][inner[i]] and y is
 * [outer][sum of inner]: a channel concat of H x W x C maps has outer = H*W, inner[i] = C_i.
 * Input i is copied when requant[i] == 0 (it was given y's quantization), else
 *   y = clamp8(MBQM(x - input_zp[i], mult[i], shift[i]) + output_zp, -128, 127), Q(s_i / s_y).
 */
#include "mnv3c_kernels.h"
#include "mnv3c_requant.h"

void mnv3c_concat_s8(const mnv3c_concat_params *p, const int8_t *const *xs, int8_t *y, void *scratch)
{
    int32_t r, i, k;
    (void)scratch;
    for (r = 0; r < p->outer; ++r) {
        for (i = 0; i < p->num_inputs; ++i) {
            const int32_t n = p->inner[i];
            const int8_t *src = xs[i] + (size_t)r * (size_t)n;
            if (!p->requant[i]) {
                for (k = 0; k < n; ++k) {
                    y[k] = src[k];
                }
            } else {
                for (k = 0; k < n; ++k) {
                    y[k] = mnv3c_clamp8(mnv3c_mbqm((int32_t)src[k] - p->input_zp[i], p->mult[i], p->shift[i])
                                        + p->output_zp, -128, 127);
                }
            }
            y += n;
        }
    }
}

size_t mnv3c_concat_s8_scratch_bytes(const mnv3c_concat_params *p)
{
    (void)p;
    return 0;
}
