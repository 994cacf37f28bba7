/*
 * mul_s8.c - TFLite int8 Mul, elementwise or with a per-channel vector broadcast over pixels.
 *
 * Layout: a and y [rows][cols]; b [rows][cols] (b_broadcast == 0) or [cols] (b_broadcast != 0,
 * e.g. the squeeze-excite channel scale on an NHWC tensor: rows = H*W, cols = C). y may be a.
 * Arithmetic (docs/ARITHMETIC.md, "mul"):
 *   y = clamp8(MBQM((a - a_zp) * (b - b_zp), out_mult, out_shift) + output_zp, act_min, act_max).
 *
 * Speed: |(a - a_zp) * (b - b_zp)| <= 255 * 255 < 2^29, so whenever out_shift is in the range of
 * mnv3c_mbqm_small (always, for a squeeze-excite gate) the output stage is one high multiply with
 * the zero point folded into its rounding constant. Broadcast runs one channel at a time down the
 * pixels, so the channel's factor 4 * (b - b_zp) and the folded -a_zp * factor stay in registers:
 * per element one load, MUL, ADD, the high multiply, a few ALU instructions and the store (the
 * clamp only in channels whose extremes can leave [act_min, act_max]).
 * Other shifts take the general MBQM.
 */
#include "mnv3c_kernels.h"
#include "mnv3c_requant.h"

/* The layer's constants, copied into locals so the int8 stores cannot alias them. */
typedef struct {
    int32_t mult, r1, round, lo, hi;
} small_out;

static int32_t clamp32(int32_t v, int32_t lo, int32_t hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

/* One element of broadcast_small: the output stage of 4 (a - a_zp)(b - b_zp) = a * f + h. */
static inline int32_t small_value(const small_out *s, int32_t a, int32_t f, int32_t h)
{
    const int32_t w = (int32_t)mnv3c_asr64((int64_t)(a * f + h) * s->mult, 32) + 1;
    return mnv3c_asr(w - 2 * (int32_t)((uint32_t)w >> 31) + s->round, s->r1); /* as mnv3c_mbqm_small */
}

/*
 * Broadcast, small output stage: channel c down every row. The output is monotonic in a, so when
 * a = -128 and a = 127 land inside [lo, hi] every element does and the clamp is skipped.
 */
static void broadcast_small(const mnv3c_mul_params *p, const small_out *s, const int8_t *a, const int8_t *b,
                            int8_t *y)
{
    const int32_t cols = p->cols;
    const small_out k = *s;
    int32_t c;
    for (c = 0; c < cols; ++c) {
        const int32_t f = 4 * ((int32_t)b[c] - p->b_zp), h = -p->a_zp * f;
        const int32_t v0 = small_value(&k, -128, f, h), v1 = small_value(&k, 127, f, h);
        const int8_t *ac = a + c, *const end = ac + p->rows * cols;
        int8_t *yc = y + c;
        if (v0 >= k.lo && v0 <= k.hi && v1 >= k.lo && v1 <= k.hi) {
            for (; ac != end; ac += cols, yc += cols) {
                *yc = (int8_t)small_value(&k, *ac, f, h);
            }
        } else {
            for (; ac != end; ac += cols, yc += cols) {
                *yc = (int8_t)clamp32(small_value(&k, *ac, f, h), k.lo, k.hi);
            }
        }
    }
}

/* Elementwise, small output stage. */
static void elementwise_small(const mnv3c_mul_params *p, const small_out *s, const int8_t *a,
                              const int8_t *b, int8_t *y)
{
    const int32_t n = p->rows * p->cols, a_zp = p->a_zp, b_zp = p->b_zp;
    int32_t i;
    for (i = 0; i < n; ++i) {
        const int32_t prod = ((int32_t)a[i] - a_zp) * ((int32_t)b[i] - b_zp);
        y[i] = (int8_t)clamp32(mnv3c_mbqm_small(prod, s->mult, s->r1, s->round), s->lo, s->hi);
    }
}

void mnv3c_mul_s8(const mnv3c_mul_params *p, const int8_t *a, const int8_t *b, int8_t *y,
                  void *scratch)
{
    const int32_t cols = p->cols;
    const int32_t b_row_step = p->b_broadcast ? 0 : cols;
    const int32_t a_zp = p->a_zp, b_zp = p->b_zp, mult = p->out_mult, shift = p->out_shift;
    const int32_t zp = p->output_zp, lo = p->act_min, hi = p->act_max;
    int32_t r, c;
    (void)scratch;
    if (mnv3c_mbqm_small_ok(shift)) {
        const small_out s = {mult, 1 - shift, mnv3c_mbqm_small_round(-shift, zp), lo, hi};
        if (p->b_broadcast) {
            broadcast_small(p, &s, a, b, y);
        } else {
            elementwise_small(p, &s, a, b, y);
        }
        return;
    }
    for (r = 0; r < p->rows; ++r, a += cols, b += b_row_step, y += cols) {
        for (c = 0; c < cols; ++c) {
            const int32_t prod = ((int32_t)a[c] - a_zp) * ((int32_t)b[c] - b_zp);
            y[c] = (int8_t)clamp32(mnv3c_mbqm(prod, mult, shift) + zp, lo, hi);
        }
    }
}

size_t mnv3c_mul_s8_scratch_bytes(const mnv3c_mul_params *p)
{
    (void)p;
    return 0;
}
