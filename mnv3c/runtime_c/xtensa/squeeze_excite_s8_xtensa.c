/*
 * squeeze_excite_s8_xtensa.c - ../squeeze_excite_s8.c (same bytes) for the Xtensa LX106: its two
 * dense layers run by dense_s8_xtensa.c on "dense_xt" weights (fc1 and fc2 are both laid out so),
 * the pool is the portable stage, and the channel scale is done here without int64.
 *
 * The scale (../mul_s8.c, broadcast, small output stage, which a squeeze-excite gate always meets:
 * |(x - x_zp)(g - g_zp)| < 2^29) of channel c is a function of the int8 x alone: down the pixels,
 * 4 (x - x_zp)(g - g_zp) = x f + h with f = 4 (g - g_zp) and h = -x_zp f, and MBQM(...) + zp with
 * mnv3c_xt_mulhi as its MULH (mnv3c_xt_gemm.h). With at least MNV3C_XT_SE_TABLE_ROWS pixels the
 * 256 possible bytes of the channel are computed once into a table (x of the 56 x 56 first
 * squeeze-excite of MobileNetV3-Small at 224 then costs a table load each); with fewer, each
 * element directly. Other output shifts take the portable scale.
 * The _short entry point, chosen where plan/kernels.py proves the one-MULH output stage exact for
 * both dense layers, runs the _short dense kernels.
 */
#include "mnv3c_kernels.h"
#include "mnv3c_xtensa.h"
#include "mnv3c_xt_gemm.h"

#define MNV3C_XT_SE_TABLE_ROWS 256

/* One element: MBQM_small(x f + h) + zp (round carries zp), clamped. */
MNV3C_XT_INLINE int8_t scaled(int32_t x, int32_t f, int32_t h, const mnv3c_xt_chan *k, int32_t lo, int32_t hi)
{
    const int32_t u = mnv3c_xt_mulhi(x * f + h, k->mh, k->ml);
    const int32_t v = mnv3c_asr(u + k->round - 2 * (int32_t)(u < -1), k->r1);
    return (int8_t)(v < lo ? lo : (v > hi ? hi : v));
}

MNV3C_XT_HOT void scale(const mnv3c_squeeze_excite_params *p, const int8_t *x, const int8_t *gate, int8_t *y)
{
    const int32_t cols = p->channels, rows = p->in_h * p->in_w, lo = p->act_min, hi = p->act_max;
    const int8_t sh = (int8_t)p->mul_shift;
    const mnv3c_xt_out s = mnv3c_xt_out_init(NULL, &p->mul_mult, &sh, p->output_zp, lo, hi, NULL, 1);
    const mnv3c_xt_chan k = mnv3c_xt_chan_of(&s, 0, 1);
    int8_t table[256];
    int32_t c;
    for (c = 0; c < cols; ++c) {
        const int32_t f = 4 * ((int32_t)gate[c] - p->gate_zp), h = -p->input_zp * f;
        const int8_t *xc = x + c, *const end = xc + rows * cols;
        int8_t *yc = y + c;
        if (rows >= MNV3C_XT_SE_TABLE_ROWS) {
            int32_t v;
            for (v = -128; v < 128; ++v) {
                table[v + 128] = scaled(v, f, h, &k, lo, hi);
            }
            for (; xc != end; xc += cols, yc += cols) {
                *yc = table[(uint8_t)(*xc ^ 0x80)]; /* index x + 128 */
            }
        } else {
            for (; xc != end; xc += cols, yc += cols) {
                *yc = scaled(*xc, f, h, &k, lo, hi);
            }
        }
    }
}

/* The channel scale, y = mul(x, gate in scratch). */
static void scale_stage(const mnv3c_squeeze_excite_params *p, const int8_t *x, int8_t *y, void *scratch)
{
    if (mnv3c_mbqm_small_ok(p->mul_shift)) {
        scale(p, x, (const int8_t *)scratch, y);
    } else {
        mnv3c_squeeze_excite_s8_scale(p, x, y, scratch);
    }
}

void mnv3c_squeeze_excite_s8_xtensa(const mnv3c_squeeze_excite_params *p, const int8_t *x, int8_t *y,
                                    void *scratch)
{
    int8_t *pooled_then_gate = (int8_t *)scratch, *r = pooled_then_gate + p->channels;
    mnv3c_squeeze_excite_s8_pool(p, x, scratch);
    mnv3c_dense_s8_xtensa(&p->fc1, pooled_then_gate, r, NULL);
    mnv3c_dense_s8_xtensa(&p->fc2, r, pooled_then_gate, NULL);
    scale_stage(p, x, y, scratch);
}

void mnv3c_squeeze_excite_s8_xtensa_short(const mnv3c_squeeze_excite_params *p, const int8_t *x, int8_t *y,
                                          void *scratch)
{
    int8_t *pooled_then_gate = (int8_t *)scratch, *r = pooled_then_gate + p->channels;
    mnv3c_squeeze_excite_s8_pool(p, x, scratch);
    mnv3c_dense_s8_xtensa_short(&p->fc1, pooled_then_gate, r, NULL);
    mnv3c_dense_s8_xtensa_short(&p->fc2, r, pooled_then_gate, NULL);
    scale_stage(p, x, y, scratch);
}

size_t mnv3c_squeeze_excite_s8_xtensa_scratch_bytes(const mnv3c_squeeze_excite_params *p)
{
    return mnv3c_squeeze_excite_s8_scratch_bytes(p);
}

size_t mnv3c_squeeze_excite_s8_xtensa_short_scratch_bytes(const mnv3c_squeeze_excite_params *p)
{
    return mnv3c_squeeze_excite_s8_scratch_bytes(p);
}
