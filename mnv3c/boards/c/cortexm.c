/*
 * cortexm.c - reset, vector table, fault reporting and semihosting I/O for
 * the QEMU Cortex-M boards (mps2-an386/an500/an505, mps3-an547).
 *
 * No CMSIS: the few System Control Block registers are defined here.
 * Output and exit go through Arm semihosting (BKPT 0xAB), so QEMU must run
 * with -semihosting-config enable=on (mnv3c/boards/qemu.py always passes it;
 * without it BKPT locks the core up).
 */
#include <stdint.h>

#include "mnv3c_io.h"

/* System Control Block (Armv7-M / Armv8-M ARM, section B3.2). */
#define SCB_CPACR (*(volatile uint32_t *)0xE000ED88u) /* Coprocessor Access Control */
#define SCB_CFSR  (*(volatile uint32_t *)0xE000ED28u) /* Configurable Fault Status (MMFSR|BFSR|UFSR) */
#define SCB_HFSR  (*(volatile uint32_t *)0xE000ED2Cu) /* HardFault Status */
#define SCB_MMFAR (*(volatile uint32_t *)0xE000ED34u) /* MemManage Fault Address */
#define SCB_BFAR  (*(volatile uint32_t *)0xE000ED38u) /* BusFault Address */
#if defined(__ARM_ARCH_8M_MAIN__) || defined(__ARM_ARCH_8_1M_MAIN__)
#define MNV3C_V8M_MAIN 1
#define SAU_SFSR  (*(volatile uint32_t *)0xE000EDE4u) /* SecureFault Status (Armv8-M Security Ext.) */
#define SAU_SFAR  (*(volatile uint32_t *)0xE000EDE8u) /* SecureFault Address */
#else
/* Armv7-M PMSAv7 MPU, used only for the stack guard. */
#define MPU_CTRL  (*(volatile uint32_t *)0xE000ED94u) /* MPU Control */
#define MPU_RNR   (*(volatile uint32_t *)0xE000ED98u) /* Region Number */
#define MPU_RBAR  (*(volatile uint32_t *)0xE000ED9Cu) /* Region Base Address */
#define MPU_RASR  (*(volatile uint32_t *)0xE000EDA0u) /* Region Attribute and Size */
#define MPU_RASR_XN        (1u << 28)  /* execute never; AP bits 26:24 = 0: no access */
#define MPU_RASR_SIZE_4K   (11u << 1)  /* region size 2^(11+1) bytes */
#define MPU_RASR_ENABLE    1u
#define MPU_CTRL_PRIVDEFENA (1u << 2)  /* default memory map for everything else */
#define MPU_CTRL_ENABLE    1u
#endif
#define STACK_GUARD_BYTES 4096u

/* Semihosting operations (Arm "Semihosting for AArch32 and AArch64"). */
#define SYS_WRITE0          0x04u
#define SYS_EXIT_EXTENDED   0x20u
#define ADP_STOPPED_APP_EXIT 0x20026u

/* Defined by sections.ld. */
extern uint32_t __stack_top[], __stack_bottom[];

void mnv3c_c_start(void) __attribute__((noreturn));
void Reset_Handler(void) __attribute__((noreturn));
void Fault_Handler(void);

static int semihost(uint32_t op, const void *arg)
{
    register uint32_t r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return (int)r0;
}

void io_write(const char *s) { (void)semihost(SYS_WRITE0, s); }

void io_exit(int code)
{
    const uint32_t block[2] = {ADP_STOPPED_APP_EXIT, (uint32_t)code};
    (void)semihost(SYS_EXIT_EXTENDED, block);
    for (;;) {
    }
}

void Reset_Handler(void)
{
#if defined(__ARM_FP) || defined(__ARM_FEATURE_MVE)
    /* CP10/CP11 full access (bits 23:20): FPU and MVE instructions fault
     * until this is set, so it must happen before any compiled code that
     * might use them (mnv3c_c_start's copy loops may be vectorised). */
    SCB_CPACR |= 0xFu << 20;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif
#ifdef MNV3C_V8M_MAIN
    /* Main stack limit: a stack overflow raises a UsageFault (CFSR.STKOF)
     * at the exact instruction that overflowed (see sections.ld). */
    __asm__ volatile("msr msplim, %0" ::"r"(__stack_bottom));
#else
    /* No stack limit register: make the 4 KiB under the stack no-access
     * (MPU region 0), so an overflow faults (MemManage -> HardFault). */
    MPU_RNR = 0u;
    MPU_RBAR = (uint32_t)__stack_bottom - STACK_GUARD_BYTES;
    MPU_RASR = MPU_RASR_XN | MPU_RASR_SIZE_4K | MPU_RASR_ENABLE;
    MPU_CTRL = MPU_CTRL_PRIVDEFENA | MPU_CTRL_ENABLE;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif
    mnv3c_c_start();
}

static void write_reg(const char *name, uint32_t v)
{
    uint8_t be[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    io_write(name);
    io_write("=0x");
    io_write_hex(be, sizeof be);
}

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
    write_reg(" CFSR", cfsr);
    write_reg(" HFSR", SCB_HFSR);
    write_reg(" MMFAR", SCB_MMFAR);
    write_reg(" BFAR", SCB_BFAR);
#ifdef MNV3C_V8M_MAIN
    write_reg(" SFSR", SAU_SFSR);
    write_reg(" SFAR", SAU_SFAR);
#endif
    write_reg(" SP", (uint32_t)frame);
    write_reg(" EXC_RETURN", exc_return);
    if (cfsr & (CFSR_MSTKERR | CFSR_STKERR | CFSR_STKOF)) {
        io_write(" stack-overflow (no exception frame: PC/LR unknown)");
    } else {
        write_reg(" PC", frame[6]);
        write_reg(" LR", frame[5]);
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
