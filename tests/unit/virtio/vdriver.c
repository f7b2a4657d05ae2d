/* SPDX-License-Identifier: MIT */
/* The test virtio driver: mmio registers, rings and buffers played from test code. */
#include "vdriver.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "vm/backend/block.h"
#include "vm/virtio/devices.h"

static void fake_irq(void *opaque, unsigned n, bool level)
{
	struct vdriver *d = opaque;

	if (level && !d->irq_level)
		d->irq_raises++;
	d->irq_level = level;
}

void vd_init(struct vdriver *d)
{
	memset(d, 0, sizeof(*d));
	vm_mem_init(&d->mem);
	if (vm_mem_add_ram(&d->mem, VD_RAM_BASE, VD_RAM_SIZE, NULL) < 0)
		abort();
	bus_init(&d->bus, "mmio");
	d->brk = VD_RAM_BASE;
	d->log = tmpfile();
	vk_log_set_file(d->log);
}

void vd_attach(struct vdriver *d, struct virtio_dev *dev)
{
	struct irq_line irq = {.set = fake_irq, .opaque = d, .n = 1};

	if (!dev)
		abort();
	d->dev = dev;
	d->mmio = virtio_mmio_create(&d->bus, VD_MMIO_BASE, irq, dev, NULL);
	if (!d->mmio)
		abort();
}

void vd_fini(struct vdriver *d)
{
	virtio_mmio_destroy(d->mmio);
	virtio_dev_destroy(d->dev);
	bus_destroy(&d->bus);
	vm_mem_destroy(&d->mem);
	vk_log_set_file(NULL);
	if (d->log)
		fclose(d->log);
	free(d->snapshot);
	if (d->blk_path[0])
		unlink(d->blk_path);
}

uint32_t vd_rd(struct vdriver *d, uint64_t off)
{
	uint64_t v = 0;

	if (!bus_read(&d->bus, VD_MMIO_BASE + off, 4, &v))
		abort();
	return (uint32_t)v;
}

void vd_wr(struct vdriver *d, uint64_t off, uint32_t val)
{
	if (!bus_write(&d->bus, VD_MMIO_BASE + off, 4, val))
		abort();
}

uint32_t vd_negotiate(struct vdriver *d, uint64_t features)
{
	vd_wr(d, VIRTIO_MMIO_STATUS, 0);
	vd_wr(d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	vd_wr(d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	vd_wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	vd_wr(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)features);
	vd_wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	vd_wr(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(features >> 32));
	vd_wr(d, VIRTIO_MMIO_STATUS,
	      VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	return vd_rd(d, VIRTIO_MMIO_STATUS);
}

uint64_t vd_alloc(struct vdriver *d, uint64_t size, uint64_t align)
{
	uint64_t a = (d->brk + align - 1) & ~(align - 1);

	if (a + size > VD_RAM_BASE + VD_RAM_SIZE)
		abort();
	d->brk = a + size;
	return a;
}

void *vd_ptr(struct vdriver *d, uint64_t gpa)
{
	return vm_mem_translate(&d->mem, gpa, 1);
}

uint32_t vd_setup_queue(struct vdriver *d, unsigned q, uint16_t num)
{
	struct vd_queue *vq = &d->q[q];

	memset(vq, 0, sizeof(*vq));
	vq->num = num;
	vq->desc = vd_alloc(d, virtq_desc_size(num), 16);
	vq->avail = vd_alloc(d, virtq_avail_size(num), 2);
	vq->used = vd_alloc(d, virtq_used_size(num), 4);
	vd_wr(d, VIRTIO_MMIO_QUEUE_SEL, q);
	vd_wr(d, VIRTIO_MMIO_QUEUE_NUM, num);
	vd_wr(d, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)vq->desc);
	vd_wr(d, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(vq->desc >> 32));
	vd_wr(d, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)vq->avail);
	vd_wr(d, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)(vq->avail >> 32));
	vd_wr(d, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)vq->used);
	vd_wr(d, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(vq->used >> 32));
	vd_wr(d, VIRTIO_MMIO_QUEUE_READY, 1);
	return vd_rd(d, VIRTIO_MMIO_QUEUE_READY);
}

