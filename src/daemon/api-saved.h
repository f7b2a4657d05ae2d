/* SPDX-License-Identifier: MIT */
/*
 * Saved states and snapshots of VMs (docs/api.md, "Saving and snapshots"):
 *   POST   /1.0/instances/NAME/save {"path"}       save and stop (virsh save)
 *   POST   /1.0/restore {"path"}                   restore the instance saved there
 *   GET    /1.0/instances/NAME/snapshots           list
 *   POST   /1.0/instances/NAME/snapshots {"name"}  create (the VM goes on)
 *   POST   /1.0/instances/NAME/snapshots/SNAP/restore
 *   DELETE /1.0/instances/NAME/snapshots/SNAP
 * The state files are virtkit-vm's (docs/virtkit-vm.md); snapshots live in
 * STATE_DIR/snapshots/UUID/SNAP.vks.
 */
#ifndef VKD_API_SAVED_H
#define VKD_API_SAVED_H

#include "daemon/http.h"

struct instance;
struct store;
struct vkd_paths;

/* The request's JSON body, which may be empty ({}): *out is an object (api-migrate.c uses
 * these too). */
int api_body_object(struct http_req *req, json_object **out, struct vk_error *err) VK_MUST_CHECK;
/* Only the keys in allowed (NULL-terminated). */
int api_only_keys(json_object *o, const char *const *allowed, struct vk_error *err) VK_MUST_CHECK;

/* Handed down by api_init(); read-only afterwards. */
void api_saved_init(struct store *store, const struct vkd_paths *paths, const char *vm_binary);

enum MHD_Result api_save(struct http_req *req, struct instance *inst);
enum MHD_Result api_restore(struct http_req *req);
/* ROUTE_SNAPSHOTS, ROUTE_SNAPSHOT and ROUTE_SNAPSHOT_RESTORE (req->m says which). */
enum MHD_Result api_snapshots(struct http_req *req, struct instance *inst);

/* The instance is undefined: its snapshots go, and the daemon forgets its saved files (which
 * stay where the user put them). Logs what fails. */
void api_saved_forget(const char *uuid);

#endif
