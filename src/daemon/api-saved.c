/* SPDX-License-Identifier: MIT */
/*
 * The routes of saved states and snapshots (api-saved.h). The work is the
 * lifecycle's (lifecycle_save, lifecycle_restore) and virtkit-vm's; this file
 * checks the request, keeps which instance a saved file belongs to
 * (store-saved.h), and keeps the snapshot folder.
 *
 * A snapshot is a save that lets the VM go on. Its disks go on too, so at the
 * snapshot's moment virtkit-vm puts a qcow2 overlay over every writable disk
 * (disk.qcow2 -> disk.SNAP.qcow2 beside it, as libvirt's external snapshots):
 * the image keeps the disk as the snapshot has it, the guest writes the overlay,
 * and the definition points at the overlay. A restore puts a new overlay over
 * the snapshot's images (disk.rMS.qcow2) and starts from the saved state; the
 * images are never written again. A writable raw disk (or volume) cannot take
 * an overlay: refused, with the reason. Deleting a snapshot deletes its state,
 * not the images, which later overlays stand on.
 * A container's save or snapshot is a folder (CRIU's images, and for a
 * snapshot its root file system: drivers/container-save.c); here it is listed
 * and deleted as one.
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
#include "daemon/store.h"
#include "daemon/volumes-image.h"

#define SNAP_EXT  ".vks"
#define SNAP_META ".json" /* beside SNAP.vks: the images that hold its disks */

static struct {
	struct store *store;
	const struct vkd_paths *paths;
	const char *vm_binary; /* its `image create` makes the overlays of a restore */
} cfg;

void api_saved_init(struct store *store, const struct vkd_paths *paths, const char *vm_binary)
{
	cfg.store = store;
	cfg.paths = paths;
	cfg.vm_binary = vm_binary;
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

/* A container's snapshot is a folder: its size is what is in it. */
static json_object *snap_json_at(const char *name, const char *path, const struct stat *st)
{
	json_object *s = snap_json(name, st);

	if (S_ISDIR(st->st_mode))
		json_object_object_add(s, "bytes", json_object_new_int64(proc_tree_bytes(path)));
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
		if (def_name_valid(name) && stat(file, &st) == 0 &&
		    (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)))
			json_object_array_add(a, snap_json_at(name, file, &st));
	}
	if (d)
		closedir(d);
	return http_json(req->conn, MHD_HTTP_OK, o);
}

/*
 * What a snapshot of inst needs: *overlays [{"disk", "path"}] for virtkit-vm, one per
 * writable qcow2 disk (a new image beside the disk's, named after the snapshot), and
 * *images [{"disk", "image"}]: the images that keep the disks as they are at the
 * snapshot. Both NULL when every disk is read-only (and for a container, which has
 * none). Refused, with the reason, for a writable disk that cannot take an overlay.
 */
