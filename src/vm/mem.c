/* SPDX-License-Identifier: MIT */
/* Guest RAM regions and the bounds-checked gpa -> host pointer translation. */
#include "vm/mem.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

void vm_mem_init(struct vm_mem *mem)
{
	memset(mem, 0, sizeof(*mem));
}

int vm_mem_add_ram(struct vm_mem *mem, uint64_t gpa, uint64_t size, struct vk_error *err)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	uint64_t end;
	void *host;

	if (size == 0 || size % page || gpa % page)
		return vk_error_set(err, EINVAL,
		                    "RAM region at 0x%llx of %llu bytes is not page aligned",
		                    (unsigned long long)gpa, (unsigned long long)size);
	if (vk_add_overflow(gpa, size, &end))
		return vk_error_set(err, EINVAL, "RAM region at 0x%llx of %llu bytes wraps around",
		                    (unsigned long long)gpa, (unsigned long long)size);
	if (size > SIZE_MAX)
		return vk_error_set(err, EINVAL, "RAM size %llu is too large for this host",
		                    (unsigned long long)size);
	if (mem->nr == VM_MEM_MAX_REGIONS)
		return vk_error_set(err, ENOSPC, "too many RAM regions (limit %d)",
		                    VM_MEM_MAX_REGIONS);
	for (unsigned i = 0; i < mem->nr; i++) {
		const struct vm_mem_region *r = &mem->regions[i];
		if (gpa < r->gpa + r->size && r->gpa < end)
			return vk_error_set(err, EEXIST,
			                    "RAM region at 0x%llx overlaps the one at 0x%llx",
			                    (unsigned long long)gpa, (unsigned long long)r->gpa);
	}
	host = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE,
	            MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (host == MAP_FAILED)
		return vk_error_errno(err, errno, "cannot allocate %llu MiB of guest RAM",
		                      (unsigned long long)(size >> 20));
	mem->regions[mem->nr++] = (struct vm_mem_region){.gpa = gpa, .size = size, .host = host};
	return 0;
}

void vm_mem_destroy(struct vm_mem *mem)
{
	vm_mem_dirty_log_stop(mem);
	for (unsigned i = 0; i < mem->nr; i++) {
		free(mem->regions[i].dirty);
		mem->regions[i].dirty = NULL;
	}
	for (unsigned i = 0; i < mem->nr; i++)
		munmap(mem->regions[i].host, (size_t)mem->regions[i].size);
	mem->nr = 0;
}

const struct vm_mem_region *vm_mem_find(const struct vm_mem *mem, uint64_t gpa)
{
	for (unsigned i = 0; i < mem->nr; i++) {
		const struct vm_mem_region *r = &mem->regions[i];
		if (gpa - r->gpa < r->size)
			return r;
	}
	return NULL;
}

void *vm_mem_translate(const struct vm_mem *mem, uint64_t gpa, uint64_t len)
{
	const struct vm_mem_region *r = vm_mem_find(mem, gpa);
	uint64_t off;

	if (!r)
		return NULL;
	off = gpa - r->gpa;
	/* off < size here, so size - off cannot underflow. */
	if (len > r->size - off)
		return NULL;
	return r->host + off;
}

int vm_mem_read(const struct vm_mem *mem, uint64_t gpa, void *dst, uint64_t len)
{
	void *p = vm_mem_translate(mem, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(dst, p, (size_t)len);
	return 0;
}

int vm_mem_write(const struct vm_mem *mem, uint64_t gpa, const void *src, uint64_t len)
{
	void *p = vm_mem_translate(mem, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(p, src, (size_t)len);
	vm_mem_note_write(mem, p, (size_t)len);
	return 0;
}

uint64_t vm_mem_total(const struct vm_mem *mem)
{
	uint64_t total = 0;

	for (unsigned i = 0; i < mem->nr; i++)
		total += mem->regions[i].size;
	return total;
}

uint64_t vm_mem_resident(const struct vm_mem *mem)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE), total = 0;
	unsigned char vec[4096];

	for (unsigned i = 0; mem && i < mem->nr; i++) {
		const struct vm_mem_region *r = &mem->regions[i];
		for (uint64_t off = 0; off < r->size; off += sizeof(vec) * page) {
			uint64_t len = VK_MIN(r->size - off, (uint64_t)sizeof(vec) * page);
			if (mincore(r->host + off, (size_t)len, vec) < 0)
				break;
			for (uint64_t p = 0; p < len / page; p++)
				total += (vec[p] & 1) ? page : 0;
		}
	}
	return total;
}

