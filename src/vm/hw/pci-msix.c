/* SPDX-License-Identifier: MIT */
/*
 * MSI-X (PCI Local Bus 3.0, 6.8.2): the capability, the vector table and the
 * pending bit array, masking (per vector and per function) with delivery of
 * pending messages on unmask.
 *
 * Delivery: with KVM's shortcuts (pci_platform.msi_route_add and .irqfd) each
 * vector gets a GSI routed to its message and an eventfd bound to that GSI;
 * signalling is one eventfd write and the kernel injects the interrupt. The
 * route follows table writes lazily (re-committed at the next delivery after
 * a change). Without them, or when they fail, messages go through
 * pci_platform.msi (KVM_SIGNAL_MSI on the PC board).
 */
#include "vm/hw/pci.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/log.h"
#include "vm/state.h"

#define MSIX_CTRL_ENABLE   0x8000
#define MSIX_CTRL_FMASK    0x4000
#define MSIX_ENTRY_SIZE    16
#define MSIX_ENTRY_ADDR_LO 0
#define MSIX_ENTRY_ADDR_HI 4
#define MSIX_ENTRY_DATA    8
#define MSIX_ENTRY_CTRL    12
#define MSIX_VECTOR_MASKED 1
#define MSIX_MAX_VECTORS   2048

struct msix_route {
	int efd; /* -1: none */
	int gsi; /* -1: none */
	bool dirty;
};

struct pci_msix {
	unsigned nr;
	uint8_t cap; /* capability offset */
	uint32_t (*table)[4];
	uint64_t *pba;
	struct msix_route *routes;
	bool was_live; /* enabled and not function-masked, at the last check */
	bool logged;
};

static uint16_t msix_ctrl(const struct pci_device *d)
{
	const struct pci_msix *m = d->msix;

	return (uint16_t)(d->cfg[m->cap + 2] | d->cfg[m->cap + 3] << 8);
}

bool pci_msix_enabled(const struct pci_device *d)
{
	return d->msix && (msix_ctrl(d) & MSIX_CTRL_ENABLE);
}

unsigned pci_msix_nr_vectors(const struct pci_device *d)
{
	return d->msix ? d->msix->nr : 0;
}

int pci_msix_init(struct pci_device *d, unsigned nr, unsigned bar, uint32_t table_off,
                  uint32_t pba_off, struct vk_error *err)
{
	struct pci_msix *m;
	uint8_t cap[12] = {PCI_CAP_ID_MSIX}, wmask[12] = {0};
	int off;

	if (nr == 0 || nr > MSIX_MAX_VECTORS || bar >= PCI_NUM_BARS || (table_off & 7) ||
	    (pba_off & 7))
		return vk_error_set(err, EINVAL, "%s: bad MSI-X layout", d->name);
	m = calloc(1, sizeof(*m));
	if (!m)
		return vk_error_errno(err, ENOMEM, "%s: MSI-X", d->name);
	m->nr = nr;
	m->table = calloc(nr, sizeof(*m->table));
	m->pba = calloc((nr + 63) / 64, sizeof(*m->pba));
	m->routes = calloc(nr, sizeof(*m->routes));
	if (!m->table || !m->pba || !m->routes) {
		free(m->table);
		free(m->pba);
		free(m->routes);
		free(m);
		return vk_error_errno(err, ENOMEM, "%s: MSI-X", d->name);
	}
	for (unsigned v = 0; v < nr; v++) {
		m->table[v][3] = MSIX_VECTOR_MASKED;
		m->routes[v] = (struct msix_route){.efd = -1, .gsi = -1};
	}
	cap[2] = (uint8_t)(nr - 1);
	cap[3] = (uint8_t)((nr - 1) >> 8);
	wmask[3] = (MSIX_CTRL_ENABLE | MSIX_CTRL_FMASK) >> 8;
	memcpy(cap + 4, &(uint32_t){table_off | bar}, 4);
	memcpy(cap + 8, &(uint32_t){pba_off | bar}, 4);
	off = pci_device_add_cap(d, cap, sizeof(cap), wmask);
	if (off < 0) {
		d->msix = m;
		pci_msix_destroy(d);
		return vk_error_set(err, ENOSPC, "%s: no room for the MSI-X capability", d->name);
	}
	m->cap = (uint8_t)off;
	d->msix = m;
	return 0;
}

