/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of virtio-net and the net backends: the echo backend round trip
 * and the frames a backend refuses, receive without guest buffers (held,
 * bounded, then resumed), the --net spec parser, hostfwd rules, libslirp
 * answering a DHCPDISCOVER with a DHCPOFFER (all traffic stays inside slirp),
 * restricted mode refusing a guest connection to the host, and a tap
 * interface inside a private network namespace.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/util.h"
#include "vdriver.h"
#include "vm/backend/net.h"
#include "vm/loop.h"
#include "vm/virtio/devices.h"

#define RXQ      0
#define TXQ      1
#define HDR      12
#define RXBUF    (HDR + 1514)
#define QSZ      128
#define F_MAC    5
#define F_STATUS 16

static const uint8_t guest_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
static const uint8_t peer_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};

struct fixture {
	struct vdriver d;
	struct vm_loop *loop;
};

static struct fixture *make(const char *spec)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct vk_error err = {0};
	struct virtio_dev *dev;

	vd_init(&f->d);
	f->loop = vm_loop_new();
	assert_non_null(f->loop);
	dev = virtio_dev_from_spec(VIRTIO_SPEC_NET, spec, &f->d.mem, f->loop, &err);
	if (!dev)
		fail_msg("net '%s': %s", spec, err.msg);
	vd_attach(&f->d, dev);
	vd_bringup(&f->d, (1ull << F_MAC) | (1ull << F_STATUS), 2, QSZ);
	return f;
}

static void destroy(struct fixture *f)
{
	vd_fini(&f->d);
	vm_loop_free(f->loop);
	free(f);
}

/* Post one receive buffer; returns its address. */
static uint64_t post_rx(struct fixture *f, uint32_t size)
{
	uint64_t a = vd_alloc(&f->d, size, 16);
	struct vd_buf b = {a, size, true};

	memset(vd_ptr(&f->d, a), 0xcc, size);
	vd_chain(&f->d, RXQ, &b, 1);
	return a;
}

/* Send one frame: header and frame in separate descriptors. */
static void send_frame(struct fixture *f, const uint8_t *frame, uint32_t len)
{
	uint64_t h = vd_alloc(&f->d, HDR, 16), p = vd_alloc(&f->d, len, 16);
	struct vd_buf b[2] = {{h, HDR, false}, {p, len, false}};
	uint32_t id, used;

	memset(vd_ptr(&f->d, h), 0, HDR);
	memcpy(vd_ptr(&f->d, p), frame, len);
	vd_chain(&f->d, TXQ, b, 2);
	vd_kick(&f->d, TXQ);
	assert_true(vd_used(&f->d, TXQ, &id, &used));
	assert_int_equal(used, 0);
}

static void make_frame(uint8_t *frame, size_t len, uint8_t tag)
{
	memcpy(frame, peer_mac, 6);
	memcpy(frame + 6, guest_mac, 6);
	frame[12] = 0x88; /* a local experimental ethertype */
	frame[13] = 0xb5;
	for (size_t i = 14; i < len; i++)
		frame[i] = (uint8_t)(tag + i);
}

static void test_echo_round_trip(void **state)
{
	struct fixture *f = make("echo");
	uint8_t frame[60];
	uint64_t rx = post_rx(f, RXBUF);
	const uint8_t *got = vd_ptr(&f->d, rx);
	uint64_t mac = 0, status = 0;
	uint32_t id, len;

	vd_kick(&f->d, RXQ);
	make_frame(frame, sizeof(frame), 7);
	send_frame(f, frame, sizeof(frame));
	assert_true(vd_used(&f->d, RXQ, &id, &len));
	assert_int_equal(len, HDR + sizeof(frame));
	/* Header: no offloads, num_buffers 1. */
	for (int i = 0; i < 10; i++)
		assert_int_equal(got[i], 0);
	assert_int_equal(got[10], 1);
	assert_memory_equal(got + HDR, guest_mac, 6); /* swapped */
	assert_memory_equal(got + HDR + 6, peer_mac, 6);
	assert_memory_equal(got + HDR + 12, frame + 12, sizeof(frame) - 12);
	assert_true(f->d.irq_level);
	/* Config: the default MAC, link up. */
	assert_true(bus_read(&f->d.bus, VD_MMIO_BASE + VIRTIO_MMIO_CONFIG, 4, &mac));
	assert_int_equal(mac, 0x12005452);
	assert_true(bus_read(&f->d.bus, VD_MMIO_BASE + VIRTIO_MMIO_CONFIG + 6, 2, &status));
	assert_int_equal(status, 1);
	destroy(f);
}