/* ---- the dirty log ------------------------------------------------------------ */

size_t vm_mem_dirty_words(const struct vm_mem_region *r)
{
	return (size_t)((r->size / VM_MEM_DIRTY_PAGE + 63) / 64);
}

int vm_mem_dirty_log_start(struct vm_mem *mem, struct vk_error *err)
{
	for (unsigned i = 0; i < mem->nr; i++) {
		struct vm_mem_region *r = &mem->regions[i];

		if (r->dirty) {
			memset(r->dirty, 0, vm_mem_dirty_words(r) * sizeof(uint64_t));
			continue;
		}
		r->dirty = calloc(vm_mem_dirty_words(r), sizeof(uint64_t));
		if (!r->dirty)
			return vk_error_set(err, ENOMEM, "out of memory for the dirty log");
	}
	__atomic_store_n(&mem->dirty_log, true, __ATOMIC_SEQ_CST);
	return 0;
}

/* The bitmaps stay until vm_mem_destroy(): a store that saw the log on a moment ago
 * may still be marking one. */
void vm_mem_dirty_log_stop(struct vm_mem *mem)
{
	__atomic_store_n(&mem->dirty_log, false, __ATOMIC_SEQ_CST);
}

/* The region holding host address p, or NULL. */
static const struct vm_mem_region *region_of_host(const struct vm_mem *mem, const uint8_t *p)
{
	for (unsigned i = 0; i < mem->nr; i++) {
		const struct vm_mem_region *r = &mem->regions[i];
		if (p >= r->host && (uint64_t)(p - r->host) < r->size)
			return r;
	}
	return NULL;
}

void vm_mem_mark_dirty(const struct vm_mem *mem, const void *host, size_t len)
{
	const struct vm_mem_region *r;
	uint64_t first, last;

	if (!len || !vm_mem_dirty_logging(mem))
		return;
	r = region_of_host(mem, host);
	if (!r || !r->dirty)
		return;
	first = (uint64_t)((const uint8_t *)host - r->host);
	last = VK_MIN(first + len, r->size) - 1;
	for (uint64_t pg = first / VM_MEM_DIRTY_PAGE; pg <= last / VM_MEM_DIRTY_PAGE; pg++)
		__atomic_fetch_or(&r->dirty[pg / 64], 1ull << (pg % 64), __ATOMIC_RELAXED);
}

bool vm_mem_page_dirty(const struct vm_mem *mem, const void *host)
{
	const struct vm_mem_region *r = region_of_host(mem, host);
	uint64_t pg;

	if (!r || !r->dirty)
		return true; /* nothing to track */
	pg = (uint64_t)((const uint8_t *)host - r->host) / VM_MEM_DIRTY_PAGE;
	return (__atomic_load_n(&r->dirty[pg / 64], __ATOMIC_RELAXED) >> (pg % 64)) & 1;
}

uint64_t vm_mem_dirty_harvest(struct vm_mem *mem, unsigned i, uint64_t *out)
{
	struct vm_mem_region *r = &mem->regions[i];
	size_t words = vm_mem_dirty_words(r);
	uint64_t n = 0;

	for (size_t w = 0; w < words; w++) {
		out[w] = r->dirty ? __atomic_exchange_n(&r->dirty[w], 0, __ATOMIC_SEQ_CST) : 0;
		n += (uint64_t)__builtin_popcountll(out[w]);
	}
	return n;
}
