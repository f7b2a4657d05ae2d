/* SPDX-License-Identifier: MIT */
/*
 * The "user" net backend: libslirp user-mode networking, as QEMU uses it.
 * Guest network 10.0.2.0/24, host 10.0.2.2, DHCP from 10.0.2.15, DNS at
 * 10.0.2.3 only when asked for. Always restricted: the guest cannot open
 * connections to the host or beyond; only host forwards (which listen on
 * loopback addresses) reach it. slirp's descriptors and timers run on the
 * machine's vm_loop through a poll hook and vm_timers.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <slirp/libslirp.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "vm/backend/net.h"
#include "vm/loop.h"

struct net_slirp {
	struct net_backend be;
	struct vm_loop *loop;
	Slirp *slirp;
	bool logged;
	uint8_t buf[NET_FRAME_MAX];
};

struct slirp_timer {
	struct net_slirp *s;
	struct vm_timer *timer;
	SlirpTimerCb cb; /* timer_new() style, or NULL for timer_new_opaque() */
	SlirpTimerId id;
	void *cb_opaque;
};

static ssize_t cb_send_packet(const void *buf, size_t len, void *opaque)
{
	struct net_slirp *s = opaque;

	net_backend_deliver(&s->be, buf, len);
	return (ssize_t)len;
}

static void cb_guest_error(const char *msg, void *opaque)
{
	struct net_slirp *s = opaque;

	vk_log_once(&s->logged, VK_LOG_WARN, "net user: guest error: %s", msg);
}

static int64_t cb_clock_get_ns(void *opaque)
{
	return (int64_t)vk_now_ns();
}

static void timer_fire(void *opaque)
{
	struct slirp_timer *t = opaque;

	if (t->cb)
		t->cb(t->cb_opaque);
	else
		slirp_handle_timer(t->s->slirp, t->id, t->cb_opaque);
}

static struct slirp_timer *timer_alloc(struct net_slirp *s)
{
	struct slirp_timer *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->s = s;
	t->timer = vm_timer_new(s->loop, timer_fire, t);
	if (!t->timer) {
		free(t);
		return NULL;
	}
	return t;
}

static void *cb_timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
	struct slirp_timer *t = timer_alloc(opaque);

	if (t) {
		t->cb = cb;
		t->cb_opaque = cb_opaque;
	}
	return t;
}

static void *cb_timer_new_opaque(SlirpTimerId id, void *cb_opaque, void *opaque)
{
	struct slirp_timer *t = timer_alloc(opaque);

	if (t) {
		t->id = id;
		t->cb_opaque = cb_opaque;
	}
	return t;
}

static void cb_timer_free(void *timer, void *opaque)
{
	struct slirp_timer *t = timer;

	if (!t)
		return;
	vm_timer_free(t->timer);
	free(t);
}

static void cb_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
	struct slirp_timer *t = timer;

	if (t)
		vm_timer_mod(t->timer, expire_ms < 0 ? 0 : (uint64_t)expire_ms * 1000000u);
}

static void cb_register_poll_fd(int fd, void *opaque)
{
	/* Descriptors are collected anew before every poll (the hook below). */
}

static void cb_unregister_poll_fd(int fd, void *opaque)
{
}

static void cb_notify(void *opaque)
{
	struct net_slirp *s = opaque;

	vm_loop_wakeup(s->loop);
}

static const SlirpCb slirp_callbacks = {
        .send_packet = cb_send_packet,
        .guest_error = cb_guest_error,
        .clock_get_ns = cb_clock_get_ns,
        .timer_new = cb_timer_new,
        .timer_free = cb_timer_free,
        .timer_mod = cb_timer_mod,
        .register_poll_fd = cb_register_poll_fd,
        .unregister_poll_fd = cb_unregister_poll_fd,
        .notify = cb_notify,
        .timer_new_opaque = cb_timer_new_opaque,
};

static int add_poll(int fd, int events, void *opaque)
{
	short ev = 0;

	if (events & SLIRP_POLL_IN)
		ev |= POLLIN;
	if (events & SLIRP_POLL_OUT)
		ev |= POLLOUT;
	if (events & SLIRP_POLL_PRI)
		ev |= POLLPRI;
	return vm_pollset_add(opaque, fd, ev);
}

