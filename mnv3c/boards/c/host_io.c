/*
 * host_io.c - mnv3c_io.h on a hosted C library, so the same model and
 * harness C code can be compiled with the host gcc and compared byte for
 * byte with the emulated build.  There is no instruction counter on the host.
 */
#include <stdio.h>
#include <stdlib.h>

#include "mnv3c_io.h"

void io_write(const char *s) { fputs(s, stdout); }

void io_exit(int code)
{
    fflush(stdout);
    exit(code);
}
