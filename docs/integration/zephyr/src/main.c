/* Run the model once and print the most likely class. */
#include <stdint.h>

#include <zephyr/sys/printk.h>

#include "mnv3c_model.h"

static int8_t input[MNV3C_INPUT_SIZE]; /* fill with the quantized NHWC image */
static int8_t output[MNV3C_OUTPUT_SIZE];

int main(void)
{
    unsigned best = 0;
    if (mnv3c_model_invoke(input, output) != 0) {
        printk("model error\n");
        return 1;
    }
    for (unsigned i = 1; i < MNV3C_OUTPUT_SIZE; i++) {
        best = output[i] > output[best] ? i : best;
    }
    printk("class %u\n", best);
    return 0;
}
