/*
 * depthwise_conv2d_s8_arm_dsp.c - depthwise convolution (ch_mult 1; any kernel, stride, padding,
 * dilation) for Cortex-M cores with the DSP extension: the arithmetic of ../depthwise_conv2d_s8.c
 * (same bytes), two output pixels x four channels at a time with 16-bit multiply-accumulates.
 *
 * Pixels go in pairs p, q consecutive in raster order: q may start the next row, so a row of odd
 * width leaves no lone pixel; an odd pixel count leaves one, the last, which runs a one-pixel tap loop
 * (13 instructions per tap for 4 MACs) and the same output stage (q = p: its bytes stored twice at
 * the same place, or once by store_groups). Per pair a table holds for every tap the input addresses
 * of both pixels, interleaved [p tap 0, q tap 0, p tap 1, ...]: inside the input, or a row of
 * input_zp bytes for a padded tap, which is what the folded bias expects (acc = bias_folded +
 * sum x' w, x' = input_zp on padded taps: mnv3c_kernels.h); a tap's address is the pixel's offset
 * plus the tap's, computed once per call (fill_pair).
 *
 * pair_sums, one assembly routine shared by every output stage, then runs all whole groups of four
 * channels c0..c3 of the pair. Per tap: one LDRD of the two addresses, the channel offset c re-read
 * from the stack, one word load per pixel, SXTB16 and SXTB16 ROR 8 give (c0, c2) and (c1, c3) as
 * int16 pairs, two word loads the matching weight pairs (shared by both pixels), and eight
 * SMLABB/SMLATT accumulate four channels of both pixels: 18 instructions for 8 MACs (the one-pixel
 * design it replaces: 9 for 4 MACs). The eight sums (r4-r11), the table and weight cursors (r12, lr)
 * and four temporaries take every register, hence c on the stack, read into the temporary that is
 * free at that point. The 3x3 taps are written out; 5x5 loops over rows of five written-out taps (3
 * instructions per row); any other kernel loops one tap at a time (3 per tap). In the SHORT and
 * SHORT_LUT modes the routine ends each group with the short stage of its eight values (as
 * mnv3c_dsp_store_pq: 6.5 instructions per value, + 1 for the table); about 25 more per group keep
 * its cursors on the stack. Measured on Cortex-M7, MobileNetV3-Small 96x96: 5x5 layers 0.33-0.35
 * MAC/instruction, 3x3 0.22-0.28 (one pixel per pass: 0.30-0.31 and 0.195-0.225). Otherwise
 * (SHORT_CLAMP, GENERAL) the routine leaves the sums of up to MNV3C_DW_CHUNK groups in a buffer for
 * store_groups.
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

#define MNV3C_DW_CHUNK 8 /* groups whose sums pair_sums leaves in the buffer per call (stage 0) */

