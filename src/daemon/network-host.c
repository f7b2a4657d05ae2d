/* SPDX-License-Identifier: MIT */
/*
 * A managed network's host side (network-internal.h): the bridge with the
 * gateway address, the sysctls, dnsmasq's files, and dnsmasq itself:
 * started daemonized (it forks, writes its pid file and only then lets its
 * parent exit, with its own error message on standard error when it cannot
 * start), found again after a daemon restart by its pid file and command
 * line, watched through a pidfd and restarted when it dies (five quick
 * deaths in a row and it is left down, logged).
 *
 * Every step is idempotent: vnet_up() on a network that is already up
 * changes nothing (an existing dnsmasq only re-reads its hosts files).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "daemon/netstore.h"
#include "daemon/network-internal.h"
#include "daemon/proc.h"
#include "net/dnsmasq.h"
#include "net/netns.h"

#define DNSMASQ_TIMEOUT_MS 10000
#define QUICK_DEATH_NS     (5ull * 1000000000)
#define QUICK_DEATHS_MAX   5

static int path_in(const char *dir, const char *file, char *buf, size_t len)
{
	return fmt_buf(buf, len, "%s/%s", dir, file);
}

/* --- files ----------------------------------------------------------------------------- */

static int write_text(const char *path, const char *text, mode_t mode, struct vk_error *err)
{
	int r;

	if (!text)
		return vk_error_set(err, ENOMEM, "out of memory");
	/* chmod: the daemon's umask is 077, and dnsmasq re-reads its hosts files as nobody. */
	if ((r = write_file_replace(path, text, mode)) < 0 ||
	    (r = chmod(path, mode) < 0 ? -errno : 0))
		return vk_error_errno(err, -r, "cannot write '%s'", path);
	return 0;
}

static int write_config(struct vnet *n, struct vk_error *err)
{
	char conf[PATH_MAX], pid[PATH_MAX], lease[PATH_MAX], hosts[PATH_MAX], addn[PATH_MAX];
	char log[PATH_MAX];
	struct dnsmasq_config c = {.network = n->name,
	                           .bridge = n->bridge,
	                           .plan = &n->plan,
	                           .router = n->nat,
	                           .forward = n->forward,
	                           .domain = n->domain,
	                           .pid_file = pid,
	                           .lease_file = lease,
	                           .hosts_file = hosts,
	                           .addn_hosts_file = addn,
	                           .log_file = log};
	char *text;
	int r;

	path_in(n->dir, "dnsmasq.conf", conf, sizeof(conf));
	path_in(n->dir, "dnsmasq.pid", pid, sizeof(pid));
	path_in(n->dir, "hosts", hosts, sizeof(hosts));
	path_in(n->dir, "addn-hosts", addn, sizeof(addn));
	path_in(n->dir, "dnsmasq.log", log, sizeof(log));
	path_in(n->state, "leases", lease, sizeof(lease));
	text = dnsmasq_config_text(&c);
	r = write_text(conf, text, 0644, err);
	free(text);
	return r;
}

