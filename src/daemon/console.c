/* SPDX-License-Identifier: MIT */
/*
 * The console hub (see console.h): one thread per running instance. The
 * workload side is a unix socket that accepts one client (virtkit-vm's
 * socket chardev, or the container shim), so the hub reconnects whenever the
 * connection drops (e.g. after a daemon restart). A slow client gets a
 * bounded backlog and is disconnected past it; it never slows the others.
 * Input waits in a bounded queue while the workload does not read it (past
 * the bound it is dropped, as on a line nobody reads): the hub never blocks,
 * so output, the log and console_close() go on whatever the workload does.
 */
#include "daemon/console.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"

#define CLIENTS_MAX  32
#define BACKLOG_MAX  (256 * 1024)
#define INPUT_MAX    (64 * 1024)
#define LOG_MAX      (4 * 1024 * 1024)
#define RETRY_MS     100
#define FAST_RETRIES 400 /* at 5 ms: the first 2 s, while the workload starts */

struct client {
	int fd;
	void (*done)(void *opaque);
	void *opaque;
	char *pend; /* output not yet accepted by the client */
	size_t pend_len;
	char *pre; /* input sent before the hub took over */
	size_t pre_len;
};

struct console {
	pthread_mutex_t lock;
	int refs;
	bool stop;                        /* under lock */
	struct client fresh[CLIENTS_MAX]; /* handed over, not yet polled; under lock */
	size_t nfresh;
	int wake; /* eventfd */
	pthread_t thread;
	/* Hub thread only. */
	struct client cl[CLIENTS_MAX];
	size_t ncl;
	int backend;
	char *in;      /* input the workload has not taken yet */
	size_t in_len; /* at most INPUT_MAX */
	unsigned retries;
	int log_fd;
	off_t log_size;
	bool log;
	char sock_path[108];
	char log_path[PATH_MAX];
};

static void client_free(struct client *c)
{
	free(c->pend);
	free(c->pre);
	c->pend = c->pre = NULL;
	if (c->done)
		c->done(c->opaque);
	c->done = NULL;
}

static void drop_client(struct console *c, size_t i)
{
	client_free(&c->cl[i]);
	c->cl[i] = c->cl[--c->ncl];
}

