/*
 * conv2d_s8_arm_dsp_rgb.c - the 3x3 convolution of three input channels (the RGB stem of MobileNets)
 * for Cortex-M cores with the DSP extension: the arithmetic of ../conv2d_s8.c (same bytes), shaped
 * for K = 27 where conv2d_s8_arm_dsp16.c (same weights) is general.
 *
 * Per pair of output pixels p, q (in row-major order, as conv2d_s8_arm_dsp16.c):
 *   - the 27 values of each receptive field are widened straight from the input when both windows
 *     lie inside it (rgb_widen_inside: seven unaligned words, the two that cross kernel rows spliced
 *     with one BFI/PKHBT, the last shifted so its fourth byte is 0), with no stack copy, and along a
 *     run of such pairs on one output row with stepped pointers and no bounds per pair; a pair with a
 *     padded tap gathers its taps first (rgb_patch);
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
#include "mnv3c_dsp_gemm.h"

#define RGB_GROUPS 7 /* ceil(27 / 4) */

/* rgb_args: the asm's state, one word each (byte offsets in the asm text are 4 x the index; LUT, TABLE,
 * YP, YQ consecutive for one LDM, TABLE, YP, YQ for one STM). TABLE: the current block's 16 words of
 * the short table; END: the table past the last block of this call. */
enum { RGB_XBUF = 0, RGB_W = 1, RGB_END = 2, RGB_LUT = 3, RGB_TABLE = 4, RGB_YP = 5, RGB_YQ = 6, RGB_SUMS = 7 };

/* Four bytes from any address (one unaligned LDR). */
static inline uint32_t rgb_load(const int8_t *x)
{
    uint32_t v;
    __builtin_memcpy(&v, x, 4);
    return v;
}

/* Group g of both pixels (words vp, vq) into the layout of mnv3c_dsp_widen_pair. */
#define RGB_PUT(g, vp, vq)                                  \
    do {                                                    \
        const int32_t vp_ = (int32_t)(vp), vq_ = (int32_t)(vq); \
        buf[4 * (g)] = __sxtb16(vp_);                       \
        buf[4 * (g) + 1] = __sxtb16(vq_);                   \
        buf[4 * (g) + 2] = mnv3c_dsp_sxtb16_ror8(vp_);      \
        buf[4 * (g) + 3] = mnv3c_dsp_sxtb16_ror8(vq_);      \
    } while (0)

/* Both pixels' windows, inside the input, widened into the layout of mnv3c_dsp_widen_pair. The seven
 * groups of four values of a window (the 27 in OHWI order, then a zero) whose top-left tap is at r0,
 * rows `row` bytes apart, as words: r0[0..3], r0[4..7], r0[8] r1[0..2] (a BFI), r1[3..6], r1[7..8]
 * r2[0..1] (a PKHBT), r2[2..5], r2[6..8] 0 (a shift): every byte read lies in the window's rows. */
MNV3C_DSP_INLINE void rgb_widen_inside(const int8_t *p0, const int8_t *q0, int32_t row, int32_t *buf)
{
    const int8_t *p1 = p0 + row, *p2 = p1 + row, *q1 = q0 + row, *q2 = q1 + row;
    RGB_PUT(0, rgb_load(p0), rgb_load(q0));
    RGB_PUT(1, rgb_load(p0 + 4), rgb_load(q0 + 4));
    RGB_PUT(2, (rgb_load(p1 - 1) & 0xffffff00u) | (uint8_t)p0[8], (rgb_load(q1 - 1) & 0xffffff00u) | (uint8_t)q0[8]);
    RGB_PUT(3, rgb_load(p1 + 3), rgb_load(q1 + 3));
    RGB_PUT(4, (rgb_load(p1 + 7) & 0xffffu) | (rgb_load(p2 - 2) & 0xffff0000u),
            (rgb_load(q1 + 7) & 0xffffu) | (rgb_load(q2 - 2) & 0xffff0000u));
    RGB_PUT(5, rgb_load(p2 + 2), rgb_load(q2 + 2));
    RGB_PUT(6, rgb_load(p2 + 5) >> 8, rgb_load(q2 + 5) >> 8);
}

/* Both pixels' windows from their gathered rows (rgb_patch) into the same layout. */
MNV3C_DSP_INLINE void rgb_widen_patches(const int8_t *pp, const int8_t *pq, int32_t *buf)
{
    int32_t g;
    for (g = 0; g < RGB_GROUPS; ++g) {
        RGB_PUT(g, rgb_load(pp + 4 * g), rgb_load(pq + 4 * g));
    }
}

