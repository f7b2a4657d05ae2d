/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the 16550A UART, driven through a real struct bus the way
 * Linux's 8250 driver drives it: the autoconfig probe, THRE interrupts, LSR,
 * FIFO trigger levels and the character timeout, loopback, DLAB, interrupt
 * priorities and input flow control. The host end is a fake chardev built on
 * chardev-internal.h (output captured, input pushed through the client) on a
 * real loop, whose timers drive the character timeout.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vm/backend/chardev-internal.h"
#include "vm/bus.h"
#include "vm/hw/uart16550.h"
#include "vm/loop.h"

#define BASE 0x3f8

enum { RBR, IER, IIR, LCR, MCR, LSR, MSR, SCR };

struct fake_irq {
	bool level;
	unsigned raises, lowers;
};

struct fake_chr {
	struct chardev chr;
	uint8_t out[4096];
	size_t out_len;
	size_t limit; /* bytes it still takes before pushing back */
	unsigned accept_calls;
	bool closed;
	bool reenter; /* refuse one write but call write_ready from inside it */
};

struct t {
	struct vm_loop *loop;
	struct bus bus;
	struct fake_irq irq;
	struct fake_chr *fc;
	struct uart16550 *u;
};

static void fake_irq_set(void *opaque, unsigned n, bool level)
{
	struct fake_irq *irq = opaque;

	if (level && !irq->level)
		irq->raises++;
	if (!level && irq->level)
		irq->lowers++;
	irq->level = level;
}

static size_t fake_write(struct chardev *c, const uint8_t *buf, size_t len)
{
	struct fake_chr *f = container_of(c, struct fake_chr, chr);
	size_t n = len < f->limit ? len : f->limit;

	if (f->reenter) {
		f->reenter = false;
		c->client.write_ready(c->client.opaque);
		return 0;
	}
	if (n > sizeof(f->out) - f->out_len)
		n = sizeof(f->out) - f->out_len;
	memcpy(f->out + f->out_len, buf, n);
	f->out_len += n;
	f->limit -= n;
	return n;
}

static void fake_accept_input(struct chardev *c)
{
	container_of(c, struct fake_chr, chr)->accept_calls++;
}

static unsigned fake_closes;

static void fake_close(struct chardev *c)
{
	fake_closes++;
	free(container_of(c, struct fake_chr, chr));
}

static const struct chardev_ops fake_ops = {
        .name = "fake",
        .write = fake_write,
        .accept_input = fake_accept_input,
        .close = fake_close,
};

static struct t *setup_shift(unsigned shift, uint64_t base)
{
	struct t *t = calloc(1, sizeof(*t));
	struct vk_error err = {0};
	struct irq_line line = {.set = fake_irq_set, .opaque = &t->irq, .n = 4};

	assert_non_null(t);
	t->loop = vm_loop_new();
	assert_non_null(t->loop);
	bus_init(&t->bus, "pio");
	t->fc = calloc(1, sizeof(*t->fc));
	t->fc->chr.ops = &fake_ops;
	t->fc->chr.loop = t->loop;
	t->fc->limit = SIZE_MAX;
	t->u = uart16550_create(&t->bus, base, shift, line, &t->fc->chr, &err);
	assert_non_null(t->u);
	assert_false(vk_error_is_set(&err));
	return t;
}

static struct t *setup(void)
{
	return setup_shift(0, BASE);
}

static void teardown(struct t *t)
{
	unsigned closes = fake_closes;

	uart16550_destroy(t->u);
	assert_int_equal(fake_closes, closes + 1); /* the UART owns its chardev */
	assert_null(bus_lookup(&t->bus, BASE));
	bus_destroy(&t->bus);
	vm_loop_free(t->loop);
	free(t);
}

static uint8_t rd(struct t *t, unsigned reg)
{
	uint64_t v = 0xdead;

	assert_true(bus_read(&t->bus, BASE + reg, 1, &v));
	assert_true(v <= 0xff);
	return (uint8_t)v;
}

static void wr(struct t *t, unsigned reg, uint8_t v)
{
	assert_true(bus_write(&t->bus, BASE + reg, 1, v));
}

