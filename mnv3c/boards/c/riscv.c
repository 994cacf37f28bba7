/*
 * riscv.c - I/O, exit and trap reporting for the QEMU riscv32 `virt` board.
 * Output: the NS16550A UART; exit: the SiFive test device, which makes QEMU
 * exit with the given status.
 */
#include <stdint.h>

#include "mnv3c_io.h"

#define UART0_BASE 0x10000000u                               /* NS16550A UART on virt */
#define UART0_THR  (*(volatile uint8_t *)(UART0_BASE + 0u))  /* transmit holding register */
#define UART0_LSR  (*(volatile uint8_t *)(UART0_BASE + 5u))  /* line status register */
#define UART_LSR_THRE 0x20u                                  /* THR empty */
#define SIFIVE_TEST (*(volatile uint32_t *)0x00100000u)      /* SiFive test/finisher device */
#define SIFIVE_TEST_PASS 0x5555u                             /* exit(0) */
#define SIFIVE_TEST_FAIL 0x3333u                             /* exit(value >> 16) */

void mnv3c_trap_report(void) __attribute__((noreturn));
extern uint8_t __stack_bottom[]; /* sections.ld */

/* The trap report runs on its own stack (riscv_start.S), so it works after a stack overflow. */
uint8_t mnv3c_fault_stack[1024] __attribute__((aligned(16)));

void io_write(const char *s)
{
    for (; *s; s++) {
        while ((UART0_LSR & UART_LSR_THRE) == 0u) {
        }
        UART0_THR = (uint8_t)*s;
    }
}

/* The RISC-V semihosting trap: an ebreak between two marker instructions, uncompressed (QEMU
 * with -semihosting-config enable=on; without it the ebreak is a reported trap). QEMU takes the
 * three as a semihosting call only when they lie in one 4 KiB page (else: mcause 3, a plain
 * breakpoint), so they start on a 16-byte boundary wherever the linker puts this function. */
int32_t mnv3c_semihost(uint32_t op, const void *arg)
{
    register uint32_t a0 __asm__("a0") = op;
    register const void *a1 __asm__("a1") = arg;
    __asm__ volatile(".option push\n\t.option norvc\n\t.balign 16\n\t"
                     "slli zero, zero, 0x1f\n\tebreak\n\tsrai zero, zero, 7\n\t"
                     ".option pop"
                     : "+r"(a0) : "r"(a1) : "memory");
    return (int32_t)a0;
}

void io_exit(int code)
{
    SIFIVE_TEST = code == 0 ? SIFIVE_TEST_PASS : (((uint32_t)code << 16) | SIFIVE_TEST_FAIL);
    for (;;) {
    }
}

#define READ_CSR(name)                                                                   \
    ({                                                                                   \
        uint32_t v_;                                                                     \
        __asm__ volatile(".option push\n\t.option arch, +zicsr\n\tcsrr %0, " #name       \
                         "\n\t.option pop"                                               \
                         : "=r"(v_));                                                    \
        v_;                                                                              \
    })

/* Entered from mnv3c_trap_entry (riscv_start.S).  Any trap is fatal: no
 * interrupts are enabled and the program makes no ecalls. */
void mnv3c_trap_report(void)
{
    const uint32_t mtval = READ_CSR(mtval);
    io_write("\nFAULT trap");
    io_write_reg(" mcause", READ_CSR(mcause)); /* 2 illegal insn, 5 load fault, 7 store fault, ... */
    io_write_reg(" mepc", READ_CSR(mepc));     /* faulting instruction */
    io_write_reg(" mtval", mtval);             /* bad address or instruction bits */
    if (mtval < (uint32_t)__stack_bottom && mtval >= (uint32_t)__stack_bottom - 4096u) {
        io_write(" stack-overflow");     /* hit the PMP guard under the stack */
    }
    io_write("\n");
    io_exit(MNV3C_EXIT_FAULT);
}
