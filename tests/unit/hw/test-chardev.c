/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the character-device backends on a real loop: spec errors,
 * null, file (appends), pty (round trip through the slave, drop while nobody
 * has it open, reconnect), socket (stale file, client round trip, a new
 * client replaces the old one, input flow control, output backpressure and
 * write_ready) and the stdio escape parser.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <cmocka.h>

#include "chardev-test-util.h"
#include "common/util.h"
#include "vm/backend/chardev-internal.h"
#include "vm/chardev.h"
#include "vm/loop.h"

static char tmpdir[64];

static void tmp_path(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", tmpdir, name);
}

static void test_escape_parser(void **state)
{
	struct chardev_escape e = {0};

	/* Plain bytes pass. */
	assert_int_equal(chardev_escape_feed(&e, 'a'), CHARDEV_ESC_PASS);
	assert_int_equal(chardev_escape_feed(&e, 'x'), CHARDEV_ESC_PASS);
	/* Ctrl-A x quits. */
	assert_int_equal(chardev_escape_feed(&e, 0x01), CHARDEV_ESC_SWALLOW);
	assert_int_equal(chardev_escape_feed(&e, 'x'), CHARDEV_ESC_QUIT);
	/* Ctrl-A Ctrl-A passes exactly one Ctrl-A, and the state resets. */
	assert_int_equal(chardev_escape_feed(&e, 0x01), CHARDEV_ESC_SWALLOW);
	assert_int_equal(chardev_escape_feed(&e, 0x01), CHARDEV_ESC_PASS);
	assert_int_equal(chardev_escape_feed(&e, 0x01), CHARDEV_ESC_SWALLOW);
	assert_int_equal(chardev_escape_feed(&e, 'h'), CHARDEV_ESC_HELP);
	assert_int_equal(chardev_escape_feed(&e, 0x01), CHARDEV_ESC_SWALLOW);
	assert_int_equal(chardev_escape_feed(&e, 'b'), CHARDEV_ESC_BREAK);
	/* Unknown escapes are swallowed whole; the next byte is plain again. */
	assert_int_equal(chardev_escape_feed(&e, 0x01), CHARDEV_ESC_SWALLOW);
	assert_int_equal(chardev_escape_feed(&e, 'q'), CHARDEV_ESC_SWALLOW);
	assert_int_equal(chardev_escape_feed(&e, 'x'), CHARDEV_ESC_PASS);
	assert_int_equal(chardev_escape_feed(&e, 0x03), CHARDEV_ESC_PASS); /* Ctrl-C */
}

static void test_spec_errors_and_null(void **state)
{
	struct vm_loop *loop = vm_loop_new();
	struct vk_error err = {0};
	struct chardev *c;
	char longpath[200];

	assert_null(chardev_open(loop, "bogus", &err));
	assert_int_equal(err.code, EINVAL);
	assert_non_null(strstr(err.msg, "'bogus'"));
	vk_error_clear(&err);
	assert_null(chardev_open(loop, "socket:", &err));
	assert_int_equal(err.code, EINVAL);
	vk_error_clear(&err);
	assert_null(chardev_open(loop, "file:/nonexistent-dir/x.log", &err));
	assert_int_equal(err.code, ENOENT);
	assert_non_null(strstr(err.msg, "/nonexistent-dir/x.log"));
	vk_error_clear(&err);
	memset(longpath, 'a', sizeof(longpath));
	memcpy(longpath, "socket:/tmp/", 12);
	longpath[sizeof(longpath) - 1] = '\0';
	assert_null(chardev_open(loop, longpath, &err));
	assert_int_equal(err.code, ENAMETOOLONG);

	c = chardev_open(loop, "null", &err);
	assert_non_null(c);
	assert_int_equal(chardev_write(c, "abc", 3), 3);
	assert_null(chardev_path(c));
	assert_ptr_equal(chardev_get_loop(c), loop);
	chardev_accept_input(c);
	chardev_close(c);
	chardev_close(NULL);
	vm_loop_free(loop);
}

static void test_file_appends(void **state)
{
	struct vm_loop *loop = vm_loop_new();
	struct vk_error err = {0};
	char path[128], spec[160];
	uint8_t *data;
	size_t len;
	struct chardev *c;
	int fd;

	tmp_path(path, sizeof(path), "console.log");
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "old\n", 4), 4);
	close(fd);
	snprintf(spec, sizeof(spec), "file:%s", path);
	for (int round = 0; round < 2; round++) {
		c = chardev_open(loop, spec, &err);
		assert_non_null(c);
		assert_string_equal(chardev_path(c), path);
		assert_int_equal(chardev_write(c, round ? "def" : "abc", 3), 3);
		pump_some(loop);
		chardev_close(c);
	}
	assert_int_equal(vk_read_file(path, 1 << 20, &data, &len, NULL), 0);
	assert_int_equal(len, 10);
	assert_memory_equal(data, "old\nabcdef", 10);
	free(data);
	unlink(path);
	vm_loop_free(loop);
}

static int open_slave(const char *path)
{
	int fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK);

	assert_true(fd >= 0);
	return fd;
}

