/*
 * stm32f746_console.c - console for STM32F746G-DISCO: USART1 on PA9 (TX) /
 * PB7 (RX), wired to the ST-LINK virtual COM port; 115200 8N1.
 *
 * Assumed clock (nothing here changes it): the reset state.  The core runs
 * on HSI at 16 MHz with all bus prescalers 1, so PCLK2 is 16 MHz, and
 * USART1's clock selector (RCC_DCKCFGR2.USART1SEL) resets to 00 = PCLK2:
 * the USART runs from 16 MHz.  Flash latency 0 is valid at 16 MHz.  A program
 * that raises the clock must re-run stm32_usart_init() with the new clock.
 * Addresses: RM0385 (STM32F75xxx/74xxx reference manual) section 2.2.2.
 */
#include <stdint.h>

#include "mnv3c_io.h"
#include "stm32_usart.h"

#define RCC_BASE    0x40023800u
#define RCC_AHB1ENR MNV3C_REG(RCC_BASE + 0x30u) /* AHB1 peripheral clock enable (GPIOs) */
#define RCC_APB2ENR MNV3C_REG(RCC_BASE + 0x44u) /* APB2 peripheral clock enable (USART1/6, ...) */
#define RCC_AHB1ENR_GPIOAEN  (1u << 0)
#define RCC_AHB1ENR_GPIOBEN  (1u << 1)
#define RCC_APB2ENR_USART1EN (1u << 4)

#define GPIOA_BASE  0x40020000u
#define GPIOA_MODER MNV3C_REG(GPIOA_BASE + 0x00u) /* mode, 2 bits per pin: 10 = alternate function */
#define GPIOA_AFRH  MNV3C_REG(GPIOA_BASE + 0x24u) /* alternate function pins 8..15, 4 bits per pin */
#define GPIOB_BASE  0x40020400u
#define GPIOB_MODER MNV3C_REG(GPIOB_BASE + 0x00u)
#define GPIOB_AFRL  MNV3C_REG(GPIOB_BASE + 0x20u) /* alternate function pins 0..7, 4 bits per pin */

#define USART1_BASE 0x40011000u
#define USART1_KERNEL_CLOCK_HZ 16000000u /* see the clock note above */
#define AF7_USART 7u                     /* PA9/PB7 alternate function 7 = USART1 TX/RX */

void mnv3c_console_init(void)
{
    RCC_AHB1ENR |= RCC_AHB1ENR_GPIOAEN | RCC_AHB1ENR_GPIOBEN;
    RCC_APB2ENR |= RCC_APB2ENR_USART1EN;
    (void)RCC_APB2ENR; /* read back: the clock is on before the first peripheral access */
    GPIOA_AFRH = (GPIOA_AFRH & ~(0xFu << 4)) | (AF7_USART << 4);   /* PA9: pin 9 -> AFRH bits 7:4 */
    GPIOA_MODER = (GPIOA_MODER & ~(0x3u << 18)) | (0x2u << 18);
    GPIOB_AFRL = (GPIOB_AFRL & ~(0xFu << 28)) | (AF7_USART << 28); /* PB7: AFRL bits 31:28 */
    GPIOB_MODER = (GPIOB_MODER & ~(0x3u << 14)) | (0x2u << 14);
    stm32_usart_init(USART1_BASE, USART1_KERNEL_CLOCK_HZ);
}

void mnv3c_console_flush(void) { stm32_usart_flush(USART1_BASE); }

void io_write(const char *s) { stm32_usart_write(USART1_BASE, s); }
