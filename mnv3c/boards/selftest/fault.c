/*
 * fault.c - TEST SCAFFOLDING ONLY: deliberately faults so the fault
 * handlers can be tested.  Build with -DMNV3C_FAULT_UNDEF=1 for an
 * undefined instruction, -DMNV3C_FAULT_STACK_OVERFLOW=1 for unbounded
 * recursion, or -DMNV3C_FAULT_READ_ADDR=0x... for a load from an unmapped
 * address, or -DMNV3C_FAULT_IN_HANDLER=1 for a fault that the fault handler itself cannot
 * take normally (Cortex-M: the stack pointer points at unmapped memory, so the exception entry
 * cannot stack a frame; RISC-V: mtvec, Xtensa: VECBASE points at unmapped memory, so every
 * trap traps again),
 * or -DMNV3C_FAULT_ZBB=1 (RISC-V) for a Zbb instruction (clz), which the strict ESP32-C3 core lacks.
 */
#include <stdint.h>

#include "mnv3c_io.h"

#if defined(MNV3C_FAULT_STACK_OVERFLOW)
static uint32_t __attribute__((noinline)) recurse(uint32_t depth)
{
    volatile uint8_t frame[256];
    frame[0] = (uint8_t)depth;
    return recurse(depth + 1u) + frame[0];
}
#endif

int main(void)
{
    io_write("about to fault\n");
#if defined(MNV3C_FAULT_UNDEF)
#if defined(__riscv)
    __asm__ volatile("unimp");
#elif defined(__XTENSA__)
    __asm__ volatile("ill");
#else
    __asm__ volatile("udf #0");
#endif
#elif defined(MNV3C_FAULT_STACK_OVERFLOW)
    io_write_u32(recurse(0));
#elif defined(MNV3C_FAULT_ZBB) && defined(__riscv)
    uint32_t bits = 1u;
    __asm__ volatile(".insn i OP_IMM, 1, %0, %0, 0x600" : "+r"(bits)); /* clz: 0x60001013 | rd | rs1 */
    io_write("clz(1) = ");
    io_write_u32(bits);
    io_write("\n");
#elif defined(MNV3C_FAULT_IN_HANDLER)
#if defined(__riscv)
    __asm__ volatile(".insn i SYSTEM, 1, x0, %0, 0x305\n\tunimp" : : "r"(0xF0000000u)); /* csrw mtvec */
#elif defined(__XTENSA__)
    __asm__ volatile("wsr %0, vecbase\n\trsync\n\till" : : "r"(0xF0000000u));
#else
    __asm__ volatile("msr msp, %0\n\tisb\n\tudf #0" : : "r"(0xF0000000u));
#endif
#else
    volatile uint32_t sink = *(volatile uint32_t *)MNV3C_FAULT_READ_ADDR;
    (void)sink;
#endif
    io_write("survived the fault\n");
    return 0;
}
