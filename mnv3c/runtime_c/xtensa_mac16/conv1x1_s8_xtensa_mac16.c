/*
 * conv1x1_s8_xtensa_mac16.c - pointwise convolution for windowed Xtensa cores with MAC16 (ESP32):
 * the arithmetic of ../conv1x1_s8.c (same bytes).
 *
 * MAC16 has one accumulator, so there is no register blocking: each output value is one dot
 * product of the pixel's inputs with the channel's weights, both int16, in which every
 * multiply-accumulate also loads the next word of one operand (MULA.DD.LL/HH.LDINC, alternating
 * the input and weight pointers): 4 MACs per 6 instructions with the loop's count and branch.
 * Up to eight pixels at a time, their in_c inputs sign-extended once into a stack buffer (int16,
 * zeros up to the padded length); the output stage is ../xtensa/mnv3c_xt_gemm.h's (no int64), its
 * per-channel constants split once for the block.
 * Weights "pointwise_mac16" (mnv3c/codegen/layouts.py): int16 [out_c][kp], kp = in_c rounded up
 * to a multiple of 4 with zero weights, then two zero values the loop reads ahead: about twice
 * the bytes of the int8 weights, counted in weights_bytes like any array; 4-byte aligned.
 * The hardware loop (LOOP) is not used: GCC may have put the caller's own loop in LBEG/LEND.
 * Precondition (plan/kernels.py): pointwise geometry as conv1x1_s8, in_c <= MNV3C_PW_MAX_C.
 * Two entry points, chosen per layer at compile time: _short where the one-MULH output stage is
 * proven exact for the layer, the general MBQM elsewhere.
 */
#include "mnv3c_kernels.h"
#include "mnv3c_xtensa_mac16.h"
#include "mnv3c_xt_gemm.h"

/*
 * sum x[i] w[i] over i < 4 * quads (quads >= 1); x, w 4-byte aligned, each read one word past.
 * Per iteration, m0/m2 (this word of x and w) are read and then reloaded, and m1/m3 loaded and
 * then read, never read-write-read: QEMU 7.2 (its TCG translation of MAC16) may read a stale m
 * register when one that was read is reloaded and read again before the translation block ends,
 * and each iteration ends at its branch. ACC and m0..m3 are not GCC's (its configuration leaves
 * MAC16 unused), so the asm owns them. Off Xtensa (a host compile check of the ESP-IDF
 * component) the same sum in C.
 */
MNV3C_XT_INLINE int32_t dot(const int16_t *x, const int16_t *w, int32_t quads)
{
#ifdef __XTENSA__
    int32_t acc;
    const int16_t *xp = x - 2, *wp = w - 2; /* LDINC adds 4 before it loads */
    __asm__ volatile(
        "wsr.acclo %[zero]\n\t"
        "wsr.acchi %[zero]\n\t"
        "ldinc m0, %[xp]\n\t"
        "ldinc m2, %[wp]\n\t"
        "1:\n\t"
        "mula.dd.ll.ldinc m1, %[xp], m0, m2\n\t"
        "mula.dd.hh.ldinc m3, %[wp], m0, m2\n\t"
        "mula.dd.ll.ldinc m0, %[xp], m1, m3\n\t"
        "mula.dd.hh.ldinc m2, %[wp], m1, m3\n\t"
        "addi %[n], %[n], -1\n\t"
        "bnez %[n], 1b\n\t"
        "rsr.acclo %[acc]\n\t"
        : [acc] "=r"(acc), [xp] "+r"(xp), [wp] "+r"(wp), [n] "+r"(quads)
        : [zero] "r"(0)
        : "memory");
    return acc;
#else
    int32_t acc = 0, i;
    for (i = 0; i < 4 * quads; ++i) {
        acc += x[i] * w[i];
    }
    return acc;
#endif
}

#define MAX_PIXELS 8

/* Channels 0 .. out_c - 1 of n pixels, buffered in x at a stride of 4 * quads + 2 values; each
 * channel's output constants are split once for all n. */
