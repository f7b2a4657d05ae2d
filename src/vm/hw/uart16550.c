/* SPDX-License-Identifier: MIT */
/*
 * The 16550A UART: registers, FIFOs and interrupts as Linux's 8250 driver
 * (drivers/tty/serial/8250/8250_port.c) probes and drives them, with the host
 * end on a character device.
 *
 * The emulated line is infinitely fast: a byte written to THR goes to the
 * chardev at once, so THRE/TEMT are set again right after the write (and a
 * THRE interrupt is due again). Only when the chardev pushes back (its queue
 * is full while somebody is connected) do bytes wait in the TX FIFO, with
 * THRE clear, until the chardev's write_ready callback.
 *
 * Interrupts (IIR, highest priority first): line status (OE/BI) > received
 * data (trigger level reached) or character timeout > THR empty > modem
 * status. The line is level: high while any enabled condition holds.
 *   - THRE: enabling ETBEI while THR is empty raises it at once (Linux's
 *     UART_BUG_THRE and TXEN probes in serial8250_do_startup() check this);
 *     reading IIR while it reports THRE clears it; writing THR clears it; it
 *     comes back when the FIFO drains.
 *   - Character timeout (IIR 0x0C, FIFO mode): data sits in the RX FIFO and
 *     no byte was received or read for 4 character times (a loop timer, the
 *     character time from LCR and the divisor at the PC's 1.8432 MHz clock,
 *     clamped to [100 us, 10 ms] so a slow guest setting never makes the
 *     console sluggish). Without a chardev (no loop) it is reported at once.
 *
 * OUT2 does not gate the interrupt. On a real PC, OUT2 enables the UART's
 * ISA IRQ driver, but Linux sets OUT2 whenever it owns an IRQ for the port
 * (serial8250_do_startup(), x86 and riscv alike) and clears IER before it
 * drops OUT2 at shutdown, so the gate changes nothing Linux can see; on
 * riscv virt (as on most SoCs) OUT2 is not wired at all. QEMU does not gate
 * either.
 *
 * Loopback (MCR bit 4): TX goes to RX instead of the chardev, host input
 * waits, and MSR reflects MCR: RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD.
 * Outside loopback the modem lines read CTS, DSR and DCD asserted.
 *
 * The register map (numbers and bits) is in uart16550-regs.h.
 */
#include "vm/hw/uart16550.h"
#include "vm/hw/uart16550-regs.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "vm/loop.h"
#include "vm/registry.h"

#define UART_FIFO 16
#define RX_BREAK  0x100 /* flag on an RX FIFO entry: received as a break */

struct uart16550 {
	struct bus *bus;
	uint64_t base;
	unsigned shift;
	struct irq_line irq;
	bool irq_level;
	struct chardev *chr;
	struct vm_timer *timer; /* character timeout; NULL without a loop */

	uint8_t ier, lcr, mcr, scr, dll, dlm;
	uint8_t fcr;    /* UART_FCR_ENABLE | UART_FCR_TRIGGER bits */
	uint8_t lsr_oe; /* sticky OE, cleared by reading LSR */
	bool lsr_bi;    /* the break at the top of the RX FIFO, not yet seen in LSR */
	uint8_t msr;    /* line bits (high nibble) and delta bits (low nibble) */
	bool thr_ipending, timeout_ipending;

	uint16_t rx[UART_FIFO]; /* byte | RX_BREAK */
	unsigned rx_head, rx_count;
	uint8_t tx[UART_FIFO];
	unsigned tx_head, tx_count;
	bool rx_blocked;    /* can_receive said 0: call chardev_accept_input on room */
	bool tx_waiting;    /* the chardev was full: wait for write_ready */
	bool tx_flushing;   /* inside chardev_write(): write_ready must not re-enter */
	bool tx_ready_seen; /* write_ready came while flushing */
	uint64_t rx_last_ns;
	/* An observer of what the guest transmits (uart16550_set_tx_tap), or NULL. */
	void (*tx_tap)(void *opaque, uint8_t byte);
	void *tx_tap_opaque;
};

static bool uart_fifo_on(const struct uart16550 *u)
{
	return u->fcr & UART_FCR_ENABLE;
}

