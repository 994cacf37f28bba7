/*
 * batch_matmul_s8.c - int8 product of two runtime tensors (attention's Q.K^T and scores.V), TFLite
 * BATCH_MATMUL int8 semantics: both operands per-tensor asymmetric,
 *   y[b][m][n] = clamp(MBQM(sum_k (a[b][m][k] - a_zp) * (b[b][k][n] - b_zp), out_mult, out_shift)
 *                      + output_zp, act_min, act_max)
 * with an int32 accumulator (the quantizer bounds depth * 255 * 255 and the left shift).
 *
 * Layout: any: each operand is addressed through element strides per (batch, row, column), so the
 * NHWC storage of a 4-D [N, heads, T, E] tensor and the row-major one of a 3-D [N, T, E] tensor
 * need no copy. y must not overlap a or b. Arithmetic: docs/ARITHMETIC.md "mul" (same MBQM output
 * stage), bit-exact with mnv3c/quant/batch_matmul.py. No scratch.
 */
#include "mnv3c_kernels.h"
#include "mnv3c_requant.h"

void mnv3c_batch_matmul_s8(const mnv3c_batch_matmul_params *p, const int8_t *MNV3C_RESTRICT a,
                           const int8_t *MNV3C_RESTRICT b, int8_t *MNV3C_RESTRICT y, void *scratch)
{
    int32_t bi, m, n, k;
    (void)scratch;
    for (bi = 0; bi < p->batches; ++bi) {
        for (m = 0; m < p->rows; ++m) {
            const int8_t *ar = a + (ptrdiff_t)bi * p->a_batch_stride + (ptrdiff_t)m * p->a_row_stride;
            for (n = 0; n < p->cols; ++n) {
                const int8_t *bc = b + (ptrdiff_t)bi * p->b_batch_stride + (ptrdiff_t)n * p->b_col_stride;
                int32_t acc = 0;
                for (k = 0; k < p->depth; ++k) {
                    acc += ((int32_t)ar[(ptrdiff_t)k * p->a_depth_stride] - p->a_zp)
                           * ((int32_t)bc[(ptrdiff_t)k * p->b_depth_stride] - p->b_zp);
                }
                y[(ptrdiff_t)bi * p->y_batch_stride + (ptrdiff_t)m * p->y_row_stride + (ptrdiff_t)n * p->y_col_stride] =
                    mnv3c_clamp8(mnv3c_mbqm(acc, p->out_mult, p->out_shift) + p->output_zp, p->act_min, p->act_max);
            }
        }
    }
}

size_t mnv3c_batch_matmul_s8_scratch_bytes(const mnv3c_batch_matmul_params *p)
{
    (void)p;
    return 0;
}
