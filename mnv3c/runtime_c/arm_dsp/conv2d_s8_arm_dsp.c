/*
 * conv2d_s8_arm_dsp.c - general convolution (group 1, dilation 1, any kernel, stride, padding) for
 * Cortex-M cores with the DSP extension: the arithmetic of ../conv2d_s8.c (same bytes), on the
 * two-pixel x four-output-channel SMLAD product of mnv3c_dsp_gemm.h. In MobileNets: the 3x3 stem.
 *
 * The pixel pairs' receptive fields are gathered and widened by mnv3c_dsp_conv2d.h (shared with
 * conv2d_s8_arm_dsp16.c) and reduced by mnv3c_dsp_gemm_pair against every output channel.
 * Weights: "pointwise_dsp" (mnv3c/codegen/layouts.py) over the OHWI rows of K values.
 * Precondition (plan/kernels.py): group 1, dilation 1, K rounded up to 4 <= MNV3C_PW_MAX_C.
 * Two entry points as in conv1x1_s8_arm_dsp.c (the _short one has the proven short output stage).
 */
#include "mnv3c_arm_dsp.h"
#include "mnv3c_dsp_conv2d.h"

MNV3C_DSP_CONV2D_BODY(conv2d, mnv3c_dsp_gemm_pair)

MNV3C_DSP_ENTRY_POINTS(mnv3c_conv2d_s8_arm_dsp, conv2d, mnv3c_conv2d_params, mnv3c_dsp_conv_out)
