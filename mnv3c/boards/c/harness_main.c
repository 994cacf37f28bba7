/*
 * harness_main.c - the on-device test harness, independent of the model.
 *
 * For every embedded input sample: run one inference between the
 * instruction-count markers and print its int8 output as
 *     OUT <2 hex digits per byte, two's complement>
 * then print `DONE <samples>` and exit 0.  A non-zero return from the model
 * prints `ERR <sample> <code>` and exits MNV3C_EXIT_MODEL_ERROR.
 *
 * Provided elsewhere:
 *   input_data.h / input_data.c (mnv3c.boards.harness.write_input_data):
 *     MNV3C_NUM_SAMPLES, MNV3C_INPUT_BYTES, MNV3C_OUTPUT_BYTES and
 *     const int8_t mnv3c_input_data[MNV3C_NUM_SAMPLES][MNV3C_INPUT_BYTES]
 *   the model (codegen):
 *     int mnv3c_harness_run(const int8_t *in, int8_t *out);  0 on success
 */
#include <stdint.h>

#include "input_data.h"
#include "mnv3c_io.h"

int mnv3c_harness_run(const int8_t *in, int8_t *out);

static int8_t output[MNV3C_OUTPUT_BYTES];

int main(void)
{
    for (uint32_t i = 0; i < MNV3C_NUM_SAMPLES; i++) {
        mnv3c_marker_begin();
        int rc = mnv3c_harness_run(mnv3c_input_data[i], output);
        mnv3c_marker_end();
        if (rc != 0) {
            io_write("ERR ");
            io_write_u32(i);
            io_write(" ");
            io_write_u32((uint32_t)rc);
            io_write("\n");
            io_exit(MNV3C_EXIT_MODEL_ERROR);
        }
        io_write("OUT ");
        io_write_hex((const uint8_t *)output, sizeof output);
        io_write("\n");
    }
    io_write("DONE ");
    io_write_u32(MNV3C_NUM_SAMPLES);
    io_write("\n");
    return MNV3C_EXIT_OK;
}
