/*
 * input_embedded.c - io_read_input() on real boards: the samples input_data.c embeds in flash
 * (mnv3c.boards.harness.write_input_data), one after the other.
 */
#include "input_data.h"
#include "mnv3c_io.h"

int io_read_input(void *buf, uint32_t n)
{
    static uint32_t next;
    uint8_t *out = buf;
    if (next >= MNV3C_NUM_SAMPLES || n != MNV3C_INPUT_BYTES) {
        return 0;
    }
    for (uint32_t i = 0; i < n; i++) {
        out[i] = (uint8_t)mnv3c_input_data[next][i];
    }
    ++next;
    return 1;
}
