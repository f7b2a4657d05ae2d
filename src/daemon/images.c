/* SPDX-License-Identifier: MIT */
/*
 * Images in the manager (see images.h): the folders, the import of VM images
 * (metadata file + disk, kernel, initrd) and the dispatch to image-oci.c for
 * container images, events, deletion, aliases, and the storage of launched
 * instances. virtkit-vm does the disk work: `image info` (format, backing
 * file), `image check` (every byte readable) and `image create` (overlays).
 *
 * Locking: imports build in their own scratch folders and may run side by
 * side; placing a finished image, deleting one and the launch bookkeeping
 * take `lock`. A launch's user row is written before its storage is made, so
 * that a delete racing it sees the image in use (`pending` keeps such rows
 * from being taken for stale ones until the instance is defined).
 */
#include "daemon/images.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "daemon/def.h"
#include "daemon/event.h"
#include "daemon/image-internal.h"
#include "daemon/imagestore.h"
#include "daemon/instance.h"
#include "daemon/paths.h"
#include "daemon/proc.h"
#include "daemon/store.h"

#define META_MAX          (64u << 10)
#define TOOL_TIMEOUT_MS   60000
#define CHECK_TIMEOUT_MS  (30 * 60000)
#define PENDING_MAX       64
#define QCOW2_MAGIC_BYTES "QFI\xfb"

static struct {
	struct images_settings s;
	struct imagestore *db;
	char images_dir[PATH_MAX];
	char storage_dir[PATH_MAX];
	pthread_mutex_t lock;
	char pending[PENDING_MAX][DEF_UUID_LEN + 1]; /* launches not yet defined */
} im = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* --- events ---------------------------------------------------------------------------- */

