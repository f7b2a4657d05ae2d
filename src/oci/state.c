/* SPDX-License-Identifier: MIT */
/* Container state directories under --root: create, lock, save, load, remove. */
#include "state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"
#include "fault.h"
#include "spec.h"

int oci_validate_id(const char *id, struct vk_error *err)
{
	size_t n = strlen(id);

	if (n == 0 || n > 1024 || strcmp(id, ".") == 0 || strcmp(id, "..") == 0 ||
	    strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+.-") != n)
		return vk_error_set(err, EINVAL, "invalid container id '%s'", id);
	return 0;
}

int oci_root_ensure(const char *root, struct vk_error *err)
{
	char buf[4096];
	char *p;

	if (mkdir(root, 0700) == 0 || errno == EEXIST)
		return 0;
	if (errno != ENOENT)
		return vk_error_errno(err, errno, "cannot create state directory '%s'", root);
	if (snprintf(buf, sizeof(buf), "%s", root) >= (int)sizeof(buf))
		return vk_error_set(err, ENAMETOOLONG, "state directory path too long");
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0711) < 0 && errno != EEXIST)
			return vk_error_errno(err, errno, "cannot create state directory '%s'",
			                      buf);
		*p = '/';
	}
	if (mkdir(root, 0700) < 0 && errno != EEXIST)
		return vk_error_errno(err, errno, "cannot create state directory '%s'", root);
	return 0;
}

static int lock_dir(int fd, const char *id, struct vk_error *err)
{
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR)
			return vk_error_errno(err, errno, "cannot lock container '%s'", id);
	}
	return 0;
}

/*
 * The directory appears under the container's id already locked: it is made
 * under a hidden name of this process, locked, then renamed into place
 * without replacing anything. Made under its id and locked after, a start,
 * delete or pause in between would lock it first, find no state and take it
 * for a create that died (start: "cannot start a container that has
 * stopped"; delete: remove it under the create). A hidden name is only ever
 * empty; one left by a killed create with this pid is removed.
 */
static int make_locked_dir(int rootfd, const char *id, bool *unsupported, struct vk_error *err)
{
	char tmp[64];
	int fd, r;

	*unsupported = false;
	snprintf(tmp, sizeof(tmp), ".new-%d", (int)getpid());
	if (mkdirat(rootfd, tmp, 0700) < 0 &&
	    (errno != EEXIST || unlinkat(rootfd, tmp, AT_REMOVEDIR) < 0 ||
	     mkdirat(rootfd, tmp, 0700) < 0))
		return vk_error_errno(err, errno, "cannot create state for container '%s'", id);
	fd = openat(rootfd, tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		r = vk_error_errno(err, errno, "cannot open state for container '%s'", id);
		goto fail;
	}
	r = lock_dir(fd, id, err);
	if (r < 0)
		goto fail;
	if (renameat2(rootfd, tmp, rootfd, id, RENAME_NOREPLACE) == 0)
		return fd;
	r = errno;
	if (r == EEXIST || r == ENOTEMPTY) {
		r = vk_error_set(err, EEXIST, "container with id exists: %s", id);
	} else if (r == EINVAL || r == ENOSYS) {
		*unsupported = true; /* no RENAME_NOREPLACE on this file system */
		r = -r;
	} else {
		r = vk_error_errno(err, r, "cannot create state for container '%s'", id);
	}
fail:
	if (fd >= 0)
		close(fd);
	unlinkat(rootfd, tmp, AT_REMOVEDIR);
	return r;
}