static int snapshot_plan(struct instance *inst, json_object *def, const char *snap,
                         json_object **overlays, json_object **images, struct vk_error *err)
{
	json_object *disks = def ? json_object_object_get(def, "disks") : NULL;
	int r = 0;

	*overlays = *images = NULL;
	for (size_t i = 0; r == 0 && disks && i < json_object_array_length(disks); i++) {
		json_object *d = json_object_array_get_idx(disks, i), *o;
		const char *path = def_get_str(d, "path"), *fmt = def_get_str(d, "format");
		char ov[PATH_MAX];
		size_t stem;

		if (def_get_bool(d, "readonly", false))
			continue;
		if (!path)
			r = vk_error_set(
			        err, EBUSY,
			        "instance '%s' runs from volume '%s', writable: a snapshot "
			        "needs a qcow2 overlay beside the disk, which a storage "
			        "pool's volume cannot take; save and restore it instead",
			        inst->name, def_get_str(d, "volume"));
		else if (!fmt || strcmp(fmt, "qcow2") != 0)
			r = vk_error_set(
			        err, EBUSY,
			        "instance '%s' has a writable raw disk ('%s'): a snapshot "
			        "would come back to a disk that went on without it, and only "
			        "a qcow2 disk can take the overlay that keeps it; save and "
			        "restore it instead, or make the disk read-only or qcow2",
			        inst->name, path);
		if (r < 0)
			break;
		/* DIR/disk.qcow2 -> DIR/disk.SNAP.qcow2 (as libvirt names external snapshots) */
		stem = strlen(path);
		if (stem > 6 && strcmp(path + stem - 6, ".qcow2") == 0)
			stem -= 6;
		if ((size_t)snprintf(ov, sizeof(ov), "%.*s.%s.qcow2", (int)stem, path, snap) >=
		    sizeof(ov)) {
			r = vk_error_set(err, ENAMETOOLONG,
			                 "disk '%s': its overlay's name is too long", path);
			break;
		}
		if (access(ov, F_OK) == 0) {
			r = vk_error_set(err, EEXIST,
			                 "disk '%s': '%s' exists already (another snapshot's "
			                 "overlay?)",
			                 path, ov);
			break;
		}
		if (!*overlays) {
			*overlays = json_object_new_array();
			*images = json_object_new_array();
		}
		o = json_object_new_object();
		json_object_object_add(o, "disk", json_object_new_int((int)i));
		json_object_object_add(o, "path", json_object_new_string(ov));
		json_object_array_add(*overlays, o);
		o = json_object_new_object();
		json_object_object_add(o, "disk", json_object_new_int((int)i));
		json_object_object_add(o, "image", json_object_new_string(path));
		json_object_array_add(*images, o);
	}
	if (r < 0) {
		json_object_put(*overlays);
		json_object_put(*images);
		*overlays = *images = NULL;
	}
	return r;
}

/*
 * The definition's disks point at new images (a snapshot's overlays, or those a
 * restore puts over a snapshot's images): list [{"disk", "path"}]. Under its own job;
 * the running VM writes them already, so a failure here is one the user must hear.
 */
static int set_disk_paths(struct instance *inst, json_object *list, struct vk_error *err)
{
	json_object *def = instance_def(inst), *disks, *old;
	struct vk_event ev;
	int r;

	if (!def)
		return vk_error_set(err, ENOMEM, "out of memory");
	disks = json_object_object_get(def, "disks");
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *e = json_object_array_get_idx(list, i);
		json_object *d = json_object_array_get_idx(
		        disks, (size_t)json_object_get_int(json_object_object_get(e, "disk")));

		if (d)
			json_object_object_add(d, "path",
			                       json_object_get(json_object_object_get(e, "path")));
	}
	if ((r = lifecycle_job_begin(inst, "update", JOB_WAIT_MS, err)) < 0) {
		json_object_put(def);
		return r;
	}
	instance_event(inst, "updated", &ev);
	r = store_set_definition(
	        cfg.store, inst->uuid,
	        json_object_to_json_string_ext(def, JSON_C_TO_STRING_PLAIN |
	                                                    JSON_C_TO_STRING_NOSLASHESCAPE),
	        &ev, err);
	if (r == 0) {
		pthread_mutex_lock(&inst->lock);
		old = inst->def;
		inst->def = def;
		pthread_mutex_unlock(&inst->lock);
		json_object_put(old);
	} else {
		json_object_put(def);
	}
	lifecycle_job_end(inst);
	return r;
}