static void test_rx_without_buffers_then_resumed(void **state)
{
	struct fixture *f = make("echo");
	uint8_t frame[100];
	uint64_t rx[3];
	uint32_t id, len;

	for (uint8_t t = 0; t < 3; t++) {
		make_frame(frame, sizeof(frame), t);
		send_frame(f, frame, sizeof(frame));
	}
	assert_false(vd_used(&f->d, RXQ, &id, &len));
	/* The guest adds buffers: the held frames arrive, in order. */
	for (int i = 0; i < 3; i++)
		rx[i] = post_rx(f, RXBUF);
	vd_kick(&f->d, RXQ);
	for (uint8_t t = 0; t < 3; t++) {
		const uint8_t *got = vd_ptr(&f->d, rx[t]);

		assert_true(vd_used(&f->d, RXQ, &id, &len));
		assert_int_equal(len, HDR + sizeof(frame));
		assert_int_equal(got[HDR + 20], (uint8_t)(t + 20));
	}
	assert_false(vd_used(&f->d, RXQ, &id, &len));
	/* And new traffic flows directly again. */
	rx[0] = post_rx(f, RXBUF);
	vd_kick(&f->d, RXQ);
	make_frame(frame, sizeof(frame), 9);
	send_frame(f, frame, sizeof(frame));
	assert_true(vd_used(&f->d, RXQ, &id, &len));
	assert_int_equal(((uint8_t *)vd_ptr(&f->d, rx[0]))[HDR + 20], 29);
	destroy(f);
}

/* Without buffers, the device keeps a bounded number of frames and drops the rest. */
static void test_rx_backlog_is_bounded(void **state)
{
	struct fixture *f = make("echo");
	uint8_t frame[64];
	unsigned delivered = 0;
	uint32_t id, len;

	for (unsigned t = 0; t < 100; t++) {
		make_frame(frame, sizeof(frame), (uint8_t)t);
		send_frame(f, frame, sizeof(frame));
	}
	for (int i = 0; i < 100; i++)
		post_rx(f, RXBUF);
	vd_kick(&f->d, RXQ);
	while (vd_used(&f->d, RXQ, &id, &len))
		delivered++;
	assert_int_equal(delivered, 64);
	destroy(f);
}

static void test_small_rx_buffer_and_bad_tx(void **state)
{
	struct fixture *f = make("echo,mac=52:54:00:ab:cd:ef");
	uint8_t frame[200];
	uint64_t mac = 0, rx;
	uint32_t id, len;
	struct vd_buf b;

	assert_true(bus_read(&f->d.bus, VD_MMIO_BASE + VIRTIO_MMIO_CONFIG + 2, 4, &mac));
	assert_int_equal(mac, 0xefcdab00);
	/* A buffer too small for the frame: the frame is dropped, the buffer returned. */
	post_rx(f, 64);
	vd_kick(&f->d, RXQ);
	make_frame(frame, sizeof(frame), 1);
	send_frame(f, frame, sizeof(frame));
	assert_true(vd_used(&f->d, RXQ, &id, &len));
	assert_int_equal(len, 0);
	/* A writable transmit buffer is refused (and logged once). */
	rx = vd_alloc(&f->d, 100, 16);
	b = (struct vd_buf){rx, 100, true};
	vd_chain(&f->d, TXQ, &b, 1);
	vd_kick(&f->d, TXQ);
	assert_true(vd_used(&f->d, TXQ, &id, &len));
	assert_int_equal(len, 0);
	assert_true(vd_log_contains(&f->d, "transmit buffer"));
	/* Nothing was echoed. */
	post_rx(f, RXBUF);
	vd_kick(&f->d, RXQ);
	assert_false(vd_used(&f->d, RXQ, &id, &len));
	destroy(f);
}

struct frame_rec {
	uint8_t frame[64];
	size_t len;
	unsigned count;
};

