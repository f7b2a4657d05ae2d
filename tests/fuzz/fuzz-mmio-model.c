/* SPDX-License-Identifier: MIT */
/*
 * The checking half of the MMIO fuzz harness: every guest access goes through
 * guest_access(), which updates the harness's model of what the guest can
 * infer (PLIC claims in service, the CLINT's mtime offset, the UART's
 * transmitter and plain registers, test finisher events) and checks reads
 * against it; check_all() checks the invariants listed in fuzz-mmio.c.
 */
#include <string.h>

#include "fuzz-mmio.h"
#include "vm/hw/uart16550-regs.h"
#include "vm/virtio/virtio-spec.h"

/* ---- bus helpers --------------------------------------------------------- */

uint64_t fz_rd(uint64_t addr, unsigned size)
{
	uint64_t v = 0;

	CHECK(bus_read(&fz.bus, addr, size, &v), "no device at 0x%llx", (unsigned long long)addr);
	return v;
}

void fz_wr(uint64_t addr, unsigned size, uint64_t v)
{
	CHECK(bus_write(&fz.bus, addr, size, v), "no device at 0x%llx", (unsigned long long)addr);
}

/* ---- PLIC: the registers as the guest sees them ------------------------- */

struct plic_view {
	uint32_t prio[PLIC_MAX_SOURCES];
	uint32_t pending[P_WORDS];
};

static void plic_view_read(struct plic_view *v)
{
	for (unsigned s = 0; s < PLIC_MAX_SOURCES; s++)
		v->prio[s] = s < fz.nr_sources ? (uint32_t)fz_rd(PLIC_BASE + 4 * s, 4) : 0;
	for (unsigned w = 0; w < P_WORDS; w++)
		v->pending[w] = (uint32_t)fz_rd(PLIC_BASE + P_PENDING + 4 * w, 4);
}

static bool bit(const uint32_t *w, unsigned n)
{
	return (w[n / 32] >> (n % 32)) & 1;
}

/* The source a claim by context c must return now. */
static unsigned plic_expect(const struct plic_view *v, unsigned c)
{
	uint32_t thr = (uint32_t)fz_rd(PLIC_BASE + P_CONTEXT + c * P_CSTRIDE, 4);
	uint32_t en[P_WORDS];
	unsigned best = 0;

	CHECK(thr <= 7, "PLIC threshold %u out of range", thr);
	for (unsigned w = 0; w < P_WORDS; w++)
		en[w] = (uint32_t)fz_rd(PLIC_BASE + P_ENABLE + c * P_ESTRIDE + 4 * w, 4);
	CHECK(!(en[0] & 1), "PLIC source 0 enabled");
	for (unsigned s = 1; s < PLIC_MAX_SOURCES; s++) {
		if (s >= fz.nr_sources) {
			CHECK(!bit(en, s), "PLIC enable bit %u beyond the sources", s);
			continue;
		}
		if (bit(v->pending, s) && bit(en, s) && v->prio[s] > thr &&
		    (!best || v->prio[s] > v->prio[best]))
			best = s;
	}
	return best;
}

static void check_plic(void)
{
	struct plic_view v;

	if (!fz.plic_dirty)
		return;
	fz.plic_dirty = false;
	plic_view_read(&v);
	for (unsigned s = 0; s < PLIC_MAX_SOURCES; s++) {
		bool p = bit(v.pending, s);

		CHECK(v.prio[s] <= 7, "PLIC priority %u of source %u", v.prio[s], s);
		if (s == 0 || s >= fz.nr_sources)
			CHECK(!p, "PLIC source %u pending but does not exist", s);
		else if (fz.in_service[s])
			CHECK(!p, "PLIC source %u pending while in service", s);
		else
			CHECK(p == fz.level[s], "PLIC source %u: pending %d, line %d", s, p,
			      fz.level[s]);
	}
	for (unsigned c = 0; c < fz.nr_ctx; c++)
		CHECK(fz.ctx_line[c] == (plic_expect(&v, c) != 0), "PLIC context %u line %d", c,
		      fz.ctx_line[c]);
}

/* Is [off, off+size) the claim/complete register of a context? */
static bool plic_claim_reg(uint64_t off, unsigned size, unsigned *ctx)
{
	if (size != 4 || (off & 3) || off < P_CONTEXT || (off - P_CONTEXT) % P_CSTRIDE != 4)
		return false;
	*ctx = (unsigned)((off - P_CONTEXT) / P_CSTRIDE);
	return *ctx < fz.nr_ctx;
}