/* The reservations as dnsmasq's dhcp-hostsfile and addn-hosts; SIGHUP makes it re-read them. */
int vnet_write_hosts(struct vnet *n, struct vk_error *err)
{
	struct netstore_addr *a = NULL;
	struct dnsmasq_host *h;
	char path[PATH_MAX], *text;
	size_t k = 0;
	int r;

	if ((r = netstore_addrs(nm.set.store, n->name, &a, &k, err)) < 0)
		return r;
	h = calloc(k ? k : 1, sizeof(*h));
	if (!h) {
		free(a);
		return vk_error_set(err, ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < k; i++) {
		snprintf(h[i].mac, sizeof(h[i].mac), "%s", a[i].mac);
		h[i].ip = a[i].ip;
		h[i].name = a[i].name;
		/* The instance's name goes to its first interface on the network only. */
		for (size_t j = 0; j < k; j++)
			if (strcmp(a[j].instance, a[i].instance) == 0 && a[j].nic < a[i].nic)
				h[i].name = NULL;
	}
	path_in(n->dir, "hosts", path, sizeof(path));
	text = dnsmasq_hosts_text(h, k);
	r = write_text(path, text, 0644, err);
	free(text);
	if (r == 0) {
		path_in(n->dir, "addn-hosts", path, sizeof(path));
		text = dnsmasq_addn_hosts_text(h, k, n->domain);
		r = write_text(path, text, 0644, err);
		free(text);
	}
	free(h);
	free(a);
	if (r == 0 && n->dnsmasq_pidfd >= 0)
		proc_pidfd_signal(n->dnsmasq_pidfd, SIGHUP);
	return r;
}

/* --- dnsmasq ------------------------------------------------------------------------------- */

/* Is pid a dnsmasq started with our configuration file? */
static bool is_ours(pid_t pid, const char *conf)
{
	char path[64], cmd[PATH_MAX + 64], want[PATH_MAX + 16];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, cmd, sizeof(cmd) - 1);
	close(fd);
	if (n <= 0)
		return false;
	cmd[n] = '\0';
	snprintf(want, sizeof(want), "--conf-file=%s", conf);
	/* argv[0] is dnsmasq; argv[1] our option (what dnsmasq_start() runs). */
	return strstr(cmd, "dnsmasq") && (size_t)n > strlen(cmd) + 1 &&
	       strcmp(cmd + strlen(cmd) + 1, want) == 0;
}

static void watch(struct vnet *n, pid_t pid)
{
	if (n->dnsmasq_pidfd >= 0)
		close(n->dnsmasq_pidfd);
	n->dnsmasq_pid = pid;
	n->dnsmasq_pidfd = proc_pidfd_open(pid);
	nm_supervisor_wake();
}

/* The dnsmasq a daemon before us started for n, if it runs: 0, else -ESRCH. */
static int dnsmasq_find(struct vnet *n)
{
	char conf[PATH_MAX];
	pid_t pid;

	path_in(n->dir, "dnsmasq.conf", conf, sizeof(conf));
	if (proc_read_pid(n->dir, "dnsmasq.pid", &pid) < 0 || pid <= 0 || !is_ours(pid, conf))
		return -ESRCH;
	watch(n, pid);
	return 0;
}

static int dnsmasq_start(struct vnet *n, struct vk_error *err)
{
	char conf[PATH_MAX], opt[PATH_MAX + 16], out[2048], last[300];
	const char *argv[] = {nm.dnsmasq, opt, NULL};
	pid_t pid;
	int st = 0, r;

	path_in(n->dir, "dnsmasq.conf", conf, sizeof(conf));
	snprintf(opt, sizeof(opt), "--conf-file=%s", conf);
	if ((r = proc_run(argv, DNSMASQ_TIMEOUT_MS, out, sizeof(out), &st, err)) < 0)
		return vk_error_prefix(err, "cannot start dnsmasq for network '%s'", n->name);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		proc_last_line(out, last, sizeof(last));
		proc_strip_prog(last, "dnsmasq");
		return vk_error_set(err, EIO, "dnsmasq failed to start for network '%s'%s%s",
		                    n->name, last[0] ? ": " : "", last);
	}
	if (proc_read_pid(n->dir, "dnsmasq.pid", &pid) < 0 || pid <= 0)
		return vk_error_set(err, EIO, "dnsmasq of network '%s' wrote no pid file", n->name);
	n->dnsmasq_started_ns = vk_now_ns();
	watch(n, pid);
	return 0;
}

