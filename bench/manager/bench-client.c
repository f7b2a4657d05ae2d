/* SPDX-License-Identifier: MIT */
/*
 * The client side of bench/manager, through libvirtkit (what every client
 * pays): list latency, and container operations timed one by one.
 *   bench-client SOCKET define PREFIX KERNEL N   define N VMs PREFIX-0.. (timed)
 *   bench-client SOCKET list N              p50/p99/mean of N list calls
 *   bench-client SOCKET oneshot NAME N      start + wait for the exit event, N times
 *   bench-client SOCKET startkill NAME N    start, then kill, N times (each timed)
 *   bench-client SOCKET compare RUNTIME ROOT TRUE-BUNDLE SLEEP-BUNDLE TRUE-NAME SLEEP-NAME N
 *       the runtime alone and virtkitd in alternation, timed the same way: run-to-exit
 *       (`RUNTIME run` vs start + exit event), start (create + start vs start), kill
 *       (kill + delete vs kill)
 * Prints "key value" lines (microseconds).
 */
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <virtkit/virtkit.h>

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void report(const char *what, double *v, int n)
{
	double sum = 0;
	int i;

	qsort(v, (size_t)n, sizeof(*v), cmp);
	for (i = 0; i < n; i++)
		sum += v[i];
	printf("%s_p50_us %.0f\n%s_p99_us %.0f\n%s_mean_us %.0f\n", what, v[n / 2], what,
	       v[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1], what, sum / n);
}

extern char **environ;

/* Run RUNTIME --root ROOT args... with stdio on /dev/null; its exit status. */
static int rt(const char *runtime, const char *root, const char *a1, const char *a2, const char *a3,
              const char *a4, const char *a5)
{
	const char *argv[] = {runtime, "--root", root, a1, a2, a3, a4, a5, NULL};
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int st = -1;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	if (posix_spawn(&pid, runtime, &fa, NULL, (char *const *)argv, environ) == 0)
		waitpid(pid, &st, 0);
	posix_spawn_file_actions_destroy(&fa);
	return st;
}

/* Wait for the exit event of the instance s follows. */
static int wait_exit(virtkit_stream *s, virtkit_error **err)
{
	char *line = NULL;

	for (;;) {
		int r = virtkit_events_next(s, &line, 30000, err);
		if (r <= 0)
			return -1;
		if (strstr(line, "\"event\":\"stopped\"") ||
		    strstr(line, "\"event\":\"crashed\"")) {
			free(line);
			return 0;
		}
		free(line);
	}
}

static int compare(virtkit_conn *c, char **a, int n, virtkit_error **err)
{
	const char *runtime = a[0], *root = a[1], *btrue = a[2], *bsleep = a[3];
	const char *ntrue = a[4], *nsleep = a[5];
	double *v[6];
	char id[32];
	int i, k;

	for (k = 0; k < 6; k++)
		v[k] = calloc((size_t)n, sizeof(double));
	for (i = 0; i < n; i++) {
		virtkit_stream *s;
		double t0;

		snprintf(id, sizeof(id), "bench-%d-%d", (int)getpid(), i);
		t0 = now_us();
		rt(runtime, root, "run", "--bundle", btrue, id, NULL);
		v[0][i] = now_us() - t0;
		rt(runtime, root, "delete", "-f", id, NULL, NULL);

		s = virtkit_events_open(c, -1, ntrue, err);
		t0 = now_us();
		if (!s || virtkit_instance_start(c, ntrue, err) < 0 || wait_exit(s, err) < 0)
			return -1;
		v[1][i] = now_us() - t0;
		virtkit_stream_close(s);

		t0 = now_us();
		rt(runtime, root, "create", "--bundle", bsleep, id, NULL);
		rt(runtime, root, "start", id, NULL, NULL, NULL);
		v[2][i] = now_us() - t0;
		t0 = now_us();
		rt(runtime, root, "kill", id, "KILL", NULL, NULL);
		rt(runtime, root, "delete", "-f", id, NULL, NULL);
		v[4][i] = now_us() - t0;

		t0 = now_us();
		if (virtkit_instance_start(c, nsleep, err) < 0)
			return -1;
		v[3][i] = now_us() - t0;
		t0 = now_us();
		if (virtkit_instance_kill(c, nsleep, err) < 0)
			return -1;
		v[5][i] = now_us() - t0;
	}
	report("direct_run", v[0], n);
	report("daemon_oneshot", v[1], n);
	report("direct_start", v[2], n);
	report("daemon_start", v[3], n);
	report("direct_kill", v[4], n);
	report("daemon_kill", v[5], n);
	for (k = 0; k < 6; k++)
		free(v[k]);
	return 0;
}

