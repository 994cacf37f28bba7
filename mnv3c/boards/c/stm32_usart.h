/*
 * stm32_usart.h - polled transmit on the STM32 F7/H7 USART (the same
 * register layout on both: RM0385 section 31.8, RM0433 section 48.7).
 * Used by the board console files; transmit only, 8N1, no interrupts.
 */
#ifndef MNV3C_STM32_USART_H
#define MNV3C_STM32_USART_H

#include <stdint.h>

#include "cortexm_scb.h" /* MNV3C_REG */

#define USART_CR1(base) MNV3C_REG((base) + 0x00u) /* Control 1 */
#define USART_BRR(base) MNV3C_REG((base) + 0x0Cu) /* Baud Rate */
#define USART_ISR(base) MNV3C_REG((base) + 0x1Cu) /* Interrupt and Status */
#define USART_TDR(base) MNV3C_REG((base) + 0x28u) /* Transmit Data */
#define USART_CR1_UE  (1u << 0) /* USART enable */
#define USART_CR1_TE  (1u << 3) /* transmitter enable */
#define USART_ISR_TC  (1u << 6) /* transmission complete (shift register empty) */
#define USART_ISR_TXE (1u << 7) /* transmit data register empty (TXFNF on H7, FIFO off) */

#define MNV3C_BAUD 115200u

/* 8 data bits, no parity, 1 stop bit (CR1/CR2 reset values), oversampling
 * by 16: BRR = kernel clock / baud, rounded to nearest. */
static inline void stm32_usart_init(uint32_t base, uint32_t kernel_clock_hz)
{
    USART_CR1(base) = 0u;
    USART_BRR(base) = (kernel_clock_hz + MNV3C_BAUD / 2u) / MNV3C_BAUD;
    USART_CR1(base) = USART_CR1_TE | USART_CR1_UE;
}

static inline void stm32_usart_write(uint32_t base, const char *s)
{
    for (; *s; s++) {
        if (*s == '\n') { /* terminals expect CR LF */
            while (!(USART_ISR(base) & USART_ISR_TXE)) {
            }
            USART_TDR(base) = '\r';
        }
        while (!(USART_ISR(base) & USART_ISR_TXE)) {
        }
        USART_TDR(base) = (uint8_t)*s;
    }
}

static inline void stm32_usart_flush(uint32_t base)
{
    while (!(USART_ISR(base) & USART_ISR_TC)) {
    }
}

#endif /* MNV3C_STM32_USART_H */
