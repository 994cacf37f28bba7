/*
 * mnv3c_kernels_s16.h - the 16x8 kernels (int16 activations, int8 weights; TFLite's scheme) of a
 * mixed-precision model, and the converters at its int8/int16 boundaries. Tensor layout, weight
 * layout and loop structure are those of the int8 kernels in mnv3c_kernels.h; the differences:
 *   - activations are symmetric int16 (zero point 0), so there are no zero points to fold;
 *   - conv/depthwise/dense accumulate in int64 with an int64 bias and requantize with TFLite's
 *     int64 MultiplyByQuantizedMultiplier (mnv3c_mbqm64 in mnv3c_requant_s16.h), shift in [-31, 7];
 *   - fused activations are 513-entry int16 tables with linear interpolation (mnv3c_lut16), but a
 *     hard-swish, which is computed (mnv3c_hswish16, in `hswish`: NULL where there is none).
 * Arithmetic contract: docs/ARITHMETIC.md "int16 (16x8)", executable in mnv3c/quant/intops16.py.
 * Pools and the data-movement kernels reuse the int8 params structs (their zero points are 0).
 */
#ifndef MNV3C_KERNELS_S16_H
#define MNV3C_KERNELS_S16_H

#include "mnv3c_kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int32_t in_h, in_w, in_c;
    int32_t out_h, out_w, out_c;
    int32_t kernel_h, kernel_w;
    int32_t stride_h, stride_w;
    int32_t pad_top, pad_left;
    int32_t dilation_h, dilation_w;
    int32_t act_min, act_max;
    const int8_t *weights;   /* OHWI [out_c][kernel_h][kernel_w][in_c] */
    const int64_t *bias;     /* [out_c] */
    const int32_t *out_mult; /* [out_c] */
    const int8_t *out_shift; /* [out_c], each in [-31, 7] */
    const int16_t *lut;      /* NULL or [513] */
    const int32_t *hswish;   /* NULL or {frac_bits, offset, width, mult, shift} */
} mnv3c_conv2d_s16_params;

void mnv3c_conv2d_s16(const mnv3c_conv2d_s16_params *p,
    const int16_t *MNV3C_RESTRICT x, int16_t *MNV3C_RESTRICT y, void *scratch);
size_t mnv3c_conv2d_s16_scratch_bytes(const mnv3c_conv2d_s16_params *p);

typedef struct {
    int32_t in_h, in_w, in_c;
    int32_t out_h, out_w;
    int32_t ch_mult;
    int32_t kernel_h, kernel_w;
    int32_t stride_h, stride_w;
    int32_t pad_top, pad_left;
    int32_t dilation_h, dilation_w;
    int32_t act_min, act_max;
    const int8_t *weights;   /* HWC [kernel_h][kernel_w][in_c * ch_mult] */
    const int64_t *bias;     /* [in_c * ch_mult] */
    const int32_t *out_mult; /* [in_c * ch_mult] */
    const int8_t *out_shift; /* [in_c * ch_mult] */
    const int16_t *lut;      /* NULL or [513] */
    const int32_t *hswish;   /* NULL or {frac_bits, offset, width, mult, shift} */
} mnv3c_depthwise_conv2d_s16_params;

void mnv3c_depthwise_conv2d_s16(const mnv3c_depthwise_conv2d_s16_params *p,
    const int16_t *MNV3C_RESTRICT x, int16_t *MNV3C_RESTRICT y, void *scratch);
size_t mnv3c_depthwise_conv2d_s16_scratch_bytes(const mnv3c_depthwise_conv2d_s16_params *p);

typedef struct {
    int32_t in_features, out_features;
    int32_t act_min, act_max;
    const int8_t *weights;   /* [out_features][in_features] */
    const int64_t *bias;     /* [out_features] */
    const int32_t *out_mult; /* [out_features] */
    const int8_t *out_shift; /* [out_features] */
    const int16_t *lut;      /* NULL or [513] */
    const int32_t *hswish;   /* NULL or {frac_bits, offset, width, mult, shift} */
} mnv3c_dense_s16_params;

void mnv3c_dense_s16(const mnv3c_dense_s16_params *p,
    const int16_t *MNV3C_RESTRICT x, int16_t *MNV3C_RESTRICT y, void *scratch);
size_t mnv3c_dense_s16_scratch_bytes(const mnv3c_dense_s16_params *p);

typedef struct {
    int32_t size;
    int32_t a_mult, a_shift;
    int32_t b_mult, b_shift;
    int32_t out_mult, out_shift;
    int32_t act_min, act_max;
    const int16_t *lut;    /* NULL or [513] */
    const int32_t *hswish; /* NULL or {frac_bits, offset, width, mult, shift} */
} mnv3c_add_s16_params;

void mnv3c_add_s16(const mnv3c_add_s16_params *p,
    const int16_t *a, const int16_t *b, int16_t *y, void *scratch);
size_t mnv3c_add_s16_scratch_bytes(const mnv3c_add_s16_params *p);

/* Int16 Mul (zero points 0): mul_s8's layouts and params struct (its zero points unused). */
void mnv3c_mul_s16(const mnv3c_mul_params *p,
    const int16_t *a, const int16_t *b, int16_t *y, void *scratch);
size_t mnv3c_mul_s16_scratch_bytes(const mnv3c_mul_params *p);