/* Push host input the way a backend does: only what can_receive allows. */
static size_t feed(struct t *t, const char *s, size_t len)
{
	struct chardev_client *c = &t->fc->chr.client;
	size_t room = c->can_receive(c->opaque);
	size_t n = len < room ? len : room;

	if (n)
		c->receive(c->opaque, (const uint8_t *)s, n);
	return n;
}

/* Run the loop until IIR reads want (the character timeout), at most ~5 s. */
static uint8_t wait_iir(struct t *t, uint8_t want)
{
	uint8_t iir = 0;

	for (int i = 0; i < 250; i++) {
		iir = rd(t, IIR);
		if (iir == want)
			break;
		vm_loop_poll(t->loop, 20 * 1000 * 1000);
	}
	return iir;
}

/* --- Linux's probe, as in drivers/tty/serial/8250/8250_port.c ------------ */

enum port_type { PORT_UNKNOWN, PORT_8250, PORT_16450, PORT_16550, PORT_16550A, PORT_OTHER };

static int size_fifo(struct t *t)
{
	uint8_t old_lcr = rd(t, LCR), old_fcr, old_mcr, dll, dlm;
	int count;

	wr(t, LCR, 0);
	old_fcr = rd(t, IIR);
	old_mcr = rd(t, MCR);
	wr(t, IIR, 0x07);
	wr(t, MCR, 0x10);
	wr(t, LCR, 0x80);
	dll = rd(t, RBR);
	dlm = rd(t, IER);
	wr(t, RBR, 1);
	wr(t, IER, 0);
	wr(t, LCR, 0x03);
	for (count = 0; count < 256; count++)
		wr(t, RBR, (uint8_t)count);
	for (count = 0; (rd(t, LSR) & 0x01) && count < 256; count++)
		rd(t, RBR);
	wr(t, IIR, old_fcr);
	wr(t, MCR, old_mcr);
	wr(t, LCR, 0x80);
	wr(t, RBR, dll);
	wr(t, IER, dlm);
	wr(t, LCR, old_lcr);
	return count;
}

static enum port_type linux_autoconfig(struct t *t)
{
	uint8_t scratch, scratch2, scratch3, save_mcr, save_lcr, status1, status2;

	/* Existence test through IER. */
	scratch = rd(t, IER);
	wr(t, IER, 0);
	scratch2 = rd(t, IER) & 0x0f;
	wr(t, IER, 0x0f);
	scratch3 = rd(t, IER) & 0x0f;
	wr(t, IER, scratch);
	if (scratch2 != 0 || scratch3 != 0x0f)
		return PORT_UNKNOWN;
	save_mcr = rd(t, MCR);
	save_lcr = rd(t, LCR);
	/* Loopback test: OUT2|RTS must read back as DCD|CTS. */
	wr(t, MCR, 0x10 | 0x0a);
	status1 = rd(t, MSR) & 0xf0;
	wr(t, MCR, save_mcr);
	if (status1 != 0x90)
		return PORT_UNKNOWN;
	/* EFR := 0 (LCR 0xBF), then FIFO enable and the IIR's top bits. */
	wr(t, LCR, 0xbf);
	wr(t, IIR, 0);
	wr(t, LCR, 0);
	wr(t, IIR, 0x01);
	switch (rd(t, IIR) >> 6) {
	case 0:
		return PORT_8250;
	case 1:
		return PORT_UNKNOWN;
	case 2:
		return PORT_16550;
	default:
		break;
	}
	/* autoconfig_16550a(): no EFR with DLAB (ST16C650V1) or LCR 0xBF (V2). */
	wr(t, LCR, 0x80);
	if (rd(t, IIR) == 0)
		return PORT_OTHER;
	wr(t, LCR, 0xbf);
	if (rd(t, IIR) == 0)
		return PORT_OTHER;
	/* National Semiconductor SuperIO: EXCR1 must not follow MCR's LOOP. */
	wr(t, LCR, 0);
	status1 = rd(t, MCR);
	wr(t, LCR, 0xe0);
	status2 = rd(t, IIR);
	if (!((status2 ^ status1) & 0x10)) {
		wr(t, LCR, 0);
		wr(t, MCR, status1 ^ 0x10);
		wr(t, LCR, 0xe0);
		status2 = rd(t, IIR);
		wr(t, LCR, 0);
		wr(t, MCR, status1);
		if ((status2 ^ status1) & 0x10)
			return PORT_OTHER;
	}
	/* TI16750: IIR bit 5 with the 64-byte FIFO bit, with and without DLAB. */
	wr(t, LCR, 0);
	wr(t, IIR, 0x01 | 0x20);
	status1 = rd(t, IIR) >> 5;
	wr(t, IIR, 0x01);
	wr(t, LCR, 0x80);
	wr(t, IIR, 0x01 | 0x20);
	status2 = rd(t, IIR) >> 5;
	wr(t, IIR, 0x01);
	wr(t, LCR, 0);
	if (status1 == 6 && status2 == 7)
		return PORT_OTHER;
	/* XScale: IER bit 6 (UUE) must not stick. */
	scratch = rd(t, IER);
	wr(t, IER, scratch & ~0x40);
	if (!(rd(t, IER) & 0x40)) {
		wr(t, IER, scratch | 0x40);
		if (rd(t, IER) & 0x40)
			return PORT_OTHER;
	}
	wr(t, IER, scratch);
	/* U6_16550A has 64 bytes of FIFO. */
	if (size_fifo(t) != 16)
		return PORT_OTHER;
	wr(t, LCR, save_lcr);
	/* Reset: MCR back, clear the FIFOs, read RX, IER 0. */
	wr(t, MCR, save_mcr);
	wr(t, IIR, 0x01);
	wr(t, IIR, 0x07);
	wr(t, IIR, 0);
	rd(t, RBR);
	wr(t, IER, 0);
	return PORT_16550A;
}

