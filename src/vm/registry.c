/* SPDX-License-Identifier: MIT */
/* The machine object (registry.h): devices by name, and walking them to reset, save and load. */
#include "vm/registry.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vm/mem.h"

void vm_registry_init(struct vm_registry *reg, struct vm_mem *mem, const char *arch,
                      const char *board)
{
	memset(reg, 0, sizeof(*reg));
	reg->mem = mem;
	reg->arch = arch;
	reg->board = board;
}

static struct vm_registry_entry *find(struct vm_registry *reg, const char *name)
{
	for (unsigned i = 0; i < reg->nr; i++)
		if (!strcmp(reg->entry[i].name, name))
			return &reg->entry[i];
	return NULL;
}

int vm_registry_add(struct vm_registry *reg, const char *name, const struct vm_device_ops *ops,
                    void *opaque, struct vk_error *err)
{
	struct vm_registry_entry *e;

	if (strlen(name) == 0 || strlen(name) > VM_STATE_NAME_MAX)
		return vk_error_set(err, EINVAL, "device name '%s' is invalid", name);
	if (find(reg, name))
		return vk_error_set(err, EEXIST, "two devices are named '%s'", name);
	if (reg->nr == VM_REGISTRY_MAX)
		return vk_error_set(err, ENOSPC, "too many devices (limit %d)", VM_REGISTRY_MAX);
	e = &reg->entry[reg->nr++];
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->ops = ops;
	e->opaque = opaque;
	e->loaded = false;
	return 0;
}

void vm_registry_reset(struct vm_registry *reg)
{
	for (unsigned i = 0; i < reg->nr; i++)
		if (reg->entry[i].ops->reset)
			reg->entry[i].ops->reset(reg->entry[i].opaque);
}

int vm_registry_save(struct vm_registry *reg, struct vm_state_out *out, struct vk_error *err)
{
	/* Every device settles before the first record: a request finished while "cpu0" is
	 * being written would raise an interrupt the saved interrupt controller never got. */
	for (unsigned i = 0; i < reg->nr; i++)
		if (reg->entry[i].ops->quiesce)
			reg->entry[i].ops->quiesce(reg->entry[i].opaque);
	for (unsigned i = 0; i < reg->nr; i++) {
		struct vm_registry_entry *e = &reg->entry[i];
		struct vm_state_buf b = {0};
		int r;

		if (e->ops->save_checked) {
			r = e->ops->save_checked(e->opaque, &b, err);
			if (r < 0) {
				vm_state_buf_free(&b);
				return vk_error_prefix(err, "cannot save device '%s'", e->name);
			}
		} else if (e->ops->save) {
			e->ops->save(e->opaque, &b);
		} else {
			continue;
		}
		if (b.oom) {
			vm_state_buf_free(&b);
			return vk_error_set(err, ENOMEM, "cannot save device '%s': out of memory",
			                    e->name);
		}
		r = vm_state_write_record(out, VM_STATE_DEVICE, e->name, e->ops->version, b.data,
		                          b.len, err);
		vm_state_buf_free(&b);
		if (r < 0)
			return r;
	}
	return 0;
}

static bool page_is_zero(const uint8_t *p)
{
	static const uint8_t zero[64];

	for (unsigned off = 0; off < VM_STATE_PAGE; off += sizeof(zero))
		if (memcmp(p + off, zero, sizeof(zero)))
			return false;
	return true;
}

static bool want_page(const struct vm_mem_region *rg, const uint64_t *dirty, uint64_t page)
{
	if (dirty)
		return (dirty[page / 64] >> (page % 64)) & 1;
	return !page_is_zero(rg->host + page * VM_STATE_PAGE);
}

int vm_registry_save_ram(struct vm_registry *reg, struct vm_state_out *out,
                         const uint64_t *const *dirty, uint64_t *pages, struct vk_error *err)
{
	const struct vm_mem *mem = reg->mem;
	uint64_t count = 0;

	for (unsigned i = 0; i < mem->nr; i++) {
		const struct vm_mem_region *rg = &mem->regions[i];
		const uint64_t *bits = dirty ? dirty[i] : NULL;
		uint64_t n = rg->size / VM_STATE_PAGE, p = 0;

		while (p < n) {
			uint64_t run = 0;
			int r;

			if (bits && !(p % 64) && bits[p / 64] == 0) {
				p += 64;
				continue;
			}
			if (!want_page(rg, bits, p)) {
				p++;
				continue;
			}
			while (p + run < n && run < VM_STATE_RAM_BATCH &&
			       want_page(rg, bits, p + run))
				run++;
			r = vm_state_write_ram(out, rg->gpa + p * VM_STATE_PAGE,
			                       rg->host + p * VM_STATE_PAGE, (uint32_t)run, false,
			                       err);
			if (r < 0)
				return r;
			count += run;
			p += run;
		}
	}
	if (pages)
		*pages = count;
	return 0;
}

