/* SPDX-License-Identifier: MIT */
/* kill [--all] ID [SIGNAL]: SIGNAL as a number, "TERM" or "SIGTERM" (default TERM). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmd.h"
#include "container.h"

static const struct {
	const char *name;
	int sig;
} signals[] = {
        {"HUP", SIGHUP},       {"INT", SIGINT},   {"QUIT", SIGQUIT},     {"ILL", SIGILL},
        {"TRAP", SIGTRAP},     {"ABRT", SIGABRT}, {"IOT", SIGIOT},       {"BUS", SIGBUS},
        {"FPE", SIGFPE},       {"KILL", SIGKILL}, {"USR1", SIGUSR1},     {"SEGV", SIGSEGV},
        {"USR2", SIGUSR2},     {"PIPE", SIGPIPE}, {"ALRM", SIGALRM},     {"TERM", SIGTERM},
        {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD}, {"CONT", SIGCONT},     {"STOP", SIGSTOP},
        {"TSTP", SIGTSTP},     {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},     {"URG", SIGURG},
        {"XCPU", SIGXCPU},     {"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF},
        {"WINCH", SIGWINCH},   {"IO", SIGIO},     {"POLL", SIGPOLL},     {"PWR", SIGPWR},
        {"SYS", SIGSYS},
};

static int parse_signal(const char *s, int *sig, struct vk_error *err)
{
	const char *n = s;
	char *end;
	long v;

	v = strtol(s, &end, 10);
	if (*s && !*end) {
		if (v <= 0 || v > SIGRTMAX)
			return vk_error_set(err, EINVAL, "invalid signal '%s'", s);
		*sig = (int)v;
		return 0;
	}
	if (strncasecmp(n, "SIG", 3) == 0)
		n += 3;
	for (size_t i = 0; i < ARRAY_SIZE(signals); i++) {
		if (strcasecmp(signals[i].name, n) == 0) {
			*sig = signals[i].sig;
			return 0;
		}
	}
	if (strncasecmp(n, "RTMIN+", 6) == 0 && (v = strtol(n + 6, &end, 10)) >= 0 && !*end &&
	    SIGRTMIN + v <= SIGRTMAX) {
		*sig = SIGRTMIN + (int)v;
		return 0;
	}
	return vk_error_set(err, EINVAL, "invalid signal '%s'", s);
}

int cmd_kill(struct oci_globals *g, int argc, char **argv, struct vk_error *err)
{
	static const struct option opts[] = {
	        {"all", no_argument, NULL, 'a'},
	        {NULL, 0, NULL, 0},
	};
	bool all = false;
	int c, r, sig = SIGTERM;
	const char *id;

	optind = 0;
	while ((c = getopt_long(argc, argv, "+a", opts, NULL)) != -1) {
		if (c != 'a')
			return vk_error_set(err, EINVAL, "kill: invalid option");
		all = true;
	}
	r = cmd_id(argc, argv, "kill", &id, err);
	if (r < 0)
		return r;
	if (argc - optind > 1) {
		r = parse_signal(argv[optind + 1], &sig, err);
		if (r < 0)
			return r;
	}
	return oci_container_kill(g->root, id, sig, all, err);
}
