/* SPDX-License-Identifier: MIT */
/*
 * The routes of saved states and snapshots (api-saved.h). The work is the
 * lifecycle's (lifecycle_save, lifecycle_restore) and virtkit-vm's; this file
 * checks the request, keeps which instance a saved file belongs to
 * (store-saved.h), and keeps the snapshot folder.
 *
 * A snapshot is a save that lets the VM go on. Its disks go on too, so a
 * snapshot of a VM with a writable disk would come back to a disk that moved
 * on without it: refused, with the reason, until virtkit-vm can put a qcow2
 * overlay on a running VM's disk.
 */
#include "daemon/api-saved.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "daemon/def.h"
#include "daemon/instance.h"
#include "daemon/lifecycle.h"
#include "daemon/paths.h"
#include "daemon/proc.h"
#include "daemon/store-saved.h"

#define SNAP_EXT ".vks"

static struct {
	struct store *store;
	const struct vkd_paths *paths;
} cfg;

void api_saved_init(struct store *store, const struct vkd_paths *paths)
{
	cfg.store = store;
	cfg.paths = paths;
}

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int api_body_object(struct http_req *req, json_object **out, struct vk_error *err)
{
	int r;

	if (req->len == 0) {
		*out = json_object_new_object();
		return 0;
	}
	r = def_parse_json(req->body, req->len, out, err);
	if (r == 0 && !json_object_is_type(*out, json_type_object)) {
		json_object_put(*out);
		return vk_error_set(err, EINVAL, "the request body must be a JSON object");
	}
	return r;
}

int api_only_keys(json_object *o, const char *const *allowed, struct vk_error *err)
{
	json_object_object_foreach(o, key, val)
	{
		bool ok = false;

		(void)val;
		for (const char *const *a = allowed; *a; a++)
			ok |= strcmp(key, *a) == 0;
		if (!ok)
			return vk_error_set(err, EINVAL, "unknown field '%.64s' in the request",
			                    key);
	}
	return 0;
}

/* "path": an absolute path of at most PATH_MAX - 16 bytes (virtkit-vm adds a suffix). */
static int get_path(json_object *o, char *out, size_t len, struct vk_error *err)
{
	json_object *v;
	const char *p;

	if (!json_object_object_get_ex(o, "path", &v) || !json_object_is_type(v, json_type_string))
		return vk_error_set(err, EINVAL,
		                    "'path' is required: the state file, on the "
		                    "daemon's host");
	p = json_object_get_string(v);
	if (p[0] != '/')
		return vk_error_set(err, EINVAL, "'path' must be absolute ('%.128s')", p);
	if (strlen(p) >= len || strlen(p) > PATH_MAX - 16)
		return vk_error_set(err, ENAMETOOLONG, "'path' is too long");
	snprintf(out, len, "%s", p);
	return 0;
}

/* ---- save and restore --------------------------------------------------------------- */

enum MHD_Result api_save(struct http_req *req, struct instance *inst)
{
	static const char *const keys[] = {"path", NULL};
	struct vk_error err = {0};
	char path[PATH_MAX];
	json_object *o = NULL, *reply;
	int r;

	if ((r = api_body_object(req, &o, &err)) == 0 && (r = api_only_keys(o, keys, &err)) == 0)
		r = get_path(o, path, sizeof(path), &err);
	json_object_put(o);
	if (r == 0)
		r = lifecycle_save(inst, path, false, &reply, &err);
	if (r == 0 && store_saved_put(cfg.store, path, inst->uuid, wall_ms(), &err) < 0) {
		/* The state is in the file, the VM is gone: say what is missing. */
		char w[PATH_MAX + VK_ERROR_MSG_MAX + 96];

		snprintf(w, sizeof(w),
		         "the daemon cannot record whose state '%s' holds, so "
		         "restore will not find it: %s",
		         path, err.msg);
		vk_warn("instance '%s': %s", inst->name, w);
		json_object_object_add(reply, "warning", json_object_new_string(w));
		vk_error_clear(&err);
	}
	if (r < 0)
		return http_vk_error(req->conn, &err);
	json_object_object_add(reply, "instance", instance_summary(inst));
	return http_json(req->conn, MHD_HTTP_OK, reply);
}

enum MHD_Result api_restore(struct http_req *req)
{
	static const char *const keys[] = {"path", NULL};
	struct vk_error err = {0};
	char path[PATH_MAX], uuid[DEF_UUID_LEN + 1];
	struct instance *inst = NULL;
	json_object *o = NULL;
	int r;

