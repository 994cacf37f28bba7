/*
 * mnv3c_arm_dsp.h - kernel variants for Cortex-M cores with the DSP extension (M4, M7, M33).
 *
 * Each takes the params struct of its portable counterpart (mnv3c_kernels.h) and gives the same
 * bytes; the one difference a caller sees is the weights array, which the code generator re-lays
 * out for it (mnv3c/codegen/layouts.py, named in each kernel's file). The _short entry points use
 * the short output stage, which the code generator selects only for layers where it is proven
 * exact (mnv3c_dsp_requant.h); their out_mult is then the stage's table ("dsp_out_table").
 */
#ifndef MNV3C_ARM_DSP_H
#define MNV3C_ARM_DSP_H

#include "mnv3c_kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MNV3C_DW_DSP_MAX_C 1024  /* depthwise: the input_zp row on the stack */
#define MNV3C_DW_DSP_MAX_TAPS 64 /* depthwise: tap addresses on the stack */

/* conv1x1_s8 on "pointwise_dsp" weights; in_c <= MNV3C_PW_MAX_C (1024). */
void mnv3c_conv1x1_s8_arm_dsp(const mnv3c_conv2d_params *p,
    const int8_t *MNV3C_RESTRICT x, int8_t *MNV3C_RESTRICT y, void *scratch);
size_t mnv3c_conv1x1_s8_arm_dsp_scratch_bytes(const mnv3c_conv2d_params *p);
void mnv3c_conv1x1_s8_arm_dsp_short(const mnv3c_conv2d_params *p,
    const int8_t *MNV3C_RESTRICT x, int8_t *MNV3C_RESTRICT y, void *scratch);
size_t mnv3c_conv1x1_s8_arm_dsp_short_scratch_bytes(const mnv3c_conv2d_params *p);

/* conv2d_s8 (group 1, dilation 1) on "pointwise_dsp" weights (OHWI rows); 4 * ceil(kernel_h * kernel_w * in_c / 4) <= 1024. */
void mnv3c_conv2d_s8_arm_dsp(const mnv3c_conv2d_params *p,
    const int8_t *MNV3C_RESTRICT x, int8_t *MNV3C_RESTRICT y, void *scratch);
size_t mnv3c_conv2d_s8_arm_dsp_scratch_bytes(const mnv3c_conv2d_params *p);
void mnv3c_conv2d_s8_arm_dsp_short(const mnv3c_conv2d_params *p,
    const int8_t *MNV3C_RESTRICT x, int8_t *MNV3C_RESTRICT y, void *scratch);
size_t mnv3c_conv2d_s8_arm_dsp_short_scratch_bytes(const mnv3c_conv2d_params *p);

/* conv2d_s8 (group 1, dilation 1) on "pointwise_dsp16" weights (int16); 4 * ceil(kernel_h * kernel_w * in_c / 4) <= 1024. */
void mnv3c_conv2d_s8_arm_dsp16(const mnv3c_conv2d_params *p,
    const int8_t *MNV3C_RESTRICT x, int8_t *MNV3C_RESTRICT y, void *scratch);
size_t mnv3c_conv2d_s8_arm_dsp16_scratch_bytes(const mnv3c_conv2d_params *p);
void mnv3c_conv2d_s8_arm_dsp16_short(const mnv3c_conv2d_params *p,
    const int8_t *MNV3C_RESTRICT x, int8_t *MNV3C_RESTRICT y, void *scratch);
size_t mnv3c_conv2d_s8_arm_dsp16_short_scratch_bytes(const mnv3c_conv2d_params *p);

/* conv2d_s8 with in_c 3 and a 3x3 kernel (group 1, dilation 1), short output stage only, on
 * "pointwise_dsp16" weights. */
void mnv3c_conv2d_s8_arm_dsp_rgb_short(const mnv3c_conv2d_params *p,
    const int8_t *MNV3C_RESTRICT x, int8_t *MNV3C_RESTRICT y, void *scratch);
size_t mnv3c_conv2d_s8_arm_dsp_rgb_short_scratch_bytes(const mnv3c_conv2d_params *p);

/* dense_s8 on "pointwise_dsp" weights; in_features <= MNV3C_PW_MAX_C (1024). */
void mnv3c_dense_s8_arm_dsp(const mnv3c_dense_params *p,
    const int8_t *MNV3C_RESTRICT x, int8_t *MNV3C_RESTRICT y, void *scratch);
size_t mnv3c_dense_s8_arm_dsp_scratch_bytes(const mnv3c_dense_params *p);
void mnv3c_dense_s8_arm_dsp_short(const mnv3c_dense_params *p,
    const int8_t *MNV3C_RESTRICT x, int8_t *MNV3C_RESTRICT y, void *scratch);
size_t mnv3c_dense_s8_arm_dsp_short_scratch_bytes(const mnv3c_dense_params *p);

/* depthwise_conv2d_s8 (ch_mult 1) on "depthwise_dsp" weights; limits above. */
void mnv3c_depthwise_conv2d_s8_arm_dsp(const mnv3c_depthwise_conv2d_params *p,
    const int8_t *MNV3C_RESTRICT x, int8_t *MNV3C_RESTRICT y, void *scratch);
size_t mnv3c_depthwise_conv2d_s8_arm_dsp_scratch_bytes(const mnv3c_depthwise_conv2d_params *p);
void mnv3c_depthwise_conv2d_s8_arm_dsp_short(const mnv3c_depthwise_conv2d_params *p,
    const int8_t *MNV3C_RESTRICT x, int8_t *MNV3C_RESTRICT y, void *scratch);
size_t mnv3c_depthwise_conv2d_s8_arm_dsp_short_scratch_bytes(const mnv3c_depthwise_conv2d_params *p);

/* squeeze_excite_s8 with fc1 and fc2 on "pointwise_dsp" weights; channels, R <= MNV3C_PW_MAX_C (1024),
 * mul_mult in [2^30, 2^31), mul_shift in [-22, -1]; scratch as its _scratch_bytes says. */
void mnv3c_squeeze_excite_s8_arm_dsp(const mnv3c_squeeze_excite_params *p, const int8_t *x, int8_t *y,
    void *scratch);
size_t mnv3c_squeeze_excite_s8_arm_dsp_scratch_bytes(const mnv3c_squeeze_excite_params *p);

/* add_s8; a_shift, b_shift in [-21, 0], out_shift in [-21, -1], out_mult in [2^30, 2^31). */
void mnv3c_add_s8_arm_dsp(const mnv3c_add_params *p, const int8_t *a, const int8_t *b, int8_t *y, void *scratch);
size_t mnv3c_add_s8_arm_dsp_scratch_bytes(const mnv3c_add_params *p);

#ifdef __cplusplus
}
#endif

#endif /* MNV3C_ARM_DSP_H */