static void test_linux_autoconfig(void **state)
{
	struct t *t = setup();
	uint8_t iir1, iir, lsr;

	assert_int_equal(linux_autoconfig(t), PORT_16550A);
	/* The probe's loopback bytes never reached the host. */
	assert_int_equal(t->fc->out_len, 0);

	/* serial8250_do_startup(): clear, LSR safety check, then the THRE tests. */
	wr(t, IIR, 0x01);
	wr(t, IIR, 0x07);
	wr(t, IIR, 0);
	rd(t, LSR);
	rd(t, RBR);
	rd(t, IIR);
	rd(t, MSR);
	assert_int_not_equal(rd(t, LSR), 0xff);
	/* UART_BUG_THRE test: THRE must come back when ETBEI is re-enabled. */
	wr(t, IER, 0x02);
	iir1 = rd(t, IIR);
	wr(t, IER, 0);
	wr(t, IER, 0x02);
	iir = rd(t, IIR);
	wr(t, IER, 0);
	assert_int_equal(iir1 & 0x01, 0);
	assert_int_equal(iir & 0x01, 0);
	/* UART_BUG_TXEN test: TEMT with no interrupt pending means a bad part. */
	wr(t, LCR, 0x03);
	wr(t, MCR, 0x0b);
	wr(t, IER, 0x02);
	lsr = rd(t, LSR);
	iir = rd(t, IIR);
	wr(t, IER, 0);
	assert_true(lsr & 0x40);
	assert_int_equal(iir, 0x02); /* FIFOs are off until set_termios */
	assert_false(t->irq.level);
	teardown(t);
}

static void test_thre_interrupt(void **state)
{
	struct t *t = setup();
	unsigned raises;

	wr(t, IIR, 0x07); /* FIFOs on */
	assert_int_equal(rd(t, IIR), 0xc1);
	assert_false(t->irq.level);
	/* Enabling ETBEI with THR empty raises THRE at once. */
	wr(t, IER, 0x02);
	assert_true(t->irq.level);
	assert_int_equal(rd(t, IIR), 0xc2);
	/* That read acknowledged it. */
	assert_false(t->irq.level);
	assert_int_equal(rd(t, IIR), 0xc1);
	/* A write sends the byte at once and THRE comes back: a fresh edge. */
	raises = t->irq.raises;
	wr(t, RBR, 'A');
	assert_int_equal(t->fc->out_len, 1);
	assert_int_equal(t->fc->out[0], 'A');
	assert_true(t->irq.level);
	assert_int_equal(t->irq.raises, raises + 1);
	/* Writing THR while THRE is still pending also yields a new edge. */
	raises = t->irq.raises;
	wr(t, RBR, 'B');
	assert_int_equal(t->irq.raises, raises + 1);
	assert_true(t->irq.level);
	assert_int_equal(rd(t, IIR), 0xc2);
	assert_int_equal(rd(t, IIR), 0xc1);
	/* Switching ETBEI off forgets it; on again resamples it. */
	wr(t, IER, 0);
	assert_int_equal(rd(t, IIR), 0xc1);
	wr(t, IER, 0x02);
	assert_int_equal(rd(t, IIR), 0xc2);
	/* Re-writing IER with ETBEI already on does not re-raise it. */
	wr(t, IER, 0x02);
	assert_int_equal(rd(t, IIR), 0xc1);
	/* Without the FIFO the top bits are clear. */
	wr(t, IER, 0);
	wr(t, IIR, 0);
	assert_int_equal(rd(t, IIR), 0x01);
	assert_memory_equal(t->fc->out, "AB", 2);
	teardown(t);
}

