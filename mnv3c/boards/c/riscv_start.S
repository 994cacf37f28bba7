/*
 * riscv_start.S - reset entry for the QEMU riscv32 `virt` board.
 * With -bios none QEMU's boot ROM at 0x1000 jumps to the ELF entry in M-mode.
 * Built with -march=rv32imc (no multilib with Zicsr), so CSR instructions
 * are enabled locally with `.option arch, +zicsr`.
 */
    .section .vectors, "ax"
    .globl _start
_start:
    .option push
    .option norelax
    la   gp, __global_pointer$     /* gp-relative access to .sdata/.sbss */
    .option pop
    la   sp, __stack_top           /* stack grows down towards __stack_bottom (sections.ld) */
    .option push
    .option arch, +zicsr
    la   t0, mnv3c_trap_entry
    csrw mtvec, t0                 /* direct mode: every trap enters mnv3c_trap_entry */
    /* Stack guard: PMP entry 0 covers the 4 KiB NAPOT region under the
     * stack with no R/W/X; the L bit makes it apply to M-mode too, so an
     * overflow traps (store/load access fault).  Other addresses match no
     * entry and stay fully accessible in M-mode. */
    la   t0, __stack_bottom
    li   t1, 4096
    sub  t0, t0, t1
    srli t0, t0, 2
    ori  t0, t0, 0x1FF             /* NAPOT encoding: base>>2 | (size/8 - 1) */
    csrw pmpaddr0, t0
    li   t0, 0x98                  /* pmp0cfg = L (0x80) | A=NAPOT (0x18), R=W=X=0 */
    csrw pmpcfg0, t0
    .option pop
    call mnv3c_c_start             /* copies .data, zeroes .bss, runs main, exits */
1:  j    1b

/* Trap entry: the stack may be what overflowed, so report on a stack of
 * its own (mnv3c_fault_stack in riscv.c).  mtvec needs 4-byte alignment. */
    .text
    .balign 4
    .globl mnv3c_trap_entry
mnv3c_trap_entry:
    la   sp, mnv3c_fault_stack + 1024
    j    mnv3c_trap_report