void pci_msix_destroy(struct pci_device *d)
{
	struct pci_msix *m = d->msix;
	const struct pci_platform *p = d->host ? &d->host->platform : NULL;

	if (!m)
		return;
	for (unsigned v = 0; v < m->nr; v++) {
		struct msix_route *r = &m->routes[v];

		if (r->gsi >= 0 && p) {
			if (r->efd >= 0 && p->irqfd)
				p->irqfd(p->opaque, (unsigned)r->gsi, r->efd, false);
			if (p->msi_route_del)
				p->msi_route_del(p->opaque, (unsigned)r->gsi);
		}
		if (r->efd >= 0)
			close(r->efd);
	}
	free(m->table);
	free(m->pba);
	free(m->routes);
	free(m);
	d->msix = NULL;
}

/* Try the irqfd path; false when it is not available (the caller falls back). */
static bool msix_irqfd_send(struct pci_device *d, unsigned v, uint64_t addr, uint32_t data)
{
	const struct pci_platform *p = &d->host->platform;
	struct msix_route *r = &d->msix->routes[v];
	uint64_t one = 1;

	if (!p->msi_route_add || !p->msi_route_update || !p->irqfd)
		return false;
	if (r->gsi < 0) {
		int gsi = p->msi_route_add(p->opaque, addr, data);
		int efd;

		if (gsi < 0)
			return false;
		efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (efd < 0 || p->irqfd(p->opaque, (unsigned)gsi, efd, true) < 0) {
			if (efd >= 0)
				close(efd);
			if (p->msi_route_del)
				p->msi_route_del(p->opaque, (unsigned)gsi);
			return false;
		}
		r->gsi = gsi;
		r->efd = efd;
		r->dirty = false;
	} else if (r->dirty) {
		if (p->msi_route_update(p->opaque, (unsigned)r->gsi, addr, data) < 0)
			return false;
		r->dirty = false;
	}
	return write(r->efd, &one, sizeof(one)) == sizeof(one);
}

/* A route whose irqfd cannot be put back is dropped: the next message builds a new one. */
static void msix_route_drop(struct pci_device *d, struct msix_route *r)
{
	const struct pci_platform *p = &d->host->platform;

	if (p->msi_route_del)
		p->msi_route_del(p->opaque, (unsigned)r->gsi);
	close(r->efd);
	r->efd = r->gsi = -1;
	r->dirty = false;
}

void pci_msix_flush(struct pci_device *d)
{
	struct pci_msix *m = d->msix;
	const struct pci_platform *p = d->host ? &d->host->platform : NULL;

	if (!m || !p || !p->irqfd)
		return;
	for (unsigned v = 0; v < m->nr; v++) {
		struct msix_route *r = &m->routes[v];

		if (r->gsi < 0 || r->efd < 0)
			continue;
		/* KVM's deassign returns after the pending injections ran (irqfd_shutdown). */
		if (p->irqfd(p->opaque, (unsigned)r->gsi, r->efd, false) < 0) {
			vk_warn("%s: MSI-X vector %u: cannot take its irqfd off", d->name, v);
			continue;
		}
		if (p->irqfd(p->opaque, (unsigned)r->gsi, r->efd, true) < 0)
			msix_route_drop(d, r);
	}
}

static void msix_deliver(struct pci_device *d, unsigned v)
{
	uint32_t *e = d->msix->table[v];
	uint64_t addr = (uint64_t)e[1] << 32 | e[0];

	if (!d->host)
		return;
	if (!msix_irqfd_send(d, v, addr, e[2]))
		msi_send(&d->host->platform.msi, addr, e[2]);
}

static bool msix_masked(const struct pci_device *d, unsigned v)
{
	return (msix_ctrl(d) & MSIX_CTRL_FMASK) || (d->msix->table[v][3] & MSIX_VECTOR_MASKED);
}

bool pci_msix_notify(struct pci_device *d, unsigned v)
{
	struct pci_msix *m = d->msix;

	if (!pci_msix_enabled(d) || v >= m->nr)
		return false;
	if (msix_masked(d, v)) {
		m->pba[v / 64] |= 1ull << (v % 64);
		return true;
	}
	msix_deliver(d, v);
	return true;
}

/* Deliver the pending messages whose vectors are now unmasked. */
static void msix_flush_pending(struct pci_device *d)
{
	struct pci_msix *m = d->msix;

	if (!pci_msix_enabled(d) || (msix_ctrl(d) & MSIX_CTRL_FMASK))
		return;
	for (unsigned v = 0; v < m->nr; v++) {
		if ((m->pba[v / 64] & (1ull << (v % 64))) && !msix_masked(d, v)) {
			m->pba[v / 64] &= ~(1ull << (v % 64));
			msix_deliver(d, v);
		}
	}
}

