/* SPDX-License-Identifier: MIT */
/* Persistent tap interfaces (see tap.h). */
#include "net/tap.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int tap_create_persistent(const char *name, struct vk_error *err)
{
	struct ifreq ifr = {0};
	int fd, e;

	if (!name || !*name || strlen(name) >= IFNAMSIZ)
		return vk_error_set(err, EINVAL, "invalid tap name '%.32s'", name ? name : "");
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return vk_error_errno(err, errno, "cannot open /dev/net/tun for the tap '%s'",
		                      name);
	/* The same flags virtkit-vm opens it with (it adds IFF_VNET_HDR, a per-queue flag). */
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	memcpy(ifr.ifr_name, name, strlen(name));
	if (ioctl(fd, TUNSETIFF, &ifr) < 0 || ioctl(fd, TUNSETPERSIST, 1) < 0) {
		e = errno;
		close(fd);
		return vk_error_set(err, e, "cannot create the tap '%s': %s%s", name, strerror(e),
		                    e == EPERM   ? " (needs CAP_NET_ADMIN)"
		                    : e == EBUSY ? " (a process holds it already)"
		                                 : "");
	}
	close(fd);
	return 0;
}
