/*
 * main.c - run the model once and print its output (two hex digits per int8, over semihosting).
 * The three lines that use mnv3c are marked.
 */
#include <stdint.h>

#include "mnv3c_model.h" /* mnv3c: 1 */

static int8_t input[MNV3C_INPUT_SIZE];   /* mnv3c: 2, quantized NHWC input */
static int8_t output[MNV3C_OUTPUT_SIZE];

static void semihost_write0(const char *s)
{
    register uint32_t r0 __asm__("r0") = 0x04u; /* SYS_WRITE0 */
    register const char *r1 __asm__("r1") = s;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
}

int main(void)
{
    static const char digits[] = "0123456789abcdef";
    char line[2 * MNV3C_OUTPUT_SIZE + 6] = "OUT ";
    for (uint32_t i = 0; i < MNV3C_INPUT_SIZE; i++) {
        input[i] = (int8_t)(i * 7u); /* stands in for a camera frame */
    }
    int rc = mnv3c_model_invoke(input, output); /* mnv3c: 3 */
    for (uint32_t i = 0; i < MNV3C_OUTPUT_SIZE; i++) {
        line[4 + 2 * i] = digits[(uint8_t)output[i] >> 4];
        line[5 + 2 * i] = digits[(uint8_t)output[i] & 0xfu];
    }
    line[4 + 2 * MNV3C_OUTPUT_SIZE] = '\n';
    line[5 + 2 * MNV3C_OUTPUT_SIZE] = '\0';
    semihost_write0(line);
    return rc;
}