static int connect_backend(struct console *c)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return -errno;
	strcpy(sa.sun_path, c->sock_path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

static void log_output(struct console *c, const char *buf, size_t n)
{
	if (!c->log)
		return;
	if (c->log_fd >= 0 && c->log_size + (off_t)n > LOG_MAX) {
		char old[PATH_MAX + 4];
		close(c->log_fd);
		c->log_fd = -1;
		snprintf(old, sizeof(old), "%s.1", c->log_path);
		rename(c->log_path, old);
	}
	if (c->log_fd < 0) {
		struct stat st;
		c->log_fd = open(c->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (c->log_fd < 0)
			return;
		c->log_size = fstat(c->log_fd, &st) == 0 ? st.st_size : 0;
	}
	if (vk_write_full(c->log_fd, buf, n) > 0)
		c->log_size += (off_t)n;
}

/* Queue output for one client; false when it must be dropped. */
static bool client_send(struct client *cl, const char *buf, size_t n)
{
	ssize_t w = 0;
	char *p;

	if (cl->pend_len == 0) {
		w = send(cl->fd, buf, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && errno != EAGAIN && errno != EINTR)
			return false;
		if (w < 0)
			w = 0;
		if ((size_t)w == n)
			return true;
	}
	if (cl->pend_len + (n - (size_t)w) > BACKLOG_MAX)
		return false;
	p = realloc(cl->pend, cl->pend_len + (n - (size_t)w));
	if (!p)
		return false;
	memcpy(p + cl->pend_len, buf + w, n - (size_t)w);
	cl->pend = p;
	cl->pend_len += n - (size_t)w;
	return true;
}

static bool client_flush(struct client *cl)
{
	ssize_t w = send(cl->fd, cl->pend, cl->pend_len, MSG_NOSIGNAL | MSG_DONTWAIT);

	if (w < 0)
		return errno == EAGAIN || errno == EINTR;
	memmove(cl->pend, cl->pend + w, cl->pend_len - (size_t)w);
	cl->pend_len -= (size_t)w;
	return true;
}

static void backend_close(struct console *c)
{
	if (c->backend >= 0)
		close(c->backend);
	c->backend = -1;
	c->in_len = 0; /* input for that connection */
}

/* Hand queued input to the (non-blocking) backend; false when it failed. */
static bool backend_flush(struct console *c)
{
	while (c->in_len) {
		ssize_t w = send(c->backend, c->in, c->in_len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0)
			return errno == EAGAIN || errno == EINTR;
		memmove(c->in, c->in + w, c->in_len - (size_t)w);
		c->in_len -= (size_t)w;
	}
	return true;
}

static void to_backend(struct console *c, const char *buf, size_t n)
{
	if (c->backend < 0)
		return; /* nobody to type to: input is dropped, as on a disconnected line */
	if (!c->in) {
		c->in = malloc(INPUT_MAX);
		if (!c->in)
			return;
	}
	n = VK_MIN(n, INPUT_MAX - c->in_len); /* past the bound, input is dropped */
	memcpy(c->in + c->in_len, buf, n);
	c->in_len += n;
	if (!backend_flush(c))
		backend_close(c);
}

static void take_fresh(struct console *c)
{
	size_t i;

	pthread_mutex_lock(&c->lock);
	for (i = 0; i < c->nfresh; i++) {
		if (c->ncl == CLIENTS_MAX) {
			client_free(&c->fresh[i]);
			continue;
		}
		c->cl[c->ncl++] = c->fresh[i];
	}
	c->nfresh = 0;
	pthread_mutex_unlock(&c->lock);
	for (i = 0; i < c->ncl; i++) {
		if (c->cl[i].pre_len && c->backend >= 0) {
			to_backend(c, c->cl[i].pre, c->cl[i].pre_len);
			free(c->cl[i].pre);
			c->cl[i].pre = NULL;
			c->cl[i].pre_len = 0;
		}
	}
}

static void *hub_thread(void *opaque)
{
	struct console *c = opaque;
	struct pollfd p[CLIENTS_MAX + 2];
	char buf[16384];
	size_t i;

	for (;;) {
		int timeout = -1;
		bool stop;

		pthread_mutex_lock(&c->lock);
		stop = c->stop;
		pthread_mutex_unlock(&c->lock);
		if (stop)
			break;
		if (c->backend < 0) {
			int fd = connect_backend(c);
			if (fd >= 0)
				c->backend = fd;
			else
				timeout = c->retries++ < FAST_RETRIES ? 5 : RETRY_MS;
		}
		take_fresh(c);
		p[0] = (struct pollfd){.fd = c->wake, .events = POLLIN};
		p[1] = (struct pollfd){.fd = c->backend,
		                       .events = (short)(POLLIN | (c->in_len ? POLLOUT : 0))};
		for (i = 0; i < c->ncl; i++)
			p[i + 2] = (struct pollfd){
			        .fd = c->cl[i].fd,
			        .events = (short)(POLLIN | (c->cl[i].pend_len ? POLLOUT : 0))};
		if (poll(p, c->ncl + 2, timeout) < 0) {
			if (errno == EINTR)
				continue;
			vk_err("console hub: poll failed: %s", strerror(errno));
			break;
		}
		if (p[0].revents) {
			uint64_t v;
			(void)!read(c->wake, &v, sizeof(v));
		}
		/*
		 * Clients first, every round: a workload that never stops writing
		 * must not starve their input (Ctrl-C) or their backlog. The walk
		 * goes downwards, so a drop (the last client moves into slot i)
		 * never disturbs the p[] entries still to be read.
		 */
		for (i = c->ncl; i-- > 0;) {
			short re = p[i + 2].revents;
			if (!re)
				continue;
			if (re & POLLOUT && !client_flush(&c->cl[i])) {
				drop_client(c, i);
				continue;
			}
			if (re & (POLLIN | POLLHUP | POLLERR)) {
				ssize_t n = recv(c->cl[i].fd, buf, sizeof(buf), MSG_DONTWAIT);
				if (n > 0)
					to_backend(c, buf, (size_t)n);
				else if (n == 0 || (errno != EAGAIN && errno != EINTR))
					drop_client(c, i);
			}
		}
		if (c->backend >= 0 && p[1].revents & POLLOUT && !backend_flush(c))
			backend_close(c);
		if (c->backend >= 0 && p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = read(c->backend, buf, sizeof(buf));
			if (n > 0) {
				log_output(c, buf, (size_t)n);
				for (i = c->ncl; i-- > 0;)
					if (!client_send(&c->cl[i], buf, (size_t)n))
						drop_client(c, i);
			} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
				backend_close(c);
			}
		}
	}
	while (c->ncl)
		drop_client(c, c->ncl - 1);
	backend_close(c);
	return NULL;
}

int console_open(const char *sock_path, const char *log_path, bool log, struct console **out,
                 struct vk_error *err)
{
	struct console *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return vk_error_set(err, ENOMEM, "out of memory");
	if (strlen(sock_path) >= sizeof(c->sock_path)) {
		free(c);
		return vk_error_set(err, ENAMETOOLONG, "console socket path '%s' is too long",
		                    sock_path);
	}
	strcpy(c->sock_path, sock_path);
	snprintf(c->log_path, sizeof(c->log_path), "%s", log_path);
	c->log = log;
	c->log_fd = -1;
	c->backend = -1;
	c->refs = 1;
	pthread_mutex_init(&c->lock, NULL);
	c->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->wake < 0) {
		r = vk_error_errno(err, errno, "cannot create an eventfd");
		free(c);
		return r;
	}
	r = pthread_create(&c->thread, NULL, hub_thread, c);
	if (r != 0) {
		close(c->wake);
		free(c);
		return vk_error_errno(err, r, "cannot start the console thread");
	}
	*out = c;
	return 0;
}

