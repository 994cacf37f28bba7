/*
 * concat_s16.c - concatenation of int16 activations (16x8 scheme), with TFLite's int16 REQUANTIZE
 * for inputs whose scale differs from the output's.
 *
 * Layout: concat_s8's, counted in int16 elements: input i is [outer][inner[i]] in the C storage
 * order and y is [outer][sum of inner].
 * Arithmetic (docs/ARITHMETIC.md, "int16 (16x8)"): zero points are 0 (input_zp and output_zp are
 * unused). Input i is copied when requant[i] == 0 (it has y's scale), else
 *   y = clamp16(MBQM(x, mult[i], shift[i])), Q(s_i / s_y),
 * the int32 MBQM of mnv3c_requant.h (TFLite's double rounding); shift[i] <= 16, so x << shift fits.
 */
#include "mnv3c_kernels_s16.h"
#include "mnv3c_requant_s16.h"

void mnv3c_concat_s16(const mnv3c_concat_params *p, const int16_t *const *xs, int16_t *y, void *scratch)
{
    int32_t r, i, k;
    (void)scratch;
    for (r = 0; r < p->outer; ++r) {
        for (i = 0; i < p->num_inputs; ++i) {
            const int32_t n = p->inner[i];
            const int16_t *src = xs[i] + (size_t)r * (size_t)n;
            if (!p->requant[i]) {
                for (k = 0; k < n; ++k) {
                    y[k] = src[k];
                }
            } else {
                for (k = 0; k < n; ++k) {
                    y[k] = mnv3c_clamp16(mnv3c_mbqm(src[k], p->mult[i], p->shift[i]), INT16_MIN, INT16_MAX);
                }
            }
            y += n;
        }
    }
}

size_t mnv3c_concat_s16_scratch_bytes(const mnv3c_concat_params *p)
{
    (void)p;
    return 0;
}
