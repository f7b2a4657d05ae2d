/* SPDX-License-Identifier: MIT */
/* Namespace joining, the loopback of a new network namespace, user namespace id maps. */
#include "ns.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"

const int oci_ns_all[8] = {CLONE_NEWUSER, CLONE_NEWPID,  CLONE_NEWNET,    CLONE_NEWIPC,
                           CLONE_NEWUTS,  CLONE_NEWTIME, CLONE_NEWCGROUP, CLONE_NEWNS};

const char *oci_ns_proc_name(int type)
{
	switch (type) {
	case CLONE_NEWUSER:
		return "user";
	case CLONE_NEWPID:
		return "pid";
	case CLONE_NEWNET:
		return "net";
	case CLONE_NEWIPC:
		return "ipc";
	case CLONE_NEWUTS:
		return "uts";
	case CLONE_NEWTIME:
		return "time";
	case CLONE_NEWCGROUP:
		return "cgroup";
	case CLONE_NEWNS:
		return "mnt";
	}
	return "?";
}

int oci_net_loopback_up(struct vk_error *err)
{
	struct ifreq ifr = {0};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r = 0;

	if (fd < 0)
		return vk_error_errno(err, errno, "cannot bring up lo in the network namespace");
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) {
		r = vk_error_errno(err, errno, "cannot bring up lo in the network namespace");
	} else if (!(ifr.ifr_flags & IFF_UP)) {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
			r = vk_error_errno(err, errno,
			                   "cannot bring up lo in the network namespace");
	}
	close(fd);
	return r;
}

int oci_ns_join_path(int type, const char *path, struct vk_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return vk_error_errno(err, errno, "cannot open %s namespace '%s'",
		                      oci_ns_name(type), path);
	if (setns(fd, type) < 0) {
		int e = errno;

		close(fd);
		if (e == EINVAL)
			return vk_error_set(err, EINVAL,
			                    "cannot join %s namespace '%s': not a %s namespace",
			                    oci_ns_name(type), path, oci_ns_name(type));
		return vk_error_errno(err, e, "cannot join %s namespace '%s'", oci_ns_name(type),
		                      path);
	}
	close(fd);
	return 0;
}

bool oci_idmap_to_container(const struct oci_idmap *m, size_t n, uint32_t host, uint32_t *out)
{
	for (size_t i = 0; i < n; i++) {
		if (host >= m[i].host_id && host - m[i].host_id < m[i].size) {
			*out = m[i].container_id + (host - m[i].host_id);
			return true;
		}
	}
	return false;
}

static int write_proc(pid_t pid, const char *file, const char *text, struct vk_error *err)
{
	char path[64];
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return vk_error_errno(err, errno, "cannot open %s", path);
	n = write(fd, text, strlen(text));
	if (n != (ssize_t)strlen(text)) {
		int e = n < 0 ? errno : EIO;

		close(fd);
		return vk_error_errno(err, e, "cannot write the user namespace map %s ('%s')", path,
		                      text);
	}
	close(fd);
	return 0;
}

static void format_map(const struct oci_idmap *m, size_t n, char *buf, size_t cap)
{
	buf[0] = '\0';
	for (size_t i = 0; i < n; i++)
		snprintf(buf + strlen(buf), cap - strlen(buf), "%u %u %u\n", m[i].container_id,
		         m[i].host_id, m[i].size);
}

/* newuidmap PID cid hid size ... (setuid helpers from the uidmap package). */
static int run_helper(const char *helper, pid_t pid, const struct oci_idmap *m, size_t n,
                      struct vk_error *err)
{
	char *argv[3 + 3 * 340 + 1];
	char nums[3 * 340][12], pidbuf[16];
	size_t a = 0, k = 0;
	pid_t child;
	int status;

	snprintf(pidbuf, sizeof(pidbuf), "%d", pid);
	argv[a++] = (char *)helper;
	argv[a++] = pidbuf;
	for (size_t i = 0; i < n && i < 340; i++) {
		snprintf(nums[k], sizeof(nums[k]), "%u", m[i].container_id);
		argv[a++] = nums[k++];
		snprintf(nums[k], sizeof(nums[k]), "%u", m[i].host_id);
		argv[a++] = nums[k++];
		snprintf(nums[k], sizeof(nums[k]), "%u", m[i].size);
		argv[a++] = nums[k++];
	}
	argv[a] = NULL;
	child = fork();
	if (child < 0)
		return vk_error_errno(err, errno, "cannot run %s", helper);
	if (child == 0) {
		execvp(helper, argv);
		_exit(127);
	}
	while (waitpid(child, &status, 0) < 0) {
		if (errno != EINTR)
			return vk_error_errno(err, errno, "cannot wait for %s", helper);
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return vk_error_set(err, EPERM,
		                    "%s failed (status %d): a rootless user namespace with more "
		                    "than the caller's own id needs entries in /etc/subuid and "
		                    "/etc/subgid",
		                    helper, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	return 0;
}

int oci_idmaps_write(pid_t pid, const struct oci_spec *spec, bool rootless, struct vk_error *err)
{
	const struct oci_linux *l = &spec->linux_;
	struct oci_idmap self_uid = {0, geteuid(), 1}, self_gid = {0, getegid(), 1};
	const struct oci_idmap *um = l->uid_mappings, *gm = l->gid_mappings;
	size_t nu = l->n_uid_mappings, ng = l->n_gid_mappings;
	char buf[8192];
	int r;

	if (!nu) {
		um = &self_uid;
		nu = 1;
	}
	if (!ng) {
		gm = &self_gid;
		ng = 1;
	}
	if (rootless) {
		bool simple_u = nu == 1 && um[0].size == 1 && um[0].host_id == geteuid();
		bool simple_g = ng == 1 && gm[0].size == 1 && gm[0].host_id == getegid();

		if (simple_g) {
			r = write_proc(pid, "setgroups", "deny", err);
			if (r < 0)
				return r;
			format_map(gm, ng, buf, sizeof(buf));
			r = write_proc(pid, "gid_map", buf, err);
		} else {
			r = run_helper("newgidmap", pid, gm, ng, err);
		}
		if (r < 0)
			return r;
		if (simple_u) {
			format_map(um, nu, buf, sizeof(buf));
			return write_proc(pid, "uid_map", buf, err);
		}
		return run_helper("newuidmap", pid, um, nu, err);
	}
	format_map(gm, ng, buf, sizeof(buf));
	r = write_proc(pid, "gid_map", buf, err);
	if (r < 0)
		return r;
	format_map(um, nu, buf, sizeof(buf));
	return write_proc(pid, "uid_map", buf, err);
}