typedef struct {
    int32_t in_h, in_w, channels;
    int32_t pool_mult, pool_shift; /* Q(sx / (s_pool * in_h * in_w)) */
    mnv3c_dense_s16_params fc1;    /* reads the pooled vector */
    mnv3c_dense_s16_params fc2;    /* reads fc1's output; its lut is the gate */
    int32_t mul_mult, mul_shift;   /* Q(sx * s_gate / sy) */
    int32_t act_min, act_max;
} mnv3c_squeeze_excite_s16_params;

void mnv3c_squeeze_excite_s16(const mnv3c_squeeze_excite_s16_params *p,
    const int16_t *x, int16_t *y, void *scratch);
size_t mnv3c_squeeze_excite_s16_scratch_bytes(const mnv3c_squeeze_excite_s16_params *p);

void mnv3c_global_avg_pool_s16(const mnv3c_global_avg_pool_params *p,
    const int16_t *MNV3C_RESTRICT x, int16_t *MNV3C_RESTRICT y, void *scratch);
size_t mnv3c_global_avg_pool_s16_scratch_bytes(const mnv3c_global_avg_pool_params *p);

void mnv3c_avg_pool_s16(const mnv3c_avg_pool_params *p,
    const int16_t *MNV3C_RESTRICT x, int16_t *MNV3C_RESTRICT y, void *scratch);
size_t mnv3c_avg_pool_s16_scratch_bytes(const mnv3c_avg_pool_params *p);

void mnv3c_max_pool_s16(const mnv3c_max_pool_params *p,
    const int16_t *MNV3C_RESTRICT x, int16_t *MNV3C_RESTRICT y, void *scratch);
size_t mnv3c_max_pool_s16_scratch_bytes(const mnv3c_max_pool_params *p);

typedef struct {
    int32_t size;
    const int16_t *table; /* [513] */
} mnv3c_lut_s16_params;

void mnv3c_lut_s16(const mnv3c_lut_s16_params *p, const int16_t *x, int16_t *y, void *scratch);
size_t mnv3c_lut_s16_scratch_bytes(const mnv3c_lut_s16_params *p);

typedef struct {
    int32_t size;
    int32_t input_zp;  /* int8 -> int16: the int8 zero point; int16 -> int8: 0 */
    int32_t output_zp; /* int16 -> int8: the int8 zero point; int8 -> int16: 0 */
    int32_t mult, shift;
} mnv3c_requantize_params;

void mnv3c_requantize_s8_s16(const mnv3c_requantize_params *p,
    const int8_t *MNV3C_RESTRICT x, int16_t *MNV3C_RESTRICT y, void *scratch);
size_t mnv3c_requantize_s8_s16_scratch_bytes(const mnv3c_requantize_params *p);

void mnv3c_requantize_s16_s8(const mnv3c_requantize_params *p,
    const int16_t *MNV3C_RESTRICT x, int8_t *MNV3C_RESTRICT y, void *scratch);
size_t mnv3c_requantize_s16_s8_scratch_bytes(const mnv3c_requantize_params *p);

/*
 * Data movement of int16 activations: the int8 kernels' params structs and element maps, counted in
 * int16 elements. concat_s16 requantizes an input whose scale differs (requant[i] == 1) by
 * clamp16(MBQM(x, mult[i], shift[i])), shift[i] <= 16; its zero-point fields are unused (0).
 */
void mnv3c_concat_s16(const mnv3c_concat_params *p, const int16_t *const *xs, int16_t *y, void *scratch);
size_t mnv3c_concat_s16_scratch_bytes(const mnv3c_concat_params *p);

void mnv3c_slice_s16(const mnv3c_slice_params *p,
    const int16_t *MNV3C_RESTRICT x, int16_t *MNV3C_RESTRICT y, void *scratch);
size_t mnv3c_slice_s16_scratch_bytes(const mnv3c_slice_params *p);

void mnv3c_transpose_s16(const mnv3c_transpose_params *p, const int16_t *MNV3C_RESTRICT x,
    int16_t *MNV3C_RESTRICT y, void *scratch);
size_t mnv3c_transpose_s16_scratch_bytes(const mnv3c_transpose_params *p);

/* batch_matmul_s16: batch_matmul_s8's strides, int16 operands and result, zero points unused (0),
 * int64 accumulator, y = clamp16(MBQM64(acc, out_mult, out_shift), act_min, act_max). */
void mnv3c_batch_matmul_s16(const mnv3c_batch_matmul_params *p, const int16_t *MNV3C_RESTRICT a,
    const int16_t *MNV3C_RESTRICT b, int16_t *MNV3C_RESTRICT y, void *scratch);
size_t mnv3c_batch_matmul_s16_scratch_bytes(const mnv3c_batch_matmul_params *p);

/* softmax_s16: softmax_s8's rows and params on symmetric int16 x; y in units of 1/32768 (scale
 * 1/32768, zero point 0), clamped to [0, 32767], 0 where x - max(x) < diff_min. */
void mnv3c_softmax_s16(const mnv3c_softmax_params *p, const int16_t *MNV3C_RESTRICT x,
    int16_t *MNV3C_RESTRICT y, void *scratch);
size_t mnv3c_softmax_s16_scratch_bytes(const mnv3c_softmax_params *p);

/* layer_norm_s16: layer_norm_s8's arithmetic on int16 codes (output_zp 0, at most 812 values per row). */
void mnv3c_layer_norm_s16(const mnv3c_layer_norm_params *p, const int16_t *MNV3C_RESTRICT x,
    int16_t *MNV3C_RESTRICT y, void *scratch);
size_t mnv3c_layer_norm_s16_scratch_bytes(const mnv3c_layer_norm_params *p);

#ifdef __cplusplus
}
#endif

#endif /* MNV3C_KERNELS_S16_H */