static void test_thre_backpressure(void **state)
{
	struct t *t = setup();

	wr(t, IIR, 0x01);
	wr(t, IER, 0x02);
	assert_int_equal(rd(t, IIR), 0xc2);
	/* The host side is full: bytes wait in the TX FIFO, THRE/TEMT clear. */
	t->fc->limit = 1;
	wr(t, RBR, 'x');
	wr(t, RBR, 'y');
	wr(t, RBR, 'z');
	assert_int_equal(t->fc->out_len, 1);
	assert_int_equal(rd(t, LSR) & 0x60, 0);
	assert_int_equal(rd(t, IIR), 0xc1);
	assert_false(t->irq.level);
	/* Room again: the FIFO drains and THRE is raised. */
	t->fc->limit = SIZE_MAX;
	t->fc->chr.client.write_ready(t->fc->chr.client.opaque);
	assert_int_equal(t->fc->out_len, 3);
	assert_memory_equal(t->fc->out, "xyz", 3);
	assert_int_equal(rd(t, LSR) & 0x60, 0x60);
	assert_true(t->irq.level);
	assert_int_equal(rd(t, IIR), 0xc2);
	/* A guest that overruns a full TX FIFO loses bytes, nothing else. */
	t->fc->limit = 0;
	for (int i = 0; i < 40; i++)
		wr(t, RBR, (uint8_t)('a' + i % 26));
	t->fc->limit = SIZE_MAX;
	t->fc->chr.client.write_ready(t->fc->chr.client.opaque);
	assert_int_equal(t->fc->out_len, 3 + 16);
	assert_memory_equal(t->fc->out + 3, "abcdefghijklmnop", 16);
	/* write_ready from inside chardev_write(): retried, nothing lost or stuck. */
	t->fc->reenter = true;
	wr(t, RBR, '!');
	assert_int_equal(t->fc->out_len, 3 + 16 + 1);
	assert_int_equal(t->fc->out[19], '!');
	assert_int_equal(rd(t, LSR) & 0x60, 0x60);
	teardown(t);
}

