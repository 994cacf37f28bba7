/*
 * add_s8.c - TFLite int8 Add (the residual connection) of two tensors of the same shape.
 *
 * Layout: any (elementwise over p->size elements); y may be a or b (in place).
 * Arithmetic (docs/ARITHMETIC.md, "add"), left_shift = 20:
 *   a' = MBQM((a - a_zp) << 20, a_mult, a_shift),  b' = MBQM((b - b_zp) << 20, b_mult, b_shift)
 *   y  = clamp8(MBQM(a' + b', out_mult, out_shift) + output_zp, act_min, act_max), then lut.
 * (a - a_zp) << 20 is at most 255 * 2^20 < 2^28 and a', b' <= 2^27, so no step overflows.
 *
 * Speed: |(a - a_zp) << 20| < 2^28 and |a' + b'| < 2^29, so when the input shifts are in [-21, 0]
 * and the output shift in [-21, -1] (the quantizer's add parameters: the inputs' are 0 or below,
 * the output's near -18) all three MBQMs take mnv3c_mbqm_small's one-MULH form, the output zero
 * point folded into its rounding. Other shifts take the general MBQM.
 */
#include "mnv3c_kernels.h"
#include "mnv3c_requant.h"

#define MNV3C_ADD_LEFT_SHIFT 20

/* One input's rescale in mnv3c_mbqm_small0 form. */
typedef struct {
    int32_t zp, mult, r1, round, sign_mask;
} rescale;

static rescale rescale_of(int32_t zp, int32_t mult, int32_t shift)
{
    const rescale s = {zp, mult, 1 - shift, mnv3c_mbqm_small_round(-shift, 0), shift < 0 ? -1 : 0};
    return s;
}

static inline int32_t rescaled(const rescale *s, int32_t v)
{
    return mnv3c_mbqm_small0((v - s->zp) * ((int32_t)1 << MNV3C_ADD_LEFT_SHIFT), s->mult, s->r1, s->round,
                             s->sign_mask);
}

static void add_small(const mnv3c_add_params *p, const int8_t *a, const int8_t *b, int8_t *y)
{
    const rescale sa = rescale_of(p->a_zp, p->a_mult, p->a_shift);
    const rescale sb = rescale_of(p->b_zp, p->b_mult, p->b_shift);
    const int32_t mult = p->out_mult, r1 = 1 - p->out_shift;
    const int32_t round = mnv3c_mbqm_small_round(-p->out_shift, p->output_zp);
    const int32_t lo = p->act_min, hi = p->act_max, n = p->size;
    const int8_t *lut = p->lut;
    int32_t i;
    for (i = 0; i < n; ++i) {
        const int32_t v = mnv3c_mbqm_small(rescaled(&sa, a[i]) + rescaled(&sb, b[i]), mult, r1, round);
        y[i] = (int8_t)(v < lo ? lo : (v > hi ? hi : v));
    }
    if (lut != NULL) { /* the fused activation, as a second pass: no test per element above */
        for (i = 0; i < n; ++i) {
            y[i] = lut[(int32_t)y[i] + 128];
        }
    }
}

static int small_input_shift(int32_t shift)
{
    return shift <= 0 && shift >= -MNV3C_MBQM_SMALL_MAX_R;
}

void mnv3c_add_s8(const mnv3c_add_params *p, const int8_t *a, const int8_t *b, int8_t *y,
                  void *scratch)
{
    int32_t i;
    (void)scratch;
    if (small_input_shift(p->a_shift) && small_input_shift(p->b_shift) && mnv3c_mbqm_small_ok(p->out_shift)) {
        add_small(p, a, b, y);
        return;
    }
    for (i = 0; i < p->size; ++i) {
        const int32_t av = ((int32_t)a[i] - p->a_zp) * ((int32_t)1 << MNV3C_ADD_LEFT_SHIFT);
        const int32_t bv = ((int32_t)b[i] - p->b_zp) * ((int32_t)1 << MNV3C_ADD_LEFT_SHIFT);
        const int32_t sum =
            mnv3c_mbqm(av, p->a_mult, p->a_shift) + mnv3c_mbqm(bv, p->b_mult, p->b_shift);
        y[i] = mnv3c_requant_out(sum, p->out_mult, p->out_shift, p->output_zp, p->act_min,
                                 p->act_max, p->lut);
    }
}

size_t mnv3c_add_s8_scratch_bytes(const mnv3c_add_params *p)
{
    (void)p;
    return 0;
}