#undef RGB_PUT

/* The window whose top-left tap is at input (iy0, ix0), input_zp in the padded taps (what the folded
 * bias expects, mnv3c_kernels.h), into buf[28] with buf[27] = 0: the pixels next to the padding. */
static void rgb_patch(const mnv3c_conv2d_params *p, const int8_t *x, int32_t iy0, int32_t ix0, int8_t *buf)
{
    const int8_t zp = (int8_t)p->input_zp;
    int32_t ky, kx;
    for (ky = 0; ky < 3; ++ky) {
        const int32_t iy = iy0 + ky;
        const int row_inside = iy >= 0 && iy < p->in_h;
        for (kx = 0; kx < 3; ++kx, buf += 3) {
            const int32_t ix = ix0 + kx;
            if (row_inside && ix >= 0 && ix < p->in_w) {
                const int8_t *src = x + (iy * p->in_w + ix) * 3;
                buf[0] = src[0];
                buf[1] = src[1];
                buf[2] = src[2];
            } else {
                buf[0] = zp;
                buf[1] = zp;
                buf[2] = zp;
            }
        }
    }
    buf[0] = 0;
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


/* With the args in r12: r0 = the table base (lut + 128), r3 = this block's {mx, k, r}, r12 = yp and
 * lr = yq; afterwards r3 is the next block's table and both outputs advance 4 bytes, stored back. */
#define RGB_STAGE_ARGS                         \
    "add r12, r12, #12\n\t"                    \
    "ldm r12, {r0, r3, r12, lr}\n\t"           \
    "add r3, r3, #16\n\t"
#define RGB_STAGE_END                          \
    "add r12, r12, #4\n\t"                     \
    "add lr, lr, #4\n\t"                       \
    "ldr r0, [sp]\n\t"                         \
    "add r1, r0, #16\n\t"                      \
    "stm r1, {r3, r12, lr}\n\t"
#define RGB_STAGE_SHORT                        \
    RGB_STAGE_ARGS                             \
    MNV3C_DSP_STAGE_PQ("r4", "r8", "0", "")           \
    MNV3C_DSP_STAGE_PQ("r5", "r9", "1", "")           \
    MNV3C_DSP_STAGE_PQ("r6", "r10", "2", "")          \
    MNV3C_DSP_STAGE_PQ("r7", "r11", "3", "")          \
    RGB_STAGE_END
/* The table base waits on the stack while mx of channel 0 is live, then stays in r4. */
#define RGB_STAGE_LUT                          \
    RGB_STAGE_ARGS                             \
    "push {r0}\n\t"                            \
    "ldm r3!, {r0, r1, r2}\n\t"                \
    "smmlar r4, r4, r0, r4\n\t"                \
    "smmlar r8, r8, r0, r8\n\t"                \
    "pop {r0}\n\t"                             \
    MNV3C_DSP_STAGE_TAIL("r4", "r8", "0", MNV3C_DSP_LUT_PQ("r4", "r8", "r0")) \
    "mov r4, r0\n\t"                           \
    MNV3C_DSP_STAGE_PQ("r5", "r9", "1", MNV3C_DSP_LUT_PQ("r5", "r9", "r4")) \
    MNV3C_DSP_STAGE_PQ("r6", "r10", "2", MNV3C_DSP_LUT_PQ("r6", "r10", "r4")) \
    MNV3C_DSP_STAGE_PQ("r7", "r11", "3", MNV3C_DSP_LUT_PQ("r7", "r11", "r4")) \
    RGB_STAGE_END
/* The eight sums to the args' sums cursor (p's four, then q's), the table advanced a block. */
#define RGB_STAGE_SUMS                         \
    "ldr r3, [r12, #16]\n\t"                   \
    "add r3, r3, #64\n\t"                      \
    "str r3, [r12, #16]\n\t"                   \
    "ldr r0, [r12, #28]\n\t"                   \
    "stm r0!, {r4, r5, r6, r7, r8, r9, r10, r11}\n\t" \
    "str r0, [r12, #28]\n\t"                   \
    "mov r0, r12\n\t"

/* Every block of the pair until the table reaches END: sums started at the table's biases, the seven
 * groups, then STAGE (which leaves the next table in r3); the args' address in %[a] (r3 or r12, the
 * two registers not clobbered, both saved and restored) is kept at [sp]. */
#define RGB_PAIR_ASM(STAGE)                    \
    "push {r3, r12}\n\t"                       \
    "push {%[a]}\n\t"                          \
    "1:\n\t"                                   \
    "ldr lr, [sp]\n\t"                         \
    "ldr r2, [lr, #16]\n\t"                    \
    "ldm r2, {r4, r5, r6, r7}\n\t"             \
    "ldm r2, {r8, r9, r10, r11}\n\t"           \
    "ldr r12, [lr, #0]\n\t"                    \
    "ldr lr, [lr, #4]\n\t"                     \
    RGB_GROUP RGB_GROUP RGB_GROUP RGB_GROUP RGB_GROUP RGB_GROUP RGB_GROUP \
    "ldr r12, [sp]\n\t"                        \
    "str lr, [r12, #4]\n\t"                    \
    STAGE                                      \
    "ldr r1, [r0, #8]\n\t"                     \
    "cmp r3, r1\n\t"                           \
    "bne 1b\n\t"                               \
    "add sp, sp, #4\n\t"                       \
    "pop {r3, r12}\n\t"
#define RGB_CLOBBERS "r0", "r1", "r2", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "lr", "cc", "memory"

/* All output channels of the pixels p, q (yq == NULL: p only, q's inputs zero) from the widened xbuf:
 * every block in one asm statement with a written-out stage (`fast`, both pixels), else block by block
 * through the sums and mnv3c_dsp_store_block in the clamp mode (the same bytes in every short mode:
 * it clamps to [lo, hi] and applies the table if there is one). */
static inline void rgb_pair(const mnv3c_dsp_out *s, uint32_t a[8], const int8_t *weights, int8_t *yp,
                            int8_t *yq, int fast, int mode)
{
    a[RGB_W] = (uint32_t)weights;
    a[RGB_TABLE] = (uint32_t)s->mult;
    if (fast && yq != NULL) {
        a[RGB_END] = (uint32_t)(s->mult + MNV3C_DSP_TABLE_BLOCK * (s->out_c >> 2));
        a[RGB_YP] = (uint32_t)yp;
        a[RGB_YQ] = (uint32_t)yq;
        if (mode == MNV3C_DSP_SHORT_LUT) {
            __asm__ volatile(RGB_PAIR_ASM(RGB_STAGE_LUT) : : [a] "r"(a) : RGB_CLOBBERS);
        } else {
            __asm__ volatile(RGB_PAIR_ASM(RGB_STAGE_SHORT) : : [a] "r"(a) : RGB_CLOBBERS);
        }
    } else {
        int32_t sums[8];
        int32_t o;
        for (o = 0; o < s->out_c; o += 4) {
            a[RGB_END] = a[RGB_TABLE] + 4 * MNV3C_DSP_TABLE_BLOCK;
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
    uint32_t a[8];
    a[RGB_XBUF] = (uint32_t)xbuf;
    a[RGB_LUT] = (uint32_t)s.lut128;
    for (i = 0; i < pixels; i += 2) {
        const int has_q = i + 1 < pixels;
        const int32_t iy = oy * p->stride_h - p->pad_top, ix = ox * p->stride_w - p->pad_left;
        if (fast && ox + 1 < p->out_w && iy >= 0 && iy + 3 <= p->in_h && ix >= 0) {
            /* The run of pairs on this output row whose windows are inside the input: the last q at
             * column m_max at most, pointers stepped, no bounds per pair. */
            const int32_t room = (p->in_w - 3 + p->pad_left) / p->stride_w;
            const int32_t m_max = room < p->out_w - 1 ? room : p->out_w - 1;
            const int32_t step = 3 * p->stride_w;
            const int8_t *xr = x + iy * row + ix * 3;
            int8_t *yr = y + i * out_c;
            int32_t n = m_max >= ox + 1 ? (m_max - ox - 1) / 2 + 1 : 0, k;
            for (k = 0; k < n; ++k, xr += 2 * step, yr += 2 * out_c) {
                rgb_widen_inside(xr, xr + step, row, xbuf);
                rgb_pair(&s, a, p->weights, yr, yr + out_c, 1, mode);
            }
            if (n > 0) {
                i += 2 * n - 2; /* the loop adds the last 2 */
                ox += 2 * n;
                if (ox == p->out_w) {
                    ox = 0, ++oy;
                }
                continue;
            }
        }
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
            rgb_patch(p, x, py, px, patch_p);
            if (has_q) {
                rgb_patch(p, x, qy, qx, patch_q);
            }
            rgb_widen_patches(patch_p, has_q ? patch_q : patch_p, xbuf); /* lone p: q's sums are dropped */
        }
        rgb_pair(&s, a, p->weights, yp, has_q ? yp + out_c : NULL, fast, mode);
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