static void test_lsr_bits(void **state)
{
	struct t *t = setup();

	wr(t, IIR, 0x07);
	assert_int_equal(rd(t, LSR), 0x60); /* THRE | TEMT, nothing received */
	assert_int_equal(feed(t, "hi", 2), 2);
	assert_int_equal(rd(t, LSR), 0x61);
	assert_int_equal(rd(t, RBR), 'h');
	assert_int_equal(rd(t, LSR), 0x61);
	assert_int_equal(rd(t, RBR), 'i');
	assert_int_equal(rd(t, LSR), 0x60);
	/* An empty FIFO reads as 0 and stays empty. */
	assert_int_equal(rd(t, RBR), 0);
	assert_int_equal(rd(t, LSR), 0x60);

	/* Overrun through loopback: the 17th byte is lost, OE until LSR is read. */
	wr(t, MCR, 0x10);
	for (int i = 0; i < 17; i++)
		wr(t, RBR, (uint8_t)('A' + i));
	assert_int_equal(rd(t, LSR), 0x63);
	assert_int_equal(rd(t, LSR), 0x61);
	for (int i = 0; i < 16; i++)
		assert_int_equal(rd(t, RBR), 'A' + i);
	assert_int_equal(rd(t, LSR), 0x60);

	/* Without the FIFO the holding register is overwritten. */
	wr(t, IIR, 0);
	wr(t, RBR, '1');
	wr(t, RBR, '2');
	assert_int_equal(rd(t, LSR), 0x63);
	assert_int_equal(rd(t, RBR), '2');
	assert_int_equal(rd(t, LSR), 0x60);

	/* A break sent in loopback arrives as NUL with BI (and FIFO error). */
	wr(t, IIR, 0x07);
	wr(t, RBR, 'q');
	wr(t, LCR, 0x43);
	wr(t, LCR, 0x03);
	assert_int_equal(rd(t, LSR), 0xe1); /* DR + RXFE, BI not at the top yet */
	assert_int_equal(rd(t, RBR), 'q');
	assert_int_equal(rd(t, LSR), 0xf1); /* the break is at the top now */
	assert_int_equal(rd(t, LSR), 0xe1); /* BI reported once */
	assert_int_equal(rd(t, RBR), 0);
	assert_int_equal(rd(t, LSR), 0x60);
	wr(t, MCR, 0);
	/* A break from the host (stdio Ctrl-A b) raises a line status interrupt. */
	wr(t, IER, 0x05);
	t->fc->chr.client.receive_break(t->fc->chr.client.opaque);
	assert_true(t->irq.level);
	assert_int_equal(rd(t, IIR), 0xc6);
	assert_int_equal(rd(t, LSR), 0xf1);
	assert_int_equal(rd(t, IIR), 0xc4); /* then the NUL itself is data */
	assert_int_equal(rd(t, RBR), 0);
	assert_int_equal(rd(t, IIR), 0xc1);
	teardown(t);
}

/* The host's own input (a power-off request's SysRq): break + key, bounded by the FIFO. */
static unsigned tapped;
static uint8_t tapped_last;

static void tap(void *opaque, uint8_t byte)
{
	tapped++;
	tapped_last = byte;
}

static void test_inject_and_tap(void **state)
{
	struct t *t = setup();

	wr(t, IIR, 0x07);
	wr(t, IER, 0x05);
	assert_int_equal(uart16550_inject(t->u, UART16550_BREAK), 0);
	assert_int_equal(uart16550_inject(t->u, 's'), 0);
	assert_true(t->irq.level);
	assert_int_equal(rd(t, IIR), 0xc6); /* line status first: the break */
	assert_int_equal(rd(t, LSR), 0xf1);
	assert_int_equal(rd(t, RBR), 0);
	assert_int_equal(rd(t, LSR), 0x61); /* the key is plain data */
	assert_int_equal(rd(t, RBR), 's');
	assert_int_equal(rd(t, LSR), 0x60);

	/* A full FIFO takes nothing more: -EAGAIN, and nothing is lost or overrun. */
	for (int i = 0; i < 16; i++)
		assert_int_equal(uart16550_inject(t->u, 'a' + i), 0);
	assert_int_equal(uart16550_inject(t->u, 'x'), -EAGAIN);
	assert_int_equal(rd(t, LSR) & 0x02, 0); /* no OE */
	for (int i = 0; i < 16; i++)
		assert_int_equal(rd(t, RBR), 'a' + i);
	/* Loopback keeps host input out. */
	wr(t, MCR, 0x10);
	assert_int_equal(uart16550_inject(t->u, 'y'), -EAGAIN);
	wr(t, MCR, 0);

	/* The tap sees what the guest transmits, and only that. */
	uart16550_set_tx_tap(t->u, tap, NULL);
	wr(t, RBR, 'Z');
	assert_int_equal(tapped, 1);
	assert_int_equal(tapped_last, 'Z');
	uart16550_set_tx_tap(t->u, NULL, NULL);
	wr(t, RBR, 'W');
	assert_int_equal(tapped, 1);
	teardown(t);
}

