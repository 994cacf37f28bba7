/*
 * cortexm.c - reset and semihosting I/O for the QEMU Cortex-M boards
 * (mps2-an386/an500/an505, mps3-an547).  The vector table and the fault
 * report are shared with the real boards (cortexm_fault.c).
 *
 * Output and exit go through Arm semihosting (BKPT 0xAB), so QEMU must run
 * with -semihosting-config enable=on (mnv3c/boards/qemu.py always passes it;
 * without it BKPT locks the core up).  Never link this file into an image
 * for real hardware: without a debugger attached BKPT locks the core up.
 */
#include <stdint.h>

#include "cortexm_scb.h"
#include "mnv3c_io.h"

/* Semihosting operations (Arm "Semihosting for AArch32 and AArch64"). */
#define SYS_WRITE0          0x04u
#define SYS_EXIT_EXTENDED   0x20u
#define ADP_STOPPED_APP_EXIT 0x20026u

void mnv3c_c_start(void) __attribute__((noreturn));
void Reset_Handler(void) __attribute__((noreturn));

int32_t mnv3c_semihost(uint32_t op, const void *arg)
{
    register uint32_t r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return (int32_t)r0;
}

void io_write(const char *s) { (void)mnv3c_semihost(SYS_WRITE0, s); }

void io_exit(int code)
{
    const uint32_t block[2] = {ADP_STOPPED_APP_EXIT, (uint32_t)code};
    (void)mnv3c_semihost(SYS_EXIT_EXTENDED, block);
    for (;;) {
    }
}

void Reset_Handler(void)
{
    cortexm_enable_fpu();
    cortexm_stack_guard();
    mnv3c_c_start();
}
