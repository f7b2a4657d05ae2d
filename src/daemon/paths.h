/* SPDX-License-Identifier: MIT */
/*
 * The daemon's folders, fixed at start-up and handed down as a value to the
 * layers that need them:
 *   STATE_DIR/virtkit.db          the store (SQLite, WAL)
 *   STATE_DIR/logs/UUID.log       console logs
 *   STATE_DIR/pools/default/NAME  the storage pool's volumes (volumes.h)
 *   RUN_DIR/virtkit.sock          the API socket (default --socket)
 *   RUN_DIR/instances/UUID/       runtime folder of a running instance
 *   RUN_DIR/oci/                  the OCI runtime's --root
 */
#ifndef VKD_PATHS_H
#define VKD_PATHS_H

#include <limits.h>
#include <stddef.h>

struct vkd_paths {
	char state_dir[PATH_MAX];
	char run_dir[PATH_MAX];
};

/*
 * snprintf into buf; -ENAMETOOLONG with buf empty when it does not fit (never
 * truncated: a cut-short instance folder could name a parent folder, and the
 * run folder is removed with rm_rf()).
 */
int paths_instance_dir(const struct vkd_paths *p, const char *uuid, char *buf, size_t len);
int paths_log(const struct vkd_paths *p, const char *uuid, char *buf, size_t len);

#endif
