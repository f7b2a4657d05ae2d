/* SPDX-License-Identifier: MIT */
/*
 * Unpacking an OCI layer (image-spec layer.md) into a root file system, safely.
 *
 * libarchive reads the tar stream (ustar, pax, GNU; plain, gzip or zstd); the
 * writing is ours, relative to the tree's folder descriptor, because the
 * stream is untrusted: entry names are checked (no absolute names, no ".."
 * parts), and every parent folder is opened with openat2(RESOLVE_BENEATH), so
 * a symlink planted by an earlier entry or layer may be followed only while
 * it stays inside the tree. `link -> /etc` followed by `link/passwd`, or
 * `up -> ../../..` followed by `up/x`, is an error naming the entry: nothing
 * is ever written outside the tree, and the import fails instead of
 * producing a tree that differs from what the image says. Symlinks themselves
 * are created as they are (an absolute symlink is normal in an image: it is
 * resolved inside the container).
 *
 * Whiteouts: ".wh.NAME" removes NAME of the layers below; ".wh..wh..opq"
 * empties its folder of what the layers below put there (this layer's own
 * entries stay, wherever the marker comes in the stream).
 */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/util.h"
#include "daemon/image-internal.h"
#include "daemon/proc.h"

#define NAME_MAX_LEN 4096
#define ENTRIES_MAX  (1u << 20)
#define WH_PREFIX    ".wh."
#define WH_OPAQUE    ".wh..wh..opq"

struct unpack {
	int root;
	const char *what; /* "layer 2/3 (sha256:...)", for messages */
	struct vk_error *err;
	bool is_root;
	/* Paths this layer created (an opaque whiteout keeps them): a string set. */
	char **seen;
	size_t seen_cap, seen_n;
};

static uint64_t str_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	return h;
}

static bool seen_has(const struct unpack *u, const char *path)
{
	if (!u->seen_cap)
		return false;
	for (size_t i = str_hash(path) & (u->seen_cap - 1); u->seen[i];
	     i = (i + 1) & (u->seen_cap - 1))
		if (strcmp(u->seen[i], path) == 0)
			return true;
	return false;
}

static int seen_add(struct unpack *u, const char *path)
{
	if (seen_has(u, path))
		return 0;
	if ((u->seen_n + 1) * 2 > u->seen_cap) {
		size_t cap = u->seen_cap ? u->seen_cap * 2 : 1024;
		char **v = calloc(cap, sizeof(*v));
		if (!v)
			return -ENOMEM;
		for (size_t i = 0; i < u->seen_cap; i++) {
			if (!u->seen[i])
				continue;
			size_t j = str_hash(u->seen[i]) & (cap - 1);
			while (v[j])
				j = (j + 1) & (cap - 1);
			v[j] = u->seen[i];
		}
		free(u->seen);
		u->seen = v;
		u->seen_cap = cap;
	}
	size_t i = str_hash(path) & (u->seen_cap - 1);
	while (u->seen[i])
		i = (i + 1) & (u->seen_cap - 1);
	if (!(u->seen[i] = strdup(path)))
		return -ENOMEM;
	u->seen_n++;
	return 0;
}

/*
 * A tar entry name made canonical in out: "./a//b/" -> "a/b"; "" for the root itself.
 * -EINVAL for an absolute name or one with a ".." part.
 */
static int clean_name(const char *in, char *out, size_t len)
{
	size_t o = 0;
	const char *p = in;

	if (in[0] == '/')
		return -EINVAL;
	while (*p) {
		size_t n = strcspn(p, "/");
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return -EINVAL;
		if (n > 0 && !(n == 1 && p[0] == '.')) {
			if (o + n + 2 > len)
				return -ENAMETOOLONG;
			if (o)
				out[o++] = '/';
			memcpy(out + o, p, n);
			o += n;
		}
		p += n;
		while (*p == '/')
			p++;
	}
	out[o] = '\0';
	return 0;
}

static int openat2_beneath(int at, const char *path, int flags)
{
	struct open_how how = {
	        .flags = (uint64_t)(flags | O_CLOEXEC),
	        .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
	};
	long fd = syscall(SYS_openat2, at, path, &how, sizeof(how));

	return fd < 0 ? -errno : (int)fd;
}

/*
 * The folder `dir` (a clean relative path, "" for the root) opened beneath the root,
 * created (0755) where missing. A component that leaves the tree (EXDEV) or is not a
 * folder is an error naming the entry.
 */