void vnet_dnsmasq_stop(struct vnet *n)
{
	struct pollfd p = {.fd = n->dnsmasq_pidfd, .events = POLLIN};

	if (n->dnsmasq_pidfd < 0)
		return;
	proc_pidfd_signal(n->dnsmasq_pidfd, SIGTERM);
	if (poll(&p, 1, 3000) <= 0) {
		proc_pidfd_signal(n->dnsmasq_pidfd, SIGKILL);
		poll(&p, 1, 2000);
	}
	close(n->dnsmasq_pidfd);
	n->dnsmasq_pidfd = -1;
	n->dnsmasq_pid = 0;
	nm_supervisor_wake();
}

/* --- the bridge ---------------------------------------------------------------------------- */

/*
 * The bridge's MAC address: 02:76:6b ("vk", locally administered) and three
 * bytes of a hash of the network's name, the same whenever it is made.
 */
static void bridge_mac(const char *name, uint8_t mac[6])
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (const char *p = name; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	mac[0] = 0x02;
	mac[1] = 0x76;
	mac[2] = 0x6b;
	mac[3] = (uint8_t)(h >> 16);
	mac[4] = (uint8_t)(h >> 8);
	mac[5] = (uint8_t)h;
}

static int bridge_up(struct vnet *n, struct vk_error *err)
{
	char key[128];
	struct rtnl_link l;
	struct rtnl *nl;
	uint8_t mac[6];
	int r;

	if ((r = rtnl_open(&nl, err)) < 0)
		return r;
	r = rtnl_link_get(nl, n->bridge, &l, err);
	if (r == -ENODEV) {
		vk_error_clear(err);
		bridge_mac(n->name, mac);
		r = rtnl_bridge_add(nl, n->bridge, mac, err);
	} else if (r == 0 && strcmp(l.kind, "bridge") != 0) {
		r = vk_error_set(err, EEXIST, "interface '%s' exists and is not a bridge",
		                 n->bridge);
	}
	if (r == 0)
		r = rtnl_addr_add(nl, n->bridge, n->plan.gateway, n->plan.net.prefix, err);
	if (r == 0)
		r = rtnl_link_set_up(nl, n->bridge, err);
	rtnl_close(nl);
	if (r < 0)
		return r;
	/* Ports published on 127.0.0.1 are DNATed to guests behind the bridge (firewall.c). */
	snprintf(key, sizeof(key), "net/ipv4/conf/%s/route_localnet", n->bridge);
	if ((r = sysctl_set(key, "1", err)) < 0)
		return r;
	if (n->nat && (r = sysctl_set("net/ipv4/ip_forward", "1", err)) < 0)
		return r;
	return 0;
}

int vnet_up(struct vnet *n, struct vk_error *err)
{
	int r;

	if ((r = mkdir_p(n->dir, 0755)) < 0 || (r = mkdir_p(n->state, 0700)) < 0)
		return vk_error_errno(err, -r, "cannot create the folders of network '%s'",
		                      n->name);
	chmod(n->dir, 0755);
	if ((r = bridge_up(n, err)) < 0 || (r = write_config(n, err)) < 0 ||
	    (r = vnet_write_hosts(n, err)) < 0)
		return r;
	if (n->dnsmasq_pidfd >= 0 || dnsmasq_find(n) == 0) {
		proc_pidfd_signal(n->dnsmasq_pidfd, SIGHUP); /* re-read what may have changed */
		return 0;
	}
	return dnsmasq_start(n, err);
}

void vnet_down(struct vnet *n)
{
	struct vk_error err = {0};
	struct rtnl *nl;

	if (n->dnsmasq_pidfd < 0)
		(void)dnsmasq_find(n);
	vnet_dnsmasq_stop(n);
	if (rtnl_open(&nl, &err) == 0) {
		struct rtnl_link l;
		if (rtnl_link_get(nl, n->bridge, &l, NULL) == 0 &&
		    rtnl_link_del(nl, n->bridge, &err) < 0 && err.code != ENODEV)
			vk_warn("network '%s': %s", n->name, err.msg);
		rtnl_close(nl);
	}
	rm_rf(n->dir);
	rm_rf(n->state);
}