static unsigned uart_fifo_cap(const struct uart16550 *u)
{
	return uart_fifo_on(u) ? UART_FIFO : 1;
}

static unsigned uart_trigger(const struct uart16550 *u)
{
	static const unsigned levels[4] = {1, 4, 8, 14};

	return uart_fifo_on(u) ? levels[u->fcr >> 6] : 1;
}

static uint8_t uart_iir_id(const struct uart16550 *u)
{
	if ((u->ier & UART_IER_ELSI) && (u->lsr_oe || u->lsr_bi))
		return UART_IIR_RLSI;
	if ((u->ier & UART_IER_ERBFI) && u->timeout_ipending)
		return UART_IIR_CTI;
	if ((u->ier & UART_IER_ERBFI) && u->rx_count && u->rx_count >= uart_trigger(u))
		return UART_IIR_RDI;
	if ((u->ier & UART_IER_ETBEI) && u->thr_ipending)
		return UART_IIR_THRI;
	if ((u->ier & UART_IER_EDSSI) && (u->msr & 0x0f))
		return UART_IIR_MSI;
	return UART_IIR_NO_INT;
}

static void uart_update_irq(struct uart16550 *u)
{
	bool level = uart_iir_id(u) != UART_IIR_NO_INT;

	if (level != u->irq_level) {
		u->irq_level = level;
		irq_set(&u->irq, level);
	}
}

/* --- receive side -------------------------------------------------------- */

/* Four character times at the programmed rate (see the header comment). */
static uint64_t uart_timeout_ns(const struct uart16550 *u)
{
	unsigned divisor = (unsigned)u->dll | (unsigned)u->dlm << 8;
	unsigned bits =
	        1 + 5 + (u->lcr & 3) + ((u->lcr & 0x08) ? 1 : 0) + ((u->lcr & 0x04) ? 2 : 1);
	uint64_t ns = 4ull * bits * (divisor ? divisor : 1) * 1000000000ull / 115200;

	return VK_MIN(VK_MAX(ns, 100000ull), 10000000ull);
}

static void uart_timeout_arm(struct uart16550 *u)
{
	if (!u->rx_count || !uart_fifo_on(u))
		return;
	if (!u->timer) {
		u->timeout_ipending = true;
		return;
	}
	if (!vm_timer_pending(u->timer))
		vm_timer_mod(u->timer, u->rx_last_ns + uart_timeout_ns(u));
}

static void uart_timeout_cb(void *opaque)
{
	struct uart16550 *u = opaque;
	uint64_t deadline = u->rx_last_ns + uart_timeout_ns(u);

	if (!u->rx_count || !uart_fifo_on(u))
		return;
	if (vk_now_ns() < deadline) {
		/* Bytes came or went since the timer was armed: wait on. */
		vm_timer_mod(u->timer, deadline);
		return;
	}
	u->timeout_ipending = true;
	uart_update_irq(u);
}

static void uart_rx_has_room(struct uart16550 *u)
{
	if (u->rx_blocked && !(u->mcr & UART_MCR_LOOP) && u->rx_count < uart_fifo_cap(u)) {
		u->rx_blocked = false;
		chardev_accept_input(u->chr);
	}
}

static void uart_rx_push(struct uart16550 *u, uint16_t v)
{
	if (u->rx_count >= uart_fifo_cap(u)) {
		u->lsr_oe = UART_LSR_OE;
		/* FIFO mode loses the new byte; a 16450-style RBR is overwritten. */
		if (!uart_fifo_on(u))
			u->rx[u->rx_head] = v;
	} else {
		u->rx[(u->rx_head + u->rx_count) % UART_FIFO] = v;
		if (u->rx_count++ == 0 && (v & RX_BREAK))
			u->lsr_bi = true;
	}
	u->rx_last_ns = vk_now_ns();
	uart_timeout_arm(u);
}

static uint8_t uart_rx_pop(struct uart16550 *u)
{
	uint16_t v;

	if (!u->rx_count)
		return 0;
	v = u->rx[u->rx_head];
	u->rx_head = (u->rx_head + 1) % UART_FIFO;
	u->rx_count--;
	u->timeout_ipending = false;
	u->rx_last_ns = vk_now_ns();
	if (u->rx_count && (u->rx[u->rx_head] & RX_BREAK))
		u->lsr_bi = true;
	uart_timeout_arm(u);
	uart_rx_has_room(u);
	return (uint8_t)v;
}

