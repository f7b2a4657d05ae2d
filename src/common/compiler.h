/* SPDX-License-Identifier: MIT */
/*
 * Compiler helpers shared by every virtkit component: attributes, cleanup
 * handlers, overflow-checked arithmetic and small macros.
 */
#ifndef VK_COMPILER_H
#define VK_COMPILER_H

#include <stddef.h>
#include <stdlib.h>
#include <unistd.h>

#define VK_PRINTF(fmt, args)            __attribute__((format(printf, fmt, args)))
#define VK_MUST_CHECK                   __attribute__((warn_unused_result))
#define VK_UNUSED                       __attribute__((unused))
#define VK_NORETURN                     __attribute__((noreturn))
#define likely(x)                       __builtin_expect(!!(x), 1)
#define unlikely(x)                     __builtin_expect(!!(x), 0)

#define ARRAY_SIZE(a)                   (sizeof(a) / sizeof((a)[0]))
#define VK_MIN(a, b)                    ((a) < (b) ? (a) : (b))
#define VK_MAX(a, b)                    ((a) > (b) ? (a) : (b))

#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

/* Overflow-checked arithmetic: true when the result does not fit. */
#define vk_add_overflow(a, b, res) __builtin_add_overflow(a, b, res)
#define vk_mul_overflow(a, b, res) __builtin_mul_overflow(a, b, res)

/*
 * Cleanup attributes (crun/systemd style). A function uses either these, with
 * an explicit vk_steal_ptr()/vk_steal_fd() when ownership leaves, or a goto
 * ladder; never both.
 */
static inline void vk_freep(void *p)
{
	free(*(void **)p);
}

static inline void vk_closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

#define _cleanup_free_  __attribute__((cleanup(vk_freep)))
#define _cleanup_close_ __attribute__((cleanup(vk_closep)))

static inline void *vk_steal_ptr_impl(void **p)
{
	void *v = *p;
	*p = NULL;
	return v;
}
#define vk_steal_ptr(pp) vk_steal_ptr_impl((void **)(pp))

static inline int vk_steal_fd(int *fd)
{
	int v = *fd;
	*fd = -1;
	return v;
}

#endif
