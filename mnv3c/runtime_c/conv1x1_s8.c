/*
 * conv1x1_s8.c - pointwise convolution (kernel 1x1, stride 1, no padding): the dominant cost of
 * MobileNet. A matrix product: y[px][o] = requant(bias_folded[o] + sum_c x[px][c] * w[o][c]).
 *
 * Layout: x NHWC [in_h * in_w][in_c], weights OHWI = [out_c][in_c], y [in_h * in_w][out_c].
 * Arithmetic: docs/ARITHMETIC.md "conv2d" with no padded taps, so the folded bias is exact.
 * Precondition (the code generator checks it): kernel_h == kernel_w == 1, stride 1, pads 0,
 * out_h == in_h, out_w == in_w; other geometry fields are ignored.
 *
 * Speed (plain C99, no intrinsics): two pixels share one multiply.
 *   Two input pixels p, q are packed into one int32 per channel, X[c] = x_p[c] + x_q[c] * 2^23
 *   (|x_q| * 2^23 <= 2^30, so X fits), and each weight does ONE 32x32->64 multiply-accumulate
 *   (SMLAL on Armv7-M, a MUL/MULH pair elsewhere):
 *       acc = sum_c X[c] * w[c] = S_p + S_q * 2^23,   S_p = sum_c x_p[c] w[c], S_q likewise.
 *   While |S_p| < 2^22 the two lanes separate exactly: S_p is acc's low 23 bits sign-extended and
 *   S_q = (acc - S_p) / 2^23. |x| <= 128 and |w| <= 128 bound one term by 2^14, so a run of at most
 *   MNV3C_PW_RUN = 255 channels keeps |S_p| < 2^22; longer reductions are split into such runs and
 *   the separated lane sums added in int32 (each partial sum is bounded by 128 * sum|w| < 2^31,
 *   the quantizer's guarantee, exactly as in the plain loop).
 *   X is built once per pixel pair into a stack buffer and reused by every output channel, so the
 *   inner loop is 1 word load + per output channel (1 byte load + 1 SMLAL) = 2 MACs for ~2
 *   instructions. Three output channels per pass (6 int64 accumulators = 12 registers) is the
 *   most that stays in the 14 allocatable Thumb registers without spilling; four spill.
 * An odd last pixel runs the same code with x_q = 0. in_c > MNV3C_PW_MAX_C (no such layer in the
 * MobileNets) falls back to a plain one-pixel loop.
 * Requantization parameters are loaded once per output channel and used for both pixels.
 * The packed helpers (mnv3c_pair_rows_s8 and below) live in mnv3c_requant.h, shared with conv2d_s8.c.
 */
#include "mnv3c_kernels.h"
#include "mnv3c_requant.h"

/* Fallback for in_c > MNV3C_PW_MAX_C: one pixel, one output channel at a time. */
static void conv1x1_plain(const mnv3c_conv2d_params *p, const int8_t *x, int8_t *y)
{
    const int32_t in_c = p->in_c;
    const int32_t out_c = p->out_c;
    const int32_t pixels = p->in_h * p->in_w;
    int32_t px, o, c;
    for (px = 0; px < pixels; ++px, x += in_c, y += out_c) {
        const int8_t *w = p->weights;
        for (o = 0; o < out_c; ++o, w += in_c) {
            int32_t acc = 0;
            for (c = 0; c < in_c; ++c) {
                acc += (int32_t)x[c] * w[c];
            }
            y[o] = mnv3c_requant_out(acc + p->bias_folded[o], p->out_mult[o], p->out_shift[o],
                                     p->output_zp, p->act_min, p->act_max, p->lut);
        }
    }
}

void mnv3c_conv1x1_s8(const mnv3c_conv2d_params *p, const int8_t *MNV3C_RESTRICT x,
                      int8_t *MNV3C_RESTRICT y, void *scratch)
{
    const int32_t in_c = p->in_c;
    const int32_t out_c = p->out_c;
    const int32_t pixels = p->in_h * p->in_w;
    int32_t xpack[MNV3C_PW_MAX_C];
    int32_t px, c;
    (void)scratch;
    if (in_c > MNV3C_PW_MAX_C) {
        conv1x1_plain(p, x, y);
        return;
    }
    for (px = 0; px < pixels; px += 2) {
        const int8_t *xa = x + px * in_c;
        int8_t *ya = y + px * out_c;
        int8_t *yb = NULL;
        if (px + 1 < pixels) {
            const int8_t *xb = xa + in_c;
            yb = ya + out_c;
            for (c = 0; c < in_c; ++c) {
                xpack[c] = (int32_t)xa[c] + (int32_t)xb[c] * ((int32_t)1 << MNV3C_PW_LANE_BITS);
            }
        } else { /* odd last pixel: lane q stays 0 */
            for (c = 0; c < in_c; ++c) {
                xpack[c] = xa[c];
            }
        }
        mnv3c_pair_rows_s8(xpack, in_c, p->weights, out_c, p->bias_folded, p->out_mult,
                           p->out_shift, p->output_zp, p->act_min, p->act_max, p->lut, ya, yb);
    }
}

size_t mnv3c_conv1x1_s8_scratch_bytes(const mnv3c_conv2d_params *p)
{
    (void)p;
    return 0;
}
