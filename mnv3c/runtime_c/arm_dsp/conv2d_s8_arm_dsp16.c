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

/* The product and output stage of mnv3c_dsp_gemm.h on the int16 weights. */
MNV3C_DSP_DEFINE_GEMM_PAIR(gemm16_pair, MNV3C_DSP16_STEP)

#undef MNV3C_DSP16_STEP

MNV3C_DSP_CONV2D_BODY(conv2d, gemm16_pair)

MNV3C_DSP_ENTRY_POINTS(mnv3c_conv2d_s8_arm_dsp16, conv2d, mnv3c_conv2d_params, mnv3c_dsp_conv_out)
