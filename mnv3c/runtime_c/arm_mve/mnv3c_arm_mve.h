/*
 * mnv3c_arm_mve.h - kernel variants for Cortex-M55 (Armv8.1-M with the Helium vector extension).
 *
 * Each takes the params struct of its portable counterpart (mnv3c_kernels.h) and gives the same
 * bytes. The _short entry points use the short output stage of ../arm_dsp/mnv3c_dsp_requant.h (the
 * M55 has the DSP instructions too), selected by the code generator only where it is proven exact;
 * their out_mult is then the stage's table ("dsp_out_table").
 */
#ifndef MNV3C_ARM_MVE_H
#define MNV3C_ARM_MVE_H

#include "mnv3c_kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MNV3C_DW_MVE_MAX_C 1024  /* depthwise: the input_zp row on the stack */
#define MNV3C_DW_MVE_MAX_TAPS 64 /* depthwise: tap addresses on the stack */
#define MNV3C_CONV_MVE_MAX_K 1024 /* conv2d: the receptive field on the stack */

/* conv1x1_s8 on "pointwise_mve" weights (mnv3c/codegen/layouts.py), any in_c. */
void mnv3c_conv1x1_s8_arm_mve(const mnv3c_conv2d_params *p,
    const int8_t *MNV3C_RESTRICT x, int8_t *MNV3C_RESTRICT y, void *scratch);
size_t mnv3c_conv1x1_s8_arm_mve_scratch_bytes(const mnv3c_conv2d_params *p);
void mnv3c_conv1x1_s8_arm_mve_short(const mnv3c_conv2d_params *p,
    const int8_t *MNV3C_RESTRICT x, int8_t *MNV3C_RESTRICT y, void *scratch);
size_t mnv3c_conv1x1_s8_arm_mve_short_scratch_bytes(const mnv3c_conv2d_params *p);

/* conv2d_s8 (group 1, dilation 1) on the portable OHWI weights; kernel_h * kernel_w * in_c <= MNV3C_CONV_MVE_MAX_K. */
void mnv3c_conv2d_s8_arm_mve(const mnv3c_conv2d_params *p,
    const int8_t *MNV3C_RESTRICT x, int8_t *MNV3C_RESTRICT y, void *scratch);
size_t mnv3c_conv2d_s8_arm_mve_scratch_bytes(const mnv3c_conv2d_params *p);
void mnv3c_conv2d_s8_arm_mve_short(const mnv3c_conv2d_params *p,
    const int8_t *MNV3C_RESTRICT x, int8_t *MNV3C_RESTRICT y, void *scratch);
size_t mnv3c_conv2d_s8_arm_mve_short_scratch_bytes(const mnv3c_conv2d_params *p);

/* dense_s8 on the portable [out][in] weights, any in_features. */
void mnv3c_dense_s8_arm_mve(const mnv3c_dense_params *p,
    const int8_t *MNV3C_RESTRICT x, int8_t *MNV3C_RESTRICT y, void *scratch);
size_t mnv3c_dense_s8_arm_mve_scratch_bytes(const mnv3c_dense_params *p);
void mnv3c_dense_s8_arm_mve_short(const mnv3c_dense_params *p,
    const int8_t *MNV3C_RESTRICT x, int8_t *MNV3C_RESTRICT y, void *scratch);
size_t mnv3c_dense_s8_arm_mve_short_scratch_bytes(const mnv3c_dense_params *p);

/* depthwise_conv2d_s8 (ch_mult 1) on the portable HWC weights; limits above. */
void mnv3c_depthwise_conv2d_s8_arm_mve(const mnv3c_depthwise_conv2d_params *p,
    const int8_t *MNV3C_RESTRICT x, int8_t *MNV3C_RESTRICT y, void *scratch);
size_t mnv3c_depthwise_conv2d_s8_arm_mve_scratch_bytes(const mnv3c_depthwise_conv2d_params *p);
void mnv3c_depthwise_conv2d_s8_arm_mve_short(const mnv3c_depthwise_conv2d_params *p,
    const int8_t *MNV3C_RESTRICT x, int8_t *MNV3C_RESTRICT y, void *scratch);
size_t mnv3c_depthwise_conv2d_s8_arm_mve_short_scratch_bytes(const mnv3c_depthwise_conv2d_params *p);

/* squeeze_excite_s8 on the portable weights; mul_mult in [2^30, 2^31), mul_shift in [-22, -1]; scratch as
 * its _scratch_bytes says. */
void mnv3c_squeeze_excite_s8_arm_mve(const mnv3c_squeeze_excite_params *p, const int8_t *x, int8_t *y,
    void *scratch);
size_t mnv3c_squeeze_excite_s8_arm_mve_scratch_bytes(const mnv3c_squeeze_excite_params *p);

/* add_s8; a_shift, b_shift in [-21, 0], out_shift in [-21, -1], out_mult in [2^30, 2^31). */
void mnv3c_add_s8_arm_mve(const mnv3c_add_params *p, const int8_t *a, const int8_t *b, int8_t *y, void *scratch);
size_t mnv3c_add_s8_arm_mve_scratch_bytes(const mnv3c_add_params *p);

#ifdef __cplusplus
}
#endif

#endif /* MNV3C_ARM_MVE_H */
