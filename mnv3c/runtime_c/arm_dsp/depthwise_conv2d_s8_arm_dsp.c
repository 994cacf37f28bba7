/*
 * depthwise_conv2d_s8_arm_dsp.c - depthwise convolution (ch_mult 1; any kernel, stride, padding,
 * dilation) for Cortex-M cores with the DSP extension: the arithmetic of ../depthwise_conv2d_s8.c
 * (same bytes), two output pixels x four channels at a time with 16-bit multiply-accumulates.
 *
 * Pixels go in pairs p, q consecutive in raster order: q may start the next row, so a row of odd
 * width leaves no lone pixel; an odd pixel count leaves one, the last, which runs a one-pixel tap loop
 * (13 instructions per tap for 4 MACs) and the same output stage (q = p: its bytes stored twice at
 * the same place, or once by store_groups). A table holds for every tap the offsets of both pixels'
 * input bytes from p's window corner b (its top-left tap, padding included), interleaved [p tap 0,
 * q tap 0, p tap 1, ...]: inside the input, or of a row of input_zp bytes for a padded tap, which is
 * what the folded bias expects (acc = bias_folded + sum x' w, x' = input_zp on padded taps:
 * mnv3c_kernels.h); the routine reads each byte at b + c + offset. Two pixels of one row with every tap
 * inside have the same table, filled once per call (inner); the pairs from such a pair up to the last
 * inside column of its row run on it as one job, pair_sums stepping b by 2 * stride_w * in_c (the SHORT
 * stages; the others call once per pair). A pair with a padded tap, or whose q starts the next row,
 * fills its own (fill_edge): per patched band call of MobileNetV3-Small's first depthwise layer, one
 * pair of 12.
 *
 * pair_sums, one assembly routine shared by every output stage, then runs all whole groups of four
 * channels c0..c3 of the pair. Per tap: one LDRD of the two offsets, b + c re-read
 * from the stack, one word load per pixel, SXTB16 and SXTB16 ROR 8 give (c0, c2) and (c1, c3) as
 * int16 pairs, two word loads the matching weight pairs (shared by both pixels), and eight
 * SMLABB/SMLATT accumulate four channels of both pixels: 18 instructions for 8 MACs (the one-pixel
 * design it replaces: 9 for 4 MACs). The eight sums (r4-r11), the table and weight cursors (r12, lr)
 * and four temporaries take every register, hence b + c on the stack, read into the temporary that
 * is free at that point. MNV3C_DW_WRITTEN (25) taps are written out, one after the other: a kernel
 * of at most 25 taps (5x5, 3x3, ...) enters them at tap 25 - taps and runs to the end with no loop
 * (5x5 looped over rows of five before: 15 instructions more per group, 2.7% of a 5x5 layer; the 11
 * taps more than that body and the 3x3 one cost 724 bytes of code); more taps loop one at a time (3
 * per tap). In the SHORT and SHORT_LUT modes the routine ends each group with the short stage of its
 * eight values (as mnv3c_dsp_store_pq: 6.5 instructions per value, + 1 for the table); about 19 more
 * per group keep its cursors on the stack, and about 25 per pair of a run step b and y. Measured on
 * Cortex-M7, MobileNetV3-Small 96x96: 5x5 layers 0.35-0.37 MAC/instruction, 3x3 0.29-0.30 and 0.275
 * for the first depthwise layer (16 channels, 1-row bands; before the runs, the b-relative tables and
 * the written-out 5x5: 0.33-0.35, 0.28 and 0.217). Otherwise (SHORT_CLAMP, GENERAL) the routine
 * leaves the sums of up to MNV3C_DW_CHUNK groups in a buffer for store_groups.
 *
 * Weights: "depthwise_dsp" (mnv3c/codegen/layouts.py): int16, per group of four channels (in_c padded
 * with zeros to a multiple of 4) and per tap, [w c0, w c2, w c1, w c3]; twice the bytes of the int8
 * HWC weights, which are small for depthwise layers (counted in weights_bytes like any array).
 * A last group of fewer than four channels loads only its own bytes and stores only its outputs
 * (group_tail, per pixel, in C). pair_sums moves the stack pointer down by 56 bytes of cursors inside
 * its assembly, beyond the frame GCC measures (the harness's margin covers them, as the 8 bytes of
 * mnv3c_dsp_gemm.h). Precondition (plan/kernels.py): ch_mult 1, in_c <= MNV3C_DW_DSP_MAX_C,
 * kernel_h * kernel_w <= MNV3C_DW_DSP_MAX_TAPS. Two entry points as in conv1x1_s8_arm_dsp.c (_short:
 * proven short stage), one body with the mode as an argument.
 */
