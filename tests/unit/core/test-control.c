/* SPDX-License-Identifier: MIT */
/* Unit tests of the control socket: requests, replies, errors, events, hostile clients. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/util.h"
#include "vm/loop.h"
#include "vm/main/control.h"

struct fake_vm {
	bool paused;
	int quits;
	struct vm_control *ctl;
};

static void fake_status(void *opaque, struct json_object *reply)
{
	struct fake_vm *vm = opaque;
	json_object_object_add(reply, "state",
	                       json_object_new_string(vm->paused ? "paused" : "running"));
}

static int fake_pause(void *opaque, struct vk_error *err)
{
	struct fake_vm *vm = opaque;
	vm->paused = true;
	vm_control_event(vm->ctl, "paused", NULL, NULL);
	return 0;
}

static int fake_resume(void *opaque, struct vk_error *err)
{
	struct fake_vm *vm = opaque;
	vm->paused = false;
	return 0;
}

static int fake_powerdown(void *opaque, struct vk_error *err)
{
	return vk_error_set(err, ENOTSUP, "no power button");
}

static void fake_quit(void *opaque)
{
	((struct fake_vm *)opaque)->quits++;
}

static const struct vm_control_ops fake_ops = {
        .status = fake_status,
        .pause = fake_pause,
        .resume = fake_resume,
        .powerdown = fake_powerdown,
        .quit = fake_quit,
};

static int connect_to(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* Send a line, run the loop until a full reply line arrives, return it (static buffer). */
static const char *roundtrip(struct vm_loop *loop, int fd, const char *line)
{
	static char buf[4096];
	size_t len = 0;

	if (line)
		assert_int_equal(write(fd, line, strlen(line)), (ssize_t)strlen(line));
	for (int i = 0; i < 200 && !memchr(buf, '\n', len); i++) {
		ssize_t n;
		vm_loop_poll(loop, 10 * 1000000);
		n = recv(fd, buf + len, sizeof(buf) - 1 - len, MSG_DONTWAIT);
		if (n > 0)
			len += (size_t)n;
		buf[len] = '\0';
	}
	assert_non_null(memchr(buf, '\n', len));
	*strchr(buf, '\n') = '\0';
	return buf;
}

static void test_control_protocol(void **state)
{
	char path[] = "/tmp/vk-ctl-XXXXXX";
	char sock[64];
	struct vm_loop *loop = vm_loop_new();
	struct fake_vm vm = {0};
	struct vk_error err = {0};
	const char *r;
	int fd;

	assert_non_null(mkdtemp(path));
	snprintf(sock, sizeof(sock), "%s/ctl", path);
	vm.ctl = vm_control_create(loop, sock, &fake_ops, &vm, &err);
	assert_non_null(vm.ctl);
	fd = connect_to(sock);

	r = roundtrip(loop, fd, "{\"cmd\":\"status\",\"id\":7}\n");
	assert_non_null(strstr(r, "\"ok\":true"));
	assert_non_null(strstr(r, "\"state\":\"running\""));
	assert_non_null(strstr(r, "\"id\":7"));

	/* pause: the event and the reply both arrive, event first. */
	r = roundtrip(loop, fd, "{\"cmd\":\"pause\"}\n");
	assert_string_equal(r, "{\"event\":\"paused\"}");
	assert_true(vm.paused);

	r = roundtrip(loop, fd, "{\"cmd\":\"bogus\"}\n");
	/* (the pause reply was still queued: read past it) */
	if (strstr(r, "\"state\":\"paused\""))
		r = roundtrip(loop, fd, NULL);
	assert_non_null(strstr(r, "\"ok\":false"));
	assert_non_null(strstr(r, "unknown command"));

	r = roundtrip(loop, fd, "this is not json\n");
	assert_non_null(strstr(r, "malformed request"));
	r = roundtrip(loop, fd, "[1,2]\n");
	assert_non_null(strstr(r, "malformed request"));
	r = roundtrip(loop, fd, "{\"cmd\":42}\n");
	assert_non_null(strstr(r, "missing string member"));
	r = roundtrip(loop, fd, "{\"cmd\":\"powerdown\"}\n");
	assert_non_null(strstr(r, "no power button"));

	/* The connection still works after errors. */
	r = roundtrip(loop, fd, "{\"cmd\":\"resume\"}\n");
	assert_non_null(strstr(r, "\"state\":\"running\""));
	r = roundtrip(loop, fd, "{\"cmd\":\"quit\"}\n");
	assert_non_null(strstr(r, "\"ok\":true"));
	assert_int_equal(vm.quits, 1);

	close(fd);
	vm_control_destroy(vm.ctl);
	assert_int_equal(access(sock, F_OK), -1); /* socket file removed */
	rmdir(path);
	vm_loop_free(loop);
}

