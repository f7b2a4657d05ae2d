/* SPDX-License-Identifier: MIT */
/*
 * The storage pool "default" (see volumes.h for the rules it keeps). A
 * volume is a row in the store (format, base, virtual size) and a file of the
 * same name in the pool's folder; the row is written after the file is
 * complete and removed before the file is, so a row always names a usable
 * image. What runs from a volume, and what is about to be defined with one,
 * is kept here in memory ("uses"), under the pool lock.
 */
#include "daemon/volumes.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "daemon/def.h"
#include "daemon/instance.h"
#include "daemon/paths.h"
#include "daemon/proc.h"
#include "daemon/store-volumes.h"
#include "daemon/volumes-image.h"

/* A volume in use: by an active instance (owner its uuid), or pinned by a define (owner ""). */
struct use {
	char volume[DEF_NAME_MAX + 1];
	char owner[DEF_UUID_LEN + 1];
	char owner_name[DEF_NAME_MAX + 1];
	bool writable;
	struct use *next;
};

static struct volumes_settings settings;
static char pool_dir[PATH_MAX];
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static struct use *uses; /* under pool_lock */

int volumes_init(const struct volumes_settings *s, struct vk_error *err)
{
	int r;

	settings = *s;
	if (fmt_buf(pool_dir, sizeof(pool_dir), "%s/pools/%s", s->paths->state_dir, VOLUME_POOL) <
	    0)
		return vk_error_set(err, ENAMETOOLONG, "the state folder '%s' is too long",
		                    s->paths->state_dir);
	if ((r = mkdir_p(pool_dir, 0700)) < 0)
		return vk_error_errno(err, -r, "cannot create the storage pool folder '%s'",
		                      pool_dir);
	return store_volumes_init(s->store, err);
}

static int vol_path(const char *name, char *buf, size_t len, struct vk_error *err)
{
	if (fmt_buf(buf, len, "%s/%s", pool_dir, name) < 0)
		return vk_error_set(err, ENAMETOOLONG, "the path of volume '%s' is too long", name);
	return 0;
}

/* --- who uses a volume ------------------------------------------------------- */

static int use_add(const char *volume, const char *owner, const char *owner_name, bool writable,
                   struct vk_error *err)
{
	struct use *u = calloc(1, sizeof(*u));

	if (!u)
		return vk_error_set(err, ENOMEM, "out of memory");
	snprintf(u->volume, sizeof(u->volume), "%s", volume);
	snprintf(u->owner, sizeof(u->owner), "%s", owner);
	snprintf(u->owner_name, sizeof(u->owner_name), "%s", owner_name);
	u->writable = writable;
	u->next = uses;
	uses = u;
	return 0;
}

/* The first use of volume by an active instance other than except (writers only if asked). */
static const struct use *running_use(const char *volume, const char *except, bool writers)
{
	for (const struct use *u = uses; u; u = u->next)
		if (u->owner[0] && strcmp(u->volume, volume) == 0 &&
		    (!except || strcmp(u->owner, except) != 0) && (!writers || u->writable))
			return u;
	return NULL;
}

static bool pinned(const char *volume)
{
	for (const struct use *u = uses; u; u = u->next)
		if (!u->owner[0] && strcmp(u->volume, volume) == 0)
			return true;
	return false;
}