static void uart_rx_reset(struct uart16550 *u)
{
	u->rx_head = u->rx_count = 0;
	u->timeout_ipending = false;
	u->lsr_bi = false;
	vm_timer_del(u->timer);
	uart_rx_has_room(u);
}

static size_t uart_can_receive(void *opaque)
{
	struct uart16550 *u = opaque;
	size_t room = (u->mcr & UART_MCR_LOOP) ? 0 : uart_fifo_cap(u) - u->rx_count;

	if (!room)
		u->rx_blocked = true;
	return room;
}

static void uart_receive(void *opaque, const uint8_t *buf, size_t len)
{
	struct uart16550 *u = opaque;

	for (size_t i = 0; i < len; i++)
		uart_rx_push(u, buf[i]);
	uart_update_irq(u);
}

static void uart_receive_break(void *opaque)
{
	struct uart16550 *u = opaque;

	if (u->mcr & UART_MCR_LOOP)
		return;
	uart_rx_push(u, RX_BREAK);
	uart_update_irq(u);
}

/* --- transmit side ------------------------------------------------------- */

static void uart_tx_flush(struct uart16550 *u)
{
	bool retried = false;

	if (u->tx_flushing)
		return;
	u->tx_flushing = true;
	while (u->tx_count && !u->tx_waiting) {
		size_t len = VK_MIN(u->tx_count, UART_FIFO - u->tx_head);
		size_t n;

		u->tx_ready_seen = false;
		n = u->chr ? chardev_write(u->chr, u->tx + u->tx_head, len) : len;
		if (n > len)
			n = len;
		u->tx_head = (u->tx_head + (unsigned)n) % UART_FIFO;
		u->tx_count -= (unsigned)n;
		if (n < len) {
			/* Room freed while we were writing: try once more, else wait. */
			if (u->tx_ready_seen && !retried) {
				retried = true;
				continue;
			}
			u->tx_waiting = true;
		}
	}
	u->tx_flushing = false;
	if (!u->tx_count) {
		u->tx_head = 0;
		u->thr_ipending = true; /* THR empty again */
	}
}

static void uart_write_ready(void *opaque)
{
	struct uart16550 *u = opaque;

	u->tx_waiting = false;
	if (u->tx_flushing) {
		/* Called back from inside our own chardev_write(): the loop goes on. */
		u->tx_ready_seen = true;
		return;
	}
	uart_tx_flush(u);
	uart_update_irq(u);
}

static void uart_thr_write(struct uart16550 *u, uint8_t v)
{
	/* Writing THR clears the THRE interrupt (an edge for edge-triggered pins). */
	u->thr_ipending = false;
	uart_update_irq(u);
	if (u->mcr & UART_MCR_LOOP) {
		uart_rx_push(u, v);
		u->thr_ipending = true;
		return;
	}
	if (u->tx_count >= uart_fifo_cap(u))
		return; /* the guest overran the transmitter: the byte is lost */
	if (u->tx_tap)
		u->tx_tap(u->tx_tap_opaque, v);
	u->tx[(u->tx_head + u->tx_count) % UART_FIFO] = v;
	u->tx_count++;
	uart_tx_flush(u);
}

static void uart_tx_reset(struct uart16550 *u)
{
	u->tx_head = u->tx_count = 0;
	u->thr_ipending = true;
}

/* --- registers ----------------------------------------------------------- */

static uint8_t uart_msr_lines(const struct uart16550 *u)
{
	uint8_t m = u->mcr;

	if (!(m & UART_MCR_LOOP))
		return UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD;
	return ((m & UART_MCR_RTS) ? UART_MSR_CTS : 0) | ((m & UART_MCR_DTR) ? UART_MSR_DSR : 0) |
	       ((m & UART_MCR_OUT1) ? UART_MSR_RI : 0) | ((m & UART_MCR_OUT2) ? UART_MSR_DCD : 0);
}

