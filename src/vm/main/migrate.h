/* SPDX-License-Identifier: MIT */
/*
 * Saving a machine to a file and migrating it to another virtkit-vm, for the
 * control socket's `save` and `migrate` (docs/virtkit-vm.md), and receiving
 * one (`run --restore`, `run --incoming`). The work runs on a thread of its
 * own, so that the event loop keeps serving the guest's devices during a live
 * migration's pre-copy; the machine is reached through the board's state
 * controls (struct vm_control_ops) and its registry (registry.h).
 */
#ifndef VK_VM_MIGRATE_H
#define VK_VM_MIGRATE_H

#include <json-c/json.h>
#include <stdint.h>

#include "common/error.h"
#include "vm/machine.h"

struct vm_loop;
struct vm_migrator;
struct vm_state_in;

/* On the loop's thread, machine lock held: the job's reply ({"ok":...}), owned by the
 * callee. After a successful save without keep_running, or a migration, the machine then
 * ends (ops->finish). */
typedef void (*vm_migrate_done)(void *ctx, struct json_object *reply);

/* config: the machine's configuration as JSON (the state's CONFIG record). */
struct vm_migrator *vm_migrator_new(struct vm_loop *loop, const struct vm_control_ops *ops,
                                    void *machine, const char *config, struct vk_error *err);
/* Stops a job under way (its done is not called) and frees. Not under the machine lock. */
void vm_migrator_free(struct vm_migrator *m);

/*
 * Start `save` ({"path", "keep_running", "disk_overlays"}), `migrate` ({"to", "live",
 * "bandwidth", "downtime_ms", "max_rounds"}) or `disk-overlay` ({"disk", "path"}) from a
 * control request. -EBUSY while another job runs,
 * -EINVAL for bad arguments (err set); otherwise done() is called once, later.
 */
int vm_migrator_start(struct vm_migrator *m, const char *cmd, struct json_object *req,
                      vm_migrate_done done, void *ctx, struct vk_error *err) VK_MUST_CHECK;

/*
 * The receiving side (run.c): open `--restore FILE` or wait for the one
 * connection of `--incoming unix:PATH|tcp:HOST:PORT`, and read the state's
 * header and configuration. *fd is the descriptor to read the rest from.
 */
int vm_incoming_open(const char *restore, const char *incoming, int *fd,
                     struct vk_error *err) VK_MUST_CHECK;
/* After a migration was loaded (ok) or refused: tell the source, one line. */
int vm_incoming_answer(int fd, int result, const struct vk_error *why);

#endif