/* Call fn(volume, instance name, opaque) for every volume disk of every defined VM. */
static void for_each_attachment(void (*fn)(const char *volume, const char *inst, void *opaque),
                                void *opaque)
{
	struct instance **list;
	size_t n;

	if (instance_list(&list, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		json_object *def, *disks;

		if (list[i]->type != DEF_VM || !(def = instance_def(list[i])))
			continue;
		disks = json_object_object_get(def, "disks");
		for (size_t k = 0; disks && k < json_object_array_length(disks); k++) {
			const char *v = def_get_str(json_object_array_get_idx(disks, k), "volume");
			if (v)
				fn(v, list[i]->name, opaque);
		}
		json_object_put(def);
	}
	instance_list_free(list, n);
}

struct find_user {
	const char *volume;
	char user[DEF_NAME_MAX + 1];
};

static void find_user_cb(const char *volume, const char *inst, void *opaque)
{
	struct find_user *f = opaque;

	if (!f->user[0] && strcmp(volume, f->volume) == 0)
		snprintf(f->user, sizeof(f->user), "%s", inst);
}

/* volume name → [instance names], for every attached volume. */
static void users_cb(const char *volume, const char *inst, void *opaque)
{
	json_object *map = opaque, *a;

	if (!json_object_object_get_ex(map, volume, &a)) {
		a = json_object_new_array();
		json_object_object_add(map, volume, a);
	}
	json_object_array_add(a, json_object_new_string(inst));
}

/* --- the volume as JSON ---------------------------------------------------------- */

static json_object *volume_json(const struct store_volume *v, json_object *users)
{
	json_object *o = json_object_new_object(), *u = NULL;
	char path[PATH_MAX], ts[64];
	time_t secs = (time_t)(v->created_ms / 1000);
	struct stat st;
	struct tm tm;

	json_object_object_add(o, "name", json_object_new_string(v->name));
	json_object_object_add(o, "pool", json_object_new_string(VOLUME_POOL));
	if (vol_path(v->name, path, sizeof(path), NULL) == 0)
		json_object_object_add(o, "path", json_object_new_string(path));
	json_object_object_add(o, "format", json_object_new_string(v->format));
	json_object_object_add(o, "capacity", json_object_new_int64((int64_t)v->capacity));
	/* What the file takes on disk, as `qemu-img info` reports it (actual-size). */
	if (stat(path, &st) == 0)
		json_object_object_add(o, "allocation",
		                       json_object_new_int64((int64_t)st.st_blocks * 512));
	gmtime_r(&secs, &tm);
	snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
	         tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	         (int)(v->created_ms % 1000));
	json_object_object_add(o, "created", json_object_new_string(ts));
	if (v->base_volume[0] || v->base_path[0]) {
		json_object *b = json_object_new_object();
		if (v->base_volume[0])
			json_object_object_add(b, "volume", json_object_new_string(v->base_volume));
		else
			json_object_object_add(b, "path", json_object_new_string(v->base_path));
		json_object_object_add(b, "format", json_object_new_string(v->base_format));
		json_object_object_add(o, "base", b);
	}
	if (users)
		json_object_object_get_ex(users, v->name, &u);
	json_object_object_add(o, "used_by", u ? json_object_get(u) : json_object_new_array());
	return o;
}

static json_object *users_map(void)
{
	json_object *map = json_object_new_object();

	for_each_attachment(users_cb, map);
	return map;
}

/* --- create ---------------------------------------------------------------------- */

static bool looks_qcow2(const char *path)
{
	unsigned char magic[4];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool yes = fd >= 0 && read(fd, magic, 4) == 4 && memcmp(magic, "QFI\xfb", 4) == 0;

	if (fd >= 0)
		close(fd);
	return yes;
}

/*
 * The base of a linked clone: into row (base_*), the backing file to give
 * the tool, and the base's size in *base_size.
 */