MNV3C_XT_INLINE void block(const int16_t *x, int32_t n, int32_t quads, const int16_t *w, const mnv3c_xt_out *out,
                           int8_t *y, int short_rq)
{
    const mnv3c_xt_out s = *out; /* a local copy: the int8 stores below cannot alias it */
    const int32_t row = 4 * quads, stride = row + 2;
    int32_t o, i;
    for (o = 0; o < s.out_c; ++o, w += row) {
        const mnv3c_xt_chan c = mnv3c_xt_chan_of(&s, o, short_rq);
        const int32_t bias = s.bias[o];
        int32_t acc[MAX_PIXELS]; /* the sums first, then the output stage: fewer live registers */
        const int16_t *xi = x;
        int8_t *yo = y + o;
        for (i = 0; i < n; ++i, xi += stride) {
            acc[i] = bias + dot(xi, w, quads);
        }
        for (i = 0; i < n; ++i, yo += s.out_c) {
            *yo = mnv3c_xt_finish(&s, &c, acc[i], short_rq);
        }
    }
}

MNV3C_XT_HOT void block_general(const int16_t *x, int32_t n, int32_t quads, const int16_t *w,
                                const mnv3c_xt_out *s, int8_t *y)
{
    block(x, n, quads, w, s, y, 0);
}

MNV3C_XT_HOT void block_short(const int16_t *x, int32_t n, int32_t quads, const int16_t *w, const mnv3c_xt_out *s,
                              int8_t *y)
{
    block(x, n, quads, w, s, y, 1);
}

/* The padded row length for in_c inputs; the buffer holds up to MAX_PIXELS rows of it + 2 (the
 * read-ahead), at least two for the widest layer, as the LX106 variants' 4 KiB. */
#define KP(in_c) (((in_c) + 3) & ~3)
#define BUF_VALUES (2 * (KP(MNV3C_PW_MAX_C) + 2))

MNV3C_XT_INLINE void conv1x1(const mnv3c_conv2d_params *p, const int8_t *MNV3C_RESTRICT x,
                             int8_t *MNV3C_RESTRICT y, int short_rq)
{
    const int32_t in_c = p->in_c, out_c = p->out_c, kp = KP(in_c), stride = kp + 2;
    const int32_t pixels = p->in_h * p->in_w;
    const int32_t fit = BUF_VALUES / stride, per_block = fit < MAX_PIXELS ? fit : MAX_PIXELS;
    const mnv3c_xt_out s = mnv3c_xt_out_init(p->bias_folded, p->out_mult, p->out_shift, p->output_zp,
                                             p->act_min, p->act_max, p->lut, out_c);
    const int16_t *const w = (const int16_t *)(const void *)p->weights;
    int16_t buf[BUF_VALUES] __attribute__((aligned(4)));
    int32_t px, c, i;
    for (i = 0; i < per_block; ++i) { /* the padding stays zero: each pixel fills 0 .. in_c of its row */
        for (c = in_c; c < stride; ++c) {
            buf[i * stride + c] = 0;
        }
    }
    for (px = 0; px < pixels; px += per_block) {
        const int32_t n = pixels - px < per_block ? pixels - px : per_block;
        const int8_t *xp = x + px * in_c;
        for (i = 0; i < n; ++i, xp += in_c) {
            int16_t *const row = buf + i * stride;
            for (c = 0; c < in_c; ++c) {
                row[c] = xp[c];
            }
        }
        if (short_rq) {
            block_short(buf, n, kp / 4, w, &s, y + px * out_c);
        } else {
            block_general(buf, n, kp / 4, w, &s, y + px * out_c);
        }
    }
}

void mnv3c_conv1x1_s8_xtensa_mac16(const mnv3c_conv2d_params *p, const int8_t *MNV3C_RESTRICT x,
                                   int8_t *MNV3C_RESTRICT y, void *scratch)
{
    (void)scratch;
    conv1x1(p, x, y, 0);
}

void mnv3c_conv1x1_s8_xtensa_mac16_short(const mnv3c_conv2d_params *p, const int8_t *MNV3C_RESTRICT x,
                                         int8_t *MNV3C_RESTRICT y, void *scratch)
{
    (void)scratch;
    conv1x1(p, x, y, 1);
}

size_t mnv3c_conv1x1_s8_xtensa_mac16_scratch_bytes(const mnv3c_conv2d_params *p)
{
    (void)p;
    return 0;
}

size_t mnv3c_conv1x1_s8_xtensa_mac16_short_scratch_bytes(const mnv3c_conv2d_params *p)
{
    (void)p;
    return 0;
}