static void frame_rec_receive(void *opaque, const void *frame, size_t len)
{
	struct frame_rec *r = opaque;

	r->count++;
	r->len = len;
	memcpy(r->frame, frame, VK_MIN(len, sizeof(r->frame)));
}

/* The echo backend alone: frames gathered from several iovecs, and frames it refuses. */
static void test_echo_backend_frames(void **state)
{
	static uint8_t big[NET_FRAME_MAX];
	uint8_t macs[12] = {1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2}, payload[3] = {7, 8, 9};
	struct iovec two[] = {{macs, sizeof(macs)}, {payload, sizeof(payload)}};
	struct iovec too_big[] = {{big, sizeof(big)}, {payload, 1}};
	struct frame_rec rec = {0};
	struct net_backend *be = net_echo_open(NULL);

	assert_non_null(be);
	net_backend_attach(be, &(struct net_client){.receive = frame_rec_receive, .opaque = &rec});
	assert_int_equal(net_backend_send(be, two, 2), 0);
	assert_int_equal(rec.count, 1);
	assert_int_equal(rec.len, 15);
	assert_memory_equal(rec.frame, "\2\2\2\2\2\2\1\1\1\1\1\1\7\10\11", 15);
	/* One byte over NET_FRAME_MAX, split over two buffers, and a runt. */
	assert_int_equal(net_backend_send(be, too_big, 2), -EMSGSIZE);
	assert_int_equal(net_backend_send(be, two, 0), -EINVAL);
	too_big[1].iov_len = 0;
	assert_int_equal(net_backend_send(be, too_big, 2), 0);
	assert_int_equal(rec.count, 2);
	assert_int_equal(rec.len, NET_FRAME_MAX);
	net_backend_close(be);
}

static void test_net_spec_errors(void **state)
{
	struct vk_error err = {0};
	struct vm_mem mem;
	struct vm_loop *loop = vm_loop_new();
	static const struct {
		const char *spec, *msg;
	} bad[] = {
	        {"bogus", "must be user, tap or echo"},
	        {"", "must be user, tap or echo"},
	        {"echo,foo=1", "unknown option 'foo'"},
	        {"echo,hostfwd=tcp:127.0.0.1:1-:2", "unknown option 'hostfwd'"},
	        {"echo,mac=zz", "not a MAC address"},
	        {"echo,mac=01:00:5e:00:00:01", "multicast"},
	        {"user,dns=maybe", "expected on or off"},
	        {"user,hostfwd=tcp:0.0.0.0:2222-:22", "not a loopback address"},
	        {"user,hostfwd=tcp:192.168.1.1:2222-:22", "not a loopback address"},
	        {"user,hostfwd=tcp:127.0.0.1:99999-:22", "not a port number"},
	        {"user,hostfwd=tcp:127.0.0.1:2222", "is not of the form"},
	        {"user,hostfwd=sctp:127.0.0.1:2222-:22", "is not an IPv4 address"},
	        {"tap,ifname=averyveryveryverylongname", "longer than"},
	        {"tap,queues=4", "unknown option 'queues'"},
	};

	vm_mem_init(&mem);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		vk_error_clear(&err);
		assert_null(virtio_dev_from_spec(VIRTIO_SPEC_NET, bad[i].spec, &mem, loop, &err));
		if (!strstr(err.msg, bad[i].msg))
			fail_msg("'%s': got '%s', expected '%s'", bad[i].spec, err.msg, bad[i].msg);
	}
	vm_loop_free(loop);
}

static void test_hostfwd_parse(void **state)
{
	struct net_hostfwd fwd;
	struct vk_error err = {0};

	assert_int_equal(net_parse_hostfwd("tcp:127.0.0.1:2222-:22", &fwd, &err), 0);
	assert_false(fwd.udp);
	assert_int_equal(ntohl(fwd.host_addr.s_addr), 0x7f000001);
	assert_int_equal(fwd.host_port, 2222);
	assert_int_equal(fwd.guest_addr.s_addr, 0);
	assert_int_equal(fwd.guest_port, 22);
	assert_int_equal(net_parse_hostfwd("udp:127.0.0.2:53-10.0.2.15:5353", &fwd, &err), 0);
	assert_true(fwd.udp);
	assert_int_equal(ntohl(fwd.guest_addr.s_addr), 0x0a00020f);
	/* An empty host address means loopback, never every interface. */
	assert_int_equal(net_parse_hostfwd("tcp::8080-:80", &fwd, &err), 0);
	assert_int_equal(ntohl(fwd.host_addr.s_addr), 0x7f000001);
	assert_int_equal(net_parse_hostfwd("tcp:10.1.2.3:8080-:80", &fwd, &err), -EPERM);
	assert_non_null(strstr(err.msg, "10.1.2.3"));
}