/* --- supervision ------------------------------------------------------------------------------ */

/* A dnsmasq that exited (nm.lock held): start it again, unless it keeps dying at once. */
static void dnsmasq_died(struct vnet *n)
{
	struct vk_error err = {0};
	bool quick = vk_now_ns() - n->dnsmasq_started_ns < QUICK_DEATH_NS;

	close(n->dnsmasq_pidfd);
	n->dnsmasq_pidfd = -1;
	n->dnsmasq_pid = 0;
	n->quick_deaths = quick ? n->quick_deaths + 1 : 0;
	if (n->quick_deaths >= QUICK_DEATHS_MAX) {
		vk_err("dnsmasq of network '%s' exited %u times in a row right after starting; "
		       "left down (see %s/dnsmasq.log)",
		       n->name, n->quick_deaths, n->dir);
		return;
	}
	vk_warn("dnsmasq of network '%s' exited; starting it again", n->name);
	if (write_config(n, &err) < 0 || dnsmasq_start(n, &err) < 0)
		vk_err("%s", err.msg);
}

static void *supervise(void *arg)
{
	(void)arg;
	for (;;) {
		struct pollfd p[65];
		size_t k = 1;
		bool more;
		char b[16];

		p[0] = (struct pollfd){.fd = nm.wake[0], .events = POLLIN};
		pthread_mutex_lock(&nm.lock);
		if (nm.stop) {
			pthread_mutex_unlock(&nm.lock);
			return NULL;
		}
		/* Our own copies: a pidfd closed meanwhile must not be polled as a reused number. */
		for (size_t i = 0; i < nm.nnets && k < ARRAY_SIZE(p); i++)
			if (nm.nets[i]->dnsmasq_pidfd >= 0)
				p[k++] = (struct pollfd){
				        .fd = fcntl(nm.nets[i]->dnsmasq_pidfd, F_DUPFD_CLOEXEC, 3),
				        .events = POLLIN};
		more = nm.nnets >= ARRAY_SIZE(p);
		pthread_mutex_unlock(&nm.lock);
		/* 64 dnsmasq processes are watched at once; with more, all are looked at every 5 s. */
		poll(p, (nfds_t)k, more ? 5000 : -1);
		while (read(nm.wake[0], b, sizeof(b)) > 0)
			;
		for (size_t i = 1; i < k; i++)
			if (p[i].fd >= 0)
				close(p[i].fd);
		pthread_mutex_lock(&nm.lock);
		for (size_t i = 0; i < nm.nnets; i++) {
			struct pollfd q = {.fd = nm.nets[i]->dnsmasq_pidfd, .events = POLLIN};
			if (q.fd >= 0 && poll(&q, 1, 0) > 0)
				dnsmasq_died(nm.nets[i]);
		}
		pthread_mutex_unlock(&nm.lock);
	}
}

int nm_supervisor_start(struct vk_error *err)
{
	int r;

	if (pipe2(nm.wake, O_CLOEXEC | O_NONBLOCK) < 0)
		return vk_error_errno(err, errno, "cannot create a pipe");
	nm.stop = false;
	if ((r = pthread_create(&nm.supervisor, NULL, supervise, NULL)) != 0)
		return vk_error_errno(err, r, "cannot start the dnsmasq supervisor");
	nm.supervising = true;
	return 0;
}

void nm_supervisor_wake(void)
{
	if (nm.wake[1] >= 0)
		(void)!write(nm.wake[1], "", 1);
}

void nm_supervisor_stop(void)
{
	if (!nm.supervising)
		return;
	pthread_mutex_lock(&nm.lock);
	nm.stop = true;
	pthread_mutex_unlock(&nm.lock);
	nm_supervisor_wake();
	pthread_join(nm.supervisor, NULL);
	nm.supervising = false;
	close(nm.wake[0]);
	close(nm.wake[1]);
	nm.wake[0] = nm.wake[1] = -1;
}