static void test_fifo_trigger_levels(void **state)
{
	static const struct {
		uint8_t fcr;
		unsigned level;
	} cases[] = {{0x01, 1}, {0x41, 4}, {0x81, 8}, {0xc1, 14}};
	const char data[] = "0123456789abcdef";

	for (unsigned c = 0; c < 4; c++) {
		struct t *t = setup();
		unsigned lvl = cases[c].level;

		wr(t, IIR, cases[c].fcr | 0x06);
		wr(t, IER, 0x01);
		if (lvl > 1) {
			/* Below the trigger: no interrupt until the timeout. */
			assert_int_equal(feed(t, data, lvl - 1), lvl - 1);
			assert_int_equal(rd(t, IIR), 0xc1);
			assert_false(t->irq.level);
			assert_int_equal(rd(t, LSR) & 0x01, 0x01);
			assert_int_equal(wait_iir(t, 0xcc), 0xcc);
			assert_true(t->irq.level);
			/* Reading a byte clears the timeout (and restarts its timer). */
			assert_int_equal(rd(t, RBR), '0');
			assert_int_equal(rd(t, IIR), 0xc1);
			assert_false(t->irq.level);
			/* Top the FIFO up to exactly the trigger level. */
			assert_int_equal(feed(t, data + lvl - 1, 2), 2);
			assert_int_equal(rd(t, IIR), 0xc4);
			assert_true(t->irq.level);
			for (unsigned i = 1; i <= lvl; i++)
				assert_int_equal(rd(t, RBR), data[i]);
		} else {
			assert_int_equal(feed(t, data, 1), 1);
			assert_int_equal(rd(t, IIR), 0xc4);
			assert_true(t->irq.level);
			assert_int_equal(rd(t, RBR), '0');
		}
		assert_int_equal(rd(t, IIR), 0xc1);
		assert_false(t->irq.level);
		assert_int_equal(rd(t, LSR) & 0x01, 0);
		teardown(t);
	}
}

static void test_loopback(void **state)
{
	struct t *t = setup();
	uint8_t msr;

	wr(t, IIR, 0x07);
	rd(t, MSR);
	/* Outside loopback: CTS, DSR and DCD asserted, no deltas. */
	assert_int_equal(rd(t, MSR), 0xb0);
	/* Loopback with nothing set: every line drops, with deltas. */
	wr(t, MCR, 0x10);
	assert_int_equal(rd(t, MSR), 0x0b);
	assert_int_equal(rd(t, MSR), 0x00);
	/* Each MCR output shows up on its MSR input. */
	wr(t, MCR, 0x10 | 0x02); /* RTS -> CTS */
	assert_int_equal(rd(t, MSR), 0x11);
	wr(t, MCR, 0x10 | 0x01); /* DTR -> DSR, CTS drops */
	assert_int_equal(rd(t, MSR), 0x23);
	wr(t, MCR, 0x10 | 0x04); /* OUT1 -> RI (no delta on the rising edge) */
	assert_int_equal(rd(t, MSR), 0x42);
	wr(t, MCR, 0x10 | 0x08); /* OUT2 -> DCD, RI trailing edge -> TERI */
	assert_int_equal(rd(t, MSR), 0x8c);
	wr(t, MCR, 0x1f);
	msr = rd(t, MSR);
	assert_int_equal(msr & 0xf0, 0xf0);
	assert_int_equal(rd(t, MCR), 0x1f);
	/* Modem status interrupt from a delta. */
	wr(t, IER, 0x08);
	wr(t, MCR, 0x1d);
	assert_true(t->irq.level);
	assert_int_equal(rd(t, IIR), 0xc0);
	assert_int_equal(rd(t, MSR), 0xe1);
	assert_int_equal(rd(t, IIR), 0xc1);
	assert_false(t->irq.level);
	wr(t, IER, 0);

	/* TX loops to RX and never reaches the host; host input waits. */
	wr(t, RBR, 'L');
	assert_int_equal(t->fc->out_len, 0);
	assert_int_equal(rd(t, LSR), 0x61);
	assert_int_equal(feed(t, "host", 4), 0);
	assert_int_equal(rd(t, RBR), 'L');
	/* Leaving loopback lets host input in again. */
	t->fc->accept_calls = 0;
	wr(t, MCR, 0x0b);
	assert_int_equal(t->fc->accept_calls, 1);
	assert_int_equal(feed(t, "host", 4), 4);
	assert_int_equal(rd(t, RBR), 'h');
	wr(t, RBR, 'T');
	assert_int_equal(t->fc->out_len, 1);
	assert_int_equal(t->fc->out[0], 'T');
	teardown(t);
}