int oci_state_create_dir(const char *root, const char *id, struct vk_error *err)
{
	bool unsupported;
	int rootfd, fd, r;

	rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return vk_error_errno(err, errno, "cannot open state directory '%s'", root);
	if (faccessat(rootfd, id, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
		close(rootfd);
		return vk_error_set(err, EEXIST, "container with id exists: %s", id);
	}
	fd = make_locked_dir(rootfd, id, &unsupported, err);
	if (!unsupported) {
		close(rootfd);
		if (fd >= 0)
			oci_fault_wait("state-dir");
		return fd;
	}
	/* Without RENAME_NOREPLACE: make it in place, with the window above. */
	if (mkdirat(rootfd, id, 0700) < 0) {
		r = errno;
		close(rootfd);
		if (r == EEXIST)
			return vk_error_set(err, EEXIST, "container with id exists: %s", id);
		return vk_error_errno(err, r, "cannot create state for container '%s'", id);
	}
	fd = openat(rootfd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	r = errno;
	close(rootfd);
	if (fd < 0)
		return vk_error_errno(err, r, "cannot open state for container '%s'", id);
	r = lock_dir(fd, id, err);
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

int oci_state_open(const char *root, const char *id, bool lock, struct vk_error *err)
{
	char path[4096];
	int fd, r;

	if (snprintf(path, sizeof(path), "%s/%s", root, id) >= (int)sizeof(path))
		return vk_error_set(err, ENAMETOOLONG, "state path too long");
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return vk_error_set(err, ENOENT, "container does not exist");
		return vk_error_errno(err, errno, "cannot open state of container '%s'", id);
	}
	if (lock) {
		r = lock_dir(fd, id, err);
		if (r < 0) {
			close(fd);
			return r;
		}
		/* A concurrent delete may have removed it while we waited. */
		struct stat sb;

		if (fstat(fd, &sb) < 0 || sb.st_nlink == 0) {
			close(fd);
			return vk_error_set(err, ENOENT, "container does not exist");
		}
	}
	return fd;
}

int oci_write_atomic_at(int dirfd, const char *name, const void *buf, size_t len, mode_t mode,
                        struct vk_error *err)
{
	char tmp[256];
	int fd, r;

	if (snprintf(tmp, sizeof(tmp), ".%s.tmp", name) >= (int)sizeof(tmp))
		return vk_error_set(err, ENAMETOOLONG, "file name too long");
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return vk_error_errno(err, errno, "cannot write %s", name);
	if (vk_write_full(fd, buf, len) < 0) {
		r = errno;
		close(fd);
		unlinkat(dirfd, tmp, 0);
		return vk_error_errno(err, r, "cannot write %s", name);
	}
	close(fd);
	if (renameat(dirfd, tmp, dirfd, name) < 0) {
		r = errno;
		unlinkat(dirfd, tmp, 0);
		return vk_error_errno(err, r, "cannot write %s", name);
	}
	return 0;
}

int oci_state_save(int dirfd, const struct oci_state *st, struct vk_error *err)
{
	json_object *o = json_object_new_object();
	const char *text;
	int r;

	json_object_object_add(o, "id", json_object_new_string(st->id));
	json_object_object_add(o, "pid", json_object_new_int64(st->pid));
	json_object_object_add(o, "pid_start", json_object_new_uint64(st->pid_start));
	json_object_object_add(o, "bundle", json_object_new_string(st->bundle ? st->bundle : ""));
	json_object_object_add(o, "rootfs", json_object_new_string(st->rootfs ? st->rootfs : ""));
	json_object_object_add(o, "created",
	                       json_object_new_string(st->created ? st->created : ""));
	json_object_object_add(o, "owner", json_object_new_int64(st->owner));
	json_object_object_add(o, "creator", json_object_new_int64(st->creator));
	json_object_object_add(o, "creator_start", json_object_new_uint64(st->creator_start));
	json_object_object_add(o, "rootless", json_object_new_boolean(st->rootless));
	json_object_object_add(o, "ns_flags", json_object_new_int64(st->ns_flags));
	json_object_object_add(o, "systemd_cgroup", json_object_new_boolean(st->systemd_cgroup));
	json_object_object_add(
	        o, "annotations",
	        json_tokener_parse(st->annotations_json ? st->annotations_json : "{}"));
	json_object_object_add(o, "cgroup",
	                       st->cgroup_json ? json_tokener_parse(st->cgroup_json) : NULL);
	if (st->mounts_json)
		json_object_object_add(o, "host_mounts", json_tokener_parse(st->mounts_json));
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	                                                 JSON_C_TO_STRING_NOSLASHESCAPE);
	r = oci_write_atomic_at(dirfd, OCI_STATE_FILE, text, strlen(text), 0600, err);
	json_object_put(o);
	return r;
}

static char *dup_str(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return strdup(json_object_get_string(v));
}

static int64_t get_int(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return 0;
	return json_object_get_int64(v);
}

int oci_state_load(int dirfd, const char *id, struct oci_state *st, struct vk_error *err)
{
	char buf[65536];
	json_object *o, *v;
	ssize_t n;
	int fd;

	memset(st, 0, sizeof(*st));
	fd = openat(dirfd, OCI_STATE_FILE, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			return -ENOENT;
		return vk_error_errno(err, errno, "cannot read state of container '%s'", id);
	}
	n = vk_read_full(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return vk_error_errno(err, (int)-n, "cannot read state of container '%s'", id);
	buf[n] = '\0';
	o = json_tokener_parse(buf);
	if (!o || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return vk_error_set(err, EINVAL, "state of container '%s' is corrupt", id);
	}
	st->id = strdup(id);
	st->pid = (pid_t)get_int(o, "pid");
	if (json_object_object_get_ex(o, "pid_start", &v))
		st->pid_start = json_object_get_uint64(v);
	st->bundle = dup_str(o, "bundle");
	st->rootfs = dup_str(o, "rootfs");
	st->created = dup_str(o, "created");
	st->owner = (uid_t)get_int(o, "owner");
	st->creator = (pid_t)get_int(o, "creator");
	if (json_object_object_get_ex(o, "creator_start", &v))
		st->creator_start = json_object_get_uint64(v);
	st->ns_flags = (int)get_int(o, "ns_flags");
	st->rootless = json_object_object_get_ex(o, "rootless", &v) && json_object_get_boolean(v);
	st->systemd_cgroup =
	        json_object_object_get_ex(o, "systemd_cgroup", &v) && json_object_get_boolean(v);
	if (json_object_object_get_ex(o, "annotations", &v) && v)
		st->annotations_json = strdup(json_object_to_json_string_ext(
		        v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	if (json_object_object_get_ex(o, "cgroup", &v) && v)
		st->cgroup_json = strdup(json_object_to_json_string_ext(
		        v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	if (json_object_object_get_ex(o, "host_mounts", &v) && v)
		st->mounts_json = strdup(json_object_to_json_string_ext(
		        v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	if (!st->id) {
		oci_state_clear(st);
		return vk_error_set(err, ENOMEM, "out of memory");
	}
	return 0;
}

void oci_state_clear(struct oci_state *st)
{
	free(st->id);
	free(st->bundle);
	free(st->rootfs);
	free(st->created);
	free(st->annotations_json);
	free(st->cgroup_json);
	free(st->mounts_json);
	memset(st, 0, sizeof(*st));
}

int oci_state_remove(const char *root, const char *id, int dirfd)
{
	char path[4096];
	DIR *d;
	struct dirent *e;
	int fd;

	fd = dup(dirfd);
	if (fd >= 0) {
		d = fdopendir(fd);
		if (d) {
			while ((e = readdir(d)))
				if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
					unlinkat(dirfd, e->d_name, 0);
			closedir(d);
		} else {
			close(fd);
		}
	}
	snprintf(path, sizeof(path), "%s/%s", root, id);
	if (rmdir(path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

uint64_t oci_pid_start_time(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long start = 0;
	ssize_t n;
	int fd, field;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* comm may contain spaces and ')': fields resume after the last ')'. */
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ')
		return 0;
	p += 2;
	/* p is at field 3 (state); zombies and dead tasks count as gone. */
	if (*p == 'Z' || *p == 'X' || *p == 'x')
		return 0;
	for (field = 3; field < 22 && p; field++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	if (!p || sscanf(p, "%llu", &start) != 1)
		return 0;
	return start;
}

bool oci_pid_alive(pid_t pid, uint64_t start_time)
{
	uint64_t now;

	if (pid <= 0)
		return false;
	now = oci_pid_start_time(pid);
	return now != 0 && (start_time == 0 || now == start_time);
}

enum oci_status oci_state_status(int dirfd, const struct oci_state *st)
{
	/* No container process yet: creating while its creator lives. */
	if (st->pid <= 0)
		return oci_pid_alive(st->creator, st->creator_start) ? OCI_STATUS_CREATING
		                                                     : OCI_STATUS_STOPPED;
	if (!oci_pid_alive(st->pid, st->pid_start))
		return OCI_STATUS_STOPPED;
	if (faccessat(dirfd, OCI_START_SOCK, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		return OCI_STATUS_CREATED;
	return OCI_STATUS_RUNNING;
}

const char *oci_status_name(enum oci_status s)
{
	static const char *const names[] = {"creating", "created", "running", "paused", "stopped"};

	return s <= OCI_STATUS_STOPPED ? names[s] : "unknown";
}

json_object *oci_state_to_json(const struct oci_state *st, enum oci_status status)
{
	json_object *o = json_object_new_object();
	json_object *ann = json_tokener_parse(st->annotations_json ? st->annotations_json : "{}");

	json_object_object_add(o, "ociVersion", json_object_new_string(OCI_VERSION));
	json_object_object_add(o, "id", json_object_new_string(st->id));
	json_object_object_add(o, "status", json_object_new_string(oci_status_name(status)));
	json_object_object_add(o, "pid",
	                       json_object_new_int64(status == OCI_STATUS_STOPPED ? 0 : st->pid));
	json_object_object_add(o, "bundle", json_object_new_string(st->bundle ? st->bundle : ""));
	json_object_object_add(o, "rootfs", json_object_new_string(st->rootfs ? st->rootfs : ""));
	json_object_object_add(o, "created",
	                       json_object_new_string(st->created ? st->created : ""));
	json_object_object_add(o, "owner", json_object_new_string(""));
	if (ann && json_object_object_length(ann) > 0)
		json_object_object_add(o, "annotations", ann);
	else
		json_object_put(ann);
	return o;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int oci_state_list(const char *root, char ***ids, struct vk_error *err)
{
	size_t n = 0, cap = 16;
	char **v = calloc(cap, sizeof(char *));
	struct dirent *e;
	DIR *d;

	if (!v)
		return vk_error_set(err, ENOMEM, "out of memory");
	d = opendir(root);
	if (!d) {
		*ids = v;
		if (errno == ENOENT)
			return 0;
		free(v);
		return vk_error_errno(err, errno, "cannot read state directory '%s'", root);
	}
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || oci_validate_id(e->d_name, NULL) < 0)
			continue;
		if (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN)
			continue;
		if (n + 2 > cap) {
			char **nv = realloc(v, (cap *= 2) * sizeof(char *));

			if (!nv)
				break;
			v = nv;
		}
		v[n] = strdup(e->d_name);
		if (v[n])
			n++;
	}
	closedir(d);
	v[n] = NULL;
	qsort(v, n, sizeof(char *), cmp_str);
	*ids = v;
	return 0;
}
