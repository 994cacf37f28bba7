/*
 * markers.c - the inference markers for QEMU and the host: under QEMU the
 * instruction-counting TCG plugin watches their first instructions (see
 * mnv3c_io.h); real boards read a cycle counter instead (cortexm7_hw.c).
 */
#include "mnv3c_io.h"

/* Written by the markers so that each is a distinct, non-empty function
 * (GCC's identical-code folding would otherwise merge two empty bodies and
 * give both markers one address). */
volatile uint32_t mnv3c_marker_state;

void __attribute__((noinline)) mnv3c_marker_begin(void) { mnv3c_marker_state = 1u; }

void __attribute__((noinline)) mnv3c_marker_end(void) { mnv3c_marker_state = 2u; }
