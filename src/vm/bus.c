/* SPDX-License-Identifier: MIT */
/* MMIO / port-I/O dispatch: a sorted array of ranges and a binary search. */
#include "vm/bus.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void bus_init(struct bus *bus, const char *name)
{
	memset(bus, 0, sizeof(*bus));
	bus->name = name;
}

void bus_destroy(struct bus *bus)
{
	free(bus->ranges);
	bus->ranges = NULL;
	bus->nr = bus->cap = 0;
}

/* Index of the first range whose base is > addr. */
static unsigned bus_upper_bound(const struct bus *bus, uint64_t addr)
{
	unsigned lo = 0, hi = bus->nr;

	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		if (bus->ranges[mid].base <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int bus_register(struct bus *bus, uint64_t base, uint64_t len, const struct bus_ops *ops,
                 void *opaque, const char *name)
{
	uint64_t last;
	unsigned pos;

	if (len == 0 || vk_add_overflow(base, len - 1, &last) || !ops)
		return -EINVAL;
	pos = bus_upper_bound(bus, base);
	/* The range before pos starts at or below base; the one at pos above it. */
	if (pos > 0) {
		const struct bus_range *prev = &bus->ranges[pos - 1];
		if (base - prev->base < prev->len)
			return -EEXIST;
	}
	if (pos < bus->nr && bus->ranges[pos].base <= last)
		return -EEXIST;
	if (bus->nr == bus->cap) {
		unsigned cap = bus->cap ? bus->cap * 2 : 16;
		struct bus_range *r = realloc(bus->ranges, cap * sizeof(*r));
		if (!r)
			return -ENOMEM;
		bus->ranges = r;
		bus->cap = cap;
	}
	memmove(&bus->ranges[pos + 1], &bus->ranges[pos], (bus->nr - pos) * sizeof(*bus->ranges));
	bus->ranges[pos] = (struct bus_range){
	        .base = base, .len = len, .ops = ops, .opaque = opaque, .name = name};
	bus->nr++;
	return 0;
}

int bus_unregister(struct bus *bus, uint64_t base)
{
	for (unsigned i = 0; i < bus->nr; i++) {
		if (bus->ranges[i].base == base) {
			memmove(&bus->ranges[i], &bus->ranges[i + 1],
			        (bus->nr - i - 1) * sizeof(*bus->ranges));
			bus->nr--;
			return 0;
		}
	}
	return -ENOENT;
}

const struct bus_range *bus_lookup(const struct bus *bus, uint64_t addr)
{
	unsigned pos = bus_upper_bound(bus, addr);
	const struct bus_range *r;

	if (pos == 0)
		return NULL;
	r = &bus->ranges[pos - 1];
	return addr - r->base < r->len ? r : NULL;
}

static const struct bus_range *bus_lookup_access(const struct bus *bus, uint64_t addr,
                                                 unsigned size)
{
	const struct bus_range *r;

	if (size != 1 && size != 2 && size != 4 && size != 8)
		return NULL;
	r = bus_lookup(bus, addr);
	if (!r || r->len - (addr - r->base) < size)
		return NULL;
	return r;
}

void bus_set_lock(struct bus *bus, void (*lock)(void *opaque), void (*unlock)(void *opaque),
                  void *opaque)
{
	bus->lock = lock;
	bus->unlock = unlock;
	bus->lock_opaque = opaque;
}

static void dispatch_lock(const struct bus *bus)
{
	if (bus->lock)
		bus->lock(bus->lock_opaque);
}

static void dispatch_unlock(const struct bus *bus)
{
	if (bus->unlock)
		bus->unlock(bus->lock_opaque);
}

bool bus_read(const struct bus *bus, uint64_t addr, unsigned size, uint64_t *value)
{
	const struct bus_range *r = bus_lookup_access(bus, addr, size);

	if (!r)
		return false;
	dispatch_lock(bus);
	*value = r->ops->read ? r->ops->read(r->opaque, addr - r->base, size) : 0;
	dispatch_unlock(bus);
	return true;
}

bool bus_write(const struct bus *bus, uint64_t addr, unsigned size, uint64_t value)
{
	const struct bus_range *r = bus_lookup_access(bus, addr, size);

	if (!r)
		return false;
	if (size < 8) /* handlers see only the bytes of the access */
		value &= (1ull << (8 * size)) - 1;
	dispatch_lock(bus);
	if (r->ops->write)
		r->ops->write(r->opaque, addr - r->base, value, size);
	dispatch_unlock(bus);
	return true;
}