static int prepare_base(const struct volume_spec *spec, struct store_volume *row, char *backing,
                        size_t len, uint64_t *base_size, struct vk_error *err)
{
	struct store_volume base;
	const struct use *u;
	json_object *info;
	char real[PATH_MAX];
	struct stat st;
	int r;

	if (!spec->from_is_path) {
		if ((r = store_volume_get(settings.store, VOLUME_POOL, spec->from, &base, err)) < 0)
			return r == -ENOENT ? vk_error_set(err, ENOENT,
			                                   "no base volume '%s' in pool '%s'",
			                                   spec->from, VOLUME_POOL)
			                    : r;
		if ((u = running_use(spec->from, NULL, true)))
			return vk_error_set(err, EBUSY,
			                    "volume '%s' is written by running instance '%s': a "
			                    "base must not change under its clones (stop it first)",
			                    spec->from, u->owner_name);
		snprintf(row->base_volume, sizeof(row->base_volume), "%s", spec->from);
		snprintf(row->base_format, sizeof(row->base_format), "%s", base.format);
		/* Relative to the overlay's folder (as QEMU resolves it): the pool can move. */
		snprintf(backing, len, "%s", spec->from);
		*base_size = base.capacity;
		return 0;
	}
	if (stat(spec->from, &st) < 0)
		return vk_error_errno(err, errno, "cannot use '%s' as a base", spec->from);
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		return vk_error_set(
		        err, EINVAL,
		        "cannot use '%s' as a base: not an image file or a block device",
		        spec->from);
	if (!realpath(spec->from, real))
		return vk_error_errno(err, errno, "cannot use '%s' as a base", spec->from);
	if (vk_startswith(real, pool_dir) && real[strlen(pool_dir)] == '/')
		return vk_error_set(err, EINVAL,
		                    "'%s' is a volume of pool '%s': give its name as the base",
		                    spec->from, VOLUME_POOL);
	if (!spec->from_format && looks_qcow2(real))
		return vk_error_set(err, EINVAL,
		                    "'%s' starts with a qcow2 header: give its format (qcow2, or "
		                    "raw to use its bytes as they are; the CLI's --from-format)",
		                    spec->from);
	snprintf(row->base_path, sizeof(row->base_path), "%s", real);
	snprintf(row->base_format, sizeof(row->base_format), "%s",
	         spec->from_format ? spec->from_format : "raw");
	/* The tool reads the base now: a broken one is refused before anything is made. */
	if ((r = vimg_info(settings.vm_binary, real, row->base_format, &info, err)) < 0)
		return vk_error_prefix(err, "cannot use '%s' as a base", spec->from);
	*base_size = (uint64_t)json_object_get_int64(json_object_object_get(info, "virtual-size"));
	json_object_put(info);
	snprintf(backing, len, "%s", real);
	return 0;
}

static int create_locked(const struct volume_spec *spec, json_object **out, struct vk_error *err)
{
	struct store_volume row = {0};
	char path[PATH_MAX], backing[PATH_MAX];
	uint64_t base_size = 0;
	json_object *info = NULL, *users;
	struct timespec now;
	int r;

	r = store_volume_get(settings.store, VOLUME_POOL, spec->name, &row, NULL);
	if (r == 0)
		return vk_error_set(err, EEXIST, "volume '%s' already exists in pool '%s'",
		                    spec->name, VOLUME_POOL);
	memset(&row, 0, sizeof(row));
	if ((r = vol_path(spec->name, path, sizeof(path), err)) < 0)
		return r;
	if (access(path, F_OK) == 0)
		return vk_error_set(err, EEXIST,
		                    "'%s' is in the way (a file in the pool's folder that is not "
		                    "a volume): move it away or choose another name",
		                    path);
	if (spec->from &&
	    (r = prepare_base(spec, &row, backing, sizeof(backing), &base_size, err)) < 0)
		return r;
	if (spec->from && spec->size && spec->size < base_size)
		return vk_error_set(err, EINVAL,
		                    "a linked clone cannot be smaller than its base (%" PRIu64
		                    " bytes)",
		                    base_size);
	r = vimg_create(settings.vm_binary, path, spec->format, spec->size,
	                spec->from ? backing : NULL, spec->from ? row.base_format : NULL, err);
	if (r < 0) {
		unlink(path); /* the tool leaves nothing; nor do we if it did */
		return r;
	}
	/* The size the tool made (the base's, when not given): the row records it. */
	if ((r = vimg_info(settings.vm_binary, path, spec->format, &info, err)) < 0)
		goto fail;
	snprintf(row.name, sizeof(row.name), "%s", spec->name);
	snprintf(row.format, sizeof(row.format), "%s", spec->format);
	row.capacity =
	        (uint64_t)json_object_get_int64(json_object_object_get(info, "virtual-size"));
	json_object_put(info);
	clock_gettime(CLOCK_REALTIME, &now);
	row.created_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
	if ((r = store_volume_insert(settings.store, VOLUME_POOL, &row, err)) < 0)
		goto fail;
	users = users_map();
	*out = volume_json(&row, users);
	json_object_put(users);
	return 0;
fail:
	unlink(path);
	return r;
}

