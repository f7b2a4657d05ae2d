/* SPDX-License-Identifier: MIT */
/*
 * checkpoint [options] ID and restore [options] ID: runc's options, parsed
 * here; the work is in checkpoint.c, restore.c and criu.c.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "container.h"

enum {
	OPT_IMAGE = 256,
	OPT_WORK,
	OPT_PARENT,
	OPT_LEAVE,
	OPT_TCP,
	OPT_SKIP_IN_FLIGHT,
	OPT_LINK_REMAP,
	OPT_EXT_UNIX,
	OPT_SHELL,
	OPT_LAZY,
	OPT_STATUS_FD,
	OPT_PAGE_SERVER,
	OPT_LOCKS,
	OPT_PRE_DUMP,
	OPT_CG_MODE,
	OPT_EMPTY_NS,
	OPT_DEDUP,
	OPT_CONSOLE,
	OPT_PID_FILE,
	OPT_NO_SUBREAPER,
	OPT_NO_PIVOT,
	OPT_LSM_PROFILE,
	OPT_LSM_MOUNT,
};

/* The options both commands share (restore refuses the dump-only ones). */
static const struct option criu_opts[] = {
        {"image-path", required_argument, NULL, OPT_IMAGE},
        {"work-path", required_argument, NULL, OPT_WORK},
        {"parent-path", required_argument, NULL, OPT_PARENT},
        {"leave-running", no_argument, NULL, OPT_LEAVE},
        {"tcp-established", no_argument, NULL, OPT_TCP},
        {"tcp-skip-in-flight", no_argument, NULL, OPT_SKIP_IN_FLIGHT},
        {"link-remap", no_argument, NULL, OPT_LINK_REMAP},
        {"ext-unix-sk", no_argument, NULL, OPT_EXT_UNIX},
        {"shell-job", no_argument, NULL, OPT_SHELL},
        {"lazy-pages", no_argument, NULL, OPT_LAZY},
        {"status-fd", required_argument, NULL, OPT_STATUS_FD},
        {"page-server", required_argument, NULL, OPT_PAGE_SERVER},
        {"file-locks", no_argument, NULL, OPT_LOCKS},
        {"pre-dump", no_argument, NULL, OPT_PRE_DUMP},
        {"manage-cgroups-mode", required_argument, NULL, OPT_CG_MODE},
        {"empty-ns", required_argument, NULL, OPT_EMPTY_NS},
        {"auto-dedup", no_argument, NULL, OPT_DEDUP},
        /* restore only */
        {"bundle", required_argument, NULL, 'b'},
        {"detach", no_argument, NULL, 'd'},
        {"console-socket", required_argument, NULL, OPT_CONSOLE},
        {"pid-file", required_argument, NULL, OPT_PID_FILE},
        {"no-subreaper", no_argument, NULL, OPT_NO_SUBREAPER},
        {"no-pivot", no_argument, NULL, OPT_NO_PIVOT},
        {"lsm-profile", required_argument, NULL, OPT_LSM_PROFILE},
        {"lsm-mount-context", required_argument, NULL, OPT_LSM_MOUNT},
        {NULL, 0, NULL, 0},
};

/* path made absolute against the working directory (malloc'd into *out). */
static int absolute(const char *path, const char *opt, char **out, struct vk_error *err)
{
	char cwd[PATH_MAX];

	if (path[0] == '/') {
		*out = strdup(path);
	} else {
		if (!getcwd(cwd, sizeof(cwd)))
			return vk_error_errno(err, errno, "%s: cannot find the working directory",
			                      opt);
		if (asprintf(out, "%s/%s", cwd, path) < 0)
			*out = NULL;
	}
	return *out ? 0 : vk_error_set(err, ENOMEM, "out of memory");
}

struct parsed {
	struct oci_criu_opts c;
	struct oci_restore_opts r;
	char *image, *work;
};

static int parse(struct oci_globals *g, int argc, char **argv, bool restore, struct parsed *p,
                 struct vk_error *err)
{
	const char *cmd = restore ? "restore" : "checkpoint";
	const char *image = "checkpoint", *work = NULL;
	int c, r;

