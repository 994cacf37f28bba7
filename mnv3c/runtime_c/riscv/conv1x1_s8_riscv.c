/*
 * conv1x1_s8_riscv.c - pointwise convolution for RV32IMC cores (no DSP, no vectors, 31 registers):
 * the arithmetic of ../conv1x1_s8.c (same bytes), shaped for a register-rich load/store ISA.
 *
 * The portable kernel's two-pixel packing needs 32x32->64 products, which cost MUL + MULH and a
 * carried 64-bit add on RV32. Here every product is a plain 32-bit MUL instead, blocked two pixels
 * x four output channels so each loaded input is used four times and each weight twice: per input
 * channel 2 + 4 byte loads, 8 MUL and 8 ADD for 8 MACs, the eight sums in registers, all pointer
 * increments hoisted out of the loop (one index for the 4 weight rows and the 2 pixels).
 * Weights: the portable OHWI layout. Leftover output channels (out_c % 4) and an odd last pixel
 * run a one-channel / one-pixel loop.
 */
#include "mnv3c_kernels.h"
#include "mnv3c_requant.h"
#include "mnv3c_riscv.h"

/* Output channels o .. o + 3 of pixels p, q; wb: their weights interleaved, [in_c][4]. */
static void block(const mnv3c_conv2d_params *p, const int8_t *xp, const int8_t *xq, const int8_t *wb,
                  int32_t o, int8_t *yp, int8_t *yq)
{
    const int8_t *const end = xp + p->in_c;
    int32_t p0 = 0, p1 = 0, p2 = 0, p3 = 0, q0 = 0, q1 = 0, q2 = 0, q3 = 0;
    int32_t i;
    while (xp < end) {
        const int32_t a = *xp++, b = *xq++;
        const int32_t v0 = wb[0], v1 = wb[1], v2 = wb[2], v3 = wb[3];
        wb += 4;
        p0 += a * v0;
        p1 += a * v1;
        p2 += a * v2;
        p3 += a * v3;
        q0 += b * v0;
        q1 += b * v1;
        q2 += b * v2;
        q3 += b * v3;
    }
    {
        const int32_t sp[4] = {p0, p1, p2, p3}, sq[4] = {q0, q1, q2, q3};
        for (i = 0; i < 4 && o + i < p->out_c; ++i) {
            const int32_t bias = p->bias_folded[o + i], mult = p->out_mult[o + i], shift = p->out_shift[o + i];
            yp[o + i] = mnv3c_requant_out(sp[i] + bias, mult, shift, p->output_zp, p->act_min, p->act_max, p->lut);
            if (yq != NULL) {
                yq[o + i] = mnv3c_requant_out(sq[i] + bias, mult, shift, p->output_zp, p->act_min, p->act_max,
                                              p->lut);
            }
        }
    }
}

void mnv3c_conv1x1_s8_riscv(const mnv3c_conv2d_params *p, const int8_t *MNV3C_RESTRICT x,
                            int8_t *MNV3C_RESTRICT y, void *scratch)
{
    const int32_t in_c = p->in_c, out_c = p->out_c;
    const int32_t pixels = p->in_h * p->in_w;
    int32_t px, o;
    (void)scratch;
    for (px = 0; px < pixels; px += 2) {
        const int8_t *xp = x + px * in_c;
        const int has_q = px + 1 < pixels;
        int8_t *yp = y + px * out_c;
        for (o = 0; o < out_c; o += 4) { /* an odd last pixel pairs with itself, its copy not stored */
            block(p, xp, has_q ? xp + in_c : xp, p->weights + o * in_c, o, yp, has_q ? yp + out_c : NULL);
        }
    }
}

size_t mnv3c_conv1x1_s8_riscv_scratch_bytes(const mnv3c_conv2d_params *p)
{
    (void)p;
    return 0;
}
