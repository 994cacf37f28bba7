/*
 * cortexm_scb.h - the Cortex-M system registers mnv3c uses, and the two
 * reset steps every Cortex-M board shares (FPU enable, stack guard).
 *
 * No CMSIS: addresses are from the Armv7-M / Armv8-M Architecture Reference
 * Manuals (System Control Block, section B3.2; PMSAv7 MPU, section B3.5).
 */
#ifndef MNV3C_CORTEXM_SCB_H
#define MNV3C_CORTEXM_SCB_H

#include <stdint.h>

#define MNV3C_REG(addr) (*(volatile uint32_t *)(addr))

#define SCB_CPACR MNV3C_REG(0xE000ED88u) /* Coprocessor Access Control */
#define SCB_CFSR  MNV3C_REG(0xE000ED28u) /* Configurable Fault Status (MMFSR|BFSR|UFSR) */
#define SCB_HFSR  MNV3C_REG(0xE000ED2Cu) /* HardFault Status */
#define SCB_MMFAR MNV3C_REG(0xE000ED34u) /* MemManage Fault Address */
#define SCB_BFAR  MNV3C_REG(0xE000ED38u) /* BusFault Address */

#if defined(__ARM_ARCH_8M_MAIN__) || defined(__ARM_ARCH_8_1M_MAIN__)
#define MNV3C_V8M_MAIN 1
#define SAU_SFSR  MNV3C_REG(0xE000EDE4u) /* SecureFault Status (Armv8-M Security Ext.) */
#define SAU_SFAR  MNV3C_REG(0xE000EDE8u) /* SecureFault Address */
#else
/* Armv7-M PMSAv7 MPU, used only for the stack guard. */
#define MPU_CTRL  MNV3C_REG(0xE000ED94u) /* MPU Control */
#define MPU_RNR   MNV3C_REG(0xE000ED98u) /* Region Number */
#define MPU_RBAR  MNV3C_REG(0xE000ED9Cu) /* Region Base Address */
#define MPU_RASR  MNV3C_REG(0xE000EDA0u) /* Region Attribute and Size */
#define MPU_RASR_XN        (1u << 28)  /* execute never; AP bits 26:24 = 0: no access */
#define MPU_RASR_SIZE_4K   (11u << 1)  /* region size 2^(11+1) bytes */
#define MPU_RASR_ENABLE    1u
#define MPU_CTRL_PRIVDEFENA (1u << 2)  /* default memory map for everything else */
#define MPU_CTRL_ENABLE    1u
#endif
#define STACK_GUARD_BYTES 4096u

/* Defined by sections.ld. */
extern uint32_t __stack_top[], __stack_bottom[];

/* Complete outstanding memory accesses, then refetch: after system register writes. */
static inline __attribute__((always_inline)) void cortexm_barrier(void)
{
    __asm__ volatile("dsb\n\tisb" ::: "memory");
}

/* CP10/CP11 full access (CPACR bits 23:20): FPU and MVE instructions fault
 * until this is set, so it must happen before any compiled code that might
 * use them (mnv3c_c_start's copy loops may be vectorised). */
static inline __attribute__((always_inline)) void cortexm_enable_fpu(void)
{
#if defined(__ARM_FP) || defined(__ARM_FEATURE_MVE)
    SCB_CPACR |= 0xFu << 20;
    cortexm_barrier();
#endif
}

/* Make a stack overflow a reported fault instead of silent corruption. */
static inline __attribute__((always_inline)) void cortexm_stack_guard(void)
{
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
    cortexm_barrier();
#endif
}

#endif /* MNV3C_CORTEXM_SCB_H */