#include <stddef.h>

#include "mnv3c_arm_dsp.h"
#include "mnv3c_dsp_gemm.h"

#define MNV3C_DW_CHUNK 8    /* groups whose sums pair_sums leaves in the buffer per call (stage 0) */
#define MNV3C_DW_WRITTEN 25 /* taps written out in pair_sums (a 5x5 kernel; fewer run the last ones) */

/* What pair_sums reads (the assembly addresses the fields by offset). */
typedef struct {
    const int32_t *tab;       /* per tap the offsets of p's and q's input bytes from p's window corner */
    const mnv3c_dsp_word *wt; /* the first group's weights; the groups follow each other */
    uintptr_t c;              /* p's window corner plus the first group's channel offset */
    const int32_t *end;       /* tab + 2 * taps */
    int32_t groups;           /* >= 1 */
    const int32_t *start;     /* the first group's four start sums */
    int32_t step;             /* stage 0: bytes from one group's start sums to the next's (0: the same) */
    int32_t *sums;            /* stage 0: per group p c0..c3, q c0..c3 */
    int8_t *y;                /* stages 1, 2: pixel p's output at channel c (q's: + qd) */
    int32_t qd;
    int32_t stage;            /* 0: sums to the buffer; 1: SHORT stage; 2: SHORT_LUT stage */
    const int8_t *lut128;
    int32_t body;             /* 2: the last taps of MNV3C_DW_WRITTEN written out; 0: one tap per iteration;
                               * 3: pixel p alone, one tap per iteration */
    int32_t skip;             /* body 2: MNV3C_DW_WRITTEN - taps, the written-out taps not run */
    int32_t pairs;            /* stages 1, 2: pairs run with this table, each window bstep bytes on (else 1) */
    int32_t bstep;
    int32_t ystep;            /* and y ystep bytes on (2 * in_c) */
} dw_job;

/* One tap of both pixels (table cursor r12, weights cursor lr, c at [sp, #4], sums r4-r11). */
#define MNV3C_DW_TAP                   \
    "ldrd r0, r1, [r12], #8\n\t"        \
    "ldr r3, [sp, #4]\n\t"              \
    "ldr r0, [r0, r3]\n\t"              \
    "ldr r1, [r1, r3]\n\t"              \
    "ldr r2, [lr], #4\n\t"              \
    "sxtb16 r3, r0\n\t"                 \
    "smlabb r4, r3, r2, r4\n\t"         \
    "smlatt r6, r3, r2, r6\n\t"         \
    "sxtb16 r3, r1\n\t"                 \
    "smlabb r8, r3, r2, r8\n\t"         \
    "smlatt r10, r3, r2, r10\n\t"       \
    "ldr r2, [lr], #4\n\t"              \
    "sxtb16 r0, r0, ror #8\n\t"         \
    "smlabb r5, r0, r2, r5\n\t"         \
    "smlatt r7, r0, r2, r7\n\t"         \
    "sxtb16 r1, r1, ror #8\n\t"         \
    "smlabb r9, r1, r2, r9\n\t"         \
    "smlatt r11, r1, r2, r11\n\t"
#define MNV3C_DW_TAP5 MNV3C_DW_TAP MNV3C_DW_TAP MNV3C_DW_TAP MNV3C_DW_TAP MNV3C_DW_TAP

