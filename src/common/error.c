/* SPDX-License-Identifier: MIT */
/* The error object: one sentence and an errno, carried up to be printed once. */
#include "error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int vk_error_set(struct vk_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (code <= 0)
		code = EINVAL;
	if (!err)
		return -code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	err->code = code;
	return -code;
}

int vk_error_errno(struct vk_error *err, int code, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	if (code <= 0)
		code = EIO;
	if (!err)
		return -code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	n = strlen(err->msg);
	snprintf(err->msg + n, sizeof(err->msg) - n, ": %s", strerror(code));
	err->code = code;
	return -code;
}

int vk_error_prefix(struct vk_error *err, const char *fmt, ...)
{
	char old[VK_ERROR_MSG_MAX];
	va_list ap;
	size_t n;

	if (!err)
		return -EINVAL;
	memcpy(old, err->msg, sizeof(old));
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	n = strlen(err->msg);
	snprintf(err->msg + n, sizeof(err->msg) - n, ": %s", old);
	if (err->code == 0)
		err->code = EINVAL;
	return -err->code;
}
