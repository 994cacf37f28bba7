/*
 * conv1x1_s8_arm_dsp.c - pointwise convolution for Cortex-M cores with the DSP extension (M4, M7,
 * M33): the arithmetic of ../conv1x1_s8.c (same bytes), four pixels x two output channels per
 * block with SMLAD on SXTB16-widened pairs (mnv3c_dsp_quad.h).
 *
 * Weights: "pointwise_dsp" (mnv3c/codegen/layouts.py, described in mnv3c_dsp_gemm.h). The inputs
 * of four pixels are widened once into a stack buffer (8 KiB at most) and reused by every output
 * channel; of the last one to three pixels a pair goes as two pixels x four channels
 * (mnv3c_dsp_gemm.h), and a lone last pixel (an odd count: the 3x3 and 7x7 last stages of MobileNet)
 * as a fully connected layer on the same weights and output stage, by dense_s8_arm_dsp.c (two blocks
 * of four channels share each widened input pair: 0.74 MAC/insn, against about 0.41 as a pair whose
 * second pixel is wasted).
 * Precondition (plan/kernels.py): pointwise geometry as conv1x1_s8, in_c <= MNV3C_PW_MAX_C.
 * Two entry points, chosen per layer at compile time: mnv3c_conv1x1_s8_arm_dsp_short where the
 * short output stage is proven exact for the layer (mnv3c_dsp_requant.h), the other one elsewhere.
 * In the SHORT and SHORT_LUT modes the whole channel pairs of every four pixels go through
 * mnv3c_dsp_quad_row (one asm loop per stream of pairs); what is left (the last channel of an odd
 * out_c, in_c <= 4, a last pair of pixels) goes through the SHORT_CLAMP body, which gives the
 * same bytes for those layers (its clamp to [-128, 127] does nothing), so that the code has one copy
 * of the compiled-C paths for the three short modes.
 */
#include "mnv3c_arm_dsp.h"
#include "mnv3c_dsp_quad.h"

/* Widens the four pixels from px into xbuf. */
static inline void widen4(const int8_t *x, int32_t px, int32_t in_c, int32_t *xbuf)
{
    const int8_t *const xs[4] = {x + px * in_c, x + (px + 1) * in_c, x + (px + 2) * in_c, x + (px + 3) * in_c};
    mnv3c_dsp_widen_quad(xs, in_c, xbuf);
}

/* Output channels o0 .. out_c - 1 of every four pixels by mnv3c_dsp_quad_pair, then all channels
 * of a last pair of pixels (mnv3c_dsp_gemm.h); a lone last pixel is lone_pixel's. */
MNV3C_DSP_INLINE void conv1x1(const mnv3c_conv2d_params *p, const int8_t *MNV3C_RESTRICT x,
                             int8_t *MNV3C_RESTRICT y, int32_t o0, int mode)
{
    const int32_t in_c = p->in_c, groups = (in_c + 3) >> 2;
    const int32_t out_c = p->out_c;
    const int32_t pixels = p->in_h * p->in_w;
    const mnv3c_dsp_out s = mnv3c_dsp_conv_out(p);
    const int8_t *const w = p->weights;
    int32_t xbuf[2 * MNV3C_PW_MAX_C];
    int32_t px, o;
    for (px = 0; px + 4 <= pixels && o0 < out_c; px += 4) {
        widen4(x, px, in_c, xbuf);
        for (o = o0; o < out_c; o += 2) {
            mnv3c_dsp_quad_pair(xbuf, groups, w + 16 * groups * (o >> 2) + 4 * ((o >> 1) & 1), &s, o,
                                y + px * out_c, mode);
        }
    }
    if ((pixels & 2) != 0) {
        const int8_t *xp = x + (pixels & ~3) * in_c;
        int8_t *yp = y + (pixels & ~3) * out_c;
        mnv3c_dsp_widen_pair(xp, xp + in_c, in_c, xbuf);
        mnv3c_dsp_gemm_pair(xbuf, groups, w, &s, yp, yp + out_c, mode);
    }
}

/* The last pixel of an odd count: a dense layer of in_c -> out_c on the layer's weights and output
 * stage, by `dense`, the dense entry point matching the caller's (a constant: a direct call, which the
 * stack measurement of boards/stack.py follows). */
MNV3C_DSP_INLINE void lone_pixel(const mnv3c_conv2d_params *p, const int8_t *MNV3C_RESTRICT x,
                                 int8_t *MNV3C_RESTRICT y,
                                 void (*dense)(const mnv3c_dense_params *, const int8_t *MNV3C_RESTRICT,
                                               int8_t *MNV3C_RESTRICT, void *))
{
    const int32_t last = p->in_h * p->in_w - 1;
    if ((last & 1) == 0) {
        const mnv3c_dense_params d = {p->in_c,     p->out_c,     p->input_zp, p->output_zp,
                                      p->act_min,  p->act_max,   p->weights,  p->bias_folded,
                                      p->out_mult, p->out_shift, p->lut};
        dense(&d, x + last * p->in_c, y + last * p->out_c, NULL);
    }
}

/* lone_pixel of each entry point, out of line and called after the body so that the dense layer's
 * stack buffer is not nested in the body's; each references only its own dense entry point (an
 * unused one is left out of the image). */