/* Before a group's stage: the weight cursor saved, r12 yp and lr yq (b + c plus their distances from
 * it), b + c advanced to the next group and compared with its end (the flags wait through the stage,
 * whose instructions set none), r3 the stage table. */
#define MNV3C_DW_STAGE_SETUP     \
    "str lr, [sp, #12]\n\t"      \
    "ldr r1, [sp, #4]\n\t"       \
    "ldr r12, [sp, #16]\n\t"     \
    "ldr lr, [sp, #20]\n\t"      \
    "add r12, r12, r1\n\t"       \
    "add lr, lr, r1\n\t"         \
    "add r1, r1, #4\n\t"         \
    "str r1, [sp, #4]\n\t"       \
    "ldr r2, [sp, #44]\n\t"      \
    "cmp r1, r2\n\t"             \
    "ldr r3, [sp, #28]\n\t"

/*
 * Every group of a job, in one assembly routine shared by all output stages (so written out once):
 * r4-r11 the sums, r12 and lr the table and weight cursors, r0-r3 temporaries, and on the stack (56
 * bytes, by offset) 0 the job, 4 b + c, 8 the table end, 12 the saved weight cursor, 16 and 20 yp and
 * yq less b + c, 24 the start-sum cursor, 28 the stage's table cursor, 32 the table, 36 the tap loop
 * and 40 the stage (code addresses, jumped to by LDR PC), 44 b + c past the last group, 48 the table of
 * the LUT stage, 52 the pairs left. Per group: start sums, the taps, then the short stage of both
 * pixels (stages 1, 2: the next group's start sums follow its table) or the eight sums to the buffer
 * (stage 0); per pair of a run (stages 1, 2) b and y step on.
 */