static void test_dlab(void **state)
{
	struct t *t = setup();

	wr(t, IER, 0x05);
	assert_int_equal(feed(t, "r", 1), 1);
	wr(t, LCR, 0x83);
	wr(t, RBR, 0x34); /* DLL */
	wr(t, IER, 0x12); /* DLM */
	/* With DLAB set, RBR/IER reads give the divisor and pop nothing. */
	assert_int_equal(rd(t, RBR), 0x34);
	assert_int_equal(rd(t, IER), 0x12);
	assert_int_equal(rd(t, LCR), 0x83);
	wr(t, LCR, 0x03);
	assert_int_equal(t->fc->out_len, 0); /* no THR write happened */
	assert_int_equal(rd(t, IER), 0x05);  /* IER not clobbered */
	assert_int_equal(rd(t, RBR), 'r');
	/* And back again. */
	wr(t, LCR, 0x80);
	assert_int_equal(rd(t, RBR), 0x34);
	assert_int_equal(rd(t, IER), 0x12);
	/* FCR (offset 2) does not depend on DLAB. */
	wr(t, IIR, 0x01);
	assert_int_equal(rd(t, IIR) & 0xc0, 0xc0);
	wr(t, LCR, 0);
	/* SCR is a plain register. */
	wr(t, SCR, 0xa5);
	assert_int_equal(rd(t, SCR), 0xa5);
	teardown(t);
}

static void test_interrupt_priorities(void **state)
{
	struct t *t = setup();

	wr(t, IIR, 0x07); /* FIFO, trigger 1 */
	wr(t, MCR, 0x10);
	rd(t, MSR);
	for (int i = 0; i < 17; i++) /* 16 bytes and an overrun */
		wr(t, RBR, (uint8_t)i);
	wr(t, MCR, 0x12); /* CTS delta */
	wr(t, IER, 0x0f); /* THRE pending too */
	assert_true(t->irq.level);
	assert_int_equal(rd(t, IIR), 0xc6); /* line status first */
	assert_int_equal(rd(t, IIR), 0xc6); /* IIR reads do not clear it */
	assert_int_equal(rd(t, LSR), 0x63);
	assert_int_equal(rd(t, IIR), 0xc4); /* then received data */
	for (int i = 0; i < 16; i++)
		assert_int_equal(rd(t, RBR), i);
	assert_int_equal(rd(t, IIR), 0xc2); /* then THRE, cleared by this read */
	assert_int_equal(rd(t, IIR), 0xc0); /* then modem status */
	assert_true(t->irq.level);
	assert_int_equal(rd(t, MSR), 0x11);
	assert_int_equal(rd(t, IIR), 0xc1);
	assert_false(t->irq.level);
	/* Disabled sources do not interrupt. */
	wr(t, IER, 0);
	wr(t, RBR, 'x');
	wr(t, MCR, 0x10);
	assert_int_equal(rd(t, IIR), 0xc1);
	assert_false(t->irq.level);
	teardown(t);
}

static void test_input_flow_control(void **state)
{
	struct t *t = setup();
	char buf[20];
	struct chardev_client *c = &t->fc->chr.client;

	memset(buf, 'z', sizeof(buf));
	/* Without FIFO: one byte of room. */
	assert_int_equal(c->can_receive(c->opaque), 1);
	assert_int_equal(feed(t, "a", 1), 1);
	assert_int_equal(c->can_receive(c->opaque), 0);
	t->fc->accept_calls = 0;
	assert_int_equal(rd(t, RBR), 'a');
	assert_int_equal(t->fc->accept_calls, 1);
	/* With FIFO: room is what is left of 16 bytes. */
	wr(t, IIR, 0x01);
	assert_int_equal(c->can_receive(c->opaque), 16);
	assert_int_equal(feed(t, buf, 10), 10);
	assert_int_equal(c->can_receive(c->opaque), 6);
	assert_int_equal(feed(t, buf, 20), 6);
	assert_int_equal(c->can_receive(c->opaque), 0);
	assert_int_equal(rd(t, LSR) & 0x02, 0); /* flow control: no overrun */
	/* Room again after a read: the chardev hears about it once. */
	t->fc->accept_calls = 0;
	rd(t, RBR);
	assert_int_equal(t->fc->accept_calls, 1);
	rd(t, RBR);
	assert_int_equal(t->fc->accept_calls, 1);
	assert_int_equal(c->can_receive(c->opaque), 2);
	/* An RX FIFO reset frees everything. */
	assert_int_equal(feed(t, buf, 2), 2);
	assert_int_equal(c->can_receive(c->opaque), 0);
	wr(t, IIR, 0x03);
	assert_int_equal(t->fc->accept_calls, 2);
	assert_int_equal(c->can_receive(c->opaque), 16);
	assert_int_equal(rd(t, LSR) & 0x01, 0);
	teardown(t);
}

