/*
 * conv2d_s8_arm_dsp_rgb.c - the 3x3 convolution of three input channels (the RGB stem of MobileNets)
 * for Cortex-M cores with the DSP extension: the arithmetic of ../conv2d_s8.c (same bytes), shaped
 * for K = 27 where conv2d_s8_arm_dsp16.c (same weights) is general.
 *
 * Per pair of output pixels p, q (in row-major order, as conv2d_s8_arm_dsp16.c):
 *   - the 27 values of each receptive field are widened straight from the input when both windows
 *     lie inside it (rgb_words: seven unaligned words, the three that cross kernel rows spliced with
 *     one BFI/PKHBT, the last shifted so its fourth byte is 0), with no stack copy; a pair with a
 *     padded tap goes through mnv3c_dsp_conv2d_patch and mnv3c_dsp_widen_pair;
 *   - one asm statement runs every block of four output channels: the seven groups written out (no
 *     loop: 7 x (2 LDRD of inputs, 4 LDRD of weights, 16 SMLAD)), then the short output stage of
 *     mnv3c_dsp_requant.h written out for the eight sums, or, in the clamp mode and for a last lone
 *     pixel, the sums stored for mnv3c_dsp_store_block.
 * The asm holds its loop state in a small array in memory (rgb_args) whose address comes in a register
 * it saves and restores (r3 or r12) and is kept on the stack: the product needs all 14.
 * Weights: "pointwise_dsp16" (mnv3c/codegen/layouts.py, described in conv2d_s8_arm_dsp16.c): per
 * block of four output channels 7 groups of 8 words; K = 28, the 28th weight 0.
 * Precondition (plan/kernels.py _conv_rgb_fits): group 1, dilation 1, in_c 3, 3x3, any stride and
 * padding. Only a _short entry point: the rule needs the proven short output stage.
 */
#include "mnv3c_arm_dsp.h"
#include "mnv3c_dsp_conv2d.h"

#define RGB_GROUPS 7 /* ceil(27 / 4) */

/* rgb_args: the asm's state, one word each (byte offsets in the asm text are 4 x the index). */
enum { RGB_XBUF = 0, RGB_W = 1, RGB_TABLE = 2, RGB_LUT = 3, RGB_YP = 4, RGB_YQ = 5, RGB_BLOCKS = 6, RGB_SUMS = 7 };

/* Four bytes from any address (one unaligned LDR). */
static inline uint32_t rgb_load(const int8_t *x)
{
    uint32_t v;
    __builtin_memcpy(&v, x, 4);
    return v;
}

/* The seven groups of four values (the 27 in OHWI order, then a zero) of the window whose top-left
 * tap is at r0, with rows `row` bytes apart: every byte read lies in the window's rows. */
MNV3C_DSP_INLINE void rgb_words(const int8_t *r0, int32_t row, uint32_t g[RGB_GROUPS])
{
    const int8_t *r1 = r0 + row, *r2 = r1 + row;
    g[0] = rgb_load(r0);
    g[1] = rgb_load(r0 + 4);
    g[2] = (rgb_load(r1 - 1) & 0xffffff00u) | (uint8_t)r0[8];
    g[3] = rgb_load(r1 + 3);
    g[4] = (rgb_load(r1 + 7) & 0xffffu) | (rgb_load(r2 - 2) & 0xffff0000u);
    g[5] = rgb_load(r2 + 2);
    g[6] = rgb_load(r2 + 5) >> 8;
}

/* Both pixels' windows, inside the input, widened into the layout of mnv3c_dsp_widen_pair. */
MNV3C_DSP_INLINE void rgb_widen_inside(const int8_t *xp, const int8_t *xq, int32_t row, int32_t *buf)
{
    uint32_t gp[RGB_GROUPS], gq[RGB_GROUPS];
    int32_t g;
    rgb_words(xp, row, gp);
    rgb_words(xq, row, gq);
    for (g = 0; g < RGB_GROUPS; ++g, buf += 4) {
        buf[0] = __sxtb16((int32_t)gp[g]);
        buf[1] = __sxtb16((int32_t)gq[g]);
        buf[2] = mnv3c_dsp_sxtb16_ror8((int32_t)gp[g]);
        buf[3] = mnv3c_dsp_sxtb16_ror8((int32_t)gq[g]);
    }
}