/* An image event; detail (consumed) holds its members. */
static void emit(const char *event, json_object *detail)
{
	struct vk_event ev = {0};
	struct vk_error err = {0};
	const char *t;

	snprintf(ev.type, sizeof(ev.type), "image");
	snprintf(ev.event, sizeof(ev.event), "%s", event);
	t = json_object_to_json_string_ext(detail,
	                                   JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (strlen(t) < sizeof(ev.detail))
		snprintf(ev.detail, sizeof(ev.detail), "%s", t);
	else
		vk_warn("image event '%s' too large to record: %.120s...", event, t);
	json_object_put(detail);
	if (im.s.store && store_event(im.s.store, &ev, &err) < 0)
		vk_warn("cannot record an image event: %s", err.msg);
}

/* A subject for an event: long paths keep their end. */
static json_object *subject_json(const char *s)
{
	size_t n = strlen(s);

	return json_object_new_string(n > 160 ? s + n - 160 : s);
}

static void report(struct image_progress *p, bool done)
{
	json_object *d = json_object_new_object();
	int pct = p->total ? (int)(VK_MIN(p->done, p->total) * 100 / p->total) : (done ? 100 : 0);

	json_object_object_add(d, "operation", json_object_new_string(p->operation));
	json_object_object_add(d, "subject", subject_json(p->subject));
	json_object_object_add(d, "stage", json_object_new_string(p->stage));
	json_object_object_add(d, "done", json_object_new_int64((int64_t)p->done));
	json_object_object_add(d, "total", json_object_new_int64((int64_t)p->total));
	json_object_object_add(d, "percent", json_object_new_int(pct));
	emit("progress", d);
}

/* --- paths and views ------------------------------------------------------------------- */

static int image_path(const char *fp, const char *file, char *buf, size_t len)
{
	return fmt_buf(buf, len, "%s/%s%s%s", im.images_dir, fp, file ? "/" : "", file ? file : "");
}

static int storage_path(const char *uuid, const char *file, char *buf, size_t len)
{
	return fmt_buf(buf, len, "%s/%s%s%s", im.storage_dir, uuid, file ? "/" : "",
	               file ? file : "");
}

static bool pending_has(const char *uuid)
{
	for (int i = 0; i < PENDING_MAX; i++)
		if (strcmp(im.pending[i], uuid) == 0)
			return true;
	return false;
}

static void pending_set(const char *uuid, bool on)
{
	for (int i = 0; i < PENDING_MAX; i++) {
		if (on && !im.pending[i][0]) {
			snprintf(im.pending[i], sizeof(im.pending[i]), "%s", uuid);
			return;
		}
		if (!on && strcmp(im.pending[i], uuid) == 0)
			im.pending[i][0] = '\0';
	}
}

/* Forget launches whose instance is gone (undefined while this daemon did not run). */
static void prune_users(const char *fp)
{
	struct image_user *u = NULL;
	size_t n = 0;

	if (imagestore_users(im.db, fp, &u, &n, NULL) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		struct instance *inst;
		if (pending_has(u[i].instance))
			continue;
		inst = instance_find(u[i].instance, NULL);
		if (inst) {
			instance_unref(inst);
			continue;
		}
		vk_info("image %.12s: instance '%s' is gone; its storage goes too",
		        u[i].fingerprint, u[i].name);
		images_release(u[i].instance);
	}
	free(u);
}

static json_object *image_json(const struct image_row *row)
{
	json_object *o = json_object_new_object(), *al = json_object_new_array(), *users;
	json_object *info = json_tokener_parse(row->info);
	struct image_user *u = NULL;
	char ts[40];
	time_t t = (time_t)(row->created_ms / 1000);
	struct tm tm;
	size_t n = 0;

	gmtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_object_object_add(o, "fingerprint", json_object_new_string(row->fingerprint));
	json_object_object_add(o, "type", json_object_new_string(row->type));
	for (size_t i = 0; i < row->nr_aliases; i++)
		json_object_array_add(al, json_object_new_string(row->aliases[i]));
	json_object_object_add(o, "aliases", al);
	json_object_object_add(o, "size", json_object_new_int64(row->size));
	json_object_object_add(o, "created", json_object_new_string(ts));
	if (json_object_is_type(info, json_type_object)) {
		json_object_object_foreach(info, k, v)
		{
			if (!json_object_object_get_ex(o, k, NULL))
				json_object_object_add(o, k, json_object_get(v));
		}
	}
	json_object_put(info);
	users = json_object_new_array();
	if (imagestore_users(im.db, row->fingerprint, &u, &n, NULL) == 0)
		for (size_t i = 0; i < n; i++)
			json_object_array_add(users, json_object_new_string(u[i].name));
	free(u);
	json_object_object_add(o, "used_by", users);
	return o;
}

int images_list(json_object **out, struct vk_error *err)
{
	struct image_row *rows;
	json_object *a;
	size_t n;
	int r = imagestore_list(im.db, &rows, &n, err);

	if (r < 0)
		return r;
	a = json_object_new_array();
	for (size_t i = 0; i < n; i++)
		json_object_array_add(a, image_json(&rows[i]));
	imagestore_rows_free(rows, n);
	*out = json_object_new_object();
	json_object_object_add(*out, "images", a);
	return 0;
}

int images_get(const char *ref, json_object **out, struct vk_error *err)
{
	char fp[IMAGE_FP_LEN + 1];
	struct image_row row;
	int r;

	if ((r = imagestore_resolve(im.db, ref, fp, err)) < 0 ||
	    (r = imagestore_get(im.db, fp, &row, err)) < 0)
		return r;
	*out = image_json(&row);
	imagestore_row_free(&row);
	return 0;
}

int images_aliases(json_object **out, struct vk_error *err)
{
	char **a, **t;
	size_t n;
	json_object *arr;
	int r = imagestore_alias_list(im.db, &a, &t, &n, err);

	if (r < 0)
		return r;
	arr = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "name", json_object_new_string(a[i]));
		json_object_object_add(o, "target", json_object_new_string(t[i]));
		json_object_array_add(arr, o);
		free(a[i]);
		free(t[i]);
	}
	free(a);
	free(t);
	*out = json_object_new_object();
	json_object_object_add(*out, "aliases", arr);
	return 0;
}

/* --- virtkit-vm image ... ------------------------------------------------------------------ */

/* Run virtkit-vm image ARGS; out gets what it printed. Its error becomes ours. */
static int vm_tool(const char *const *argv, int timeout_ms, char *out, size_t len, const char *what,
                   struct vk_error *err)
{
	char line[512];
	int status, r;

	r = proc_run(argv, timeout_ms, out, len, &status, err);
	if (r < 0)
		return vk_error_prefix(err, "%s", what);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	proc_last_line(out, line, sizeof(line));
	proc_strip_prog(line, im.s.vm_binary);
	return vk_error_set(err, EINVAL, "%s: %s", what,
	                    line[0] ? line : "virtkit-vm failed without saying why");
}

/* --- importing a VM image ----------------------------------------------------------------- */

