/* SPDX-License-Identifier: MIT */
/*
 * Migration of a VM to another virtkitd (docs/api.md, "Migration"), peer to
 * peer as libvirt's `virsh migrate --p2p`: the client asks the source daemon,
 * which drives the destination daemon through its own API (libvirtkit):
 *   source  POST   /1.0/instances/NAME/migrate {"to", "live", "keep_source"}
 *   dest    POST   /1.0/instances                    the definition (same uuid)
 *   dest    POST   /1.0/instances/NAME/incoming      start `virtkit-vm run --incoming`
 *   source  virtkit-vm `migrate` to the address the destination answered
 *   dest    POST   /1.0/instances/NAME/incoming/confirm   it runs there
 * then the source forgets the definition (unless keep_source). On a failure
 * before the machine arrived, the destination is told to end its receiver
 * (DELETE .../incoming) and forget the definition, and the VM goes on here.
 */
#ifndef VKD_API_MIGRATE_H
#define VKD_API_MIGRATE_H

#include "common/error.h"
#include "daemon/http.h"

struct instance;

/* Handed down by api_init(): how an instance is undefined (api.c's DELETE, under its own
 * job; *summary: the instance as it was, may be NULL). */
typedef int (*api_undefine_fn)(struct instance *inst, json_object **summary, struct vk_error *err);
void api_migrate_init(api_undefine_fn undefine);

/* ROUTE_MIGRATE: the source's side. */
enum MHD_Result api_migrate(struct http_req *req, struct instance *inst);
/* ROUTE_INCOMING (POST: start the receiver, DELETE: end it) and ROUTE_INCOMING_CONFIRM. */
enum MHD_Result api_incoming(struct http_req *req, struct instance *inst);

#endif