/* One SMLAD step (mnv3c_dsp_gemm.h's, on int16 weights): pairs r0 (p), r1 (q), weights by lr. */
#define RGB_STEP(A, B, QA, QB)                 \
    "ldrd r2, r3, [lr], #8\n\t"                \
    "smlad " A ", r0, r2, " A "\n\t"           \
    "smlad " QA ", r1, r2, " QA "\n\t"         \
    "smlad " B ", r0, r3, " B "\n\t"           \
    "smlad " QB ", r1, r3, " QB "\n\t"
/* One group of four values of both pixels (inputs by r12) against the block's weights. */
#define RGB_GROUP                              \
    "ldrd r0, r1, [r12], #8\n\t"               \
    RGB_STEP("r4", "r5", "r8", "r9")           \
    RGB_STEP("r6", "r7", "r10", "r11")         \
    "ldrd r0, r1, [r12], #8\n\t"               \
    RGB_STEP("r4", "r5", "r8", "r9")           \
    RGB_STEP("r6", "r7", "r10", "r11")

/* The short stage of one channel, sums P (p), Q (q) in place, {mx, k, r} by r3 (mnv3c_dsp_requant.h:
 * SMMLAR, minus the sign, plus k, ASR r, SSAT 8, the table LUT), bytes I of yp (r12) and yq (lr). */
#define RGB_TAIL(P, Q, I, LUT)                 \
    "sub " P ", " P ", " P ", lsr #31\n\t"     \
    "sub " Q ", " Q ", " Q ", lsr #31\n\t"     \
    "add " P ", " P ", r1\n\t"                 \
    "add " Q ", " Q ", r1\n\t"                 \
    "asr " P ", " P ", r2\n\t"                 \
    "asr " Q ", " Q ", r2\n\t"                 \
    "ssat " P ", #8, " P "\n\t"                \
    "ssat " Q ", #8, " Q "\n\t"                \
    LUT                                        \
    "strb " P ", [r12, #" I "]\n\t"            \
    "strb " Q ", [lr, #" I "]\n\t"
#define RGB_CHANNEL(P, Q, I, LUT)              \
    "ldm r3!, {r0, r1, r2}\n\t"                \
    "smmlar " P ", " P ", r0, " P "\n\t"       \
    "smmlar " Q ", " Q ", r0, " Q "\n\t"       \
    RGB_TAIL(P, Q, I, LUT)
#define RGB_LUT(P, Q, BASE) "ldrb " P ", [" BASE ", " P "]\n\t" "ldrb " Q ", [" BASE ", " Q "]\n\t"

/* With the args in r12: r3 = this block's {mx, k, r} (the table advanced a block), r12 = yp and
 * lr = yq (both advanced 4 bytes in the args), r0 = the table base (lut + 128). */
#define RGB_STAGE_ARGS                         \
    "ldr r3, [r12, #8]\n\t"                    \
    "add r0, r3, #64\n\t"                      \
    "str r0, [r12, #8]\n\t"                    \
    "add r3, r3, #16\n\t"                      \
    "ldr lr, [r12, #20]\n\t"                   \
    "add r0, lr, #4\n\t"                       \
    "str r0, [r12, #20]\n\t"                   \
    "ldr r0, [r12, #16]\n\t"                   \
    "add r1, r0, #4\n\t"                       \
    "str r1, [r12, #16]\n\t"                   \
    "ldr r1, [r12, #12]\n\t"                   \
    "mov r12, r0\n\t"                          \
    "mov r0, r1\n\t"
#define RGB_STAGE_SHORT                        \
    RGB_STAGE_ARGS                             \
    RGB_CHANNEL("r4", "r8", "0", "")           \
    RGB_CHANNEL("r5", "r9", "1", "")           \
    RGB_CHANNEL("r6", "r10", "2", "")          \
    RGB_CHANNEL("r7", "r11", "3", "")