void vd_driver_ok(struct vdriver *d)
{
	vd_wr(d, VIRTIO_MMIO_STATUS, vd_rd(d, VIRTIO_MMIO_STATUS) | VIRTIO_STATUS_DRIVER_OK);
}

void vd_bringup(struct vdriver *d, uint64_t extra_features, unsigned nqueues, uint16_t num)
{
	uint32_t st = vd_negotiate(d, (1ull << VIRTIO_F_VERSION_1) | extra_features);

	if (!(st & VIRTIO_STATUS_FEATURES_OK))
		abort();
	for (unsigned q = 0; q < nqueues; q++)
		if (vd_setup_queue(d, q, num) != 1)
			abort();
	vd_driver_ok(d);
}

void vd_set_desc(struct vdriver *d, unsigned q, uint16_t i, uint64_t addr, uint32_t len,
                 uint16_t flags, uint16_t next)
{
	struct virtq_desc *desc = vd_ptr(d, d->q[q].desc);

	desc[i] = (struct virtq_desc){.addr = addr, .len = len, .flags = flags, .next = next};
}

void vd_avail_push(struct vdriver *d, unsigned q, uint16_t head)
{
	struct vd_queue *vq = &d->q[q];
	struct virtq_avail *avail = vd_ptr(d, vq->avail);

	avail->ring[vq->avail_idx % vq->num] = head;
	vq->avail_idx++;
	__atomic_store_n(&avail->idx, vq->avail_idx, __ATOMIC_RELEASE);
}

void vd_kick(struct vdriver *d, unsigned q)
{
	vd_wr(d, VIRTIO_MMIO_QUEUE_NOTIFY, q);
}

uint16_t vd_chain(struct vdriver *d, unsigned q, const struct vd_buf *bufs, unsigned n)
{
	struct vd_queue *vq = &d->q[q];
	uint16_t head = vq->next_desc;

	for (unsigned i = 0; i < n; i++) {
		uint16_t cur = (uint16_t)((head + i) % vq->num);
		uint16_t next = (uint16_t)((head + i + 1) % vq->num);

		vd_set_desc(d, q, cur, bufs[i].addr, bufs[i].len,
		            (uint16_t)((bufs[i].write ? VIRTQ_DESC_F_WRITE : 0) |
		                       (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0)),
		            i + 1 < n ? next : 0);
	}
	vq->next_desc = (uint16_t)((head + n) % vq->num);
	vd_avail_push(d, q, head);
	return head;
}

uint16_t vd_chain_indirect(struct vdriver *d, unsigned q, const struct vd_buf *bufs, unsigned n)
{
	struct vd_queue *vq = &d->q[q];
	uint64_t table = vd_alloc(d, 16ull * n, 16);
	struct virtq_desc *t = vd_ptr(d, table);
	uint16_t head = vq->next_desc;

	for (unsigned i = 0; i < n; i++)
		t[i] = (struct virtq_desc){
		        .addr = bufs[i].addr,
		        .len = bufs[i].len,
		        .flags = (uint16_t)((bufs[i].write ? VIRTQ_DESC_F_WRITE : 0) |
		                            (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0)),
		        .next = (uint16_t)(i + 1 < n ? i + 1 : 0),
		};
	vd_set_desc(d, q, head, table, (uint32_t)(16 * n), VIRTQ_DESC_F_INDIRECT, 0);
	vq->next_desc = (uint16_t)((head + 1) % vq->num);
	vd_avail_push(d, q, head);
	return head;
}

bool vd_used(struct vdriver *d, unsigned q, uint32_t *id, uint32_t *len)
{
	struct vd_queue *vq = &d->q[q];
	struct virtq_used *used = vd_ptr(d, vq->used);

	if (__atomic_load_n(&used->idx, __ATOMIC_ACQUIRE) == vq->last_used)
		return false;
	*id = used->ring[vq->last_used % vq->num].id;
	*len = used->ring[vq->last_used % vq->num].len;
	vq->last_used++;
	return true;
}