static __attribute__((noinline)) void pair_sums(dw_job *job)
{
    dw_job *jp = job; /* the register is reused by the assembly */
    __asm__ volatile(
        "sub sp, sp, #56\n\t"
        "str %[j], [sp]\n\t"
        "ldr r1, [%[j], %[oend]]\n\t"
        "str r1, [sp, #8]\n\t"
        "ldr r1, [%[j], %[oy]]\n\t"
        "ldr r2, [%[j], %[oc]]\n\t"
        "sub r1, r1, r2\n\t"
        "str r1, [sp, #16]\n\t" /* yp - (b + c) */
        "ldr r2, [%[j], %[oqd]]\n\t"
        "add r1, r1, r2\n\t"
        "str r1, [sp, #20]\n\t" /* yq - (b + c) */
        "ldr r1, [%[j], %[ostart]]\n\t"
        "str r1, [sp, #24]\n\t"
        "ldr r1, [%[j], %[otab]]\n\t"
        "str r1, [sp, #32]\n\t"
        "ldr r1, [%[j], %[olut]]\n\t"
        "str r1, [sp, #48]\n\t"
        "ldr r1, [%[j], %[opairs]]\n\t"
        "str r1, [sp, #52]\n\t"
        "ldr r1, [%[j], %[oc]]\n\t"
        "str r1, [sp, #4]\n\t"
        "ldr r2, [%[j], %[ogroups]]\n\t"
        "add r1, r1, r2, lsl #2\n\t"
        "str r1, [sp, #44]\n\t" /* c past the last group */
        "ldr lr, [%[j], %[owt]]\n\t"
        "ldr r1, [%[j], %[obody]]\n\t"
        "adr r2, 21f\n\t"
        "cmp r1, #3\n\t"
        "bne 94f\n\t"
        "adr r2, 31f\n\t"
        "94:\n\t"
        "cmp r1, #2\n\t"
        "bne 98f\n\t"
        "adr r2, 40f\n\t" /* the written-out taps from skip on: tap 0 plus skip tap lengths */
        "adr r3, 41f\n\t"
        "sub r3, r3, r2\n\t"
        "ldr r1, [%[j], %[oskip]]\n\t"
        "mla r2, r1, r3, r2\n\t"
        "98:\n\t"
        "orr r2, r2, #1\n\t" /* Thumb addresses for LDR PC */
        "str r2, [sp, #36]\n\t"
        "ldr r1, [%[j], %[ostage]]\n\t"
        "adr r2, 8f\n\t"
        "cmp r1, #1\n\t"
        "bne 96f\n\t"
        "adr r2, 7f\n\t"
        "96:\n\t"
        "cmp r1, #2\n\t"
        "bne 97f\n\t"
        "adr r2, 70f\n\t"
        "97:\n\t"
        "orr r2, r2, #1\n\t"
        "str r2, [sp, #40]\n\t"
        "1:\n\t"
        "ldr r1, [sp, #24]\n\t"
        "ldm r1, {r4, r5, r6, r7}\n\t"
        "ldm r1!, {r8, r9, r10, r11}\n\t"
        "str r1, [sp, #28]\n\t"
        "ldr r12, [sp, #32]\n\t"
        "ldr pc, [sp, #36]\n\t"
        ".p2align 2\n\t"
        "40:\n\t"
        MNV3C_DW_TAP
        "41:\n\t"
        MNV3C_DW_TAP MNV3C_DW_TAP MNV3C_DW_TAP MNV3C_DW_TAP
        MNV3C_DW_TAP5 MNV3C_DW_TAP5 MNV3C_DW_TAP5 MNV3C_DW_TAP5
        "ldr pc, [sp, #40]\n\t"
        ".p2align 2\n\t"
        "21:\n\t"
        MNV3C_DW_TAP
        "ldr r3, [sp, #8]\n\t"
        "cmp r12, r3\n\t"
        "bne 21b\n\t"
        "ldr pc, [sp, #40]\n\t"
        ".p2align 2\n\t"
        "31:\n\t" /* a lone pixel: p's taps only, then q = p */
        "ldr r0, [r12], #8\n\t"
        "ldr r3, [sp, #4]\n\t"
        "ldr r0, [r0, r3]\n\t"
        "ldrd r1, r2, [lr], #8\n\t"
        "sxtb16 r3, r0\n\t"
        "sxtb16 r0, r0, ror #8\n\t"
        "smlabb r4, r3, r1, r4\n\t"
        "smlatt r6, r3, r1, r6\n\t"
        "smlabb r5, r0, r2, r5\n\t"
        "smlatt r7, r0, r2, r7\n\t"
        "ldr r3, [sp, #8]\n\t"
        "cmp r12, r3\n\t"
        "bne 31b\n\t"
        "mov r8, r4\n\t"
        "mov r9, r5\n\t"
        "mov r10, r6\n\t"
        "mov r11, r7\n\t"
        "ldr pc, [sp, #40]\n\t"
        ".p2align 2\n\t"
        "70:\n\t"
        MNV3C_DW_STAGE_SETUP
        "ldm r3!, {r0, r1, r2}\n\t"
        "smmlar r4, r4, r0, r4\n\t"
        "smmlar r8, r8, r0, r8\n\t"
        "ldr r0, [sp, #48]\n\t"
        MNV3C_DSP_STAGE_TAIL("r4", "r8", "0", MNV3C_DSP_LUT_PQ("r4", "r8", "r0"))
        "mov r4, r0\n\t"
        MNV3C_DSP_STAGE_PQ("r5", "r9", "1", MNV3C_DSP_LUT_PQ("r5", "r9", "r4"))
        MNV3C_DSP_STAGE_PQ("r6", "r10", "2", MNV3C_DSP_LUT_PQ("r6", "r10", "r4"))
        MNV3C_DSP_STAGE_PQ("r7", "r11", "3", MNV3C_DSP_LUT_PQ("r7", "r11", "r4"))
        "b 6f\n\t"
        ".p2align 2\n\t"
        "7:\n\t"
        MNV3C_DW_STAGE_SETUP
        MNV3C_DSP_STAGE_PQ("r4", "r8", "0", "")
        MNV3C_DSP_STAGE_PQ("r5", "r9", "1", "")
        MNV3C_DSP_STAGE_PQ("r6", "r10", "2", "")
        MNV3C_DSP_STAGE_PQ("r7", "r11", "3", "")
        "6:\n\t"
        "beq 9f\n\t" /* the pair's last group */
        "ldm r3, {r4, r5, r6, r7}\n\t" /* the next group's start sums follow this group's stage table */
        "ldm r3!, {r8, r9, r10, r11}\n\t"
        "str r3, [sp, #28]\n\t"
        "ldr lr, [sp, #12]\n\t"
        "ldr r12, [sp, #32]\n\t"
        "ldr pc, [sp, #36]\n\t"
        "9:\n\t" /* the next pair of the run: b bstep bytes on, y ystep */
        "ldr r2, [sp, #52]\n\t"
        "subs r2, r2, #1\n\t"
        "beq 99f\n\t"
        "str r2, [sp, #52]\n\t"
        "ldr r0, [sp]\n\t"
        "ldr r3, [r0, %[obstep]]\n\t"
        "ldr r1, [sp, #44]\n\t"
        "add r2, r1, r3\n\t"
        "str r2, [sp, #44]\n\t"
        "ldr r2, [r0, %[ogroups]]\n\t"
        "sub r1, r1, r2, lsl #2\n\t"
        "add r1, r1, r3\n\t"
        "str r1, [sp, #4]\n\t"
        "ldr r2, [r0, %[oystep]]\n\t"
        "sub r2, r2, r3\n\t"
        "ldr r1, [sp, #16]\n\t"
        "add r1, r1, r2\n\t"
        "str r1, [sp, #16]\n\t"
        "ldr r1, [sp, #20]\n\t"
        "add r1, r1, r2\n\t"
        "str r1, [sp, #20]\n\t"
        "ldr r1, [r0, %[ostart]]\n\t"
        "str r1, [sp, #24]\n\t"
        "ldr lr, [r0, %[owt]]\n\t"
        "b 1b\n\t"
        ".p2align 2\n\t"
        "8:\n\t" /* stage 0 */
        "ldr r0, [sp]\n\t"
        "ldr r1, [r0, %[osums]]\n\t"
        "stm r1!, {r4, r5, r6, r7, r8, r9, r10, r11}\n\t"
        "str r1, [r0, %[osums]]\n\t"
        "ldr r1, [sp, #24]\n\t"
        "ldr r2, [r0, %[ostep]]\n\t"
        "add r1, r1, r2\n\t"
        "str r1, [sp, #24]\n\t"
        "ldr r1, [sp, #4]\n\t"
        "adds r1, r1, #4\n\t"
        "str r1, [sp, #4]\n\t"
        "ldr r2, [sp, #44]\n\t"
        "cmp r1, r2\n\t"
        "bne 1b\n\t"
        "99:\n\t"
        "add sp, sp, #56\n\t"
        : [j] "+r"(jp)
        : [oc] "i"(offsetof(dw_job, c)), [oend] "i"(offsetof(dw_job, end)), [owt] "i"(offsetof(dw_job, wt)),
          [ostart] "i"(offsetof(dw_job, start)), [ostep] "i"(offsetof(dw_job, step)),
          [otab] "i"(offsetof(dw_job, tab)), [osums] "i"(offsetof(dw_job, sums)),
          [ogroups] "i"(offsetof(dw_job, groups)), [oy] "i"(offsetof(dw_job, y)), [oqd] "i"(offsetof(dw_job, qd)),
          [ostage] "i"(offsetof(dw_job, stage)), [olut] "i"(offsetof(dw_job, lut128)),
          [obody] "i"(offsetof(dw_job, body)), [oskip] "i"(offsetof(dw_job, skip)), [opairs] "i"(offsetof(dw_job, pairs)),
          [obstep] "i"(offsetof(dw_job, bstep)), [oystep] "i"(offsetof(dw_job, ystep))
        : "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "r12", "lr", "cc", "memory");
}

#undef MNV3C_DW_TAP
#undef MNV3C_DW_TAP5
#undef MNV3C_DW_STAGE_SETUP

/* The output stage of n groups from their sums (pixel q: yq, NULL for none), the mode tested per value:
 * one copy for the paths that do not use pair_sums' stage (lone pixel, SHORT_CLAMP, GENERAL, a last
 * partial group). */
static __attribute__((noinline)) void store_groups(const mnv3c_dsp_out *s, int32_t c, const int32_t *sums, int32_t n,
                                                   int8_t *y, int8_t *yq, int mode)
{
    for (; n > 0; --n, c += 4, sums += 8) {
        const int32_t valid = s->out_c - c < 4 ? s->out_c - c : 4;
        int32_t i;
        for (i = 0; i < valid; ++i) {
            y[c + i] = mnv3c_dsp_requant(s, c + i, sums[i], mode);
            if (yq != NULL) {
                yq[c + i] = mnv3c_dsp_requant(s, c + i, sums[4 + i], mode);
            }
        }
    }
}

/* Channels c .. c + valid - 1 (valid < 4) of one output pixel, its window corner at b and its taps' offsets
 * from it at tap[0], tap[2], ... */
static void group_tail(const mnv3c_dsp_out *s, const int32_t *tap, uintptr_t b, int32_t taps, int32_t c,
                       int32_t valid, const mnv3c_dsp_word *wt, int8_t *y, int mode)
{
    int32_t a[4], sums[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int32_t t;
    mnv3c_dsp_start(s, c, mode, a);
    sums[0] = a[0], sums[1] = a[1], sums[2] = a[2], sums[3] = a[3];
    for (t = 0; t < taps; ++t, wt += 2) {
        const int32_t v = mnv3c_dsp_load4((const int8_t *)(b + (uint32_t)tap[2 * t]) + c, valid);
        const int32_t even = __sxtb16(v), odd = mnv3c_dsp_sxtb16_ror8(v);
        sums[0] = __smlabb(even, wt[0], sums[0]);
        sums[2] = __smlatt(even, wt[0], sums[2]);
        sums[1] = __smlabb(odd, wt[1], sums[1]);
        sums[3] = __smlatt(odd, wt[1], sums[3]);
    }
    store_groups(s, c, sums, 1, y, NULL, mode);
}

static mnv3c_dsp_out out_of(const mnv3c_depthwise_conv2d_params *p)
{
    const mnv3c_dsp_out s = {p->bias_folded, p->out_mult, p->out_shift, p->output_zp,
                             p->act_min,     p->act_max,  p->lut,       p->in_c,
                             p->lut != NULL ? p->lut + 128 : NULL};
    return s;
}

/* Along one axis: the first output index whose window starts inside the input, ceil(pad / stride). */
static int32_t first_inside(int32_t pad, int32_t stride)
{
    return pad > 0 ? (pad + stride - 1) / stride : 0;
}

/* Along one axis: one past the last output index (at most out) whose window, span inputs wide, ends
 * inside the input of size n: o * stride - pad + span <= n. */
static int32_t past_inside(int32_t n, int32_t pad, int32_t span, int32_t stride, int32_t out)
{
    const int32_t room = n - span + pad;
    const int32_t past = room < 0 ? 0 : room / stride + 1;
    return past < out ? past : out;
}

/* The table of a pair with a tap in the padding, or whose q starts the next row: per tap p's offset
 * from its window corner (inner[2t]), q's (inner[2t] + dq: its corner is dq bytes from p's), or zoff, the
 * offset of the input_zp row, for a tap in the padding. at: p's and q's (row, column). */
static __attribute__((noinline)) void fill_edge(const mnv3c_depthwise_conv2d_params *p, const int32_t *inner,
                                                int32_t zoff, int32_t dq, const int32_t at[4], int32_t *tab)
{
    const int32_t kh = p->kernel_h, kw = p->kernel_w, dh = p->dilation_h; /* locals: the stores may alias p */
    const uint32_t dw = (uint32_t)p->dilation_w, in_h = (uint32_t)p->in_h, in_w = (uint32_t)p->in_w;
    const int32_t iy0[2] = {at[0] * p->stride_h - p->pad_top, at[2] * p->stride_h - p->pad_top};
    const int32_t ix0[2] = {at[1] * p->stride_w - p->pad_left, at[3] * p->stride_w - p->pad_left};
    int32_t ky, kx, k;
    for (k = 0; k < 2; ++k) {
        const int32_t d = k == 0 ? 0 : dq;
        const int32_t *src = inner;
        int32_t *dst = tab + k;
        int32_t iy = iy0[k];
        for (ky = 0; ky < kh; ++ky, iy += dh) {
            const uint32_t w = (uint32_t)iy < in_h ? in_w : 0u; /* a padded row: no tap inside */
            uint32_t ix = (uint32_t)ix0[k];
            for (kx = 0; kx < kw; ++kx, ix += dw, src += 2, dst += 2) {
                const int32_t v = *src + d;
                *dst = ix < w ? v : zoff;
            }
        }
    }
}

/* What the C side of a job does, per pair of its run: the groups in stage 0 (chunks of sums through
 * store_groups), and a last partial group (group_tail). */
static __attribute__((noinline)) void c_pairs(dw_job *job, const mnv3c_dsp_out *s, uintptr_t b, int32_t n,
                                              int8_t *y, int32_t taps, int mode)
{
    const int32_t C = s->out_c, whole = C >> 2;
    const mnv3c_dsp_word *const w16 = job->wt;
    int32_t sums[8 * MNV3C_DW_CHUNK];
    int32_t k, g;
    for (k = 0; k < n; ++k, b += (uint32_t)job->bstep, y += 2 * C) {
        int8_t *const yq = job->qd != 0 ? y + C : NULL;
        for (g = 0; g < whole && job->stage == 0; g += job->groups) {
            job->wt = w16 + 2 * g * taps, job->c = b + (uint32_t)(4 * g), job->sums = sums;
            job->start = mode != MNV3C_DSP_GENERAL ? s->mult + g * MNV3C_DSP_TABLE_BLOCK : mnv3c_dsp_zero_start;
            job->groups = whole - g < MNV3C_DW_CHUNK ? whole - g : MNV3C_DW_CHUNK;
            pair_sums(job);
            store_groups(s, 4 * g, sums, job->groups, y, yq, mode);
        }
        if ((C & 3) != 0) {
            group_tail(s, job->tab, b, taps, 4 * whole, C & 3, w16 + 2 * whole * taps, y, mode);
            if (yq != NULL) {
                group_tail(s, job->tab + 1, b, taps, 4 * whole, C & 3, w16 + 2 * whole * taps, yq, mode);
            }
        }
    }
}

/*
 * The kernel for every output stage (mode at run time: the stages differ only in pair_sums' stage and
 * in store_groups). Pairs go in raster order; a pair of one row with every tap of both pixels inside
 * starts a run of such pairs up to the last inside column of the row, all on the call's one table
 * (inner), the window corner stepping 2 * stride_w * in_c bytes per pair (in pair_sums for the SHORT
 * stages). The other pairs (a padded tap, q on the next row, a lone last pixel) fill their own table.
 */
static __attribute__((noinline, noclone)) void depthwise(const mnv3c_depthwise_conv2d_params *p,
                                                         const int8_t *MNV3C_RESTRICT x, int8_t *MNV3C_RESTRICT y,
                                                         int mode)
{
    const int32_t C = p->in_c, kw = p->kernel_w, taps = p->kernel_h * kw, sh = p->stride_h, sw = p->stride_w;
    const int32_t npix = p->out_h * p->out_w, whole = C >> 2, bstep = 2 * sw * C;
    const int32_t oy_lo = first_inside(p->pad_top, sh), ox_lo = first_inside(p->pad_left, sw);
    const int32_t oy_hi = past_inside(p->in_h, p->pad_top, (p->kernel_h - 1) * p->dilation_h + 1, sh, p->out_h);
    const int32_t ox_hi = past_inside(p->in_w, p->pad_left, (kw - 1) * p->dilation_w + 1, sw, p->out_w);
    const int stage = mode == MNV3C_DSP_SHORT ? 1 : mode == MNV3C_DSP_SHORT_LUT ? 2 : 0;
    const mnv3c_dsp_out s = out_of(p);
    const mnv3c_dsp_word *const w16 = (const mnv3c_dsp_word *)(const void *)p->weights;
    int32_t inner[2 * MNV3C_DW_DSP_MAX_TAPS], edge[2 * MNV3C_DW_DSP_MAX_TAPS];
    int32_t zrow[MNV3C_DW_DSP_MAX_C / 4];
    int32_t i, oy = 0, ox = 0, c, ky, kx;
    dw_job job;
    if (oy_lo > 0 || ox_lo > 0 || oy_hi < p->out_h || ox_hi < p->out_w) { /* some tap in the padding */
        const int32_t zp4 = (int32_t)((uint32_t)(uint8_t)p->input_zp * 0x01010101u);
        for (c = 0; c < C; c += 4) {
            zrow[c >> 2] = zp4;
        }
    }
    for (ky = 0; ky < p->kernel_h; ++ky) {
        for (kx = 0; kx < kw; ++kx) {
            const int32_t t = ky * kw + kx, off = (ky * p->dilation_h * p->in_w + kx * p->dilation_w) * C;
            inner[2 * t] = off, inner[2 * t + 1] = off + sw * C;
        }
    }
    job.stage = stage, job.lut128 = s.lut128, job.bstep = bstep, job.ystep = 2 * C, job.skip = MNV3C_DW_WRITTEN - taps;
    job.step = mode != MNV3C_DSP_GENERAL ? (int32_t)(MNV3C_DSP_TABLE_BLOCK * sizeof(int32_t)) : 0;
    for (i = 0; i < npix;) {
        const uintptr_t b = (uintptr_t)x + (uint32_t)(((oy * sh - p->pad_top) * p->in_w + ox * sw - p->pad_left) * C);
        int8_t *const yq = i + 1 < npix ? y + C : NULL; /* a lone last pixel: q is p again */
        const int p_in = oy >= oy_lo && oy < oy_hi && ox >= ox_lo && ox < ox_hi;
        const int32_t *tab = inner;
        int32_t n = 1;
        if (p_in && yq != NULL && ox + 1 < ox_hi) {
            n = (ox_hi - ox) >> 1;
        } else if (!p_in || yq != NULL) {
            int32_t at[4];
            at[0] = oy, at[1] = ox;
            at[2] = yq == NULL ? oy : oy + (ox + 1 == p->out_w), at[3] = yq == NULL ? ox : ox + 1 == p->out_w ? 0 : ox + 1;
            fill_edge(p, inner, (int32_t)((uintptr_t)zrow - b),
                      ((at[2] - oy) * sh * p->in_w + (at[3] - ox) * sw) * C, at, edge);
            tab = edge;
        }
        job.tab = tab, job.end = tab + 2 * taps, job.qd = yq != NULL ? C : 0;
        job.body = yq == NULL ? 3 : taps <= MNV3C_DW_WRITTEN ? 2 : 0;
        job.wt = w16, job.c = b, job.groups = whole, job.pairs = stage != 0 ? n : 1;
        if (stage != 0 && whole > 0) { /* a lone p: q's bytes on p's, the same */
            job.start = s.mult, job.y = y;
            pair_sums(&job);
        }
        if (stage == 0 || (C & 3) != 0) {
            c_pairs(&job, &s, b, n, y, taps, mode);
        }
        y += 2 * n * C, i += 2 * n, ox += 2 * n;
        for (; ox >= p->out_w; ox -= p->out_w) {
            ++oy;
        }
    }
}

MNV3C_DSP_ENTRY_POINTS(mnv3c_depthwise_conv2d_s8_arm_dsp, depthwise, mnv3c_depthwise_conv2d_params, out_of)
