/*
 * xtensa_win_start.S - reset stub, exception and window vectors and windowed
 * startup for the QEMU Xtensa `sim` machine with the de233_fpu core (the
 * windowed-ABI ESP32-class board sim-de233).
 *
 * QEMU starts at the core's reset vector, 0xFE000000 (the start of its 32 MiB
 * system ROM), not at the ELF entry, so this section is linked first in
 * REGION_CODE, which starts there.  VECBASE is set to 0xFE000400 (1 KiB
 * aligned); the vectors follow at the offsets the de233_fpu core and the
 * ESP32 share (QEMU target/xtensa/core-de233_fpu/core-isa.h): window
 * overflow/underflow 4, 8, 12 at 0x000-0x140, level-2..5 interrupts at
 * 0x180-0x240, debug 0x280, NMI 0x2C0, kernel 0x300, user 0x340, double
 * exception 0x3C0.  Every exception other than a window spill/fill is fatal:
 * the vectors jump to mnv3c_exception_entry, which reports (xtensa.c).
 *
 * Memory: the system RAM is physical 0x00000000 (-m 64M).  The reset code
 * points the data TLB's 512 MiB spanning-way entry for 0x40000000 at it, so
 * .data, .bss, the stack and the arena live at 0x40000000 (REGION_DATA), and
 * the stack, at the bottom, has unmapped memory below it (0x3FFFFFFF is
 * physical 0x3FFFFFFF, which nothing answers): an overflow faults.
 *
 * Literals for L32R must lie below the instruction that loads them.
 */
#define PS_WOE       0x40000   /* window overflow/underflow exceptions enabled */
#define PS_RUN       (PS_WOE | 0x0F) /* INTLEVEL = 15 (no interrupts), EXCM = 0, UM = 0 */
#define DATA_ALIAS   0x40000006  /* DTLB way 6 (spanning way), vaddr 0x40000000 */
#define DATA_PTE     0x00000003  /* -> paddr 0, ring 0, attribute 3 (RWX, bypass), as QEMU resets it */

    .section .vectors, "ax"
    .global _start
    .align 4
_start:                                 /* 0xFE000000: the reset vector */
    j     mnv3c_reset

/* The window handlers spill (overflow) or reload (underflow) one caller's
 * registers to/from the save areas the windowed ABI keeps below the stack
 * pointers (Xtensa ISA reference, "Windowed Register Option"). */
    .org  0x400
.Lvecbase:
    .org  0x400 + 0x000                 /* WindowOverflow4 */
    s32e  a0, a5, -16
    s32e  a1, a5, -12
    s32e  a2, a5, -8
    s32e  a3, a5, -4
    rfwo
    .org  0x400 + 0x040                 /* WindowUnderflow4 */
    l32e  a0, a5, -16
    l32e  a1, a5, -12
    l32e  a2, a5, -8
    l32e  a3, a5, -4
    rfwu
    .org  0x400 + 0x080                 /* WindowOverflow8 */
    s32e  a0, a9, -16
    l32e  a0, a1, -12                   /* a0 = the caller's caller's stack pointer */
    s32e  a1, a9, -12
    s32e  a2, a9, -8
    s32e  a3, a9, -4
    s32e  a4, a0, -32
    s32e  a5, a0, -28
    s32e  a6, a0, -24
    s32e  a7, a0, -20
    rfwo
    .org  0x400 + 0x0C0                 /* WindowUnderflow8 */
    l32e  a1, a9, -12
    l32e  a0, a9, -16
    l32e  a7, a1, -12
    l32e  a2, a9, -8
    l32e  a4, a7, -32
    l32e  a3, a9, -4
    l32e  a5, a7, -28
    l32e  a6, a7, -24
    l32e  a7, a7, -20
    rfwu
    .org  0x400 + 0x100                 /* WindowOverflow12 */
    s32e  a0, a13, -16
    l32e  a0, a1, -12
    s32e  a1, a13, -12
    s32e  a2, a13, -8
    s32e  a3, a13, -4
    s32e  a4, a0, -48
    s32e  a5, a0, -44
    s32e  a6, a0, -40
    s32e  a7, a0, -36
    s32e  a8, a0, -32
    s32e  a9, a0, -28
    s32e  a10, a0, -24
    s32e  a11, a0, -20
    rfwo
    .org  0x400 + 0x140                 /* WindowUnderflow12 */
    l32e  a1, a13, -12
    l32e  a0, a13, -16
    l32e  a11, a1, -12
    l32e  a2, a13, -8
    l32e  a4, a11, -48
    l32e  a8, a11, -32
    l32e  a3, a13, -4
    l32e  a5, a11, -44
    l32e  a6, a11, -40
    l32e  a7, a11, -36
    l32e  a9, a11, -28
    l32e  a10, a11, -24
    l32e  a11, a11, -20
    rfwu
    .org  0x400 + 0x180                 /* level-2 interrupt (none is enabled) */
    movi  a2, 4
    j     mnv3c_exception_entry
    .org  0x400 + 0x1C0                 /* level 3 */
    movi  a2, 5
    j     mnv3c_exception_entry
    .org  0x400 + 0x200                 /* level 4 */
    movi  a2, 6
    j     mnv3c_exception_entry
    .org  0x400 + 0x240                 /* level 5 */
    movi  a2, 7
    j     mnv3c_exception_entry
    .org  0x400 + 0x280                 /* debug (level 6) */
    movi  a2, 2
    j     mnv3c_exception_entry
    .org  0x400 + 0x2C0                 /* NMI (level 7) */
    movi  a2, 3
    j     mnv3c_exception_entry
    .org  0x400 + 0x300                 /* kernel exception (PS.UM = 0: ours) */
    movi  a2, 0
    j     mnv3c_exception_entry
    .org  0x400 + 0x340                 /* user exception */
    movi  a2, 0
    j     mnv3c_exception_entry
    .org  0x400 + 0x3C0                 /* double exception (a fault with PS.EXCM set, e.g. in a spill) */
    movi  a2, 1
    j     mnv3c_exception_entry

    .align 4
