/*
 * io_common.c - board-independent parts of mnv3c_io.h: number formatting and
 * the inference markers.  Each board adds io_write() and io_exit().
 */
#include "mnv3c_io.h"

/* Written by the markers so that each is a distinct, non-empty function
 * (GCC's identical-code folding would otherwise merge two empty bodies and
 * give both markers one address). */
volatile uint32_t mnv3c_marker_state;

void __attribute__((noinline)) mnv3c_marker_begin(void) { mnv3c_marker_state = 1u; }

void __attribute__((noinline)) mnv3c_marker_end(void) { mnv3c_marker_state = 2u; }

void io_write_hex(const uint8_t *data, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    char buf[129]; /* 64 bytes per io_write() call keeps semihosting traps few */
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        buf[used++] = digits[data[i] >> 4];
        buf[used++] = digits[data[i] & 0xfu];
        if (used == sizeof buf - 1u) {
            buf[used] = '\0';
            io_write(buf);
            used = 0;
        }
    }
    buf[used] = '\0';
    io_write(buf);
}

void io_write_u32(uint32_t v)
{
    char buf[11];
    char *p = &buf[sizeof buf - 1u];
    *p = '\0';
    do {
        *--p = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0u);
    io_write(p);
}