static void uart_set_msr_lines(struct uart16550 *u, uint8_t lines)
{
	uint8_t old = u->msr & 0xf0, changed = old ^ lines;
	uint8_t delta = u->msr & 0x0f;

	if (changed & UART_MSR_CTS)
		delta |= UART_MSR_DCTS;
	if (changed & UART_MSR_DSR)
		delta |= UART_MSR_DDSR;
	if (changed & UART_MSR_DCD)
		delta |= UART_MSR_DDCD;
	if ((old & UART_MSR_RI) && !(lines & UART_MSR_RI))
		delta |= UART_MSR_TERI; /* trailing edge only */
	u->msr = lines | delta;
}

static void uart_mcr_write(struct uart16550 *u, uint8_t v)
{
	u->mcr = v & 0x1f;
	uart_set_msr_lines(u, uart_msr_lines(u));
	uart_rx_has_room(u); /* leaving loopback lets host input in again */
}

static void uart_lcr_write(struct uart16550 *u, uint8_t v)
{
	bool brk_on = (v & UART_LCR_BREAK) && !(u->lcr & UART_LCR_BREAK);

	u->lcr = v;
	/* A break sent in loopback arrives as a NUL with BI. */
	if (brk_on && (u->mcr & UART_MCR_LOOP))
		uart_rx_push(u, RX_BREAK);
}

static void uart_ier_write(struct uart16550 *u, uint8_t v)
{
	uint8_t changed = (u->ier ^ v) & UART_IER_ETBEI;

	u->ier = v & 0x0f;
	/*
	 * THRE is resampled when ETBEI is switched on, even if the condition
	 * was acknowledged by an IIR read before; switching it off forgets it.
	 */
	if (changed)
		u->thr_ipending = (u->ier & UART_IER_ETBEI) && u->tx_count == 0;
}

static void uart_fcr_write(struct uart16550 *u, uint8_t v)
{
	bool on = v & UART_FCR_ENABLE;

	if (on != uart_fifo_on(u)) {
		/* Switching the FIFOs on or off empties both. */
		u->fcr = on ? UART_FCR_ENABLE : 0;
		uart_rx_reset(u);
		uart_tx_reset(u);
	}
	if (!on)
		return;
	u->fcr = UART_FCR_ENABLE | (v & UART_FCR_TRIGGER);
	if (v & UART_FCR_CLR_RX)
		uart_rx_reset(u);
	if (v & UART_FCR_CLR_TX)
		uart_tx_reset(u);
}

static uint8_t uart_lsr_read(struct uart16550 *u)
{
	uint8_t v = u->lsr_oe | (u->lsr_bi ? UART_LSR_BI : 0);

	if (u->rx_count)
		v |= UART_LSR_DR;
	if (!u->tx_count)
		v |= UART_LSR_THRE | UART_LSR_TEMT;
	if (uart_fifo_on(u)) {
		for (unsigned i = 0; i < u->rx_count; i++)
			if (u->rx[(u->rx_head + i) % UART_FIFO] & RX_BREAK)
				v |= UART_LSR_RXFE;
	}
	u->lsr_oe = 0;
	u->lsr_bi = false;
	return v;
}

static uint8_t uart_reg_read(struct uart16550 *u, unsigned reg)
{
	uint8_t v;

	switch (reg) {
	case UART_RBR:
		return (u->lcr & UART_LCR_DLAB) ? u->dll : uart_rx_pop(u);
	case UART_IER:
		return (u->lcr & UART_LCR_DLAB) ? u->dlm : u->ier;
	case UART_IIR:
		v = uart_iir_id(u);
		if (v == UART_IIR_THRI)
			u->thr_ipending = false; /* reading IIR acknowledges THRE */
		return v | (uart_fifo_on(u) ? UART_IIR_FIFO : 0);
	case UART_LCR:
		return u->lcr;
	case UART_MCR:
		return u->mcr;
	case UART_LSR:
		return uart_lsr_read(u);
	case UART_MSR:
		v = u->msr;
		u->msr &= 0xf0;
		return v;
	default:
		return u->scr;
	}
}

static void uart_reg_write(struct uart16550 *u, unsigned reg, uint8_t v)
{
	switch (reg) {
	case UART_RBR:
		if (u->lcr & UART_LCR_DLAB)
			u->dll = v;
		else
			uart_thr_write(u, v);
		break;
	case UART_IER:
		if (u->lcr & UART_LCR_DLAB)
			u->dlm = v;
		else
			uart_ier_write(u, v);
		break;
	case UART_IIR:
		uart_fcr_write(u, v); /* FCR does not depend on DLAB */
		break;
	case UART_LCR:
		uart_lcr_write(u, v);
		break;
	case UART_MCR:
		uart_mcr_write(u, v);
		break;
	case UART_SCR:
		u->scr = v;
		break;
	default:
		break; /* LSR and MSR are read-only here (factory test on real parts) */
	}
}

