/* SPDX-License-Identifier: MIT */
/*
 * bench/oci-true harness: N sequential `RUNTIME --root STATE run --bundle B
 * bench` and print "seconds peak_rss_kib failures". Built static and tiny on
 * purpose: a child's ru_maxrss starts from its parent's size at fork, so a
 * big harness (python) would hide the runtimes' own peak RSS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct timespec a, b;
	struct rusage ru;
	int n, fail = 0;

	if (argc != 5) {
		fprintf(stderr, "usage: harness RUNTIME STATE BUNDLE N\n");
		return 2;
	}
	n = atoi(argv[4]);
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; i < n; i++) {
		pid_t pid = fork();
		int st;

		if (pid == 0) {
			char *args[] = {argv[1],    "--root", argv[2], "run",
			                "--bundle", argv[3],  "bench", NULL};

			freopen("/dev/null", "w", stdout);
			freopen("/dev/null", "w", stderr);
			execv(argv[1], args);
			_exit(127);
		}
		if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			fail++;
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	getrusage(RUSAGE_CHILDREN, &ru);
	printf("%.4f %ld %d\n", (double)(b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9,
	       ru.ru_maxrss, fail);
	return 0;
}
