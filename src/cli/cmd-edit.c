/* SPDX-License-Identifier: MIT */
/*
 * virtkit edit NAME [--xml]: the definition (JSON, or libvirt domain XML with
 * --xml) goes to a private temporary file, $VISUAL or $EDITOR (else vi) edits
 * it, and the result replaces the definition through the API, which checks
 * it. Nothing changes when the editor fails, when the text is unchanged, or
 * when the daemon refuses it; then the edited copy is kept and its path said,
 * so that no work is lost.
 */
#include <errno.h>
#include <getopt.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cli/cli.h"

extern char **environ;

/* The definition as text to edit (malloc'd), and the instance's real name in name. */
static char *fetch(struct cli *cli, const char *arg, bool xml, char *name, size_t name_len,
                   int *status)
{
	virtkit_error *err = NULL;
	virtkit_instance *i = virtkit_instance_get(cli->conn, arg, &err);
	json_object *o, *def;
	char *text = NULL;

	if (!i) {
		*status = cli_fail(err);
		return NULL;
	}
	snprintf(name, name_len, "%s", virtkit_instance_name(i));
	if (xml) {
		text = virtkit_instance_xml(cli->conn, name, &err);
		if (!text)
			*status = cli_fail(err);
	} else {
		o = json_tokener_parse(virtkit_instance_json(i));
		def = json_object_object_get(o, "definition");
		text = def ? strdup(json_object_to_json_string_ext(
		                     def, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
		                                  JSON_C_TO_STRING_NOSLASHESCAPE))
		           : NULL;
		json_object_put(o);
		if (!text) {
			fprintf(stderr, "virtkit: the daemon sent no definition for '%s'\n", name);
			*status = CLI_FAIL;
		}
	}
	virtkit_instance_free(i);
	return text;
}

/* Run the editor on path through sh, as git does ($EDITOR may hold arguments). */
static int run_editor(const char *path)
{
	const char *ed = getenv("VISUAL");
	char *cmd;
	const char *argv[] = {"sh", "-c", NULL, "sh", path, NULL};
	pid_t pid;
	int st, r;

	if (!ed || !*ed)
		ed = getenv("EDITOR");
	if (!ed || !*ed)
		ed = "vi";
	if (asprintf(&cmd, "%s \"$@\"", ed) < 0)
		return -ENOMEM;
	argv[2] = cmd;
	r = posix_spawn(&pid, "/bin/sh", NULL, NULL, (char *const *)argv, environ);
	free(cmd);
	if (r != 0) {
		fprintf(stderr, "virtkit: cannot run the editor '%s': %s\n", ed, strerror(r));
		return -r;
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "virtkit: the editor '%s' failed (%s %d)\n", ed,
		        WIFEXITED(st) ? "status" : "signal",
		        WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
		return -ECANCELED;
	}
	return 0;
}

static int write_temp(const char *text, bool xml, char *path, size_t len)
{
	const char *dir = getenv("TMPDIR");
	size_t n = strlen(text);
	FILE *f;
	int fd;

	snprintf(path, len, "%s/virtkit-edit-XXXXXX%s", dir && *dir ? dir : "/tmp",
	         xml ? ".xml" : ".json");
	fd = mkstemps(path, xml ? 4 : 5); /* mode 0600: a definition may hold secrets */
	if (fd < 0) {
		fprintf(stderr, "virtkit: cannot create a temporary file in '%s': %s\n",
		        dir && *dir ? dir : "/tmp", strerror(errno));
		return -1;
	}
	f = fdopen(fd, "w");
	if (!f || fwrite(text, 1, n, f) != n || (n && text[n - 1] != '\n' && fputc('\n', f) < 0) ||
	    fclose(f) != 0) {
		fprintf(stderr, "virtkit: cannot write '%s'\n", path);
		if (!f)
			close(fd);
		unlink(path);
		return -1;
	}
	return 0;
}

/* The same text but for trailing white space (editors add or drop a final newline). */
static bool same_text(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	while (la && strchr(" \t\r\n", a[la - 1]))
		la--;
	while (lb && strchr(" \t\r\n", b[lb - 1]))
		lb--;
	return la == lb && memcmp(a, b, la) == 0;
}

int cmd_edit(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"xml", no_argument, NULL, 'x'}, {NULL, 0, NULL, 0}};
	virtkit_error *err = NULL;
	virtkit_instance *i;
	char name[256], path[4096], *before, *after = NULL;
	bool xml = false;
	size_t len;
	int c, st = CLI_OK;

	while ((c = cli_getopt_any(argc, argv, "", opts)) != -1) {
		if (c != 'x')
			return CLI_USAGE;
		xml = true;
	}
	if (optind + 1 != argc)
		return cli_usage("usage: virtkit edit NAME|UUID [--xml]");
	if (!cli_conn(cli, &st))
		return st;
	before = fetch(cli, argv[optind], xml, name, sizeof(name), &st);
	if (!before)
		return st;
	if (write_temp(before, xml, path, sizeof(path)) < 0) {
		free(before);
		return CLI_FAIL;
	}
	if (run_editor(path) < 0) {
		fprintf(stderr, "virtkit: instance '%s' is unchanged\n", name);
		st = CLI_FAIL;
		goto out;
	}
	after = cli_read_file(path, &len);
	if (!after) {
		st = CLI_FAIL;
		goto out;
	}
	if (same_text(before, after)) {
		printf("No changes: instance '%s' is unchanged\n", name);
		goto out;
	}
	i = virtkit_instance_update(cli->conn, name, after, len, &err);
	if (!i) {
		cli_print_error(err ? virtkit_error_message(err) : "out of memory");
		fprintf(stderr,
		        "virtkit: instance '%s' is unchanged; the edited copy is kept in '%s'\n",
		        name, path);
		free(before);
		free(after);
		return cli_exit_code(err);
	}
	if (cli->json) {
		cli_print_json(virtkit_instance_json(i));
	} else {
		cli_print_warnings(i);
		printf("Updated instance '%s'\n", name);
	}
	virtkit_instance_free(i);
out:
	unlink(path);
	free(before);
	free(after);
	return st;
}
