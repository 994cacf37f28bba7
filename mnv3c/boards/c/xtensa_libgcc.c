/*
 * xtensa_libgcc.c - the integer helpers GCC calls on the lx106 that Debian's
 * lx106 libgcc does not ship (on the ESP8266 they live in the mask ROM):
 * 64-bit multiply, and 32- and 64-bit division and remainder.  The core has
 * a 32-bit MULL and NSAU (count leading zeros) but no MUL32_HIGH and no
 * divider, so the multiply is built from 16x16-bit partial products and the
 * divisions are shift-and-subtract loops that start at the quotient's top bit.
 *
 * Division by zero (undefined in C) gives all ones (signed: -1) as quotient
 * and the dividend as remainder, as RISC-V does; INT_MIN / -1 gives INT_MIN.
 * tests/test_xtensa.py checks every function against Python on edge values.
 */
#include <stdint.h>

uint64_t __muldi3(uint64_t a, uint64_t b);
int32_t __divsi3(int32_t a, int32_t b);
uint32_t __udivsi3(uint32_t a, uint32_t b);
uint32_t __umodsi3(uint32_t a, uint32_t b);
uint64_t __udivdi3(uint64_t a, uint64_t b);
uint64_t __umoddi3(uint64_t a, uint64_t b);
int64_t __divdi3(int64_t a, int64_t b);
int64_t __moddi3(int64_t a, int64_t b);

/* The full 64-bit product of two 32-bit words from four 16x16 products (no MUL32_HIGH). */
static uint64_t umul32_wide(uint32_t a, uint32_t b)
{
    const uint32_t a0 = a & 0xFFFFu, a1 = a >> 16, b0 = b & 0xFFFFu, b1 = b >> 16;
    const uint32_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
    const uint32_t mid = (p00 >> 16) + (p01 & 0xFFFFu) + (p10 & 0xFFFFu); /* < 3 * 2^16: no carry out */
    const uint32_t lo = (mid << 16) | (p00 & 0xFFFFu);
    const uint32_t hi = p11 + (p01 >> 16) + (p10 >> 16) + (mid >> 16);
    return ((uint64_t)hi << 32) | lo;
}

uint64_t __muldi3(uint64_t a, uint64_t b)
{
    const uint32_t al = (uint32_t)a, ah = (uint32_t)(a >> 32), bl = (uint32_t)b, bh = (uint32_t)(b >> 32);
    const uint32_t cross = al * bh + ah * bl; /* only its low word reaches the low 64 bits */
    return umul32_wide(al, bl) + ((uint64_t)cross << 32);
}

static uint32_t udivmod32(uint32_t n, uint32_t d, uint32_t *rem)
{
    if (d == 0u) {
        *rem = n;
        return UINT32_MAX;
    }
    if (d > n) {
        *rem = n;
        return 0u;
    }
    const int shift = __builtin_clz(d) - __builtin_clz(n); /* quotient has shift + 1 bits */
    uint32_t q = 0u;
    d <<= shift;
    for (int i = 0; i <= shift; i++) {
        q <<= 1;
        if (n >= d) {
            n -= d;
            q |= 1u;
        }
        d >>= 1;
    }
    *rem = n;
    return q;
}

static int clz64(uint64_t x) /* x != 0 */
{
    const uint32_t hi = (uint32_t)(x >> 32);
    return hi != 0u ? __builtin_clz(hi) : 32 + __builtin_clz((uint32_t)x);
}

static uint64_t udivmod64(uint64_t n, uint64_t d, uint64_t *rem)
{
    if ((n >> 32) == 0u && (d >> 32) == 0u) {
        uint32_t r;
        const uint32_t q = udivmod32((uint32_t)n, (uint32_t)d, &r);
        *rem = r;
        return d == 0u ? UINT64_MAX : q;
    }
    if (d == 0u) {
        *rem = n;
        return UINT64_MAX;
    }
    if (d > n) {
        *rem = n;
        return 0u;
    }
    const int shift = clz64(d) - clz64(n);
    uint64_t q = 0u;
    d <<= shift;
    for (int i = 0; i <= shift; i++) {
        q <<= 1;
        if (n >= d) {
            n -= d;
            q |= 1u;
        }
        d >>= 1;
    }
    *rem = n;
    return q;
}

uint32_t __udivsi3(uint32_t a, uint32_t b)
{
    uint32_t r;
    return udivmod32(a, b, &r);
}

uint32_t __umodsi3(uint32_t a, uint32_t b)
{
    uint32_t r;
    (void)udivmod32(a, b, &r);
    return r;
}

int32_t __divsi3(int32_t a, int32_t b)
{
    if (b == 0) return -1;
    const uint32_t ua = a < 0 ? 0u - (uint32_t)a : (uint32_t)a, ub = b < 0 ? 0u - (uint32_t)b : (uint32_t)b;
    const uint32_t q = __udivsi3(ua, ub);
    return (int32_t)((a < 0) != (b < 0) ? 0u - q : q); /* two's complement wrap: INT_MIN / -1 = INT_MIN */
}

uint64_t __udivdi3(uint64_t a, uint64_t b)
{
    uint64_t r;
    return udivmod64(a, b, &r);
}

uint64_t __umoddi3(uint64_t a, uint64_t b)
{
    uint64_t r;
    (void)udivmod64(a, b, &r);
    return r;
}

static uint64_t magnitude64(int64_t v) { return v < 0 ? 0u - (uint64_t)v : (uint64_t)v; }

int64_t __divdi3(int64_t a, int64_t b)
{
    if (b == 0) return -1;
    const uint64_t q = __udivdi3(magnitude64(a), magnitude64(b));
    return (int64_t)((a < 0) != (b < 0) ? 0u - q : q);
}

int64_t __moddi3(int64_t a, int64_t b)
{
    const uint64_t r = __umoddi3(magnitude64(a), magnitude64(b)); /* the remainder takes a's sign */
    return (int64_t)(a < 0 ? 0u - r : r);
}
