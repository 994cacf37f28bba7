/*
 * stm32h743_console.c - console for NUCLEO-H743ZI: USART3 on PD8 (TX) / PD9
 * (RX), wired to the ST-LINK virtual COM port; 115200 8N1.
 *
 * Assumed clock (nothing here changes it): the reset state.  The core runs
 * on HSI at 64 MHz (HSIDIV = 1), D1CPRE = HPRE = D2PPRE1 = 1, so PCLK1 is
 * 64 MHz, and USART3's kernel clock selector (RCC_D2CCIP2R.USART234578SEL)
 * resets to 000 = PCLK1: the USART runs from 64 MHz.  The reset voltage
 * scale (VOS3) and flash latency (7 wait states) are valid at 64 MHz, so no
 * PWR or FLASH setup is needed.  A program that raises the clock must
 * re-run stm32_usart_init() with the new kernel clock.
 * Addresses: RM0433 (STM32H742/743/750/753 reference manual) section 2.3.
 */
#include <stdint.h>

#include "mnv3c_io.h"
#include "stm32_usart.h"

#define RCC_BASE     0x58024400u
#define RCC_AHB4ENR  MNV3C_REG(RCC_BASE + 0x0E0u) /* AHB4 peripheral clock enable (GPIOs) */
#define RCC_APB1LENR MNV3C_REG(RCC_BASE + 0x0E8u) /* APB1 low clock enable (USART2/3, UART4/5, ...) */
#define RCC_AHB4ENR_GPIODEN   (1u << 3)
#define RCC_APB1LENR_USART3EN (1u << 18)

#define GPIOD_BASE  0x58020C00u
#define GPIOD_MODER MNV3C_REG(GPIOD_BASE + 0x00u) /* mode, 2 bits per pin: 10 = alternate function */
#define GPIOD_AFRH  MNV3C_REG(GPIOD_BASE + 0x24u) /* alternate function pins 8..15, 4 bits per pin */

#define USART3_BASE 0x40004800u
#define USART3_KERNEL_CLOCK_HZ 64000000u /* see the clock note above */
#define AF7_USART 7u                     /* PD8/PD9 alternate function 7 = USART3 TX/RX */

void mnv3c_console_init(void)
{
    RCC_AHB4ENR |= RCC_AHB4ENR_GPIODEN;
    RCC_APB1LENR |= RCC_APB1LENR_USART3EN;
    (void)RCC_APB1LENR; /* read back: the clock is on before the first peripheral access */
    GPIOD_AFRH = (GPIOD_AFRH & ~0xFFu) | (AF7_USART << 0) | (AF7_USART << 4); /* PD8, PD9 */
    GPIOD_MODER = (GPIOD_MODER & ~(0xFu << 16)) | (0x2u << 16) | (0x2u << 18);
    stm32_usart_init(USART3_BASE, USART3_KERNEL_CLOCK_HZ);
}

void mnv3c_console_flush(void) { stm32_usart_flush(USART3_BASE); }

void io_write(const char *s) { stm32_usart_write(USART3_BASE, s); }
