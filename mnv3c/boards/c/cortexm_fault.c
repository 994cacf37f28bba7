/*
 * cortexm_fault.c - vector table and fault report shared by every Cortex-M
 * board, emulated or real.  The board provides Reset_Handler and the
 * mnv3c_io.h output (semihosting under QEMU, a UART on real boards).
 */
#include <stdint.h>

#include "cortexm_scb.h"
#include "mnv3c_io.h"

void Reset_Handler(void) __attribute__((noreturn));
void Fault_Handler(void);

/* CFSR bits meaning the exception frame could not be pushed (stack overflow). */
#define CFSR_MSTKERR (1u << 4)  /* MemManage fault on stacking */
#define CFSR_STKERR  (1u << 12) /* BusFault on stacking */
#define CFSR_STKOF   (1u << 20) /* Armv8-M stack limit (MSPLIM) violation */

/* The fault report runs on its own stack, so it works after a stack overflow. */
uint8_t mnv3c_fault_stack[1024] __attribute__((aligned(8)));

/* Called from Fault_Handler with the exception stack frame
 * (r0, r1, r2, r3, r12, lr, pc, xpsr) and the EXC_RETURN value. */
void __attribute__((used, noreturn)) mnv3c_fault_report(const uint32_t *frame, uint32_t exc_return)
{
    uint32_t ipsr;
    __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
    const uint32_t cfsr = SCB_CFSR;
    io_write("\nFAULT exception=");
    io_write_u32(ipsr & 0x1FFu); /* 3 HardFault, 4 MemManage, 5 BusFault, 6 UsageFault, 7 SecureFault */
    io_write_reg(" CFSR", cfsr);
    io_write_reg(" HFSR", SCB_HFSR);
    io_write_reg(" MMFAR", SCB_MMFAR);
    io_write_reg(" BFAR", SCB_BFAR);
#ifdef MNV3C_V8M_MAIN
    io_write_reg(" SFSR", SAU_SFSR);
    io_write_reg(" SFAR", SAU_SFAR);
#endif
    io_write_reg(" SP", (uint32_t)frame);
    io_write_reg(" EXC_RETURN", exc_return);
    if (cfsr & (CFSR_MSTKERR | CFSR_STKERR | CFSR_STKOF)) {
        io_write(" stack-overflow (no exception frame: PC/LR unknown)");
    } else {
        io_write_reg(" PC", frame[6]);
        io_write_reg(" LR", frame[5]);
    }
    io_write("\n");
    io_exit(MNV3C_EXIT_FAULT);
}

/* Every exception except reset lands here: pick the stack the frame was
 * pushed to (EXC_RETURN bit 2: 0 = MSP, 1 = PSP), move to the fault stack
 * (lifting the Armv8-M stack limit first) and report. */
void __attribute__((naked)) Fault_Handler(void)
{
    __asm__ volatile(
        "tst   lr, #4\n\t"
        "ite   eq\n\t"
        "mrseq r0, msp\n\t"
        "mrsne r0, psp\n\t"
        "mov   r1, lr\n\t"
#ifdef MNV3C_V8M_MAIN
        "movs  r2, #0\n\t"
        "msr   msplim, r2\n\t"
#endif
        "movw  r2, #:lower16:mnv3c_fault_stack + 1024\n\t"
        "movt  r2, #:upper16:mnv3c_fault_stack + 1024\n\t"
        "mov   sp, r2\n\t"
        "b     mnv3c_fault_report\n\t");
}

/* Armv7-M / Armv8-M system exception vectors.  No peripheral interrupts
 * are enabled, so no IRQ entries are needed. */
__attribute__((used, section(".vectors"))) void (*const mnv3c_vectors[16])(void) = {
    (void (*)(void))__stack_top, /* 0  initial MSP */
    Reset_Handler,               /* 1  Reset */
    Fault_Handler,               /* 2  NMI */
    Fault_Handler,               /* 3  HardFault */
    Fault_Handler,               /* 4  MemManage */
    Fault_Handler,               /* 5  BusFault */
    Fault_Handler,               /* 6  UsageFault */
    Fault_Handler,               /* 7  SecureFault (Armv8-M), reserved on v7-M */
    0, 0, 0,                     /* 8-10 reserved */
    Fault_Handler,               /* 11 SVCall */
    Fault_Handler,               /* 12 DebugMonitor */
    0,                           /* 13 reserved */
    Fault_Handler,               /* 14 PendSV */
    Fault_Handler,               /* 15 SysTick */
};
