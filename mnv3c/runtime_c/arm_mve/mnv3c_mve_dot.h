/*
 * mnv3c_mve_dot.h - the Helium dot products of the arm_mve pointwise, dense and general convolution
 * kernels (conv1x1_s8_arm_mve.c, dense_s8_arm_mve.c, conv2d_s8_arm_mve.c): 16 int8 products per
 * VMLADAVA, the last partial vector of a row predicated (VCTP), so any length works and nothing is
 * read past a row; and the whole of one output pixel, mnv3c_mve_pixel.
 */
#ifndef MNV3C_MVE_DOT_H
#define MNV3C_MVE_DOT_H

#include <arm_mve.h>
#include <stdint.h>

#include "mnv3c_dsp_requant.h"
#include "mnv3c_mve_requant.h"

/* Dot products of x[0 .. n) with the rows w0 .. w3 (n >= 1), added to acc[0..3]. */
MNV3C_DSP_INLINE void dot4(const int8_t *x, const int8_t *w0, int32_t k, int32_t n, int32_t acc[4])
{
    const int8_t *w1 = w0 + k, *w2 = w1 + k, *w3 = w2 + k;
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    int32_t c;
    for (c = 0; c + 16 <= n; c += 16) {
        const int8x16_t v = vldrbq_s8(x + c);
        a0 = vmladavaq_s8(a0, v, vldrbq_s8(w0 + c));
        a1 = vmladavaq_s8(a1, v, vldrbq_s8(w1 + c));
        a2 = vmladavaq_s8(a2, v, vldrbq_s8(w2 + c));
        a3 = vmladavaq_s8(a3, v, vldrbq_s8(w3 + c));
    }
    if (c < n) { /* the last n - c < 16 values: predicated loads read nothing past the rows */
        const mve_pred16_t lanes = vctp8q((uint32_t)(n - c));
        const int8x16_t v = vldrbq_z_s8(x + c, lanes);
        a0 = vmladavaq_p_s8(a0, v, vldrbq_z_s8(w0 + c, lanes), lanes);
        a1 = vmladavaq_p_s8(a1, v, vldrbq_z_s8(w1 + c, lanes), lanes);
        a2 = vmladavaq_p_s8(a2, v, vldrbq_z_s8(w2 + c, lanes), lanes);
        a3 = vmladavaq_p_s8(a3, v, vldrbq_z_s8(w3 + c, lanes), lanes);
    }
    acc[0] = a0, acc[1] = a1, acc[2] = a2, acc[3] = a3;
}

/* a + the dot product of x[0 .. n) with the row w. */
MNV3C_DSP_INLINE int32_t dot1(const int8_t *x, const int8_t *w, int32_t n, int32_t a)
{
    int32_t c;
    for (c = 0; c + 16 <= n; c += 16) {
        a = vmladavaq_s8(a, vldrbq_s8(x + c), vldrbq_s8(w + c));
    }
    if (c < n) {
        const mve_pred16_t lanes = vctp8q((uint32_t)(n - c));
        a = vmladavaq_p_s8(a, vldrbq_z_s8(x + c, lanes), vldrbq_z_s8(w + c, lanes), lanes);
    }
    return a;
}

/*
 * All out_c outputs of one pixel: x[0 .. k) against the weight rows w[out_c][k], four rows at a time,
 * then the output stage (the short one on four outputs at once, mnv3c_mve_requant.h, or the general one).
 */
MNV3C_DSP_INLINE void mnv3c_mve_pixel(const mnv3c_dsp_out *s, const int8_t *x, const int8_t *w, int32_t k,
                                      int8_t *y, int mode)
{
    const int32_t out_c = s->out_c;
    int32_t o, i, acc[4];
    if (mode != MNV3C_DSP_GENERAL) {
        const int32_t *tab = s->mult;
        for (o = 0; o + 4 <= out_c; o += 4, w += 4 * k, tab += MNV3C_MVE_TABLE_VECTOR) {
            acc[0] = tab[0], acc[1] = tab[1], acc[2] = tab[2], acc[3] = tab[3];
            dot4(x, w, k, k, acc);
            mnv3c_mve_store4(s, tab, acc, y + o, 4, mode);
        }
        if (o < out_c) {
            for (i = 0; i < out_c - o; ++i, w += k) {
                acc[i] = dot1(x, w, k, tab[i]);
            }
            mnv3c_mve_store4(s, tab, acc, y + o, out_c - o, mode);
        }
        return;
    }
    for (o = 0; o + 4 <= out_c; o += 4, w += 4 * k) {
        mnv3c_dsp_start(s, o, mode, acc);
        dot4(x, w, k, k, acc);
        for (i = 0; i < 4; ++i) {
            y[o + i] = mnv3c_dsp_requant(s, o + i, acc[i], mode);
        }
    }
    for (; o < out_c; ++o, w += k) {
        y[o] = mnv3c_dsp_requant(s, o, dot1(x, w, k, 0), mode);
    }
}

#endif /* MNV3C_MVE_DOT_H */
