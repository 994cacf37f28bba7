/*
 * layer_norm_s8.c - int8 LayerNormalization over the last axis, integer only:
 * y = gamma * (x - mean) / sqrt(var + eps) + beta, bit-exact with mnv3c/quant/layer_norm.py.
 * The arithmetic and the layout are mnv3c_layer_norm_rows.h's (shared with layer_norm_s16.c).
 */
#include "mnv3c_kernels.h"
#include "mnv3c_layer_norm_rows.h"

void mnv3c_layer_norm_s8(const mnv3c_layer_norm_params *p, const int8_t *MNV3C_RESTRICT x,
                         int8_t *MNV3C_RESTRICT y, void *scratch)
{
    (void)scratch;
    mnv3c_layer_norm_rows(p, x, y, 1);
}

size_t mnv3c_layer_norm_s8_scratch_bytes(const mnv3c_layer_norm_params *p)
{
    (void)p;
    return 0;
}
