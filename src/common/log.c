/* SPDX-License-Identifier: MIT */
/* Host-side logging: "progname: level: message" lines on stderr or a file. */
#include "log.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *log_prog = "virtkit";
static enum vk_log_level log_level = VK_LOG_WARN;
static FILE *log_file;
static bool log_timestamps;

void vk_log_init(const char *progname, enum vk_log_level level)
{
	const char *env = getenv("VIRTKIT_DEBUG");

	if (progname) {
		const char *slash = strrchr(progname, '/');
		log_prog = slash ? slash + 1 : progname;
	}
	log_level = level;
	if (env && *env && strcmp(env, "0") != 0)
		log_level = VK_LOG_DEBUG;
}

void vk_log_set_file(FILE *f)
{
	log_file = f;
}

void vk_log_set_timestamps(bool on)
{
	log_timestamps = on;
}

void vk_log_set_level(enum vk_log_level level)
{
	log_level = level;
}

enum vk_log_level vk_log_get_level(void)
{
	return log_level;
}

void vk_log(enum vk_log_level level, const char *fmt, ...)
{
	static const char *const names[] = {"error", "warning", "info", "debug"};
	FILE *out = log_file ? log_file : stderr;
	char line[1024];
	va_list ap;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One fprintf call so concurrent threads do not interleave within a line. */
	if (log_timestamps) {
		struct timespec ts;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		fprintf(out, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s: %s: %s\n", tm.tm_year + 1900,
		        tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		        ts.tv_nsec / 1000000, log_prog, names[level], line);
	} else {
		fprintf(out, "%s: %s: %s\n", log_prog, names[level], line);
	}
	fflush(out);
}