int volumes_create(const struct volume_spec *spec, json_object **out, struct vk_error *err)
{
	int r;

	pthread_mutex_lock(&pool_lock);
	r = create_locked(spec, out, err);
	pthread_mutex_unlock(&pool_lock);
	if (r < 0)
		vk_error_prefix(err, "cannot create volume '%s'", spec->name);
	return r;
}

/* --- list, info ------------------------------------------------------------------ */

struct list_ctx {
	json_object *arr, *users;
};

static int list_cb(void *opaque, const struct store_volume *v)
{
	struct list_ctx *l = opaque;

	json_object_array_add(l->arr, volume_json(v, l->users));
	return 0;
}

int volumes_list(json_object **out, struct vk_error *err)
{
	struct list_ctx l = {.arr = json_object_new_array(), .users = users_map()};
	int r = store_volume_list(settings.store, VOLUME_POOL, list_cb, &l, err);

	json_object_put(l.users);
	if (r < 0) {
		json_object_put(l.arr);
		return r;
	}
	*out = l.arr;
	return 0;
}

int volumes_info(const char *name, json_object **out, struct vk_error *err)
{
	struct store_volume v;
	char path[PATH_MAX];
	json_object *info, *users;
	int r;

	if ((r = store_volume_get(settings.store, VOLUME_POOL, name, &v, err)) < 0 ||
	    (r = vol_path(name, path, sizeof(path), err)) < 0)
		return r;
	if ((r = vimg_info(settings.vm_binary, path, v.format, &info, err)) < 0)
		return vk_error_prefix(err, "cannot read volume '%s'", name);
	users = users_map();
	*out = volume_json(&v, users);
	json_object_put(users);
	json_object_object_add(*out, "image", info);
	return 0;
}

int volumes_pool(const char *pool, json_object **out, struct vk_error *err)
{
	struct list_ctx l = {.arr = json_object_new_array()};
	struct statvfs fs;
	json_object *o;
	int r;

	if (strcmp(pool, VOLUME_POOL) != 0) {
		json_object_put(l.arr);
		return vk_error_set(err, ENOENT, "no storage pool '%s' (there is one: '%s')", pool,
		                    VOLUME_POOL);
	}
	r = store_volume_list(settings.store, VOLUME_POOL, list_cb, &l, err);
	o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string(VOLUME_POOL));
	json_object_object_add(o, "path", json_object_new_string(pool_dir));
	json_object_object_add(o, "volumes",
	                       json_object_new_int((int)json_object_array_length(l.arr)));
	json_object_put(l.arr);
	if (statvfs(pool_dir, &fs) == 0) {
		json_object_object_add(o, "capacity_bytes",
		                       json_object_new_int64((int64_t)(fs.f_blocks * fs.f_frsize)));
		json_object_object_add(o, "available_bytes",
		                       json_object_new_int64((int64_t)(fs.f_bavail * fs.f_frsize)));
	}
	if (r < 0) {
		json_object_put(o);
		return r;
	}
	*out = o;
	return 0;
}

/* --- resize, delete ----------------------------------------------------------------- */

/* -EBUSY when the volume is another volume's base (its clones read it). */
static int check_not_base(const char *name, const char *what, struct vk_error *err)
{
	char child[DEF_NAME_MAX + 1];
	int r = store_volume_child(settings.store, VOLUME_POOL, name, child, err);

	if (r > 0)
		return vk_error_set(err, EBUSY,
		                    "volume '%s' is the base of volume '%s' (a linked clone): %s",
		                    name, child, what);
	return r;
}

static int resize_locked(const char *name, uint64_t size, json_object **out, struct vk_error *err)
{
	struct store_volume v;
	const struct use *u;
	char path[PATH_MAX];
	json_object *users;
	int r;

	if ((r = store_volume_get(settings.store, VOLUME_POOL, name, &v, err)) < 0 ||
	    (r = vol_path(name, path, sizeof(path), err)) < 0)
		return r;
	if ((u = running_use(name, NULL, false)))
		return vk_error_set(err, EBUSY, "volume '%s' is in use by running instance '%s'",
		                    name, u->owner_name);
	if ((r = check_not_base(name, "its clones would change", err)) < 0)
		return r;
	if (size < v.capacity)
		return vk_error_set(err, EINVAL,
		                    "shrinking is not supported (the volume has %" PRIu64
		                    " bytes; the guest's data past %" PRIu64 " would be lost)",
		                    v.capacity, size);
	if (size > v.capacity) {
		if ((r = vimg_resize(settings.vm_binary, path, v.format, size, err)) < 0)
			return r;
		if ((r = store_volume_set_capacity(settings.store, VOLUME_POOL, name, size, err)) <
		    0)
			return r;
		v.capacity = size;
	}
	users = users_map();
	*out = volume_json(&v, users);
	json_object_put(users);
	return 0;
}