uint16_t vd_used_idx(struct vdriver *d, unsigned q)
{
	struct virtq_used *used = vd_ptr(d, d->q[q].used);

	return used->idx;
}

void vd_set_used_event(struct vdriver *d, unsigned q, uint16_t v)
{
	struct virtq_avail *avail = vd_ptr(d, d->q[q].avail);

	avail->ring[d->q[q].num] = v;
}

uint16_t vd_avail_event(struct vdriver *d, unsigned q)
{
	struct virtq_used *used = vd_ptr(d, d->q[q].used);

	return *(uint16_t *)(void *)&used->ring[d->q[q].num];
}

unsigned vd_log_lines(struct vdriver *d)
{
	unsigned n = 0;
	int c;

	fflush(d->log);
	rewind(d->log);
	while ((c = fgetc(d->log)) != EOF)
		n += c == '\n';
	return n;
}

bool vd_log_contains(struct vdriver *d, const char *s)
{
	char line[1024];

	fflush(d->log);
	rewind(d->log);
	while (fgets(line, sizeof(line), d->log))
		if (strstr(line, s))
			return true;
	return false;
}

void vd_snapshot(struct vdriver *d)
{
	free(d->snapshot);
	d->snapshot = malloc(VD_RAM_SIZE);
	if (!d->snapshot)
		abort();
	memcpy(d->snapshot, vd_ptr(d, VD_RAM_BASE), VD_RAM_SIZE);
}

uint64_t vd_changed_outside(struct vdriver *d, const struct vd_range *allowed, unsigned n)
{
	const uint8_t *now = vd_ptr(d, VD_RAM_BASE);

	for (uint64_t off = 0; off < VD_RAM_SIZE; off++) {
		uint64_t gpa = VD_RAM_BASE + off;
		bool ok = false;

		if (now[off] == d->snapshot[off])
			continue;
		for (unsigned i = 0; i < n && !ok; i++)
			ok = gpa >= allowed[i].gpa && gpa - allowed[i].gpa < allowed[i].len;
		if (!ok)
			return gpa;
	}
	return 0;
}

void vd_blk_image(char path[64], unsigned sectors)
{
	uint8_t *buf = malloc((size_t)sectors * 512);
	int fd;

	strcpy(path, "/tmp/vk-test-blk-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0 || !buf)
		abort();
	for (size_t i = 0; i < (size_t)sectors * 512; i++)
		buf[i] = vd_image_byte(i);
	if (write(fd, buf, (size_t)sectors * 512) != (ssize_t)sectors * 512)
		abort();
	close(fd);
	free(buf);
}

void vd_init_blk(struct vdriver *d, unsigned sectors, bool readonly, const char *serial)
{
	struct block_backend *be;
	char path[64];

	vd_blk_image(path, sectors);
	vd_init(d);
	memcpy(d->blk_path, path, sizeof(path));
	be = block_raw_open(path, readonly, NULL);
	if (!be)
		abort();
	vd_attach(d, virtio_blk_create(&d->mem, be, serial, NULL));
}

void vd_blk_submit(struct vdriver *d, struct vd_blkreq *r, uint32_t type, uint64_t sector,
                   uint32_t data_len, bool indirect)
{
	struct vd_buf bufs[3];
	unsigned n = 0;
	uint32_t *hdr;

	r->hdr = vd_alloc(d, 16, 16);
	r->data = data_len ? vd_alloc(d, data_len, 16) : 0;
	r->data_len = data_len;
	r->status = vd_alloc(d, 1, 1);
	hdr = vd_ptr(d, r->hdr);
	hdr[0] = type;
	hdr[1] = 0;
	memcpy(&hdr[2], &sector, 8);
	*(uint8_t *)vd_ptr(d, r->status) = 0xee;
	bufs[n++] = (struct vd_buf){r->hdr, 16, false};
	if (data_len)
		bufs[n++] = (struct vd_buf){r->data, data_len, type != VD_BLK_T_OUT};
	bufs[n++] = (struct vd_buf){r->status, 1, true};
	r->head = indirect ? vd_chain_indirect(d, 0, bufs, n) : vd_chain(d, 0, bufs, n);
}
