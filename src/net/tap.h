/* SPDX-License-Identifier: MIT */
/*
 * Persistent tap interfaces (Documentation/networking/tuntap.rst): made by
 * virtkitd before a VM starts, attached to a bridge, then opened by name by
 * virtkit-vm (`--net tap,ifname=`). Persistence keeps the link while nobody
 * holds it, so a VM's port on the bridge does not depend on which process
 * opened it last; rtnl_link_del() removes it.
 */
#ifndef VK_NET_TAP_H
#define VK_NET_TAP_H

#include "common/error.h"

/* Create (or find, when a persistent tap of that name exists) the tap name. */
int tap_create_persistent(const char *name, struct vk_error *err) VK_MUST_CHECK;

#endif
