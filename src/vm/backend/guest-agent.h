/* SPDX-License-Identifier: MIT */
/*
 * The VMM's own guest-agent client: the host end of a virtio-console port named
 * org.qemu.guest_agent.0, speaking QEMU's guest-agent protocol (one JSON object
 * per line, as qemu-ga and libvirt do) to the agent in the guest. Only what a
 * graceful power-off needs: guest-sync (is an agent there and listening?) and
 * guest-shutdown (which answers nothing on success).
 *
 * guest_agent_open() returns a chardev to hand to the port (which owns and
 * closes it) and the agent's handle, valid until that chardev is closed. All
 * calls happen under the machine lock (loop.h).
 */
#ifndef VK_VM_BACKEND_GUEST_AGENT_H
#define VK_VM_BACKEND_GUEST_AGENT_H

#include "common/compiler.h"
#include "common/error.h"

struct chardev;
struct guest_agent;
struct vm_loop;

#define GUEST_AGENT_PORT_NAME "org.qemu.guest_agent.0"

struct chardev *guest_agent_open(struct vm_loop *loop, struct guest_agent **agent,
                                 struct vk_error *err);

/*
 * Send guest-sync with a fresh id (after dropping whatever half-read input
 * there was). synced(opaque) is called once the guest answers with that id;
 * earlier answers, and anything else the guest says, are ignored.
 */
void guest_agent_sync(struct guest_agent *a, void (*synced)(void *opaque), void *opaque);

/* Send guest-shutdown (mode powerdown). */
void guest_agent_shutdown(struct guest_agent *a);

#endif
