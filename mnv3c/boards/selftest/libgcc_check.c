/*
 * libgcc_check.c - TEST SCAFFOLDING ONLY: runs the 64-bit multiply and the
 * 32/64-bit divisions, which GCC turns into libgcc calls on cores without
 * the instructions (on the lx106: c/xtensa_libgcc.c), on the operand pairs of
 * pairs.h (written by tests/test_xtensa.py) and prints every result as hex,
 * one line per pair:
 *   R <a*b> <a/b u64> <a%b u64> <a/b s64> <a%b s64> <a/b u32> <a%b u32> <a/b s32> <(s64)(s32)a*(s32)b>
 * The operands are read through a volatile pointer so nothing is folded at
 * compile time.
 */
#include <stdint.h>

#include "mnv3c_io.h"
#include "pairs.h" /* MNV3C_PAIRS, const uint64_t mnv3c_pairs[MNV3C_PAIRS][2] */

static void write_u64(uint64_t v)
{
    const uint8_t be[8] = {(uint8_t)(v >> 56), (uint8_t)(v >> 48), (uint8_t)(v >> 40), (uint8_t)(v >> 32),
                           (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    io_write(" ");
    io_write_hex(be, sizeof be);
}

int main(void)
{
    const volatile uint64_t(*pairs)[2] = mnv3c_pairs;
    for (uint32_t i = 0; i < MNV3C_PAIRS; i++) {
        const uint64_t a = pairs[i][0], b = pairs[i][1];
        const uint32_t a32 = (uint32_t)a, b32 = (uint32_t)b;
        io_write("R");
        write_u64(a * b);
        write_u64(a / b);
        write_u64(a % b);
        write_u64((uint64_t)((int64_t)a / (int64_t)b));
        write_u64((uint64_t)((int64_t)a % (int64_t)b));
        write_u64(a32 / b32);
        write_u64(a32 % b32);
        write_u64((uint32_t)((int32_t)a32 / (int32_t)b32));
        write_u64((uint64_t)((int64_t)(int32_t)a32 * (int32_t)b32));
        io_write("\n");
    }
    io_write("DONE\n");
    return 0;
}
