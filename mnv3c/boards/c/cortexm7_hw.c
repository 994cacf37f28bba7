/*
 * cortexm7_hw.c - reset, caches, cycle counter and exit for REAL Cortex-M7
 * boards (nucleo-h743zi, stm32f746g-disco).  Built and linked in CI, not run
 * here: there is no hardware on the build machines.
 *
 * No semihosting anywhere in a real-board image (a BKPT without a debugger
 * attached locks the core up): output goes to the board's UART console
 * (stm32*_console.c), and "exit" prints `EXIT <code>` and spins.
 *
 * Each inference is bracketed by the markers, which read the DWT cycle
 * counter; mnv3c_marker_end() prints `CYCLES <n>` before the harness prints
 * that inference's `OUT <hex>` line.
 */
#include <stdint.h>

#include "cortexm_scb.h"
#include "mnv3c_io.h"

/* Cache control (Armv7-M ARM B3.2.2, B3.2.3; Cortex-M7 TRM 4.1). */
#define SCB_CCR     MNV3C_REG(0xE000ED14u) /* Configuration and Control */
#define SCB_CCSIDR  MNV3C_REG(0xE000ED80u) /* Cache Size ID of the cache CSSELR selects */
#define SCB_CSSELR  MNV3C_REG(0xE000ED84u) /* Cache Size Selection */
#define SCB_ICIALLU MNV3C_REG(0xE000EF50u) /* I-cache invalidate all to PoU (write-only) */
#define SCB_DCISW   MNV3C_REG(0xE000EF60u) /* D-cache invalidate by set/way (write-only) */
#define CCR_DC (1u << 16)                  /* CCR: data cache enable */
#define CCR_IC (1u << 17)                  /* CCR: instruction cache enable */
#define CSSELR_L1_DCACHE 0u                /* level 1 (bits 3:1 = 0), data (bit 0 = 0) */

/* Cycle counter (Armv7-M ARM C1.6.5, C1.8; CoreSight lock access). */
#define DEMCR      MNV3C_REG(0xE000EDFCu) /* Debug Exception and Monitor Control */
#define DWT_CTRL   MNV3C_REG(0xE0001000u) /* DWT Control */
#define DWT_CYCCNT MNV3C_REG(0xE0001004u) /* DWT cycle count (core clock cycles) */
#define DWT_LAR    MNV3C_REG(0xE0001FB0u) /* DWT Lock Access: the M7 ignores DWT writes until unlocked */
#define DEMCR_TRCENA     (1u << 24)       /* enables the DWT and ITM units */
#define DWT_CTRL_CYCCNTENA 1u             /* start CYCCNT */
#define CORESIGHT_UNLOCK 0xC5ACCE55u      /* key for the lock access register */

void mnv3c_c_start(void) __attribute__((noreturn));
void Reset_Handler(void) __attribute__((noreturn));

/* Provided by the board's console file (stm32h743_console.c, ...). */
void mnv3c_console_init(void);
void mnv3c_console_flush(void);

static void enable_icache(void)
{
    cortexm_barrier();
    SCB_ICIALLU = 0u; /* the cache holds garbage after reset: invalidate first */
    cortexm_barrier();
    SCB_CCR |= CCR_IC;
    cortexm_barrier();
}

/* Invalidate every line of the L1 data cache by set and way, then enable it.
 * Nothing is dirty yet (the cache is off at reset), so nothing is lost. */
static void enable_dcache(void)
{
    SCB_CSSELR = CSSELR_L1_DCACHE;
    cortexm_barrier();
    const uint32_t ccsidr = SCB_CCSIDR;
    const uint32_t line_shift = (ccsidr & 0x7u) + 4u;      /* bits 2:0 = log2(words per line) - 2 */
    const uint32_t max_way = (ccsidr >> 3) & 0x3FFu;       /* bits 12:3 = associativity - 1 */
    const uint32_t max_set = (ccsidr >> 13) & 0x7FFFu;     /* bits 27:13 = number of sets - 1 */
    const uint32_t way_shift = max_way ? (uint32_t)__builtin_clz(max_way) : 0u; /* way in the top bits */
    for (uint32_t set = 0; set <= max_set; set++) {
        for (uint32_t way = 0; way <= max_way; way++) {
            SCB_DCISW = (way << way_shift) | (set << line_shift);
        }
    }
    cortexm_barrier();
    SCB_CCR |= CCR_DC;
    cortexm_barrier();
}

static void enable_cycle_counter(void)
{
    DEMCR |= DEMCR_TRCENA;
    DWT_LAR = CORESIGHT_UNLOCK;
    DWT_CYCCNT = 0u;
    DWT_CTRL |= DWT_CTRL_CYCCNTENA;
}

void Reset_Handler(void)
{
    cortexm_enable_fpu();
    cortexm_stack_guard();
    enable_icache();
    enable_dcache();
    enable_cycle_counter();
    mnv3c_console_init();
    mnv3c_c_start();
}

static uint32_t marker_start;

void __attribute__((noinline)) mnv3c_marker_begin(void) { marker_start = DWT_CYCCNT; }

void __attribute__((noinline)) mnv3c_marker_end(void)
{
    const uint32_t cycles = DWT_CYCCNT - marker_start; /* modular: correct across one wrap */
    io_write("CYCLES ");
    io_write_u32(cycles);
    io_write("\n");
}

void io_exit(int code)
{
    io_write("EXIT ");
    io_write_u32((uint32_t)code);
    io_write("\n");
    mnv3c_console_flush();
    for (;;) {
    }
}