static enum MHD_Result create_snapshot(struct http_req *req, struct instance *inst)
{
	static const char *const keys[] = {"name", NULL};
	struct vk_error err = {0};
	char name[DEF_NAME_MAX + 1], dir[PATH_MAX], file[PATH_MAX], meta[PATH_MAX + 8], loc[160];
	json_object *o = NULL, *v, *reply = NULL, *def = NULL, *overlays = NULL, *images = NULL;
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
		r = snap_file(inst->uuid, name, file, sizeof(file), &err);
	if (r == 0 && stat(file, &st) == 0)
		r = vk_error_set(&err, EEXIST, "instance '%s' has a snapshot '%s' already",
		                 inst->name, name);
	if (r == 0) {
		def = instance_def(inst);
		r = snapshot_plan(inst, def, name, &overlays, &images, &err);
		json_object_put(def);
	}
	if (r == 0 && snap_dir(inst->uuid, dir, sizeof(dir), &err) == 0 &&
	    (r = mkdir_p(dir, 0700)) < 0)
		r = vk_error_errno(&err, -r, "cannot create '%s'", dir);
	if (r == 0)
		r = overlays ? lifecycle_snapshot(inst, file, overlays, &reply, &err)
		             : lifecycle_save(inst, file, true, &reply, &err);
	if (r < 0)
		goto out;
	json_object_put(reply);
	if (images) {
		/* Which images hold the snapshot's disks (for its restore). */
		snprintf(meta, sizeof(meta), "%.*s" SNAP_META,
		         (int)(strlen(file) - strlen(SNAP_EXT)), file);
		o = json_object_new_object();
		json_object_object_add(o, "disks", json_object_get(images));
		if (json_object_to_file_ext(meta, o, JSON_C_TO_STRING_PLAIN) < 0)
			r = vk_error_set(&err, EIO, "cannot write '%s'", meta);
		json_object_put(o);
		if (r == 0 && (r = set_disk_paths(inst, overlays, &err)) < 0)
			vk_error_prefix(&err,
			                "instance '%s' writes its disks' overlays now, but its "
			                "definition could not say so",
			                inst->name);
		if (r < 0) {
			unlink(file);
			unlink(meta);
			goto out;
		}
	}
out:
	json_object_put(overlays);
	json_object_put(images);
	if (r < 0)
		return http_vk_error(req->conn, &err);
	if (stat(file, &st) < 0)
		return http_error(req->conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
		                  "the snapshot's file is missing after it was written");
	snprintf(loc, sizeof(loc), "/1.0/instances/%s/snapshots/%s", inst->name, name);
	return http_json_hdr(req->conn, MHD_HTTP_CREATED, snap_json_at(name, file, &st),
	                     MHD_HTTP_HEADER_LOCATION, loc);
}

/*
 * A snapshot with disk images (SNAP.json): the disks go back to them through new
 * overlays (the images themselves stay as they are, for the next restore), and the
 * definition says so. *undo: the paths the definition had, for a failed restore.
 */
static int restore_disks(struct instance *inst, const char *meta, json_object **undo,
                         struct vk_error *err)
{
	json_object *o = json_object_from_file(meta), *disks, *now = json_object_new_array();
	json_object *def = instance_def(inst),
	            *ddisks = def ? json_object_object_get(def, "disks") : NULL;
	int r = 0;

	*undo = json_object_new_array();
	if (!o || !json_object_object_get_ex(o, "disks", &disks) ||
	    !json_object_is_type(disks, json_type_array))
		r = vk_error_set(err, EIO, "cannot read '%s'", meta);
	for (size_t i = 0; r == 0 && i < json_object_array_length(disks); i++) {
		json_object *e = json_object_array_get_idx(disks, i), *n;
		int idx = json_object_get_int(json_object_object_get(e, "disk"));
		const char *image = def_get_str(e, "image");
		json_object *d = json_object_array_get_idx(ddisks, (size_t)idx);
		char ov[PATH_MAX];
		size_t stem;

		if (!image || !d || !def_get_str(d, "path") ||
		    strcmp(def_get_str(d, "format") ? def_get_str(d, "format") : "", "qcow2")) {
			r = vk_error_set(err, EINVAL,
			                 "the definition's disk %d is no longer the qcow2 disk the "
			                 "snapshot was taken of",
			                 idx);
			break;
		}
		stem = strlen(image);
		if (stem > 6 && strcmp(image + stem - 6, ".qcow2") == 0)
			stem -= 6;
		snprintf(ov, sizeof(ov), "%.*s.r%lld.qcow2", (int)stem, image,
		         (long long)wall_ms());
		if ((r = vimg_create(cfg.vm_binary, ov, "qcow2", 0, image, "qcow2", err)) < 0)
			break;
		n = json_object_new_object();
		json_object_object_add(n, "disk", json_object_new_int(idx));
		json_object_object_add(n, "path", json_object_new_string(ov));
		json_object_array_add(now, n);
		n = json_object_new_object();
		json_object_object_add(n, "disk", json_object_new_int(idx));
		json_object_object_add(n, "path", json_object_new_string(def_get_str(d, "path")));
		json_object_array_add(*undo, n);
	}
	if (r == 0)
		r = set_disk_paths(inst, now, err);
	if (r < 0) {
		for (size_t i = 0; i < json_object_array_length(now); i++)
			unlink(def_get_str(json_object_array_get_idx(now, i), "path"));
		json_object_put(*undo);
		*undo = NULL;
	}
	json_object_put(now);
	json_object_put(def);
	json_object_put(o);
	return r;
}

