/* SPDX-License-Identifier: MIT */
/*
 * virtkit start, stop, kill, restart, pause, resume, undefine: each takes one
 * or more instances (names or UUIDs), acts on them in order, reports each
 * (a line per instance, or one JSON array with --format json; errors on
 * standard error) and exits with the highest status of them.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cli/cli.h"

enum verb { V_START, V_STOP, V_KILL, V_RESTART, V_PAUSE, V_RESUME, V_UNDEFINE };

struct action {
	enum verb v;
	const char *verb; /* "start", for the JSON results */
	const char *done; /* "Started", for the lines */
	unsigned flags;   /* stop: VIRTKIT_STOP_FORCE */
	int timeout;      /* stop, restart: 0 = the daemon's default */
};

static int parse_timeout(const char *s, int *out)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end || v < 1 || v > 3600)
		return cli_usage("--timeout must be a number of seconds from 1 to 3600");
	*out = (int)v;
	return 0;
}

/* What one action came to, beyond success, for the line or the JSON. */
struct outcome {
	const char *done; /* replaces the action's "Stopped" when set */
	char note[160];   /* said in parentheses after the line */
	bool escalated;   /* a graceful stop had to kill */
	bool forced;      /* the plug was pulled (stop --force) */
};

/*
 * Progress of a graceful stop on a terminal: the daemon answers once the
 * instance is off (or the timeout has passed), which can be many seconds.
 */
struct progress {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done, running;
	const char *name;
	int timeout; /* 0: the daemon's default */
};

static void *progress_main(void *arg)
{
	struct progress *p = arg;
	struct timespec start, dl;
	long secs;

	clock_gettime(CLOCK_REALTIME, &start);
	pthread_mutex_lock(&p->lock);
	for (secs = 1; !p->done; secs++) {
		dl = start;
		dl.tv_sec += secs;
		while (!p->done && pthread_cond_timedwait(&p->cond, &p->lock, &dl) != ETIMEDOUT)
			;
		if (p->done)
			break;
		if (p->timeout)
			fprintf(stderr,
			        "\rStopping instance '%s': asked it to shut down, waiting %ld s of "
			        "%d",
			        p->name, secs, p->timeout);
		else
			fprintf(stderr,
			        "\rStopping instance '%s': asked it to shut down, waiting %ld s",
			        p->name, secs);
		fflush(stderr);
	}
	if (secs > 1)
		fprintf(stderr, "\r\033[K"); /* the answer's line takes its place */
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

static void progress_start(struct progress *p, const struct cli *cli, const struct action *a,
                           const char *name)
{
	memset(p, 0, sizeof(*p));
	if (cli->json || !isatty(STDERR_FILENO) ||
	    !(a->v == V_RESTART || (a->v == V_STOP && !(a->flags & VIRTKIT_STOP_FORCE))))
		return;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	p->name = name;
	p->timeout = a->timeout;
	p->running = pthread_create(&p->thread, NULL, progress_main, p) == 0;
}

static void progress_end(struct progress *p)
{
	if (!p->running)
		return;
	pthread_mutex_lock(&p->lock);
	p->done = true;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
	pthread_join(p->thread, NULL);
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->lock);
}

/*
 * A stop says what it did: a graceful stop that had to kill (containers), or a
 * forced one, which pulled the plug: never a plain "Stopped" then.
 */
static int stop(struct cli *cli, const struct action *a, const char *name, struct outcome *out,
                virtkit_error **err)
{
	json_object *o, *v;
	char *reply = NULL;
	const char *type;
	int r = virtkit_instance_stop_ex(cli->conn, name, a->flags, a->timeout, &reply, err);

	o = reply ? json_tokener_parse(reply) : NULL;
	type = json_object_object_get_ex(o, "type", &v) ? json_object_get_string(v) : "";
	if (json_object_object_get_ex(o, "escalated", &v) && json_object_get_boolean(v)) {
		const char *sig = json_object_object_get_ex(o, "stop_signal", &v)
		                          ? json_object_get_string(v)
		                          : "the power-down request";
		out->escalated = true;
		snprintf(out->note, sizeof(out->note),
		         "it did not stop within %d s of %s: killed with SIGKILL",
		         json_object_get_int(json_object_object_get(o, "stop_timeout")), sig);
	}
	if (json_object_object_get_ex(o, "forced", &v) && json_object_get_boolean(v)) {
		out->forced = true;
		if (!strcmp(type, "vm")) {
			out->done = "Pulled the plug on";
			snprintf(out->note, sizeof(out->note),
			         "forced: its guest was not asked to shut down and lost what it "
			         "had not written");
		} else {
			out->done = "Killed";
			snprintf(out->note, sizeof(out->note),
			         "forced: SIGKILL, without its stop signal first");
		}
	}
	json_object_put(o);
	free(reply);
	return r;
}

