/* SPDX-License-Identifier: MIT */
/*
 * Constructors of the virtio devices, and the helper boards use to build
 * them from command-line strings. A constructor returns the device's
 * struct virtio_dev (hand it to a transport), or NULL with a sentence in err.
 * virtio_dev_destroy() frees any of them, with the backend it owns.
 */
#ifndef VK_VM_VIRTIO_DEVICES_H
#define VK_VM_VIRTIO_DEVICES_H

#include <stdint.h>

#include "common/error.h"
#include "vm/mem.h"

struct block_backend;
struct net_backend;
struct chardev;
struct vm_loop;
struct virtio_dev;

/* virtio-blk on be (owned from now on, also on failure). serial: GET_ID, NULL for a default. */
struct virtio_dev *virtio_blk_create(const struct vm_mem *mem, struct block_backend *be,
                                     const char *serial, struct vk_error *err);

/* Run dev's (a virtio-blk) I/O asynchronously, off the machine lock, completing on
 * loop's thread (block-aio.h); without this call every request is done inside the
 * notify (single-threaded users, tests). */
int virtio_blk_set_loop(struct virtio_dev *dev, struct vm_loop *loop,
                        struct vk_error *err) VK_MUST_CHECK;

/* virtio-net on be (owned from now on, also on failure) with MAC address mac. */
struct virtio_dev *virtio_net_create(const struct vm_mem *mem, struct net_backend *be,
                                     const uint8_t mac[6], struct vk_error *err);

/* virtio-console, one port, on c (owned from now on, also on failure). */
struct virtio_dev *virtio_console_create(const struct vm_mem *mem, struct chardev *c,
                                         struct vk_error *err);

/*
 * Multiport virtio-console (a virtio-serial bus): ports 0 .. VIRTIO_CONSOLE_MAX_PORTS-1,
 * each a console port (name NULL: hvc) or a named port (the guest's /dev/vportNpM, e.g.
 * "org.qemu.guest_agent.0"). Every chr is owned from now on, also on failure.
 */
#define VIRTIO_CONSOLE_MAX_PORTS 2
#define VIRTIO_CONSOLE_NAME_MAX  64
struct virtio_console_port {
	unsigned id;
	const char *name;
	struct chardev *chr;
};
struct virtio_dev *virtio_console_create_ports(const struct vm_mem *mem,
                                               const struct virtio_console_port *ports, unsigned n,
                                               struct vk_error *err);

/* virtio-rng fed by getrandom(2). */
struct virtio_dev *virtio_rng_create(const struct vm_mem *mem, struct vk_error *err);

/*
 * Command-line device strings:
 *   VIRTIO_SPEC_DISK     PATH[,readonly][,serial=ID]
 *   VIRTIO_SPEC_NET      user[,hostfwd=tcp:127.0.0.1:HOSTPORT-:GUESTPORT]...[,dns=on]
 *                        tap[,ifname=NAME][,vnet_hdr=on|off]
 *                        echo
 *                        each with an optional ,mac=52:54:00:xx:xx:xx
 *   VIRTIO_SPEC_CONSOLE  a chardev spec (stdio, pty, socket:PATH, file:PATH, null)
 *   VIRTIO_SPEC_RNG      "" (or NULL): no options
 * Unknown options are refused with an error naming them.
 */
enum virtio_spec_kind {
	VIRTIO_SPEC_DISK,
	/* A disk of a machine whose state comes from a live migration: the image is opened
	 * without its lock, which the source holds until the switchover (virtio_dev_ops
	 * handover). */
	VIRTIO_SPEC_DISK_INCOMING,
	VIRTIO_SPEC_NET,
	VIRTIO_SPEC_CONSOLE,
	VIRTIO_SPEC_RNG,
};

struct virtio_dev *virtio_dev_from_spec(enum virtio_spec_kind kind, const char *spec,
                                        const struct vm_mem *mem, struct vm_loop *loop,
                                        struct vk_error *err);

/* Parse "52:54:00:12:34:56": 0 or -EINVAL with a message. */
int virtio_parse_mac(const char *s, uint8_t mac[6], struct vk_error *err) VK_MUST_CHECK;

#endif
