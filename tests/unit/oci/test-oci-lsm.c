/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of virtkit-oci's LSM support (src/oci/lsm.c) against a fake
 * /proc and /sys in a temporary directory: which host counts as running
 * AppArmor or SELinux, the refusals, which attribute file gets what, the
 * mountLabel options, and the init stub writing the attribute right before
 * its execve (and reporting a failed write instead of running the program).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "oci/lsm.h"
#include "oci/process.h"
#include "oci/stub.h"
#include "oci/sync.h"

struct tree {
	char dir[64];
	struct oci_lsm_host host;
	char proc[128], sys[128];
};

static void put_file(const struct tree *t, const char *rel, const char *text)
{
	char path[512], *slash;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", t->dir, rel);
	/* mkdir -p of the parent */
	for (slash = strchr(path + strlen(t->dir) + 1, '/'); slash;
	     slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		mkdir(path, 0755);
		*slash = '/';
	}
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static char *read_rel(const struct tree *t, const char *rel)
{
	static char buf[512];
	char path[512];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", t->dir, rel);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_true(n >= 0);
	buf[n] = '\0';
	return buf;
}

static int setup_tree(void **state)
{
	struct tree *t = calloc(1, sizeof(*t));

	snprintf(t->dir, sizeof(t->dir), "/tmp/vk-lsm-test.XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->proc, sizeof(t->proc), "%s/proc", t->dir);
	snprintf(t->sys, sizeof(t->sys), "%s/sys", t->dir);
	mkdir(t->proc, 0755);
	mkdir(t->sys, 0755);
	t->host.proc = t->proc;
	t->host.sys = t->sys;
	t->host.check_procfs = false;
	*state = t;
	return 0;
}

static int teardown_tree(void **state)
{
	struct tree *t = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
	assert_int_equal(system(cmd), 0);
	free(t);
	return 0;
}

static void fake_apparmor(const struct tree *t, const char *enabled)
{
	put_file(t, "sys/kernel/security/apparmor/profiles", "");
	put_file(t, "sys/module/apparmor/parameters/enabled", enabled);
}

static void test_host_detection(void **state)
{
	struct tree *t = *state;

	assert_false(oci_lsm_apparmor_enabled(&t->host));
	assert_false(oci_lsm_selinux_enabled(&t->host));
	fake_apparmor(t, "N\n");
	assert_false(oci_lsm_apparmor_enabled(&t->host));
	fake_apparmor(t, "Y\n");
	assert_true(oci_lsm_apparmor_enabled(&t->host));
	put_file(t, "proc/self/mounts",
	         "proc /proc proc rw 0 0\nsysfs /sys sysfs rw 0 0\n"
	         "tmpfs /selinuxfs tmpfs rw 0 0\n");
	assert_false(oci_lsm_selinux_enabled(&t->host)); /* a path is not a type */
	put_file(t, "proc/self/mounts",
	         "proc /proc proc rw 0 0\nselinuxfs /sys/fs/selinux selinuxfs rw 0 0\n");
	assert_true(oci_lsm_selinux_enabled(&t->host));
}

static void test_check_refuses(void **state)
{
	struct tree *t = *state;
	struct oci_process p = {.apparmor_profile = (char *)"prof"};
	struct vk_error err = {0};

	assert_int_equal(oci_lsm_check(&t->host, &p, NULL, &err), -ENOTSUP);
	assert_string_equal(err.msg, "process.apparmorProfile 'prof' cannot be applied: AppArmor "
	                             "is not enabled on this host");
	fake_apparmor(t, "Y");
	assert_int_equal(oci_lsm_check(&t->host, &p, NULL, &err), 0);

	p.apparmor_profile = NULL;
	p.selinux_label = (char *)"u:r:t:s0";
	assert_int_equal(oci_lsm_check(&t->host, &p, NULL, &err), -ENOTSUP);
	assert_non_null(strstr(err.msg, "process.selinuxLabel 'u:r:t:s0' cannot be applied"));
	assert_int_equal(oci_lsm_check(&t->host, NULL, "u:o:f:s0", &err), -ENOTSUP);
	assert_non_null(strstr(err.msg, "linux.mountLabel 'u:o:f:s0' cannot be applied: SELinux"));
	put_file(t, "proc/self/mounts", "selinuxfs /sys/fs/selinux selinuxfs rw 0 0\n");
	assert_int_equal(oci_lsm_check(&t->host, &p, "u:o:f:s0", &err), 0);
	/* nothing asked: nothing refused, whatever the host */
	assert_int_equal(oci_lsm_check(&t->host, NULL, NULL, &err), 0);
}

static int open_proc(const struct tree *t)
{
	int fd = open(t->proc, O_PATH | O_DIRECTORY | O_CLOEXEC);

	assert_true(fd >= 0);
	return fd;
}

static void test_apparmor_attr(void **state)
{
	struct tree *t = *state;
	struct oci_process p = {.apparmor_profile = (char *)"vk-profile"};
	struct oci_lsm_exec x = {0};
	struct vk_error err = {0};
	char path[256];
	int procfd;

	put_file(t, "proc/thread-self/attr/exec", "");
	put_file(t, "proc/thread-self/attr/apparmor/exec", "");
	procfd = open_proc(t);
	/* The per-LSM file when the kernel has it ... */
	assert_int_equal(oci_lsm_prepare(&t->host, procfd, &p, &x, &err), 0);
	assert_int_equal(x.n, 1);
	assert_string_equal(read_rel(t, "proc/thread-self/attr/apparmor/exec"), "");
	assert_int_equal(oci_lsm_write(&x, &err), 0);
	assert_int_equal(x.n, 0);
	assert_string_equal(read_rel(t, "proc/thread-self/attr/apparmor/exec"), "exec vk-profile");
	assert_string_equal(read_rel(t, "proc/thread-self/attr/exec"), "");
	/* ... attr/exec on kernels without it. */
	snprintf(path, sizeof(path), "%s/thread-self/attr/apparmor/exec", t->proc);
	assert_int_equal(unlink(path), 0);
	snprintf(path, sizeof(path), "%s/thread-self/attr/apparmor", t->proc);
	assert_int_equal(rmdir(path), 0);
	assert_int_equal(oci_lsm_prepare(&t->host, procfd, &p, &x, &err), 0);
	assert_int_equal(oci_lsm_write(&x, &err), 0);
	assert_string_equal(read_rel(t, "proc/thread-self/attr/exec"), "exec vk-profile");
	close(procfd);
}

static void test_selinux_attr(void **state)
{
	struct tree *t = *state;
	struct oci_process p = {.selinux_label = (char *)"system_u:system_r:container_t:s0"};
	struct oci_lsm_exec x = {0};
	struct vk_error err = {0};
	int procfd;

	put_file(t, "proc/thread-self/attr/exec", "");
	procfd = open_proc(t);
	assert_int_equal(oci_lsm_prepare(&t->host, procfd, &p, &x, &err), 0);
	assert_int_equal(oci_lsm_write(&x, &err), 0);
	assert_string_equal(read_rel(t, "proc/thread-self/attr/exec"),
	                    "system_u:system_r:container_t:s0");
	/* nothing asked: nothing opened or written */
	p.selinux_label = NULL;
	assert_int_equal(oci_lsm_prepare(&t->host, procfd, &p, &x, &err), 0);
	assert_int_equal(x.n, 0);
	close(procfd);
}

static void test_attr_errors(void **state)
{
	struct tree *t = *state;
	struct oci_process p = {.selinux_label = (char *)"l"};
	struct oci_lsm_exec x = {0};
	struct vk_error err = {0};
	int procfd = open_proc(t);

	/* No attribute file: a clear error naming it. */
	assert_int_equal(oci_lsm_prepare(&t->host, procfd, &p, &x, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "cannot apply process.selinuxLabel: cannot open"));
	assert_non_null(strstr(err.msg, "/thread-self/attr/exec"));
	assert_int_equal(x.n, 0);
	/* A file that is not on procfs is refused when the host struct asks for procfs. */
	put_file(t, "proc/thread-self/attr/exec", "");
	t->host.check_procfs = true;
	assert_int_equal(oci_lsm_prepare(&t->host, procfd, &p, &x, &err), -EPERM);
	assert_non_null(strstr(err.msg, "is not on procfs"));
	t->host.check_procfs = false;
	close(procfd);
}

static void test_mount_data(void **state)
{
	char *out = (char *)"unchanged";

	(void)state;
	assert_int_equal(oci_lsm_mount_data("tmpfs", "mode=755", NULL, &out), 0);
	assert_null(out);
	assert_int_equal(oci_lsm_mount_data("tmpfs", "mode=755,size=65536k", "u:o:f:s0", &out), 0);
	assert_string_equal(out, "mode=755,size=65536k,context=\"u:o:f:s0\"");
	free(out);
	assert_int_equal(oci_lsm_mount_data("devpts", NULL, "u:o:f:s0", &out), 0);
	assert_string_equal(out, "context=\"u:o:f:s0\"");
	free(out);
	for (const char *const *ty =
	             (const char *const[]){"proc", "sysfs", "cgroup", "mqueue", NULL};
	     *ty; ty++) {
		assert_int_equal(oci_lsm_mount_data(*ty, "x", "u:o:f:s0", &out), 0);
		assert_null(out);
	}
}

/* The init stub: the attribute is written (and its fd closed) before the program runs. */
static void test_stub_writes_attr(void **state)
{
	struct tree *t = *state;
	struct oci_process p = {.apparmor_profile = (char *)"vk-stub"};
	struct oci_lsm_exec x = {0};
	struct vk_error err = {0};
	char check[64];
	int procfd, status;
	pid_t pid;

	if (!oci_stub_available()) {
		skip();
		return;
	}
	put_file(t, "proc/thread-self/attr/exec", "");
	procfd = open_proc(t);
	assert_int_equal(oci_lsm_prepare(&t->host, procfd, &p, &x, &err), 0);
	/* The program fails unless the attribute fd is gone by the time it runs. */
	snprintf(check, sizeof(check), "test ! -e /proc/self/fd/%d", x.fd[0]);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char *argv[] = {(char *)"sh", (char *)"-c", check, NULL};
		char *envp[] = {NULL};
		int stub = oci_stub_create(&err);

		if (stub >= 0)
			oci_stub_exec(stub, -1, 's', &x, "/bin/sh", argv, envp, &err);
		_exit(99);
	}
	oci_lsm_exec_clear(&x);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_string_equal(read_rel(t, "proc/thread-self/attr/exec"), "exec vk-stub");
	close(procfd);
}

/* A failed write stops the exec and is reported on the error channel. */
static void test_stub_reports_failed_write(void **state)
{
	struct oci_lsm_exec x = {0};
	struct vk_error err = {0};
	struct sync_msg m;
	int pipefd[2], sp[2], status;
	pid_t pid;

	(void)state;
	if (!oci_stub_available()) {
		skip();
		return;
	}
	assert_int_equal(pipe(pipefd), 0);
	assert_int_equal(sync_pair(sp, &err), 0);
	/* A read-only descriptor: the write fails with EBADF. */
	x.n = 1;
	x.fd[0] = pipefd[0];
	x.value[0] = (char *)"exec vk-denied";
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char *argv[] = {(char *)"sh", (char *)"-c", (char *)"echo ran > /dev/null; exit 0",
		                NULL};
		char *envp[] = {NULL};
		int stub = oci_stub_create(&err);

		close(sp[0]);
		if (stub >= 0)
			oci_stub_exec(stub, sp[1], 's', &x, "/bin/sh", argv, envp, &err);
		_exit(99);
	}
	close(sp[1]);
	assert_int_equal(sync_recv(sp[0], &m, NULL, 5000), 0);
	assert_int_equal(m.type, SYNC_EXEC_ERROR);
	assert_int_equal(m.value, EBADF);
	assert_string_equal(m.text,
	                    "cannot apply the process's security profile \"exec vk-denied\"");
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 126);
	close(sp[0]);
	close(pipefd[0]);
	close(pipefd[1]);
}

