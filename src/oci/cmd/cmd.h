/* SPDX-License-Identifier: MIT */
/*
 * The virtkit-oci command line: global options, the command table and the
 * helpers every subcommand (one file each) shares. A command returns an exit
 * status >= 0, or -errno with the error set; main() prints it once.
 */
#ifndef VK_OCI_CMD_H
#define VK_OCI_CMD_H

#include <stdbool.h>

#include "common/error.h"

struct oci_globals {
	const char *root;
	const char *log;
	const char *criu; /* --criu PATH: the CRIU program (checkpoint, restore) */
	bool log_json;
	bool systemd_cgroup;
	bool debug;
	char **argv; /* main's argv (for a re-exec) */
};

typedef int (*oci_cmd_fn)(struct oci_globals *g, int argc, char **argv, struct vk_error *err);

struct oci_cmd {
	const char *name;
	oci_cmd_fn fn;
	const char *usage;
	bool sealed; /* puts a process into a container: always run from a sealed copy */
};

int cmd_create(struct oci_globals *g, int argc, char **argv, struct vk_error *err);
int cmd_start(struct oci_globals *g, int argc, char **argv, struct vk_error *err);
int cmd_run(struct oci_globals *g, int argc, char **argv, struct vk_error *err);
int cmd_exec(struct oci_globals *g, int argc, char **argv, struct vk_error *err);
int cmd_state(struct oci_globals *g, int argc, char **argv, struct vk_error *err);
int cmd_kill(struct oci_globals *g, int argc, char **argv, struct vk_error *err);
int cmd_delete(struct oci_globals *g, int argc, char **argv, struct vk_error *err);
int cmd_list(struct oci_globals *g, int argc, char **argv, struct vk_error *err);
int cmd_ps(struct oci_globals *g, int argc, char **argv, struct vk_error *err);
int cmd_pause(struct oci_globals *g, int argc, char **argv, struct vk_error *err);
int cmd_resume(struct oci_globals *g, int argc, char **argv, struct vk_error *err);
int cmd_update(struct oci_globals *g, int argc, char **argv, struct vk_error *err);
int cmd_spec(struct oci_globals *g, int argc, char **argv, struct vk_error *err);
int cmd_features(struct oci_globals *g, int argc, char **argv, struct vk_error *err);
int cmd_checkpoint(struct oci_globals *g, int argc, char **argv, struct vk_error *err);
int cmd_restore(struct oci_globals *g, int argc, char **argv, struct vk_error *err);
int cmd_events(struct oci_globals *g, int argc, char **argv, struct vk_error *err);

/* create and run share their options (run adds --detach and --keep). */
struct oci_create_opts;
int cmd_parse_create(int argc, char **argv, bool run, struct oci_create_opts *o,
                     struct vk_error *err);

/* The single ID argument left after options (error naming the command otherwise). */
int cmd_id(int argc, char **argv, const char *cmd, const char **id, struct vk_error *err);

/* Print a json object the way runc does (indented, newline). */
struct json_object;
void cmd_print_json(struct json_object *o, bool pretty);

/* Parse an integer option value. */
int cmd_int(const char *s, const char *opt, int min, int max, int *out, struct vk_error *err);

#endif
