/* SPDX-License-Identifier: MIT */
/* Mounts made in the runtime's mount namespace: found, recorded, removed. */
#include "hostmounts.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "log.h"

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape(char *s)
{
	char *o = s;

	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '7' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 4;
		} else {
			*o++ = *s++;
		}
	}
	*o = '\0';
}

static int push(struct oci_hostmnts *l, int id, const char *rel)
{
	struct oci_hostmnt *nv = realloc(l->v, (l->n + 1) * sizeof(*nv));

	if (!nv)
		return -ENOMEM;
	l->v = nv;
	l->v[l->n].rel = strdup(rel);
	if (!l->v[l->n].rel)
		return -ENOMEM;
	l->v[l->n].id = id;
	l->n++;
	return 0;
}

int oci_hostmnts_scan(const char *mountinfo, const char *root, struct oci_hostmnts *out,
                      struct vk_error *err)
{
	size_t rlen = strlen(root), cap = 0;
	char *line = NULL;
	FILE *f;
	int r = 0;

	out->v = NULL;
	out->n = 0;
	while (rlen > 1 && root[rlen - 1] == '/')
		rlen--;
	f = fopen(mountinfo, "re");
	if (!f)
		return vk_error_errno(err, errno, "cannot read %s", mountinfo);
	while (!r && getline(&line, &cap, f) > 0) {
		char mp[4096];
		int id;

		/* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS ... */
		if (sscanf(line, "%d %*d %*s %*s %4095s", &id, mp) != 2)
			continue;
		unescape(mp);
		if (strncmp(mp, root, rlen) != 0 || mp[rlen] != '/' || !mp[rlen + 1])
			continue;
		if (push(out, id, mp + rlen + 1) < 0)
			r = vk_error_set(err, ENOMEM, "out of memory");
	}
	free(line);
	fclose(f);
	if (r < 0)
		oci_hostmnts_clear(out);
	return r;
}

int oci_hostmnts_added(const struct oci_hostmnts *before, const struct oci_hostmnts *after,
                       struct oci_hostmnts *out)
{
	out->v = NULL;
	out->n = 0;
	for (size_t i = 0; i < after->n; i++) {
		bool old = false;

		for (size_t j = 0; j < before->n && !old; j++)
			old = before->v[j].id == after->v[i].id &&
			      strcmp(before->v[j].rel, after->v[i].rel) == 0;
		if (!old && push(out, after->v[i].id, after->v[i].rel) < 0) {
			oci_hostmnts_clear(out);
			return -ENOMEM;
		}
	}
	return 0;
}

/* The mount ID of what fd names (the root of the mount when a mount point was resolved). */
static int mount_id(int fd)
{
	struct statx stx;

	if (statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, STATX_MNT_ID, &stx) < 0 ||
	    !(stx.stx_mask & STATX_MNT_ID))
		return -1;
	return (int)stx.stx_mnt_id;
}

/* Where mount id is now below root (the container may have renamed a parent), or NULL. */
static const char *now_at(const struct oci_hostmnts *now, int id)
{
	for (size_t i = 0; i < now->n; i++)
		if (now->v[i].id == id)
			return now->v[i].rel;
	return NULL;
}

unsigned oci_hostmnts_remove(const char *root, const struct oci_hostmnts *l)
{
	struct oci_hostmnts now;
	struct vk_error e = {0};
	unsigned left = 0;
	char fp[32];
	int rootfd;

	if (!l->n)
		return 0;
	rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0 || oci_hostmnts_scan("/proc/self/mountinfo", root, &now, &e) < 0) {
		oci_warn("cannot remove the mounts below %s: %s", root,
		         rootfd < 0 ? strerror(errno) : e.msg);
		if (rootfd >= 0)
			close(rootfd);
		return (unsigned)l->n;
	}
	for (size_t i = l->n; i-- > 0;) {
		const struct oci_hostmnt *m = &l->v[i];
		const char *rel = now_at(&now, m->id);
		int fd;

		if (!rel)
			continue; /* gone: unmounted, or detached with a parent before it */
		fd = fs_open_in_root(rootfd, rel, O_PATH, RESOLVE_NO_SYMLINKS);
		if (fd < 0 || mount_id(fd) != m->id) {
			/* A symlink on the way, or another mount on top: not ours to touch. */
			oci_warn("left %s/%s mounted: it cannot be reached below the root without "
			         "a symlink, or another mount covers it",
			         root, rel);
			left++;
		} else if (umount2(fs_fd_path(fd, fp, sizeof(fp)), MNT_DETACH) < 0) {
			oci_warn("cannot unmount %s/%s: %s", root, rel, strerror(errno));
			left++;
		}
		if (fd >= 0)
			close(fd);
	}
	oci_hostmnts_clear(&now);
	close(rootfd);
	return left;
}

char *oci_hostmnts_to_json(const struct oci_hostmnts *l)
{
	json_object *a = json_object_new_array();
	char *s;

	for (size_t i = 0; i < l->n; i++) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "id", json_object_new_int(l->v[i].id));
		json_object_object_add(o, "path", json_object_new_string(l->v[i].rel));
		json_object_array_add(a, o);
	}
	s = strdup(json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN |
	                                                     JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(a);
	return s;
}

int oci_hostmnts_from_json(const char *json, struct oci_hostmnts *out)
{
	json_object *a = json_tokener_parse(json), *id, *path;
	int r = 0;

	out->v = NULL;
	out->n = 0;
	if (!a || !json_object_is_type(a, json_type_array)) {
		json_object_put(a);
		return -EINVAL;
	}
	for (size_t i = 0; !r && i < json_object_array_length(a); i++) {
		json_object *o = json_object_array_get_idx(a, i);

		if (!json_object_object_get_ex(o, "id", &id) ||
		    !json_object_object_get_ex(o, "path", &path) ||
		    !json_object_is_type(path, json_type_string))
			r = -EINVAL;
		else
			r = push(out, json_object_get_int(id), json_object_get_string(path));
	}
	json_object_put(a);
	if (r < 0)
		oci_hostmnts_clear(out);
	return r;
}

void oci_hostmnts_clear(struct oci_hostmnts *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].rel);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}
