/* SPDX-License-Identifier: MIT */
/*
 * Files of the image layer: progress reports, SHA-256 (nettle) while copying
 * or reading, and the copy of a root file system tree for a container
 * launched from an image. The tree copy works on folder descriptors
 * (openat/fstatat with AT_SYMLINK_NOFOLLOW), so a symlink in the image is
 * copied as a symlink and never followed, wherever it points.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <nettle/sha2.h>

#include "common/util.h"
#include "daemon/image-internal.h"

#define COPY_CHUNK     (1u << 20)
#define TREE_DEPTH_MAX 128
#define REPORT_GAP_NS  250000000ull

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void image_progress_stage(struct image_progress *p, const char *stage, uint64_t total)
{
	if (!p)
		return;
	snprintf(p->stage, sizeof(p->stage), "%s", stage);
	p->done = 0;
	p->total = total;
	p->last_pct = 0;
	p->last_ns = mono_ns();
	if (p->report)
		p->report(p, false);
}

void image_progress_add(struct image_progress *p, uint64_t n)
{
	int pct;
	uint64_t now;

	if (!p)
		return;
	p->done += n;
	pct = p->total ? (int)(VK_MIN(p->done, p->total) * 100 / p->total) : 0;
	if (pct < p->last_pct + 5 || pct >= 100)
		return;
	now = mono_ns();
	if (now - p->last_ns < REPORT_GAP_NS)
		return;
	p->last_pct = pct;
	p->last_ns = now;
	if (p->report)
		p->report(p, false);
}

void image_progress_end(struct image_progress *p)
{
	if (!p)
		return;
	p->done = p->total;
	if (p->report)
		p->report(p, true);
}

void image_hex(const uint8_t digest[32], char hex[IMAGE_FP_LEN + 1])
{
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
}

void image_sha256_text(const char *text, size_t len, char hex[IMAGE_FP_LEN + 1])
{
	struct sha256_ctx ctx;
	uint8_t d[SHA256_DIGEST_SIZE];

	sha256_init(&ctx);
	sha256_update(&ctx, len, (const uint8_t *)text);
	sha256_digest(&ctx, sizeof(d), d);
	image_hex(d, hex);
}

static bool all_zero(const uint8_t *p, size_t n)
{
	return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

/* Read fd to its end, hashing; with out >= 0 also write everything to out. */
static int hash_stream(int fd, const char *name, int out, const char *out_name,
                       char hex[IMAGE_FP_LEN + 1], uint64_t *size, struct image_progress *p,
                       struct vk_error *err)
{
	uint8_t *buf = malloc(COPY_CHUNK), d[SHA256_DIGEST_SIZE];
	struct sha256_ctx ctx;
	uint64_t total = 0;
	int r = 0;

	if (!buf)
		return vk_error_set(err, ENOMEM, "out of memory");
	sha256_init(&ctx);
	for (;;) {
		ssize_t n = read(fd, buf, COPY_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = vk_error_errno(err, errno, "cannot read '%s'", name);
			break;
		}
		if (n == 0)
			break;
		sha256_update(&ctx, (size_t)n, buf);
		/* Runs of zeros are left as holes: a sparse disk image stays sparse. */
		if (out >= 0 && all_zero(buf, (size_t)n)) {
			if (lseek(out, n, SEEK_CUR) < 0) {
				r = vk_error_errno(err, errno, "cannot write '%s'", out_name);
				break;
			}
		} else if (out >= 0 && vk_write_full(out, buf, (size_t)n) < 0) {
			r = vk_error_errno(err, errno, "cannot write '%s'", out_name);
			break;
		}
		total += (uint64_t)n;
		image_progress_add(p, (uint64_t)n);
	}
	free(buf);
	if (r == 0 && out >= 0 && ftruncate(out, (off_t)total) < 0)
		r = vk_error_errno(err, errno, "cannot write '%s'", out_name);
	if (r < 0)
		return r;
	sha256_digest(&ctx, sizeof(d), d);
	image_hex(d, hex);
	*size = total;
	return 0;
}

int image_sha256_fd(int fd, const char *name, char hex[IMAGE_FP_LEN + 1], uint64_t *size,
                    struct image_progress *p, struct vk_error *err)
{
	return hash_stream(fd, name, -1, NULL, hex, size, p, err);
}

int image_copy_file(int srcfd, const char *src, int dstdir, const char *dst,
                    char hex[IMAGE_FP_LEN + 1], uint64_t *size, struct image_progress *p,
                    struct vk_error *err)
{
	struct stat st;
	int out, r;

