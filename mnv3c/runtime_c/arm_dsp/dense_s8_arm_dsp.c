/*
 * dense_s8_arm_dsp.c - fully connected layer for Cortex-M cores with the DSP extension: the
 * arithmetic of ../dense_s8.c (same bytes), four output channels at a time with SMLAD.
 *
 * The input vector is widened once into (c0, c2) / (c1, c3) int16 pairs (mnv3c_dsp_widen_pair with
 * no second pixel); the weights are "pointwise_dsp" (mnv3c/codegen/layouts.py, described in
 * mnv3c_dsp_gemm.h). Each weight is used once, so what costs is widening it: two blocks of four
 * output channels at a time share each input pair, per group of four inputs 2 + 8 loads, 16 SXTB16
 * and 16 SMLAD for 32 MACs (42 instructions, +3 per two groups for the loop: 0.74 MAC/insn, against
 * 25 for 16 MACs one block at a time), written out because GCC spills one of the 14 live registers
 * inside the loop, out of line so that the three short modes share it; a last odd block is computed
 * twice (as both blocks). Output channels past out_features (zero rows) are computed and dropped.
 * Precondition (plan/kernels.py): in_features <= MNV3C_PW_MAX_C.
 * Two entry points as in conv1x1_s8_arm_dsp.c (_short: the proven short output stage), which also
 * calls them for the lone last pixel of an odd pixel count (same weights, same output stage).
 */
#include "mnv3c_arm_dsp.h"
#include "mnv3c_dsp_gemm.h"

static mnv3c_dsp_out out_of(const mnv3c_dense_params *p)
{
    const mnv3c_dsp_out s = {p->bias_folded, p->out_mult, p->out_shift, p->output_zp,
                             p->act_min,     p->act_max,  p->lut,       p->out_features,
                             p->lut != NULL ? p->lut + 128 : NULL};
    return s;
}

/* One weight word of pointer P against the input pair in x: channels A (bytes 0, 2) and B (1, 3). */
#define MNV3C_DENSE_STEP(P, A, B)               \
    "ldr %[t], [%[" P "]], #4\n\t"              \
    "sxtb16 %[u], %[t]\n\t"                     \
    "sxtb16 %[t], %[t], ror #8\n\t"             \
    "smlad %[" A "], %[x], %[u], %[" A "]\n\t"  \
    "smlad %[" B "], %[x], %[t], %[" B "]\n\t"
/* One group of four inputs: its (c0, c2) pair against both blocks' first two words, then (c1, c3). */
#define MNV3C_DENSE_GROUP                       \
    "ldr %[x], [%[xb]], #8\n\t"                 \
    MNV3C_DENSE_STEP("wa", "a0", "a1")          \
    MNV3C_DENSE_STEP("wa", "a2", "a3")          \
    MNV3C_DENSE_STEP("wb", "b0", "b1")          \
    MNV3C_DENSE_STEP("wb", "b2", "b3")          \
    "ldr %[x], [%[xb]], #8\n\t"                 \
    MNV3C_DENSE_STEP("wa", "a0", "a1")          \
    MNV3C_DENSE_STEP("wa", "a2", "a3")          \
    MNV3C_DENSE_STEP("wb", "b0", "b1")          \
    MNV3C_DENSE_STEP("wb", "b2", "b3")

/* The sums a[0..3], b[0..3] of two blocks of output channels (weights wa, wb) over `groups` (>= 1)
 * widened groups: two groups per iteration, an odd count entering at the second; the loop bound
 * stays in memory (re-read once per iteration) so the other 14 values fit in registers. */
static __attribute__((noinline)) void block_pair(const int32_t *xbuf, int32_t groups, const mnv3c_dsp_word *wa,
                              const mnv3c_dsp_word *wb, int32_t a[4], int32_t b[4])
{
    const int32_t *xb = xbuf;
    const int32_t *const end = xbuf + 4 * groups;
    int32_t a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3], b0 = b[0], b1 = b[1], b2 = b[2], b3 = b[3];
    int32_t x, t, u;
    __asm__ volatile(
        "ldr %[t], %[n]\n\t"
        "tst %[t], #1\n\t"
        "bne 2f\n\t"
        "1:\n\t"
        MNV3C_DENSE_GROUP
        "2:\n\t"
        MNV3C_DENSE_GROUP
        "ldr %[t], %[end]\n\t"
        "cmp %[xb], %[t]\n\t"
        "bne 1b\n\t"
        : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [b0] "+r"(b0), [b1] "+r"(b1),
          [b2] "+r"(b2), [b3] "+r"(b3), [xb] "+r"(xb), [wa] "+r"(wa), [wb] "+r"(wb), [x] "=&r"(x),
          [t] "=&r"(t), [u] "=&r"(u)
        : [n] "m"(groups), [end] "m"(end)
        : "cc", "memory");
    a[0] = a0, a[1] = a1, a[2] = a2, a[3] = a3, b[0] = b0, b[1] = b1, b[2] = b2, b[3] = b3;
}

#undef MNV3C_DENSE_GROUP
#undef MNV3C_DENSE_STEP

MNV3C_DSP_INLINE void dense(const mnv3c_dense_params *p, const int8_t *MNV3C_RESTRICT x, int8_t *MNV3C_RESTRICT y,
                           int mode)
{
    const int32_t groups = (p->in_features + 3) >> 2;
    const mnv3c_dsp_out s = out_of(p);
    const mnv3c_dsp_word *w = (const mnv3c_dsp_word *)(const void *)p->weights;
    int32_t xbuf[MNV3C_PW_MAX_C];
    int32_t sums[8] = {0, 0, 0, 0, 0, 0, 0, 0}, pair[8];
    int32_t o, i;
    mnv3c_dsp_widen_pair(x, NULL, p->in_features, xbuf);
    for (o = 0; o < s.out_c; o += 4) {
        if ((o & 4) == 0) { /* blocks o and o + 4; a last lone block is computed twice */
            const int two = o + 4 < s.out_c;
            mnv3c_dsp_start(&s, o, mode, pair);
            mnv3c_dsp_start(&s, two ? o + 4 : o, mode, pair + 4);
            block_pair(xbuf, groups, w, two ? w + 4 * groups : w, pair, pair + 4);
            w += 8 * groups;
        }
        for (i = 0; i < 4; ++i) {
            sums[i] = pair[(o & 4) + i];
        }
        mnv3c_dsp_store_block(&s, o, sums, y, NULL, mode);
    }
}

MNV3C_DSP_ENTRY_POINTS(mnv3c_dense_s8_arm_dsp, dense, mnv3c_dense_params, out_of)
