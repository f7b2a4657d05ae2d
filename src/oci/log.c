/* SPDX-License-Identifier: MIT */
/* virtkit-oci's log sink: stderr or a --log file, text or JSON lines. */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int log_fd = -1;
static bool log_json;
static bool log_debug;

int oci_log_open(const char *path, bool json, bool debug)
{
	log_json = json;
	log_debug = debug;
	if (!path || !*path)
		return 0;
	log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (log_fd < 0)
		return -errno;
	return 0;
}

bool oci_log_debug_enabled(void)
{
	return log_debug;
}

int oci_log_fd(void)
{
	return log_fd;
}

/* JSON string escaping for the msg field. */
static size_t json_escape(char *out, size_t cap, const char *in)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (; *in && o + 7 < cap; in++) {
		unsigned char c = (unsigned char)*in;

		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
		} else if (c < 0x20) {
			out[o++] = '\\';
			out[o++] = 'u';
			out[o++] = '0';
			out[o++] = '0';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		} else {
			out[o++] = (char)c;
		}
	}
	out[o] = '\0';
	return o;
}

void oci_log(enum oci_log_level level, const char *fmt, ...)
{
	static const char *const names[] = {"error", "warning", "info", "debug"};
	char msg[1024], esc[2200], line[2600], ts[40];
	int saved = errno;
	struct timespec now;
	struct tm tm;
	va_list ap;
	int n;

	if (level == OCI_LOG_DEBUG && !log_debug)
		return;
	if (level == OCI_LOG_INFO && !log_debug && log_fd < 0)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (log_fd >= 0 && log_json) {
		clock_gettime(CLOCK_REALTIME, &now);
		gmtime_r(&now.tv_sec, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
		json_escape(esc, sizeof(esc), msg);
		n = snprintf(line, sizeof(line),
		             "{\"level\":\"%s\",\"msg\":\"%s\",\"time\":\"%s.%09ldZ\"}\n",
		             level == OCI_LOG_WARN ? "warning" : names[level], esc, ts,
		             now.tv_nsec);
	} else {
		n = snprintf(line, sizeof(line), "virtkit-oci: %s: %s\n", names[level], msg);
	}
	if (n > (int)sizeof(line) - 1)
		n = (int)sizeof(line) - 1;
	if (n > 0 && write(log_fd >= 0 ? log_fd : STDERR_FILENO, line, (size_t)n) < 0) {
		/* Nowhere left to report a failing log. */
	}
	errno = saved;
}
