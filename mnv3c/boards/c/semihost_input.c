/*
 * semihost_input.c - io_read_input() on the QEMU boards: the file input.bin in the emulator's
 * working directory, read through semihosting (SYS_OPEN / SYS_READ), so `mnv3c run` streams any
 * number of samples without linking them into flash.
 */
#include "mnv3c_io.h"

#define SYS_OPEN 0x01u
#define SYS_READ 0x06u
#define OPEN_MODE_RB 1u

int io_read_input(void *buf, uint32_t n)
{
    static int32_t handle = -2; /* -2: not opened yet, -1: no input file */
    if (handle == -2) {
        static const char name[] = "input.bin";
        const uintptr_t open_block[3] = {(uintptr_t)name, OPEN_MODE_RB, sizeof name - 1u};
        handle = mnv3c_semihost(SYS_OPEN, open_block);
    }
    if (handle < 0) {
        return 0;
    }
    const uintptr_t read_block[3] = {(uintptr_t)handle, (uintptr_t)buf, n};
    return mnv3c_semihost(SYS_READ, read_block) == 0; /* SYS_READ returns the bytes NOT read */
}
