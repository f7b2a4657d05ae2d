/* SPDX-License-Identifier: MIT */
/*
 * ps [--format table|json] ID [ps options]: json lists the pids of the
 * container's cgroup; table runs ps(1) (default -ef) and keeps the header and
 * the lines whose PID column belongs to the container. A stopped container
 * lists what is left in its cgroup, as with runc (containerd asks).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup.h"
#include "cmd.h"
#include "container.h"

static bool has_pid(const pid_t *pids, size_t n, long pid)
{
	for (size_t i = 0; i < n; i++)
		if (pids[i] == pid)
			return true;
	return false;
}

static int table(char **ps_args, int n_args, const pid_t *pids, size_t n, struct vk_error *err)
{
	char *argv[64] = {"ps"}, *line = NULL, *save;
	int pfd[2], pid_col = -1, argc = 1, status;
	size_t cap = 0;
	FILE *f;
	pid_t child;

	for (int i = 0; i < n_args && argc < 62; i++)
		argv[argc++] = ps_args[i];
	if (argc == 1)
		argv[argc++] = "-ef";
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return vk_error_errno(err, errno, "cannot run ps");
	child = fork();
	if (child < 0)
		return vk_error_errno(err, errno, "cannot run ps");
	if (child == 0) {
		dup2(pfd[1], 1);
		execvp("ps", argv);
		_exit(127);
	}
	close(pfd[1]);
	f = fdopen(pfd[0], "r");
	for (bool header = true; f && getline(&line, &cap, f) > 0; header = false) {
		char copy[4096], *tok;
		int col = 0;

		snprintf(copy, sizeof(copy), "%s", line);
		for (tok = strtok_r(copy, " \t\n", &save); tok;
		     tok = strtok_r(NULL, " \t\n", &save), col++) {
			if (header && strcmp(tok, "PID") == 0)
				pid_col = col;
			if (!header && col == pid_col)
				break;
		}
		if (header) {
			fputs(line, stdout);
			if (pid_col < 0) {
				free(line);
				fclose(f);
				waitpid(child, &status, 0);
				return vk_error_set(err, EINVAL, "ps: no PID column in its output");
			}
		} else if (tok && has_pid(pids, n, strtol(tok, NULL, 10))) {
			fputs(line, stdout);
		}
	}
	free(line);
	if (f)
		fclose(f);
	waitpid(child, &status, 0);
	return 0;
}

int cmd_ps(struct oci_globals *g, int argc, char **argv, struct vk_error *err)
{
	static const struct option opts[] = {
	        {"format", required_argument, NULL, 'f'},
	        {NULL, 0, NULL, 0},
	};
	struct oci_state st = {0};
	struct oci_cgroup *cg;
	enum oci_status status;
	bool json = false;
	pid_t *pids = NULL;
	size_t n = 0;
	const char *id;
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "+f:", opts, NULL)) != -1) {
		if (c == 'f' && (strcmp(optarg, "json") == 0 || strcmp(optarg, "table") == 0))
			json = strcmp(optarg, "json") == 0;
		else
			return vk_error_set(err, EINVAL, "ps: --format must be table or json");
	}
	r = cmd_id(argc, argv, "ps", &id, err);
	if (!r)
		r = oci_container_load(g->root, id, &st, &status, err);
	if (r < 0)
		return r;
	/* Stopped too, as runc: what is left in its cgroup (nothing once it is gone). */
	cg = oci_cgroup_from_json(st.cgroup_json, err);
	r = cg ? oci_cgroup_pids(cg, &pids, &n, err) : -EIO;
	if (r == -ENOENT && status == OCI_STATUS_STOPPED) {
		vk_error_clear(err);
		r = 0;
	}
	oci_cgroup_free(cg);
	oci_state_clear(&st);
	if (r < 0)
		return r;
	if (json) {
		json_object *a = json_object_new_array();

		for (size_t i = 0; i < n; i++)
			json_object_array_add(a, json_object_new_int(pids[i]));
		cmd_print_json(a, false);
		json_object_put(a);
	} else {
		r = table(argv + optind + 1, argc - optind - 1, pids, n, err);
	}
	free(pids);
	return r;
}