/* A restore that failed after restore_disks(): the new overlays go, and the definition
 * gets back the disks it had (undo). Logs what fails. */
static void undo_restore_disks(struct instance *inst, json_object *undo)
{
	json_object *def = instance_def(inst), *disks = json_object_object_get(def, "disks");
	struct vk_error err = {0};

	for (size_t i = 0; i < json_object_array_length(undo); i++) {
		int idx = json_object_get_int(
		        json_object_object_get(json_object_array_get_idx(undo, i), "disk"));
		const char *now =
		        def_get_str(json_object_array_get_idx(disks, (size_t)idx), "path");

		if (now)
			unlink(now);
	}
	json_object_put(def);
	if (set_disk_paths(inst, undo, &err) < 0)
		vk_warn("instance '%s': %s", inst->name, err.msg);
}

/* A VM's snapshot file, or a container's snapshot folder. */
static int remove_snapshot(const char *file, const char *name, struct vk_error *err)
{
	struct stat st;
	int r = lstat(file, &st) < 0  ? -errno
	        : S_ISDIR(st.st_mode) ? rm_rf(file)
	        : unlink(file) < 0    ? -errno
	                              : 0;

	return r < 0 ? vk_error_errno(err, -r, "cannot delete snapshot '%s'", name) : 0;
}

static enum MHD_Result snapshot_one(struct http_req *req, struct instance *inst)
{
	struct vk_error err = {0};
	char file[PATH_MAX], meta[PATH_MAX + 8];
	json_object *undo = NULL;
	int r = snap_file(inst->uuid, req->m.snapshot, file, sizeof(file), &err);

	if (r == 0 && access(file, F_OK) != 0)
		r = vk_error_set(&err, ENOENT, "instance '%s' has no snapshot '%s'", inst->name,
		                 req->m.snapshot);
	if (r == 0)
		snprintf(meta, sizeof(meta), "%.*s" SNAP_META,
		         (int)(strlen(file) - strlen(SNAP_EXT)), file);
	if (r == 0 && req->m.id == ROUTE_SNAPSHOT_RESTORE) {
		enum inst_state s;

		pthread_mutex_lock(&inst->lock);
		s = inst->state;
		pthread_mutex_unlock(&inst->lock);
		/* Checked first, so that the disks of an active VM are never touched. */
		if (inst_state_active(s))
			r = vk_error_set(&err, EALREADY, "instance '%s' is already %s", inst->name,
			                 inst_state_name(s));
		if (r == 0 && access(meta, F_OK) == 0)
			r = restore_disks(inst, meta, &undo, &err);
		if (r == 0 && (r = lifecycle_restore(inst, file, &err)) < 0 && undo)
			undo_restore_disks(inst, undo);
	} else if (r == 0 && (r = remove_snapshot(file, req->m.snapshot, &err)) == 0) {
		unlink(meta); /* the images stay: later overlays may stand on them */
	}
	json_object_put(undo);
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