static void plic_access(uint64_t off, unsigned size, bool write, uint64_t value, uint64_t *out)
{
	struct plic_view v;
	unsigned c, want, n = (uint32_t)value;

	fz.plic_dirty = true;
	if (!plic_claim_reg(off, size, &c)) {
		if (write)
			fz_wr(PLIC_BASE + off, size, value);
		else
			*out = fz_rd(PLIC_BASE + off, size);
		return;
	}
	if (write) {
		/* Completion: ignored unless the source is enabled for this context. */
		uint32_t en = 0;

		if (n > 0 && n < fz.nr_sources)
			en = (uint32_t)fz_rd(PLIC_BASE + P_ENABLE + c * P_ESTRIDE + 4 * (n / 32),
			                     4);
		fz_wr(PLIC_BASE + off, size, value);
		if (n > 0 && n < fz.nr_sources && ((en >> (n % 32)) & 1))
			fz.in_service[n] = false;
		return;
	}
	plic_view_read(&v);
	want = plic_expect(&v, c);
	*out = fz_rd(PLIC_BASE + off, size);
	CHECK(*out == want, "PLIC context %u claimed %llu, expected %u", c,
	      (unsigned long long)*out, want);
	if (want) {
		CHECK(!fz.in_service[want], "PLIC claimed source %u twice", want);
		fz.in_service[want] = true;
	}
}

/* ---- CLINT --------------------------------------------------------------- */

static uint64_t merge(uint64_t reg, unsigned sub, uint64_t value, unsigned size)
{
	uint64_t mask = size == 8 ? UINT64_MAX : (1ull << (8 * size)) - 1;

	return (reg & ~(mask << (8 * sub))) | ((value & mask) << (8 * sub));
}

static void clint_access(uint64_t off, unsigned size, bool write, uint64_t value, uint64_t *out)
{
	if (!write) {
		*out = fz_rd(CLINT_BASE + off, size);
		return;
	}
	if (off >= C_MTIME && off + size <= C_MTIME + 8 && !(off & (size - 1))) {
		uint64_t old = fz.now + fz.mtime_offset;
		uint64_t delta = merge(old, (unsigned)(off - C_MTIME), value, size) - old;
		fz.mtime_offset += delta;
	}
	fz_wr(CLINT_BASE + off, size, value);
}

static void check_clint(void)
{
	uint64_t mtime = fz_rd(CLINT_BASE + C_MTIME, 8), first = UINT64_MAX;
	uint64_t deadline = clint_ticks_to_deadline(fz.clint);

	CHECK(mtime == fz.now + fz.mtime_offset, "CLINT mtime %llu, expected %llu",
	      (unsigned long long)mtime, (unsigned long long)(fz.now + fz.mtime_offset));
	for (unsigned h = 0; h < fz.nr_harts; h++) {
		uint64_t msip = fz_rd(CLINT_BASE + 4 * h, 4);
		uint64_t cmp = fz_rd(CLINT_BASE + C_MTIMECMP + 8 * h, 8);

		CHECK(msip <= 1 && fz.msip_line[h] == (msip == 1),
		      "CLINT hart %u msip %llu line %d", h, (unsigned long long)msip,
		      fz.msip_line[h]);
		CHECK(fz.mtip_line[h] == (mtime >= cmp), "CLINT hart %u MTIP %d, mtimecmp %llu", h,
		      fz.mtip_line[h], (unsigned long long)cmp);
		if (mtime < cmp && cmp != UINT64_MAX && cmp < first)
			first = cmp;
	}
	/* The board sleeps for the ticks until the earliest deadline. */
	if (first == UINT64_MAX)
		CHECK(deadline == UINT64_MAX, "CLINT deadline with no timer armed");
	else
		CHECK(deadline == first - mtime, "CLINT deadline %llu",
		      (unsigned long long)deadline);
}

/* ---- sifive test --------------------------------------------------------- */

