/*
 * fake_model.c - TEST SCAFFOLDING ONLY, not a neural network.
 * Stands in for a generated model so the harness and boards can be tested:
 * out[o] = saturate((sum_i in[i] * w[(i*31 + o*17) % 64] + o*7 + bias) >> 10).
 */
#include <stdint.h>

#include "input_data.h"

/* Weights go where a real model's would: the board's weight region. */
static const int8_t fake_weights[64] __attribute__((section(".rodata.mnv3c_weights"), aligned(16))) = {
    3,   -7,  12,  -1,  5,   -128, 127, 0,   -9,  44,  -23, 8,   19,  -64, 2,   -3,
    100, -99, 1,   7,   -45, 33,   -6,  21,  -17, 90,  -2,  4,   -11, 66,  -70, 13,
    -5,  29,  -31, 57,  -8,  16,   -77, 101, 6,   -14, 38,  -40, 9,   -50, 25,  -26,
    60,  -61, 14,  -15, 71,  -72,  10,  -12, 83,  -84, 18,  -19, 27,  -28, 36,  -37,
};

/* Initialised writable data: checks the reset code's .data copy. */
int32_t fake_model_bias = 345;

/* Activations go where a real model's would: the arena (not zeroed at reset). */
static int8_t fake_arena[MNV3C_INPUT_BYTES] __attribute__((section(".bss.mnv3c_arena"), aligned(16)));

int mnv3c_harness_run(const int8_t *in, int8_t *out)
{
    for (uint32_t i = 0; i < MNV3C_INPUT_BYTES; i++) fake_arena[i] = in[i];
    for (uint32_t o = 0; o < MNV3C_OUTPUT_BYTES; o++) {
        int32_t acc = (int32_t)(o * 7u) + fake_model_bias;
        for (uint32_t i = 0; i < MNV3C_INPUT_BYTES; i++) {
            acc += fake_arena[i] * fake_weights[(i * 31u + o * 17u) % 64u];
        }
        acc >>= 10; /* arithmetic shift on every target gcc supports */
        out[o] = (int8_t)(acc > 127 ? 127 : acc < -128 ? -128 : acc);
    }
    return 0;
}