/* What pair_sums reads (the assembly addresses the fields by offset). */
typedef struct {
    const int8_t *const *tab; /* 2 * taps addresses, p and q interleaved */
    const mnv3c_dsp_word *wt; /* the first group's weights; the groups follow each other */
    int32_t c;                /* the first group's channel offset */
    const int8_t *const *end; /* tab + 2 * taps */
    int32_t groups;           /* >= 1 */
    const int32_t *start;     /* the first group's four start sums */
    int32_t step;             /* stage 0: bytes from one group's start sums to the next's (0: the same) */
    int32_t *sums;            /* stage 0: per group p c0..c3, q c0..c3 */
    int8_t *y;                /* stages 1, 2: pixel p's output at channel c (q's: + qd) */
    int32_t qd;
    int32_t stage;            /* 0: sums to the buffer; 1: SHORT stage; 2: SHORT_LUT stage */
    const int8_t *lut128;
    int32_t body;             /* 2: the 3x3 taps written out; 1: rows of five; 0: one tap per iteration;
                               * 3: pixel p alone, one tap per iteration */
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
#define MNV3C_DW_TAP3 MNV3C_DW_TAP MNV3C_DW_TAP MNV3C_DW_TAP

/* Before a group's stage: the weight cursor saved, r3 the stage table, r12 yp, lr yq, yp advanced. */
#define MNV3C_DW_STAGE_SETUP     \
    "str lr, [sp, #12]\n\t"      \
    "ldr r3, [sp, #28]\n\t"      \
    "ldr r12, [sp, #16]\n\t"     \
    "ldr lr, [sp, #20]\n\t"      \
    "add lr, lr, r12\n\t"        \
    "add r0, r12, #4\n\t"        \
    "str r0, [sp, #16]\n\t"

/*
 * Every group of a job, in one assembly routine shared by all output stages (so written out once):
 * r4-r11 the sums, r12 and lr the table and weight cursors, r0-r3 temporaries, and on the stack (56
 * bytes, by offset) 0 the job, 4 c, 8 the table end, 12 the saved weight cursor, 16 yp, 20 qd, 24 the
 * start-sum cursor, 28 the stage's table cursor, 32 the table, 36 the tap loop and 40 the stage (code
 * addresses, jumped to by LDR PC), 44 c past the last group, 48 the table of the LUT stage. Per group:
 * start sums, the taps, then the short stage of both pixels (stages 1, 2) or the eight sums to the
 * buffer (stage 0).
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
        "str r1, [sp, #16]\n\t"
        "ldr r1, [%[j], %[oqd]]\n\t"
        "str r1, [sp, #20]\n\t"
        "ldr r1, [%[j], %[ostart]]\n\t"
        "str r1, [sp, #24]\n\t"
        "ldr r1, [%[j], %[otab]]\n\t"
        "str r1, [sp, #32]\n\t"
        "ldr r1, [%[j], %[olut]]\n\t"
        "str r1, [sp, #48]\n\t"
        "ldr r1, [%[j], %[oc]]\n\t"
        "str r1, [sp, #4]\n\t"
        "ldr r2, [%[j], %[ogroups]]\n\t"
        "add r1, r1, r2, lsl #2\n\t"
        "str r1, [sp, #44]\n\t" /* c past the last group */
        "ldr lr, [%[j], %[owt]]\n\t"
        "ldr r1, [%[j], %[obody]]\n\t"
        "adr r2, 21f\n\t"
        "cmp r1, #1\n\t"
        "bne 94f\n\t"
        "adr r2, 25f\n\t"
        "94:\n\t"
        "cmp r1, #2\n\t"
        "bne 95f\n\t"
        "adr r2, 39f\n\t"
        "95:\n\t"
        "cmp r1, #3\n\t"
        "bne 98f\n\t"
        "adr r2, 31f\n\t"
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
        "39:\n\t"
        MNV3C_DW_TAP3
        MNV3C_DW_TAP3
        MNV3C_DW_TAP3
        "ldr pc, [sp, #40]\n\t"
        ".p2align 2\n\t"
        "25:\n\t"
        MNV3C_DW_TAP5
        "ldr r3, [sp, #8]\n\t"
        "cmp r12, r3\n\t"
        "bne 25b\n\t"
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
        "7:\n\t"
        MNV3C_DW_STAGE_SETUP
        MNV3C_DSP_STAGE_PQ("r4", "r8", "0", "")
        MNV3C_DSP_STAGE_PQ("r5", "r9", "1", "")
        MNV3C_DSP_STAGE_PQ("r6", "r10", "2", "")
        MNV3C_DSP_STAGE_PQ("r7", "r11", "3", "")
        "b 6f\n\t"
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
        "6:\n\t"
        "str r3, [sp, #24]\n\t" /* the next group's start sums follow this group's stage table */
        "ldr lr, [sp, #12]\n\t"
        "5:\n\t"
        "ldr r1, [sp, #4]\n\t"
        "adds r1, r1, #4\n\t"
        "str r1, [sp, #4]\n\t"
        "ldr r2, [sp, #44]\n\t"
        "cmp r1, r2\n\t"
        "bne 1b\n\t"
        "b 99f\n\t"
        ".p2align 2\n\t"
        "8:\n\t"
        "ldr r0, [sp]\n\t"
        "ldr r1, [r0, %[osums]]\n\t"
        "stm r1!, {r4, r5, r6, r7, r8, r9, r10, r11}\n\t"
        "str r1, [r0, %[osums]]\n\t"
        "ldr r1, [sp, #24]\n\t"
        "ldr r2, [r0, %[ostep]]\n\t"
        "add r1, r1, r2\n\t"
        "str r1, [sp, #24]\n\t"
        "b 5b\n\t"
        "99:\n\t"
        "add sp, sp, #56\n\t"
        : [j] "+r"(jp)
        : [oc] "i"(offsetof(dw_job, c)), [oend] "i"(offsetof(dw_job, end)), [owt] "i"(offsetof(dw_job, wt)),
          [ostart] "i"(offsetof(dw_job, start)), [ostep] "i"(offsetof(dw_job, step)),
          [otab] "i"(offsetof(dw_job, tab)), [osums] "i"(offsetof(dw_job, sums)),
          [ogroups] "i"(offsetof(dw_job, groups)), [oy] "i"(offsetof(dw_job, y)), [oqd] "i"(offsetof(dw_job, qd)),
          [ostage] "i"(offsetof(dw_job, stage)), [olut] "i"(offsetof(dw_job, lut128)),
          [obody] "i"(offsetof(dw_job, body))
        : "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "r12", "lr", "cc", "memory");
}

