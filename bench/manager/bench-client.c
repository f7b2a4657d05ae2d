/* SPDX-License-Identifier: MIT */
/*
 * The client side of bench/manager, through libvirtkit (what every client
 * pays): list latency, and container operations timed one by one.
 *   bench-client SOCKET define PREFIX KERNEL N   define N VMs PREFIX-0.. (timed)
 *   bench-client SOCKET list N              p50/p99/mean of N list calls
 *   bench-client SOCKET oneshot NAME N      start + wait for the exit event, N times
 *   bench-client SOCKET startkill NAME N    start, then kill, N times (each timed)
 * Prints "key value" lines (microseconds).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