static void wake(struct console *c)
{
	uint64_t one = 1;
	(void)!write(c->wake, &one, sizeof(one));
}

int console_attach(struct console *c, int fd, const void *pre, size_t pre_len,
                   void (*done)(void *opaque), void *opaque)
{
	struct client cl = {.fd = fd, .done = done, .opaque = opaque};
	int r = 0;

	if (pre_len) {
		cl.pre = malloc(pre_len);
		if (cl.pre) {
			memcpy(cl.pre, pre, pre_len);
			cl.pre_len = pre_len;
		}
	}
	pthread_mutex_lock(&c->lock);
	if (c->stop)
		r = -ESHUTDOWN;
	else if (c->nfresh == CLIENTS_MAX)
		r = -EBUSY;
	else
		c->fresh[c->nfresh++] = cl;
	pthread_mutex_unlock(&c->lock);
	if (r < 0) {
		client_free(&cl);
		return r;
	}
	wake(c);
	return 0;
}

struct console *console_ref(struct console *c)
{
	pthread_mutex_lock(&c->lock);
	c->refs++;
	pthread_mutex_unlock(&c->lock);
	return c;
}

void console_unref(struct console *c)
{
	bool last;

	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	last = --c->refs == 0;
	pthread_mutex_unlock(&c->lock);
	if (!last)
		return;
	close(c->wake);
	if (c->log_fd >= 0)
		close(c->log_fd);
	free(c->in);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

void console_close(struct console *c)
{
	size_t i;

	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	c->stop = true;
	pthread_mutex_unlock(&c->lock);
	wake(c);
	pthread_join(c->thread, NULL);
	/* Clients handed over after the thread's last look. */
	pthread_mutex_lock(&c->lock);
	for (i = 0; i < c->nfresh; i++)
		client_free(&c->fresh[i]);
	c->nfresh = 0;
	pthread_mutex_unlock(&c->lock);
	console_unref(c);
}