static int die(virtkit_error *err)
{
	fprintf(stderr, "bench-client: %s\n", virtkit_error_message(err));
	virtkit_error_free(err);
	return 1;
}

int main(int argc, char **argv)
{
	virtkit_error *err = NULL;
	virtkit_conn *c;
	double *t, *t2;
	int n, i;

	if (argc < 4)
		return 2;
	c = virtkit_connect(argv[1], &err);
	if (!c)
		return die(err);
	n = atoi(argv[argc - 1]);
	t = calloc((size_t)n, sizeof(*t));
	t2 = calloc((size_t)n, sizeof(*t2));
	if (!t || !t2 || n <= 0)
		return 2;
	if (!strcmp(argv[2], "define") && argc == 6) {
		char def[512];
		for (i = 0; i < n; i++) {
			virtkit_instance *inst;
			double t0;
			snprintf(def, sizeof(def),
			         "{\"name\":\"%s-%d\",\"type\":\"vm\",\"arch\":\"riscv64\","
			         "\"memory\":\"128M\",\"kernel\":\"%s\",\"cmdline\":\"console="
			         "ttyS0\"}",
			         argv[3], i, argv[4]);
			t0 = now_us();
			inst = virtkit_instance_define(c, def, strlen(def), &err);
			if (!inst)
				return die(err);
			t[i] = now_us() - t0;
			virtkit_instance_free(inst);
		}
		report("define", t, n);
	} else if (!strcmp(argv[2], "list")) {
		virtkit_instance **list;
		size_t count = 0;
		for (i = 0; i < n; i++) {
			double t0 = now_us();
			if (virtkit_instance_list(c, &list, &count, &err) < 0)
				return die(err);
			t[i] = now_us() - t0;
			virtkit_instance_list_free(list, count);
		}
		printf("instances %zu\n", count);
		report("list", t, n);
	} else if (!strcmp(argv[2], "oneshot")) {
		for (i = 0; i < n; i++) {
			virtkit_stream *s = virtkit_events_open(c, -1, argv[3], &err);
			char *line = NULL;
			double t0 = now_us();
			if (!s || virtkit_instance_start(c, argv[3], &err) < 0)
				return die(err);
			for (;;) {
				int r = virtkit_events_next(s, &line, 30000, &err);
				if (r <= 0)
					return die(err);
				if (strstr(line, "\"event\":\"stopped\"") ||
				    strstr(line, "\"event\":\"crashed\"")) {
					free(line);
					break;
				}
				free(line);
			}
			t[i] = now_us() - t0;
			virtkit_stream_close(s);
		}
		report("oneshot", t, n);
	} else if (!strcmp(argv[2], "compare") && argc == 10) {
		if (compare(c, argv + 3, n, &err) < 0)
			return die(err);
	} else if (!strcmp(argv[2], "startkill")) {
		for (i = 0; i < n; i++) {
			double t0 = now_us();
			if (virtkit_instance_start(c, argv[3], &err) < 0)
				return die(err);
			t[i] = now_us() - t0;
			t0 = now_us();
			if (virtkit_instance_kill(c, argv[3], &err) < 0)
				return die(err);
			t2[i] = now_us() - t0;
		}
		report("start", t, n);
		report("kill", t2, n);
	}
	free(t);
	free(t2);
	virtkit_disconnect(c);
	return 0;
}