	p->c.criu = g->criu;
	p->r.bundle = ".";
	optind = 0;
	while ((c = getopt_long(argc, argv, restore ? "+b:d" : "+", criu_opts, NULL)) != -1) {
		bool dump_only = false, restore_only = false;

		switch (c) {
		case OPT_IMAGE:
			image = optarg;
			break;
		case OPT_WORK:
			work = optarg;
			break;
		case OPT_PARENT:
			p->c.parent_path = optarg;
			dump_only = true;
			break;
		case OPT_LEAVE:
			p->c.leave_running = dump_only = true;
			break;
		case OPT_TCP:
			p->c.tcp_established = true;
			break;
		case OPT_SKIP_IN_FLIGHT:
			p->c.tcp_skip_in_flight = dump_only = true;
			break;
		case OPT_LINK_REMAP:
			p->c.link_remap = dump_only = true;
			break;
		case OPT_EXT_UNIX:
			p->c.ext_unix_sk = true;
			break;
		case OPT_SHELL:
			p->c.shell_job = true;
			break;
		case OPT_LAZY:
			p->c.lazy_pages = true;
			break;
		case OPT_STATUS_FD:
			p->c.status_fd = optarg;
			break;
		case OPT_PAGE_SERVER:
			p->c.page_server = optarg;
			break;
		case OPT_LOCKS:
			p->c.file_locks = true;
			break;
		case OPT_PRE_DUMP:
			p->c.pre_dump = dump_only = true;
			break;
		case OPT_CG_MODE:
			p->c.cgroups_mode = optarg;
			break;
		case OPT_EMPTY_NS:
			p->c.empty_ns = optarg;
			break;
		case OPT_DEDUP:
			p->c.auto_dedup = true;
			break;
		case 'b':
			p->r.bundle = optarg;
			restore_only = true;
			break;
		case 'd':
			p->r.detach = restore_only = true;
			break;
		case OPT_CONSOLE:
			p->r.console_socket = optarg;
			restore_only = true;
			break;
		case OPT_PID_FILE:
			p->r.pid_file = optarg;
			restore_only = true;
			break;
		case OPT_NO_SUBREAPER:
			p->r.no_subreaper = restore_only = true;
			break;
		case OPT_NO_PIVOT:
			/* CRIU restores the mount namespace itself: there is no pivot to skip. */
			restore_only = true;
			break;
		case OPT_LSM_PROFILE:
		case OPT_LSM_MOUNT:
			if (!restore)
				return vk_error_set(err, EINVAL, "checkpoint: invalid option");
			return vk_error_set(err, EOPNOTSUPP,
			                    "restore: %s is not supported: virtkit-oci cannot have "
			                    "CRIU apply another LSM label; restore with the "
			                    "checkpointed one (leave the option out)",
			                    c == OPT_LSM_PROFILE ? "--lsm-profile"
			                                         : "--lsm-mount-context");
		default:
			return vk_error_set(err, EINVAL, "%s: invalid option", cmd);
		}
		if ((dump_only && restore) || (restore_only && !restore))
			return vk_error_set(err, EINVAL, "%s: option %s is not one of %s's", cmd,
			                    argv[optind - 1], cmd);
	}
	r = cmd_id(argc, argv, cmd, &p->r.id, err);
	if (!r)
		r = absolute(image, "--image-path", &p->image, err);
	if (!r && work)
		r = absolute(work, "--work-path", &p->work, err);
	if (r < 0)
		return r;
	p->c.image_path = p->image;
	p->c.work_path = p->work;
	return 0;
}

int cmd_checkpoint(struct oci_globals *g, int argc, char **argv, struct vk_error *err)
{
	struct parsed p = {0};
	int r = parse(g, argc, argv, false, &p, err);

	if (!r)
		r = oci_container_checkpoint(g->root, p.r.id, &p.c, err);
	free(p.image);
	free(p.work);
	return r;
}

int cmd_restore(struct oci_globals *g, int argc, char **argv, struct vk_error *err)
{
	struct parsed p = {0};
	int r = parse(g, argc, argv, true, &p, err);

	if (!r) {
		p.r.root = g->root;
		p.r.criu = p.c;
		r = oci_container_restore(&p.r, err);
	}
	free(p.image);
	free(p.work);
	return r;
}
