/*
 * rt_start.c - C run-time start for the bare-metal boards (Arm and RISC-V):
 * copy .data from its flash load address, zero .bss, run main() and exit
 * with its return code.  Also the four memory functions GCC may emit calls
 * to even in -ffreestanding code (struct copies, large initialisers).
 *
 * The architecture's reset code has already set up the stack (and enabled
 * the FPU where there is one) before calling mnv3c_c_start().
 */
#include <stddef.h>
#include <stdint.h>

#include "mnv3c_io.h"

/* Defined by sections.ld. */
extern uint8_t __data_load[], __data_start[], __data_end[];
extern uint8_t __bss_start[], __bss_end[];

int main(void);
void mnv3c_c_start(void) __attribute__((noreturn));

/* Keep GCC from turning these loops into calls to themselves. */
#define MNV3C_NO_LIBCALL __attribute__((optimize("no-tree-loop-distribute-patterns")))

MNV3C_NO_LIBCALL void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
    while (n--) *d++ = *s++;
    return dst;
}

MNV3C_NO_LIBCALL void *memmove(void *dst, const void *src, size_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
    if (d < s) {
        while (n--) *d++ = *s++;
    } else {
        while (n--) d[n] = s[n];
    }
    return dst;
}

MNV3C_NO_LIBCALL void *memset(void *dst, int c, size_t n)
{
    uint8_t *d = dst;
    while (n--) *d++ = (uint8_t)c;
    return dst;
}

MNV3C_NO_LIBCALL int memcmp(const void *a, const void *b, size_t n)
{
    const uint8_t *x = a, *y = b;
    for (; n; n--, x++, y++) {
        if (*x != *y) return (int)*x - (int)*y;
    }
    return 0;
}

void mnv3c_c_start(void)
{
    memcpy(__data_start, __data_load, (size_t)(__data_end - __data_start));
    memset(__bss_start, 0, (size_t)(__bss_end - __bss_start));
    io_exit(main());
}