static void test_access(uint64_t off, unsigned size, bool write, uint64_t value, uint64_t *out)
{
	unsigned before = fz.events;
	int want = -1;

	if (!write) {
		*out = fz_rd(TEST_BASE + off, size);
		CHECK(*out == 0, "test finisher read %llu", (unsigned long long)*out);
		return;
	}
	if (off == 0 && size >= 2) {
		switch (value & 0xffff) {
		case 0x5555:
			want = SIFIVE_TEST_POWEROFF;
			break;
		case 0x3333:
			want = SIFIVE_TEST_FAIL;
			break;
		case 0x7777:
			want = SIFIVE_TEST_RESET;
			break;
		default:
			break;
		}
	}
	fz_wr(TEST_BASE + off, size, value);
	CHECK(fz.events == before + (want >= 0), "test finisher: %u events for 0x%llx",
	      fz.events - before, (unsigned long long)value);
	if (want >= 0)
		CHECK((int)fz.last_event == want && (want != SIFIVE_TEST_FAIL ||
		                                     fz.last_code == ((value >> 16) & 0xffff)),
		      "test finisher: event %u code %u", fz.last_event, fz.last_code);
}

/* ---- UART: a model of the transmitter ----------------------------------- */

/* What the UART writes to the chardev now: as much as the room allows. */
static void um_flush(struct uart_model *m)
{
	while (!m->waiting && m->tx_count) {
		if (m->limited && m->room == 0) {
			m->waiting = true;
			break;
		}
		CHECK(m->exp_len < OUT_MAX, "UART model overflow");
		m->exp[m->exp_len++] = m->tx[m->tx_head];
		m->tx_head = (m->tx_head + 1) % 16;
		m->tx_count--;
		if (m->limited)
			m->room--;
	}
}

static void um_tx_reset(struct uart_model *m)
{
	m->tx_head = m->tx_count = 0;
}

static void um_write(struct uart_model *m, unsigned reg, uint8_t v)
{
	bool dlab = m->lcr & UART_LCR_DLAB;

	switch (reg) {
	case UART_RBR:
		if (dlab)
			m->dll = v;
		else if (!(m->mcr & UART_MCR_LOOP) && m->tx_count < (m->fifo ? 16u : 1u)) {
			m->tx[(m->tx_head + m->tx_count) % 16] = v;
			m->tx_count++;
			um_flush(m);
		}
		break;
	case UART_IER:
		if (dlab)
			m->dlm = v;
		else
			m->ier = v & 0x0f;
		break;
	case UART_IIR: /* FCR */
		if ((v & UART_FCR_ENABLE) != m->fifo) {
			m->fifo = v & UART_FCR_ENABLE;
			um_tx_reset(m);
		}
		if ((v & UART_FCR_ENABLE) && (v & UART_FCR_CLR_TX))
			um_tx_reset(m);
		break;
	case UART_LCR:
		m->lcr = v;
		break;
	case UART_MCR:
		m->mcr = v & 0x1f;
		break;
	case UART_SCR:
		m->scr = v;
		break;
	default:
		break;
	}
}

static void um_check_read(const struct uart_model *m, unsigned reg, uint8_t v, bool line)
{
	bool dlab = m->lcr & UART_LCR_DLAB;
	uint8_t id = v & 0x0f;

	switch (reg) {
	case UART_RBR:
		if (dlab)
			CHECK(v == m->dll, "UART DLL %u, wrote %u", v, m->dll);
		break;
	case UART_IER:
		CHECK(v == (dlab ? m->dlm : m->ier), "UART IER/DLM %u", v);
		break;
	case UART_IIR:
		CHECK((v & 0xf0) == (m->fifo ? UART_IIR_FIFO : 0), "UART IIR FIFO bits 0x%x", v);
		CHECK(id == UART_IIR_NO_INT || id == UART_IIR_MSI || id == UART_IIR_THRI ||
		              id == UART_IIR_RDI || id == UART_IIR_RLSI || id == UART_IIR_CTI,
		      "UART IIR 0x%x", v);
		CHECK((id == UART_IIR_NO_INT) == !line, "UART IIR 0x%x with the line %s", v,
		      line ? "high" : "low");
		break;
	case UART_LCR:
		CHECK(v == m->lcr, "UART LCR 0x%x, wrote 0x%x", v, m->lcr);
		break;
	case UART_MCR:
		CHECK(v == m->mcr, "UART MCR 0x%x, wrote 0x%x", v, m->mcr);
		break;
	case UART_LSR:
		CHECK(!!(v & UART_LSR_THRE) == (m->tx_count == 0) &&
		              !!(v & UART_LSR_TEMT) == (m->tx_count == 0),
		      "UART LSR 0x%x with %u bytes waiting", v, m->tx_count);
		break;
	case UART_SCR:
		CHECK(v == m->scr, "UART SCR 0x%x, wrote 0x%x", v, m->scr);
		break;
	default:
		break;
	}
}

