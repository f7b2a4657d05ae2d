/* SPDX-License-Identifier: MIT */
/*
 * Opening a disk image: the format (explicit, or refused when a file that
 * looks like qcow2 was not called so), and the image's lock.
 *
 * Locks: an open file description lock over the whole image (F_OFD_SETLK:
 * write lock for a writable image, read lock for a read-only one), held by
 * the descriptor the backend reads and writes through, so that it lasts
 * exactly as long as the image is open, in every process (two virtkit-vm, or
 * virtkit-vm and QEMU, which locks bytes of the same file the same way). OFD
 * locks do not say who holds them; beside it each holder takes a classic
 * record lock on one byte far past any data (BLOCK_PID_BYTE), whose F_GETLK
 * answer names the holder's pid for the error message.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vm/backend/block.h"

#define BLOCK_LOCK_END (1ll << 62) /* the OFD lock covers [0, BLOCK_LOCK_END) */
#define BLOCK_PID_BYTE (1ll << 62) /* a record lock here names the holder */

const char *block_format_name(enum block_format f)
{
	switch (f) {
	case BLOCK_FORMAT_RAW:
		return "raw";
	case BLOCK_FORMAT_QCOW2:
		return "qcow2";
	default:
		return "auto";
	}
}

int block_format_parse(const char *name, enum block_format *out)
{
	if (!strcmp(name, "raw"))
		*out = BLOCK_FORMAT_RAW;
	else if (!strcmp(name, "qcow2"))
		*out = BLOCK_FORMAT_QCOW2;
	else
		return -EINVAL;
	return 0;
}

bool block_has_qcow2_magic(int fd)
{
	uint8_t m[4];

	return pread(fd, m, 4, 0) == 4 && m[0] == 'Q' && m[1] == 'F' && m[2] == 'I' && m[3] == 0xfb;
}

/* The pid holding a conflicting lock on path's image, or 0 when it cannot be known. */
static pid_t lock_holder(int fd, bool write)
{
	struct flock fl = {.l_type = write ? F_WRLCK : F_RDLCK,
	                   .l_whence = SEEK_SET,
	                   .l_start = BLOCK_PID_BYTE,
	                   .l_len = 1};

	if (fcntl(fd, F_GETLK, &fl) < 0 || fl.l_type == F_UNLCK)
		return 0;
	return fl.l_pid;
}

static int take_lock(int fd, bool write, const char *path, struct vk_error *err)
{
	struct flock fl = {.l_type = write ? F_WRLCK : F_RDLCK,
	                   .l_whence = SEEK_SET,
	                   .l_start = 0,
	                   .l_len = BLOCK_LOCK_END};
	pid_t holder;

	if (fcntl(fd, F_OFD_SETLK, &fl) == 0) {
		/* The pid marker: a plain record lock (best effort, it only informs). */
		struct flock pl = {.l_type = write ? F_WRLCK : F_RDLCK,
		                   .l_whence = SEEK_SET,
		                   .l_start = BLOCK_PID_BYTE,
		                   .l_len = 1};
		(void)fcntl(fd, F_SETLK, &pl);
		return 0;
	}
	if (errno != EAGAIN && errno != EACCES)
		return vk_error_errno(err, errno, "cannot lock disk image '%s'", path);
	holder = lock_holder(fd, write);
	if (holder > 0 && holder != getpid())
		return vk_error_set(err, EBUSY,
		                    "disk image '%s' is in use by another machine (pid %d): a "
		                    "writable image has one user at a time",
		                    path, (int)holder);
	return vk_error_set(err, EBUSY,
	                    "disk image '%s' is in use by another machine (%s): a writable "
	                    "image has one user at a time",
	                    path, write ? "it holds a lock" : "it has it open for writing");
}

void block_unlock(struct block_backend *be)
{
	struct flock fl = {.l_type = F_UNLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};

	if (be->lock_fd < 0)
		return;
	(void)fcntl(be->lock_fd, F_OFD_SETLK, &fl);
	(void)fcntl(be->lock_fd, F_SETLK, &fl);
}

int block_relock(struct block_backend *be, struct vk_error *err)
{
	if (be->lock_fd < 0)
		return 0;
	return take_lock(be->lock_fd, !be->readonly, be->path, err);
}

struct block_backend *block_open(const char *path, const struct block_open_opts *o,
                                 struct vk_error *err)
{
	enum block_format fmt = o->format;
	struct block_backend *be;
	int fd;

	fd = open(path, (o->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0) {
		if (o->child)
			vk_error_errno(err, errno, "cannot open backing file '%s' of '%s'", path,
			               o->child);
		else
			vk_error_errno(err, errno, "cannot open disk image '%s'", path);
		return NULL;
	}
	if (fmt == BLOCK_FORMAT_AUTO) {
		if (block_has_qcow2_magic(fd)) {
			/* Never guess: a raw disk a guest wrote a qcow2 header into must not
			 * become a qcow2 image (with a backing file the guest chose). */
			vk_error_set(
			        err, EINVAL,
			        "disk image '%s' starts with a qcow2 header: say format=qcow2 "
			        "to use it as qcow2, or format=raw to give the guest its bytes",
			        path);
			close(fd);
			return NULL;
		}
		fmt = BLOCK_FORMAT_RAW;
	}
	if (!o->no_lock && !o->lock_later && take_lock(fd, !o->readonly, path, err) < 0) {
		close(fd);
		return NULL;
	}
	if (fmt == BLOCK_FORMAT_QCOW2)
		be = block_qcow2_open_fd(fd, path, o, err);
	else
		be = block_raw_open_fd(fd, path, o->readonly, err);
	if (!be)
		return NULL; /* the opener closed fd */
	be->format = fmt;
	be->lock_fd = o->no_lock ? -1 : fd;
	if (o->direct) {
		be->direct_fd =
		        open(path, (o->readonly ? O_RDONLY : O_RDWR) | O_DIRECT | O_CLOEXEC);
		if (be->direct_fd < 0) {
			vk_error_errno(
			        err, errno,
			        "cache=none: cannot open '%s' with O_DIRECT (its file system "
			        "may not support it; cache=writeback goes through the page "
			        "cache)",
			        path);
			block_close(be);
			return NULL;
		}
	}
	return be;
}

struct block_backend *block_raw_open(const char *path, bool readonly, struct vk_error *err)
{
	struct block_open_opts o = {.readonly = readonly, .format = BLOCK_FORMAT_RAW};

	return block_open(path, &o, err);
}