static void __attribute__((noinline)) lone_general(const mnv3c_conv2d_params *p, const int8_t *MNV3C_RESTRICT x,
                                                   int8_t *MNV3C_RESTRICT y)
{
    lone_pixel(p, x, y, mnv3c_dense_s8_arm_dsp);
}

static void __attribute__((noinline)) lone_short(const mnv3c_conv2d_params *p, const int8_t *MNV3C_RESTRICT x,
                                                 int8_t *MNV3C_RESTRICT y)
{
    lone_pixel(p, x, y, mnv3c_dense_s8_arm_dsp_short);
}

/* The GENERAL body, out of line for lone_general (see there). */
static void __attribute__((noinline)) conv1x1_general(const mnv3c_conv2d_params *p, const int8_t *MNV3C_RESTRICT x,
                                                      int8_t *MNV3C_RESTRICT y)
{
    conv1x1(p, x, y, 0, MNV3C_DSP_GENERAL);
}

/* The SHORT_CLAMP body, one copy for the three short modes (see above). */
static void __attribute__((noinline)) conv1x1_clamp(const mnv3c_conv2d_params *p, const int8_t *MNV3C_RESTRICT x,
                                                    int8_t *MNV3C_RESTRICT y, int32_t o0)
{
    conv1x1(p, x, y, o0, MNV3C_DSP_SHORT_CLAMP);
}

/* The whole channel pairs of every four pixels in the SHORT or SHORT_LUT mode, in two streams (the
 * even pairs, then the odd ones: mnv3c_dsp_quad.h), if in_c > 4; returns the first channel left. */
MNV3C_DSP_INLINE int32_t conv1x1_rows(const mnv3c_conv2d_params *p, const int8_t *MNV3C_RESTRICT x,
                                      int8_t *MNV3C_RESTRICT y, int mode)
{
    const int32_t in_c = p->in_c, groups = (in_c + 3) >> 2;
    const int32_t out_c = p->out_c, npairs = out_c >> 1, streams = npairs >= 2 ? 2 : 1;
    const int32_t pixels = p->in_h * p->in_w;
    const mnv3c_dsp_out s = mnv3c_dsp_conv_out(p);
    int32_t xbuf[2 * MNV3C_PW_MAX_C];
    mnv3c_dsp_row_frame frames[2];
    int32_t px, k;
    if (groups < 2 || npairs < 1) {
        return 0;
    }
    for (k = 0; k < 2; ++k) {
        mnv3c_dsp_row_init(&frames[k], xbuf, groups, p->weights, &s, k);
    }
    for (px = 0; px + 4 <= pixels; px += 4) {
        widen4(x, px, in_c, xbuf);
        for (k = 0; k < streams; ++k) { /* one call site: one copy of the asm per mode */
            mnv3c_dsp_row_at(&frames[k], y + px * out_c, npairs, k);
            mnv3c_dsp_quad_row(&frames[k], mode);
        }
    }
    return 2 * npairs;
}

/* The two row modes, apart from conv1x1_clamp so that their stack buffers are not nested. */
static int32_t __attribute__((noinline)) conv1x1_rows_short(const mnv3c_conv2d_params *p, const int8_t *MNV3C_RESTRICT x,
                                                            int8_t *MNV3C_RESTRICT y)
{
    return conv1x1_rows(p, x, y, MNV3C_DSP_SHORT);
}

static int32_t __attribute__((noinline)) conv1x1_rows_lut(const mnv3c_conv2d_params *p, const int8_t *MNV3C_RESTRICT x,
                                                          int8_t *MNV3C_RESTRICT y)
{
    return conv1x1_rows(p, x, y, MNV3C_DSP_SHORT_LUT);
}

void mnv3c_conv1x1_s8_arm_dsp(const mnv3c_conv2d_params *p, const int8_t *MNV3C_RESTRICT x,
                              int8_t *MNV3C_RESTRICT y, void *scratch)
{
    (void)scratch;
    conv1x1_general(p, x, y);
    lone_general(p, x, y);
}

void mnv3c_conv1x1_s8_arm_dsp_short(const mnv3c_conv2d_params *p, const int8_t *MNV3C_RESTRICT x,
                                    int8_t *MNV3C_RESTRICT y, void *scratch)
{
    const mnv3c_dsp_out s = mnv3c_dsp_conv_out(p);
    int32_t o0 = 0;
    (void)scratch;
    switch (mnv3c_dsp_short_mode(&s)) {
    case MNV3C_DSP_SHORT: o0 = conv1x1_rows_short(p, x, y); break;
    case MNV3C_DSP_SHORT_LUT: o0 = conv1x1_rows_lut(p, x, y); break;
    default: break;
    }
    conv1x1_clamp(p, x, y, o0);
    lone_short(p, x, y);
}

size_t mnv3c_conv1x1_s8_arm_dsp_scratch_bytes(const mnv3c_conv2d_params *p)
{
    (void)p;
    return 0;
}

size_t mnv3c_conv1x1_s8_arm_dsp_short_scratch_bytes(const mnv3c_conv2d_params *p)
{
    (void)p;
    return 0;
}