static int open_parent(struct unpack *u, const char *dir, const char *entry)
{
	char part[NAME_MAX_LEN];
	size_t at = 0;
	bool retried = false;
	int fd;

	if (!dir[0]) {
		fd = fcntl(u->root, F_DUPFD_CLOEXEC, 0);
		return fd >= 0 ? fd
		               : vk_error_errno(u->err, errno, "%s: cannot open the root", u->what);
	}
	for (;;) {
		size_t n = strcspn(dir + at, "/");
		memcpy(part, dir, at + n);
		part[at + n] = '\0';
		fd = openat2_beneath(u->root, part, O_PATH | O_DIRECTORY);
		if (fd == -ENOENT && retried)
			/* It exists (mkdirat said so) and still cannot be opened: a symlink
			 * to nothing beneath the root. Without this, a loop for ever. */
			return vk_error_set(u->err, ENOENT,
			                    "%s: entry '%s': '%s' is a symlink that leads nowhere "
			                    "inside the root file system",
			                    u->what, entry, part);
		if (fd == -ENOENT) {
			int pfd = at ? -1 : u->root;
			if (at) {
				part[at - 1] = '\0';
				pfd = openat2_beneath(u->root, part, O_PATH | O_DIRECTORY);
				part[at - 1] = '/';
				if (pfd < 0)
					return vk_error_errno(u->err, -pfd,
					                      "%s: cannot open the folder of "
					                      "'%s'",
					                      u->what, entry);
			}
			if (mkdirat(pfd, part + at, 0755) < 0 && errno != EEXIST) {
				int e = errno;
				if (at)
					close(pfd);
				return vk_error_errno(u->err, e,
				                      "%s: cannot create the folder of '%s'",
				                      u->what, entry);
			}
			if (at)
				close(pfd);
			retried = true;
			continue; /* open it again, beneath */
		}
		if (fd == -EXDEV || fd == -ELOOP)
			return vk_error_set(
			        u->err, EXDEV,
			        "%s: entry '%s' leads outside the root file system through "
			        "the symlink '%s' (refused: nothing is written outside the "
			        "image)",
			        u->what, entry, part);
		if (fd == -ENOTDIR)
			return vk_error_set(u->err, ENOTDIR, "%s: entry '%s': '%s' is not a folder",
			                    u->what, entry, part);
		if (fd < 0)
			return vk_error_errno(u->err, -fd, "%s: cannot open the folder of '%s'",
			                      u->what, entry);
		if (!dir[at + n])
			return fd;
		close(fd);
		at += n + 1;
		retried = false;
	}
}