static void test_control_long_line(void **state)
{
	char path[] = "/tmp/vk-ctl-XXXXXX";
	char sock[64];
	struct vm_loop *loop = vm_loop_new();
	struct fake_vm vm = {0};
	size_t big = 200 * 1024;
	char *line = malloc(big + 2);
	const char *r;
	ssize_t sent = 0;
	int fd;

	assert_non_null(mkdtemp(path));
	snprintf(sock, sizeof(sock), "%s/ctl", path);
	vm.ctl = vm_control_create(loop, sock, &fake_ops, &vm, NULL);
	assert_non_null(vm.ctl);
	fd = connect_to(sock);
	memset(line, 'x', big);
	line[big] = '\n';
	vk_set_nonblock(fd, true);
	while ((size_t)sent < big + 1) {
		ssize_t n = send(fd, line + sent, big + 1 - (size_t)sent, MSG_DONTWAIT);
		if (n > 0)
			sent += n;
		vm_loop_poll(loop, 1000000);
	}
	r = roundtrip(loop, fd, NULL);
	assert_non_null(strstr(r, "too long"));
	/* The tail of the long line is discarded, then the next request works. */
	r = roundtrip(loop, fd, "{\"cmd\":\"status\"}\n");
	assert_non_null(strstr(r, "\"ok\":true"));
	free(line);
	close(fd);
	vm_control_destroy(vm.ctl);
	rmdir(path);
	vm_loop_free(loop);
}

/* A successor (a restarted VM) took the path: our exit must not remove its socket. */
static void test_control_leaves_successor_socket(void **state)
{
	char path[] = "/tmp/vk-ctl-XXXXXX";
	struct vm_loop *loop = vm_loop_new();
	struct vk_error err = {0};
	struct vm_control *old, *successor;
	char sock[64];

	assert_non_null(mkdtemp(path));
	snprintf(sock, sizeof(sock), "%s/ctl", path);
	old = vm_control_create(loop, sock, &fake_ops, NULL, &err);
	assert_non_null(old);
	successor = vm_control_create(loop, sock, &fake_ops, NULL, &err);
	assert_non_null(successor);
	vm_control_destroy(old);
	assert_int_equal(access(sock, F_OK), 0);
	close(connect_to(sock)); /* and it is the successor's, still listening */
	vm_control_destroy(successor);
	assert_int_equal(access(sock, F_OK), -1);
	rmdir(path);
	vm_loop_free(loop);
}

static void test_control_refuses_non_socket(void **state)
{
	char path[] = "/tmp/vk-ctl-XXXXXX";
	struct vm_loop *loop = vm_loop_new();
	struct vk_error err = {0};
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	close(fd);
	assert_null(vm_control_create(loop, path, &fake_ops, NULL, &err));
	assert_non_null(strstr(err.msg, "not a socket"));
	assert_int_equal(access(path, F_OK), 0); /* not deleted */
	unlink(path);
	vm_loop_free(loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_control_protocol),
	        cmocka_unit_test(test_control_long_line),
	        cmocka_unit_test(test_control_refuses_non_socket),
	        cmocka_unit_test(test_control_leaves_successor_socket),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
