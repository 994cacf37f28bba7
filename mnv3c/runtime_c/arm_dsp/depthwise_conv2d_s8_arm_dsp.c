/*
 * depthwise_conv2d_s8_arm_dsp.c - depthwise convolution (ch_mult 1; any kernel, stride, padding,
 * dilation) for Cortex-M cores with the DSP extension: the arithmetic of ../depthwise_conv2d_s8.c
 * (same bytes), four channels at a time with 16-bit multiply-accumulates.
 *
 * Per output pixel, a table holds the address of every tap: inside the input, or a row of
 * input_zp bytes for a padded tap, which is what the folded bias expects (acc = bias_folded +
 * sum x' w, x' = input_zp on padded taps: mnv3c_kernels.h); interior pixels just add the tap
 * offsets, computed once per call. Then for each group of four channels c0..c3, per tap: one word
 * load of the four inputs, SXTB16 and SXTB16 ROR 8 give (c0, c2) and (c1, c3) as int16 pairs, one
 * LDRD the matching weight pairs, and SMLABB/SMLATT accumulate the four channels separately: 9
 * instructions per tap and 4 MACs (+ 1.5 for the loop), the four sums staying in registers (the
 * loop is written out in assembly: GCC spills its cursor).
 * Weights: "depthwise_dsp" (mnv3c/codegen/layouts.py): int16, per group of four channels (in_c padded
 * with zeros to a multiple of 4) and per tap, [w c0, w c2, w c1, w c3]; twice the bytes of the int8
 * HWC weights, which are small for depthwise layers (counted in weights_bytes like any array).
 * A last group of fewer than four channels loads only its own bytes and stores only its outputs.
 * Precondition (plan/kernels.py): ch_mult 1, in_c <= MNV3C_DW_DSP_MAX_C, kernel_h * kernel_w <=
 * MNV3C_DW_DSP_MAX_TAPS. Two entry points as in conv1x1_s8_arm_dsp.c (_short: proven short stage).
 */
#include "mnv3c_arm_dsp.h"
#include "mnv3c_dsp_gemm.h"

/* Channels c .. c + valid - 1 (valid <= 4) of one output pixel: every tap, then the output stage. */
MNV3C_DSP_INLINE void group(const mnv3c_dsp_out *s, const int8_t *const *tap, int32_t taps, int32_t c,
                            int32_t valid, const mnv3c_dsp_word *wt, int8_t *y, int mode)
{
    int32_t a[4], a0, a1, a2, a3;
    int32_t t;
    mnv3c_dsp_start(s, c, mode, a);
    a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3];
    if (valid == 4) {
        /* the same loop written out, two taps per iteration (one first if taps is odd): 12 live
         * registers, none spilled, 9 instructions per tap + 3 per pair */
        const int8_t *const *tp = tap;
        const int8_t *const *const end = tap + taps;
        int32_t v, e, w0, w1;
#define MNV3C_DW_TAP                              \
    "ldr %[v], [%[tp]], #4\n\t"                    \
    "ldr %[v], [%[v], %[c]]\n\t"                   \
    "ldrd %[w0], %[w1], [%[wt]], #8\n\t"           \
    "sxtb16 %[e], %[v]\n\t"                        \
    "sxtb16 %[v], %[v], ror #8\n\t"                \
    "smlabb %[a0], %[e], %[w0], %[a0]\n\t"         \
    "smlatt %[a2], %[e], %[w0], %[a2]\n\t"         \
    "smlabb %[a1], %[v], %[w1], %[a1]\n\t"         \
    "smlatt %[a3], %[v], %[w1], %[a3]\n\t"
        __asm__ volatile(
            "tst %[n], #1\n\t"
            "beq 2f\n\t"
            MNV3C_DW_TAP
            "2:\n\t"
            "cmp %[tp], %[end]\n\t"
            "beq 3f\n\t"
            "1:\n\t"
            MNV3C_DW_TAP
            MNV3C_DW_TAP
            "cmp %[tp], %[end]\n\t"
            "bne 1b\n\t"
            "3:\n\t"
            : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [tp] "+r"(tp), [wt] "+r"(wt),
              [v] "=&r"(v), [e] "=&r"(e), [w0] "=&r"(w0), [w1] "=&r"(w1)
            : [end] "r"(end), [c] "r"(c), [n] "r"(taps)
            : "cc", "memory");
#undef MNV3C_DW_TAP
        taps = 0; /* done: the C loop below is for a last group of fewer than four channels */
    }
    for (t = 0; t < taps; ++t, wt += 2) {
        const int32_t v = mnv3c_dsp_load4(tap[t] + c, valid);
        const int32_t even = __sxtb16(v), odd = mnv3c_dsp_sxtb16_ror8(v);
        a0 = __smlabb(even, wt[0], a0);
        a2 = __smlatt(even, wt[0], a2);
        a1 = __smlabb(odd, wt[1], a1);
        a3 = __smlatt(odd, wt[1], a3);
    }
    if (mode != MNV3C_DSP_GENERAL) {
        const int32_t *ch = s->mult + (c >> 2) * MNV3C_DSP_TABLE_BLOCK + 4;
        y[c] = mnv3c_dsp_short_finish(mnv3c_dsp_short(a0, ch), s, mode);
        if (valid > 1) {
            y[c + 1] = mnv3c_dsp_short_finish(mnv3c_dsp_short(a1, ch + 3), s, mode);
        }
        if (valid > 2) {
            y[c + 2] = mnv3c_dsp_short_finish(mnv3c_dsp_short(a2, ch + 6), s, mode);
        }
        if (valid > 3) {
            y[c + 3] = mnv3c_dsp_short_finish(mnv3c_dsp_short(a3, ch + 9), s, mode);
        }
        return;
    }
    y[c] = mnv3c_dsp_requant(s, c, a0, mode);
    if (valid > 1) {
        y[c + 1] = mnv3c_dsp_requant(s, c + 1, a1, mode);
    }
    if (valid > 2) {
        y[c + 2] = mnv3c_dsp_requant(s, c + 2, a2, mode);
    }
    if (valid > 3) {
        y[c + 3] = mnv3c_dsp_requant(s, c + 3, a3, mode);
    }
}