/* Remove name in dirfd, whatever it is (a folder with everything in it). */
static int remove_at(int at, const char *name)
{
	struct stat st;

	if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(at, name, 0) < 0 ? -errno : 0;
	int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	DIR *d = fdopendir(fd);
	struct dirent *e;
	int r = 0;
	if (!d) {
		close(fd);
		return -errno;
	}
	while (r == 0 && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			r = remove_at(dirfd(d), e->d_name);
	closedir(d);
	if (r == 0 && unlinkat(at, name, AT_REMOVEDIR) < 0)
		r = -errno;
	return r;
}

/* Empty folder `dir` (clean path) of what this layer did not put there. */
static int opaque(struct unpack *u, const char *dir, const char *entry)
{
	int fd = open_parent(u, dir, entry), dfd;
	DIR *d;
	struct dirent *e;
	char path[NAME_MAX_LEN * 2];
	int r = 0;

	if (fd < 0)
		return fd;
	dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	close(fd);
	if (dfd < 0 || !(d = fdopendir(dfd))) {
		if (dfd >= 0)
			close(dfd);
		return vk_error_errno(u->err, errno, "%s: cannot read the folder of '%s'", u->what,
		                      entry);
	}
	while (r == 0 && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s%s%s", dir, dir[0] ? "/" : "", e->d_name);
		if (seen_has(u, path))
			continue;
		r = remove_at(dirfd(d), e->d_name);
		if (r < 0)
			vk_error_errno(u->err, -r, "%s: cannot remove '%s' (opaque whiteout)",
			               u->what, path);
	}
	closedir(d);
	return r;
}

static int set_meta(struct unpack *u, int pfd, const char *base, struct archive_entry *e,
                    mode_t type, const char *name)
{
	struct timespec ts[2] = {
	        {.tv_sec = archive_entry_mtime(e), .tv_nsec = archive_entry_mtime_nsec(e)},
	        {.tv_sec = archive_entry_mtime(e), .tv_nsec = archive_entry_mtime_nsec(e)},
	};

	if (u->is_root && fchownat(pfd, base, (uid_t)archive_entry_uid(e),
	                           (gid_t)archive_entry_gid(e), AT_SYMLINK_NOFOLLOW) < 0)
		return vk_error_errno(u->err, errno, "%s: cannot set the owner of '%s'", u->what,
		                      name);
	if (type != AE_IFLNK && fchmodat(pfd, base, archive_entry_perm(e) & 07777, 0) < 0)
		return vk_error_errno(u->err, errno, "%s: cannot set the mode of '%s'", u->what,
		                      name);
	if (utimensat(pfd, base, ts, AT_SYMLINK_NOFOLLOW) < 0 && errno != EOPNOTSUPP)
		return vk_error_errno(u->err, errno, "%s: cannot set the times of '%s'", u->what,
		                      name);
	return 0;
}

static int write_data(struct unpack *u, struct archive *a, int fd, const char *name)
{
	const void *buf;
	size_t len;
	la_int64_t off;
	int r;

	while ((r = archive_read_data_block(a, &buf, &len, &off)) == ARCHIVE_OK) {
		const char *p = buf;
		while (len > 0) {
			ssize_t n = pwrite(fd, p, len, (off_t)off);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				return vk_error_errno(u->err, n < 0 ? errno : EIO,
				                      "%s: cannot write '%s'", u->what, name);
			p += n;
			off += n;
			len -= (size_t)n;
		}
	}
	if (r != ARCHIVE_EOF)
		return vk_error_set(u->err, EIO, "%s: entry '%s': %s", u->what, name,
		                    archive_error_string(a) ? archive_error_string(a)
		                                            : "cannot read its data");
	return 0;
}

/* Create one entry (not a whiteout) at its clean name. */
static int put_entry(struct unpack *u, struct archive *a, struct archive_entry *e, const char *name)
{
	const char *slash = strrchr(name, '/'), *base = slash ? slash + 1 : name;
	char dir[NAME_MAX_LEN], hl[NAME_MAX_LEN];
	mode_t type = archive_entry_filetype(e);
	const char *link = archive_entry_hardlink(e);
	struct stat st;
	int pfd, r = 0;

	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - name) : 0, name);
	pfd = open_parent(u, dir, name);
	if (pfd < 0)
		return pfd;
	/* What the layers below (or an earlier entry) left there goes, but a folder stays one. */
	if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    !(S_ISDIR(st.st_mode) && type == AE_IFDIR && !link) && (r = remove_at(pfd, base)) < 0) {
		vk_error_errno(u->err, -r, "%s: cannot replace '%s'", u->what, name);
		goto out;
	}
	if (link) {
		const char *ls;
		int lfd;
		if (clean_name(link, hl, sizeof(hl)) < 0 || !hl[0]) {
			r = vk_error_set(
			        u->err, EINVAL,
			        "%s: hard link '%s' -> '%s' points outside the root file system",
			        u->what, name, link);
			goto out;
		}
		ls = strrchr(hl, '/');
		snprintf(dir, sizeof(dir), "%.*s", ls ? (int)(ls - hl) : 0, hl);
		lfd = open_parent(u, dir, name);
		if (lfd < 0) {
			r = lfd;
			goto out;
		}
		if (linkat(lfd, ls ? ls + 1 : hl, pfd, base, 0) < 0)
			r = vk_error_errno(u->err, errno, "%s: cannot link '%s' to '%s'", u->what,
			                   name, link);
		close(lfd);
		goto out;
	}
	switch (type) {
	case AE_IFDIR:
		if (mkdirat(pfd, base, 0700) < 0 && errno != EEXIST)
			r = vk_error_errno(u->err, errno, "%s: cannot create '%s'", u->what, name);
		break;
	case AE_IFREG: {
		int fd = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		                0600);
		if (fd < 0) {
			r = vk_error_errno(u->err, errno, "%s: cannot create '%s'", u->what, name);
			break;
		}
		r = write_data(u, a, fd, name);
		if (r == 0 && ftruncate(fd, (off_t)archive_entry_size(e)) < 0)
			r = vk_error_errno(u->err, errno, "%s: cannot write '%s'", u->what, name);
		close(fd);
		break;
	}
	case AE_IFLNK: {
		const char *target = archive_entry_symlink(e);
		if (!target || !target[0] || strlen(target) >= NAME_MAX_LEN)
			r = vk_error_set(u->err, EINVAL, "%s: symlink '%s' has no valid target",
			                 u->what, name);
		else if (symlinkat(target, pfd, base) < 0)
			r = vk_error_errno(u->err, errno, "%s: cannot create '%s'", u->what, name);
		break;
	}
	case AE_IFCHR:
	case AE_IFBLK:
	case AE_IFIFO:
		if (!u->is_root && type != AE_IFIFO)
			goto out; /* no device nodes without root: left out */
		if (mknodat(pfd, base, type | 0600, archive_entry_rdev(e)) < 0)
			r = vk_error_errno(u->err, errno, "%s: cannot create '%s'", u->what, name);
		break;
	default:
		goto out; /* sockets and unknown types: nothing to make */
	}
	if (r == 0)
		r = set_meta(u, pfd, base, e, type, name);
