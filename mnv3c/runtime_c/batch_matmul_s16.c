/*
 * batch_matmul_s16.c - 16x16 product of two runtime int16 tensors (attention's Q.K^T and scores.V in
 * a mixed-precision model), TFLite BATCH_MATMUL int16 semantics: both operands symmetric (zero
 * points 0; a_zp, b_zp and output_zp are unused),
 *   y[b][m][n] = clamp16(MBQM64(sum_k a[b][m][k] * b[b][k][n], out_mult, out_shift), act_min, act_max)
 * with an int64 accumulator and TFLite's int64 MultiplyByQuantizedMultiplier (mnv3c_requant_s16.h).
 * Each product fits int32 (|a * b| <= 2^30); the quantizer bounds depth * 2^30 < 2^47, out_shift in
 * [-31, 7] and the requantized bound within int32.
 *
 * Layout: batch_matmul_s8's: each operand addressed through element strides per (batch, row,
 * column), in any layout. y must not overlap a or b. Bit-exact with mnv3c/quant/batch_matmul.py.
 * No scratch.
 */
#include "mnv3c_kernels_s16.h"
#include "mnv3c_requant_s16.h"

void mnv3c_batch_matmul_s16(const mnv3c_batch_matmul_params *p, const int16_t *MNV3C_RESTRICT a,
                            const int16_t *MNV3C_RESTRICT b, int16_t *MNV3C_RESTRICT y, void *scratch)
{
    int32_t bi, m, n, k;
    (void)scratch;
    for (bi = 0; bi < p->batches; ++bi) {
        for (m = 0; m < p->rows; ++m) {
            const int16_t *ar = a + (ptrdiff_t)bi * p->a_batch_stride + (ptrdiff_t)m * p->a_row_stride;
            for (n = 0; n < p->cols; ++n) {
                const int16_t *bc = b + (ptrdiff_t)bi * p->b_batch_stride + (ptrdiff_t)n * p->b_col_stride;
                int64_t acc = 0;
                for (k = 0; k < p->depth; ++k) {
                    acc += (int32_t)ar[(ptrdiff_t)k * p->a_depth_stride] * (int32_t)bc[(ptrdiff_t)k * p->b_depth_stride];
                }
                y[(ptrdiff_t)bi * p->y_batch_stride + (ptrdiff_t)m * p->y_row_stride + (ptrdiff_t)n * p->y_col_stride] =
                    mnv3c_clamp16(mnv3c_mbqm64(acc, p->out_mult, p->out_shift), p->act_min, p->act_max);
            }
        }
    }
}

size_t mnv3c_batch_matmul_s16_scratch_bytes(const mnv3c_batch_matmul_params *p)
{
    (void)p;
    return 0;
}