static int get_revents(int idx, void *opaque)
{
	short rev;
	int ev = 0;

	if (idx < 0)
		return 0;
	rev = vm_pollset_revents(opaque, idx);
	if (rev & POLLIN)
		ev |= SLIRP_POLL_IN;
	if (rev & POLLOUT)
		ev |= SLIRP_POLL_OUT;
	if (rev & POLLPRI)
		ev |= SLIRP_POLL_PRI;
	if (rev & (POLLERR | POLLNVAL))
		ev |= SLIRP_POLL_ERR;
	if (rev & POLLHUP)
		ev |= SLIRP_POLL_HUP;
	return ev;
}

static void hook_prepare(void *opaque, struct vm_pollset *ps, int64_t *timeout_ns)
{
	struct net_slirp *s = opaque;
	uint32_t ms = UINT32_MAX;

	slirp_pollfds_fill(s->slirp, &ms, add_poll, ps);
	if (ms != UINT32_MAX) {
		int64_t ns = (int64_t)ms * 1000000;

		if (*timeout_ns < 0 || ns < *timeout_ns)
			*timeout_ns = ns;
	}
}

static void hook_dispatch(void *opaque, struct vm_pollset *ps, bool poll_error)
{
	struct net_slirp *s = opaque;

	slirp_pollfds_poll(s->slirp, poll_error, get_revents, ps);
}

static int slirp_send(struct net_backend *be, const struct iovec *iov, unsigned n)
{
	struct net_slirp *s = container_of(be, struct net_slirp, be);
	ssize_t len = net_frame_gather(iov, n, s->buf, sizeof(s->buf));

	if (len < 0)
		return (int)len;
	slirp_input(s->slirp, s->buf, (int)len);
	return 0;
}

static void slirp_close(struct net_backend *be)
{
	struct net_slirp *s = container_of(be, struct net_slirp, be);

	vm_loop_del_hook(s->loop, s);
	if (s->slirp)
		slirp_cleanup(s->slirp);
	free(s);
}

static const struct net_backend_ops slirp_ops = {
        .send = slirp_send,
        .close = slirp_close,
};

static struct in_addr ip4(const char *s)
{
	struct in_addr a;

	inet_pton(AF_INET, s, &a);
	return a;
}

struct net_backend *net_slirp_open(struct vm_loop *loop, const struct net_slirp_opts *opts,
                                   struct vk_error *err)
{
	struct vm_loop_hook hook;
	struct net_slirp *s;
	SlirpConfig cfg = {
	        .version = 4,
	        .restricted = 1,
	        .in_enabled = true,
	        .vnetwork = ip4("10.0.2.0"),
	        .vnetmask = ip4("255.255.255.0"),
	        .vhost = ip4("10.0.2.2"),
	        .vhostname = "virtkit",
	        .vdhcp_start = ip4("10.0.2.15"),
	        .vnameserver = ip4("10.0.2.3"),
	        .disable_dns = !opts->dns,
	};

	s = calloc(1, sizeof(*s));
	if (!s) {
		vk_error_errno(err, ENOMEM, "cannot start user-mode networking");
		return NULL;
	}
	s->be.ops = &slirp_ops;
	s->be.kind = "user";
	s->loop = loop;
	s->slirp = slirp_new(&cfg, &slirp_callbacks, s);
	if (!s->slirp) {
		vk_error_set(err, ENOMEM, "cannot start user-mode networking (libslirp %s)",
		             slirp_version_string());
		free(s);
		return NULL;
	}
	hook = (struct vm_loop_hook){
	        .prepare = hook_prepare, .dispatch = hook_dispatch, .opaque = s};
	if (vm_loop_add_hook(loop, &hook) < 0) {
		vk_error_set(err, ENOSPC, "cannot start user-mode networking: too many poll hooks");
		goto fail;
	}
	for (unsigned i = 0; i < opts->nr_hostfwd; i++) {
		const struct net_hostfwd *f = &opts->hostfwd[i];
		char host[INET_ADDRSTRLEN];

		if (slirp_add_hostfwd(s->slirp, f->udp, f->host_addr, f->host_port, f->guest_addr,
		                      f->guest_port) < 0) {
			inet_ntop(AF_INET, &f->host_addr, host, sizeof(host));
			vk_error_set(
			        err, EADDRINUSE,
			        "cannot forward %s %s:%u to the guest's port %u: cannot listen "
			        "there (port in use?)",
			        f->udp ? "udp" : "tcp", host, f->host_port, f->guest_port);
			goto fail;
		}
	}
	return &s->be;
fail:
	slirp_close(&s->be);
	return NULL;
}