int vm_registry_load_record(struct vm_registry *reg, const struct vm_state_record *rec,
                            struct vk_error *err)
{
	struct vm_registry_entry *e = find(reg, rec->name);
	struct vm_state_rd rd;
	int r;

	if (!e || !e->ops->load)
		return vk_error_set(
		        err, EINVAL,
		        "the machine state has a device '%s' this machine does not have",
		        rec->name);
	if (e->loaded)
		return vk_error_set(err, EINVAL, "the machine state has device '%s' twice",
		                    rec->name);
	if (rec->version == 0 || rec->version > e->ops->version)
		return vk_error_set(err, EINVAL,
		                    "the state of device '%s' (%s) is version %u: this virtkit-vm "
		                    "reads versions 1 to %u",
		                    rec->name, e->ops->kind, rec->version, e->ops->version);
	vm_state_rd_init(&rd, rec->payload, rec->len);
	r = e->ops->load(e->opaque, &rd, rec->version, err);
	if (r == 0)
		r = vm_state_rd_finish(&rd, rec->name, err);
	if (r < 0)
		return vk_error_prefix(err, "cannot restore device '%s'", rec->name);
	e->loaded = true;
	return 0;
}

int vm_registry_load(struct vm_registry *reg, struct vm_state_in *in, uint64_t *ram_bytes,
                     struct vk_error *err)
{
	struct vm_state_record rec;
	uint64_t ram = 0;
	int r;

	for (unsigned i = 0; i < reg->nr; i++)
		reg->entry[i].loaded = false;
	for (;;) {
		r = vm_state_read_next(in, reg->mem, &rec, err);
		if (r < 0)
			return r;
		if (rec.type == VM_STATE_END)
			break;
		if (rec.type == VM_STATE_RAM) {
			ram += (uint64_t)rec.ram_pages * VM_STATE_PAGE;
			continue;
		}
		r = vm_registry_load_record(reg, &rec, err);
		if (r < 0)
			return r;
	}
	if (ram_bytes)
		*ram_bytes = ram;
	for (unsigned i = 0; i < reg->nr; i++) {
		struct vm_registry_entry *e = &reg->entry[i];

		if ((e->ops->save || e->ops->save_checked) && !e->loaded)
			return vk_error_set(err, EINVAL,
			                    "the machine state has no state for device '%s' (%s)",
			                    e->name, e->ops->kind);
	}
	for (unsigned i = 0; i < reg->nr; i++) {
		struct vm_registry_entry *e = &reg->entry[i];

		if (e->ops->post_load) {
			r = e->ops->post_load(e->opaque, err);
			if (r < 0)
				return vk_error_prefix(err, "cannot restore device '%s'", e->name);
		}
	}
	return 0;
}

int vm_registry_disk_overlay(struct vm_registry *reg, unsigned disk, const char *path,
                             struct vk_error *err)
{
	unsigned n = 0;

	for (unsigned i = 0; i < reg->nr; i++) {
		struct vm_registry_entry *e = &reg->entry[i];

		if (!e->ops->disk_overlay || n++ != disk)
			continue;
		if (e->ops->disk_overlay(e->opaque, path, err) < 0)
			return vk_error_prefix(err, "cannot put an overlay on disk %u ('%s')", disk,
			                       e->name);
		return 0;
	}
	return vk_error_set(err, ENODEV, "the machine has no disk %u (it has %u)", disk, n);
}

int vm_registry_handover(struct vm_registry *reg, bool take, struct vk_error *err)
{
	for (unsigned i = 0; i < reg->nr; i++) {
		struct vm_registry_entry *e = &reg->entry[i];
		int r;

		if (!e->ops->handover)
			continue;
		r = e->ops->handover(e->opaque, take, err);
		if (r < 0) {
			for (unsigned j = 0; j < i; j++)
				if (reg->entry[j].ops->handover)
					(void)reg->entry[j].ops->handover(reg->entry[j].opaque,
					                                  false, NULL);
			return vk_error_prefix(err, "device '%s'", e->name);
		}
	}
	return 0;
}
