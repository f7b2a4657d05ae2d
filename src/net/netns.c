/* SPDX-License-Identifier: MIT */
/* Pinned network namespaces and code run inside them (see netns.h). */
#include "net/netns.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

struct job {
	const char *path;
	int (*fn)(void *arg, struct vk_error *err);
	void *arg;
	struct vk_error *err;
	int result;
};

/* On its own thread: unshare(CLONE_NEWNET) then pin the new namespace. */
static void *create_thread(void *opaque)
{
	struct job *j = opaque;

	if (unshare(CLONE_NEWNET) < 0) {
		j->result = vk_error_set(j->err, errno, "cannot create a network namespace: %s%s",
		                         strerror(errno),
		                         errno == EPERM ? " (needs CAP_SYS_ADMIN)" : "");
		return NULL;
	}
	if (mount("/proc/thread-self/ns/net", j->path, NULL, MS_BIND, NULL) < 0) {
		j->result = vk_error_errno(j->err, errno,
		                           "cannot pin the network namespace at '%s'", j->path);
		return NULL;
	}
	j->result = 0;
	return NULL; /* the thread ends; the bind mount holds the namespace */
}

static void *run_thread(void *opaque)
{
	struct job *j = opaque;
	int fd = open(j->path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		j->result = vk_error_errno(j->err, errno, "cannot open the network namespace '%s'",
		                           j->path);
		return NULL;
	}
	if (setns(fd, CLONE_NEWNET) < 0) {
		j->result = vk_error_errno(j->err, errno, "cannot enter the network namespace '%s'",
		                           j->path);
		close(fd);
		return NULL;
	}
	close(fd);
	j->result = j->fn(j->arg, j->err);
	return NULL;
}

static int on_thread(void *(*body)(void *), struct job *j)
{
	pthread_t t;
	int r = pthread_create(&t, NULL, body, j);

	if (r != 0)
		return vk_error_errno(j->err, r, "cannot start a thread");
	pthread_join(t, NULL);
	return j->result;
}

int netns_create(const char *path, struct vk_error *err)
{
	struct job j = {.path = path, .err = err, .result = -EIO};
	int fd, r;

	fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
	if (fd < 0)
		return vk_error_errno(err, errno, "cannot create '%s'", path);
	close(fd);
	r = on_thread(create_thread, &j);
	if (r < 0)
		unlink(path);
	return r;
}

int netns_remove(const char *path)
{
	if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
		return -errno;
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

int netns_run(const char *path, int (*fn)(void *arg, struct vk_error *err), void *arg,
              struct vk_error *err)
{
	struct job j = {.path = path, .fn = fn, .arg = arg, .err = err, .result = -EIO};

	return on_thread(run_thread, &j);
}

int sysctl_set(const char *key, const char *value, struct vk_error *err)
{
	char path[256];
	size_t len = strlen(value);
	ssize_t w;
	int fd, e;

	if (strstr(key, "..") || key[0] == '/' ||
	    (size_t)snprintf(path, sizeof(path), "/proc/sys/%s", key) >= sizeof(path))
		return vk_error_set(err, EINVAL, "invalid sysctl '%.64s'", key);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return vk_error_errno(err, errno, "cannot set %s", key);
	w = write(fd, value, len);
	e = errno;
	close(fd);
	if (w != (ssize_t)len)
		return vk_error_errno(err, w < 0 ? e : EIO, "cannot set %s to '%s'", key, value);
	return 0;
}
