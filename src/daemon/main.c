/* SPDX-License-Identifier: MIT */
/*
 * virtkitd: command line, folders, start-up (load the store, reattach to
 * running instances, serve the API, autostart) and shutdown (instances keep
 * running: a restarted daemon reattaches). `virtkitd __shim DIR` runs the
 * per-instance shim instead (shim-main.c).
 *
 * The top of the daemon's layers (docs/architecture.md): the configuration
 * lives here and each layer below gets the part it needs, as a value, when it
 * starts; none of them reaches back into this file.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "common/x509.h"
#include "daemon/api-remote.h"
#include "daemon/api-stream.h"
#include "daemon/api.h"
#include "daemon/domxml.h"
#include "daemon/driver.h"
#include "daemon/events.h"
#include "daemon/http.h"
#include "daemon/images.h"
#include "daemon/lifecycle.h"
#include "daemon/monitor.h"
#include "daemon/netstore.h"
#include "daemon/network.h"
#include "daemon/paths.h"
#include "daemon/proc.h"
#include "daemon/shim-main.h"
#include "daemon/store-saved.h"
#include "daemon/store.h"
#include "daemon/volumes.h"
#include "daemon/trust.h"

/* The configuration, fixed at start-up (before any thread starts), read-only afterwards. */
static struct {
	struct vkd_paths paths; /* state_dir, run_dir */
	char socket_path[108];  /* sun_path */
	char vm_binary[PATH_MAX];
	char oci_runtime[PATH_MAX];
	char self_exe[PATH_MAX];    /* re-executed as the shim without virtkit-shim */
	char shim_binary[PATH_MAX]; /* virtkit-shim next to us, or empty */
	char oci_root[PATH_MAX];
	gid_t socket_gid; /* (gid_t)-1 when the group does not exist */
	mode_t socket_mode;
	size_t max_body;
	int stop_timeout_s;
	bool autostart;
	struct store *store;
	struct netstore *netstore;
	char listen[128];   /* --listen ADDR:PORT, or empty: no TLS listener */
	char web[PATH_MAX]; /* --web, or found (the web console's files), or empty */
	char cert_path[PATH_MAX + 16], key_path[PATH_MAX + 16];
	char fingerprint[VK_FINGERPRINT_LEN + 1];
	struct trust *trust;
} vkd;

static void usage(FILE *f)
{
	fprintf(f,
	        "Usage: virtkitd [OPTION]...\n"
	        "The virtkit daemon: manages VMs and containers over a REST API on a unix socket.\n"
	        "\n"
	        "  --socket PATH        API socket (default RUN_DIR/virtkit.sock)\n"
	        "  --state-dir DIR      database and console logs (default /var/lib/virtkit)\n"
	        "  --run-dir DIR        runtime files (default /run/virtkit)\n"
	        "  --vm-binary PATH     virtkit-vm to run VMs with ($VIRTKIT_VM_BINARY)\n"
	        "  --oci-runtime PATH   OCI runtime for containers ($VIRTKIT_OCI_RUNTIME)\n"
	        "  --socket-group NAME  group allowed to use the socket (default virtkit)\n"
	        "  --socket-mode MODE   octal mode of the socket (default 0660)\n"
	        "  --max-body SIZE      request body limit (default 1M)\n"
	        "  --listen ADDR:PORT   also serve the API over TLS (client certificates:\n"
	        "                       virtkit trust); e.g. 127.0.0.1:8443, [::1]:8443, :8443\n"
	        "  --web DIR            the web console's files it serves over TLS (default:\n"
	        "                       the build tree's web/, else PREFIX/share/virtkit/web)\n"
	        "  --stop-timeout S     graceful stop timeout in seconds (default 30)\n"
	        "  --no-autostart       do not start autostart instances\n"
	        "  --log-level LEVEL    error, warning, info or debug (default info)\n"
	        "  --version, --help\n");
}

static int set_path(char *dst, size_t len, const char *src, const char *what)
{
	if (snprintf(dst, len, "%s", src) >= (int)len) {
		fprintf(stderr, "virtkitd: %s '%s' is too long\n", what, src);
		return -1;
	}
	return 0;
}