static mnv3c_dsp_out out_of(const mnv3c_depthwise_conv2d_params *p)
{
    const mnv3c_dsp_out s = {p->bias_folded, p->out_mult, p->out_shift, p->output_zp,
                             p->act_min,     p->act_max,  p->lut,       p->in_c,
                             p->lut != NULL ? p->lut + 128 : NULL};
    return s;
}

MNV3C_DSP_INLINE void depthwise(const mnv3c_depthwise_conv2d_params *p, const int8_t *MNV3C_RESTRICT x,
                               int8_t *MNV3C_RESTRICT y, int mode)
{
    const int32_t C = p->in_c, kh = p->kernel_h, kw = p->kernel_w, taps = kh * kw;
    const int32_t in_h = p->in_h, in_w = p->in_w;
    const mnv3c_dsp_out s = out_of(p);
    const mnv3c_dsp_word *const w16 = (const mnv3c_dsp_word *)(const void *)p->weights;
    const int8_t *tap[MNV3C_DW_DSP_MAX_TAPS];
    int32_t offset[MNV3C_DW_DSP_MAX_TAPS];
    int8_t zrow[MNV3C_DW_DSP_MAX_C];
    int32_t oy, ox, c, t, ky, kx;
    for (c = 0; c < C; ++c) {
        zrow[c] = (int8_t)p->input_zp;
    }
    for (ky = 0; ky < kh; ++ky) {
        for (kx = 0; kx < kw; ++kx) {
            offset[ky * kw + kx] = (ky * p->dilation_h * in_w + kx * p->dilation_w) * C;
        }
    }
    for (oy = 0; oy < p->out_h; ++oy) {
        const int32_t iy0 = oy * p->stride_h - p->pad_top;
        const int rows_inside = iy0 >= 0 && iy0 + (kh - 1) * p->dilation_h < in_h;
        for (ox = 0; ox < p->out_w; ++ox, y += C) {
            const int32_t ix0 = ox * p->stride_w - p->pad_left;
            if (rows_inside && ix0 >= 0 && ix0 + (kw - 1) * p->dilation_w < in_w) {
                const int8_t *x0 = x + (iy0 * in_w + ix0) * C;
                for (t = 0; t < taps; ++t) {
                    tap[t] = x0 + offset[t];
                }
            } else {
                for (ky = 0; ky < kh; ++ky) {
                    const int32_t iy = iy0 + ky * p->dilation_h;
                    for (kx = 0; kx < kw; ++kx) {
                        const int32_t ix = ix0 + kx * p->dilation_w;
                        const int inside = iy >= 0 && iy < in_h && ix >= 0 && ix < in_w;
                        tap[ky * kw + kx] = inside ? x + (iy * in_w + ix) * C : zrow;
                    }
                }
            }
            for (c = 0; c + 4 <= C; c += 4) {
                group(&s, tap, taps, c, 4, w16 + (c >> 1) * taps, y, mode);
            }
            if (c < C) {
                group(&s, tap, taps, c, C - c, w16 + (c >> 1) * taps, y, mode);
            }
        }
    }
}

MNV3C_DSP_ENTRY_POINTS(mnv3c_depthwise_conv2d_s8_arm_dsp, depthwise, mnv3c_depthwise_conv2d_params, out_of)
