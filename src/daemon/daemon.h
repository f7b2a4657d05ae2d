/* SPDX-License-Identifier: MIT */
/*
 * virtkitd's configuration, fixed at start-up (main.c fills it from the
 * command line before any thread starts; it is read-only afterwards), and
 * the layout of its folders:
 *   STATE_DIR/virtkit.db          the store (SQLite, WAL)
 *   STATE_DIR/logs/UUID.log       console logs
 *   RUN_DIR/virtkit.sock          the API socket (default --socket)
 *   RUN_DIR/instances/UUID/       runtime folder of a running instance
 *   RUN_DIR/oci/                  the OCI runtime's --root
 */
#ifndef VKD_DAEMON_H
#define VKD_DAEMON_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct store;

struct vkd_config {
	char state_dir[PATH_MAX];
	char run_dir[PATH_MAX];
	char socket_path[108]; /* sun_path */
	char vm_binary[PATH_MAX];
	char oci_runtime[PATH_MAX];
	char self_exe[PATH_MAX];    /* re-executed as the shim without virtkit-shim */
	char shim_binary[PATH_MAX]; /* virtkit-shim next to us, or empty */
	char oci_root[PATH_MAX];
	gid_t socket_gid; /* (gid_t)-1 when the group does not exist */
	mode_t socket_mode;
	size_t max_body;
	int stop_timeout_s;
	bool autostart;
	struct store *store;
};

extern struct vkd_config vkd;

/* Path helpers: snprintf into buf; -ENAMETOOLONG with buf empty when it does not fit. */
int vkd_instance_dir(const char *uuid, char *buf, size_t len);
int vkd_log_path(const char *uuid, char *buf, size_t len);

#endif