static int read_meta(const char *path, json_object **out, struct vk_error *err)
{
	char *buf = malloc(META_MAX + 1);
	int fd = open(path, O_RDONLY | O_CLOEXEC), r;
	ssize_t n;

	if (!buf) {
		if (fd >= 0)
			close(fd);
		return vk_error_set(err, ENOMEM, "out of memory");
	}
	if (fd < 0) {
		free(buf);
		return vk_error_errno(err, errno, "cannot open the image metadata '%s'", path);
	}
	n = read(fd, buf, META_MAX + 1);
	close(fd);
	if (n < 0 || n > (ssize_t)META_MAX) {
		free(buf);
		return vk_error_set(err, EINVAL,
		                    "the image metadata '%s' is unreadable or over %u KiB", path,
		                    META_MAX >> 10);
	}
	r = def_parse_json(buf, (size_t)n, out, err);
	free(buf);
	return r < 0 ? vk_error_prefix(err, "image metadata '%s'", path) : 0;
}

/* Copy one of the image's files (key: disk, kernel, initrd) into the scratch folder. */
static int import_file(int folder, const char *folder_path, int tmp, json_object *files,
                       const char *key, struct image_progress *p, struct vk_error *err)
{
	json_object *f, *name;
	char hex[IMAGE_FP_LEN + 1], stage[32], src[PATH_MAX + 256];
	uint64_t size;
	struct stat st;
	int fd, r;

	if (!json_object_object_get_ex(files, key, &f))
		return 0;
	name = json_object_object_get(f, "name");
	snprintf(src, sizeof(src), "%s/%s", folder_path, json_object_get_string(name));
	fd = openat(folder, json_object_get_string(name), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return vk_error_errno(err, errno, "cannot open the image's %s '%s'", key, src);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return vk_error_set(err, EINVAL, "the image's %s '%s' is not a regular file", key,
		                    src);
	}
	snprintf(stage, sizeof(stage), "copy %s", key);
	image_progress_stage(p, stage, (uint64_t)st.st_size);
	r = image_copy_file(fd, src, tmp, key, hex, &size, p, err);
	close(fd);
	if (r < 0)
		return r;
	image_progress_end(p);
	json_object_object_del(f, "name"); /* content addressing: what, not where from */
	json_object_object_add(f, "size", json_object_new_int64((int64_t)size));
	json_object_object_add(f, "sha256", json_object_new_string(hex));
	return 0;
}

/* The kernel against the metadata's arch; the disk's format, stand-alone-ness and health. */
static int check_vm_files(const char *tmp, json_object *info, struct image_progress *p,
                          struct vk_error *err)
{
	json_object *files = json_object_object_get(info, "files");
	json_object *disk = json_object_object_get(files, "disk"), *j, *v;
	const char *arch = json_object_get_string(json_object_object_get(info, "arch"));
	const char *said = json_object_get_string(json_object_object_get(disk, "format"));
	char path[PATH_MAX + 16], out[4096], head[0x240];
	const char *fmt;
	ssize_t n;
	int fd, r;

	snprintf(path, sizeof(path), "%s/kernel", tmp);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		n = read(fd, head, sizeof(head));
		close(fd);
		if ((r = def_image_kernel_check(arch, (const uint8_t *)head, n > 0 ? (size_t)n : 0,
		                                "kernel", err)) < 0)
			return r;
	}
	snprintf(path, sizeof(path), "%s/disk", tmp);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	n = fd >= 0 ? pread(fd, head, 4, 0) : -1;
	if (fd >= 0)
		close(fd);
	fmt = n == 4 && memcmp(head, QCOW2_MAGIC_BYTES, 4) == 0 ? "qcow2" : "raw";
	if (said && strcmp(said, fmt) != 0)
		return vk_error_set(err, EINVAL,
		                    "image metadata: 'format' says %s but the disk is a %s image",
		                    said, fmt);
	json_object_object_add(disk, "format", json_object_new_string(fmt));
	{
		const char *argv[] = {im.s.vm_binary, "image", "info", "--format", fmt,
		                      "--json",       path,    NULL};
		if ((r = vm_tool(argv, TOOL_TIMEOUT_MS, out, sizeof(out), "the image's disk",
		                 err)) < 0)
			return r;
	}
	j = json_tokener_parse(out);
	if (!json_object_is_type(j, json_type_object)) {
		json_object_put(j);
		return vk_error_set(err, EPROTO, "virtkit-vm image info gave no JSON");
	}
	if (json_object_object_get_ex(j, "backing-filename", &v)) {
		r = vk_error_set(err, EINVAL,
		                 "the image's disk has a backing file ('%.200s'): an image must "
		                 "stand alone (qemu-img convert makes one that does)",
		                 json_object_get_string(v));
		json_object_put(j);
		return r;
	}
	json_object_object_add(disk, "virtual_size",
	                       json_object_get(json_object_object_get(j, "virtual-size")));
	json_object_put(j);
	image_progress_stage(p, "check disk", 0);
	{
		const char *argv[] = {im.s.vm_binary, "image", "check", "--format", fmt,
		                      path,           NULL};
		if ((r = vm_tool(argv, CHECK_TIMEOUT_MS, out, sizeof(out), "the image's disk",
		                 err)) < 0)
			return r;
	}
	image_progress_end(p);
	return 0;
}