	if ((r = api_body_object(req, &o, &err)) == 0 && (r = api_only_keys(o, keys, &err)) == 0)
		r = get_path(o, path, sizeof(path), &err);
	json_object_put(o);
	if (r == 0)
		r = store_saved_get(cfg.store, path, uuid, &err);
	if (r == 0 && !(inst = instance_find(uuid, &err)))
		r = vk_error_set(&err, ENOENT,
		                 "'%s' holds the state of an instance that is no longer defined",
		                 path);
	if (r == 0)
		r = lifecycle_restore(inst, path, &err);
	if (r < 0) {
		if (inst)
			instance_unref(inst);
		return http_vk_error(req->conn, &err);
	}
	o = instance_summary(inst);
	instance_unref(inst);
	return http_json(req->conn, MHD_HTTP_OK, o);
}

/* ---- snapshots ------------------------------------------------------------------------ */

static int snap_dir(const char *uuid, char *buf, size_t len, struct vk_error *err)
{
	if ((size_t)snprintf(buf, len, "%s/snapshots/%s", cfg.paths->state_dir, uuid) >= len)
		return vk_error_set(err, ENAMETOOLONG, "the state folder '%s' is too long",
		                    cfg.paths->state_dir);
	return 0;
}

static int snap_file(const char *uuid, const char *snap, char *buf, size_t len,
                     struct vk_error *err)
{
	char dir[PATH_MAX];
	int r = snap_dir(uuid, dir, sizeof(dir), err);

	if (r == 0 && (size_t)snprintf(buf, len, "%s/%s" SNAP_EXT, dir, snap) >= len)
		r = vk_error_set(err, ENAMETOOLONG, "the state folder '%s' is too long",
		                 cfg.paths->state_dir);
	return r;
}

static json_object *snap_json(const char *name, const struct stat *st)
{
	json_object *s = json_object_new_object();

	json_object_object_add(s, "name", json_object_new_string(name));
	json_object_object_add(s, "created_ms",
	                       json_object_new_int64((int64_t)st->st_mtim.tv_sec * 1000 +
	                                             st->st_mtim.tv_nsec / 1000000));
	json_object_object_add(s, "bytes", json_object_new_int64((int64_t)st->st_size));
	return s;
}

static enum MHD_Result list_snapshots(struct http_req *req, struct instance *inst)
{
	struct vk_error err = {0};
	json_object *o = json_object_new_object(), *a = json_object_new_array();
	char dir[PATH_MAX], file[PATH_MAX * 2];
	struct dirent *de;
	DIR *d;

	json_object_object_add(o, "snapshots", a);
	if (snap_dir(inst->uuid, dir, sizeof(dir), &err) < 0) {
		json_object_put(o);
		return http_vk_error(req->conn, &err);
	}
	d = opendir(dir);
	while (d && (de = readdir(d))) {
		size_t n = strlen(de->d_name);
		char name[DEF_NAME_MAX + 1];
		struct stat st;

		if (n <= strlen(SNAP_EXT) || n - strlen(SNAP_EXT) > DEF_NAME_MAX ||
		    strcmp(de->d_name + n - strlen(SNAP_EXT), SNAP_EXT) != 0)
			continue; /* virtkit-vm's temporary files, anything else */
		snprintf(name, sizeof(name), "%.*s", (int)(n - strlen(SNAP_EXT)), de->d_name);
		snprintf(file, sizeof(file), "%s/%s", dir, de->d_name);
		if (def_name_valid(name) && stat(file, &st) == 0 && S_ISREG(st.st_mode))
			json_object_array_add(a, snap_json(name, &st));
	}
	if (d)
		closedir(d);
	return http_json(req->conn, MHD_HTTP_OK, o);
}

/* Every disk read-only, or the reason it is not. */
static int snapshot_allowed(struct instance *inst, struct vk_error *err)
{
	json_object *def = instance_def(inst), *disks;
	int r = 0;

	if (inst->type != DEF_VM)
		r = vk_error_set(err, EINVAL,
		                 "instance '%s' is a container: its snapshots need CRIU "
		                 "checkpointing, which virtkitd does not offer yet",
		                 inst->name);
	disks = def ? json_object_object_get(def, "disks") : NULL;
	for (size_t i = 0; r == 0 && disks && i < json_object_array_length(disks); i++) {
		json_object *d = json_object_array_get_idx(disks, i);
		const char *what = def_get_str(d, "volume") ? def_get_str(d, "volume")
		                                            : def_get_str(d, "path");

		if (!def_get_bool(d, "readonly", false))
			r = vk_error_set(
			        err, EBUSY,
			        "instance '%s' has a writable disk ('%s'): a snapshot would "
			        "come back to a disk that went on without it (a qcow2 overlay "
			        "for the running VM is not implemented); save and restore it "
			        "instead, or make the disk read-only",
			        inst->name, what ? what : "?");
	}
	json_object_put(def);
	return r;
}

