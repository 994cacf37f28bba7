/*
 * mnv3c_kernels.h - portable C99 int8 kernels of the mnv3c runtime.
 *
 * Arithmetic: docs/ARITHMETIC.md, bit-exact with the numpy reference mnv3c/quant/intops.py.
 *
 * Conventions (all kernels):
 *   - One image (batch 1). Activations are NHWC: element (y, x, c) of an H x W x C tensor is at
 *     [(y * W + x) * C + c]. Vectors (dense, pooled) are plain [C].
 *   - Everything known at compile time lives in a `const` params struct (the code generator emits
 *     one per layer, usually in flash); only activation pointers and scratch are call arguments.
 *   - Every kernel has the signature  void mnv3c_<k>(const params *p, <inputs>, int8_t *y,
 *     void *scratch)  and a query  size_t mnv3c_<k>_scratch_bytes(const params *p)  giving the
 *     scratch it needs (0 = pass NULL), so the memory planner can place scratch at compile time.
 *   - Weight layouts (pre-arranged by the code generator):
 *       conv2d     OHWI  [out_c][kernel_h][kernel_w][in_c]
 *       depthwise  HWC   [kernel_h][kernel_w][in_c * ch_mult]  (output channel o = c*ch_mult + j
 *                        reads input channel c, as ONNX group = in_c)
 *       dense      [out_features][in_features]
 *   - bias_folded[o] = bias[o] - input_zp * sum(w[o][...]): the zero-point term is folded at
 *     compile time (use 0 for a missing bias). Kernels add input_zp * w back for taps that fall in
 *     the padding, so results equal ARITHMETIC.md exactly (padding holds the real value 0).
 *   - Requantization: per-output-channel out_mult[o] / out_shift[o] (TFLite QuantizeMultiplier
 *     encoding); per-tensor layers repeat the pair. Then clamp to [act_min, act_max] and, if
 *     lut != NULL, y = lut[t + 128] (fused h-swish/h-sigmoid/sigmoid; output_zp is then the
 *     pre-activation zero point and act_min/act_max are normally -128/127).
 *   - Elementwise kernels (add, mul, lut, squeeze_excite) may run in place (y == an input);
 *     all others require y not to overlap any input. concat_s8 takes its inputs as an array.
 *   - Padding: only pad_top/pad_left are given; bottom/right padding is implied by out_h/out_w.
 */
