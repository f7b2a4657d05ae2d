/* SPDX-License-Identifier: MIT */
/*
 * Logging for the host side. Messages go to stderr (or a file) with the
 * program name (and the time, for daemons). Anything a guest can trigger must go through a rate limit:
 * vk_log_once() for "log at most once per object".
 */
#ifndef VK_LOG_H
#define VK_LOG_H

#include <stdbool.h>
#include <stdio.h>

#include "compiler.h"

enum vk_log_level {
	VK_LOG_ERROR,
	VK_LOG_WARN,
	VK_LOG_INFO,
	VK_LOG_DEBUG,
};

void vk_log_init(const char *progname, enum vk_log_level level);
void vk_log_set_file(FILE *f);
void vk_log_set_level(enum vk_log_level level);
/* Start every line with the time, ISO 8601 in UTC ("2025-01-31T12:00:00.123Z"): daemons. */
void vk_log_set_timestamps(bool on);
enum vk_log_level vk_log_get_level(void);
void vk_log(enum vk_log_level level, const char *fmt, ...) VK_PRINTF(2, 3);

#define vk_err(...)   vk_log(VK_LOG_ERROR, __VA_ARGS__)
#define vk_warn(...)  vk_log(VK_LOG_WARN, __VA_ARGS__)
#define vk_info(...)  vk_log(VK_LOG_INFO, __VA_ARGS__)
#define vk_debug(...) vk_log(VK_LOG_DEBUG, __VA_ARGS__)

/*
 * Log once per flag: the flag lives in the object the message is about (a
 * device, a queue), so a misbehaving guest produces one line per object.
 */
#define vk_log_once(flagp, level, ...)              \
	do {                                        \
		if (!*(flagp)) {                    \
			*(flagp) = true;            \
			vk_log(level, __VA_ARGS__); \
		}                                   \
	} while (0)

#endif