	if (fstat(srcfd, &st) < 0)
		return vk_error_errno(err, errno, "cannot stat '%s'", src);
	if (!S_ISREG(st.st_mode))
		return vk_error_set(err, EINVAL, "'%s' is not a regular file", src);
	out = openat(dstdir, dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0444);
	if (out < 0)
		return vk_error_errno(err, errno, "cannot create '%s'", dst);
	r = hash_stream(srcfd, src, out, dst, hex, size, p, err);
	if (r == 0 && fsync(out) < 0)
		r = vk_error_errno(err, errno, "cannot write '%s'", dst);
	close(out);
	return r;
}

/* --- trees ------------------------------------------------------------------------------ */

static uint64_t tree_bytes_at(int dfd, unsigned depth)
{
	DIR *d;
	struct dirent *e;
	uint64_t sum = 0;

	if (depth > TREE_DEPTH_MAX || !(d = fdopendir(dfd))) {
		close(dfd);
		return 0;
	}
	while ((e = readdir(d))) {
		struct stat st;
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISREG(st.st_mode))
			sum += (uint64_t)st.st_size;
		else if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd(d), e->d_name,
			                 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0)
				sum += tree_bytes_at(sub, depth + 1);
		}
	}
	closedir(d);
	return sum;
}

uint64_t image_tree_bytes(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	return fd < 0 ? 0 : tree_bytes_at(fd, 0);
}

/* Hard links already copied: (dev, ino) of the source → the path of the copy. */
struct link_map {
	struct link_ent {
		dev_t dev;
		ino_t ino;
		char *path; /* relative to the destination root */
	} * v;
	size_t n, cap;
};

static const char *links_find(const struct link_map *m, const struct stat *st)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->v[i].dev == st->st_dev && m->v[i].ino == st->st_ino)
			return m->v[i].path;
	return NULL;
}

static int links_add(struct link_map *m, const struct stat *st, const char *path)
{
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 64;
		struct link_ent *v = realloc(m->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		m->v = v;
		m->cap = cap;
	}
	m->v[m->n].path = strdup(path);
	if (!m->v[m->n].path)
		return -ENOMEM;
	m->v[m->n].dev = st->st_dev;
	m->v[m->n].ino = st->st_ino;
	m->n++;
	return 0;
}

struct tree_copy {
	int dst_root; /* the destination root folder, for hard links */
	struct link_map links;
	struct image_progress *p;
	struct vk_error *err;
	bool root; /* we may chown and mknod */
};