.Lvecbase_addr: .word .Lvecbase
.Ldata_alias:   .word DATA_ALIAS
.Ldata_pte:     .word DATA_PTE
.Lps_run:       .word PS_RUN
.Lstack_top:    .word __stack_top
.Lfault_stack:  .word mnv3c_fault_stack + 1024
.Lreporting:    .word mnv3c_fault_reporting
.Lc_start:      .word mnv3c_c_start
.Lfault_report: .word mnv3c_fault_report

mnv3c_reset:
    l32r  a2, .Ldata_alias              /* RAM at 0x40000000 (see above), before anything touches it */
    l32r  a3, .Ldata_pte
    wdtlb a3, a2
    dsync
    movi  a0, 0
    wsr   a0, windowbase
    rsync
    movi  a0, 1
    wsr   a0, windowstart               /* only the current window holds a live frame */
    l32r  a0, .Lvecbase_addr
    wsr   a0, vecbase
    l32r  a0, .Lps_run
    wsr   a0, ps
    rsync
    movi  a0, 0                         /* no return address: the outermost frame */
    l32r  a1, .Lstack_top               /* stack grows down towards __stack_bottom (sections.ld) */
    l32r  a4, .Lc_start
    callx4 a4                           /* copies .data, zeroes .bss, runs main, exits */
1:  j     1b

/* a2 = which vector (0 exception, 1 double exception, 2 debug, 3 NMI, 4..7
 * level-2..5 interrupt).  The faulting frame is abandoned: WindowStart keeps
 * only the current window, PS.EXCM is cleared so the report's own calls spill
 * normally, on mnv3c_fault_stack (the stack may be what overflowed).  A fault
 * while reporting exits at once with status 3 instead of looping. */
mnv3c_exception_entry:
    l32r  a3, .Lreporting
    l32i  a4, a3, 0
    bnez  a4, 3f
    movi  a4, 1
    s32i  a4, a3, 0
    rsr   a4, windowbase
    movi  a3, 1
    ssl   a4
    sll   a3, a3
    wsr   a3, windowstart
    l32r  a4, .Lps_run
    wsr   a4, ps
    rsync
    l32r  a1, .Lfault_stack
    mov   a6, a2                        /* the callee's a2 */
    l32r  a4, .Lfault_report
    callx4 a4
3:  movi  a3, 3                         /* SYS_EXIT with status 3 (mnv3c's own code broke) */
    movi  a2, 1
    simcall
4:  j     4b
