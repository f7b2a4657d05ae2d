/* SPDX-License-Identifier: MIT */
/*
 * The virtkit CLI: a command table (main.c) and one small file per command
 * group. Every command is an API call through libvirtkit; errors are
 * printed once, here, as one sentence, and mapped to documented exit codes.
 */
#ifndef VIRTKIT_CLI_H
#define VIRTKIT_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "virtkit/virtkit.h"

/* Exit codes (docs/man/virtkit.1). */
enum {
	CLI_OK = 0,
	CLI_FAIL = 1,     /* the operation failed */
	CLI_USAGE = 2,    /* bad command line */
	CLI_CONNECT = 3,  /* the daemon cannot be reached */
	CLI_NOTFOUND = 4, /* no such instance or volume */
	CLI_CONFLICT = 5, /* wrong state for the operation, or the name exists */
};

struct cli {
	const char *socket; /* --socket, or NULL for $VIRTKIT_SOCKET / the default */
	const char *remote; /* a REMOTE: prefix of the operands, or NULL */
	bool json;          /* --format json */
	virtkit_conn *conn;
};

struct cli_command {
	const char *name;
	const char *args;    /* operands and options, for usage lines */
	const char *summary; /* one line, lower case, no full stop */
	const char *options; /* the command's option lines for `COMMAND --help`, or NULL */
	int (*run)(struct cli *cli, int argc, char **argv);
};

/* Connect on first use; prints the error and returns NULL on failure (see cli_status). */
virtkit_conn *cli_conn(struct cli *cli, int *status);
/* Print "virtkit: MESSAGE" for err (each line prefixed), free it, return its exit code. */
int cli_fail(virtkit_error *err);
void cli_print_error(const char *msg);
/* "virtkit: warning: ..." on stderr for each warning of a define or update reply. */
void cli_print_warnings(const virtkit_instance *i);
/* The exit code for err, which is freed (for callers that word the message). */
int cli_exit_code(virtkit_error *err);
int cli_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_print_json(const char *json);
struct json_object;
void cli_print_json_object(struct json_object *o);

/*
 * Parse a subcommand's options: the usual getopt_long loop over argv with
 * "+" so that "--" and the first operand stop it. Returns the option, -1 at
 * the end, '?' on an unknown one (already reported).
 */
int cli_getopt(int argc, char **argv, const char *shortopts, const void *longopts);
/* The same, with options and operands in any order (operands end up from optind on). */
int cli_getopt_any(int argc, char **argv, const char *shortopts, const void *longopts);

/* A whole file (NUL-terminated, at most 16 MiB), or stdin for "-"; NULL after printing why. */
char *cli_read_file(const char *path, size_t *len);
/* write(2) all of buf to fd, retrying on EINTR; -1 on failure. */
int cli_write_all(int fd, const void *buf, size_t n);
/* A monotonic clock in milliseconds. */
long cli_now_ms(void);

/* Command groups. */
int cmd_list(struct cli *cli, int argc, char **argv);
int cmd_info(struct cli *cli, int argc, char **argv);
int cmd_stats(struct cli *cli, int argc, char **argv);
int cmd_host(struct cli *cli, int argc, char **argv);
int cmd_define(struct cli *cli, int argc, char **argv);
int cmd_launch(struct cli *cli, int argc, char **argv);
int cmd_launch_image(struct cli *cli, int argc, char **argv);
int cmd_image(struct cli *cli, int argc, char **argv);
int cmd_edit(struct cli *cli, int argc, char **argv);
int cmd_undefine(struct cli *cli, int argc, char **argv);
int cmd_dumpxml(struct cli *cli, int argc, char **argv);
int cmd_autostart(struct cli *cli, int argc, char **argv);
int cmd_start(struct cli *cli, int argc, char **argv);
int cmd_save(struct cli *cli, int argc, char **argv);
int cmd_restore(struct cli *cli, int argc, char **argv);
int cmd_snapshot(struct cli *cli, int argc, char **argv);
int cmd_migrate(struct cli *cli, int argc, char **argv);
int cmd_stop(struct cli *cli, int argc, char **argv);
int cmd_kill(struct cli *cli, int argc, char **argv);
int cmd_restart(struct cli *cli, int argc, char **argv);
int cmd_pause(struct cli *cli, int argc, char **argv);
int cmd_resume(struct cli *cli, int argc, char **argv);
int cmd_console(struct cli *cli, int argc, char **argv);
int cmd_logs(struct cli *cli, int argc, char **argv);
int cmd_events(struct cli *cli, int argc, char **argv);
int cmd_exec(struct cli *cli, int argc, char **argv);
int cmd_shell(struct cli *cli, int argc, char **argv);
int cmd_network(struct cli *cli, int argc, char **argv);
int cmd_volume(struct cli *cli, int argc, char **argv);
int cmd_trust(struct cli *cli, int argc, char **argv);
int cmd_remote(struct cli *cli, int argc, char **argv);
int cmd_ui(struct cli *cli, int argc, char **argv);

/*
 * Take the REMOTE: prefixes out of a command's operands (cmd-remote.c):
 * "host1:" alone, or "host1:web" where an instance is named. Sets
 * cli->remote; returns the new argc, or -1 (two remotes in one command).
 */
struct cli_command;
int cli_take_remote(struct cli *cli, const struct cli_command *c, int argc, char **argv);

/* Output helpers (output.c): a table with a header row, columns padded. */
struct table;
struct table *table_new(size_t ncols, const char *const *headers);
void table_add(struct table *t, const char *const *cells);
void table_print(struct table *t);
void table_free(struct table *t);

#endif