static int copy_meta(struct tree_copy *tc, int dfd, const char *name, const struct stat *st,
                     const char *rel)
{
	struct timespec ts[2] = {st->st_atim, st->st_mtim};

	if (tc->root && fchownat(dfd, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0)
		return vk_error_errno(tc->err, errno, "cannot set the owner of '%s'", rel);
	if (!S_ISLNK(st->st_mode) && fchmodat(dfd, name, st->st_mode & 07777, 0) < 0)
		return vk_error_errno(tc->err, errno, "cannot set the mode of '%s'", rel);
	if (utimensat(dfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0 && errno != EOPNOTSUPP)
		return vk_error_errno(tc->err, errno, "cannot set the times of '%s'", rel);
	return 0;
}

static int copy_dir(struct tree_copy *tc, int sfd, int dfd, const char *rel, unsigned depth);

static int copy_entry(struct tree_copy *tc, int sfd, int dfd, const char *name,
                      const struct stat *st, const char *rel, unsigned depth)
{
	const char *first;
	char target[4096];
	ssize_t n;
	int r;

	if (!S_ISDIR(st->st_mode) && st->st_nlink > 1 && (first = links_find(&tc->links, st))) {
		if (linkat(tc->dst_root, first, dfd, name, 0) < 0)
			return vk_error_errno(tc->err, errno, "cannot link '%s'", rel);
		return 0;
	}
	if (S_ISDIR(st->st_mode)) {
		int s2, d2;
		if (mkdirat(dfd, name, 0700) < 0)
			return vk_error_errno(tc->err, errno, "cannot create '%s'", rel);
		s2 = openat(sfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		d2 = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (s2 < 0 || d2 < 0) {
			r = vk_error_errno(tc->err, errno, "cannot open '%s'", rel);
			if (s2 >= 0)
				close(s2);
			if (d2 >= 0)
				close(d2);
			return r;
		}
		r = copy_dir(tc, s2, d2, rel, depth + 1); /* closes both */
		return r < 0 ? r : copy_meta(tc, dfd, name, st, rel);
	}
	if (S_ISREG(st->st_mode)) {
		int in = openat(sfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), out;
		if (in < 0)
			return vk_error_errno(tc->err, errno, "cannot open '%s'", rel);
		out = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (out < 0) {
			r = vk_error_errno(tc->err, errno, "cannot create '%s'", rel);
			close(in);
			return r;
		}
		r = 0;
		for (uint64_t left = (uint64_t)st->st_size; left > 0 && r == 0;) {
			ssize_t c = copy_file_range(in, NULL, out, NULL, VK_MIN(left, 1u << 24), 0);
			if (c < 0 && errno == EINTR)
				continue;
			if (c <= 0)
				r = vk_error_errno(tc->err, c < 0 ? errno : EIO, "cannot copy '%s'",
				                   rel);
			else {
				left -= (uint64_t)c;
				image_progress_add(tc->p, (uint64_t)c);
			}
		}
		close(in);
		close(out);
	} else if (S_ISLNK(st->st_mode)) {
		n = readlinkat(sfd, name, target, sizeof(target) - 1);
		if (n < 0)
			return vk_error_errno(tc->err, errno, "cannot read the link '%s'", rel);
		target[n] = '\0';
		r = symlinkat(target, dfd, name) < 0
		            ? vk_error_errno(tc->err, errno, "cannot create '%s'", rel)
		            : 0;
	} else if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode) || S_ISFIFO(st->st_mode)) {
		if (!tc->root && !S_ISFIFO(st->st_mode))
			return 0; /* without root there are no device nodes to make */
		r = mknodat(dfd, name, st->st_mode & (S_IFMT | 0600), st->st_rdev) < 0
		            ? vk_error_errno(tc->err, errno, "cannot create '%s'", rel)
		            : 0;
	} else {
		return 0; /* sockets: nothing to copy */
	}
	if (r == 0)
		r = copy_meta(tc, dfd, name, st, rel);
	if (r == 0 && st->st_nlink > 1 && links_add(&tc->links, st, rel) < 0)
		r = vk_error_set(tc->err, ENOMEM, "out of memory");
	return r;
}

static int copy_dir(struct tree_copy *tc, int sfd, int dfd, const char *rel, unsigned depth)
{
	DIR *d = fdopendir(sfd);
	struct dirent *e;
	int r = 0;

	if (!d) {
		r = vk_error_errno(tc->err, errno, "cannot read '%s'", rel);
		close(sfd);
		close(dfd);
		return r;
	}
	if (depth > TREE_DEPTH_MAX) {
		r = vk_error_set(tc->err, ELOOP, "'%s' is nested too deep", rel);
		goto out;
	}
	while (r == 0 && (e = readdir(d))) {
		struct stat st;
		char sub[4096];
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if ((size_t)snprintf(sub, sizeof(sub), "%s%s%s", rel, rel[0] ? "/" : "",
		                     e->d_name) >= sizeof(sub)) {
			r = vk_error_set(tc->err, ENAMETOOLONG, "a path below '%s' is too long",
			                 rel);
			break;
		}
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			r = vk_error_errno(tc->err, errno, "cannot stat '%s'", sub);
		else
			r = copy_entry(tc, dirfd(d), dfd, e->d_name, &st, sub, depth);
	}
out:
	closedir(d);
	close(dfd);
	return r;
}

int image_copy_tree(const char *src, const char *dst, struct image_progress *p,
                    struct vk_error *err)
{
	struct tree_copy tc = {.p = p, .err = err, .root = geteuid() == 0};
	struct stat st;
	int sfd, dfd, r;

	sfd = open(src, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sfd < 0)
		return vk_error_errno(err, errno, "cannot open '%s'", src);
	if (fstat(sfd, &st) < 0 || mkdir(dst, 0700) < 0) {
		r = vk_error_errno(err, errno, "cannot create '%s'", dst);
		close(sfd);
		return r;
	}
	dfd = open(dst, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	tc.dst_root = dfd >= 0 ? dup(dfd) : -1;
	if (dfd < 0 || tc.dst_root < 0) {
		r = vk_error_errno(err, errno, "cannot open '%s'", dst);
		close(sfd);
		if (dfd >= 0)
			close(dfd);
		return r;
	}
	r = copy_dir(&tc, sfd, dfd, "", 0);
	if (r == 0 && ((tc.root && fchown(tc.dst_root, st.st_uid, st.st_gid) < 0) ||
	               fchmod(tc.dst_root, st.st_mode & 07777) < 0))
		r = vk_error_errno(err, errno, "cannot set the mode of '%s'", dst);
	close(tc.dst_root);
	for (size_t i = 0; i < tc.links.n; i++)
		free(tc.links.v[i].path);
	free(tc.links.v);
	return r;
}
