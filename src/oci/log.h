/* SPDX-License-Identifier: MIT */
/*
 * virtkit-oci's log: runc-compatible --log FILE and --log-format text|json.
 * Without --log, messages go to stderr as "virtkit-oci: level: msg". In JSON
 * format each line is {"level":"error","msg":"...","time":"RFC 3339"}, which
 * is what conmon and containerd read back when the runtime fails.
 */
#ifndef VK_OCI_LOG_H
#define VK_OCI_LOG_H

#include <stdbool.h>

#include "common/compiler.h"

enum oci_log_level {
	OCI_LOG_ERROR,
	OCI_LOG_WARN,
	OCI_LOG_INFO,
	OCI_LOG_DEBUG,
};

/* Returns 0 or -errno when the log file cannot be opened. */
int oci_log_open(const char *path, bool json, bool debug);
void oci_log(enum oci_log_level level, const char *fmt, ...) VK_PRINTF(2, 3);
bool oci_log_debug_enabled(void);
/* The log's file descriptor (-1 when logging to stderr), kept across exec. */
int oci_log_fd(void);

#define oci_err(...)   oci_log(OCI_LOG_ERROR, __VA_ARGS__)
#define oci_warn(...)  oci_log(OCI_LOG_WARN, __VA_ARGS__)
#define oci_info(...)  oci_log(OCI_LOG_INFO, __VA_ARGS__)
#define oci_debug(...) oci_log(OCI_LOG_DEBUG, __VA_ARGS__)

#endif
