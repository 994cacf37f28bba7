/*
 * xtensa.c - I/O, exit and exception report for the QEMU Xtensa `sim`
 * machine: the lx106 core (call0 ABI, xtensa_start.S) and the de233_fpu core
 * (windowed ABI, xtensa_win_start.S).  Output and exit go through the simulator's
 * semihosting call, SIMCALL (QEMU target/xtensa/xtensa-semi.c: a2 = call
 * number, a3.. = arguments, result in a2, errno in a3); QEMU must run with
 * -semihosting, otherwise SIMCALL is an illegal instruction.
 */
#include <stdint.h>

#include "mnv3c_io.h"

#define SYS_EXIT  1u /* a3 = status: QEMU exits with it */
#define SYS_READ  3u /* a3 = fd, a4 = buffer, a5 = length; returns bytes read */
#define SYS_WRITE 4u /* a3 = fd, a4 = buffer, a5 = length; returns bytes written */
#define SYS_OPEN  5u /* a3 = path, a4 = flags, a5 = mode; returns fd or -1 */
#define O_RDONLY_ 0u
#define STDOUT_FD 1u

/* EXCCAUSE values (Xtensa ISA reference, table 4-64) the report names. */
#define EXCCAUSE_ILLEGAL          0u
#define EXCCAUSE_INSTR_FETCH      2u
#define EXCCAUSE_LOAD_STORE_ERROR 3u
#define EXCCAUSE_DIVIDE_BY_ZERO   6u
#define EXCCAUSE_ALIGNMENT        9u
#define EXCCAUSE_INSTR_ADDR       14u /* instruction fetch from an address nothing answers */
#define EXCCAUSE_DATA_ADDR        15u /* load or store to an address nothing answers (QEMU: unmapped) */
#define EXCCAUSE_LOAD_PROHIBITED  28u
#define EXCCAUSE_STORE_PROHIBITED 29u

void mnv3c_fault_report(uint32_t vector) __attribute__((noreturn));
extern uint8_t __stack_bottom[]; /* sections.ld */

/* The exception report runs on its own stack (xtensa_start.S), so it works after a stack overflow. */
uint8_t mnv3c_fault_stack[1024] __attribute__((aligned(16)));
/* Set by xtensa_win_start.S when a report starts, so a fault inside the report exits instead of looping. */
volatile uint32_t mnv3c_fault_reporting;

static uint32_t simcall(uint32_t call, uint32_t a, uint32_t b, uint32_t c)
{
    register uint32_t a2 __asm__("a2") = call;
    register uint32_t a3 __asm__("a3") = a;
    register uint32_t a4 __asm__("a4") = b;
    register uint32_t a5 __asm__("a5") = c;
    __asm__ volatile("simcall" : "+r"(a2), "+r"(a3) : "r"(a4), "r"(a5) : "memory");
    return a2;
}

void io_write(const char *s)
{
    uint32_t n = 0;
    while (s[n] != '\0') n++;
    while (n > 0) {
        const uint32_t done = simcall(SYS_WRITE, STDOUT_FD, (uint32_t)s, n);
        if (done == 0u || done > n) return; /* the host closed stdout: nothing more to do */
        s += done;
        n -= done;
    }
}

/* The input stream: input.bin in QEMU's working directory (mnv3c.boards.qemu.INPUT_FILE), like
 * semihost_input.c on the Arm and RISC-V boards, so `mnv3c run` streams any number of samples. */
int io_read_input(void *buf, uint32_t n)
{
    static int32_t fd = -2; /* -2: not opened yet, -1: no input file */
    if (fd == -2) {
        fd = (int32_t)simcall(SYS_OPEN, (uint32_t)"input.bin", O_RDONLY_, 0u);
    }
    uint8_t *p = buf;
    while (fd >= 0 && n > 0u) {
        const uint32_t got = simcall(SYS_READ, (uint32_t)fd, (uint32_t)p, n);
        if (got == 0u || got > n) return 0; /* end of file or an error */
        p += got;
        n -= got;
    }
    return fd >= 0;
}

void io_exit(int code)
{
    (void)simcall(SYS_EXIT, (uint32_t)code, 0u, 0u);
    for (;;) {
    }
}

#define READ_SR(name)                                        \
    ({                                                       \
        uint32_t v_;                                         \
        __asm__ volatile("rsr %0, " #name : "=r"(v_));       \
        v_;                                                  \
    })

static const char *cause_name(uint32_t cause)
{
    switch (cause) {
    case EXCCAUSE_ILLEGAL: return " illegal-instruction";
    case EXCCAUSE_INSTR_FETCH: return " instruction-fetch-error";
    case EXCCAUSE_LOAD_STORE_ERROR: return " load-store-error";
    case EXCCAUSE_DIVIDE_BY_ZERO: return " integer-divide-by-zero";
    case EXCCAUSE_ALIGNMENT: return " unaligned-load-store";
    case EXCCAUSE_INSTR_ADDR: return " instruction-fetch-from-unmapped-address";
    case EXCCAUSE_DATA_ADDR: return " load-store-to-unmapped-address";
    case EXCCAUSE_LOAD_PROHIBITED: return " load-prohibited";
    case EXCCAUSE_STORE_PROHIBITED: return " store-prohibited";
    default: return "";
    }
}

/* Entered from mnv3c_exception_entry with the vector that was taken: 0 a
 * general exception (PC = EPC1), 1 a double exception (PC = DEPC), 2 the
 * debug exception, 3 the NMI; on the windowed de233_fpu core also 4..7, the
 * level-2..5 interrupts (EPC2..EPC5).  Debug and NMI are level 2 and 3 on the
 * lx106 (EPC2, EPC3), level 6 and 7 on de233_fpu (EPC6, EPC7).  No interrupt
 * is enabled, so every one of them is fatal. */
void mnv3c_fault_report(uint32_t vector)
{
    static const char *const kinds[] = {"exception", "double-exception", "debug", "nmi", "interrupt"};
    const uint32_t cause = READ_SR(exccause);
    const uint32_t vaddr = READ_SR(excvaddr);
    uint32_t pc;
    switch (vector) {
    case 0u: pc = READ_SR(epc1); break;
    case 1u: pc = READ_SR(depc); break;
#if defined(__XTENSA_WINDOWED_ABI__)
    case 2u: pc = READ_SR(epc6); break;
    case 3u: pc = READ_SR(epc7); break;
    case 4u: pc = READ_SR(epc2); break;
    case 5u: pc = READ_SR(epc3); break;
    case 6u: pc = READ_SR(epc4); break;
    default: pc = READ_SR(epc5); break;
#else
    case 2u: pc = READ_SR(epc2); break;
    default: pc = READ_SR(epc3); break;
#endif
    }
    io_write("\nFAULT ");
    io_write(kinds[vector < 4u ? vector : 4u]);
    io_write_reg(" EXCCAUSE", cause);
    io_write_reg(" PC", pc);
    io_write_reg(" EXCVADDR", vaddr);
    io_write(cause_name(cause));
    if (vaddr < (uint32_t)__stack_bottom && vaddr >= (uint32_t)__stack_bottom - 4096u) {
        io_write(" stack-overflow"); /* ran off the bottom of the stack into unmapped memory */
    }
    io_write("\n");
    io_exit(MNV3C_EXIT_FAULT);
}
