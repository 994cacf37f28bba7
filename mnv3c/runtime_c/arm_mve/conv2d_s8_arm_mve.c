/*
 * conv2d_s8_arm_mve.c - general convolution (group 1, dilation 1, any kernel, stride, padding) for
 * Cortex-M55 (Helium, MVE): the arithmetic of ../conv2d_s8.c (same bytes). In MobileNets: the 3x3 stem.
 *
 * Per output pixel the receptive field is copied into a stack row of K = kernel_h * kernel_w * in_c
 * values in the weights' OHWI order: each kernel row is kernel_w * in_c contiguous values of x (NHWC),
 * copied with predicated vector loads and stores; only a row that crosses the padding is copied tap by
 * tap, input_zp in the padded taps, which is what the folded bias expects (acc = bias_folded + sum x' w,
 * x' = input_zp on padded taps: mnv3c_kernels.h). Then the pointwise kernel's pixel (mnv3c_mve_dot.h)
 * against the portable OHWI weights, no re-layout.
 * Precondition (plan/kernels.py): group 1, dilation 1, K <= MNV3C_CONV_MVE_MAX_K.
 * Two entry points as in conv1x1_s8_arm_mve.c (_short: the proven short output stage).
 */
#include "mnv3c_arm_mve.h"
#include "mnv3c_mve_dot.h"

static mnv3c_dsp_out out_of(const mnv3c_conv2d_params *p)
{
    const mnv3c_dsp_out s = {p->bias_folded, p->out_mult, p->out_shift, p->output_zp,
                             p->act_min,     p->act_max,  p->lut,       p->out_c,
                             p->lut != NULL ? p->lut + 128 : NULL};
    return s;
}

/* n bytes from src to dst, 16 at a time, the last vector predicated. */
static void copy(int8_t *dst, const int8_t *src, int32_t n)
{
    int32_t c;
    for (c = 0; c < n; c += 16) {
        const mve_pred16_t lanes = vctp8q((uint32_t)(n - c));
        vstrbq_p_s8(dst + c, vldrbq_z_s8(src + c, lanes), lanes);
    }
}

/* The receptive field of the output pixel whose window starts at input (iy0, ix0), into buf[K]. */
static void patch(const mnv3c_conv2d_params *p, const int8_t *x, int32_t iy0, int32_t ix0, int8_t *buf)
{
    const int32_t in_c = p->in_c, n = p->kernel_w * in_c;
    int32_t ky, kx;
    for (ky = 0; ky < p->kernel_h; ++ky, buf += n) {
        const int32_t iy = iy0 + ky;
        if (iy >= 0 && iy < p->in_h && ix0 >= 0 && ix0 + p->kernel_w <= p->in_w) {
            copy(buf, x + (iy * p->in_w + ix0) * in_c, n);
            continue;
        }
        for (kx = 0; kx < p->kernel_w; ++kx) {
            const int32_t ix = ix0 + kx;
            if (iy >= 0 && iy < p->in_h && ix >= 0 && ix < p->in_w) {
                copy(buf + kx * in_c, x + (iy * p->in_w + ix) * in_c, in_c);
            } else {
                int32_t c;
                for (c = 0; c < in_c; ++c) {
                    buf[kx * in_c + c] = (int8_t)p->input_zp;
                }
            }
        }
    }
}

MNV3C_DSP_INLINE void conv2d(const mnv3c_conv2d_params *p, const int8_t *MNV3C_RESTRICT x,
                            int8_t *MNV3C_RESTRICT y, int mode)
{
    const int32_t k = p->kernel_h * p->kernel_w * p->in_c;
    const mnv3c_dsp_out s = out_of(p);
    int8_t buf[MNV3C_CONV_MVE_MAX_K];
    int32_t oy, ox;
    for (oy = 0; oy < p->out_h; ++oy) {
        for (ox = 0; ox < p->out_w; ++ox, y += p->out_c) {
            patch(p, x, oy * p->stride_h - p->pad_top, ox * p->stride_w - p->pad_left, buf);
            mnv3c_mve_pixel(&s, buf, p->weights, k, y, mode);
        }
    }
}

MNV3C_DSP_ENTRY_POINTS(mnv3c_conv2d_s8_arm_mve, conv2d, mnv3c_conv2d_params, out_of)