static int import_vm(const char *meta_path, const char *tmp, json_object **info,
                     char fp[IMAGE_FP_LEN + 1], struct image_progress *p, struct vk_error *err)
{
	static const char *const keys[] = {"disk", "kernel", "initrd"};
	char folder_path[PATH_MAX];
	json_object *raw = NULL, *o = NULL;
	const char *text;
	int folder = -1, tfd = -1, r;

	snprintf(folder_path, sizeof(folder_path), "%s", meta_path);
	*strrchr(folder_path, '/') = '\0';
	if (!folder_path[0])
		snprintf(folder_path, sizeof(folder_path), "/");
	if ((r = read_meta(meta_path, &raw, err)) < 0)
		return r;
	r = def_image_vm_meta(raw, &o, err);
	json_object_put(raw);
	if (r < 0)
		return vk_error_prefix(err, "'%s'", meta_path);
	folder = open(folder_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	tfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (folder < 0 || tfd < 0) {
		r = vk_error_errno(err, errno, "cannot open '%s'", folder < 0 ? folder_path : tmp);
		goto out;
	}
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if ((r = import_file(folder, folder_path, tfd, json_object_object_get(o, "files"),
		                     keys[i], p, err)) < 0)
			goto out;
	if ((r = check_vm_files(tmp, o, p, err)) < 0)
		goto out;
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	                                                 JSON_C_TO_STRING_NOSLASHESCAPE);
	image_sha256_text(text, strlen(text), fp);
	*info = o;
	o = NULL;
out:
	if (folder >= 0)
		close(folder);
	if (tfd >= 0)
		close(tfd);
	json_object_put(o);
	return r;
}

/* --- placing an import -------------------------------------------------------------------- */

