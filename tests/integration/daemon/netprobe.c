/* SPDX-License-Identifier: MIT */
/*
 * A small static network tool for the network tests and the bench, run inside
 * containers whose root file system has busybox only:
 *   netprobe ping ADDR            ICMP echo over an ICMP datagram socket
 *                                 (socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP),
 *                                 what iputils' ping uses without CAP_NET_RAW:
 *                                 allowed only by net.ipv4.ping_group_range);
 *                                 exit 0 on a reply within 3 s
 *   netprobe sink PORT            accept one TCP connection on PORT, read it to
 *                                 its end, print "BYTES bytes SECONDS s MBPS Mbit/s"
 *   netprobe send ADDR PORT MIB   connect, write MIB mebibytes, shut down the sending
 *                                 side and wait until the peer's kernel has acknowledged
 *                                 every byte (so that the time covers delivery, not only
 *                                 buffering); print as sink
 *   netprobe recv ADDR PORT       connect, read to the end, print as sink (timed from
 *                                 the connection); a connection closed before any byte
 *                                 (libslirp's hostfwd before the guest listens) or
 *                                 refused is tried again for 10 s
 *   netprobe uecho PORT           answer every UDP datagram to PORT with "udp:" and
 *                                 the datagram (busybox's nc has no UDP)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int addr_of(const char *s, struct sockaddr_in *sa, int port)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, s, &sa->sin_addr) != 1) {
		fprintf(stderr, "netprobe: '%s' is not an IPv4 address\n", s);
		return -1;
	}
	return 0;
}

static int ping(const char *target)
{
	struct icmphdr req = {.type = ICMP_ECHO, .un.echo.sequence = htons(1)};
	struct sockaddr_in sa;
	char buf[1500];
	int fd;

	if (addr_of(target, &sa, 0) < 0)
		return 2;
	fd = socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
	if (fd < 0) {
		fprintf(stderr, "netprobe: cannot open an ICMP datagram socket: %s\n",
		        strerror(errno));
		return 1;
	}
	/* The kernel fills in the identifier and the checksum of a datagram socket's echo. */
	if (sendto(fd, &req, sizeof(req), 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "netprobe: cannot send to %s: %s\n", target, strerror(errno));
		return 1;
	}
	for (double end = now() + 3; now() < end;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t n;

		if (poll(&p, 1, 200) <= 0)
			continue;
		n = recv(fd, buf, sizeof(buf), 0);
		if (n >= (ssize_t)sizeof(struct icmphdr) &&
		    ((struct icmphdr *)buf)->type == ICMP_ECHOREPLY) {
			printf("reply from %s\n", target);
			return 0;
		}
	}
	fprintf(stderr, "netprobe: no reply from %s\n", target);
	return 1;
}

static int sink(int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	static char buf[1 << 16];
	unsigned long long total = 0;
	int one = 1, lfd, fd;
	double t0;
	ssize_t n;

	lfd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 1) < 0) {
		fprintf(stderr, "netprobe: cannot listen on port %d: %s\n", port, strerror(errno));
		return 1;
	}
	fd = accept(lfd, NULL, NULL);
	if (fd < 0)
		return 1;
	t0 = now();
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		total += (unsigned long long)n;
	t0 = now() - t0;
	printf("%llu bytes %.3f s %.1f Mbit/s\n", total, t0, t0 > 0 ? total * 8 / t0 / 1e6 : 0);
	return 0;
}

/* A TCP connection to sa, retrying refusals for 10 s: the descriptor, or -1 (said why). */
static int connect_retry(const struct sockaddr_in *sa, const char *target, int port)
{
	for (double end = now() + 10;;) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		if (fd >= 0 && connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0)
			return fd;
		if (fd < 0 || errno != ECONNREFUSED || now() > end) {
			fprintf(stderr, "netprobe: cannot connect to %s:%d: %s\n", target, port,
			        strerror(errno));
			if (fd >= 0)
				close(fd);
			return -1;
		}
		close(fd);
		usleep(100000);
	}
}

static int recv_data(const char *target, int port)
{
	struct sockaddr_in sa;
	static char buf[1 << 16];
	unsigned long long total = 0;
	double t0, end = now() + 10;
	ssize_t n;
	int fd;

	if (addr_of(target, &sa, port) < 0)
		return 2;
	for (;;) {
		if ((fd = connect_retry(&sa, target, port)) < 0)
			return 1;
		t0 = now();
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			total += (unsigned long long)n;
		close(fd);
		if (total > 0 || now() > end)
			break;
		usleep(200000);
	}
	t0 = now() - t0;
	printf("%llu bytes %.3f s %.1f Mbit/s\n", total, t0, t0 > 0 ? total * 8 / t0 / 1e6 : 0);
	return total > 0 ? 0 : 1;
}

static int uecho(int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	char buf[1500];
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "netprobe: cannot bind UDP port %d: %s\n", port, strerror(errno));
		return 1;
	}
	memcpy(buf, "udp:", 4);
	for (;;) {
		struct sockaddr_in from;
		socklen_t len = sizeof(from);
		ssize_t n =
		        recvfrom(fd, buf + 4, sizeof(buf) - 4, 0, (struct sockaddr *)&from, &len);

		if (n < 0 && errno != EINTR)
			return 1;
		if (n >= 0)
			sendto(fd, buf, (size_t)n + 4, 0, (struct sockaddr *)&from, len);
	}
}

static int send_data(const char *target, int port, long mib)
{
	struct sockaddr_in sa;
	static char buf[1 << 16];
	long long total = (long long)mib << 20, left = total;
	double t0;
	int fd;

	if (addr_of(target, &sa, port) < 0)
		return 2;
	/* A listener that is still starting (a slow guest) refuses: try again for 10 s. */
	if ((fd = connect_retry(&sa, target, port)) < 0)
		return 1;
	t0 = now();
	while (left > 0) {
		size_t chunk = left < (long long)sizeof(buf) ? (size_t)left : sizeof(buf);
		ssize_t n = write(fd, buf, chunk);

		if (n <= 0) {
			fprintf(stderr, "netprobe: write: %s\n", strerror(errno));
			return 1;
		}
		left -= n;
	}
	/*
	 * The time covers delivery: until the receiver's kernel has acknowledged every
	 * byte (SIOCOUTQ: what is not sent or not acknowledged yet), whether or not the
	 * receiving program closes (busybox nc half-closes when its input ends).
	 */
	shutdown(fd, SHUT_WR);
	for (int q = 1; ioctl(fd, SIOCOUTQ, &q) == 0 && q > 0;)
		usleep(1000);
	t0 = now() - t0;
	printf("%lld bytes %.3f s %.1f Mbit/s\n", total, t0, t0 > 0 ? total * 8 / t0 / 1e6 : 0);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "ping") == 0)
		return ping(argv[2]);
	if (argc == 3 && strcmp(argv[1], "sink") == 0)
		return sink(atoi(argv[2]));
	if (argc == 4 && strcmp(argv[1], "recv") == 0)
		return recv_data(argv[2], atoi(argv[3]));
	if (argc == 3 && strcmp(argv[1], "uecho") == 0)
		return uecho(atoi(argv[2]));
	if (argc == 5 && strcmp(argv[1], "send") == 0)
		return send_data(argv[2], atoi(argv[3]), atol(argv[4]));
	fprintf(stderr, "usage: netprobe ping ADDR | sink PORT | send ADDR PORT MIB | recv ADDR "
	                "PORT | uecho PORT\n");
	return 2;
}
