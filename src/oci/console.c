/* SPDX-License-Identifier: MIT */
/* pty allocation in the container, SCM_RIGHTS hand-off and a foreground proxy. */
#include "console.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "common/util.h"
#include "fsutil.h"
#include "sync.h"

int oci_console_connect(const char *path, struct vk_error *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char via[64];
	int fd, dfd = -1;
	const char *slash = strrchr(path, '/');

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return vk_error_errno(err, errno, "cannot create a socket for --console-socket");
	if (strlen(path) >= sizeof(sa.sun_path) && slash) {
		/* Long paths: go through the directory's fd. */
		char dir[4096];

		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
		dfd = open(dir[0] ? dir : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
		snprintf(via, sizeof(via), "/proc/self/fd/%d/", dfd);
		if (dfd < 0 || strlen(via) + strlen(slash + 1) >= sizeof(sa.sun_path)) {
			if (dfd >= 0)
				close(dfd);
			close(fd);
			return vk_error_set(err, ENAMETOOLONG, "--console-socket path too long: %s",
			                    path);
		}
		if (snprintf(sa.sun_path, sizeof(sa.sun_path), "%s%s", via, slash + 1) < 0)
			sa.sun_path[0] = '\0';
	} else {
		memcpy(sa.sun_path, path, strlen(path) + 1);
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		close(fd);
		if (dfd >= 0)
			close(dfd);
		return vk_error_errno(err, e, "cannot connect to --console-socket '%s'", path);
	}
	if (dfd >= 0)
		close(dfd);
	return fd;
}

int oci_console_open(int dirfd, const char *ptmx_path, unsigned rows, unsigned cols, int *master,
                     int *slave, char *slave_name, size_t cap, struct vk_error *err)
{
	struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
	int unlock = 0, n = 0, m;

	m = dirfd >= 0 ? fs_open_in_root(dirfd, ptmx_path, O_RDWR | O_NOCTTY, 0)
	               : open(ptmx_path, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m < 0)
		return vk_error_errno(err, dirfd >= 0 ? -m : errno,
		                      "cannot open %s for the container's terminal (is /dev/pts "
		                      "mounted?)",
		                      ptmx_path);
	if (ioctl(m, TIOCSPTLCK, &unlock) < 0 || ioctl(m, TIOCGPTN, &n) < 0) {
		int e = errno;

		close(m);
		return vk_error_errno(err, e, "cannot set up the pty");
	}
	/* TIOCGPTPEER opens the slave through the master: no path lookup to race. */
	*slave = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (*slave < 0) {
		int e = errno;

		close(m);
		return vk_error_errno(err, e, "cannot open the pty slave");
	}
	if (rows && cols)
		ioctl(m, TIOCSWINSZ, &ws);
	snprintf(slave_name, cap, "/dev/pts/%d", n);
	*master = m;
	return 0;
}

int oci_console_attach(int slave, struct vk_error *err)
{
	if (setsid() < 0 && errno != EPERM)
		return vk_error_errno(err, errno, "setsid failed");
	if (ioctl(slave, TIOCSCTTY, 0) < 0)
		return vk_error_errno(err, errno, "cannot make the pty the controlling terminal");
	for (int i = 0; i < 3; i++)
		if (dup2(slave, i) < 0)
			return vk_error_errno(err, errno, "cannot attach the pty to fd %d", i);
	return 0;
}

int oci_console_send(int sock, int master, const char *name, struct vk_error *err)
{
	int r = sync_sendmsg(sock, name, strlen(name), master);

	if (r < 0)
		return vk_error_errno(err, -r, "cannot send the terminal to --console-socket");
	return 0;
}

void oci_console_proxy(int master, int pidfd)
{
	struct termios saved, raw;
	bool is_tty = tcgetattr(0, &saved) == 0;
	bool in_open = true, exited = false;
	char buf[8192];

	if (is_tty) {
		struct winsize ws;

		raw = saved;
		cfmakeraw(&raw);
		tcsetattr(0, TCSANOW, &raw);
		if (ioctl(0, TIOCGWINSZ, &ws) == 0)
			ioctl(master, TIOCSWINSZ, &ws);
	}
	for (;;) {
		struct pollfd p[3] = {{master, POLLIN, 0},
		                      {in_open ? 0 : -1, POLLIN, 0},
		                      {exited ? -1 : pidfd, POLLIN, 0}};
		int r = poll(p, 3, exited ? 100 : -1);
		ssize_t n;

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (p[0].revents & POLLIN) {
			n = read(master, buf, sizeof(buf));
			if (n <= 0)
				break;
			if (vk_write_full(1, buf, (size_t)n) < 0)
				break;
		} else if (p[0].revents & (POLLHUP | POLLERR)) {
			break;
		}
		if (in_open && (p[1].revents & (POLLIN | POLLHUP))) {
			n = read(0, buf, sizeof(buf));
			if (n <= 0)
				in_open = false;
			else if (vk_write_full(master, buf, (size_t)n) < 0)
				in_open = false;
		}
		if (p[2].fd >= 0 && (p[2].revents & POLLIN))
			exited = true; /* drain what is left, then stop on the timeout */
	}
	if (is_tty)
		tcsetattr(0, TCSANOW, &saved);
}
