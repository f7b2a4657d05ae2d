/* SPDX-License-Identifier: MIT */
/*
 * The 16550A register map: register numbers (multiply by 1 << reg_shift for
 * the offset) and their bits, as in the National Semiconductor PC16550D
 * datasheet and Linux's include/uapi/linux/serial_reg.h. Shared by the
 * emulation (uart16550.c) and the code that plays the guest against it
 * (unit tests, fuzz harness).
 */
#ifndef VK_VM_HW_UART16550_REGS_H
#define VK_VM_HW_UART16550_REGS_H

enum {
	UART_RBR = 0, /* THR on write, DLL with DLAB */
	UART_IER = 1, /* DLM with DLAB */
	UART_IIR = 2, /* FCR on write */
	UART_LCR = 3,
	UART_MCR = 4,
	UART_LSR = 5,
	UART_MSR = 6,
	UART_SCR = 7,
};

#define UART_IER_ERBFI   0x01 /* received data available */
#define UART_IER_ETBEI   0x02 /* THR empty */
#define UART_IER_ELSI    0x04 /* line status */
#define UART_IER_EDSSI   0x08 /* modem status */

#define UART_IIR_NO_INT  0x01
#define UART_IIR_MSI     0x00
#define UART_IIR_THRI    0x02
#define UART_IIR_RDI     0x04
#define UART_IIR_RLSI    0x06
#define UART_IIR_CTI     0x0c
#define UART_IIR_FIFO    0xc0

#define UART_FCR_ENABLE  0x01
#define UART_FCR_CLR_RX  0x02
#define UART_FCR_CLR_TX  0x04
#define UART_FCR_TRIGGER 0xc0

#define UART_LCR_BREAK   0x40
#define UART_LCR_DLAB    0x80

#define UART_MCR_DTR     0x01
#define UART_MCR_RTS     0x02
#define UART_MCR_OUT1    0x04
#define UART_MCR_OUT2    0x08
#define UART_MCR_LOOP    0x10

#define UART_LSR_DR      0x01
#define UART_LSR_OE      0x02
#define UART_LSR_BI      0x10
#define UART_LSR_THRE    0x20
#define UART_LSR_TEMT    0x40
#define UART_LSR_RXFE    0x80

#define UART_MSR_DCTS    0x01
#define UART_MSR_DDSR    0x02
#define UART_MSR_TERI    0x04
#define UART_MSR_DDCD    0x08
#define UART_MSR_CTS     0x10
#define UART_MSR_DSR     0x20
#define UART_MSR_RI      0x40
#define UART_MSR_DCD     0x80

#endif
