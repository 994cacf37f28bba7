/*
 * conv2d_s8_arm_dsp16.c - general convolution (group 1, dilation 1, any kernel, stride, padding) with
 * small weights for Cortex-M cores with the DSP extension: the arithmetic of ../conv2d_s8.c (same
 * bytes), as conv2d_s8_arm_dsp.c but on weights already widened to int16 pairs at compile time. In
 * MobileNets: the 3x3 stem (432 weights, 896 bytes as int16).
 *
 * The pixel pairs' receptive fields are gathered and widened by mnv3c_dsp_conv2d.h (shared with
 * conv2d_s8_arm_dsp.c) and reduced against every block of four output channels: per group of four
 * values 2 LDRD of the inputs, 4 LDRD of the weights and 16 SMLAD = 32 MACs in 22 instructions (+3 for
 * the loop), against 30 when the weights are widened in the loop (mnv3c_dsp_gemm.h).
 * Weights: "pointwise_dsp16" (mnv3c/codegen/layouts.py): out_c padded to a multiple of 4 and K to K4
 * with zeros, then per block of four output channels o0..o3 and group of four values c0..c3 eight
 * words of int16 pairs (o0: c0, c2), (o1: c0, c2), (o2: c0, c2), (o3: c0, c2), (o0: c1, c3), ...,
 * (o3: c1, c3): twice the bytes of the int8 weights, which is why plan/kernels.py chooses this kernel
 * only for small layers (CONV_DSP16_MAX_WEIGHTS) and conv2d_s8_arm_dsp.c for the others.
 * Precondition (plan/kernels.py): group 1, dilation 1, K4 <= MNV3C_PW_MAX_C.
 * Two entry points as in conv1x1_s8_arm_dsp.c (the _short one has the proven short output stage).
 */
#include "mnv3c_arm_dsp.h"
#include "mnv3c_dsp_conv2d.h"

/* Four SMLAD of the x pairs xa (pixel p), xc (pixel q) against the next two int16 weight words. */
#define MNV3C_DSP16_STEP(A, B, QA, QB)                \
    "ldrd %[w0], %[w1], [%[w]], #8\n\t"               \
    "smlad %[" A "], %[xa], %[w0], %[" A "]\n\t"      \
    "smlad %[" QA "], %[xc], %[w0], %[" QA "]\n\t"    \
    "smlad %[" B "], %[xa], %[w1], %[" B "]\n\t"      \
    "smlad %[" QB "], %[xc], %[w1], %[" QB "]\n\t"

/* All out_c output channels of pixels p, q (yq == NULL: p only) from `groups` (>= 1) widened groups. */
MNV3C_DSP_INLINE void gemm16_pair(const int32_t *xbuf, int32_t groups, const int8_t *weights,
                                  const mnv3c_dsp_out *s, int8_t *yp, int8_t *yq, int mode)
{
    const int8_t *w = weights;
    const int32_t *const end = xbuf + 4 * groups;
    int32_t o;
    for (o = 0; o < s->out_c; o += 4) {
        const int32_t *xb = xbuf;
        int32_t a[4];
        int32_t p0, p1, p2, p3, q0, q1, q2, q3;
        int32_t xa, xc, w0, w1 = (int32_t)end;
        mnv3c_dsp_start(s, o, mode, a);
        p0 = q0 = a[0], p1 = q1 = a[1], p2 = q2 = a[2], p3 = q3 = a[3];
        /* 14 live registers, as mnv3c_dsp_gemm_pair: the loop bound is pushed and re-read */
        __asm__ volatile(
            "str %[w1], [sp, #-8]!\n\t"
            "1:\n\t"
            "ldrd %[xa], %[xc], [%[xb]], #8\n\t"
            MNV3C_DSP16_STEP("p0", "p1", "q0", "q1")
            MNV3C_DSP16_STEP("p2", "p3", "q2", "q3")
            "ldrd %[xa], %[xc], [%[xb]], #8\n\t"
            MNV3C_DSP16_STEP("p0", "p1", "q0", "q1")
            MNV3C_DSP16_STEP("p2", "p3", "q2", "q3")
            "ldr %[w1], [sp]\n\t"
            "cmp %[xb], %[w1]\n\t"
            "bne 1b\n\t"
            "add sp, sp, #8\n\t"
            : [p0] "+r"(p0), [p1] "+r"(p1), [p2] "+r"(p2), [p3] "+r"(p3), [q0] "+r"(q0), [q1] "+r"(q1),
              [q2] "+r"(q2), [q3] "+r"(q3), [xb] "+r"(xb), [w] "+r"(w), [xa] "=&r"(xa), [xc] "=&r"(xc),
              [w0] "=&r"(w0), [w1] "+r"(w1)
            :
            : "cc", "memory");
        {
            const int32_t sums[8] = {p0, p1, p2, p3, q0, q1, q2, q3};
            mnv3c_dsp_store_block(s, o, sums, yp, yq, mode);
        }
    }
}

#undef MNV3C_DSP16_STEP

MNV3C_DSP_CONV2D_BODY(conv2d, gemm16_pair)

MNV3C_DSP_ENTRY_POINTS(mnv3c_conv2d_s8_arm_dsp16, conv2d, mnv3c_conv2d_params, mnv3c_dsp_conv_out)
