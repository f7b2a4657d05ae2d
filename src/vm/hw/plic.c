/* SPDX-License-Identifier: MIT */
/*
 * RISC-V PLIC: priorities, pending bits, per-context enables, thresholds and
 * claim/complete (RISC-V PLIC specification 1.0.0, SiFive register map).
 *
 * Sources are level-triggered through a gateway: a high line makes the
 * source pending unless it is in service (claimed, not yet completed); on
 * completion a line that is still high becomes pending again.
 */
#include "vm/hw/plic.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vm/registry.h"

#define PLIC_PRIORITY_BASE  0x000000
#define PLIC_PENDING_BASE   0x001000
#define PLIC_ENABLE_BASE    0x002000
#define PLIC_ENABLE_STRIDE  0x80
#define PLIC_CONTEXT_BASE   0x200000
#define PLIC_CONTEXT_STRIDE 0x1000
#define PLIC_PRIORITY_MASK  7u
#define PLIC_WORDS          (PLIC_MAX_SOURCES / 32)

struct plic_context {
	uint32_t enable[PLIC_WORDS];
	uint32_t threshold;
	bool output;
};

struct plic {
	struct bus *bus;
	uint64_t base;
	unsigned nr_sources, nr_contexts;
	uint32_t priority[PLIC_MAX_SOURCES];
	uint32_t level[PLIC_WORDS];      /* input line state */
	uint32_t pending[PLIC_WORDS];    /* gateway has forwarded a request */
	uint32_t in_service[PLIC_WORDS]; /* claimed, not completed */
	struct plic_context *ctx;
	struct irq_line *outputs;
};

static bool bit_get(const uint32_t *w, unsigned n)
{
	return (w[n / 32] >> (n % 32)) & 1;
}

static void bit_set(uint32_t *w, unsigned n, bool v)
{
	if (v)
		w[n / 32] |= 1u << (n % 32);
	else
		w[n / 32] &= ~(1u << (n % 32));
}

/* Highest-priority pending+enabled source above the threshold (ties: lowest id), or 0. */
static unsigned plic_best(const struct plic *plic, const struct plic_context *c)
{
	unsigned best = 0;
	uint32_t best_prio = c->threshold;

	for (unsigned w = 0; w < PLIC_WORDS; w++) {
		uint32_t bits = plic->pending[w] & c->enable[w];
		while (bits) {
			unsigned n = w * 32 + (unsigned)__builtin_ctz(bits);
			bits &= bits - 1;
			if (plic->priority[n] > best_prio) {
				best_prio = plic->priority[n];
				best = n;
			}
		}
	}
	return best;
}

static void plic_update(struct plic *plic)
{
	for (unsigned i = 0; i < plic->nr_contexts; i++) {
		struct plic_context *c = &plic->ctx[i];
		bool out = plic_best(plic, c) != 0;
		if (out != c->output) {
			c->output = out;
			irq_set(&plic->outputs[i], out);
		}
	}
}

/* The gateway: forward a high line unless the source is in service. */
static void plic_gateway(struct plic *plic, unsigned n)
{
	if (bit_get(plic->level, n) && !bit_get(plic->in_service, n))
		bit_set(plic->pending, n, true);
}

static void plic_set_input(void *opaque, unsigned n, bool level)
{
	struct plic *plic = opaque;

	if (n == 0 || n >= plic->nr_sources)
		return;
	bit_set(plic->level, n, level);
	/* A level source whose line drops before the claim is no longer pending. */
	if (!level && !bit_get(plic->in_service, n))
		bit_set(plic->pending, n, false);
	plic_gateway(plic, n);
	plic_update(plic);
}

struct irq_line plic_input(struct plic *plic, unsigned n)
{
	return (struct irq_line){.set = plic_set_input, .opaque = plic, .n = n};
}

static uint32_t plic_claim(struct plic *plic, struct plic_context *c)
{
	unsigned n = plic_best(plic, c);

	if (n) {
		bit_set(plic->pending, n, false);
		bit_set(plic->in_service, n, true);
		plic_update(plic);
	}
	return n;
}

static void plic_complete(struct plic *plic, struct plic_context *c, uint32_t n)
{
	/* The spec ignores completions for sources not enabled for this context. */
	if (n == 0 || n >= plic->nr_sources || !bit_get(c->enable, n))
		return;
	bit_set(plic->in_service, n, false);
	plic_gateway(plic, n);
	plic_update(plic);
}

