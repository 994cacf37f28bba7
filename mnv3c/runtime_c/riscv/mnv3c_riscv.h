/*
 * mnv3c_riscv.h - kernel variants for RV32IMC cores (ESP32-C3-like: no DSP or vector extension),
 * also chosen for the ESP8266's LX106 (no 32x32->64 multiply either; plan/kernels.py).
 * Each takes the params struct and weights of its portable counterpart (mnv3c_kernels.h) and gives
 * the same bytes.
 */
#ifndef MNV3C_RISCV_H
#define MNV3C_RISCV_H

#include "mnv3c_kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

/* conv1x1_s8 on "pointwise_rv" weights, in_c <= MNV3C_PW_MAX_C; _short: the proven one-MULH output stage. */
void mnv3c_conv1x1_s8_riscv(const mnv3c_conv2d_params *p,
    const int8_t *MNV3C_RESTRICT x, int8_t *MNV3C_RESTRICT y, void *scratch);
size_t mnv3c_conv1x1_s8_riscv_scratch_bytes(const mnv3c_conv2d_params *p);
void mnv3c_conv1x1_s8_riscv_short(const mnv3c_conv2d_params *p,
    const int8_t *MNV3C_RESTRICT x, int8_t *MNV3C_RESTRICT y, void *scratch);
size_t mnv3c_conv1x1_s8_riscv_short_scratch_bytes(const mnv3c_conv2d_params *p);

/* conv2d_s8 (group 1) on "pointwise_rv" weights ([out_c][kernel_h * kernel_w * in_c] as OHWI), that
 * k <= MNV3C_PW_MAX_C; _short: the proven one-MULH output stage. */
void mnv3c_conv2d_s8_riscv(const mnv3c_conv2d_params *p,
    const int8_t *MNV3C_RESTRICT x, int8_t *MNV3C_RESTRICT y, void *scratch);
size_t mnv3c_conv2d_s8_riscv_scratch_bytes(const mnv3c_conv2d_params *p);
void mnv3c_conv2d_s8_riscv_short(const mnv3c_conv2d_params *p,
    const int8_t *MNV3C_RESTRICT x, int8_t *MNV3C_RESTRICT y, void *scratch);
size_t mnv3c_conv2d_s8_riscv_short_scratch_bytes(const mnv3c_conv2d_params *p);

/* depthwise_conv2d_s8, ch_mult 1, in_c % 4 == 0, on "depthwise_rv" weights; _short: the proven
 * one-MULH output stage. */
void mnv3c_depthwise_conv2d_s8_riscv(const mnv3c_depthwise_conv2d_params *p,
    const int8_t *MNV3C_RESTRICT x, int8_t *MNV3C_RESTRICT y, void *scratch);
size_t mnv3c_depthwise_conv2d_s8_riscv_scratch_bytes(const mnv3c_depthwise_conv2d_params *p);
void mnv3c_depthwise_conv2d_s8_riscv_short(const mnv3c_depthwise_conv2d_params *p,
    const int8_t *MNV3C_RESTRICT x, int8_t *MNV3C_RESTRICT y, void *scratch);
size_t mnv3c_depthwise_conv2d_s8_riscv_short_scratch_bytes(const mnv3c_depthwise_conv2d_params *p);

/* dense_s8 on "dense_rv" weights; _short: the proven one-MULH output stage. */
void mnv3c_dense_s8_riscv(const mnv3c_dense_params *p,
    const int8_t *MNV3C_RESTRICT x, int8_t *MNV3C_RESTRICT y, void *scratch);
size_t mnv3c_dense_s8_riscv_scratch_bytes(const mnv3c_dense_params *p);
void mnv3c_dense_s8_riscv_short(const mnv3c_dense_params *p,
    const int8_t *MNV3C_RESTRICT x, int8_t *MNV3C_RESTRICT y, void *scratch);
size_t mnv3c_dense_s8_riscv_short_scratch_bytes(const mnv3c_dense_params *p);

/* squeeze_excite_s8 with both dense layers on "dense_rv" weights (dense_s8_riscv); _short: both
 * dense layers' one-MULH output stage proven exact. */
void mnv3c_squeeze_excite_s8_riscv(const mnv3c_squeeze_excite_params *p, const int8_t *x, int8_t *y,
    void *scratch);
size_t mnv3c_squeeze_excite_s8_riscv_scratch_bytes(const mnv3c_squeeze_excite_params *p);
void mnv3c_squeeze_excite_s8_riscv_short(const mnv3c_squeeze_excite_params *p, const int8_t *x, int8_t *y,
    void *scratch);
size_t mnv3c_squeeze_excite_s8_riscv_short_scratch_bytes(const mnv3c_squeeze_excite_params *p);

#ifdef __cplusplus
}
#endif

#endif /* MNV3C_RISCV_H */