/* ---- libslirp ---- */

static uint16_t csum(const uint8_t *p, size_t len, uint32_t sum)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Ethernet + IPv4 header for a payload of len bytes; returns the IP header. */
static uint8_t *ip_frame(uint8_t *f, const uint8_t dst_mac[6], uint32_t src, uint32_t dst,
                         uint8_t proto, size_t len)
{
	uint8_t *ip = f + 14;

	memcpy(f, dst_mac, 6);
	memcpy(f + 6, guest_mac, 6);
	put16(f + 12, 0x0800);
	memset(ip, 0, 20);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(20 + len));
	ip[8] = 64;
	ip[9] = proto;
	put16(ip + 12, (uint16_t)(src >> 16));
	put16(ip + 14, (uint16_t)src);
	put16(ip + 16, (uint16_t)(dst >> 16));
	put16(ip + 18, (uint16_t)dst);
	put16(ip + 10, csum(ip, 20, 0));
	return ip;
}

/* Poll the loop until a receive buffer is used (at most ~2 s). */
static bool wait_rx(struct fixture *f, uint32_t *len)
{
	uint32_t id;

	for (int i = 0; i < 40; i++) {
		if (vd_used(&f->d, RXQ, &id, len))
			return true;
		vm_loop_poll(f->loop, 50 * 1000000ll);
	}
	return vd_used(&f->d, RXQ, &id, len);
}

static void test_slirp_dhcp(void **state)
{
	struct fixture *f = make("user");
	static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	uint8_t frame[14 + 20 + 8 + 300] = {0};
	uint8_t *ip, *udp, *bp, *opt;
	uint64_t rx[4];
	const uint8_t *r = NULL;
	bool offer = false;
	uint32_t len;

	for (int i = 0; i < 4; i++)
		rx[i] = post_rx(f, RXBUF);
	vd_kick(&f->d, RXQ);
	ip = ip_frame(frame, bcast, 0, 0xffffffff, 17, 8 + 300);
	udp = ip + 20;
	put16(udp, 68);
	put16(udp + 2, 67);
	put16(udp + 4, 8 + 300);
	bp = udp + 8;
	bp[0] = 1; /* BOOTREQUEST */
	bp[1] = 1; /* Ethernet */
	bp[2] = 6;
	memcpy(bp + 4, "\x12\x34\x56\x78", 4); /* xid */
	memcpy(bp + 28, guest_mac, 6);         /* chaddr */
	opt = bp + 236;
	memcpy(opt, "\x63\x82\x53\x63", 4); /* magic cookie */
	opt[4] = 53;                        /* DHCP message type */
	opt[5] = 1;
	opt[6] = 1; /* DHCPDISCOVER */
	opt[7] = 255;
	send_frame(f, frame, sizeof(frame));

	/* Skip anything that is not the reply (slirp may send other frames). */
	for (int i = 0; i < 4 && !offer && wait_rx(f, &len); i++) {
		const uint8_t *o;

		r = (const uint8_t *)vd_ptr(&f->d, rx[i]) + HDR;
		if (len < HDR + 14 + 20 + 8 + 240 || r[12] != 0x08 || r[13] != 0x00 ||
		    r[23] != 17 || r[36] != 0 || r[37] != 68)
			continue;
		bp = (uint8_t *)r + 42;
		assert_int_equal(bp[0], 2); /* BOOTREPLY */
		assert_memory_equal(bp + 4, "\x12\x34\x56\x78", 4);
		assert_memory_equal(bp + 16, "\x0a\x00\x02\x0f", 4); /* yiaddr 10.0.2.15 */
		for (o = bp + 240; o < r + len - HDR && *o != 255; o += 2 + o[1])
			if (o[0] == 53 && o[2] == 2)
				offer = true;
	}
	assert_true(offer);
	destroy(f);
}