/* The table base waits on the stack while mx of channel 0 is live, then stays in r4. */
#define RGB_STAGE_LUT                          \
    RGB_STAGE_ARGS                             \
    "push {r0}\n\t"                            \
    "ldm r3!, {r0, r1, r2}\n\t"                \
    "smmlar r4, r4, r0, r4\n\t"                \
    "smmlar r8, r8, r0, r8\n\t"                \
    "pop {r0}\n\t"                             \
    RGB_TAIL("r4", "r8", "0", RGB_LUT("r4", "r8", "r0")) \
    "mov r4, r0\n\t"                           \
    RGB_CHANNEL("r5", "r9", "1", RGB_LUT("r5", "r9", "r4")) \
    RGB_CHANNEL("r6", "r10", "2", RGB_LUT("r6", "r10", "r4")) \
    RGB_CHANNEL("r7", "r11", "3", RGB_LUT("r7", "r11", "r4"))
/* The eight sums to the args' sums cursor (p's four, then q's), the table advanced a block. */
#define RGB_STAGE_SUMS                         \
    "ldr r3, [r12, #8]\n\t"                    \
    "add r3, r3, #64\n\t"                      \
    "str r3, [r12, #8]\n\t"                    \
    "ldr r0, [r12, #28]\n\t"                   \
    "stm r0!, {r4, r5, r6, r7, r8, r9, r10, r11}\n\t" \
    "str r0, [r12, #28]\n\t"

/* Every block of the pair: sums started at the table's biases, the seven groups, then STAGE; the
 * args' address in %[a] (r3 or r12, the two registers not clobbered, both saved and restored) is kept
 * at [sp]. */
#define RGB_PAIR_ASM(STAGE)                    \
    "push {r3, r12}\n\t"                       \
    "push {%[a]}\n\t"                          \
    "1:\n\t"                                   \
    "ldr lr, [sp]\n\t"                         \
    "ldr r2, [lr, #8]\n\t"                     \
    "ldm r2, {r4, r5, r6, r7}\n\t"             \
    "mov r8, r4\n\t"                           \
    "mov r9, r5\n\t"                           \
    "mov r10, r6\n\t"                          \
    "mov r11, r7\n\t"                          \
    "ldr r12, [lr, #0]\n\t"                    \
    "ldr lr, [lr, #4]\n\t"                     \
    RGB_GROUP RGB_GROUP RGB_GROUP RGB_GROUP RGB_GROUP RGB_GROUP RGB_GROUP \
    "ldr r12, [sp]\n\t"                        \
    "str lr, [r12, #4]\n\t"                    \
    STAGE                                      \
    "ldr r0, [sp]\n\t"                         \
    "ldr r1, [r0, #24]\n\t"                    \
    "subs r1, r1, #1\n\t"                      \
    "str r1, [r0, #24]\n\t"                    \
    "bne 1b\n\t"                               \
    "add sp, sp, #4\n\t"                       \
    "pop {r3, r12}\n\t"
#define RGB_CLOBBERS "r0", "r1", "r2", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "lr", "cc", "memory"

/* All output channels of the pixels p, q (yq == NULL: p only, q's inputs zero) from the widened xbuf:
 * every block in one asm statement with a written-out stage (`fast`, both pixels), else block by block
 * through the sums and mnv3c_dsp_store_block in the clamp mode (the same bytes in every short mode:
 * it clamps to [lo, hi] and applies the table if there is one). */
