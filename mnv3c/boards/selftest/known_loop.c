/*
 * known_loop.c - TEST SCAFFOLDING ONLY.
 * Runs a loop of exactly two instructions (decrement, branch-if-not-zero)
 * MNV3C_LOOP_ITERATIONS times between the markers, so the measured count
 * must be 2 * iterations + a small constant marker overhead.
 * On RISC-V it also reads minstret (exact under -icount shift=0) around
 * the loop and prints MINSTRET <delta> as an independent check.
 */
#include <stdint.h>

#include "mnv3c_io.h"

static inline __attribute__((always_inline)) void spin(uint32_t n)
{
#if defined(__riscv) || defined(__XTENSA__)
    __asm__ volatile("1: addi %0, %0, -1\n\tbnez %0, 1b" : "+r"(n));
#else
    __asm__ volatile("1: subs %0, %0, #1\n\tbne 1b" : "+r"(n) : : "cc");
#endif
}

#if defined(__riscv)
static inline __attribute__((always_inline)) uint32_t minstret(void)
{
    uint32_t v;
    __asm__ volatile(".option push\n\t.option arch, +zicsr\n\tcsrr %0, minstret\n\t.option pop" : "=r"(v));
    return v;
}
#endif

int main(void)
{
#if defined(__riscv)
    uint32_t before = minstret();
    spin(MNV3C_LOOP_ITERATIONS);
    uint32_t after = minstret();
    io_write("MINSTRET ");
    io_write_u32(after - before);
    io_write("\n");
#endif
    mnv3c_marker_begin();
    spin(MNV3C_LOOP_ITERATIONS);
    mnv3c_marker_end();
    io_write("DONE\n");
    return 0;
}