static enum MHD_Result create_snapshot(struct http_req *req, struct instance *inst)
{
	static const char *const keys[] = {"name", NULL};
	struct vk_error err = {0};
	char name[DEF_NAME_MAX + 1], dir[PATH_MAX], file[PATH_MAX], loc[160];
	json_object *o = NULL, *v, *reply = NULL;
	struct stat st;
	int r;

	if ((r = api_body_object(req, &o, &err)) == 0 && (r = api_only_keys(o, keys, &err)) == 0) {
		if (json_object_object_get_ex(o, "name", &v)) {
			const char *s = json_object_is_type(v, json_type_string)
			                        ? json_object_get_string(v)
			                        : "";
			if (!def_name_valid(s))
				r = vk_error_set(
				        &err, EINVAL,
				        "invalid snapshot name (1 to %d letters, digits, '-', "
				        "'_' or '.', starting with a letter or digit)",
				        DEF_NAME_MAX);
			snprintf(name, sizeof(name), "%s", s);
		} else {
			time_t t = time(NULL);
			struct tm tm;

			gmtime_r(&t, &tm);
			strftime(name, sizeof(name), "snap-%Y%m%d-%H%M%S", &tm);
		}
	}
	json_object_put(o);
	if (r == 0)
		r = snapshot_allowed(inst, &err);
	if (r == 0)
		r = snap_file(inst->uuid, name, file, sizeof(file), &err);
	if (r == 0 && stat(file, &st) == 0)
		r = vk_error_set(&err, EEXIST, "instance '%s' has a snapshot '%s' already",
		                 inst->name, name);
	if (r == 0 && snap_dir(inst->uuid, dir, sizeof(dir), &err) == 0 &&
	    (r = mkdir_p(dir, 0700)) < 0)
		r = vk_error_errno(&err, -r, "cannot create '%s'", dir);
	if (r == 0)
		r = lifecycle_save(inst, file, true, &reply, &err);
	if (r < 0)
		return http_vk_error(req->conn, &err);
	json_object_put(reply);
	if (stat(file, &st) < 0)
		return http_error(req->conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
		                  "the snapshot's file is missing after it was written");
	snprintf(loc, sizeof(loc), "/1.0/instances/%s/snapshots/%s", inst->name, name);
	return http_json_hdr(req->conn, MHD_HTTP_CREATED, snap_json(name, &st),
	                     MHD_HTTP_HEADER_LOCATION, loc);
}

static enum MHD_Result snapshot_one(struct http_req *req, struct instance *inst)
{
	struct vk_error err = {0};
	char file[PATH_MAX];
	int r = snap_file(inst->uuid, req->m.snapshot, file, sizeof(file), &err);

	if (r == 0 && access(file, F_OK) != 0)
		r = vk_error_set(&err, ENOENT, "instance '%s' has no snapshot '%s'", inst->name,
		                 req->m.snapshot);
	if (r == 0 && req->m.id == ROUTE_SNAPSHOT_RESTORE)
		r = lifecycle_restore(inst, file, &err);
	else if (r == 0 && unlink(file) < 0)
		r = vk_error_errno(&err, errno, "cannot delete snapshot '%s'", req->m.snapshot);
	if (r < 0)
		return http_vk_error(req->conn, &err);
	return http_json(req->conn, MHD_HTTP_OK, instance_summary(inst));
}

enum MHD_Result api_snapshots(struct http_req *req, struct instance *inst)
{
	if (req->m.id == ROUTE_SNAPSHOTS)
		return strcmp(req->method, "GET") == 0 ? list_snapshots(req, inst)
		                                       : create_snapshot(req, inst);
	return snapshot_one(req, inst);
}

void api_saved_forget(const char *uuid)
{
	struct vk_error err = {0};
	char dir[PATH_MAX];

	if (store_saved_forget(cfg.store, uuid, &err) < 0)
		vk_warn("%s", err.msg);
	if (snap_dir(uuid, dir, sizeof(dir), &err) == 0)
		rm_rf(dir);
}