/* An ephemeral loopback port nobody listens on right now. */
static uint16_t free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
	socklen_t l = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(s >= 0);
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&a, &l), 0);
	close(s);
	return ntohs(a.sin_port);
}

static void test_slirp_hostfwd_and_restricted(void **state)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
	struct fixture *f;
	char spec[128];
	uint16_t port = free_port(), lport;
	uint8_t frame[14 + 20 + 20] = {0}, pseudo[12 + 20];
	uint8_t *ip, *tcp;
	socklen_t l = sizeof(a);
	int lsn, fd;

	/* A loopback forward is accepted: the port is now slirp's. */
	snprintf(spec, sizeof(spec), "user,hostfwd=tcp:127.0.0.1:%u-:22", port);
	f = make(spec);
	a.sin_port = htons(port);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_not_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	close(fd);

	/* Restricted: a guest SYN to the host (10.0.2.2) never reaches a host listener. */
	lsn = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	a.sin_port = 0;
	assert_int_equal(bind(lsn, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(lsn, 1), 0);
	assert_int_equal(getsockname(lsn, (struct sockaddr *)&a, &l), 0);
	lport = ntohs(a.sin_port);
	post_rx(f, RXBUF);
	vd_kick(&f->d, RXQ);
	ip = ip_frame(frame, peer_mac, 0x0a00020f, 0x0a000202, 6, 20);
	tcp = ip + 20;
	put16(tcp, 40000);
	put16(tcp + 2, lport);
	memcpy(tcp + 4, "\0\0\0\1", 4);
	tcp[12] = 5 << 4;
	tcp[13] = 0x02; /* SYN */
	put16(tcp + 14, 65535);
	memcpy(pseudo, ip + 12, 8);
	pseudo[8] = 0;
	pseudo[9] = 6;
	put16(pseudo + 10, 20);
	memcpy(pseudo + 12, tcp, 20);
	put16(tcp + 16, csum(pseudo, sizeof(pseudo), 0));
	send_frame(f, frame, sizeof(frame));
	for (int i = 0; i < 10; i++)
		vm_loop_poll(f->loop, 20 * 1000000ll);
	assert_int_equal(accept(lsn, NULL, NULL), -1);
	assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
	close(lsn);
	destroy(f);
	/* The forward went away with the backend. */
	a.sin_port = htons(port);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	close(fd);
}

/* tap, in a network namespace of its own (needs CAP_SYS_ADMIN and CAP_NET_ADMIN). */
static void test_tap_in_netns(void **state)
{
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (pid == 0) {
		struct vk_error err = {0};
		struct vm_loop *loop;
		struct net_backend *be;
		uint8_t frame[60] = {0};
		struct iovec iov = {frame, sizeof(frame)};

		if (unshare(CLONE_NEWNET) < 0 || access("/dev/net/tun", R_OK | W_OK) < 0)
			_exit(77);
		loop = vm_loop_new();
		be = net_tap_open(loop, "vktest0", true, &err);
		if (!be)
			_exit(1);
		/* The link is down: the kernel may refuse the frame, but nothing breaks. */
		(void)net_backend_send(be, &iov, 1);
		net_backend_close(be);
		be = net_tap_open(loop, "", false, &err);
		if (!be)
			_exit(2);
		net_backend_close(be);
		vm_loop_free(loop);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == 77)
		skip();
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_echo_round_trip),
	        cmocka_unit_test(test_rx_without_buffers_then_resumed),
	        cmocka_unit_test(test_rx_backlog_is_bounded),
	        cmocka_unit_test(test_small_rx_buffer_and_bad_tx),
	        cmocka_unit_test(test_echo_backend_frames),
	        cmocka_unit_test(test_net_spec_errors),
	        cmocka_unit_test(test_hostfwd_parse),
	        cmocka_unit_test(test_slirp_dhcp),
	        cmocka_unit_test(test_slirp_hostfwd_and_restricted),
	        cmocka_unit_test(test_tap_in_netns),
	};

	return cmocka_run_group_tests_name("virtio-net", tests, NULL, NULL);
}