static int act(struct cli *cli, const struct action *a, const char *name, struct outcome *out,
               virtkit_error **err)
{
	virtkit_conn *c = cli->conn;

	switch (a->v) {
	case V_START:
		return virtkit_instance_start(c, name, err);
	case V_STOP:
		return stop(cli, a, name, out, err);
	case V_KILL:
		return virtkit_instance_kill(c, name, err);
	case V_RESTART:
		return virtkit_instance_restart(c, name, a->timeout, err);
	case V_PAUSE:
		return virtkit_instance_pause(c, name, err);
	case V_RESUME:
		return virtkit_instance_resume(c, name, err);
	case V_UNDEFINE:
		return virtkit_instance_undefine(c, name, err);
	}
	return -1;
}

/* Apply a to argv[first..argc); the exit status is the highest of them. */
static int act_all(struct cli *cli, const struct action *a, int first, int argc, char **argv)
{
	json_object *results = cli->json ? json_object_new_array() : NULL;
	int worst = CLI_OK, st;

	if (first >= argc)
		return cli_usage("usage: virtkit %s NAME|UUID...", a->verb);
	if (!cli_conn(cli, &st))
		return st;
	for (int i = first; i < argc; i++) {
		virtkit_error *err = NULL;
		const char *msg = NULL;
		struct outcome out = {0};
		struct progress prog;
		int r;

		st = CLI_OK;
		progress_start(&prog, cli, a, argv[i]);
		r = act(cli, a, argv[i], &out, &err);
		progress_end(&prog);
		if (r < 0) {
			msg = err ? virtkit_error_message(err) : "out of memory";
			fprintf(stderr, "virtkit: %s\n", msg);
		} else if (!cli->json) {
			printf("%s instance '%s'%s%s%s\n", out.done ? out.done : a->done, argv[i],
			       out.note[0] ? " (" : "", out.note, out.note[0] ? ")" : "");
		}
		if (results) {
			json_object *o = json_object_new_object();
			json_object_object_add(o, "instance", json_object_new_string(argv[i]));
			json_object_object_add(o, "action", json_object_new_string(a->verb));
			json_object_object_add(o, "ok", json_object_new_boolean(!msg));
			if (msg)
				json_object_object_add(o, "error", json_object_new_string(msg));
			if (out.escalated)
				json_object_object_add(o, "escalated", json_object_new_boolean(1));
			if (out.forced)
				json_object_object_add(o, "forced", json_object_new_boolean(1));
			if (out.note[0])
				json_object_object_add(o, "note", json_object_new_string(out.note));
			json_object_array_add(results, o);
		}
		if (msg)
			st = cli_exit_code(err);
		if (st > worst)
			worst = st;
	}
	if (results) {
		cli_print_json_object(results);
		json_object_put(results);
	}
	return worst;
}

/* Commands without options of their own. */
static int simple(struct cli *cli, int argc, char **argv, enum verb v, const char *done)
{
	static const struct option none[] = {{NULL, 0, NULL, 0}};
	struct action a = {.v = v, .verb = argv[0], .done = done};
	int c;

	while ((c = cli_getopt_any(argc, argv, "", none)) != -1)
		return CLI_USAGE;
	return act_all(cli, &a, optind, argc, argv);
}

int cmd_start(struct cli *cli, int argc, char **argv)
{
	return simple(cli, argc, argv, V_START, "Started");
}

int cmd_kill(struct cli *cli, int argc, char **argv)
{
	return simple(cli, argc, argv, V_KILL, "Killed");
}

int cmd_pause(struct cli *cli, int argc, char **argv)
{
	return simple(cli, argc, argv, V_PAUSE, "Paused");
}

int cmd_resume(struct cli *cli, int argc, char **argv)
{
	return simple(cli, argc, argv, V_RESUME, "Resumed");
}

int cmd_undefine(struct cli *cli, int argc, char **argv)
{
	return simple(cli, argc, argv, V_UNDEFINE, "Undefined");
}

int cmd_stop(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	        {"force", no_argument, NULL, 'f'},
	        {"timeout", required_argument, NULL, 't'},
	        {NULL, 0, NULL, 0},
	};
	struct action a = {.v = V_STOP, .verb = "stop", .done = "Stopped"};
	int c;

	while ((c = cli_getopt_any(argc, argv, "ft:", opts)) != -1) {
		if (c == 'f')
			a.flags |= VIRTKIT_STOP_FORCE;
		else if (c != 't' || parse_timeout(optarg, &a.timeout))
			return CLI_USAGE;
	}
	return act_all(cli, &a, optind, argc, argv);
}

int cmd_restart(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	        {"timeout", required_argument, NULL, 't'},
	        {NULL, 0, NULL, 0},
	};
	struct action a = {.v = V_RESTART, .verb = "restart", .done = "Restarted"};
	int c;

	while ((c = cli_getopt_any(argc, argv, "t:", opts)) != -1)
		if (c != 't' || parse_timeout(optarg, &a.timeout))
			return CLI_USAGE;
	return act_all(cli, &a, optind, argc, argv);
}