out:
	close(pfd);
	return r;
}

static int one_entry(struct unpack *u, struct archive *a, struct archive_entry *e)
{
	const char *raw = archive_entry_pathname(e);
	char name[NAME_MAX_LEN], dir[NAME_MAX_LEN];
	const char *slash, *base;
	int r;

	if (!raw)
		return vk_error_set(u->err, EINVAL, "%s: an entry has no name", u->what);
	r = clean_name(raw, name, sizeof(name));
	if (r == -ENAMETOOLONG)
		return vk_error_set(u->err, ENAMETOOLONG, "%s: entry name too long", u->what);
	if (r < 0)
		return vk_error_set(
		        u->err, EINVAL,
		        "%s: entry '%.200s' %s (refused: nothing is written outside the "
		        "image)",
		        u->what, raw,
		        raw[0] == '/' ? "has an absolute name" : "has a '..' in its name");
	if (!name[0])
		return 0; /* the root folder itself: its metadata is the image's business, not ours */
	slash = strrchr(name, '/');
	base = slash ? slash + 1 : name;
	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - name) : 0, name);
	if (strcmp(base, WH_OPAQUE) == 0)
		return opaque(u, dir, name);
	if (strncmp(base, WH_PREFIX, strlen(WH_PREFIX)) == 0) {
		int pfd = open_parent(u, dir, name);
		if (pfd < 0)
			return pfd;
		r = remove_at(pfd, base + strlen(WH_PREFIX));
		close(pfd);
		return r < 0 ? vk_error_errno(u->err, -r, "%s: whiteout '%s'", u->what, name) : 0;
	}
	if (seen_add(u, name) < 0)
		return vk_error_set(u->err, ENOMEM, "out of memory");
	return put_entry(u, a, e, name);
}

int image_unpack_layer(int rootfd, int layerfd, const char *what, struct image_progress *p,
                       struct vk_error *err)
{
	struct unpack u = {.root = rootfd, .what = what, .err = err, .is_root = geteuid() == 0};
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	uint64_t reported = 0, entries = 0;
	int r = 0, ar;

	if (!a)
		return vk_error_set(err, ENOMEM, "out of memory");
	archive_read_support_format_tar(a);
	archive_read_support_format_gnutar(a);
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_zstd(a);
	if (archive_read_open_fd(a, layerfd, 1 << 16) != ARCHIVE_OK) {
		r = vk_error_set(err, EINVAL, "%s: not a tar layer: %s", what,
		                 archive_error_string(a) ? archive_error_string(a) : "unreadable");
		goto out;
	}
	while ((ar = archive_read_next_header(a, &e)) == ARCHIVE_OK || ar == ARCHIVE_WARN) {
		uint64_t at;
		if (++entries > ENTRIES_MAX) {
			r = vk_error_set(err, E2BIG, "%s: more than %u entries", what, ENTRIES_MAX);
			goto out;
		}
		if ((r = one_entry(&u, a, e)) < 0)
			goto out;
		at = (uint64_t)archive_filter_bytes(a, -1);
		if (at > reported) {
			image_progress_add(p, at - reported);
			reported = at;
		}
	}
	if (ar != ARCHIVE_EOF)
		r = vk_error_set(err, EINVAL, "%s: a broken tar stream: %s", what,
		                 archive_error_string(a) ? archive_error_string(a) : "unreadable");
out:
	archive_read_free(a);
	for (size_t i = 0; i < u.seen_cap; i++)
		free(u.seen[i]);
	free(u.seen);
	return r;
}
