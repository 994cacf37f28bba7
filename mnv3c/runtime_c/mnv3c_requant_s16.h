/*
 * mnv3c_requant_s16.h - the fixed-point helpers of the 16x8 kernels, bit-exact with
 * mnv3c/quant/intops16.py (docs/ARITHMETIC.md "int16 (16x8)"). The int32 helpers (mnv3c_mbqm for
 * add, pools, the squeeze-excite product and the converters) come from mnv3c_requant.h.
 */
#ifndef MNV3C_REQUANT_S16_H
#define MNV3C_REQUANT_S16_H

#include "mnv3c_requant.h"

/*
 * TFLite's int64 MultiplyByQuantizedMultiplier: the Q31 multiplier reduced to 16 bits
 * ((m + 2^15) >> 16, capped at 0x7FFF), then one rounding shift: (x * m16 + 2^(14 - s)) >> (15 - s).
 * Ties round towards +infinity. |x| < 2^47 and shift in [-31, 7] (the quantizer guarantees both),
 * so x * m16 < 2^62 and the result fits int32.
 */
static inline int32_t mnv3c_mbqm64(int64_t x, int32_t multiplier, int32_t shift)
{
    const int64_t reduced = multiplier < 0x7FFF0000 ? (int64_t)((multiplier + (1 << 15)) >> 16) : 0x7FFF;
    const int32_t total = 15 - shift;
    return (int32_t)mnv3c_asr64(x * reduced + ((int64_t)1 << (total - 1)), total);
}

static inline int16_t mnv3c_clamp16(int32_t v, int32_t lo, int32_t hi)
{
    return (int16_t)(v < lo ? lo : (v > hi ? hi : v));
}

/*
 * TFLite's int16 LUTLookup on a 513-entry table: entry (v >> 7) + 256, interpolated towards the
 * next one by the low 7 bits of v, rounded: base + ((next - base) * frac + 64) >> 7.
 */
static inline int16_t mnv3c_lut16(int32_t v, const int16_t *lut)
{
    const int32_t index = mnv3c_asr(v, 7) + 256;
    const int32_t base = lut[index];
    const int32_t delta = mnv3c_asr((lut[index + 1] - base) * (v & 0x7F) + 64, 7);
    return (int16_t)(base + delta);
}

/*
 * The fused hard-swish, x * relu6(x + 3) / 6, computed (intops16.hard_swish16) on pre-activation code
 * t: hs = {frac_bits F, offset, width, mult, shift}; the ramp x + 3 in 2^-F codes,
 * g = clamp(t * 2^F + offset, 0, width), then y = clamp16(MBQM64(t * g, mult, shift)). The quantizer
 * keeps offset + 32767 * 2^F < 2^31, so |t * g| < 2^46 and the result fits int32.
 */
static inline int16_t mnv3c_hswish16(int32_t t, const int32_t *hs)
{
    const int64_t u = (int64_t)t * ((int64_t)1 << hs[0]) + hs[1];
    const int64_t g = u < 0 ? 0 : (u > hs[2] ? (int64_t)hs[2] : u);
    return mnv3c_clamp16(mnv3c_mbqm64((int64_t)t * g, hs[3], hs[4]), INT16_MIN, INT16_MAX);
}

/* The fused activation of an int16 output stage: the table, the computed hard-swish, or none. */
static inline int16_t mnv3c_act16(int16_t t, const int16_t *lut, const int32_t *hswish)
{
    if (lut != NULL) {
        return mnv3c_lut16(t, lut);
    }
    return hswish != NULL ? mnv3c_hswish16(t, hswish) : t;
}

/* The output stage of conv/depthwise/dense: clamp16(MBQM64(acc), lo, hi), then the fused activation. */
static inline int16_t mnv3c_requant_out16(int64_t acc, int32_t multiplier, int32_t shift, int32_t lo,
                                          int32_t hi, const int16_t *lut, const int32_t *hswish)
{
    return mnv3c_act16(mnv3c_clamp16(mnv3c_mbqm64(acc, multiplier, shift), lo, hi), lut, hswish);
}

/*
 * sum_i x[i] * w[i] of int16 activations and int8 weights, exactly. |x * w| <= 2^22, so runs of
 * MNV3C_S16_RUN products are summed in int32 (one 32-bit MAC each) before joining the int64 sum:
 * the same integer as accumulating every product in int64, at about half the cost on 32-bit cores.
 */
#define MNV3C_S16_RUN 511 /* 511 * 2^22 < 2^31 */

static inline int64_t mnv3c_dot_s16(const int16_t *x, const int8_t *w, int32_t n)
{
    int64_t acc = 0;
    while (n > 0) {
        const int32_t run = n < MNV3C_S16_RUN ? n : MNV3C_S16_RUN;
        const int16_t *end = x + run;
        int32_t part = 0;
        while (x < end) {
            part += (int32_t)*x++ * (int32_t)*w++;
        }
        acc += part;
        n -= run;
    }
    return acc;
}

#endif /* MNV3C_REQUANT_S16_H */