#ifndef MNV3C_KERNELS_H
#define MNV3C_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
#define MNV3C_RESTRICT __restrict
extern "C" {
#else
#define MNV3C_RESTRICT restrict
#endif

/* conv2d_s8 (general, group 1) and conv1x1_s8 (kernel 1x1, stride 1, no padding: pointwise). */
typedef struct {
    int32_t in_h, in_w, in_c;
    int32_t out_h, out_w, out_c;
    int32_t kernel_h, kernel_w;
    int32_t stride_h, stride_w;
    int32_t pad_top, pad_left;
    int32_t dilation_h, dilation_w;
    int32_t input_zp;
    int32_t output_zp;
    int32_t act_min, act_max;
    const int8_t *weights;      /* OHWI [out_c][kernel_h][kernel_w][in_c] */
    const int32_t *bias_folded; /* [out_c] */
    const int32_t *out_mult;    /* [out_c] */
    const int8_t *out_shift;    /* [out_c], each in [-31, 30] */
    const int8_t *lut;          /* NULL or [256] */
} mnv3c_conv2d_params;

void mnv3c_conv2d_s8(const mnv3c_conv2d_params *p,
    const int8_t *MNV3C_RESTRICT x, int8_t *MNV3C_RESTRICT y, void *scratch);
size_t mnv3c_conv2d_s8_scratch_bytes(const mnv3c_conv2d_params *p);

/* Requires kernel 1x1, stride 1, no padding (out_h == in_h, out_w == in_w); the rest as conv2d. */
void mnv3c_conv1x1_s8(const mnv3c_conv2d_params *p,
    const int8_t *MNV3C_RESTRICT x, int8_t *MNV3C_RESTRICT y, void *scratch);
size_t mnv3c_conv1x1_s8_scratch_bytes(const mnv3c_conv2d_params *p);

/* depthwise_conv2d_s8: out_c = in_c * ch_mult, any kernel size, stride, padding, dilation. */
typedef struct {
    int32_t in_h, in_w, in_c;
    int32_t out_h, out_w;
    int32_t ch_mult;
    int32_t kernel_h, kernel_w;
    int32_t stride_h, stride_w;
    int32_t pad_top, pad_left;
    int32_t dilation_h, dilation_w;
    int32_t input_zp;
    int32_t output_zp;
    int32_t act_min, act_max;
    const int8_t *weights;      /* HWC [kernel_h][kernel_w][in_c * ch_mult] */
    const int32_t *bias_folded; /* [in_c * ch_mult] */
    const int32_t *out_mult;    /* [in_c * ch_mult] */
    const int8_t *out_shift;    /* [in_c * ch_mult] */
    const int8_t *lut;          /* NULL or [256] */
} mnv3c_depthwise_conv2d_params;

void mnv3c_depthwise_conv2d_s8(const mnv3c_depthwise_conv2d_params *p,
    const int8_t *MNV3C_RESTRICT x, int8_t *MNV3C_RESTRICT y, void *scratch);
size_t mnv3c_depthwise_conv2d_s8_scratch_bytes(const mnv3c_depthwise_conv2d_params *p);

/* dense_s8: y[out_features] = requant(W x + bias), x[in_features]. */
typedef struct {
    int32_t in_features, out_features;
    int32_t input_zp;
    int32_t output_zp;
    int32_t act_min, act_max;
    const int8_t *weights;      /* [out_features][in_features] */
    const int32_t *bias_folded; /* [out_features] */
    const int32_t *out_mult;    /* [out_features] */
    const int8_t *out_shift;    /* [out_features] */
    const int8_t *lut;          /* NULL or [256] */
} mnv3c_dense_params;

void mnv3c_dense_s8(const mnv3c_dense_params *p,
    const int8_t *MNV3C_RESTRICT x, int8_t *MNV3C_RESTRICT y, void *scratch);
size_t mnv3c_dense_s8_scratch_bytes(const mnv3c_dense_params *p);

/* add_s8: TFLite int8 Add (left shift 20) of two same-shape tensors of `size` elements. */
typedef struct {
    int32_t size;
    int32_t a_zp, b_zp;
    int32_t a_mult, a_shift;
    int32_t b_mult, b_shift;
    int32_t out_mult, out_shift;
    int32_t output_zp;
    int32_t act_min, act_max;
    const int8_t *lut; /* NULL or [256] */
} mnv3c_add_params;

void mnv3c_add_s8(const mnv3c_add_params *p,
    const int8_t *a, const int8_t *b, int8_t *y, void *scratch);
size_t mnv3c_add_s8_scratch_bytes(const mnv3c_add_params *p);

/*
 * mul_s8: y[r][c] = requant((a[r][c] - a_zp) * (b[.] - b_zp)) over rows x cols elements, where
 * b is [rows][cols] (b_broadcast == 0) or one [cols] vector reused for every row (b_broadcast != 0:
 * the SE channel scale on an NHWC tensor, rows = H*W, cols = C).
 */
typedef struct {
    int32_t rows, cols;
    int32_t b_broadcast;
    int32_t a_zp, b_zp;
    int32_t out_mult, out_shift;
    int32_t output_zp;
    int32_t act_min, act_max;
} mnv3c_mul_params;

void mnv3c_mul_s8(const mnv3c_mul_params *p,
    const int8_t *a, const int8_t *b, int8_t *y, void *scratch);
size_t mnv3c_mul_s8_scratch_bytes(const mnv3c_mul_params *p);

/* global_avg_pool_s8: x[in_h][in_w][channels] -> y[channels]. */
typedef struct {
    int32_t in_h, in_w, channels;
    int32_t input_zp;
    int32_t output_zp;
    int32_t out_mult, out_shift; /* Q(sx / (sy * in_h * in_w)) */
} mnv3c_global_avg_pool_params;

void mnv3c_global_avg_pool_s8(const mnv3c_global_avg_pool_params *p,
    const int8_t *MNV3C_RESTRICT x, int8_t *MNV3C_RESTRICT y, void *scratch);
size_t mnv3c_global_avg_pool_s8_scratch_bytes(const mnv3c_global_avg_pool_params *p);

/* avg_pool_s8: count_include_pad = false; the divisor n is the window's number of valid taps. */
typedef struct {
    int32_t in_h, in_w, channels;
    int32_t out_h, out_w;
    int32_t kernel_h, kernel_w;
    int32_t stride_h, stride_w;
    int32_t pad_top, pad_left;
    int32_t input_zp;
    int32_t output_zp;
    const int32_t *mult_by_count; /* [kernel_h * kernel_w + 1], entry n = Q(sx / (sy * n)) */
    const int8_t *shift_by_count; /* [kernel_h * kernel_w + 1] */
} mnv3c_avg_pool_params;

void mnv3c_avg_pool_s8(const mnv3c_avg_pool_params *p,
    const int8_t *MNV3C_RESTRICT x, int8_t *MNV3C_RESTRICT y, void *scratch);
size_t mnv3c_avg_pool_s8_scratch_bytes(const mnv3c_avg_pool_params *p);

/* max_pool_s8: max of the valid taps (padding never wins; a window with none gives -128). */
typedef struct {
    int32_t in_h, in_w, channels;
    int32_t out_h, out_w;
    int32_t kernel_h, kernel_w;
    int32_t stride_h, stride_w;
    int32_t pad_top, pad_left;
    int32_t dilation_h, dilation_w;
} mnv3c_max_pool_params;

void mnv3c_max_pool_s8(const mnv3c_max_pool_params *p,
    const int8_t *MNV3C_RESTRICT x, int8_t *MNV3C_RESTRICT y, void *scratch);
size_t mnv3c_max_pool_s8_scratch_bytes(const mnv3c_max_pool_params *p);

/* lut_s8: standalone activation, y[i] = table[x[i] + 128]. */
typedef struct {
    int32_t size;
    const int8_t *table; /* [256] */
} mnv3c_lut_params;

void mnv3c_lut_s8(const mnv3c_lut_params *p, const int8_t *x, int8_t *y, void *scratch);
size_t mnv3c_lut_s8_scratch_bytes(const mnv3c_lut_params *p);

/* resize_nearest_s8: y[i][j][c] = x[y_index[i]][x_index[j]][c] (tables built by the compiler). */
typedef struct {
    int32_t in_h, in_w, channels;
    int32_t out_h, out_w;
    const int32_t *y_index; /* [out_h], each in [0, in_h) */
    const int32_t *x_index; /* [out_w], each in [0, in_w) */
} mnv3c_resize_nearest_params;

void mnv3c_resize_nearest_s8(const mnv3c_resize_nearest_params *p,
    const int8_t *MNV3C_RESTRICT x, int8_t *MNV3C_RESTRICT y, void *scratch);
size_t mnv3c_resize_nearest_s8_scratch_bytes(const mnv3c_resize_nearest_params *p);

/* resize_bilinear_s8: TFLite integer bilinear; taps and weights (1/1024 units) per row/column. */
typedef struct {
    int32_t in_h, in_w, channels;
    int32_t out_h, out_w;
    const int32_t *y_i0, *y_i1, *y_frac; /* [out_h]: rows read and the weight of y_i1 */
    const int32_t *x_i0, *x_i1, *x_frac; /* [out_w]: columns read and the weight of x_i1 */
} mnv3c_resize_bilinear_params;

void mnv3c_resize_bilinear_s8(const mnv3c_resize_bilinear_params *p,
    const int8_t *MNV3C_RESTRICT x, int8_t *MNV3C_RESTRICT y, void *scratch);
size_t mnv3c_resize_bilinear_s8_scratch_bytes(const mnv3c_resize_bilinear_params *p);

/* conv_transpose_s8: transposed convolution, group 1; bias is NOT folded (taps vary per pixel).
 * Scratch: out_c int32 accumulators (4-byte aligned). */
typedef struct {
    int32_t in_h, in_w, in_c;
    int32_t out_h, out_w, out_c;
    int32_t kernel_h, kernel_w;
    int32_t stride_h, stride_w;
    int32_t pad_top, pad_left;
    int32_t dilation_h, dilation_w;
    int32_t input_zp;
    int32_t output_zp;
    int32_t act_min, act_max;
    const int8_t *weights;   /* OHWI [out_c][kernel_h][kernel_w][in_c] */
    const int32_t *bias;     /* [out_c] */
    const int32_t *out_mult; /* [out_c] */
    const int8_t *out_shift; /* [out_c] */
    const int8_t *lut;       /* NULL or [256] */
} mnv3c_conv_transpose_params;

void mnv3c_conv_transpose_s8(const mnv3c_conv_transpose_params *p,
    const int8_t *MNV3C_RESTRICT x, int8_t *MNV3C_RESTRICT y, void *scratch);
size_t mnv3c_conv_transpose_s8_scratch_bytes(const mnv3c_conv_transpose_params *p);

/* concat_s8: y[outer][sum inner] from inputs xs[i] = [outer][inner[i]] (storage order). */
typedef struct {
    int32_t num_inputs;
    int32_t outer;
    const int32_t *inner;    /* [num_inputs] */
    const int8_t *requant;   /* [num_inputs]: 0 copy, 1 requantize */
    const int32_t *input_zp; /* [num_inputs] */
    const int32_t *mult;     /* [num_inputs] */
    const int8_t *shift;     /* [num_inputs] */
    int32_t output_zp;
} mnv3c_concat_params;

void mnv3c_concat_s8(const mnv3c_concat_params *p, const int8_t *const *xs, int8_t *y, void *scratch);
size_t mnv3c_concat_s8_scratch_bytes(const mnv3c_concat_params *p);

/* slice_s8: the box [start0, +out_d0) x [start1, +out_d1) x [start2, +out_d2) of x[in_d0][in_d1][in_d2]. */
typedef struct {
    int32_t in_d0, in_d1, in_d2;
    int32_t start0, start1, start2;
    int32_t out_d0, out_d1, out_d2;
} mnv3c_slice_params;

void mnv3c_slice_s8(const mnv3c_slice_params *p,
    const int8_t *MNV3C_RESTRICT x, int8_t *MNV3C_RESTRICT y, void *scratch);
size_t mnv3c_slice_s8_scratch_bytes(const mnv3c_slice_params *p);

/*
 * softmax_s8: y = softmax(x) along the middle axis of x[rows][size][inner] (inner 1: the channel
 * axis in NHWC, contiguous rows), with TFLite's int8
 * semantics (docs/ARITHMETIC.md "softmax"): y has scale 1/256 and zero point -128;
 * multiplier/left_shift encode beta * input_scale in Q5.26 (left_shift >= 0).
 */
typedef struct {
    int32_t rows, size;  /* size <= 4095 */
    int32_t inner;       /* elements between consecutive values of a row (1: contiguous) */
    int32_t multiplier, left_shift;
    int32_t diff_min;    /* x - max(x) below this gives probability 0 (y = -128) */
} mnv3c_softmax_params;

void mnv3c_softmax_s8(const mnv3c_softmax_params *p, const int8_t *MNV3C_RESTRICT x,
    int8_t *MNV3C_RESTRICT y, void *scratch);
size_t mnv3c_softmax_s8_scratch_bytes(const mnv3c_softmax_params *p);

/* transpose_s8: y[i0][i1][i2][i3] (contiguous) = x[i0*s0 + i1*s1 + i2*s2 + i3*s3]. */
typedef struct {
    int32_t d0, d1, d2, d3;  /* output dims, outermost first */
    int32_t s0, s1, s2, s3;  /* input element strides of each output dim */
} mnv3c_transpose_params;

void mnv3c_transpose_s8(const mnv3c_transpose_params *p, const int8_t *MNV3C_RESTRICT x,
    int8_t *MNV3C_RESTRICT y, void *scratch);
size_t mnv3c_transpose_s8_scratch_bytes(const mnv3c_transpose_params *p);

/*
 * batch_matmul_s8: y[b][m][n] = clamp(MBQM(sum_k (a[b][m][k] - a_zp)(b[b][k][n] - b_zp)) + output_zp)
 * (TFLite BATCH_MATMUL int8); every operand addressed by element strides, in any layout.
 */
typedef struct {
    int32_t batches, rows, cols, depth;
    int32_t a_batch_stride, a_row_stride, a_depth_stride;
    int32_t b_batch_stride, b_depth_stride, b_col_stride;
    int32_t y_batch_stride, y_row_stride, y_col_stride;
    int32_t a_zp, b_zp;
    int32_t out_mult, out_shift, output_zp;
    int32_t act_min, act_max;
} mnv3c_batch_matmul_params;

void mnv3c_batch_matmul_s8(const mnv3c_batch_matmul_params *p, const int8_t *MNV3C_RESTRICT a,
    const int8_t *MNV3C_RESTRICT b, int8_t *MNV3C_RESTRICT y, void *scratch);
size_t mnv3c_batch_matmul_s8_scratch_bytes(const mnv3c_batch_matmul_params *p);

/*
 * layer_norm_s8: integer LayerNormalization along the middle axis of x[rows][size][inner] (as
 * softmax_s8); the arithmetic is in layer_norm_s8.c's header comment.
 */
typedef struct {
    int32_t rows, size, inner;
    int64_t eps;             /* round(size^3 * epsilon / s_x^2) */
    int32_t out_shift;       /* G + 24: the fixed point of gamma * normalised value */
    int32_t output_zp;
    const int32_t *gamma;    /* [size] round(g * sqrt(size) / s_y * 2^G) */
    const int64_t *beta;     /* [size] round(b / s_y * 2^out_shift) */
} mnv3c_layer_norm_params;

void mnv3c_layer_norm_s8(const mnv3c_layer_norm_params *p, const int8_t *MNV3C_RESTRICT x,
    int8_t *MNV3C_RESTRICT y, void *scratch);
size_t mnv3c_layer_norm_s8_scratch_bytes(const mnv3c_layer_norm_params *p);

/*
 * squeeze_excite_s8 on x[in_h][in_w][channels]:
 *   pooled = global_avg_pool(x)  (output zero point fc1.input_zp, multiplier pool_mult/pool_shift)
 *   r      = dense(fc1, pooled)  (fc1.out_features = R, fused relu via act_min/act_max)
 *   gate   = dense(fc2, r)       (fc2.in_features = R, fc2.input_zp = fc1.output_zp,
 *                                 fc2.out_features = channels, fused h-sigmoid via fc2.lut;
 *                                 the table's output zero point is gate_zp)
 *   y      = mul(x, gate)        (per-channel broadcast, mul_mult/mul_shift, output_zp, act_*)
 * No full-size intermediate: scratch holds pooled/gate (channels bytes) and r (R bytes).
 */
typedef struct {
    int32_t in_h, in_w, channels;
    int32_t input_zp;
    int32_t pool_mult, pool_shift;
    mnv3c_dense_params fc1;
    mnv3c_dense_params fc2;
    int32_t gate_zp;
    int32_t mul_mult, mul_shift;
    int32_t output_zp;
    int32_t act_min, act_max;
} mnv3c_squeeze_excite_params;

void mnv3c_squeeze_excite_s8(const mnv3c_squeeze_excite_params *p, const int8_t *x, int8_t *y,
    void *scratch);
/* Its stages around the dense layers: pooled -> scratch[0 .. channels); y = mul(x, gate = scratch). */
void mnv3c_squeeze_excite_s8_pool(const mnv3c_squeeze_excite_params *p, const int8_t *x, void *scratch);
void mnv3c_squeeze_excite_s8_scale(const mnv3c_squeeze_excite_params *p, const int8_t *x, int8_t *y,
    void *scratch);
size_t mnv3c_squeeze_excite_s8_scratch_bytes(const mnv3c_squeeze_excite_params *p);

#ifdef __cplusplus
}
#endif

#endif /* MNV3C_KERNELS_H */
