/*
 * io_common.c - board-independent number formatting for mnv3c_io.h.
 * Each board adds io_write() and io_exit(), and the inference markers
 * (markers.c for QEMU and the host, the cycle counter on real boards).
 */
#include "mnv3c_io.h"

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

void io_write_reg(const char *name, uint32_t v)
{
    const uint8_t be[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    io_write(name);
    io_write("=0x");
    io_write_hex(be, sizeof be);
}