#undef MNV3C_DW_TAP
#undef MNV3C_DW_TAP5
#undef MNV3C_DW_TAP3
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

/* Channels c .. c + valid - 1 (valid < 4) of one output pixel, its tap addresses at tap[0], tap[2], ... */
static void group_tail(const mnv3c_dsp_out *s, const int8_t *const *tap, int32_t taps, int32_t c, int32_t valid,
                       const mnv3c_dsp_word *wt, int8_t *y, int mode)
{
    int32_t a[4], sums[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int32_t t;
    mnv3c_dsp_start(s, c, mode, a);
    sums[0] = a[0], sums[1] = a[1], sums[2] = a[2], sums[3] = a[3];
    for (t = 0; t < taps; ++t, wt += 2) {
        const int32_t v = mnv3c_dsp_load4(tap[2 * t] + c, valid);
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

/* Whether output pixel (oy, ox) has every tap inside the input; its offset in x in *base. */
MNV3C_DSP_INLINE int pixel_inside(const mnv3c_depthwise_conv2d_params *p, int32_t oy, int32_t ox, int32_t *base)
{
    const int32_t iy0 = oy * p->stride_h - p->pad_top, ix0 = ox * p->stride_w - p->pad_left;
    *base = (iy0 * p->in_w + ix0) * p->in_c;
    return iy0 >= 0 && iy0 + (p->kernel_h - 1) * p->dilation_h < p->in_h && ix0 >= 0 &&
           ix0 + (p->kernel_w - 1) * p->dilation_w < p->in_w;
}

/* The tap addresses of output pixels p = (oy, ox) and q = (qy, qx) interleaved in tab: a pixel's offset
 * plus the tap's (x + base + offset[t]), or zrow for a tap in the padding. */
static __attribute__((noinline)) void fill_pair(const mnv3c_depthwise_conv2d_params *p, const int8_t *x,
                                                const int32_t *offset, const int8_t *zrow, const int32_t at[4],
                                                const int8_t **tab)
{
    const int32_t kh = p->kernel_h, kw = p->kernel_w, taps = kh * kw;
    int32_t bp, bq, t, ky, kx, k;
    const int p_in = pixel_inside(p, at[0], at[1], &bp), q_in = pixel_inside(p, at[2], at[3], &bq);
    if (p_in && q_in) {
        for (t = 0; t < taps; ++t) {
            tab[2 * t] = x + (bp + offset[t]);
            tab[2 * t + 1] = x + (bq + offset[t]);
        }
        return;
    }
    for (k = 0; k < 2; ++k) {
        const int32_t iy0 = at[2 * k] * p->stride_h - p->pad_top, ix0 = at[2 * k + 1] * p->stride_w - p->pad_left;
        const int32_t base = k == 0 ? bp : bq;
        for (ky = 0, t = 0; ky < kh; ++ky) {
            const int row_inside = (uint32_t)(iy0 + ky * p->dilation_h) < (uint32_t)p->in_h;
            for (kx = 0; kx < kw; ++kx, ++t) {
                const int inside = row_inside && (uint32_t)(ix0 + kx * p->dilation_w) < (uint32_t)p->in_w;
                tab[2 * t + k] = inside ? x + (base + offset[t]) : zrow;
            }
        }
    }
}

/* The kernel for every output stage (mode at run time: the stages differ only in pair_sums' stage and
 * in store_groups). */
static __attribute__((noinline, noclone)) void depthwise(const mnv3c_depthwise_conv2d_params *p,
                                                         const int8_t *MNV3C_RESTRICT x, int8_t *MNV3C_RESTRICT y,
                                                         int mode)
{
    const int32_t C = p->in_c, kw = p->kernel_w, taps = p->kernel_h * kw;
    const int32_t npix = p->out_h * p->out_w, whole = C >> 2;
    const mnv3c_dsp_out s = out_of(p);
    const mnv3c_dsp_word *const w16 = (const mnv3c_dsp_word *)(const void *)p->weights;
    const int8_t *tab[2 * MNV3C_DW_DSP_MAX_TAPS];
    int32_t offset[MNV3C_DW_DSP_MAX_TAPS];
    int32_t sums[8 * MNV3C_DW_CHUNK];
    int8_t zrow[MNV3C_DW_DSP_MAX_C];
    int32_t i, oy = 0, ox = 0, c, ky, kx;
    for (c = 0; c < C; ++c) {
        zrow[c] = (int8_t)p->input_zp;
    }
    for (ky = 0; ky < p->kernel_h; ++ky) {
        for (kx = 0; kx < kw; ++kx) {
            offset[ky * kw + kx] = (ky * p->dilation_h * p->in_w + kx * p->dilation_w) * C;
        }
    }
    for (i = 0; i < npix; i += 2, y += 2 * C) {
        int8_t *const yq = i + 1 < npix ? y + C : NULL; /* a lone last pixel: q is p again */
        int32_t at[4], g;
        at[0] = oy, at[1] = ox;
        at[2] = yq == NULL ? oy : oy + (ox + 1 == p->out_w), at[3] = yq == NULL ? ox : (ox + 1 == p->out_w ? 0 : ox + 1);
        fill_pair(p, x, offset, zrow, at, tab);
        oy = at[2] + (at[3] + 1 == p->out_w), ox = at[3] + 1 == p->out_w ? 0 : at[3] + 1;
        for (g = 0; g < whole;) {
            dw_job job;
            job.tab = tab, job.end = tab + 2 * taps, job.wt = w16 + 2 * g * taps, job.c = 4 * g;
            job.body = yq == NULL ? 3 : taps == 9 && kw == 3 ? 2 : kw == 5;
            job.start = mode != MNV3C_DSP_GENERAL ? s.mult + g * MNV3C_DSP_TABLE_BLOCK : mnv3c_dsp_zero_start;
            job.step = mode != MNV3C_DSP_GENERAL ? (int32_t)(MNV3C_DSP_TABLE_BLOCK * sizeof(int32_t)) : 0;
            job.y = y + 4 * g, job.qd = yq != NULL ? C : 0, job.lut128 = s.lut128, job.sums = sums;
            if (mode == MNV3C_DSP_SHORT || mode == MNV3C_DSP_SHORT_LUT) { /* a lone p: q's bytes on p's, the same */
                job.stage = mode == MNV3C_DSP_SHORT ? 1 : 2, job.groups = whole - g;
                pair_sums(&job);
                break;
            }
            job.stage = 0, job.groups = whole - g < MNV3C_DW_CHUNK ? whole - g : MNV3C_DW_CHUNK;
            pair_sums(&job);
            store_groups(&s, 4 * g, sums, job.groups, y, yq, mode);
            g += job.groups;
        }
        if ((C & 3) != 0) {
            group_tail(&s, tab, taps, 4 * whole, C & 3, w16 + 2 * whole * taps, y, mode);
            if (yq != NULL) {
                group_tail(&s, tab + 1, taps, 4 * whole, C & 3, w16 + 2 * whole * taps, yq, mode);
            }
        }
    }
}

MNV3C_DSP_ENTRY_POINTS(mnv3c_depthwise_conv2d_s8_arm_dsp, depthwise, mnv3c_depthwise_conv2d_params, out_of)