static uint64_t uart_bus_read(void *opaque, uint64_t offset, unsigned size)
{
	struct uart16550 *u = opaque;
	uint8_t v;

	if (offset & ((1u << u->shift) - 1))
		return 0;
	v = uart_reg_read(u, (unsigned)(offset >> u->shift) & 7);
	uart_update_irq(u);
	return v;
}

static void uart_bus_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	struct uart16550 *u = opaque;

	if (offset & ((1u << u->shift) - 1))
		return;
	uart_reg_write(u, (unsigned)(offset >> u->shift) & 7, (uint8_t)value);
	uart_update_irq(u);
}

static const struct bus_ops uart16550_ops = {
        .read = uart_bus_read,
        .write = uart_bus_write,
};

/* --- the host's own input (power-off requests) ---------------------------- */

int uart16550_inject(struct uart16550 *u, int c)
{
	/* Loopback keeps host input out, as it does the chardev's. */
	if ((u->mcr & UART_MCR_LOOP) || u->rx_count >= uart_fifo_cap(u))
		return -EAGAIN;
	uart_rx_push(u, c == UART16550_BREAK ? RX_BREAK : (uint16_t)(uint8_t)c);
	uart_update_irq(u);
	return 0;
}

void uart16550_set_tx_tap(struct uart16550 *u, void (*tap)(void *opaque, uint8_t byte),
                          void *opaque)
{
	u->tx_tap = tap;
	u->tx_tap_opaque = opaque;
}

struct uart16550 *uart16550_create(struct bus *bus, uint64_t base, unsigned reg_shift,
                                   struct irq_line irq, struct chardev *chr, struct vk_error *err)
{
	struct vm_loop *loop = chardev_get_loop(chr);
	struct uart16550 *u = NULL;
	int ret;

	if (reg_shift > 2) {
		vk_error_set(err, EINVAL,
		             "16550 UART at 0x%llx: register shift %u is not 0, 1 or 2",
		             (unsigned long long)base, reg_shift);
		goto fail;
	}
	u = calloc(1, sizeof(*u));
	if (!u || (loop && !(u->timer = vm_timer_new(loop, uart_timeout_cb, u)))) {
		vk_error_errno(err, ENOMEM, "cannot create the 16550 UART at 0x%llx",
		               (unsigned long long)base);
		goto fail;
	}
	u->bus = bus;
	u->base = base;
	u->shift = reg_shift;
	u->irq = irq;
	u->chr = chr;
	u->dll = 1; /* 115200 baud at 1.8432 MHz until the guest programs it */
	u->msr = uart_msr_lines(u);
	u->thr_ipending = false;
	ret = bus_register(bus, base, 8ull << reg_shift, &uart16550_ops, u, "uart16550");
	if (ret < 0) {
		vk_error_errno(err, -ret, "cannot map the 16550 UART at 0x%llx on the %s bus",
		               (unsigned long long)base, bus->name ? bus->name : "?");
		goto fail;
	}
	if (chr) {
		struct chardev_client client = {
		        .can_receive = uart_can_receive,
		        .receive = uart_receive,
		        .opaque = u,
		        .write_ready = uart_write_ready,
		        .receive_break = uart_receive_break,
		};
		chardev_attach(chr, &client);
	}
	return u;
fail:
	if (u)
		vm_timer_free(u->timer);
	free(u);
	chardev_close(chr);
	return NULL;
}

void uart16550_destroy(struct uart16550 *u)
{
	if (!u)
		return;
	(void)bus_unregister(u->bus, u->base);
	if (u->chr) {
		chardev_attach(u->chr, NULL);
		chardev_close(u->chr);
	}
	vm_timer_free(u->timer);
	free(u);
}

/* --- saving and restoring (registry.h) ----------------------------------- */