static inline void rgb_pair(const mnv3c_dsp_out *s, const int32_t *xbuf, const int8_t *weights, int8_t *yp,
                            int8_t *yq, int fast, int mode)
{
    int32_t sums[8];
    uint32_t a[8];
    a[RGB_XBUF] = (uint32_t)xbuf;
    a[RGB_W] = (uint32_t)weights;
    a[RGB_TABLE] = (uint32_t)s->mult;
    a[RGB_LUT] = (uint32_t)s->lut128;
    a[RGB_YP] = (uint32_t)yp;
    a[RGB_YQ] = (uint32_t)yq;
    a[RGB_BLOCKS] = (uint32_t)(s->out_c >> 2);
    a[RGB_SUMS] = (uint32_t)sums;
    if (fast && yq != NULL && mode == MNV3C_DSP_SHORT_LUT) {
        __asm__ volatile(RGB_PAIR_ASM(RGB_STAGE_LUT) : : [a] "r"(a) : RGB_CLOBBERS);
    } else if (fast && yq != NULL) {
        __asm__ volatile(RGB_PAIR_ASM(RGB_STAGE_SHORT) : : [a] "r"(a) : RGB_CLOBBERS);
    } else {
        int32_t o;
        for (o = 0; o < s->out_c; o += 4) {
            a[RGB_BLOCKS] = 1;
            a[RGB_SUMS] = (uint32_t)sums;
            __asm__ volatile(RGB_PAIR_ASM(RGB_STAGE_SUMS) : : [a] "r"(a) : RGB_CLOBBERS);
            mnv3c_dsp_store_block(s, o, sums, yp, yq, MNV3C_DSP_SHORT_CLAMP);
        }
    }
}

/* The kernel in the short mode `mode` (a run-time value: one copy of each asm statement). */
static void conv2d_rgb(const mnv3c_conv2d_params *p, const int8_t *MNV3C_RESTRICT x, int8_t *MNV3C_RESTRICT y,
                       int mode)
{
    const mnv3c_dsp_out s = mnv3c_dsp_conv_out(p);
    const int32_t out_c = p->out_c, row = p->in_w * 3;
    const int32_t pixels = p->out_h * p->out_w;
    const int fast = mode != MNV3C_DSP_SHORT_CLAMP && (out_c & 3) == 0; /* the written-out stages */
    int32_t xbuf[4 * RGB_GROUPS];
    int8_t patch_p[4 * RGB_GROUPS], patch_q[4 * RGB_GROUPS];
    int32_t i, oy = 0, ox = 0;
    for (i = 0; i < pixels; i += 2) {
        const int has_q = i + 1 < pixels;
        int8_t *yp = y + i * out_c;
        const int32_t py = oy * p->stride_h - p->pad_top, px = ox * p->stride_w - p->pad_left;
        int32_t qy, qx;
        if (++ox == p->out_w) {
            ox = 0, ++oy;
        }
        qy = oy * p->stride_h - p->pad_top, qx = ox * p->stride_w - p->pad_left;
        if (has_q && ++ox == p->out_w) {
            ox = 0, ++oy;
        }
        if (has_q && py >= 0 && qy >= 0 && py + 3 <= p->in_h && qy + 3 <= p->in_h && px >= 0 && qx >= 0 &&
            px + 3 <= p->in_w && qx + 3 <= p->in_w) {
            rgb_widen_inside(x + py * row + px * 3, x + qy * row + qx * 3, row, xbuf);
        } else {
            mnv3c_dsp_conv2d_patch(p, x, py, px, patch_p);
            if (has_q) {
                mnv3c_dsp_conv2d_patch(p, x, qy, qx, patch_q);
            }
            mnv3c_dsp_widen_pair(patch_p, has_q ? patch_q : NULL, 27, xbuf);
        }
        rgb_pair(&s, xbuf, p->weights, yp, has_q ? yp + out_c : NULL, fast, mode);
    }
}

void mnv3c_conv2d_s8_arm_dsp_rgb_short(const mnv3c_conv2d_params *p, const int8_t *MNV3C_RESTRICT x,
                                       int8_t *MNV3C_RESTRICT y, void *scratch)
{
    const mnv3c_dsp_out s = mnv3c_dsp_conv_out(p);
    (void)scratch;
    conv2d_rgb(p, x, y, mnv3c_dsp_short_mode(&s));
}

size_t mnv3c_conv2d_s8_arm_dsp_rgb_short_scratch_bytes(const mnv3c_conv2d_params *p)
{
    (void)p;
    return 0;
}
