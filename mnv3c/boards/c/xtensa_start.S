/*
 * xtensa_start.S - reset stub, exception vectors and reset code for the QEMU
 * Xtensa `sim` machine with the lx106 core (ESP8266 ISA, call0 ABI).
 *
 * QEMU starts at the core's reset vector, 0x50000000 (XCHAL_RESET_VECTOR_VADDR
 * in QEMU's target/xtensa/core-lx106/core-isa.h), not at the ELF entry, so
 * this section is linked first in REGION_CODE, which starts there.  The same
 * address becomes VECBASE, so the exception vectors follow at the lx106
 * offsets (core-isa.h: level-2/debug 0x10, NMI 0x20, kernel 0x30, user 0x50,
 * double exception 0x70).  Every exception is fatal: the vectors jump to
 * mnv3c_exception_entry, which reports on a stack of its own (xtensa.c).
 *
 * Literals for L32R must lie below the instruction that loads them, so the
 * few addresses the reset code needs are words placed before it.
 */
#define PS_INTLEVEL_ALL 0x0F /* PS.INTLEVEL = 15 (no interrupts), EXCM = 0, UM = 0 */

    .section .vectors, "ax"
    .global _start
    .align 4
_start:                                 /* 0x00: reset vector, VECBASE */
    j     mnv3c_reset
    .org  0x10                          /* level-2 interrupt / debug */
    movi  a2, 2
    j     mnv3c_exception_entry
    .org  0x20                          /* NMI (level 3) */
    movi  a2, 3
    j     mnv3c_exception_entry
    .org  0x30                          /* kernel exception (PS.UM = 0: ours) */
    movi  a2, 0
    j     mnv3c_exception_entry
    .org  0x50                          /* user exception (PS.UM = 1) */
    movi  a2, 0
    j     mnv3c_exception_entry
    .org  0x70                          /* double exception (a fault with PS.EXCM set) */
    movi  a2, 1
    j     mnv3c_exception_entry

    .align 4
.Lvecbase:      .word _start
.Lstack_top:    .word __stack_top
.Lfault_stack:  .word mnv3c_fault_stack + 1024
.Lc_start:      .word mnv3c_c_start
.Lfault_report: .word mnv3c_fault_report

mnv3c_reset:
    movi  a0, PS_INTLEVEL_ALL
    wsr   a0, ps
    rsync
    l32r  a0, .Lvecbase
    wsr   a0, vecbase
    l32r  a1, .Lstack_top               /* stack grows down towards __stack_bottom (sections.ld) */
    l32r  a0, .Lc_start
    callx0 a0                           /* copies .data, zeroes .bss, runs main, exits */
1:  j     1b

/* a2 = which vector (0 exception, 1 double exception, 2 level 2 / debug,
 * 3 NMI).  The stack may be what overflowed: report on mnv3c_fault_stack. */
mnv3c_exception_entry:
    l32r  a1, .Lfault_stack
    l32r  a0, .Lfault_report
    callx0 a0
2:  j     2b