static void test_access_sizes_and_shift(void **state)
{
	struct t *t = setup_shift(2, 0x10000000);
	uint64_t v;

	/* reg_shift 2: registers 4 bytes apart, 32 bytes mapped. */
	assert_non_null(bus_lookup(&t->bus, 0x1000001f));
	assert_null(bus_lookup(&t->bus, 0x10000020));
	assert_true(bus_write(&t->bus, 0x10000000 + 7 * 4, 4, 0x123456a5));
	assert_true(bus_read(&t->bus, 0x10000000 + 7 * 4, 4, &v));
	assert_int_equal(v, 0xa5);
	assert_true(bus_read(&t->bus, 0x10000000 + 7 * 4, 1, &v));
	assert_int_equal(v, 0xa5);
	/* Bytes inside a register that are not its low byte read 0, ignore writes. */
	assert_true(bus_read(&t->bus, 0x10000000 + 7 * 4 + 1, 1, &v));
	assert_int_equal(v, 0);
	assert_true(bus_write(&t->bus, 0x10000000 + 0 * 4 + 2, 1, 'X'));
	assert_int_equal(t->fc->out_len, 0);
	/* A 2-byte THR write sends its low byte. */
	assert_true(bus_write(&t->bus, 0x10000000, 2, 0x4142));
	assert_int_equal(t->fc->out_len, 1);
	assert_int_equal(t->fc->out[0], 0x42);
	uart16550_destroy(t->u);
	bus_destroy(&t->bus);
	vm_loop_free(t->loop);
	free(t);
}

static void test_create_errors(void **state)
{
	struct t *t = setup();
	struct vk_error err = {0};
	struct irq_line none = {0};
	unsigned closes = fake_closes;
	struct fake_chr *fc = calloc(1, sizeof(*fc));

	fc->chr.ops = &fake_ops;
	/* Overlapping the first UART: refused, with the address, and chr closed. */
	assert_null(uart16550_create(&t->bus, BASE + 4, 0, none, &fc->chr, &err));
	assert_int_equal(err.code, EEXIST);
	assert_non_null(strstr(err.msg, "0x3fc"));
	assert_int_equal(fake_closes, closes + 1);
	vk_error_clear(&err);
	assert_null(uart16550_create(&t->bus, 0x2f8, 3, none, NULL, &err));
	assert_int_equal(err.code, EINVAL);
	/* No chardev: output vanishes, no input, the timeout is immediate. */
	{
		struct uart16550 *u2 = uart16550_create(&t->bus, 0x2f8, 0, none, NULL, &err);
		uint64_t v;

		assert_non_null(u2);
		assert_true(bus_write(&t->bus, 0x2f8 + IIR, 1, 0x41)); /* trigger 4 */
		assert_true(bus_write(&t->bus, 0x2f8 + IER, 1, 0x01));
		assert_true(bus_write(&t->bus, 0x2f8 + MCR, 1, 0x10));
		assert_true(bus_write(&t->bus, 0x2f8 + RBR, 1, 'a'));
		assert_true(bus_read(&t->bus, 0x2f8 + IIR, 1, &v));
		assert_int_equal(v, 0xcc);
		uart16550_destroy(u2);
	}
	uart16550_destroy(NULL);
	teardown(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_linux_autoconfig),
	        cmocka_unit_test(test_thre_interrupt),
	        cmocka_unit_test(test_thre_backpressure),
	        cmocka_unit_test(test_lsr_bits),
	        cmocka_unit_test(test_inject_and_tap),
	        cmocka_unit_test(test_fifo_trigger_levels),
	        cmocka_unit_test(test_loopback),
	        cmocka_unit_test(test_dlab),
	        cmocka_unit_test(test_interrupt_priorities),
	        cmocka_unit_test(test_input_flow_control),
	        cmocka_unit_test(test_access_sizes_and_shift),
	        cmocka_unit_test(test_create_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