/* Next to us in the build tree (src/daemon → src/vm), next to us installed, then $PATH. */
static void default_binary(char *dst, size_t len, const char *env, const char *subdir,
                           const char *name)
{
	char dir[PATH_MAX], cand[PATH_MAX + 64];
	const char *e = getenv(env);

	if (dst[0])
		return;
	if (e && *e) {
		snprintf(dst, len, "%s", e);
		return;
	}
	snprintf(cand, sizeof(cand), "%s", vkd.self_exe);
	snprintf(dir, sizeof(dir), "%s", dirname(cand));
	snprintf(cand, sizeof(cand), "%s/../%s/%s", dir, subdir, name);
	if (access(cand, X_OK) == 0 && realpath(cand, dst))
		return;
	snprintf(cand, sizeof(cand), "%s/%s", dir, name);
	if (access(cand, X_OK) == 0 && (size_t)snprintf(dst, len, "%s", cand) < len)
		return;
	if (!find_executable(name, dst, len))
		snprintf(dst, len, "%s", name);
}

/* The web console's files: --web, else build/web (from build/src/daemon), else ../share. */
static void find_web(void)
{
	char self[PATH_MAX], dir[PATH_MAX], cand[PATH_MAX + 64];

	if (vkd.web[0]) {
		snprintf(cand, sizeof(cand), "%s/index.html", vkd.web);
		if (access(cand, R_OK) != 0)
			vk_warn("--web '%s' has no index.html: the web console will not be found",
			        vkd.web);
		return;
	}
	snprintf(self, sizeof(self), "%s", vkd.self_exe);
	snprintf(dir, sizeof(dir), "%s", dirname(self));
	snprintf(cand, sizeof(cand), "%s/../../web/index.html", dir);
	if (access(cand, R_OK) != 0)
		snprintf(cand, sizeof(cand), "%s/../share/virtkit/web/index.html", dir);
	if (access(cand, R_OK) == 0 && realpath(cand, vkd.web))
		*strrchr(vkd.web, '/') = '\0';
	else
		vkd.web[0] = '\0';
}

/* virtkit-shim beside virtkitd (build tree), or in ../libexec (installed). */
static void find_shim(void)
{
	char dir[PATH_MAX], cand[PATH_MAX + 64];

	char self[PATH_MAX];

	/* dirname() works in place: keep the source and the result apart. */
	snprintf(self, sizeof(self), "%s", vkd.self_exe);
	snprintf(dir, sizeof(dir), "%s", dirname(self));
	snprintf(cand, sizeof(cand), "%s/virtkit-shim", dir);
	if (access(cand, X_OK) != 0)
		snprintf(cand, sizeof(cand), "%s/../libexec/virtkit-shim", dir);
	if (access(cand, X_OK) != 0 || !realpath(cand, vkd.shim_binary))
		vkd.shim_binary[0] = '\0';
}