static uint64_t plic_read(void *opaque, uint64_t off, unsigned size)
{
	struct plic *plic = opaque;

	if (size != 4 || (off & 3))
		return 0;
	if (off < PLIC_PENDING_BASE) {
		unsigned n = (unsigned)(off / 4);
		return n < plic->nr_sources ? plic->priority[n] : 0;
	}
	if (off < PLIC_ENABLE_BASE) {
		unsigned w = (unsigned)((off - PLIC_PENDING_BASE) / 4);
		return w < PLIC_WORDS ? plic->pending[w] : 0;
	}
	if (off < PLIC_CONTEXT_BASE) {
		uint64_t rel = off - PLIC_ENABLE_BASE;
		unsigned ctx = (unsigned)(rel / PLIC_ENABLE_STRIDE);
		unsigned w = (unsigned)((rel % PLIC_ENABLE_STRIDE) / 4);
		if (ctx >= plic->nr_contexts || w >= PLIC_WORDS)
			return 0;
		return plic->ctx[ctx].enable[w];
	} else {
		uint64_t rel = off - PLIC_CONTEXT_BASE;
		unsigned ctx = (unsigned)(rel / PLIC_CONTEXT_STRIDE);
		unsigned reg = (unsigned)(rel % PLIC_CONTEXT_STRIDE);
		if (ctx >= plic->nr_contexts)
			return 0;
		if (reg == 0)
			return plic->ctx[ctx].threshold;
		if (reg == 4)
			return plic_claim(plic, &plic->ctx[ctx]);
	}
	return 0;
}

static void plic_write(void *opaque, uint64_t off, uint64_t value, unsigned size)
{
	struct plic *plic = opaque;
	uint32_t v = (uint32_t)value;

	if (size != 4 || (off & 3))
		return;
	if (off < PLIC_PENDING_BASE) {
		unsigned n = (unsigned)(off / 4);
		if (n > 0 && n < plic->nr_sources) {
			plic->priority[n] = v & PLIC_PRIORITY_MASK;
			plic_update(plic);
		}
	} else if (off < PLIC_ENABLE_BASE) {
		/* Pending bits are read-only. */
	} else if (off < PLIC_CONTEXT_BASE) {
		uint64_t rel = off - PLIC_ENABLE_BASE;
		unsigned ctx = (unsigned)(rel / PLIC_ENABLE_STRIDE);
		unsigned w = (unsigned)((rel % PLIC_ENABLE_STRIDE) / 4);
		if (ctx >= plic->nr_contexts || w >= PLIC_WORDS)
			return;
		if (w == 0)
			v &= ~1u; /* source 0 does not exist */
		if (w == (plic->nr_sources - 1) / 32 && plic->nr_sources % 32)
			v &= (1u << (plic->nr_sources % 32)) - 1;
		else if (w > (plic->nr_sources - 1) / 32)
			v = 0;
		plic->ctx[ctx].enable[w] = v;
		plic_update(plic);
	} else {
		uint64_t rel = off - PLIC_CONTEXT_BASE;
		unsigned ctx = (unsigned)(rel / PLIC_CONTEXT_STRIDE);
		unsigned reg = (unsigned)(rel % PLIC_CONTEXT_STRIDE);
		if (ctx >= plic->nr_contexts)
			return;
		if (reg == 0) {
			plic->ctx[ctx].threshold = v & PLIC_PRIORITY_MASK;
			plic_update(plic);
		} else if (reg == 4) {
			plic_complete(plic, &plic->ctx[ctx], v);
		}
	}
}

static const struct bus_ops plic_ops = {.read = plic_read, .write = plic_write};

struct plic *plic_create(struct bus *bus, uint64_t base, unsigned nr_sources, unsigned nr_contexts,
                         const struct irq_line *outputs, struct vk_error *err)
{
	struct plic *plic;
	int r;

	if (nr_sources < 2 || nr_sources > PLIC_MAX_SOURCES || nr_contexts == 0 ||
	    nr_contexts > (PLIC_SIZE - PLIC_CONTEXT_BASE) / PLIC_CONTEXT_STRIDE) {
		vk_error_set(err, EINVAL, "PLIC: unsupported size (%u sources, %u contexts)",
		             nr_sources, nr_contexts);
		return NULL;
	}
	plic = calloc(1, sizeof(*plic));
	if (!plic)
		goto nomem;
	plic->ctx = calloc(nr_contexts, sizeof(*plic->ctx));
	plic->outputs = calloc(nr_contexts, sizeof(*plic->outputs));
	if (!plic->ctx || !plic->outputs)
		goto nomem;
	memcpy(plic->outputs, outputs, nr_contexts * sizeof(*outputs));
	plic->base = base;
	plic->nr_sources = nr_sources;
	plic->nr_contexts = nr_contexts;
	r = bus_register(bus, base, PLIC_SIZE, &plic_ops, plic, "plic");
	if (r == 0)
		plic->bus = bus; /* plic_destroy() unmaps only what we mapped */
	if (r < 0) {
		vk_error_errno(err, -r, "PLIC: cannot map at 0x%llx", (unsigned long long)base);
		plic_destroy(plic);
		return NULL;
	}
	return plic;
nomem:
	vk_error_set(err, ENOMEM, "PLIC: out of memory");
	plic_destroy(plic);
	return NULL;
}

