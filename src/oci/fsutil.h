/* SPDX-License-Identifier: MIT */
/*
 * Path resolution inside a container root that cannot be tricked out of it:
 * every lookup is openat2(rootfd, path, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS),
 * so ".." and absolute symlinks stay below rootfd. Mounts then target the
 * resulting descriptor through /proc/self/fd/N, never a path string that a
 * container could swap between check and use.
 */
#ifndef VK_OCI_FSUTIL_H
#define VK_OCI_FSUTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"

/* openat2 inside rootfd; resolve_extra adds RESOLVE_* bits. Returns fd or -errno. */
int fs_open_in_root(int rootfd, const char *path, int flags, uint64_t resolve_extra);

/*
 * Make sure path exists inside the root, as a directory (dir) or an empty
 * file, creating parents as needed. Returns an O_PATH fd to it or -errno with
 * the error set. no_symlinks: refuse any symlink on the way (for /proc, /sys).
 */
int fs_ensure_in_root(int rootfd, const char *path, bool dir, bool no_symlinks,
                      struct vk_error *err);

/* "/proc/self/fd/N" into buf (at least 32 bytes). */
const char *fs_fd_path(int fd, char *buf, size_t cap);

/* MS_NOSUID/NODEV/NOEXEC/RDONLY/atime flags of the mount under fd (locked in userns). */
unsigned long fs_mount_flags(int fd);

#endif