static int parse_args(int argc, char **argv)
{
	static const struct option opts[] = {
	        {"socket", required_argument, NULL, 's'},
	        {"state-dir", required_argument, NULL, 'd'},
	        {"run-dir", required_argument, NULL, 'r'},
	        {"vm-binary", required_argument, NULL, 'V'},
	        {"oci-runtime", required_argument, NULL, 'O'},
	        {"socket-group", required_argument, NULL, 'g'},
	        {"socket-mode", required_argument, NULL, 'm'},
	        {"max-body", required_argument, NULL, 'b'},
	        {"stop-timeout", required_argument, NULL, 't'},
	        {"no-autostart", no_argument, NULL, 'A'},
	        {"log-level", required_argument, NULL, 'l'},
	        {"listen", required_argument, NULL, 'L'},
	        {"web", required_argument, NULL, 'W'},
	        {"version", no_argument, NULL, 'v'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	const char *group = "virtkit";
	struct vk_error err = {0};
	uint64_t v;
	int c;

	vkd.socket_mode = 0660;
	vkd.max_body = 1 << 20;
	vkd.stop_timeout_s = 30;
	vkd.autostart = true;
	snprintf(vkd.paths.state_dir, sizeof(vkd.paths.state_dir), "/var/lib/virtkit");
	snprintf(vkd.paths.run_dir, sizeof(vkd.paths.run_dir), "/run/virtkit");
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (set_path(vkd.socket_path, sizeof(vkd.socket_path), optarg, "--socket") <
			    0)
				return -1;
			break;
		case 'd':
			if (set_path(vkd.paths.state_dir, sizeof(vkd.paths.state_dir), optarg,
			             "--state-dir") < 0)
				return -1;
			break;
		case 'r':
			if (set_path(vkd.paths.run_dir, sizeof(vkd.paths.run_dir), optarg,
			             "--run-dir") < 0)
				return -1;
			break;
		case 'V':
			if (set_path(vkd.vm_binary, sizeof(vkd.vm_binary), optarg, "--vm-binary") <
			    0)
				return -1;
			break;
		case 'O':
			if (set_path(vkd.oci_runtime, sizeof(vkd.oci_runtime), optarg,
			             "--oci-runtime") < 0)
				return -1;
			break;
		case 'g':
			group = optarg;
			break;
		case 'm': {
			char *end;
			unsigned long m = strtoul(optarg, &end, 8);
			if (*end || m > 0777) {
				fprintf(stderr,
				        "virtkitd: --socket-mode '%s' is not an octal mode\n",
				        optarg);
				return -1;
			}
			vkd.socket_mode = (mode_t)m;
			break;
		}
		case 'b':
			if (vk_parse_size(optarg, &v, &err) < 0 || v < 4096 || v > (64u << 20)) {
				fprintf(stderr,
				        "virtkitd: --max-body must be a size from 4K to 64M\n");
				return -1;
			}
			vkd.max_body = (size_t)v;
			break;
		case 't':
			if (vk_parse_uint(optarg, 1, 3600, &v) < 0) {
				fprintf(stderr,
				        "virtkitd: --stop-timeout must be 1 to 3600 seconds\n");
				return -1;
			}
			vkd.stop_timeout_s = (int)v;
			break;
		case 'A':
			vkd.autostart = false;
			break;
		case 'L':
			if (set_path(vkd.listen, sizeof(vkd.listen), optarg, "--listen") < 0)
				return -1;
			break;
		case 'W':
			if (set_path(vkd.web, sizeof(vkd.web), optarg, "--web") < 0)
				return -1;
			break;
		case 'l':
			if (!strcmp(optarg, "error"))
				vk_log_set_level(VK_LOG_ERROR);
			else if (!strcmp(optarg, "warning"))
				vk_log_set_level(VK_LOG_WARN);
			else if (!strcmp(optarg, "info"))
				vk_log_set_level(VK_LOG_INFO);
			else if (!strcmp(optarg, "debug"))
				vk_log_set_level(VK_LOG_DEBUG);
			else {
				fprintf(stderr, "virtkitd: unknown --log-level '%s'\n", optarg);
				return -1;
			}
			break;
		case 'v':
			printf("virtkitd %s\n", VIRTKIT_VERSION);
			exit(0);
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "virtkitd: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	{
		struct group *gr = getgrnam(group);
		vkd.socket_gid = gr ? gr->gr_gid : (gid_t)-1;
	}
	return 0;
}

static int prepare_dirs(struct vk_error *err)
{
	char path[PATH_MAX + 32];
	char real[PATH_MAX];
	struct stat st;
	int r, e;

	/*
	 * The state folder itself is created, never its parents: a mistyped
	 * --state-dir must fail here, not grow a tree and a database somewhere.
	 */
	e = mkdir(vkd.paths.state_dir, 0700) < 0 ? errno : 0;
	if (e == ENOENT)
		return vk_error_set(err, ENOENT,
		                    "cannot create the state folder '%s': its parent folder does "
		                    "not exist (virtkitd creates only the last one)",
		                    vkd.paths.state_dir);
	if ((e && e != EEXIST) || (e = stat(vkd.paths.state_dir, &st) < 0 ? errno : 0))
		return vk_error_errno(err, e, "cannot create the state folder '%s'",
		                      vkd.paths.state_dir);
	if (!S_ISDIR(st.st_mode))
		return vk_error_set(err, ENOTDIR, "the state folder '%s' is not a folder",
		                    vkd.paths.state_dir);
	if ((r = mkdir_p(vkd.paths.run_dir, 0755)) < 0)
		return vk_error_errno(err, -r, "cannot create the run folder '%s'",
		                      vkd.paths.run_dir);
	/* Absolute paths: shims and runtimes run with another cwd. */
	if (realpath(vkd.paths.state_dir, real))
		snprintf(vkd.paths.state_dir, sizeof(vkd.paths.state_dir), "%s", real);
	if (realpath(vkd.paths.run_dir, real))
		snprintf(vkd.paths.run_dir, sizeof(vkd.paths.run_dir), "%s", real);
	snprintf(path, sizeof(path), "%s/logs", vkd.paths.state_dir);
	if ((r = mkdir_p(path, 0700)) < 0)
		return vk_error_errno(err, -r, "cannot create '%s'", path);
	snprintf(path, sizeof(path), "%s/instances", vkd.paths.run_dir);
	if ((r = mkdir_p(path, 0700)) < 0)
		return vk_error_errno(err, -r, "cannot create '%s'", path);
	if ((size_t)snprintf(vkd.oci_root, sizeof(vkd.oci_root), "%s/oci", vkd.paths.run_dir) >=
	    sizeof(vkd.oci_root))
		return vk_error_set(err, ENAMETOOLONG, "the run folder '%s' is too long",
		                    vkd.paths.run_dir);
	if ((r = mkdir_p(vkd.oci_root, 0700)) < 0)
		return vk_error_errno(err, -r, "cannot create '%s'", vkd.oci_root);
	if (!vkd.socket_path[0] &&
	    (size_t)snprintf(vkd.socket_path, sizeof(vkd.socket_path), "%s/virtkit.sock",
	                     vkd.paths.run_dir) >= sizeof(vkd.socket_path))
		return vk_error_set(err, ENAMETOOLONG, "the socket path in '%s' is too long",
		                    vkd.paths.run_dir);
	return 0;
}

/* One daemon per state folder: a second one would corrupt nothing (SQLite locks) but fight. */
static int lock_state_dir(struct vk_error *err)
{
	char path[PATH_MAX + 16];
	int fd;

	snprintf(path, sizeof(path), "%s/virtkitd.lock", vkd.paths.state_dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return vk_error_errno(err, errno, "cannot open '%s'", path);
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		return vk_error_set(err, EBUSY, "another virtkitd uses the state folder '%s'",
		                    vkd.paths.state_dir);
	}
	return fd; /* held until exit */
}

/*
 * The server certificate (made at the first start, kept in the state folder)
 * and the trust store: both exist with or without --listen, so that `virtkit
 * host` shows the fingerprint and trust can be prepared before listening.
 */
static int prepare_tls(struct vk_error *err)
{
	char host[64], cn[96], path[PATH_MAX + 16];
	uint8_t *pem;
	size_t len;
	int r;

	snprintf(vkd.cert_path, sizeof(vkd.cert_path), "%s/server.crt", vkd.paths.state_dir);
	snprintf(vkd.key_path, sizeof(vkd.key_path), "%s/server.key", vkd.paths.state_dir);
	if (gethostname(host, sizeof(host)) < 0)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	snprintf(cn, sizeof(cn), "virtkitd@%s", host);
	if ((r = vk_x509_ensure(vkd.cert_path, vkd.key_path, cn, VK_X509_SERVER, err)) < 0)
		return r;
	if (r == 1)
		vk_info("made the server certificate %s", vkd.cert_path);
	if ((r = vk_read_file(vkd.cert_path, 1 << 20, &pem, &len, err)) < 0)
		return r;
	r = vk_x509_fingerprint_pem((const char *)pem, len, vkd.fingerprint, NULL, NULL, err);
	free(pem);
	if (r < 0)
		return vk_error_prefix(err, "'%s'", vkd.cert_path);
	snprintf(path, sizeof(path), "%s/trust.json", vkd.paths.state_dir);
	return trust_open(path, &vkd.trust, err);
}

static int start_tls(struct vk_error *err)
{
	uint8_t *cert = NULL, *key = NULL;
	size_t len;
	char bound[128];
	int r;

	if (!vkd.listen[0])
		return 0;
	if ((r = vk_read_file(vkd.cert_path, 1 << 20, &cert, &len, err)) < 0 ||
	    (r = vk_read_file(vkd.key_path, 1 << 20, &key, &len, err)) < 0)
		goto out;
	r = http_tls_start(&(struct http_tls_config){.address = vkd.listen,
	                                             .cert_pem = (const char *)cert,
	                                             .key_pem = (const char *)key,
	                                             .max_body = vkd.max_body},
	                   api_remote_dispatch, NULL, bound, sizeof(bound), err);
	if (r == 0) {
		api_remote_listening(bound);
		vk_info("listening on https://%s (TLS; certificate fingerprint %s)", bound,
		        vkd.fingerprint);
	}
out:
	if (key) {
		memset(key, 0, len);
		free(key);
	}
	free(cert);
	return r;
}

/* Hand each layer the part of the configuration it needs. */
static void init_layers(void)
{
	drivers_init(&(struct driver_settings){
	        .vm_binary = vkd.vm_binary,
	        .oci_runtime = vkd.oci_runtime,
	        .oci_root = vkd.oci_root,
	        .shim = {.path = vkd.shim_binary[0] ? vkd.shim_binary : vkd.self_exe,
	                 .daemon = !vkd.shim_binary[0]},
	});
	lifecycle_init(&(struct lifecycle_settings){.paths = &vkd.paths,
	                                            .stop_timeout_s = vkd.stop_timeout_s});
	api_init(&(struct api_settings){.store = vkd.store,
	                                .paths = &vkd.paths,
	                                .vm_binary = vkd.vm_binary,
	                                .oci_runtime = vkd.oci_runtime,
	                                .shim = vkd.shim_binary[0] ? vkd.shim_binary
	                                                           : vkd.self_exe});
	api_remote_init(&(struct api_remote_settings){.trust = vkd.trust,
	                                              .fingerprint = vkd.fingerprint,
	                                              .cert_path = vkd.cert_path,
	                                              .web_root = vkd.web[0] ? vkd.web : NULL});
}

static int load_one(void *opaque, const struct store_instance *in)
{
	struct vk_error err = {0};
	struct instance *inst;
	json_object *def = json_tokener_parse(in->definition);
	enum inst_state st;

	(void)opaque;
	if (!def) {
		vk_err("instance '%s': stored definition is not valid JSON; skipped", in->name);
		return 0;
	}
	if (inst_state_parse(in->state, &st) < 0)
		st = ST_SHUTOFF;
	if (instance_add(def, in->autostart, st, in->reason, false, &inst, &err) < 0) {
		vk_err("instance '%s': %s", in->name, err.msg);
	} else {
		struct exit_info ex = {.known = in->exit_known,
		                       .signaled = in->exit_signal > 0,
		                       .code = in->exit_signal > 0 ? in->exit_signal
		                                                   : in->exit_code};
		instance_set_exit(inst, &ex);
		instance_unref(inst);
	}
	json_object_put(def);
	return 0;
}

static void recover_all(void)
{
	struct instance **list;
	size_t n, i;

	if (instance_list(&list, &n) < 0)
		return;
	for (i = 0; i < n; i++)
		lifecycle_recover(list[i]);
	instance_list_free(list, n);
}

static void forget_all(void)
{
	struct instance **list;
	size_t n, i;

	if (instance_list(&list, &n) < 0)
		return;
	for (i = 0; i < n; i++)
		instance_remove(list[i]);
	instance_list_free(list, n);
}

int main(int argc, char **argv)
{
	struct vk_error err = {0};
	sigset_t mask;
	char path[PATH_MAX + 16];
	int sig, lock_fd, r;
	ssize_t n;

	umask(0077); /* files are private unless made otherwise (the socket: --socket-mode) */
	if (argc == 3 && strcmp(argv[1], "__shim") == 0)
		return shim_main(argv[2]);
	vk_log_init("virtkitd", VK_LOG_INFO);
	vk_log_set_timestamps(true);
	n = readlink("/proc/self/exe", vkd.self_exe, sizeof(vkd.self_exe) - 1);
	if (n <= 0) {
		fprintf(stderr, "virtkitd: cannot find its own executable\n");
		return 1;
	}
	vkd.self_exe[n] = '\0';
	if (parse_args(argc, argv) < 0)
		return 2;
	default_binary(vkd.vm_binary, sizeof(vkd.vm_binary), "VIRTKIT_VM_BINARY", "vm",
	               "virtkit-vm");
	default_binary(vkd.oci_runtime, sizeof(vkd.oci_runtime), "VIRTKIT_OCI_RUNTIME", "oci",
	               "virtkit-oci");
	find_shim();
	find_web();

	/* Signals go to sigwait() below; every thread inherits this mask. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);

	if ((r = prepare_dirs(&err)) < 0 || (lock_fd = lock_state_dir(&err)) < 0 ||
	    (r = prepare_tls(&err)) < 0)
		goto fail;
	domxml_init();
	snprintf(path, sizeof(path), "%s/virtkit.db", vkd.paths.state_dir);
	if ((r = store_open(path, events_publish, &vkd.store, &err)) < 0)
		goto fail;
	events_init(vkd.store);
	instance_registry_init(vkd.store);
	init_layers();
	if ((r = volumes_init(&(struct volumes_settings){.store = vkd.store,
	                                                 .paths = &vkd.paths,
	                                                 .vm_binary = vkd.vm_binary},
	                      &err)) < 0 ||
	    (r = store_saved_init(vkd.store, &err)) < 0 ||
	    (r = store_load(vkd.store, load_one, NULL, &err)) < 0 ||
	    (r = monitor_init(lifecycle_on_exit, &err)) < 0)
		goto fail;
	/* Networks come up before instances reattach to them (network.h). */
	if ((r = netstore_open(path, &vkd.netstore, &err)) < 0 ||
	    (r = network_init(
	             &(struct network_settings){.paths = &vkd.paths, .store = vkd.netstore},
	             &err)) < 0)
		goto fail;
	recover_all();
	network_ready();
	if ((r = images_init(&(struct images_settings){.store = vkd.store,
	                                               .paths = &vkd.paths,
	                                               .vm_binary = vkd.vm_binary},
	                     &err)) < 0)
		goto fail;
	if ((r = http_start(&(struct http_config){.socket_path = vkd.socket_path,
	                                          .socket_gid = vkd.socket_gid,
	                                          .socket_mode = vkd.socket_mode,
	                                          .max_body = vkd.max_body},
	                    api_dispatch, NULL, &err)) < 0)
		goto fail;
	vk_info("listening on %s (vm: %s, oci: %s)", vkd.socket_path, vkd.vm_binary,
	        vkd.oci_runtime);
	if ((r = start_tls(&err)) < 0) {
		http_stop();
		goto fail;
	}
	if (vkd.autostart)
		lifecycle_autostart_all();

	for (;;) {
		if (sigwait(&mask, &sig) != 0)
			continue;
		if (sig == SIGTERM || sig == SIGINT)
			break;
	}
	vk_info("shutting down (instances keep running)");
	api_streams_shutdown();
	lifecycle_detach_all();
	/* Relays see the flag within half a second; a close lingers 2 s, a send waits 10 s. */
	if (api_upgraded_shutdown(15000)) {
		http_tls_stop();
		http_stop();
	} else {
		unlink(vkd.socket_path); /* libmicrohttpd ends with the process, handles in use */
	}
	lifecycle_shutdown();
	monitor_shutdown();
	network_shutdown();
	forget_all();
	netstore_close(vkd.netstore);
	images_shutdown();
	store_close(vkd.store);
	trust_close(vkd.trust);
	close(lock_fd);
	return 0;
fail:
	vk_err("%s", err.msg);
	return 1;
}
