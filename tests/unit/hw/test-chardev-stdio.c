/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the stdio character device in child processes: on a pty
 * (raw mode while open; Ctrl-A escapes; the terminal restored after an error
 * exit, SIGTERM, abort(), a SIGSEGV and Ctrl-A x; O_NONBLOCK never leaks into
 * the shared descriptors; a hangup restores it before its descriptor goes),
 * on pipes (bytes pass through, EOF on stdin ends input without quitting or
 * spinning) and on a socket (its shared flags put back when input ends).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cmocka.h>

#include "chardev-test-util.h"
#include "vm/chardev.h"
#include "vm/loop.h"

enum child_mode { EXIT_ERROR, SIGNAL_TERM, ABORT, SEGV, QUIT_KEY };

/* Reachable from globals, so LeakSanitizer does not mind exit() in the child. */
static struct vm_loop *child_loop;
static struct chardev *child_chr;
static struct rec_client child_rec;

static VK_NORETURN void child_main(enum child_mode mode, const char *slave, int sync_fd, int go_fd)
{
	struct vk_error err = {0};
	char go;
	int fd;

	setsid();
	fd = open(slave, O_RDWR); /* becomes the controlling terminal */
	if (fd < 0)
		_exit(90);
	ioctl(fd, TIOCSCTTY, 0);
	dup2(fd, 0);
	dup2(fd, 1);
	if (fd > 1)
		close(fd);
	child_loop = vm_loop_new();
	child_chr = chardev_open(child_loop, "stdio", &err);
	if (!child_chr)
		_exit(91);
	rec_attach(child_chr, &child_rec, sizeof(child_rec.buf));
	child_rec.echo = child_chr;
	if (write(sync_fd, "R", 1) != 1)
		_exit(92);
	/* Wait until the parent has looked at the raw terminal. */
	if (read(go_fd, &go, 1) != 1)
		_exit(96);
	switch (mode) {
	case EXIT_ERROR:
		exit(3);
	case SIGNAL_TERM:
		for (;;)
			pause();
	case ABORT:
		abort();
	case SEGV:
		raise(SIGSEGV);
		_exit(93);
	case QUIT_KEY:
		/* Echo what comes in until Ctrl-A x exits (status 0). */
		for (uint64_t end = vk_now_ns() + WAIT_NS; vk_now_ns() < end;)
			vm_loop_poll(child_loop, 20 * 1000 * 1000);
		_exit(94);
	}
	_exit(95);
}

static int wait_child(pid_t pid)
{
	int status = 0;

	for (uint64_t end = vk_now_ns() + WAIT_NS; vk_now_ns() < end;) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return status;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	fail_msg("child %d did not exit", (int)pid);
	return status;
}

/* The O_NONBLOCK flag of the child's fd n, from /proc/PID/fdinfo. */
static bool child_fd_nonblocking(pid_t pid, int n)
{
	char path[64], line[128];
	unsigned flags = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", (int)pid, n);
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "flags: %o", &flags) == 1)
			break;
	fclose(f);
	return flags & O_NONBLOCK;
}

/* A new pty, its slave path in name; returns the master. */
static int open_pty(char *name, size_t size)
{
	int master = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK);

	assert_true(master >= 0);
	assert_int_equal(grantpt(master), 0);
	assert_int_equal(unlockpt(master), 0);
	assert_int_equal(ptsname_r(master, name, size), 0);
	return master;
}

/* The settings of the terminal at fd are still `want`. */
static void assert_termios_is(int fd, const struct termios *want)
{
	struct termios now;

	assert_int_equal(tcgetattr(fd, &now), 0);
	assert_int_equal(now.c_lflag, want->c_lflag);
	assert_int_equal(now.c_iflag, want->c_iflag);
	assert_int_equal(now.c_oflag, want->c_oflag);
	assert_int_equal(now.c_cflag, want->c_cflag);
}