/*
 * The registers, both FIFOs (the receive FIFO with its break flags), the
 * pending interrupt conditions and the line's level. Host-side flow control
 * (rx_blocked, tx_waiting) belongs to the chardev and starts afresh.
 */
static void uart_state_save(void *opaque, struct vm_state_buf *b)
{
	struct uart16550 *u = opaque;

	vm_state_put_u8(b, u->ier);
	vm_state_put_u8(b, u->lcr);
	vm_state_put_u8(b, u->mcr);
	vm_state_put_u8(b, u->scr);
	vm_state_put_u8(b, u->dll);
	vm_state_put_u8(b, u->dlm);
	vm_state_put_u8(b, u->fcr);
	vm_state_put_u8(b, u->lsr_oe);
	vm_state_put_bool(b, u->lsr_bi);
	vm_state_put_u8(b, u->msr);
	vm_state_put_bool(b, u->thr_ipending);
	vm_state_put_bool(b, u->timeout_ipending);
	vm_state_put_bool(b, u->irq_level);
	vm_state_put_u8(b, (uint8_t)u->rx_count);
	for (unsigned i = 0; i < u->rx_count; i++)
		vm_state_put_u16(b, u->rx[(u->rx_head + i) % UART_FIFO]);
	vm_state_put_u8(b, (uint8_t)u->tx_count);
	for (unsigned i = 0; i < u->tx_count; i++)
		vm_state_put_u8(b, u->tx[(u->tx_head + i) % UART_FIFO]);
}

static int uart_state_load(void *opaque, struct vm_state_rd *r, uint32_t version,
                           struct vk_error *err)
{
	struct uart16550 *u = opaque;

	u->ier = vm_state_get_u8(r);
	u->lcr = vm_state_get_u8(r);
	u->mcr = vm_state_get_u8(r);
	u->scr = vm_state_get_u8(r);
	u->dll = vm_state_get_u8(r);
	u->dlm = vm_state_get_u8(r);
	u->fcr = vm_state_get_u8(r);
	u->lsr_oe = vm_state_get_u8(r);
	u->lsr_bi = vm_state_get_bool(r);
	u->msr = vm_state_get_u8(r);
	u->thr_ipending = vm_state_get_bool(r);
	u->timeout_ipending = vm_state_get_bool(r);
	u->irq_level = vm_state_get_bool(r);
	u->rx_head = u->tx_head = 0;
	u->rx_count = vm_state_get_u8(r);
	if (u->rx_count > UART_FIFO || (u->fcr & ~(UART_FCR_ENABLE | 0xc0)) ||
	    (u->lsr_oe & ~UART_LSR_OE))
		return vk_error_set(err, EINVAL, "UART FIFO of %u bytes or FCR 0x%x", u->rx_count,
		                    u->fcr);
	for (unsigned i = 0; i < u->rx_count; i++) {
		u->rx[i] = vm_state_get_u16(r);
		if (u->rx[i] & ~(RX_BREAK | 0xffu))
			return vk_error_set(err, EINVAL, "UART FIFO entry 0x%x", u->rx[i]);
	}
	u->tx_count = vm_state_get_u8(r);
	if (u->tx_count > UART_FIFO)
		return vk_error_set(err, EINVAL, "UART FIFO of %u bytes", u->tx_count);
	for (unsigned i = 0; i < u->tx_count; i++)
		u->tx[i] = vm_state_get_u8(r);
	u->rx_blocked = u->tx_waiting = u->tx_flushing = u->tx_ready_seen = false;
	u->rx_last_ns = vk_now_ns();
	return 0;
}

/* The line to the interrupt controller as saved; the FIFOs' timers and output go on. */
static int uart_state_post_load(void *opaque, struct vk_error *err)
{
	struct uart16550 *u = opaque;

	irq_set(&u->irq, u->irq_level);
	uart_timeout_arm(u);
	uart_tx_flush(u);
	uart_update_irq(u);
	return 0;
}

static const struct vm_device_ops uart_state_ops = {
        .kind = "uart16550",
        .version = 1,
        .save = uart_state_save,
        .load = uart_state_load,
        .post_load = uart_state_post_load,
};

int uart16550_register(struct uart16550 *u, struct vm_registry *reg, const char *name,
                       struct vk_error *err)
{
	return vm_registry_add(reg, name, &uart_state_ops, u, err);
}
