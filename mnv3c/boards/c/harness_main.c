/*
 * harness_main.c - the on-device test harness, independent of the model.
 *
 * For every input sample (io_read_input: a streamed file under QEMU and on the host, samples
 * embedded in flash on real boards): run one inference between the instruction-count markers
 * and print its int8 output as
 *     OUT <2 hex digits per byte, two's complement>
 * then print `DONE <samples>` and exit 0.  A non-zero return from the model
 * prints `ERR <sample> <code>` and exits MNV3C_EXIT_MODEL_ERROR.
 *
 * Provided elsewhere:
 *   input_data.h (mnv3c.boards.harness.write_input_data): MNV3C_INPUT_BYTES, MNV3C_OUTPUT_BYTES
 *     (and, for real boards, the embedded samples of input_data.c)
 *   the model (OUTDIR/example/mnv3c_harness.c):
 *     int mnv3c_harness_run(const int8_t *in, int8_t *out);  0 on success
 */
#include <stdint.h>

#include "input_data.h"
#include "mnv3c_io.h"

int mnv3c_harness_run(const int8_t *in, int8_t *out);

static int8_t input[MNV3C_INPUT_BYTES] __attribute__((aligned(16)));
static int8_t output[MNV3C_OUTPUT_BYTES];

int main(void)
{
    uint32_t samples = 0;
    while (io_read_input(input, sizeof input)) {
        mnv3c_marker_begin();
        int rc = mnv3c_harness_run(input, output);
        mnv3c_marker_end();
        if (rc != 0) {
            io_write("ERR ");
            io_write_u32(samples);
            io_write(" ");
            io_write_u32((uint32_t)rc);
            io_write("\n");
            io_exit(MNV3C_EXIT_MODEL_ERROR);
        }
        io_write("OUT ");
        io_write_hex((const uint8_t *)output, sizeof output);
        io_write("\n");
        ++samples;
    }
    io_write("DONE ");
    io_write_u32(samples);
    io_write("\n");
    return MNV3C_EXIT_OK;
}