static void run_tty_case(enum child_mode mode)
{
	struct termios orig, now;
	int master, slave, sync[2], go[2], status;
	char name[64], c = 0, buf[1024];
	struct pollfd pfd;
	pid_t pid;

	master = open_pty(name, sizeof(name));
	slave = open(name, O_RDWR | O_NOCTTY);
	assert_true(slave >= 0);
	assert_int_equal(tcgetattr(slave, &orig), 0);
	assert_true(orig.c_lflag & ICANON);
	assert_int_equal(pipe(sync), 0);
	assert_int_equal(pipe(go), 0);

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(sync[0]);
		close(go[1]);
		close(master);
		close(slave);
		child_main(mode, name, sync[1], go[0]);
	}
	close(sync[1]);
	close(go[0]);
	pfd = (struct pollfd){.fd = sync[0], .events = POLLIN};
	assert_int_equal(poll(&pfd, 1, (int)(WAIT_NS / 1000000)), 1);
	assert_int_equal(read(sync[0], &c, 1), 1);
	assert_int_equal(c, 'R');
	close(sync[0]);

	/* Raw while the chardev is open; output post-processing kept. */
	assert_int_equal(tcgetattr(slave, &now), 0);
	assert_int_equal(now.c_lflag & (ICANON | ECHO | ISIG), 0);
	assert_true(now.c_oflag & OPOST);
	/* Nothing non-blocking in the descriptions shared with the shell. */
	assert_false(child_fd_nonblocking(pid, 0));
	assert_false(child_fd_nonblocking(pid, 1));
	assert_int_equal(write(go[1], "G", 1), 1);
	close(go[1]);

	switch (mode) {
	case SIGNAL_TERM:
		kill(pid, SIGTERM);
		break;
	case QUIT_KEY:
		/* Typed bytes reach the client (echoed back); C-a C-a is one C-a. */
		assert_int_equal(write(master, "hi\x01\x01!", 5), 5);
		read_until(master, NULL, buf, sizeof(buf), "hi\x01!");
		assert_string_equal(buf, "hi\x01!");
		assert_int_equal(write(master, "\x01h", 2), 2);
		read_until(master, NULL, buf, sizeof(buf), "send C-a");
		assert_non_null(strstr(buf, "C-a x    exit"));
		assert_int_equal(write(master, "\x01x", 2), 2);
		break;
	default:
		break;
	}
	status = wait_child(pid);
	switch (mode) {
	case EXIT_ERROR:
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 3);
		break;
	case SIGNAL_TERM:
		assert_true(WIFSIGNALED(status));
		assert_int_equal(WTERMSIG(status), SIGTERM);
		break;
	case ABORT:
		assert_true(WIFSIGNALED(status));
		assert_int_equal(WTERMSIG(status), SIGABRT);
		break;
	case SEGV:
		/* Killed, or reported and ended by a sanitizer's own handler. */
		assert_false(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		assert_false(WIFEXITED(status) && WEXITSTATUS(status) >= 90);
		break;
	case QUIT_KEY:
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
		break;
	}
	/* The terminal is exactly as it was. */
	assert_termios_is(slave, &orig);
	close(slave);
	close(master);
}

static void test_restore_after_error_exit(void **state)
{
	run_tty_case(EXIT_ERROR);
}

static void test_restore_after_sigterm(void **state)
{
	run_tty_case(SIGNAL_TERM);
}

static void test_restore_after_abort(void **state)
{
	run_tty_case(ABORT);
}

static void test_restore_after_segv(void **state)
{
	run_tty_case(SEGV);
}

static void test_escape_keys_and_quit(void **state)
{
	run_tty_case(QUIT_KEY);
}

