/*
 * mnv3c_xtensa.h - kernel variants for the Xtensa LX106 (ESP8266: call0 ABI, 16 registers, MUL32
 * low and MUL16 only, no signed byte load; mnv3c_xt_gemm.h says how they do without). Each takes
 * the params struct of its portable counterpart (mnv3c_kernels.h), weights re-laid out at compile
 * time (mnv3c/codegen/layouts.py), and gives the same bytes.
 */
#ifndef MNV3C_XTENSA_H
#define MNV3C_XTENSA_H

#include "mnv3c_kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

/* conv1x1_s8 on "pointwise_xt" weights, in_c <= MNV3C_PW_MAX_C; _short: the proven one-MULH output stage. */
void mnv3c_conv1x1_s8_xtensa(const mnv3c_conv2d_params *p,
    const int8_t *MNV3C_RESTRICT x, int8_t *MNV3C_RESTRICT y, void *scratch);
size_t mnv3c_conv1x1_s8_xtensa_scratch_bytes(const mnv3c_conv2d_params *p);
void mnv3c_conv1x1_s8_xtensa_short(const mnv3c_conv2d_params *p,
    const int8_t *MNV3C_RESTRICT x, int8_t *MNV3C_RESTRICT y, void *scratch);
size_t mnv3c_conv1x1_s8_xtensa_short_scratch_bytes(const mnv3c_conv2d_params *p);

/* conv2d_s8 (group 1) on "pointwise_xt" weights ([out_c][kernel_h * kernel_w * in_c] as OHWI), that
 * k <= MNV3C_PW_MAX_C; _short: the proven one-MULH output stage. */
void mnv3c_conv2d_s8_xtensa(const mnv3c_conv2d_params *p,
    const int8_t *MNV3C_RESTRICT x, int8_t *MNV3C_RESTRICT y, void *scratch);
size_t mnv3c_conv2d_s8_xtensa_scratch_bytes(const mnv3c_conv2d_params *p);
void mnv3c_conv2d_s8_xtensa_short(const mnv3c_conv2d_params *p,
    const int8_t *MNV3C_RESTRICT x, int8_t *MNV3C_RESTRICT y, void *scratch);
size_t mnv3c_conv2d_s8_xtensa_short_scratch_bytes(const mnv3c_conv2d_params *p);

/* depthwise_conv2d_s8, ch_mult 1, in_c % 4 == 0, on "depthwise_xt" weights (int16); _short: the proven
 * one-MULH output stage. */
void mnv3c_depthwise_conv2d_s8_xtensa(const mnv3c_depthwise_conv2d_params *p,
    const int8_t *MNV3C_RESTRICT x, int8_t *MNV3C_RESTRICT y, void *scratch);
size_t mnv3c_depthwise_conv2d_s8_xtensa_scratch_bytes(const mnv3c_depthwise_conv2d_params *p);
void mnv3c_depthwise_conv2d_s8_xtensa_short(const mnv3c_depthwise_conv2d_params *p,
    const int8_t *MNV3C_RESTRICT x, int8_t *MNV3C_RESTRICT y, void *scratch);
size_t mnv3c_depthwise_conv2d_s8_xtensa_short_scratch_bytes(const mnv3c_depthwise_conv2d_params *p);

/* dense_s8 on "dense_xt" weights, in_features <= MNV3C_PW_MAX_C; _short: the proven one-MULH output stage. */
void mnv3c_dense_s8_xtensa(const mnv3c_dense_params *p,
    const int8_t *MNV3C_RESTRICT x, int8_t *MNV3C_RESTRICT y, void *scratch);
size_t mnv3c_dense_s8_xtensa_scratch_bytes(const mnv3c_dense_params *p);
void mnv3c_dense_s8_xtensa_short(const mnv3c_dense_params *p,
    const int8_t *MNV3C_RESTRICT x, int8_t *MNV3C_RESTRICT y, void *scratch);
size_t mnv3c_dense_s8_xtensa_short_scratch_bytes(const mnv3c_dense_params *p);

/* squeeze_excite_s8 with both dense layers on "dense_xt" weights (dense_s8_xtensa), channels and the
 * reduced width <= MNV3C_PW_MAX_C; _short: both dense layers' one-MULH output stage proven exact. */
void mnv3c_squeeze_excite_s8_xtensa(const mnv3c_squeeze_excite_params *p, const int8_t *x, int8_t *y,
    void *scratch);
size_t mnv3c_squeeze_excite_s8_xtensa_scratch_bytes(const mnv3c_squeeze_excite_params *p);
void mnv3c_squeeze_excite_s8_xtensa_short(const mnv3c_squeeze_excite_params *p, const int8_t *x, int8_t *y,
    void *scratch);
size_t mnv3c_squeeze_excite_s8_xtensa_short_scratch_bytes(const mnv3c_squeeze_excite_params *p);

#ifdef __cplusplus
}
#endif

#endif /* MNV3C_XTENSA_H */