static void test_pty_round_trip(void **state)
{
	struct vm_loop *loop = vm_loop_new();
	struct vk_error err = {0};
	struct rec_client rec;
	struct termios t;
	char msg[256], buf[256];
	uint8_t big[4096];
	int pipefd[2], saved_stderr, slave;
	struct chardev *c;
	ssize_t n;

	/* The slave's path is announced on stderr. */
	assert_int_equal(pipe2(pipefd, O_NONBLOCK), 0);
	saved_stderr = dup(2);
	dup2(pipefd[1], 2);
	c = chardev_open(loop, "pty", &err);
	dup2(saved_stderr, 2);
	close(saved_stderr);
	assert_non_null(c);
	n = read(pipefd[0], msg, sizeof(msg) - 1);
	assert_true(n > 0);
	msg[n] = '\0';
	close(pipefd[0]);
	close(pipefd[1]);
	assert_true(vk_startswith(chardev_path(c), "/dev/pts/"));
	snprintf(buf, sizeof(buf), "virtkit-vm: console on %s\n", chardev_path(c));
	assert_string_equal(msg, buf);
	rec_attach(c, &rec, 1024);

	/* Nobody has the slave open: 4 MiB of output is taken and dropped. */
	memset(big, 'z', sizeof(big));
	for (int i = 0; i < 1024; i++)
		assert_int_equal(chardev_write(c, big, sizeof(big)), sizeof(big));

	/* Open the slave: raw mode, input reaches the client, output comes back. */
	slave = open_slave(chardev_path(c));
	assert_int_equal(tcgetattr(slave, &t), 0);
	assert_int_equal(t.c_lflag & (ICANON | ECHO | ISIG), 0);
	assert_int_equal(write(slave, "hello", 5), 5);
	assert_true(pump_until(loop, &rec.len, 5));
	assert_memory_equal(rec.buf, "hello", 5);
	assert_int_equal(chardev_write(c, "world", 5), 5);
	read_until(slave, loop, buf, sizeof(buf), "world");
	assert_string_equal(buf, "world"); /* nothing stale from before */

	/* The slave closes: output is dropped again instead of piling up. */
	close(slave);
	pump_some(loop);
	for (int i = 0; i < 1024; i++)
		assert_int_equal(chardev_write(c, big, sizeof(big)), sizeof(big));

	/* Somebody opens it again: the console comes back. */
	slave = open_slave(chardev_path(c));
	assert_int_equal(write(slave, "again", 5), 5);
	assert_true(pump_until(loop, &rec.len, 10));
	assert_memory_equal(rec.buf + 5, "again", 5);
	assert_int_equal(chardev_write(c, "back", 4), 4);
	read_until(slave, loop, buf, sizeof(buf), "back");
	assert_non_null(strstr(buf, "back"));
	close(slave);
	chardev_close(c);
	vm_loop_free(loop);
}

static int connect_unix(const char *path)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);

	assert_true(fd >= 0);
	assert_true(strlen(path) < sizeof(addr.sun_path));
	memcpy(addr.sun_path, path, strlen(path) + 1);
	assert_int_equal(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	return fd;
}