static void uart_access(uint64_t off, unsigned size, bool write, uint64_t value, uint64_t *out)
{
	bool line = fz.level[IRQ_UART];

	if (write) {
		fz_wr(UART_BASE + off, size, value);
		um_write(&fz.um, (unsigned)off, (uint8_t)value);
	} else {
		*out = fz_rd(UART_BASE + off, size);
		um_check_read(&fz.um, (unsigned)off, (uint8_t)*out, line);
	}
}

static void check_uart(void)
{
	struct uart_model *m = &fz.um;
	struct fake_chr *f = fz.chr;

	CHECK(f->out_len == m->exp_len && !memcmp(f->out, m->exp, m->exp_len),
	      "UART sent %zu bytes, expected %zu", f->out_len, m->exp_len);
	CHECK(f->blocked == m->waiting, "UART chardev blocked %d, model waiting %d", f->blocked,
	      m->waiting);
	f->out_len = m->exp_len = 0;
}

/* The host end gives room; a write came up short before: write_ready. */
void uart_give_room(size_t n, bool unlimited)
{
	struct fake_chr *f = fz.chr;
	struct uart_model *m = &fz.um;

	f->room += n;
	m->room += n;
	if (unlimited)
		f->limited = m->limited = false;
	if (f->blocked) {
		f->blocked = false;
		m->waiting = false;
		chardev_notify_write_ready(&f->chr);
		um_flush(m);
	}
}

/* ---- virtio -------------------------------------------------------------- */

static void virtio_access(unsigned d, uint64_t off, unsigned size, bool write, uint64_t value,
                          uint64_t *out)
{
	static const uint32_t ids[2] = {VIRTIO_ID_BLOCK, VIRTIO_ID_RNG};

	if (write) {
		fz_wr(vio_base[d] + off, size, value);
		return;
	}
	*out = fz_rd(vio_base[d] + off, size);
	if (size == 4 && off == VIRTIO_MMIO_MAGIC_VALUE)
		CHECK(*out == VIRTIO_MMIO_MAGIC, "virtio-mmio magic 0x%llx",
		      (unsigned long long)*out);
	if (size == 4 && off == VIRTIO_MMIO_VERSION)
		CHECK(*out == 2, "virtio-mmio version %llu", (unsigned long long)*out);
	if (size == 4 && off == VIRTIO_MMIO_DEVICE_ID)
		CHECK(*out == ids[d], "virtio-mmio device id %llu", (unsigned long long)*out);
}

static void check_virtio(void)
{
	for (unsigned d = 0; d < 2; d++) {
		uint64_t isr = fz_rd(vio_base[d] + VIRTIO_MMIO_INTERRUPT_STATUS, 4);

		CHECK(fz.level[vio_irq[d]] == (isr != 0),
		      "virtio %u: line %d, InterruptStatus %llu", d, fz.level[vio_irq[d]],
		      (unsigned long long)isr);
	}
}

/* ---- one access, wherever it lands --------------------------------------- */

uint64_t guest_access(uint64_t addr, unsigned size, bool write, uint64_t value)
{
	const struct bus_range *r = bus_lookup(&fz.bus, addr);
	uint64_t out = 0, off;

	value &= size == 8 ? UINT64_MAX : (1ull << (8 * size)) - 1; /* as a CPU delivers it */
	if (!r || addr + size < addr || addr + size > r->base + r->len) {
		/* Nothing there, or it straddles a range's end: refused. */
		CHECK(!(write ? bus_write(&fz.bus, addr, size, value)
		              : bus_read(&fz.bus, addr, size, &out)),
		      "access at 0x%llx accepted", (unsigned long long)addr);
		return 0;
	}
	off = addr - r->base;
	if (r->base == PLIC_BASE)
		plic_access(off, size, write, value, &out);
	else if (r->base == CLINT_BASE)
		clint_access(off, size, write, value, &out);
	else if (r->base == TEST_BASE)
		test_access(off, size, write, value, &out);
	else if (r->base == UART_BASE)
		uart_access(off, size, write, value, &out);
	else if (r->base == BLK_BASE || r->base == RNG_BASE)
		virtio_access(r->base == RNG_BASE, off, size, write, value, &out);
	else
		CHECK(false, "unknown range at 0x%llx", (unsigned long long)r->base);
	return out;
}

void check_all(void)
{
	check_plic();
	check_clint();
	check_uart();
	check_virtio();
}
