/*
 * host_io.c - mnv3c_io.h on a hosted C library, so the same model and
 * harness C code can be compiled with the host gcc and compared byte for
 * byte with the emulated build.  There is no instruction counter on the host.
 * The input stream is the file input.bin in the working directory, as under QEMU.
 */
#include <stdio.h>
#include <stdlib.h>

#include "mnv3c_io.h"

void io_write(const char *s) { fputs(s, stdout); }

int io_read_input(void *buf, uint32_t n)
{
    static FILE *input;
    if (input == NULL) {
        input = fopen("input.bin", "rb");
    }
    return input != NULL && fread(buf, 1, n, input) == n;
}

void io_exit(int code)
{
    fflush(stdout);
    exit(code);
}
