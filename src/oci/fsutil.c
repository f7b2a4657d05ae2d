/* SPDX-License-Identifier: MIT */
/* openat2(RESOLVE_IN_ROOT) helpers for building a container root safely. */
#include "fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

int fs_open_in_root(int rootfd, const char *path, int flags, uint64_t resolve_extra)
{
	struct open_how how = {
	        .flags = (uint64_t)(flags | O_CLOEXEC),
	        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | resolve_extra,
	};
	int fd;

	while (*path == '/')
		path++;
	if (!*path)
		path = ".";
	do {
		fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
	} while (fd < 0 && errno == EAGAIN);
	return fd < 0 ? -errno : fd;
}

const char *fs_fd_path(int fd, char *buf, size_t cap)
{
	snprintf(buf, cap, "/proc/self/fd/%d", fd);
	return buf;
}

unsigned long fs_mount_flags(int fd)
{
	struct statvfs sv;
	unsigned long f = 0;

	if (fstatvfs(fd, &sv) < 0)
		return 0;
	if (sv.f_flag & ST_RDONLY)
		f |= MS_RDONLY;
	if (sv.f_flag & ST_NOSUID)
		f |= MS_NOSUID;
	if (sv.f_flag & ST_NODEV)
		f |= MS_NODEV;
	if (sv.f_flag & ST_NOEXEC)
		f |= MS_NOEXEC;
	if (sv.f_flag & ST_NOATIME)
		f |= MS_NOATIME;
	if (sv.f_flag & ST_NODIRATIME)
		f |= MS_NODIRATIME;
	if (sv.f_flag & ST_RELATIME)
		f |= MS_RELATIME;
	return f;
}

/*
 * mkdir -p inside the root; returns an O_PATH fd of the directory. A
 * component that is a dangling symlink has its target created, inside the
 * root (the way the kernel would resolve it there), up to 40 links deep.
 */
static int mkdir_p(int rootfd, const char *path, uint64_t extra, int depth, struct vk_error *err)
{
	char prefix[4096], link[4096], target[8192];
	size_t len = 0;
	const char *p = path;
	int cur, fd;

	if (depth > 40)
		return vk_error_set(err, ELOOP, "too many symlinks below '%s' in the container",
		                    path);
	cur = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
	if (cur < 0)
		return vk_error_errno(err, errno, "cannot open the container root");
	while (*p) {
		char name[256];
		size_t n;
		ssize_t l;

		while (*p == '/')
			p++;
		n = strcspn(p, "/");
		if (n == 0)
			break;
		if (len + n + 2 > sizeof(prefix) || n >= sizeof(name)) {
			close(cur);
			return vk_error_set(err, ENAMETOOLONG, "path too long: %s", path);
		}
		snprintf(name, sizeof(name), "%.*s", (int)n, p);
		prefix[len++] = '/';
		memcpy(prefix + len, p, n);
		len += n;
		prefix[len] = '\0';
		fd = fs_open_in_root(rootfd, prefix, O_PATH | O_DIRECTORY, extra);
		if (fd == -ENOENT && mkdirat(cur, name, 0755) < 0 && errno == EEXIST &&
		    !(extra & RESOLVE_NO_SYMLINKS) &&
		    (l = readlinkat(cur, name, link, sizeof(link) - 1)) > 0) {
			/* A dangling symlink: create what it points to, in the root. */
			link[l] = '\0';
			if (link[0] == '/')
				snprintf(target, sizeof(target), "%s", link);
			else
				snprintf(target, sizeof(target), "%.*s/%s", (int)(len - n - 1),
				         prefix, link);
			fd = mkdir_p(rootfd, target, extra, depth + 1, err);
			if (fd < 0) {
				close(cur);
				return fd;
			}
			close(fd);
			fd = -ENOENT;
		}
		if (fd == -ENOENT)
			fd = fs_open_in_root(rootfd, prefix, O_PATH | O_DIRECTORY, extra);
		close(cur);
		if (fd < 0) {
			if (fd == -ELOOP || fd == -EXDEV)
				return vk_error_set(
				        err, -fd,
				        "'%s' in the container is a symlink where a real "
				        "directory is required",
				        prefix);
			return vk_error_errno(err, -fd, "cannot use '%s' in the container", prefix);
		}
		cur = fd;
		p += n;
	}
	return cur;
}

int fs_ensure_in_root(int rootfd, const char *path, bool dir, bool no_symlinks,
                      struct vk_error *err)
{
	uint64_t extra = no_symlinks ? RESOLVE_NO_SYMLINKS : 0;
	const char *base;
	char parent[4096];
	int pfd, fd;

	fd = fs_open_in_root(rootfd, path, O_PATH | (dir ? O_DIRECTORY : 0), extra);
	if (fd >= 0)
		return fd;
	if (fd == -ELOOP || fd == -EXDEV)
		return vk_error_set(err, -fd,
		                    "mount target '%s' in the container is or passes a symlink, "
		                    "which is refused here",
		                    path);
	if (fd == -ENOTDIR && dir)
		return vk_error_set(err, ENOTDIR,
		                    "mount target '%s' in the container is not a "
		                    "directory",
		                    path);
	if (fd != -ENOENT)
		return vk_error_errno(err, -fd, "cannot open mount target '%s' in the container",
		                      path);
	base = strrchr(path, '/');
	snprintf(parent, sizeof(parent), "%.*s", base ? (int)(base - path) : 0, path);
	base = base ? base + 1 : path;
	/* Usually only the last component is missing: make it in its parent. */
	pfd = fs_open_in_root(rootfd, parent[0] ? parent : "/", O_PATH | O_DIRECTORY, extra);
	if (pfd == -ENOENT)
		pfd = mkdir_p(rootfd, parent, extra, 0, err);
	else if (pfd < 0)
		return vk_error_errno(err, -pfd, "cannot open the parent of mount target '%s'",
		                      path);
	if (pfd < 0)
		return pfd;
	if (dir) {
		if (mkdirat(pfd, base, 0755) < 0 && errno != EEXIST) {
			int e = errno;

			close(pfd);
			return vk_error_errno(
			        err, e, "cannot create directory '%s' in the container", path);
		}
	} else {
		fd = openat(pfd, base, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd < 0 && errno != EEXIST) {
			int e = errno;

			close(pfd);
			return vk_error_errno(
			        err, e, "cannot create mount target '%s' in the container", path);
		}
		if (fd >= 0)
			close(fd);
	}
	close(pfd);
	/* Resolve again from the root: an existing entry may be a symlink. */
	fd = fs_open_in_root(rootfd, path, O_PATH | (dir ? O_DIRECTORY : 0), extra);
	if (fd == -ENOENT && dir)
		return mkdir_p(rootfd, path, extra, 0, err); /* a dangling symlink */
	if (fd < 0)
		return vk_error_errno(err, -fd, "cannot open mount target '%s' in the container",
		                      path);
	return fd;
}