/* Without the stub (sealed re-exec path) oci_proc_exec writes it before its execve. */
static void test_proc_exec_writes_attr(void **state)
{
	struct tree *t = *state;
	struct oci_process p = {.selinux_label = (char *)"u:r:direct:s0"};
	char *argv[] = {(char *)"true", NULL}, *envp[] = {NULL};
	struct vk_error err = {0};
	int procfd, status;
	pid_t pid;

	p.args.v = argv;
	p.args.n = 1;
	put_file(t, "proc/thread-self/attr/exec", "");
	procfd = open_proc(t);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct oci_proc_ctx pc = {.proc = &p, .proc_fd = -1, .envp = envp};

		snprintf(pc.exe, sizeof(pc.exe), "/bin/true");
		if (oci_lsm_prepare(&t->host, procfd, &p, &pc.lsm, &err) == 0)
			oci_proc_exec(&pc, &err);
		_exit(99);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_string_equal(read_rel(t, "proc/thread-self/attr/exec"), "u:r:direct:s0");
	close(procfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_host_detection, setup_tree, teardown_tree),
	        cmocka_unit_test_setup_teardown(test_check_refuses, setup_tree, teardown_tree),
	        cmocka_unit_test_setup_teardown(test_apparmor_attr, setup_tree, teardown_tree),
	        cmocka_unit_test_setup_teardown(test_selinux_attr, setup_tree, teardown_tree),
	        cmocka_unit_test_setup_teardown(test_attr_errors, setup_tree, teardown_tree),
	        cmocka_unit_test(test_mount_data),
	        cmocka_unit_test_setup_teardown(test_stub_writes_attr, setup_tree, teardown_tree),
	        cmocka_unit_test(test_stub_reports_failed_write),
	        cmocka_unit_test_setup_teardown(test_proc_exec_writes_attr, setup_tree,
	                                        teardown_tree),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