static void test_socket_files(void **state)
{
	struct vm_loop *loop = vm_loop_new();
	struct vk_error err = {0};
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	char path[128], spec[160];
	struct chardev *c, *c2;
	struct stat st;
	int fd;

	tmp_path(path, sizeof(path), "stale.sock");
	snprintf(spec, sizeof(spec), "socket:%s", path);
	/* A socket file nobody listens on is replaced. */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(strlen(path) < sizeof(addr.sun_path));
	memcpy(addr.sun_path, path, strlen(path) + 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	close(fd);
	c = chardev_open(loop, spec, &err);
	assert_non_null(c);
	/* A live one is not. */
	c2 = chardev_open(loop, spec, &err);
	assert_null(c2);
	assert_int_equal(err.code, EADDRINUSE);
	vk_error_clear(&err);
	/* Closing removes the socket file. */
	chardev_close(c);
	assert_int_equal(lstat(path, &st), -1);
	/* Anything that is not a socket is left alone. */
	fd = open(path, O_WRONLY | O_CREAT, 0644);
	close(fd);
	assert_null(chardev_open(loop, spec, &err));
	assert_int_equal(err.code, EEXIST);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	unlink(path);
	vm_loop_free(loop);
}

static void test_socket_clients(void **state)
{
	struct vm_loop *loop = vm_loop_new();
	struct vk_error err = {0};
	struct rec_client rec;
	char path[128], spec[160], buf[256];
	uint8_t chunk[4096];
	struct chardev *c;
	int a, b;
	size_t n, total = 0;
	bool short_write = false;

	tmp_path(path, sizeof(path), "console.sock");
	snprintf(spec, sizeof(spec), "socket:%s", path);
	c = chardev_open(loop, spec, &err);
	assert_non_null(c);
	assert_string_equal(chardev_path(c), path);
	rec_attach(c, &rec, 1024);
	/* No client: output is kept and handed to the next client first. */
	assert_int_equal(chardev_write(c, "kept", 4), 4);

	a = connect_unix(path);
	assert_int_equal(write(a, "ping", 4), 4);
	assert_true(pump_until(loop, &rec.len, 4));
	assert_memory_equal(rec.buf, "ping", 4);
	assert_int_equal(chardev_write(c, "pong", 4), 4);
	read_until(a, loop, buf, sizeof(buf), "pong");
	assert_string_equal(buf, "keptpong");

	/* A second client replaces the first, which sees EOF. */
	b = connect_unix(path);
	assert_int_equal(write(b, "2", 1), 1);
	assert_true(pump_until(loop, &rec.len, 5));
	assert_int_equal(rec.buf[4], '2');
	assert_int_equal(read_until(a, loop, buf, sizeof(buf), "never"), 0);
	close(a);
	assert_int_equal(chardev_write(c, "two", 3), 3);
	read_until(b, loop, buf, sizeof(buf), "two");
	assert_string_equal(buf, "two");

	/* Input flows only as fast as the client takes it. */
	rec.cap = rec.len + 2;
	assert_int_equal(write(b, "abcdef", 6), 6);
	assert_true(pump_until(loop, &rec.len, 7));
	pump_some(loop);
	assert_int_equal(rec.len, 7);
	rec.cap = 1024;
	chardev_accept_input(c);
	assert_true(pump_until(loop, &rec.len, 11));
	assert_memory_equal(rec.buf + 5, "abcdef", 6);

	/* A client that does not read: output backs up, then write_ready. */
	memset(chunk, 'o', sizeof(chunk));
	for (int i = 0; i < 4096 && !short_write; i++) {
		n = chardev_write(c, chunk, sizeof(chunk));
		total += n;
		short_write = n < sizeof(chunk);
	}
	assert_true(short_write);
	assert_true(total >= CHARDEV_OUTQ_SIZE);
	assert_int_equal(rec.write_ready, 0);
	for (uint64_t end = vk_now_ns() + WAIT_NS; !rec.write_ready && vk_now_ns() < end;) {
		while (read(b, chunk, sizeof(chunk)) > 0)
			;
		vm_loop_poll(loop, 10 * 1000 * 1000);
	}
	assert_int_equal(rec.write_ready, 1);

	/* The client leaves: output is dropped, nothing blocks. */
	close(b);
	pump_some(loop);
	for (int i = 0; i < 1024; i++)
		assert_int_equal(chardev_write(c, chunk, sizeof(chunk)), sizeof(chunk));
	chardev_close(c);
	vm_loop_free(loop);
}

static int setup_tmp(void **state)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/vk-test-chardev-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_tmp(void **state)
{
	return rmdir(tmpdir);
}

/* Output while nobody is connected: the newest 64 KiB wait for the next client, in order. */
static void test_socket_backlog(void **state)
{
	struct vm_loop *loop = vm_loop_new();
	struct vk_error err = {0};
	char path[128], spec[160];
	static char got[70000];
	uint8_t chunk[1000];
	struct chardev *c;
	size_t len = 0;
	int a;

	tmp_path(path, sizeof(path), "backlog.sock");
	snprintf(spec, sizeof(spec), "socket:%s", path);
	c = chardev_open(loop, spec, &err);
	assert_non_null(c);
	/* 70 chunks of 1000 bytes, each filled with its number: chunks 0-4 overflow. */
	for (int i = 0; i < 70; i++) {
		memset(chunk, 'A' + i % 26, sizeof(chunk));
		assert_int_equal(chardev_write(c, chunk, sizeof(chunk)), sizeof(chunk));
	}
	a = connect_unix(path);
	for (int tries = 0; tries < 500 && len < 65536; tries++) {
		ssize_t n;
		vm_loop_poll(loop, 10 * 1000000);
		n = read(a, got + len, sizeof(got) - len);
		if (n > 0)
			len += (size_t)n;
	}
	assert_int_equal(len, 65536);
	/* 4464 bytes were dropped: the first kept is byte 464 of chunk 4; the last is chunk 69's. */
	assert_int_equal(got[0], 'A' + 4);
	assert_int_equal(got[535], 'A' + 4);
	assert_int_equal(got[536], 'A' + 5);
	assert_int_equal(got[65535], 'A' + 69 % 26);
	/* Once delivered, the backlog is gone: a second client gets only new output. */
	close(a);
	pump_some(loop);
	a = connect_unix(path);
	pump_some(loop);
	assert_int_equal(chardev_write(c, "new", 3), 3);
	len = read_until(a, loop, got, sizeof(got), "new");
	assert_int_equal(len, 3);
	close(a);
	chardev_close(c);
	vm_loop_free(loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_escape_parser),  cmocka_unit_test(test_spec_errors_and_null),
	        cmocka_unit_test(test_file_appends),   cmocka_unit_test(test_pty_round_trip),
	        cmocka_unit_test(test_socket_files),   cmocka_unit_test(test_socket_clients),
	        cmocka_unit_test(test_socket_backlog),
	};

	return cmocka_run_group_tests(tests, setup_tmp, teardown_tmp);
}
