/* SPDX-License-Identifier: MIT */
/*
 * The error object. Functions that can fail for a reason a user must read take
 * a struct vk_error *, fill it with one sentence ("cannot open disk image
 * 'a.img': No such file or directory") and return -errno. The sentence is
 * printed once, at the CLI or API boundary. Callers may pass NULL when they do
 * not care about the text.
 */
#ifndef VK_ERROR_H
#define VK_ERROR_H

#include <stdbool.h>

#include "compiler.h"

#define VK_ERROR_MSG_MAX 512

struct vk_error {
	int code; /* positive errno value, 0 when no error is set */
	char msg[VK_ERROR_MSG_MAX];
};

/* Set the error (if err is non-NULL) and return -code. */
int vk_error_set(struct vk_error *err, int code, const char *fmt, ...) VK_PRINTF(3, 4);

/* Like vk_error_set() but appends ": strerror(code)". */
int vk_error_errno(struct vk_error *err, int code, const char *fmt, ...) VK_PRINTF(3, 4);

/* Prefix an existing message with more context: "context: old message". */
int vk_error_prefix(struct vk_error *err, const char *fmt, ...) VK_PRINTF(2, 3);

static inline bool vk_error_is_set(const struct vk_error *err)
{
	return err && err->code != 0;
}

static inline void vk_error_clear(struct vk_error *err)
{
	if (err) {
		err->code = 0;
		err->msg[0] = '\0';
	}
}

#endif