int volumes_resize(const char *name, uint64_t size, json_object **out, struct vk_error *err)
{
	int r;

	pthread_mutex_lock(&pool_lock);
	r = resize_locked(name, size, out, err);
	pthread_mutex_unlock(&pool_lock);
	if (r < 0 && r != -ENOENT)
		vk_error_prefix(err, "cannot resize volume '%s'", name);
	return r;
}

static int delete_locked(const char *name, json_object **out, struct vk_error *err)
{
	struct find_user f = {.volume = name};
	struct store_volume v;
	const struct use *u;
	char path[PATH_MAX];
	int r;

	if ((r = store_volume_get(settings.store, VOLUME_POOL, name, &v, err)) < 0 ||
	    (r = vol_path(name, path, sizeof(path), err)) < 0)
		return r;
	if ((u = running_use(name, NULL, false)))
		return vk_error_set(err, EBUSY, "volume '%s' is in use by running instance '%s'",
		                    name, u->owner_name);
	for_each_attachment(find_user_cb, &f);
	if (f.user[0])
		return vk_error_set(err, EBUSY,
		                    "volume '%s' is attached to instance '%s' (detach it from the "
		                    "definition, or undefine the instance, first)",
		                    name, f.user);
	if (pinned(name))
		return vk_error_set(err, EBUSY,
		                    "volume '%s' is being attached to an instance just now", name);
	if ((r = check_not_base(name, "delete its clones first", err)) < 0)
		return r;
	*out = volume_json(&v, NULL);
	/* The row first: a volume listed always has its file. */
	if ((r = store_volume_delete(settings.store, VOLUME_POOL, name, err)) < 0) {
		json_object_put(*out);
		return r;
	}
	if (unlink(path) < 0 && errno != ENOENT)
		vk_warn("volume '%s' is deleted but its file '%s' stays: %s", name, path,
		        strerror(errno));
	return 0;
}

int volumes_delete(const char *name, json_object **out, struct vk_error *err)
{
	int r;

	pthread_mutex_lock(&pool_lock);
	r = delete_locked(name, out, err);
	pthread_mutex_unlock(&pool_lock);
	if (r < 0 && r != -ENOENT)
		vk_error_prefix(err, "cannot delete volume '%s'", name);
	return r;
}

/* --- definitions and running VMs ---------------------------------------------------- */

static void unpin_locked(json_object *disks, size_t upto)
{
	for (size_t i = 0; i < upto; i++) {
		const char *v = def_get_str(json_object_array_get_idx(disks, i), "volume");
		struct use **pp;

		if (!v)
			continue;
		for (pp = &uses; *pp; pp = &(*pp)->next) {
			if (!(*pp)->owner[0] && strcmp((*pp)->volume, v) == 0) {
				struct use *u = *pp;
				*pp = u->next;
				free(u);
				break;
			}
		}
	}
}