static int write_info(const char *tmp, json_object *info, struct vk_error *err)
{
	char path[PATH_MAX + 16];
	const char *text = json_object_to_json_string_ext(
	        info, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
	int fd;

	snprintf(path, sizeof(path), "%s/info.json", tmp);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
	if (fd < 0 || vk_write_full(fd, text, strlen(text)) < 0 || fsync(fd) < 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return vk_error_errno(err, e, "cannot write '%s'", path);
	}
	close(fd);
	return 0;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static bool is_dir_with(const char *dir, const char *name)
{
	char p[PATH_MAX + 64];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return access(p, F_OK) == 0;
}

static int check_aliases(const struct image_import *req, struct vk_error *err)
{
	for (size_t i = 0; i < req->nr_aliases; i++)
		if (!def_name_valid(req->aliases[i]))
			return vk_error_set(
			        err, EINVAL,
			        "alias '%.80s' is not a valid name (1-63 of A-Z a-z 0-9 - _ "
			        ".)",
			        req->aliases[i]);
	return 0;
}

/* The finished scratch folder becomes the image, and is recorded (lock held). */
static int place(const char *tmp, const char *fp, json_object *info, const struct image_import *req,
                 bool *created, struct vk_error *err)
{
	struct image_row row = {0};
	char dest[PATH_MAX];
	int r;

	if ((r = image_path(fp, NULL, dest, sizeof(dest))) < 0)
		return vk_error_set(err, ENAMETOOLONG, "the state folder's path is too long");
	if (imagestore_get(im.db, fp, &row, NULL) == 0) {
		/* The same content again: the image stays; the aliases are added to it. */
		imagestore_row_free(&row);
		rm_rf(tmp);
		*created = false;
		for (size_t i = 0; i < req->nr_aliases; i++) {
			char other[IMAGE_FP_LEN + 1];
			if (imagestore_alias_target(im.db, req->aliases[i], other) == 0 &&
			    strcmp(other, fp) == 0)
				continue;
			if ((r = imagestore_alias_add(im.db, req->aliases[i], fp, err)) < 0)
				return r;
		}
		return 0;
	}
	rm_rf(dest); /* a folder without a record: a crashed import's (images_init says so) */
	if (rename(tmp, dest) < 0)
		return vk_error_errno(err, errno, "cannot move the image into '%s'", dest);
	snprintf(row.fingerprint, sizeof(row.fingerprint), "%s", fp);
	snprintf(row.type, sizeof(row.type), "%s",
	         json_object_get_string(json_object_object_get(info, "type")));
	row.info = (char *)json_object_to_json_string_ext(
	        info, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	row.size = (int64_t)image_tree_bytes(dest);
	row.aliases = (char **)req->aliases;
	row.nr_aliases = req->nr_aliases;
	r = imagestore_insert(im.db, &row, err);
	if (r < 0)
		rm_rf(dest);
	*created = r == 0;
	return r;
}

int images_import(const struct image_import *req, json_object **out, bool *created,
                  struct vk_error *err)
{
	struct image_progress p = {.report = report, .operation = "import"};
	char abs[PATH_MAX], tmp[PATH_MAX], fp[IMAGE_FP_LEN + 1] = "";
	json_object *info = NULL, *d;
	struct stat st;
	int r;

	if ((r = check_aliases(req, err)) < 0)
		return r;
	for (size_t i = 0; i < req->nr_aliases; i++) {
		char other[IMAGE_FP_LEN + 1];
		if (imagestore_alias_target(im.db, req->aliases[i], other) == 0)
			return vk_error_set(
			        err, EEXIST,
			        "the alias '%s' names image %.12s already (delete the alias "
			        "first)",
			        req->aliases[i], other);
	}
	if (!realpath(req->source, abs) || stat(abs, &st) < 0)
		return vk_error_errno(err, errno, "cannot import '%s'", req->source);
	p.subject = abs;
	if (fmt_buf(tmp, sizeof(tmp), "%s/.import-XXXXXX", im.images_dir) < 0 || !mkdtemp(tmp))
		return vk_error_errno(err, errno, "cannot make a scratch folder in '%s'",
		                      im.images_dir);
	if (S_ISDIR(st.st_mode) && is_dir_with(abs, "oci-layout"))
		r = image_oci_import(abs, tmp, image_host_oci_arch(), &info, fp, &p, err);
	else if (S_ISDIR(st.st_mode) && is_dir_with(abs, "metadata.json")) {
		char meta[PATH_MAX + 16];
		snprintf(meta, sizeof(meta), "%s/metadata.json", abs);
		r = import_vm(meta, tmp, &info, fp, &p, err);
	} else if (S_ISDIR(st.st_mode))
		r = vk_error_set(
		        err, EINVAL,
		        "'%s' is neither an OCI image layout (no oci-layout file) nor a VM "
		        "image (no metadata.json)",
		        abs);
	else if (S_ISREG(st.st_mode) && ends_with(abs, ".json"))
		r = import_vm(abs, tmp, &info, fp, &p, err);
	else if (S_ISREG(st.st_mode))
		r = image_oci_import(abs, tmp, image_host_oci_arch(), &info, fp, &p, err);
	else
		r = vk_error_set(err, EINVAL, "'%s' is not a file or a folder", abs);
	if (r == 0)
		r = write_info(tmp, info, err);
	if (r == 0) {
		pthread_mutex_lock(&im.lock);
		r = place(tmp, fp, info, req, created, err);
		pthread_mutex_unlock(&im.lock);
	}
	json_object_put(info);
	if (r < 0) {
		rm_rf(tmp);
		d = json_object_new_object();
		json_object_object_add(d, "subject", subject_json(abs));
		json_object_object_add(d, "error", json_object_new_string(err->msg));
		emit("import-failed", d);
		return r;
	}
	d = json_object_new_object();
	json_object_object_add(d, "subject", subject_json(abs));
	json_object_object_add(d, "fingerprint", json_object_new_string(fp));
	json_object_object_add(d, "created", json_object_new_boolean(*created));
	emit("imported", d);
	return images_get(fp, out, err);
}

/* --- deleting, aliases ---------------------------------------------------------------------- */

int images_delete(const char *ref, struct vk_error *err)
{
	char fp[IMAGE_FP_LEN + 1], dir[PATH_MAX];
	struct image_user *u = NULL;
	size_t n = 0;
	json_object *d;
	int r;

	if ((r = imagestore_resolve(im.db, ref, fp, err)) < 0)
		return r;
	pthread_mutex_lock(&im.lock);
	prune_users(fp);
	r = imagestore_delete(im.db, fp, err);
	if (r == -EBUSY && imagestore_users(im.db, fp, &u, &n, NULL) == 0 && n > 0) {
		char names[512] = "";
		size_t used = 0;
		for (size_t i = 0; i < n && used < sizeof(names); i++)
			used += (size_t)snprintf(names + used, sizeof(names) - used, "%s'%s'",
			                         i ? ", " : "", u[i].name);
		r = vk_error_set(err, EBUSY,
		                 "image '%s' (%.12s) is in use by %s %s: delete %s first", ref, fp,
		                 n > 1 ? "instances" : "instance", names, n > 1 ? "them" : "it");
	}
	free(u);
	if (r == 0 && image_path(fp, NULL, dir, sizeof(dir)) == 0 && rm_rf(dir) < 0)
		vk_warn("image %.12s: cannot remove '%s'", fp, dir);
	pthread_mutex_unlock(&im.lock);
	if (r < 0)
		return r;
	d = json_object_new_object();
	json_object_object_add(d, "fingerprint", json_object_new_string(fp));
	emit("deleted", d);
	return 0;
}

int images_alias_add(const char *alias, const char *ref, struct vk_error *err)
{
	char fp[IMAGE_FP_LEN + 1];
	json_object *d;
	int r;

	if (!def_name_valid(alias))
		return vk_error_set(err, EINVAL,
		                    "alias '%.80s' is not a valid name (1-63 of A-Z a-z 0-9 - _ .)",
		                    alias);
	if ((r = imagestore_resolve(im.db, ref, fp, err)) < 0 ||
	    (r = imagestore_alias_add(im.db, alias, fp, err)) < 0)
		return r;
	d = json_object_new_object();
	json_object_object_add(d, "alias", json_object_new_string(alias));
	json_object_object_add(d, "fingerprint", json_object_new_string(fp));
	emit("aliased", d);
	return 0;
}

int images_alias_del(const char *alias, struct vk_error *err)
{
	char fp[IMAGE_FP_LEN + 1] = "";
	json_object *d;
	int r;

	(void)imagestore_alias_target(im.db, alias, fp);
	if ((r = imagestore_alias_del(im.db, alias, err)) < 0)
		return r;
	d = json_object_new_object();
	json_object_object_add(d, "alias", json_object_new_string(alias));
	json_object_object_add(d, "fingerprint", json_object_new_string(fp));
	emit("unaliased", d);
	return 0;
}

/* --- launches --------------------------------------------------------------------------------- */

/* "name", "uid", "uid:gid", "name:group": looked up in the image's own /etc files. */
static int lookup_id(const char *rootfs, const char *file, const char *name, int64_t *id,
                     int64_t *gid_out)
{
	char path[PATH_MAX + 32], line[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/etc/%s", rootfs, file);
	/* The image's file, never a symlink out of it. */
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || !(f = fdopen(fd, "r"))) {
		if (fd >= 0)
			close(fd);
		return -ENOENT;
	}
	while (fgets(line, sizeof(line), f)) {
		char *save = NULL, *n = strtok_r(line, ":", &save), *x, *idf, *gidf;
		if (!n || strcmp(n, name) != 0)
			continue;
		x = strtok_r(NULL, ":", &save);
		idf = strtok_r(NULL, ":", &save);
		gidf = strtok_r(NULL, ":", &save);
		(void)x;
		if (!idf)
			break;
		*id = strtoll(idf, NULL, 10);
		if (gid_out && gidf)
			*gid_out = strtoll(gidf, NULL, 10);
		fclose(f);
		return 0;
	}
	fclose(f);
	return -ENOENT;
}

static int resolve_user(const char *rootfs, const char *user, int64_t ids[2], struct vk_error *err)
{
	char u[72], *g;
	uint64_t v;

	ids[0] = ids[1] = -1;
	if (!user || !user[0])
		return 0;
	snprintf(u, sizeof(u), "%s", user);
	g = strchr(u, ':');
	if (g)
		*g++ = '\0';
	if (vk_parse_uint(u, 0, 0xfffffffe, &v) == 0) {
		ids[0] = (int64_t)v;
		ids[1] = 0;
		(void)lookup_id(rootfs, "passwd", u, &ids[0], &ids[1]);
	} else if (lookup_id(rootfs, "passwd", u, &ids[0], &ids[1]) < 0) {
		return vk_error_set(err, EINVAL, "the image's user '%s' is not in its /etc/passwd",
		                    u);
	}
	if (g && vk_parse_uint(g, 0, 0xfffffffe, &v) == 0)
		ids[1] = (int64_t)v;
	else if (g && lookup_id(rootfs, "group", g, &ids[1], NULL) < 0)
		return vk_error_set(err, EINVAL, "the image's group '%s' is not in its /etc/group",
		                    g);
	return 0;
}

static int prepare_storage(const char *fp, json_object *info, const struct image_launch *l,
                           const char *uuid, json_object **def, struct vk_error *err)
{
	const char *type = json_object_get_string(json_object_object_get(info, "type"));
	char dir[PATH_MAX], disk[PATH_MAX], rootfs[PATH_MAX], src[PATH_MAX], out[1024];
	int64_t ids[2] = {-1, -1};
	int r;

	if (image_path(fp, NULL, dir, sizeof(dir)) < 0 ||
	    storage_path(uuid, "disk.qcow2", disk, sizeof(disk)) < 0 ||
	    storage_path(uuid, "rootfs", rootfs, sizeof(rootfs)) < 0 ||
	    image_path(fp, strcmp(type, "vm") == 0 ? "disk" : "rootfs", src, sizeof(src)) < 0)
		return vk_error_set(err, ENAMETOOLONG, "the state folder's path is too long");
	if (strcmp(type, "vm") == 0) {
		json_object *files = json_object_object_get(info, "files");
		const char *fmt = json_object_get_string(
		        json_object_object_get(json_object_object_get(files, "disk"), "format"));
		const char *argv[] = {
		        im.s.vm_binary,     "image",           "create", disk, "--backing", src,
		        "--backing-format", fmt ? fmt : "raw", NULL};
		if (l->args && l->args[0])
			return vk_error_set(
			        err, EINVAL,
			        "a command after '--' is for containers: a VM boots its "
			        "image");
		r = vm_tool(argv, TOOL_TIMEOUT_MS, out, sizeof(out),
		            "cannot make the instance's disk", err);
	} else {
		struct image_progress p = {.report = report, .operation = "launch", .subject = fp};
		json_object *cfg = json_object_object_get(info, "config");
		image_progress_stage(&p, "copy rootfs", image_tree_bytes(src));
		r = image_copy_tree(src, rootfs, &p, err);
		if (r == 0)
			image_progress_end(&p);
		if (r == 0)
			r = resolve_user(
			        rootfs, json_object_get_string(json_object_object_get(cfg, "user")),
			        ids, err);
	}
	if (r < 0)
		return r;
	return def_image_launch(info, l, dir, disk, rootfs, ids, def, err);
}

int images_prepare(const char *ref, const struct image_launch *l, json_object **def, char uuid[37],
                   char fp[IMAGE_FP_LEN + 1], struct vk_error *err)
{
	struct image_launch mine = *l;
	struct image_user u = {0};
	struct image_row row;
	char dir[PATH_MAX];
	json_object *info;
	int r;

	if ((r = imagestore_resolve(im.db, ref, fp, err)) < 0 ||
	    (r = imagestore_get(im.db, fp, &row, err)) < 0)
		return r;
	info = json_tokener_parse(row.info);
	imagestore_row_free(&row);
	if (!info)
		return vk_error_set(err, EIO, "image %.12s: its stored description is damaged", fp);
	if (l->uuid)
		snprintf(uuid, 37, "%s", l->uuid);
	else
		def_uuid_generate(uuid);
	mine.uuid = uuid;
	snprintf(u.instance, sizeof(u.instance), "%s", uuid);
	snprintf(u.name, sizeof(u.name), "%s", l->name);
	snprintf(u.fingerprint, sizeof(u.fingerprint), "%s", fp);
	/* In use from now on: a delete that comes while the storage is made is refused. */
	pthread_mutex_lock(&im.lock);
	r = imagestore_user_add(im.db, &u, err);
	if (r == 0)
		pending_set(uuid, true);
	pthread_mutex_unlock(&im.lock);
	if (r < 0) {
		json_object_put(info);
		return r;
	}
	if (storage_path(uuid, NULL, dir, sizeof(dir)) < 0 || mkdir(dir, 0700) < 0)
		r = vk_error_errno(err, errno ? errno : ENAMETOOLONG,
		                   "cannot make the instance's storage folder");
	else
		r = prepare_storage(fp, info, &mine, uuid, def, err);
	json_object_put(info);
	if (r < 0)
		images_discard(uuid);
	return r;
}

void images_claim(const char *uuid)
{
	pthread_mutex_lock(&im.lock);
	pending_set(uuid, false);
	pthread_mutex_unlock(&im.lock);
}

void images_discard(const char *uuid)
{
	pthread_mutex_lock(&im.lock);
	pending_set(uuid, false);
	pthread_mutex_unlock(&im.lock);
	images_release(uuid);
}

void images_release(const char *uuid)
{
	char dir[PATH_MAX];

	if (!im.db)
		return;
	if (imagestore_user_del(im.db, uuid, NULL) < 0)
		vk_warn("cannot forget that instance %s used an image", uuid);
	if (storage_path(uuid, NULL, dir, sizeof(dir)) == 0 && rm_rf(dir) < 0)
		vk_warn("cannot remove '%s'", dir);
}

/* --- start-up ----------------------------------------------------------------------------------- */

/* Scratch folders of imports a crash interrupted, and image folders without a record. */
static void tidy_images(void)
{
	DIR *d = opendir(im.images_dir);
	struct dirent *e;
	char path[PATH_MAX + 256];

	if (!d)
		return;
	while ((e = readdir(d))) {
		struct image_row row;
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", im.images_dir, e->d_name);
		if (vk_startswith(e->d_name, ".import-")) {
			vk_info("removing an unfinished import: %s", path);
			rm_rf(path);
			continue;
		}
		int r = imagestore_get(im.db, e->d_name, &row, NULL);
		if (r != -ENOENT) { /* recorded, or we cannot tell: it stays */
			imagestore_row_free(&row);
			continue;
		}
		vk_info("removing an image folder without a record: %s", path);
		rm_rf(path);
	}
	closedir(d);
}

/* Storage of instances that are gone, and storage no launch recorded. */
static void tidy_storage(void)
{
	struct image_user *u = NULL;
	size_t n = 0;
	DIR *d;
	struct dirent *e;

	prune_users(NULL);
	if (imagestore_users(im.db, NULL, &u, &n, NULL) < 0)
		return;
	d = opendir(im.storage_dir);
	while (d && (e = readdir(d))) {
		char path[PATH_MAX + 256];
		bool known = false;
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		for (size_t i = 0; i < n && !known; i++)
			known = strcmp(u[i].instance, e->d_name) == 0;
		if (known)
			continue;
		snprintf(path, sizeof(path), "%s/%s", im.storage_dir, e->d_name);
		vk_info("removing the storage of an unfinished launch: %s", path);
		rm_rf(path);
	}
	if (d)
		closedir(d);
	free(u);
}

int images_init(const struct images_settings *s, struct vk_error *err)
{
	char db[PATH_MAX + 16];
	int r;

	im.s = *s;
	if (fmt_buf(im.images_dir, sizeof(im.images_dir), "%s/images", s->paths->state_dir) < 0 ||
	    fmt_buf(im.storage_dir, sizeof(im.storage_dir), "%s/storage", s->paths->state_dir) <
	            0 ||
	    fmt_buf(db, sizeof(db), "%s/virtkit.db", s->paths->state_dir) < 0)
		return vk_error_set(err, ENAMETOOLONG, "the state folder's path is too long");
	if ((r = mkdir_p(im.images_dir, 0700)) < 0 || (r = mkdir_p(im.storage_dir, 0700)) < 0)
		return vk_error_errno(err, -r, "cannot create the image folders in '%s'",
		                      s->paths->state_dir);
	if ((r = imagestore_open(db, &im.db, err)) < 0)
		return r;
	tidy_images();
	tidy_storage();
	return 0;
}

void images_shutdown(void)
{
	imagestore_close(im.db);
	im.db = NULL;
}