void pci_msix_cfg_written(struct pci_device *d)
{
	struct pci_msix *m = d->msix;
	bool live = pci_msix_enabled(d) && !(msix_ctrl(d) & MSIX_CTRL_FMASK);

	if (live && !m->was_live)
		msix_flush_pending(d);
	m->was_live = live;
}

uint64_t pci_msix_table_read(struct pci_device *d, uint64_t offset, unsigned size)
{
	struct pci_msix *m = d->msix;
	uint64_t v, i;

	if (!m || (size != 4 && size != 8) || (offset & (size - 1)) ||
	    offset >= (uint64_t)m->nr * MSIX_ENTRY_SIZE)
		return 0;
	i = offset / 4;
	v = m->table[i / 4][i % 4];
	if (size == 8)
		v |= (uint64_t)m->table[i / 4][i % 4 + 1] << 32;
	return v;
}

static void msix_write_dword(struct pci_device *d, uint64_t i, uint32_t value)
{
	struct pci_msix *m = d->msix;
	unsigned v = (unsigned)(i / 4), field = (unsigned)(i % 4);

	switch (field) {
	case 0:
	case 1:
	case 2:
		if (field == 0)
			value &= ~3u; /* the message address is dword aligned */
		if (m->table[v][field] != value)
			m->routes[v].dirty = true;
		m->table[v][field] = value;
		break;
	default: {
		bool was_masked = m->table[v][3] & MSIX_VECTOR_MASKED;

		m->table[v][3] = value & MSIX_VECTOR_MASKED;
		if (was_masked && !(value & MSIX_VECTOR_MASKED))
			msix_flush_pending(d);
		break;
	}
	}
}

void pci_msix_table_write(struct pci_device *d, uint64_t offset, uint64_t value, unsigned size)
{
	struct pci_msix *m = d->msix;

	if (!m || offset >= (uint64_t)m->nr * MSIX_ENTRY_SIZE)
		return;
	if ((size != 4 && size != 8) || (offset & (size - 1))) {
		vk_log_once(&m->logged, VK_LOG_WARN, "%s: MSI-X table access of %u bytes ignored",
		            d->name, size);
		return;
	}
	msix_write_dword(d, offset / 4, (uint32_t)value);
	if (size == 8)
		msix_write_dword(d, offset / 4 + 1, (uint32_t)(value >> 32));
}

uint64_t pci_msix_pba_read(struct pci_device *d, uint64_t offset, unsigned size)
{
	struct pci_msix *m = d->msix;
	uint64_t word, shift;

	if (!m || (size != 4 && size != 8) || (offset & (size - 1)) ||
	    offset >= (uint64_t)(m->nr + 63) / 64 * 8)
		return 0;
	word = m->pba[offset / 8];
	shift = (offset % 8) * 8;
	return size == 8 ? word : (uint32_t)(word >> shift);
}

/* ---- saving and restoring (after the configuration space, which holds the control word) */

void pci_msix_save(struct pci_device *d, struct vm_state_buf *b)
{
	struct pci_msix *m = d->msix;

	vm_state_put_u32(b, m->nr);
	for (unsigned v = 0; v < m->nr; v++)
		for (unsigned f = 0; f < 4; f++)
			vm_state_put_u32(b, m->table[v][f]);
	for (unsigned w = 0; w < (m->nr + 63) / 64; w++)
		vm_state_put_u64(b, m->pba[w]);
}

int pci_msix_load(struct pci_device *d, struct vm_state_rd *r, struct vk_error *err)
{
	struct pci_msix *m = d->msix;
	uint32_t nr = vm_state_get_u32(r);

	if (r->bad)
		return 0;
	if (nr != m->nr)
		return vk_error_set(err, EINVAL, "%s: %u MSI-X vectors saved, this function has %u",
		                    d->name, nr, m->nr);
	for (unsigned v = 0; v < m->nr; v++) {
		for (unsigned f = 0; f < 4; f++)
			m->table[v][f] = vm_state_get_u32(r);
		/* What msix_write_dword() keeps. */
		m->table[v][0] &= ~3u;
		m->table[v][3] &= MSIX_VECTOR_MASKED;
		/* A route made before the load (none in a new machine) must follow the table. */
		m->routes[v].dirty = true;
	}
	for (unsigned w = 0; w < (m->nr + 63) / 64; w++)
		m->pba[w] = vm_state_get_u64(r);
	if (m->nr % 64)
		m->pba[m->nr / 64] &= (1ull << (m->nr % 64)) - 1;
	/* As the saved function was: a pending bit stays until its vector is unmasked. */
	m->was_live = pci_msix_enabled(d) && !(msix_ctrl(d) & MSIX_CTRL_FMASK);
	return 0;
}
