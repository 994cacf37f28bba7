/*
 * depthwise_conv2d_s8_arm_dsp.c - depthwise convolution (ch_mult 1; any kernel, stride, padding,
 * dilation) for Cortex-M cores with the DSP extension: the arithmetic of ../depthwise_conv2d_s8.c
 * (same bytes), two output pixels x four channels at a time with 16-bit multiply-accumulates.
 *
 * Pixels go in pairs p, q, consecutive in raster order (q may start the next row, so a row of odd
 * width leaves no lone pixel; only an odd pixel count leaves one, the last, computed as a pair with
 * itself and stored once). Per pair a table holds for every tap the addresses of both pixels'
 * inputs, interleaved [p tap 0, q tap 0, p tap 1, ...]: inside the input, or a row of input_zp bytes
 * for a padded tap, which is what the folded bias expects (acc = bias_folded + sum x' w, x' = input_zp
 * on padded taps: mnv3c_kernels.h); interior pixels just add the tap offsets, computed once per call.
 * Then for each group of four channels c0..c3 (pair_sums, one non-inlined routine for every output
 * stage), per tap: one LDRD of the two addresses, the channel offset c from the stack, one word load
 * per pixel, SXTB16 and SXTB16 ROR 8 give (c0, c2) and (c1, c3) as int16 pairs, two word loads the
 * matching weight pairs, and eight SMLABB/SMLATT accumulate the four channels of both pixels: 18
 * instructions per tap and 8 MACs, one LDRD of weights serving both pixels... as two LDR: the eight
 * sums, the table and weight cursors and four temporaries fill r0-r12 and lr, so c waits on the stack
 * and is re-read into the temporary that is free at that point. The taps of one kernel row are
 * written out for kernel widths 3 and 5 (3 instructions of loop per row), one tap per iteration for
 * any other width. Sums of up to MNV3C_DW_CHUNK groups go to a buffer, then the output stage: the
 * written-out paired stage (mnv3c_dsp_store_pq, about 6.5 instructions per value) for whole groups of
 * both pixels in the SHORT and SHORT_LUT modes, mnv3c_dsp_store_block otherwise.
 * Weights: "depthwise_dsp" (mnv3c/codegen/layouts.py): int16, per group of four channels (in_c padded
 * with zeros to a multiple of 4) and per tap, [w c0, w c2, w c1, w c3]; twice the bytes of the int8
 * HWC weights, which are small for depthwise layers (counted in weights_bytes like any array).
 * A last group of fewer than four channels loads only its own bytes and stores only its outputs
 * (per pixel, in C). The routine pushes 16 bytes inside its assembly (the frame GCC measures is the
 * rest). Precondition (plan/kernels.py): ch_mult 1, in_c <= MNV3C_DW_DSP_MAX_C, kernel_h * kernel_w <=
 * MNV3C_DW_DSP_MAX_TAPS. Two entry points as in conv1x1_s8_arm_dsp.c (_short: proven short stage).
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
    int32_t kw;               /* taps written out per iteration: 5, 3, else 1 */
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

/* The short stage of one channel of both pixels, as mnv3c_dsp_store_pq (mnv3c_dsp_requant.h): {mx, k, r}
 * by LDM from the cursor r3, sums P, Q in place, stores at byte I of yp (r12) and yq (lr). */
#define MNV3C_DW_STAGE_TAIL(P, Q, I, LUT)                  \
    "sub " P ", " P ", " P ", lsr #31\n\t"                  \
    "sub " Q ", " Q ", " Q ", lsr #31\n\t"                  \
    "add " P ", " P ", r1\n\t"                              \
    "add " Q ", " Q ", r1\n\t"                              \
    "asr " P ", " P ", r2\n\t"                              \
    "asr " Q ", " Q ", r2\n\t"                              \
    "ssat " P ", #8, " P "\n\t"                             \
    "ssat " Q ", #8, " Q "\n\t"                             \
    LUT                                                     \
    "strb " P ", [r12, #" I "]\n\t"                         \
    "strb " Q ", [lr, #" I "]\n\t"
