/* SPDX-License-Identifier: MIT */
/*
 * Image tools (block.h): creating, describing and growing disk images, what
 * `virtkit-vm image` and through it the manager's volumes do. They go
 * through the same opening code as a running machine, so a tool never reads
 * an image differently from the machine that will use it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vm/backend/block.h"
#include "vm/backend/qcow2.h"

char *block_backing_path(const char *image, const char *name)
{
	const char *slash;
	char *p;

	if (name[0] == '/')
		return strdup(name);
	slash = strrchr(image, '/');
	if (!slash)
		return strdup(name);
	if (asprintf(&p, "%.*s/%s", (int)(slash - image), image, name) < 0)
		return NULL;
	return p;
}

static int create_raw(const char *path, uint64_t size, struct vk_error *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

	if (fd < 0)
		return vk_error_errno(err, errno, "cannot create '%s'", path);
	if (ftruncate(fd, (off_t)size) < 0) {
		int e = errno;
		close(fd);
		unlink(path);
		return vk_error_errno(err, e, "cannot create '%s' of %llu bytes", path,
		                      (unsigned long long)size);
	}
	close(fd);
	return 0;
}

int block_create(const char *path, const struct block_create_opts *o, struct vk_error *err)
{
	uint64_t size = o->size;
	unsigned bits = o->cluster_bits ? o->cluster_bits : QCOW2_DEFAULT_CLUSTER_BITS;

	if (o->format != BLOCK_FORMAT_RAW && o->format != BLOCK_FORMAT_QCOW2)
		return vk_error_set(err, EINVAL, "cannot create '%s': say format raw or qcow2",
		                    path);
	if (o->backing && o->format != BLOCK_FORMAT_QCOW2)
		return vk_error_set(err, EINVAL,
		                    "cannot create '%s': only a qcow2 image has a backing file",
		                    path);
	if (o->format == BLOCK_FORMAT_QCOW2 &&
	    (bits < QCOW2_CREATE_MIN_BITS || bits > QCOW2_CREATE_MAX_BITS))
		return vk_error_set(err, EINVAL,
		                    "cannot create '%s': cluster size must be a power of two from "
		                    "4 KiB to 2 MiB",
		                    path);
	if (o->backing) {
		struct block_open_opts bo = {.readonly = true,
		                             .no_lock = true,
		                             .format = o->backing_format,
		                             .child = path};
		struct block_backend *base;
		char *full;

		if (o->backing_format == BLOCK_FORMAT_AUTO)
			return vk_error_set(
			        err, EINVAL,
			        "cannot create '%s': give the backing file's format (raw "
			        "or qcow2); it is never guessed",
			        path);
		/* The base must open now as it will at boot (and tells the default size). */
		full = block_backing_path(path, o->backing);
		if (!full)
			return vk_error_errno(err, ENOMEM, "cannot create '%s'", path);
		base = block_open(full, &bo, err);
		free(full);
		if (!base)
			return -EINVAL;
		if (!size)
			size = base->size;
		block_close(base);
	}
	if (size == 0 || size % 512)
		return vk_error_set(err, EINVAL,
		                    "cannot create '%s': size %llu is not a positive multiple of "
		                    "512 bytes",
		                    path, (unsigned long long)size);
	if (o->format == BLOCK_FORMAT_RAW)
		return create_raw(path, size, err);
	return qcow2_create(path, size, o->backing, o->backing_format, bits, err);
}

void block_info_free(struct block_info *info)
{
	free(info->backing);
	free(info->backing_full);
	info->backing = info->backing_full = NULL;
}

int block_get_info(const char *path, enum block_format format, struct block_info *out,
                   struct vk_error *err)
{
	struct block_open_opts o = {.readonly = true, .no_lock = true, .format = format};
	struct block_backend *be;
	struct stat st;
	int r = 0;

	memset(out, 0, sizeof(*out));
	be = block_open(path, &o, err);
	if (!be)
		return -EINVAL;
	out->format = be->format;
	out->virtual_size = be->size;
	if (stat(path, &st) == 0)
		out->actual_size = (uint64_t)st.st_blocks * 512;
	if (be->format == BLOCK_FORMAT_QCOW2)
		r = qcow2_get_info(be, out);
	block_close(be);
	if (r < 0) {
		block_info_free(out);
		return vk_error_errno(err, -r, "cannot describe '%s'", path);
	}
	return 0;
}

int block_resize(const char *path, enum block_format format, uint64_t size, struct vk_error *err)
{
	struct block_open_opts o = {.format = format};
	struct block_backend *be;
	struct stat st;
	int r = 0;

	if (size == 0 || size % 512)
		return vk_error_set(err, EINVAL,
		                    "cannot resize '%s': size %llu is not a positive multiple of "
		                    "512 bytes",
		                    path, (unsigned long long)size);
	be = block_open(path, &o, err); /* locked for writing: not in use by a machine */
	if (!be)
		return -EINVAL;
	if (size < be->size) {
		r = vk_error_set(err, EINVAL,
		                 "cannot shrink '%s' from %llu to %llu bytes: the guest's data "
		                 "there would be lost",
		                 path, (unsigned long long)be->size, (unsigned long long)size);
	} else if (size > be->size && be->format == BLOCK_FORMAT_RAW) {
		if (fstat(be->lock_fd, &st) < 0 || !S_ISREG(st.st_mode))
			r = vk_error_set(err, EINVAL, "cannot resize '%s': not a regular file",
			                 path);
		else if (ftruncate(be->lock_fd, (off_t)size) < 0 || fsync(be->lock_fd) < 0)
			r = vk_error_errno(err, errno, "cannot resize '%s'", path);
	} else if (size > be->size) {
		r = qcow2_grow(be, size);
		if (r < 0)
			vk_error_errno(err, -r, "cannot resize '%s'", path);
	}
	block_close(be);
	return r;
}
