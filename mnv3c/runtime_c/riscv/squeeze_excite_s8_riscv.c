/*
 * squeeze_excite_s8_riscv.c - ../squeeze_excite_s8.c (same bytes) with its two dense layers run by
 * dense_s8_riscv.c on "dense_rv" weights (both fc1 and fc2 are laid out so); the pool and the
 * channel scale are the portable stages. The _short entry point, chosen where plan/kernels.py
 * proves the one-MULH output stage exact for both dense layers, runs the _short dense kernels.
 */
#include "mnv3c_kernels.h"
#include "mnv3c_riscv.h"

void mnv3c_squeeze_excite_s8_riscv(const mnv3c_squeeze_excite_params *p, const int8_t *x, int8_t *y,
                                   void *scratch)
{
    int8_t *pooled_then_gate = (int8_t *)scratch, *r = pooled_then_gate + p->channels;
    mnv3c_squeeze_excite_s8_pool(p, x, scratch);
    mnv3c_dense_s8_riscv(&p->fc1, pooled_then_gate, r, NULL);
    mnv3c_dense_s8_riscv(&p->fc2, r, pooled_then_gate, NULL);
    mnv3c_squeeze_excite_s8_scale(p, x, y, scratch);
}

void mnv3c_squeeze_excite_s8_riscv_short(const mnv3c_squeeze_excite_params *p, const int8_t *x, int8_t *y,
                                         void *scratch)
{
    int8_t *pooled_then_gate = (int8_t *)scratch, *r = pooled_then_gate + p->channels;
    mnv3c_squeeze_excite_s8_pool(p, x, scratch);
    mnv3c_dense_s8_riscv_short(&p->fc1, pooled_then_gate, r, NULL);
    mnv3c_dense_s8_riscv_short(&p->fc2, r, pooled_then_gate, NULL);
    mnv3c_squeeze_excite_s8_scale(p, x, y, scratch);
}

size_t mnv3c_squeeze_excite_s8_riscv_scratch_bytes(const mnv3c_squeeze_excite_params *p)
{
    return mnv3c_squeeze_excite_s8_scratch_bytes(p);
}

size_t mnv3c_squeeze_excite_s8_riscv_short_scratch_bytes(const mnv3c_squeeze_excite_params *p)
{
    return mnv3c_squeeze_excite_s8_scratch_bytes(p);
}
