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

/* conv1x1_s8 on "pointwise_rv" weights, any in_c. */
void mnv3c_conv1x1_s8_riscv(const mnv3c_conv2d_params *p,
    const int8_t *MNV3C_RESTRICT x, int8_t *MNV3C_RESTRICT y, void *scratch);
size_t mnv3c_conv1x1_s8_riscv_scratch_bytes(const mnv3c_conv2d_params *p);

#ifdef __cplusplus
}
#endif

#endif /* MNV3C_RISCV_H */