void plic_destroy(struct plic *plic)
{
	if (!plic)
		return;
	if (plic->bus)
		bus_unregister(plic->bus, plic->base);
	free(plic->ctx);
	free(plic->outputs);
	free(plic);
}

/* ---- saving and restoring (registry.h) ------------------------------------------ */

/* Bits a word of a source bitmap may hold: sources 1 .. nr_sources-1. */
static uint32_t source_mask(const struct plic *plic, unsigned w)
{
	uint32_t m = w == 0 ? ~1u : ~0u;

	if (w > (plic->nr_sources - 1) / 32)
		return 0;
	if (w == (plic->nr_sources - 1) / 32 && plic->nr_sources % 32)
		m &= (1u << (plic->nr_sources % 32)) - 1;
	return m;
}

static void plic_state_save(void *opaque, struct vm_state_buf *b)
{
	struct plic *plic = opaque;

	vm_state_put_u32(b, plic->nr_sources);
	vm_state_put_u32(b, plic->nr_contexts);
	for (unsigned n = 0; n < plic->nr_sources; n++)
		vm_state_put_u8(b, (uint8_t)plic->priority[n]);
	for (unsigned w = 0; w < PLIC_WORDS; w++) {
		vm_state_put_u32(b, plic->level[w]);
		vm_state_put_u32(b, plic->pending[w]);
		vm_state_put_u32(b, plic->in_service[w]);
	}
	for (unsigned i = 0; i < plic->nr_contexts; i++) {
		for (unsigned w = 0; w < PLIC_WORDS; w++)
			vm_state_put_u32(b, plic->ctx[i].enable[w]);
		vm_state_put_u8(b, (uint8_t)plic->ctx[i].threshold);
	}
}

static int plic_state_load(void *opaque, struct vm_state_rd *r, uint32_t version,
                           struct vk_error *err)
{
	struct plic *plic = opaque;
	uint32_t ns = vm_state_get_u32(r), nc = vm_state_get_u32(r);
	bool bad = false;

	if (r->bad)
		return 0;
	if (ns != plic->nr_sources || nc != plic->nr_contexts)
		return vk_error_set(err, EINVAL,
		                    "PLIC with %u sources and %u contexts saved, this one has %u "
		                    "and %u (another number of harts?)",
		                    ns, nc, plic->nr_sources, plic->nr_contexts);
	for (unsigned n = 0; n < plic->nr_sources; n++) {
		plic->priority[n] = vm_state_get_u8(r);
		bad |= plic->priority[n] > PLIC_PRIORITY_MASK || (n == 0 && plic->priority[n]);
	}
	for (unsigned w = 0; w < PLIC_WORDS; w++) {
		plic->level[w] = vm_state_get_u32(r);
		plic->pending[w] = vm_state_get_u32(r);
		plic->in_service[w] = vm_state_get_u32(r);
		bad |= ((plic->level[w] | plic->pending[w] | plic->in_service[w]) &
		        ~source_mask(plic, w)) != 0;
	}
	for (unsigned i = 0; i < plic->nr_contexts; i++) {
		for (unsigned w = 0; w < PLIC_WORDS; w++) {
			plic->ctx[i].enable[w] = vm_state_get_u32(r);
			bad |= (plic->ctx[i].enable[w] & ~source_mask(plic, w)) != 0;
		}
		plic->ctx[i].threshold = vm_state_get_u8(r);
		bad |= plic->ctx[i].threshold > PLIC_PRIORITY_MASK;
	}
	if (bad && !r->bad)
		return vk_error_set(err, EINVAL, "PLIC: a priority or a source bit out of range");
	/* Drive every output as the state says (the harts' MEIP and SEIP follow). */
	for (unsigned i = 0; i < plic->nr_contexts; i++) {
		plic->ctx[i].output = plic_best(plic, &plic->ctx[i]) != 0;
		irq_set(&plic->outputs[i], plic->ctx[i].output);
	}
	return 0;
}

static const struct vm_device_ops plic_state_ops = {
        .kind = "plic",
        .version = 1,
        .save = plic_state_save,
        .load = plic_state_load,
};

int plic_register(struct plic *plic, struct vm_registry *reg, const char *name,
                  struct vk_error *err)
{
	return vm_registry_add(reg, name, &plic_state_ops, plic, err);
}
