/*
 * mnv3c_xtensa_mac16.h - kernel variants for windowed Xtensa cores with the MAC16 option (ESP32's
 * LX6; QEMU's de233_fpu): 16x16 multiply-accumulates into the 40-bit ACC, each with a word load
 * into one of the MAC16 registers m0..m3 (MULA.DD.*.LDINC). Each takes the params struct of its
 * portable counterpart (mnv3c_kernels.h), weights re-laid out at compile time
 * (mnv3c/codegen/layouts.py), and gives the same bytes. The output stage is the LX106 variants'
 * (../xtensa/mnv3c_xt_gemm.h: no int64, as the core has no MULSH).
 */
#ifndef MNV3C_XTENSA_MAC16_H
#define MNV3C_XTENSA_MAC16_H

#include "mnv3c_kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

/* conv1x1_s8 on "pointwise_mac16" weights (int16), in_c <= MNV3C_PW_MAX_C; _short: the proven
 * one-MULH output stage. */
void mnv3c_conv1x1_s8_xtensa_mac16(const mnv3c_conv2d_params *p,
    const int8_t *MNV3C_RESTRICT x, int8_t *MNV3C_RESTRICT y, void *scratch);
size_t mnv3c_conv1x1_s8_xtensa_mac16_scratch_bytes(const mnv3c_conv2d_params *p);
void mnv3c_conv1x1_s8_xtensa_mac16_short(const mnv3c_conv2d_params *p,
    const int8_t *MNV3C_RESTRICT x, int8_t *MNV3C_RESTRICT y, void *scratch);
size_t mnv3c_conv1x1_s8_xtensa_mac16_short_scratch_bytes(const mnv3c_conv2d_params *p);

/* conv2d_s8 (group 1) on "pointwise_mac16" weights (the OHWI rows, int16), kernel_h * kernel_w * in_c
 * <= MNV3C_PW_MAX_C; _short: the proven one-MULH output stage. */
void mnv3c_conv2d_s8_xtensa_mac16(const mnv3c_conv2d_params *p,
    const int8_t *MNV3C_RESTRICT x, int8_t *MNV3C_RESTRICT y, void *scratch);
size_t mnv3c_conv2d_s8_xtensa_mac16_scratch_bytes(const mnv3c_conv2d_params *p);
void mnv3c_conv2d_s8_xtensa_mac16_short(const mnv3c_conv2d_params *p,
    const int8_t *MNV3C_RESTRICT x, int8_t *MNV3C_RESTRICT y, void *scratch);
size_t mnv3c_conv2d_s8_xtensa_mac16_short_scratch_bytes(const mnv3c_conv2d_params *p);

#ifdef __cplusplus
}
#endif

#endif /* MNV3C_XTENSA_MAC16_H */
