/*
 * fault.c - TEST SCAFFOLDING ONLY: deliberately faults so the fault
 * handlers can be tested.  Build with -DMNV3C_FAULT_UNDEF=1 for an
 * undefined instruction, -DMNV3C_FAULT_STACK_OVERFLOW=1 for unbounded
 * recursion, or -DMNV3C_FAULT_READ_ADDR=0x... for a load from an unmapped
 * address.
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
#else
    __asm__ volatile("udf #0");
#endif
#elif defined(MNV3C_FAULT_STACK_OVERFLOW)
    io_write_u32(recurse(0));
#else
    volatile uint32_t sink = *(volatile uint32_t *)MNV3C_FAULT_READ_ADDR;
    (void)sink;
#endif
    io_write("survived the fault\n");
    return 0;
}
