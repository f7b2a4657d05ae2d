/* SPDX-License-Identifier: MIT */
/* The sifive,test1 power-off / reset finisher. */
#include "vm/hw/sifive-test.h"

#include <errno.h>
#include <stdlib.h>

struct sifive_test {
	struct bus *bus;
	uint64_t base;
	void (*event)(void *opaque, enum sifive_test_event ev, uint32_t code);
	void *opaque;
};

static uint64_t sifive_test_read(void *opaque, uint64_t off, unsigned size)
{
	return 0;
}

static void sifive_test_write(void *opaque, uint64_t off, uint64_t value, unsigned size)
{
	struct sifive_test *t = opaque;

	/* OpenSBI writes the finisher with a 16-bit store (writew), as QEMU allows. */
	if (off != 0 || size < 2)
		return;
	switch (value & 0xffff) {
	case 0x5555:
		t->event(t->opaque, SIFIVE_TEST_POWEROFF, 0);
		break;
	case 0x3333:
		t->event(t->opaque, SIFIVE_TEST_FAIL, (uint32_t)(value >> 16) & 0xffff);
		break;
	case 0x7777:
		t->event(t->opaque, SIFIVE_TEST_RESET, 0);
		break;
	default:
		break;
	}
}

static const struct bus_ops sifive_test_ops = {.read = sifive_test_read,
                                               .write = sifive_test_write};

struct sifive_test *sifive_test_create(struct bus *bus, uint64_t base,
                                       void (*event)(void *opaque, enum sifive_test_event ev,
                                                     uint32_t code),
                                       void *opaque, struct vk_error *err)
{
	struct sifive_test *t = calloc(1, sizeof(*t));
	int r;

	if (!t) {
		vk_error_set(err, ENOMEM, "test device: out of memory");
		return NULL;
	}
	t->event = event;
	t->opaque = opaque;
	t->base = base;
	r = bus_register(bus, base, SIFIVE_TEST_SIZE, &sifive_test_ops, t, "sifive-test");
	if (r < 0) {
		vk_error_errno(err, -r, "test device: cannot map at 0x%llx",
		               (unsigned long long)base);
		free(t);
		return NULL;
	}
	t->bus = bus;
	return t;
}

void sifive_test_destroy(struct sifive_test *t)
{
	if (!t)
		return;
	bus_unregister(t->bus, t->base);
	free(t);
}
