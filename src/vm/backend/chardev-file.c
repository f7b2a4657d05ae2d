/* SPDX-License-Identifier: MIT */
/*
 * The output-only character devices: file:PATH (output appended to a file,
 * no input) and null (output discarded, no input).
 */
#include "vm/backend/chardev-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"

static size_t null_write(struct chardev *c, const uint8_t *buf, size_t len)
{
	return len;
}

static void null_close(struct chardev *c)
{
	free(c);
}

static const struct chardev_ops null_ops = {
        .name = "null",
        .write = null_write,
        .close = null_close,
};

struct chardev *chardev_null_open(struct vm_loop *loop, struct vk_error *err)
{
	struct chardev *c = calloc(1, sizeof(*c));

	if (!c) {
		vk_error_errno(err, ENOMEM, "cannot create the null character device");
		return NULL;
	}
	c->ops = &null_ops;
	c->loop = loop;
	return c;
}

struct chardev_file {
	struct chardev chr;
	struct chardev_stream stream;
	char *path;
	int fd;
	bool warned;
};

static void file_out_closed(struct chardev_stream *s, int err)
{
	struct chardev_file *f = s->opaque;

	/* ENOSPC, EIO...: keep the VM running, say it once, drop the rest. */
	vk_log_once(&f->warned, VK_LOG_WARN, "console file '%s': %s; further output is dropped",
	            f->path, strerror(err));
	chardev_stream_stop_output(s);
}

static size_t file_write(struct chardev *c, const uint8_t *buf, size_t len)
{
	struct chardev_file *f = container_of(c, struct chardev_file, chr);

	return chardev_stream_write(&f->stream, buf, len);
}

static void file_close(struct chardev *c)
{
	struct chardev_file *f = container_of(c, struct chardev_file, chr);

	chardev_stream_destroy(&f->stream);
	close(f->fd);
	free(f->path);
	free(f);
}

static const struct chardev_ops file_ops = {
        .name = "file",
        .write = file_write,
        .close = file_close,
};

struct chardev *chardev_file_open(struct vm_loop *loop, const char *path, struct vk_error *err)
{
	struct chardev_file *f = calloc(1, sizeof(*f));
	int ret;

	if (!f) {
		vk_error_errno(err, ENOMEM, "cannot create console file '%s'", path);
		return NULL;
	}
	f->fd = -1; /* before the first goto fail: calloc's 0 is stdin */
	if (chardev_stream_init(&f->stream, &f->chr, f) < 0) {
		vk_error_errno(err, ENOMEM, "cannot create console file '%s'", path);
		goto fail;
	}
	f->path = strdup(path);
	if (!f->path) {
		vk_error_errno(err, ENOMEM, "cannot create console file '%s'", path);
		goto fail;
	}
	/* O_NONBLOCK matters only when PATH is a FIFO; regular files never block. */
	f->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NONBLOCK | O_CLOEXEC | O_NOCTTY, 0644);
	if (f->fd < 0) {
		vk_error_errno(err, errno, "cannot open console file '%s'", path);
		goto fail;
	}
	chardev_ignore_sigpipe();
	f->chr.ops = &file_ops;
	f->chr.loop = loop;
	f->chr.path = f->path;
	f->stream.out_fd = f->fd;
	f->stream.out_closed = file_out_closed;
	ret = chardev_stream_start(&f->stream);
	if (ret < 0) {
		vk_error_errno(err, -ret, "cannot watch console file '%s'", path);
		goto fail;
	}
	return &f->chr;
fail:
	chardev_stream_destroy(&f->stream);
	if (f->fd >= 0)
		close(f->fd);
	free(f->path);
	free(f);
	return NULL;
}
