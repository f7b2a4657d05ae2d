/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the virtio core through the virtio-mmio transport: register
 * file, feature negotiation, queue setup, interrupts and their suppression
 * (EVENT_IDX, NO_INTERRUPT), indirect descriptors, reset, config generation.
 * virtio-blk on a temporary raw image is the device under test.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "vdriver.h"
#include "vm/backend/block.h"
#include "vm/virtio/devices.h"

#define F(bit)      (1ull << (bit))
#define BLK_SECTORS 128
#define BLK_F_FLUSH 9
#define BLK_F_RO    5

struct fixture {
	struct vdriver d;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	vd_init_blk(&f->d, BLK_SECTORS, false, "test-serial");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	vd_fini(&f->d);
	free(f);
	return 0;
}

static void test_mmio_identity(void **state)
{
	struct fixture *f = *state;
	struct vdriver *d = &f->d;
	uint64_t v = 1;

	assert_int_equal(vd_rd(d, VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
	assert_int_equal(vd_rd(d, VIRTIO_MMIO_VERSION), 2);
	assert_int_equal(vd_rd(d, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_BLOCK);
	assert_int_equal(vd_rd(d, VIRTIO_MMIO_VENDOR), VIRTIO_MMIO_VENDOR_ID);
	vd_wr(d, VIRTIO_MMIO_QUEUE_SEL, 0);
	assert_int_equal(vd_rd(d, VIRTIO_MMIO_QUEUE_NUM_MAX), 256);
	vd_wr(d, VIRTIO_MMIO_QUEUE_SEL, 1); /* blk has one queue */
	assert_int_equal(vd_rd(d, VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
	vd_wr(d, VIRTIO_MMIO_QUEUE_SEL, 0xffffffff);
	assert_int_equal(vd_rd(d, VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
	vd_wr(d, VIRTIO_MMIO_QUEUE_READY, 1); /* on a queue that does not exist */

	/* Wrong sizes and unaligned offsets read 0 and are ignored. */
	assert_true(bus_read(&d->bus, VD_MMIO_BASE + 0, 2, &v));
	assert_int_equal(v, 0);
	assert_true(bus_read(&d->bus, VD_MMIO_BASE + 0, 8, &v));
	assert_int_equal(v, 0);
	assert_true(bus_read(&d->bus, VD_MMIO_BASE + 1, 4, &v));
	assert_int_equal(v, 0);
	assert_true(bus_write(&d->bus, VD_MMIO_BASE + VIRTIO_MMIO_STATUS, 1, 1));
	assert_true(bus_write(&d->bus, VD_MMIO_BASE + VIRTIO_MMIO_STATUS + 2, 4, 1));
	assert_int_equal(vd_rd(d, VIRTIO_MMIO_STATUS), 0);
	/* Write-only registers read 0; reserved offsets too. */
	assert_int_equal(vd_rd(d, VIRTIO_MMIO_QUEUE_NOTIFY), 0);
	assert_int_equal(vd_rd(d, 0x0c0), 0);
	/* Config space past its end reads 0. */
	assert_true(bus_read(&d->bus, VD_MMIO_BASE + 0x1fc, 4, &v));
	assert_int_equal(v, 0);
	assert_true(bus_read(&d->bus, VD_MMIO_BASE + 0x100 + 22, 4, &v));
	assert_int_equal(v, 0);
	/* A second transport cannot take the same range. */
	assert_null(virtio_mmio_create(&d->bus, VD_MMIO_BASE, (struct irq_line){0}, d->dev, NULL));
}

static void test_features(void **state)
{
	struct fixture *f = *state;
	struct vdriver *d = &f->d;
	uint32_t lo, hi;

	vd_wr(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	lo = vd_rd(d, VIRTIO_MMIO_DEVICE_FEATURES);
	vd_wr(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	hi = vd_rd(d, VIRTIO_MMIO_DEVICE_FEATURES);
	vd_wr(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 2);
	assert_int_equal(vd_rd(d, VIRTIO_MMIO_DEVICE_FEATURES), 0);
	assert_true(hi & 1); /* VERSION_1 */
	assert_true(lo & (1u << VIRTIO_F_RING_EVENT_IDX));
	assert_true(lo & (1u << VIRTIO_F_INDIRECT_DESC));
	assert_true(lo & (1u << BLK_F_FLUSH));
	assert_false(lo & (1u << BLK_F_RO));

	/* Without VERSION_1 (a legacy driver): FEATURES_OK does not stick. */
	assert_false(vd_negotiate(d, F(BLK_F_FLUSH)) & VIRTIO_STATUS_FEATURES_OK);
	/* A feature that was not offered: refused too. */
	assert_false(vd_negotiate(d, F(VIRTIO_F_VERSION_1) | F(40)) & VIRTIO_STATUS_FEATURES_OK);
	assert_false(vd_negotiate(d, F(VIRTIO_F_VERSION_1) | F(BLK_F_RO)) &
	             VIRTIO_STATUS_FEATURES_OK);
	/* DRIVER_OK without FEATURES_OK is refused as well. */
	vd_wr(d, VIRTIO_MMIO_STATUS, vd_rd(d, VIRTIO_MMIO_STATUS) | VIRTIO_STATUS_DRIVER_OK);
	assert_false(vd_rd(d, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DRIVER_OK);

	/* A proper subset with VERSION_1 is accepted. */
	assert_true(vd_negotiate(d, F(VIRTIO_F_VERSION_1) | F(BLK_F_FLUSH)) &
	            VIRTIO_STATUS_FEATURES_OK);
	assert_true(virtio_dev_has_feature(d->dev, BLK_F_FLUSH));
	assert_false(virtio_dev_has_feature(d->dev, VIRTIO_F_RING_EVENT_IDX));
	/* Frozen after FEATURES_OK. */
	vd_wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	vd_wr(d, VIRTIO_MMIO_DRIVER_FEATURES, 1u << VIRTIO_F_RING_EVENT_IDX);
	assert_false(virtio_dev_has_feature(d->dev, VIRTIO_F_RING_EVENT_IDX));
	/* The driver cannot clear bits or set NEEDS_RESET itself. */
	vd_wr(d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_DEVICE_NEEDS_RESET | VIRTIO_STATUS_ACKNOWLEDGE);
	assert_int_equal(vd_rd(d, VIRTIO_MMIO_STATUS), VIRTIO_STATUS_ACKNOWLEDGE |
	                                                       VIRTIO_STATUS_DRIVER |
	                                                       VIRTIO_STATUS_FEATURES_OK);
}

static void test_queue_setup(void **state)
{
	struct fixture *f = *state;
	struct vdriver *d = &f->d;

	assert_true(vd_negotiate(d, F(VIRTIO_F_VERSION_1)) & VIRTIO_STATUS_FEATURES_OK);
	assert_int_equal(vd_setup_queue(d, 0, 16), 1);
	assert_int_equal(vd_rd(d, VIRTIO_MMIO_QUEUE_DESC_LOW), (uint32_t)d->q[0].desc);
	assert_int_equal(vd_rd(d, VIRTIO_MMIO_QUEUE_DRIVER_LOW), (uint32_t)d->q[0].avail);
	assert_int_equal(vd_rd(d, VIRTIO_MMIO_QUEUE_DEVICE_LOW), (uint32_t)d->q[0].used);
	assert_int_equal(vd_rd(d, VIRTIO_MMIO_QUEUE_DEVICE_HIGH), 0);
	/* A live queue's layout cannot change. */
	vd_wr(d, VIRTIO_MMIO_QUEUE_DESC_LOW, 0x1000);
	assert_int_equal(vd_rd(d, VIRTIO_MMIO_QUEUE_DESC_LOW), (uint32_t)d->q[0].desc);
	vd_driver_ok(d);
	assert_true(vd_rd(d, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DRIVER_OK);
	assert_false(vd_rd(d, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
}

/* Layouts the device refuses: the queue stays not ready and the device needs a reset. */
static void check_bad_layout(struct vdriver *d, uint16_t num, uint64_t desc)
{
	assert_true(vd_negotiate(d, F(VIRTIO_F_VERSION_1)) & VIRTIO_STATUS_FEATURES_OK);
	vd_wr(d, VIRTIO_MMIO_QUEUE_SEL, 0);
	vd_wr(d, VIRTIO_MMIO_QUEUE_NUM, num);
	vd_wr(d, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)desc);
	vd_wr(d, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(desc >> 32));
	vd_wr(d, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)VD_RAM_BASE + 0x10000);
	vd_wr(d, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)VD_RAM_BASE + 0x20000);
	vd_wr(d, VIRTIO_MMIO_QUEUE_READY, 1);
	assert_int_equal(vd_rd(d, VIRTIO_MMIO_QUEUE_READY), 0);
	assert_true(vd_rd(d, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
}

static void test_queue_bad_layouts(void **state)
{
	struct fixture *f = *state;
	struct vdriver *d = &f->d;

	check_bad_layout(d, 12, VD_RAM_BASE);                    /* not a power of two */
	check_bad_layout(d, 512, VD_RAM_BASE);                   /* above QueueNumMax */
	check_bad_layout(d, 0, VD_RAM_BASE);                     /* empty */
	check_bad_layout(d, 16, VD_RAM_BASE + 8);                /* descriptor table misaligned */
	check_bad_layout(d, 16, 0x1000);                         /* not in RAM */
	check_bad_layout(d, 16, VD_RAM_BASE + VD_RAM_SIZE - 64); /* runs off the end */
	check_bad_layout(d, 16, 0xfffffffffffffff0ull);          /* wraps */
	assert_true(vd_log_lines(d) <= 1);
	/* A reset clears it all. */
	vd_wr(d, VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(vd_rd(d, VIRTIO_MMIO_STATUS), 0);
	vd_bringup(d, 0, 1, 16);
	assert_false(vd_rd(d, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
}

static void test_interrupt_and_ack(void **state)
{
	struct fixture *f = *state;
	struct vdriver *d = &f->d;
	struct vd_blkreq r;
	uint32_t id, len;

	vd_bringup(d, 0, 1, 16);
	assert_false(d->irq_level);
	vd_blk_submit(d, &r, VD_BLK_T_IN, 3, 512, false);
	/* Published but not kicked: nothing happens. */
	assert_false(vd_used(d, 0, &id, &len));
	vd_kick(d, 0);
	assert_true(vd_used(d, 0, &id, &len));
	assert_int_equal(id, r.head);
	assert_int_equal(len, 513);
	assert_int_equal(*(uint8_t *)vd_ptr(d, r.status), 0);
	assert_true(d->irq_level);
	assert_int_equal(d->irq_raises, 1);
	assert_int_equal(vd_rd(d, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_ISR_QUEUE);
	/* Acknowledging another bit changes nothing; the right one lowers the line. */
	vd_wr(d, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_ISR_CONFIG);
	assert_true(d->irq_level);
	vd_wr(d, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_ISR_QUEUE);
	assert_false(d->irq_level);
	assert_int_equal(vd_rd(d, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	/* A kick with nothing new raises nothing. */
	vd_kick(d, 0);
	assert_false(d->irq_level);
	assert_int_equal(d->irq_raises, 1);
}

static void test_event_idx(void **state)
{
	struct fixture *f = *state;
	struct vdriver *d = &f->d;
	struct vd_blkreq r;
	uint32_t id, len;

	vd_bringup(d, F(VIRTIO_F_RING_EVENT_IDX), 1, 16);
	/* "Interrupt me once used->idx passes 1", i.e. after the second completion. */
	vd_set_used_event(d, 0, 1);
	vd_blk_submit(d, &r, VD_BLK_T_IN, 0, 512, false);
	vd_kick(d, 0);
	assert_true(vd_used(d, 0, &id, &len));
	assert_int_equal(d->irq_raises, 0);
	assert_int_equal(vd_rd(d, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	/* The device asked to be kicked at the next available entry. */
	assert_int_equal(vd_avail_event(d, 0), 1);
	vd_blk_submit(d, &r, VD_BLK_T_IN, 1, 512, false);
	vd_kick(d, 0);
	assert_true(vd_used(d, 0, &id, &len));
	assert_int_equal(d->irq_raises, 1);
	assert_true(d->irq_level);
	assert_int_equal(vd_avail_event(d, 0), 2);
	vd_wr(d, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_ISR_QUEUE);
	/* used_event left at 1: the third completion does not interrupt. */
	vd_blk_submit(d, &r, VD_BLK_T_FLUSH, 0, 0, false);
	vd_kick(d, 0);
	assert_true(vd_used(d, 0, &id, &len));
	assert_int_equal(d->irq_raises, 1);
}

static void test_no_interrupt_flag(void **state)
{
	struct fixture *f = *state;
	struct vdriver *d = &f->d;
	struct virtq_avail *avail;
	struct vd_blkreq r;
	uint32_t id, len;

	vd_bringup(d, 0, 1, 16);
	avail = vd_ptr(d, d->q[0].avail);
	avail->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
	vd_blk_submit(d, &r, VD_BLK_T_FLUSH, 0, 0, false);
	vd_kick(d, 0);
	assert_true(vd_used(d, 0, &id, &len));
	assert_int_equal(d->irq_raises, 0);
	avail->flags = 0;
	vd_blk_submit(d, &r, VD_BLK_T_FLUSH, 0, 0, false);
	vd_kick(d, 0);
	assert_true(vd_used(d, 0, &id, &len));
	assert_int_equal(d->irq_raises, 1);
}

static void test_indirect(void **state)
{
	struct fixture *f = *state;
	struct vdriver *d = &f->d;
	struct vd_blkreq r;
	uint32_t id, len;
	const uint8_t *data;

	vd_bringup(d, F(VIRTIO_F_INDIRECT_DESC), 1, 16);
	vd_blk_submit(d, &r, VD_BLK_T_IN, 5, 1024, true);
	vd_kick(d, 0);
	assert_true(vd_used(d, 0, &id, &len));
	assert_int_equal(id, r.head);
	assert_int_equal(len, 1025);
	assert_int_equal(*(uint8_t *)vd_ptr(d, r.status), 0);
	data = vd_ptr(d, r.data);
	for (unsigned i = 0; i < 1024; i++)
		assert_int_equal(data[i], vd_image_byte(5 * 512 + i));
}

static void test_reset(void **state)
{
	struct fixture *f = *state;
	struct vdriver *d = &f->d;
	struct vd_blkreq r;
	uint32_t id, len;

	vd_bringup(d, F(VIRTIO_F_RING_EVENT_IDX), 1, 16);
	vd_blk_submit(d, &r, VD_BLK_T_FLUSH, 0, 0, false);
	vd_kick(d, 0);
	assert_true(d->irq_level);
	vd_wr(d, VIRTIO_MMIO_STATUS, 0);
	assert_false(d->irq_level);
	assert_int_equal(vd_rd(d, VIRTIO_MMIO_STATUS), 0);
	assert_int_equal(vd_rd(d, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	assert_int_equal(vd_rd(d, VIRTIO_MMIO_QUEUE_READY), 0);
	assert_int_equal(vd_rd(d, VIRTIO_MMIO_QUEUE_DESC_LOW), 0);
	assert_int_equal(vd_rd(d, VIRTIO_MMIO_QUEUE_DRIVER_LOW), 0);
	assert_int_equal(vd_rd(d, VIRTIO_MMIO_QUEUE_DEVICE_LOW), 0);
	assert_false(virtio_dev_has_feature(d->dev, VIRTIO_F_RING_EVENT_IDX));
	assert_int_equal(virtio_queue_get_num(d->dev, 0), 256);
	/* A board-initiated reset lowers the line too. */
	vd_bringup(d, 0, 1, 16);
	virtio_dev_config_changed(d->dev);
	assert_true(d->irq_level);
	virtio_reset(d->dev);
	assert_false(d->irq_level);
	assert_int_equal(vd_rd(d, VIRTIO_MMIO_STATUS), 0);
	/* A kick to the reset device does nothing. */
	vd_blk_submit(d, &r, VD_BLK_T_FLUSH, 0, 0, false);
	vd_kick(d, 0);
	assert_int_equal(vd_used_idx(d, 0), 0);
	/* And it comes back from scratch. */
	vd_bringup(d, 0, 1, 8);
	vd_blk_submit(d, &r, VD_BLK_T_IN, 1, 512, false);
	vd_kick(d, 0);
	assert_true(vd_used(d, 0, &id, &len));
	assert_int_equal(len, 513);
}

static void test_kick_before_driver_ok(void **state)
{
	struct fixture *f = *state;
	struct vdriver *d = &f->d;
	struct vd_blkreq r;
	uint32_t id, len;

	assert_true(vd_negotiate(d, F(VIRTIO_F_VERSION_1)) & VIRTIO_STATUS_FEATURES_OK);
	assert_int_equal(vd_setup_queue(d, 0, 16), 1);
	vd_blk_submit(d, &r, VD_BLK_T_FLUSH, 0, 0, false);
	vd_kick(d, 0);
	assert_false(vd_used(d, 0, &id, &len));
	/* DRIVER_OK looks at every ready queue. */
	vd_driver_ok(d);
	assert_true(vd_used(d, 0, &id, &len));
	assert_int_equal(*(uint8_t *)vd_ptr(d, r.status), 0);
}

static void test_config_generation(void **state)
{
	struct fixture *f = *state;
	struct vdriver *d = &f->d;
	uint64_t cap = 0, lo = 0, hi = 0, b = 0;
	uint32_t gen;

	vd_bringup(d, 0, 1, 16);
	gen = vd_rd(d, VIRTIO_MMIO_CONFIG_GENERATION);
	assert_true(bus_read(&d->bus, VD_MMIO_BASE + VIRTIO_MMIO_CONFIG, 8, &cap));
	assert_int_equal(cap, BLK_SECTORS);
	assert_true(bus_read(&d->bus, VD_MMIO_BASE + VIRTIO_MMIO_CONFIG, 4, &lo));
	assert_true(bus_read(&d->bus, VD_MMIO_BASE + VIRTIO_MMIO_CONFIG + 4, 4, &hi));
	assert_int_equal(lo | hi << 32, BLK_SECTORS);
	assert_true(bus_read(&d->bus, VD_MMIO_BASE + VIRTIO_MMIO_CONFIG, 1, &b));
	assert_int_equal(b, BLK_SECTORS);
	/* blk_size at offset 20. */
	assert_true(bus_read(&d->bus, VD_MMIO_BASE + VIRTIO_MMIO_CONFIG + 20, 4, &b));
	assert_int_equal(b, 512);
	assert_int_equal(vd_rd(d, VIRTIO_MMIO_CONFIG_GENERATION), gen);
	/* The device changes its config: new generation and a config interrupt. */
	virtio_dev_config_changed(d->dev);
	assert_int_equal(vd_rd(d, VIRTIO_MMIO_CONFIG_GENERATION), gen + 1);
	assert_int_equal(vd_rd(d, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_ISR_CONFIG);
	assert_true(d->irq_level);
	vd_wr(d, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_ISR_CONFIG);
	assert_false(d->irq_level);
	/* Config writes to a device without writable config are ignored. */
	assert_true(bus_write(&d->bus, VD_MMIO_BASE + VIRTIO_MMIO_CONFIG, 4, 0));
	assert_true(bus_read(&d->bus, VD_MMIO_BASE + VIRTIO_MMIO_CONFIG, 8, &cap));
	assert_int_equal(cap, BLK_SECTORS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_mmio_identity, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_features, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_queue_setup, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_queue_bad_layouts, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_interrupt_and_ack, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_event_idx, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_no_interrupt_flag, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_indirect, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_kick_before_driver_ok, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_config_generation, setup, teardown),
	};

	return cmocka_run_group_tests_name("virtio-core", tests, NULL, NULL);
}
