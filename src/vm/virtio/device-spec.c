/* SPDX-License-Identifier: MIT */
/*
 * Building virtio devices from command-line strings (--disk, --net,
 * --console, --rng), for the boards. The grammar is in devices.h.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"
#include "vm/backend/block.h"
#include "vm/backend/net.h"
#include "vm/chardev.h"
#include "vm/virtio/devices.h"
#include "vm/virtio/virtio.h"

static const uint8_t default_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

int virtio_parse_mac(const char *s, uint8_t mac[6], struct vk_error *err)
{
	unsigned v[6];
	char end;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
	           &end) != 6 ||
	    strlen(s) != 17)
		return vk_error_set(err, EINVAL, "'%s' is not a MAC address like 52:54:00:12:34:56",
		                    s);
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	if (mac[0] & 1)
		return vk_error_set(err, EINVAL, "MAC address %s is a multicast address", s);
	return 0;
}

static struct virtio_dev *disk_from_spec(const char *spec, const struct vm_mem *mem,
                                         bool lock_later, struct vk_error *err)
{
	_cleanup_free_ char *copy = strdup(spec);
	char *save = NULL, *path, *opt;
	const char *serial = NULL;
	struct block_open_opts o = {.format = BLOCK_FORMAT_AUTO, .lock_later = lock_later};
	struct block_backend *be;

	if (!copy) {
		vk_error_errno(err, ENOMEM, "cannot parse disk '%s'", spec);
		return NULL;
	}
	path = strtok_r(copy, ",", &save);
	if (!path) {
		vk_error_set(err, EINVAL,
		             "disk: no image file given "
		             "(PATH[,format=raw|qcow2][,readonly][,cache=none|writeback]"
		             "[,serial=ID])");
		return NULL;
	}
	while ((opt = strtok_r(NULL, ",", &save))) {
		if (!strcmp(opt, "readonly") || !strcmp(opt, "ro")) {
			o.readonly = true;
		} else if (!strcmp(opt, "cache=none") || !strcmp(opt, "cache=writeback")) {
			o.direct = !strcmp(opt, "cache=none");
		} else if (vk_startswith(opt, "cache=")) {
			vk_error_set(err, EINVAL,
			             "disk '%s': cache mode '%s' is not none or writeback", path,
			             opt + 6);
			return NULL;
		} else if (vk_startswith(opt, "format=")) {
			if (block_format_parse(opt + 7, &o.format) < 0) {
				vk_error_set(err, EINVAL,
				             "disk '%s': format '%s' is not raw or qcow2", path,
				             opt + 7);
				return NULL;
			}
		} else if (vk_startswith(opt, "serial=")) {
			serial = opt + 7;
			if (strlen(serial) > 20) {
				vk_error_set(err, EINVAL,
				             "disk '%s': serial '%s' is longer than 20 "
				             "characters",
				             path, serial);
				return NULL;
			}
		} else {
			vk_error_set(err, EINVAL,
			             "disk '%s': unknown option '%s' (known: format=raw|qcow2, "
			             "readonly, cache=none|writeback, serial=ID)",
			             path, opt);
			return NULL;
		}
	}
	be = block_open(path, &o, err);
	if (!be)
		return NULL;
	return virtio_blk_create(mem, be, serial, err);
}

static struct virtio_dev *net_from_spec(const char *spec, const struct vm_mem *mem,
                                        struct vm_loop *loop, struct vk_error *err)
{
	static const char *const device_keys[] = {"mac", NULL};
	uint8_t mac[6];
	const char *m;
	struct net_backend *be;

	memcpy(mac, default_mac, sizeof(mac));
	/* mac= belongs to the device; the backend parser skips it. */
	for (m = strstr(spec, "mac="); m; m = strstr(m + 1, "mac=")) {
		char buf[18];
		size_t len;

		if (m != spec && m[-1] != ',')
			continue;
		len = strcspn(m + 4, ",");
		if (len >= sizeof(buf)) {
			vk_error_set(err, EINVAL, "net: '%.*s' is not a MAC address", (int)len,
			             m + 4);
			return NULL;
		}
		memcpy(buf, m + 4, len);
		buf[len] = '\0';
		if (virtio_parse_mac(buf, mac, err) < 0)
			return NULL;
	}
	be = net_backend_open(loop, spec, device_keys, err);
	if (!be)
		return NULL;
	return virtio_net_create(mem, be, mac, err);
}

struct virtio_dev *virtio_dev_from_spec(enum virtio_spec_kind kind, const char *spec,
                                        const struct vm_mem *mem, struct vm_loop *loop,
                                        struct vk_error *err)
{
	struct chardev *c;

	switch (kind) {
	case VIRTIO_SPEC_DISK:
	case VIRTIO_SPEC_DISK_INCOMING: {
		struct virtio_dev *dev = disk_from_spec(spec ? spec : "", mem,
		                                        kind == VIRTIO_SPEC_DISK_INCOMING, err);

		/* Its file I/O runs without the machine lock (docs/threading.md). */
		if (dev && loop && virtio_blk_set_loop(dev, loop, err) < 0) {
			virtio_dev_destroy(dev);
			return NULL;
		}
		return dev;
	}
	case VIRTIO_SPEC_NET:
		return net_from_spec(spec ? spec : "", mem, loop, err);
	case VIRTIO_SPEC_CONSOLE:
		c = chardev_open(loop, spec ? spec : "", err);
		return c ? virtio_console_create(mem, c, err) : NULL;
	case VIRTIO_SPEC_RNG:
		if (spec && *spec) {
			vk_error_set(err, EINVAL, "rng: unknown option '%s' (it takes none)", spec);
			return NULL;
		}
		return virtio_rng_create(mem, err);
	}
	vk_error_set(err, EINVAL, "unknown virtio device kind %d", (int)kind);
	return NULL;
}
