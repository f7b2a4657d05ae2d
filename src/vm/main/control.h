/* SPDX-License-Identifier: MIT */
/*
 * The control socket (`virtkit-vm --control PATH`): line-delimited JSON
 * commands (status, pause, resume, powerdown, quit) and pushed events, for
 * virtkitd and scripts. The protocol is documented in docs/virtkit-vm.md.
 *
 * The server lives on the machine's event loop; every callback below runs
 * under the machine lock, on the loop's thread. `save` and `migrate` answer
 * when their job is over; the client's later requests wait for that reply.
 */
#ifndef VK_VM_CONTROL_H
#define VK_VM_CONTROL_H

#include <json-c/json.h>

#include "common/error.h"
#include "vm/machine.h" /* struct vm_control_ops: the controls a board hands back */

struct vm_loop;
struct vm_control;

/* Listen on path (an existing socket file is replaced). */
struct vm_control *vm_control_create(struct vm_loop *loop, const char *path,
                                     const struct vm_control_ops *ops, void *opaque,
                                     struct vk_error *err);

/* Offer `save` and `migrate` through m (migrate.h); the replies come when the job ends. */
struct vm_migrator;
void vm_control_set_migrator(struct vm_control *c, struct vm_migrator *m);

/* Close every connection and remove the socket file, unless another took its path since. */
void vm_control_destroy(struct vm_control *c);

/*
 * Push {"event": event[, "reason": reason][, "detail": detail]} to every
 * client, and try hard to deliver it before returning (used just before exit).
 */
void vm_control_event(struct vm_control *c, const char *event, const char *reason,
                      const char *detail);

#endif