static void test_pipes_pass_through_and_eof(void **state)
{
	int in[2], out[2], status;
	char buf[256];
	pid_t pid;

	assert_int_equal(pipe(in), 0);
	assert_int_equal(pipe(out), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct vk_error err = {0};
		int idle = 0, i;

		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		child_loop = vm_loop_new();
		child_chr = chardev_open(child_loop, "stdio", &err);
		if (!child_chr)
			_exit(91);
		rec_attach(child_chr, &child_rec, sizeof(child_rec.buf));
		child_rec.echo = child_chr;
		/* After the input and its EOF, the loop must go idle (no POLLHUP spin). */
		for (i = 0; i < 2000 && idle < 3; i++) {
			int n = vm_loop_poll(child_loop, 50 * 1000 * 1000);
			idle = (child_rec.len >= 4 && n == 0) ? idle + 1 : 0;
		}
		if (idle < 3)
			_exit(92);
		chardev_write(child_chr, "alive", 5);
		chardev_close(child_chr);
		vm_loop_free(child_loop);
		_exit(0);
	}
	close(in[0]);
	close(out[1]);
	/* Ctrl-A x is just data when stdin is not a terminal. */
	assert_int_equal(write(in[1], "a\x01x\n", 4), 4);
	close(in[1]);
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	read_until(out[0], NULL, buf, sizeof(buf), "alive");
	assert_string_equal(buf, "a\x01x\nalive");
	status = wait_child(pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	close(out[0]);
}

/*
 * The terminal hangs up (its master closes): input ends, and the descriptor
 * the terminal was restored through is closed. Whatever reuses that number
 * afterwards (here another terminal) must not get the first one's settings
 * at exit.
 */
static void test_hangup_leaves_later_fds_alone(void **state)
{
	char a_name[64], b_name[64], c = 0;
	int a_master, b_master, b_slave, sync[2], status;
	struct termios b_raw;
	struct pollfd pfd;
	pid_t pid;

	a_master = open_pty(a_name, sizeof(a_name));
	b_master = open_pty(b_name, sizeof(b_name));
	b_slave = open(b_name, O_RDWR | O_NOCTTY);
	assert_true(b_slave >= 0);
	assert_int_equal(tcgetattr(b_slave, &b_raw), 0);
	cfmakeraw(&b_raw);
	assert_int_equal(tcsetattr(b_slave, TCSANOW, &b_raw), 0);
	assert_int_equal(pipe(sync), 0);

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct vk_error err = {0};
		int fd, next;

		close(sync[0]);
		close(a_master);
		close(b_master);
		close(b_slave);
		/* Not the controlling terminal: its hangup sends no SIGHUP. */
		fd = open(a_name, O_RDWR | O_NOCTTY);
		if (fd < 0)
			_exit(90);
		dup2(fd, 0);
		dup2(fd, 1);
		close(fd);
		child_loop = vm_loop_new();
		/* The lowest free number: where the chardev's own stdin lands. */
		next = open("/dev/null", O_RDONLY);
		close(next);
		child_chr = chardev_open(child_loop, "stdio", &err);
		if (!child_chr)
			_exit(91);
		rec_attach(child_chr, &child_rec, sizeof(child_rec.buf));
		if (fcntl(next, F_GETFD) < 0 || write(sync[1], "R", 1) != 1)
			_exit(92);
		for (uint64_t end = vk_now_ns() + WAIT_NS; fcntl(next, F_GETFD) >= 0;) {
			if (vk_now_ns() > end)
				_exit(93);
			vm_loop_poll(child_loop, 20 * 1000 * 1000);
		}
		/* Input ended and its descriptor is closed: the number is free again. */
		if (open(b_name, O_RDWR | O_NOCTTY) != next)
			_exit(94);
		exit(0); /* atexit handlers run */
	}
	close(sync[1]);
	pfd = (struct pollfd){.fd = sync[0], .events = POLLIN};
	assert_int_equal(poll(&pfd, 1, (int)(WAIT_NS / 1000000)), 1);
	assert_int_equal(read(sync[0], &c, 1), 1);
	assert_int_equal(c, 'R');
	close(sync[0]);
	close(a_master); /* hang up the child's terminal */
	status = wait_child(pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_termios_is(b_slave, &b_raw);
	close(b_slave);
	close(b_master);
}

/*
 * stdin a socket: it cannot be reopened, so the chardev sets O_NONBLOCK on
 * the description it shares with whoever else holds it, and must put the
 * flags back. Input ends (EOF) long before the process does.
 */
static void test_socket_stdin_flags_restored_at_eof(void **state)
{
	int sv[2], out[2], status;
	pid_t pid;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(pipe(out), 0);
	assert_false(fcntl(sv[1], F_GETFL) & O_NONBLOCK);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct vk_error err = {0};
		int idle = 0;

		dup2(sv[1], 0);
		dup2(out[1], 1);
		close(sv[0]);
		close(sv[1]);
		close(out[0]);
		close(out[1]);
		child_loop = vm_loop_new();
		child_chr = chardev_open(child_loop, "stdio", &err);
		if (!child_chr)
			_exit(91);
		rec_attach(child_chr, &child_rec, sizeof(child_rec.buf));
		if (!(fcntl(0, F_GETFL) & O_NONBLOCK))
			_exit(92); /* the case under test did not happen */
		/* Input, then EOF: the loop goes idle once both are dealt with. */
		for (int i = 0; i < 2000 && idle < 3; i++) {
			int n = vm_loop_poll(child_loop, 50 * 1000 * 1000);
			idle = (child_rec.len >= 2 && n == 0) ? idle + 1 : 0;
		}
		if (idle < 3)
			_exit(93);
		/* Input is over: the shared description is as it was, while we still run. */
		if (fcntl(0, F_GETFL) & O_NONBLOCK)
			_exit(94);
		_exit(0);
	}
	close(out[1]);
	assert_int_equal(write(sv[0], "hi", 2), 2);
	assert_int_equal(shutdown(sv[0], SHUT_WR), 0);
	status = wait_child(pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_false(fcntl(sv[1], F_GETFL) & O_NONBLOCK);
	close(sv[0]);
	close(sv[1]);
	close(out[0]);
}

static void test_only_one_stdio(void **state)
{
	struct vm_loop *loop = vm_loop_new();
	struct vk_error err = {0};
	struct chardev *a, *b;

	a = chardev_open(loop, "stdio", &err);
	assert_non_null(a);
	b = chardev_open(loop, "stdio", &err);
	assert_null(b);
	assert_int_equal(err.code, EBUSY);
	chardev_close(a);
	/* And it can be opened again once closed. */
	a = chardev_open(loop, "stdio", &err);
	assert_non_null(a);
	chardev_close(a);
	vm_loop_free(loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_restore_after_error_exit),
	        cmocka_unit_test(test_restore_after_sigterm),
	        cmocka_unit_test(test_restore_after_abort),
	        cmocka_unit_test(test_restore_after_segv),
	        cmocka_unit_test(test_escape_keys_and_quit),
	        cmocka_unit_test(test_pipes_pass_through_and_eof),
	        cmocka_unit_test(test_hangup_leaves_later_fds_alone),
	        cmocka_unit_test(test_socket_stdin_flags_restored_at_eof),
	        cmocka_unit_test(test_only_one_stdio),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
