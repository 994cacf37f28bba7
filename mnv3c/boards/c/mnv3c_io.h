/*
 * mnv3c_io.h - the minimal I/O layer every mnv3c board provides.
 *
 * Bare-metal boards (QEMU Cortex-M, QEMU riscv32 virt) implement it without a
 * C library: semihosting on Arm, the 16550 UART and the SiFive test device on
 * RISC-V, semihosting file reads for the input on both.  The host build implements it on top of stdio.  Real boards write
 * to their UART console and "exit" by printing `EXIT <code>` and spinning.
 *
 * The marker pair brackets exactly one inference.  Under QEMU an instruction
 * counting TCG plugin watches the first instruction of each marker and
 * reports the number of guest instructions executed between them; the
 * functions themselves only store to a volatile word so they are never
 * merged or optimised away (markers.c).  On real Cortex-M7 boards the markers
 * read the DWT cycle counter and the end marker prints `CYCLES <n>`.
 */
#ifndef MNV3C_IO_H
#define MNV3C_IO_H

#include <stddef.h>
#include <stdint.h>

/* Exit codes shared by the guest and the Python runner (mnv3c/boards/qemu.py). */
#define MNV3C_EXIT_OK          0
#define MNV3C_EXIT_MODEL_ERROR 2 /* mnv3c_harness_run() returned non-zero */
#define MNV3C_EXIT_FAULT       3 /* HardFault / RISC-V trap */

/* Write a NUL-terminated string (no newline added). */
void io_write(const char *s);

/* Write n bytes as lowercase hex, two digits per byte, no separators. */
void io_write_hex(const uint8_t *data, size_t n);

/* Write an unsigned 32-bit value in decimal. */
void io_write_u32(uint32_t v);

/* Write `<name>=0x<8 hex digits>` (the fault reports' register dump). */
void io_write_reg(const char *name, uint32_t v);

/* Read the next n bytes of the input stream into buf: 1 when all n were read, 0 at the end of
 * the stream (a shorter tail also ends it). QEMU boards read the file input.bin in the emulator's
 * working directory through semihosting (semihost_input.c), the host reads it with stdio, so the
 * number of samples is not bounded by flash; real boards read the samples embedded in
 * input_data.c (input_embedded.c). */
int io_read_input(void *buf, uint32_t n);

/* One semihosting call (QEMU boards only: BKPT 0xAB on Arm, the ebreak sequence on RISC-V). */
int32_t mnv3c_semihost(uint32_t op, const void *arg);

/* Terminate the program (QEMU exits with this status; real boards print it). Never returns. */
void io_exit(int code) __attribute__((noreturn));

/* Bracket one inference for the instruction counter. */
void mnv3c_marker_begin(void);
void mnv3c_marker_end(void);

#endif /* MNV3C_IO_H */