int volumes_pin(json_object *def, json_object **pins, struct vk_error *err)
{
	json_object *disks = json_object_object_get(def, "disks");
	size_t n = disks ? json_object_array_length(disks) : 0, i;
	int r = 0;

	*pins = NULL;
	pthread_mutex_lock(&pool_lock);
	for (i = 0; i < n && r == 0; i++) {
		json_object *d = json_object_array_get_idx(disks, i);
		const char *v = def_get_str(d, "volume"), *fmt = def_get_str(d, "format");
		struct store_volume row;

		if (!v)
			continue;
		if ((r = store_volume_get(settings.store, VOLUME_POOL, v, &row, err)) == 0 && fmt &&
		    strcmp(fmt, row.format) != 0)
			r = vk_error_set(err, EINVAL,
			                 "invalid definition: 'disks[%zu].format' is \"%s\" but "
			                 "volume '%s' is %s",
			                 i, fmt, v, row.format);
		if (r == 0)
			r = use_add(v, "", "", false, err);
		else if (r == -ENOENT)
			vk_error_prefix(err, "invalid definition: 'disks[%zu].volume'", i);
	}
	if (r < 0)
		unpin_locked(disks, i - 1);
	pthread_mutex_unlock(&pool_lock);
	/* What to unpin later: the disks as they are now (the definition may change hands). */
	if (r == 0 && disks && json_object_deep_copy(disks, pins, NULL) < 0) {
		pthread_mutex_lock(&pool_lock);
		unpin_locked(disks, n);
		pthread_mutex_unlock(&pool_lock);
		*pins = NULL;
		return vk_error_set(err, ENOMEM, "out of memory");
	}
	return r;
}

void volumes_unpin(json_object *pins)
{
	if (!pins)
		return;
	pthread_mutex_lock(&pool_lock);
	unpin_locked(pins, json_object_array_length(pins));
	pthread_mutex_unlock(&pool_lock);
	json_object_put(pins);
}

static void release_locked(const char *owner)
{
	struct use **pp = &uses;

	while (*pp) {
		if (strcmp((*pp)->owner, owner) == 0) {
			struct use *u = *pp;
			*pp = u->next;
			free(u);
		} else {
			pp = &(*pp)->next;
		}
	}
}

/* One volume disk of a starting VM: its path and format, and whether it may start. */
static int acquire_one(const char *owner, const char *v, bool writable, bool strict,
                       struct volume_disk *out, struct vk_error *err)
{
	struct store_volume row;
	const struct use *u;
	int r;

	if ((r = store_volume_get(settings.store, VOLUME_POOL, v, &row, err)) < 0 ||
	    (r = vol_path(v, out->path, sizeof(out->path), err)) < 0)
		return r;
	snprintf(out->format, sizeof(out->format), "%s", row.format);
	if (!strict)
		return 0;
	if (writable &&
	    (r = check_not_base(v, "attach it read-only, or delete its clones first", err)) < 0)
		return r;
	if ((u = running_use(v, owner, !writable)))
		return vk_error_set(err, EBUSY, "volume '%s' is %s by running instance '%s'", v,
		                    u->writable ? "written" : "read", u->owner_name);
	return 0;
}

static int acquire(const char *owner, const char *owner_name, json_object *disks,
                   struct volume_disk *out, size_t n, bool strict, struct vk_error *err)
{
	size_t count = disks ? json_object_array_length(disks) : 0;
	int r = 0;

	if (count > n)
		return vk_error_set(err, E2BIG, "too many disks (at most %zu)", n);
	pthread_mutex_lock(&pool_lock);
	for (size_t i = 0; i < count && r == 0; i++) {
		json_object *d = json_object_array_get_idx(disks, i);
		const char *v = def_get_str(d, "volume");
		bool writable = !def_get_bool(d, "readonly", false);

		memset(&out[i], 0, sizeof(out[i]));
		if (!v)
			continue;
		r = acquire_one(owner, v, writable, strict, &out[i], err);
		if (r == 0)
			r = use_add(v, owner, owner_name, writable, err);
		else if (!strict)
			r = 0; /* reattaching: it runs; record what can be found */
	}
	if (r < 0)
		release_locked(owner);
	pthread_mutex_unlock(&pool_lock);
	return r;
}

int volumes_acquire(const char *owner, const char *owner_name, json_object *disks,
                    struct volume_disk *out, size_t n, struct vk_error *err)
{
	return acquire(owner, owner_name, disks, out, n, true, err);
}

void volumes_adopt(const char *owner, const char *owner_name, json_object *disks)
{
	struct volume_disk out[DEF_DISKS_MAX];

	(void)acquire(owner, owner_name, disks, out, DEF_DISKS_MAX, false, NULL);
}

void volumes_release(const char *owner)
{
	pthread_mutex_lock(&pool_lock);
	release_locked(owner);
	pthread_mutex_unlock(&pool_lock);
}