#define MNV3C_DW_STAGE(P, Q, I, LUT)                       \
    "ldm r3!, {r0, r1, r2}\n\t"                             \
    "smmlar " P ", " P ", r0, " P "\n\t"                    \
    "smmlar " Q ", " Q ", r0, " Q "\n\t"                    \
    MNV3C_DW_STAGE_TAIL(P, Q, I, LUT)
#define MNV3C_DW_LUT(P, Q, BASE) "ldrb " P ", [" BASE ", " P "]\n\t" "ldrb " Q ", [" BASE ", " Q "]\n\t"

/*
 * Every group of a job, in one assembly routine shared by all output stages (so written out once):
 * r4-r11 the sums, r12 and lr the table and weight cursors, r0-r3 temporaries, and on the stack (48
 * bytes) the job, c, the table end, the saved weight cursor, yp, qd, the start-sum cursor, the stage's
 * table cursor, the table, the tap loop for kw, the stage and the groups left. Per group: start sums,
 * the taps, then the short stage of both pixels (stages 1, 2; 6.5 instructions per value + the table)
 * or the eight sums to the buffer (stage 0).
 */
static __attribute__((noinline)) void pair_sums(dw_job *job)
{
    dw_job *jp = job; /* the register is reused by the assembly */
    __asm__ volatile(
        "sub sp, sp, #48\n\t"
        "str %[j], [sp]\n\t"
        "ldr r1, [%[j], %[oc]]\n\t"
        "str r1, [sp, #4]\n\t"
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
        "ldr r1, [%[j], %[ostage]]\n\t"
        "str r1, [sp, #40]\n\t"
        "ldr r1, [%[j], %[ogroups]]\n\t"
        "str r1, [sp, #44]\n\t"
        "ldr lr, [%[j], %[owt]]\n\t"
        "ldr r1, [%[j], %[okw]]\n\t"
        "cmp r1, #5\n\t"
        "bne 91f\n\t"
        "adr r2, 25f\n\t"
        "b 93f\n\t"
        "91:\n\t"
        "cmp r1, #3\n\t"
        "bne 92f\n\t"
        "adr r2, 23f\n\t"
        "b 93f\n\t"
        "92:\n\t"
        "adr r2, 21f\n\t"
        "93:\n\t"
        "orr r2, r2, #1\n\t" /* a Thumb address for LDR PC */
        "str r2, [sp, #36]\n\t"
        "1:\n\t"
        "ldr r1, [sp, #24]\n\t"
        "ldm r1!, {r4, r5, r6, r7}\n\t"
        "str r1, [sp, #28]\n\t"
        "ldr r12, [sp, #32]\n\t"
        "mov r8, r4\n\t"
        "mov r9, r5\n\t"
        "mov r10, r6\n\t"
        "mov r11, r7\n\t"
        "ldr pc, [sp, #36]\n\t"
        ".p2align 2\n\t"
        "25:\n\t"
        MNV3C_DW_TAP5
        "ldr r3, [sp, #8]\n\t"
        "cmp r12, r3\n\t"
        "bne 25b\n\t"
        "b 9f\n\t"
        ".p2align 2\n\t"
        "23:\n\t"
        MNV3C_DW_TAP3
        "ldr r3, [sp, #8]\n\t"
        "cmp r12, r3\n\t"
        "bne 23b\n\t"
        "b 9f\n\t"
        ".p2align 2\n\t"
        "21:\n\t"
        MNV3C_DW_TAP
        "ldr r3, [sp, #8]\n\t"
        "cmp r12, r3\n\t"
        "bne 21b\n\t"
        "9:\n\t"
        "ldr r1, [sp, #40]\n\t"
        "cmp r1, #0\n\t"
        "beq 8f\n\t"
        "str lr, [sp, #12]\n\t"
        "ldr r3, [sp, #28]\n\t"
        "ldr r12, [sp, #16]\n\t"
        "ldr lr, [sp, #20]\n\t"
        "add lr, lr, r12\n\t"
        "add r0, r12, #4\n\t"
        "str r0, [sp, #16]\n\t"
        "cmp r1, #1\n\t"
        "beq 7f\n\t"
        "ldm r3!, {r0, r1, r2}\n\t"
        "smmlar r4, r4, r0, r4\n\t"
        "smmlar r8, r8, r0, r8\n\t"
        "ldr r0, [sp]\n\t"
        "ldr r0, [r0, %[olut]]\n\t"
        MNV3C_DW_STAGE_TAIL("r4", "r8", "0", MNV3C_DW_LUT("r4", "r8", "r0"))
        "mov r4, r0\n\t"
        MNV3C_DW_STAGE("r5", "r9", "1", MNV3C_DW_LUT("r5", "r9", "r4"))
        MNV3C_DW_STAGE("r6", "r10", "2", MNV3C_DW_LUT("r6", "r10", "r4"))
        MNV3C_DW_STAGE("r7", "r11", "3", MNV3C_DW_LUT("r7", "r11", "r4"))
        "b 6f\n\t"
        "7:\n\t"
        MNV3C_DW_STAGE("r4", "r8", "0", "")
        MNV3C_DW_STAGE("r5", "r9", "1", "")
        MNV3C_DW_STAGE("r6", "r10", "2", "")
        MNV3C_DW_STAGE("r7", "r11", "3", "")
        "6:\n\t"
        "str r3, [sp, #24]\n\t" /* the next group's start sums follow this group's stage table */
        "ldr lr, [sp, #12]\n\t"
        "b 5f\n\t"
        "8:\n\t"
        "ldr r0, [sp]\n\t"
        "ldr r1, [r0, %[osums]]\n\t"
        "stm r1!, {r4, r5, r6, r7, r8, r9, r10, r11}\n\t"
        "str r1, [r0, %[osums]]\n\t"
        "ldr r1, [sp, #24]\n\t"
        "ldr r2, [r0, %[ostep]]\n\t"
        "add r1, r1, r2\n\t"
        "str r1, [sp, #24]\n\t"
        "5:\n\t"
        "ldr r1, [sp, #4]\n\t"
        "adds r1, r1, #4\n\t"
        "str r1, [sp, #4]\n\t"
        "ldr r1, [sp, #44]\n\t"
        "subs r1, r1, #1\n\t"
        "str r1, [sp, #44]\n\t"
        "bne 1b\n\t"
        "add sp, sp, #48\n\t"
        : [j] "+r"(jp)
        : [oc] "i"(offsetof(dw_job, c)), [oend] "i"(offsetof(dw_job, end)), [owt] "i"(offsetof(dw_job, wt)),
          [ostart] "i"(offsetof(dw_job, start)), [ostep] "i"(offsetof(dw_job, step)),
          [otab] "i"(offsetof(dw_job, tab)), [osums] "i"(offsetof(dw_job, sums)),
          [ogroups] "i"(offsetof(dw_job, groups)), [oy] "i"(offsetof(dw_job, y)), [oqd] "i"(offsetof(dw_job, qd)),
          [ostage] "i"(offsetof(dw_job, stage)), [olut] "i"(offsetof(dw_job, lut128)),
          [okw] "i"(offsetof(dw_job, kw))
        : "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "r12", "lr", "cc", "memory");
}

#undef MNV3C_DW_TAP
#undef MNV3C_DW_TAP5
#undef MNV3C_DW_TAP3
#undef MNV3C_DW_STAGE
#undef MNV3C_DW_STAGE_TAIL
#undef MNV3C_DW_LUT

/* The output stage of n groups from their sums (pixel q: yq, NULL for none), mode at run time. */
static __attribute__((noinline)) void store_groups(const mnv3c_dsp_out *s, int32_t c, const int32_t *sums, int32_t n,
                                                   int8_t *y, int8_t *yq, int mode)
{
    for (; n > 0; --n, c += 4, sums += 8) {
        switch (mode) {
        case MNV3C_DSP_GENERAL: mnv3c_dsp_store_block(s, c, sums, y, yq, MNV3C_DSP_GENERAL); break;
        case MNV3C_DSP_SHORT: mnv3c_dsp_store_block(s, c, sums, y, yq, MNV3C_DSP_SHORT); break;
        case MNV3C_DSP_SHORT_LUT: mnv3c_dsp_store_block(s, c, sums, y, yq, MNV3C_DSP_SHORT_LUT); break;
        default: mnv3c_dsp_store_block(s, c, sums, y, yq, MNV3C_DSP_SHORT_CLAMP); break;
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

/* The tap addresses of output pixel (oy, ox) at tap[0], tap[2], ...: the interior adds the offsets. */
static __attribute__((noinline)) void fill_taps(const mnv3c_depthwise_conv2d_params *p, const int8_t *x,
                                                const int32_t *offset, const int8_t *zrow, int32_t oy, int32_t ox,
                                                const int8_t **tap)
{
    const int32_t C = p->in_c, kh = p->kernel_h, kw = p->kernel_w, in_h = p->in_h, in_w = p->in_w;
    const int32_t iy0 = oy * p->stride_h - p->pad_top, ix0 = ox * p->stride_w - p->pad_left;
    int32_t t, ky, kx;
    if (iy0 >= 0 && iy0 + (kh - 1) * p->dilation_h < in_h && ix0 >= 0 && ix0 + (kw - 1) * p->dilation_w < in_w) {
        const int8_t *x0 = x + (iy0 * in_w + ix0) * C;
        for (t = 0; t < kh * kw; ++t) {
            tap[2 * t] = x0 + offset[t];
        }
        return;
    }
    for (ky = 0; ky < kh; ++ky) {
        const int32_t iy = iy0 + ky * p->dilation_h;
        for (kx = 0; kx < kw; ++kx) {
            const int32_t ix = ix0 + kx * p->dilation_w;
            const int inside = iy >= 0 && iy < in_h && ix >= 0 && ix < in_w;
            tap[2 * (ky * kw + kx)] = inside ? x + (iy * in_w + ix) * C : zrow;
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
        int8_t *const yq = i + 1 < npix ? y + C : NULL;
        const int32_t qy = yq == NULL ? oy : oy + (ox + 1 == p->out_w);
        const int32_t qx = yq == NULL ? ox : (ox + 1 == p->out_w ? 0 : ox + 1);
        int32_t g;
        fill_taps(p, x, offset, zrow, oy, ox, tab);
        fill_taps(p, x, offset, zrow, qy, qx, tab + 1); /* a lone last pixel: q is p again, not stored */
        oy = qy + (qx + 1 == p->out_w), ox = qx + 1 == p->out_w ? 0 : qx + 1;
        for (g = 0; g < whole;) {
            dw_job job;
            job.tab = tab, job.end = tab + 2 * taps, job.kw = kw, job.wt = w16 + 2 * g * taps, job.c = 4 * g;
            job.start = mode != MNV3C_DSP_GENERAL ? s.mult + g * MNV3C_DSP_TABLE_BLOCK : mnv3c_dsp_zero_start;
            job.step = mode != MNV3C_DSP_GENERAL ? (int32_t)(MNV3C_DSP_TABLE_BLOCK * sizeof(int32_t)) : 0;
            job.y = y + 4 * g, job.qd = C, job.lut128 = s.lut128, job.sums = sums;
            if ((mode == MNV3C_DSP_SHORT || mode == MNV3C_DSP_SHORT_LUT) && yq != NULL) {
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
