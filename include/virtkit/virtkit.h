/* SPDX-License-Identifier: MIT */
/*
 * libvirtkit: the C client of virtkitd's REST API (docs/api.md).
 *
 * Conventions:
 *  - every object is an opaque handle with a matching free/close function;
 *  - functions that can fail take a `virtkit_error **err` (may be NULL); on
 *    failure they return -1 or NULL and, when err is non-NULL, set *err to a
 *    new error object the caller frees with virtkit_error_free(); the
 *    message is one sentence fit to show a user as is;
 *  - the library never prints anything;
 *  - a connection may be shared by threads (requests on it are serialized);
 *    streams belong to one thread.
 *
 * The daemon is found through the socket path given to virtkit_connect(),
 * else $VIRTKIT_SOCKET, else /run/virtkit/virtkit.sock.
 */
#ifndef VIRTKIT_VIRTKIT_H
#define VIRTKIT_VIRTKIT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The library is built with hidden symbols; exactly what is declared here is exported. */
#pragma GCC visibility push(default)

#define VIRTKIT_DEFAULT_SOCKET "/run/virtkit/virtkit.sock"

/* A SHA-256 certificate fingerprint: 64 lower-case hex digits and a NUL. */
#define VIRTKIT_FINGERPRINT_SIZE 65

typedef struct virtkit_conn virtkit_conn;
typedef struct virtkit_error virtkit_error;
typedef struct virtkit_instance virtkit_instance;
typedef struct virtkit_stream virtkit_stream;
typedef struct virtkit_volume virtkit_volume;

/* --- errors ------------------------------------------------------------------ */

enum virtkit_error_kind {
	VIRTKIT_ERR_CONNECT = 1, /* the daemon cannot be reached (not running, no permission) */
	VIRTKIT_ERR_API,         /* the daemon refused: see virtkit_error_status() */
	VIRTKIT_ERR_PROTOCOL,    /* the daemon's answer makes no sense */
	VIRTKIT_ERR_INVALID,     /* a bad argument from the caller */
	VIRTKIT_ERR_SYSTEM,      /* out of memory, I/O error on this side */
};

const char *virtkit_error_message(const virtkit_error *e);
enum virtkit_error_kind virtkit_error_kind(const virtkit_error *e);
/* The HTTP status of an API error (404: not found, 409: wrong state, ...), else 0. */
int virtkit_error_status(const virtkit_error *e);
void virtkit_error_free(virtkit_error *e);

/* --- connection ---------------------------------------------------------------- */

/* The socket path used when none is given: $VIRTKIT_SOCKET or the default. */
const char *virtkit_default_socket(void);

/* Connect (and check that a virtkitd answers). socket_path may be NULL. */
virtkit_conn *virtkit_connect(const char *socket_path, virtkit_error **err);
void virtkit_disconnect(virtkit_conn *conn);
const char *virtkit_conn_socket(const virtkit_conn *conn);

/*
 * Any request, for what the typed calls do not cover. body may be NULL.
 * On success *resp (malloc'd, NUL-terminated; free()) and *status are set;
 * an HTTP error status is not a failure of this call.
 */
int virtkit_request(virtkit_conn *conn, const char *method, const char *path,
                    const char *content_type, const char *body, size_t body_len, char **resp,
                    size_t *resp_len, int *status, virtkit_error **err);

/* GET /1.0 as JSON text (free()). */
char *virtkit_server_info(virtkit_conn *conn, virtkit_error **err);
/* GET /1.0/host as JSON text (free()): KVM, architectures, CPU, memory, instances, versions. */
char *virtkit_host_info(virtkit_conn *conn, virtkit_error **err);

/* --- instances -------------------------------------------------------------------- */

int virtkit_instance_list(virtkit_conn *conn, virtkit_instance ***list, size_t *count,
                          virtkit_error **err);
void virtkit_instance_list_free(virtkit_instance **list, size_t count);

virtkit_instance *virtkit_instance_get(virtkit_conn *conn, const char *name, virtkit_error **err);
/* data: a JSON definition or a libvirt domain XML document (told apart by its first byte). */
virtkit_instance *virtkit_instance_define(virtkit_conn *conn, const char *data, size_t len,
                                          virtkit_error **err);
/*
 * With VIRTKIT_DEFINE_UPDATE an instance of the same name (or uuid) gets the new
 * definition (as virtkit_instance_update() would) instead of a conflict error;
 * virtkit_instance_updated() tells which happened.
 */
#define VIRTKIT_DEFINE_UPDATE 1u
virtkit_instance *virtkit_instance_define_flags(virtkit_conn *conn, const char *data, size_t len,
                                                unsigned flags, virtkit_error **err);
virtkit_instance *virtkit_instance_update(virtkit_conn *conn, const char *name, const char *data,
                                          size_t len, virtkit_error **err);
int virtkit_instance_undefine(virtkit_conn *conn, const char *name, virtkit_error **err);

#define VIRTKIT_STOP_FORCE 1u

int virtkit_instance_start(virtkit_conn *conn, const char *name, virtkit_error **err);
/* timeout_s <= 0: the daemon's default. */
int virtkit_instance_stop(virtkit_conn *conn, const char *name, unsigned flags, int timeout_s,
                          virtkit_error **err);
/*
 * The same, with the daemon's answer in *reply (JSON, free()): the instance's
 * summary plus, for a graceful stop, "escalated" (it had to kill after
 * "stop_timeout" seconds) and "stop_signal" (what it sent first).
 */
int virtkit_instance_stop_ex(virtkit_conn *conn, const char *name, unsigned flags, int timeout_s,
                             char **reply, virtkit_error **err);
int virtkit_instance_kill(virtkit_conn *conn, const char *name, virtkit_error **err);
int virtkit_instance_restart(virtkit_conn *conn, const char *name, int timeout_s,
                             virtkit_error **err);
int virtkit_instance_pause(virtkit_conn *conn, const char *name, virtkit_error **err);
int virtkit_instance_resume(virtkit_conn *conn, const char *name, virtkit_error **err);
int virtkit_instance_set_autostart(virtkit_conn *conn, const char *name, int on,
                                   virtkit_error **err);

/*
 * Malloc'd text (free()): domain XML, the console log (its last tail bytes,
 * 0: as much as the daemon gives; *len set), statistics JSON.
 */
char *virtkit_instance_xml(virtkit_conn *conn, const char *name, virtkit_error **err);
char *virtkit_instance_logs(virtkit_conn *conn, const char *name, size_t tail, size_t *len,
                            virtkit_error **err);
/* The console log's last `lines` lines (*len set). */
char *virtkit_instance_log_lines(virtkit_conn *conn, const char *name, size_t lines, size_t *len,
                                 virtkit_error **err);
char *virtkit_instance_stats(virtkit_conn *conn, const char *name, virtkit_error **err);

/* A snapshot of one instance, as the daemon described it. */
const char *virtkit_instance_name(const virtkit_instance *i);
const char *virtkit_instance_uuid(const virtkit_instance *i);
const char *virtkit_instance_type(const virtkit_instance *i);   /* vm, container */
const char *virtkit_instance_state(const virtkit_instance *i);  /* shutoff, running, ... */
const char *virtkit_instance_reason(const virtkit_instance *i); /* booted, user, ... */
int virtkit_instance_autostart(const virtkit_instance *i);
pid_t virtkit_instance_pid(const virtkit_instance *i); /* 0 when not running */
/* 1 when the handle comes from a define that replaced an existing definition. */
int virtkit_instance_updated(const virtkit_instance *i);
/* The whole object as JSON text (valid until the handle is freed). */
const char *virtkit_instance_json(const virtkit_instance *i);
void virtkit_instance_free(virtkit_instance *i);

/* --- networks ------------------------------------------------------------------------ */

/*
 * Networks the daemon manages (a bridge, DHCP and DNS, NAT or isolation),
 * which VMs and containers join by name. The answers are JSON text (free()):
 * list {"networks": [network, ...]}; create and info one network (name,
 * subnet, gateway, mode, bridge, dns_domain, dhcp ranges, used_by, ...);
 * leases {"leases": [{instance, type, mac, ip, hostname, expires, source}]}.
 * create takes a JSON definition {"name", "subnet", "mode": "nat"|"isolated",
 * "dns_domain", "dns_forward"}; delete fails (409) while an instance uses it.
 */
char *virtkit_network_list(virtkit_conn *conn, virtkit_error **err);
char *virtkit_network_create(virtkit_conn *conn, const char *json, virtkit_error **err);
char *virtkit_network_info(virtkit_conn *conn, const char *name, virtkit_error **err);
int virtkit_network_delete(virtkit_conn *conn, const char *name, virtkit_error **err);
char *virtkit_network_leases(virtkit_conn *conn, const char *name, virtkit_error **err);

/* --- storage volumes (the pool "default") ------------------------------------------------ */

int virtkit_volume_list(virtkit_conn *conn, virtkit_volume ***list, size_t *count,
                        virtkit_error **err);
void virtkit_volume_list_free(virtkit_volume **list, size_t count);
/* A volume with the image tool's description of it ("image" in its JSON). */
virtkit_volume *virtkit_volume_get(virtkit_conn *conn, const char *name, virtkit_error **err);
/*
 * A new volume of size bytes, format "qcow2" (NULL: qcow2) or "raw"; or, with
 * from (a volume's name, or an image file's absolute path), a linked clone: a
 * qcow2 overlay on that base (size 0: the base's size). from_format gives a
 * path's format (NULL: raw, refused when the file starts with a qcow2 header).
 */
virtkit_volume *virtkit_volume_create(virtkit_conn *conn, const char *name, uint64_t size,
                                      const char *format, const char *from, const char *from_format,
                                      virtkit_error **err);
/* Grow a volume to size bytes (shrinking is refused). */
virtkit_volume *virtkit_volume_resize(virtkit_conn *conn, const char *name, uint64_t size,
                                      virtkit_error **err);
int virtkit_volume_delete(virtkit_conn *conn, const char *name, virtkit_error **err);

const char *virtkit_volume_name(const virtkit_volume *v);
const char *virtkit_volume_format(const virtkit_volume *v); /* qcow2, raw */
const char *virtkit_volume_path(const virtkit_volume *v);
uint64_t virtkit_volume_capacity(const virtkit_volume *v);   /* the size the guest sees */
uint64_t virtkit_volume_allocation(const virtkit_volume *v); /* what the file takes on disk */
/* A linked clone's base: a volume's name or an image file's path; NULL for others. */
const char *virtkit_volume_base(const virtkit_volume *v);
/* The whole object as JSON text (valid until the handle is freed). */
const char *virtkit_volume_json(const virtkit_volume *v);
void virtkit_volume_free(virtkit_volume *v);

/* --- images ---------------------------------------------------------------------------- */

/*
 * Progress of a long image operation (an import, a launch's copy), as the daemon reports it:
 * the stage ("copy disk", "verify layer 1/2", "unpack layer 1/2", "copy rootfs"), bytes done
 * of total, and percent. Called from a thread of the library while the call runs.
 */
typedef void (*virtkit_progress_cb)(void *opaque, const char *stage, uint64_t done, uint64_t total,
                                    int percent);

/*
 * Import an image from source, a path on this host (the daemon's): a VM image (a folder with
 * metadata.json, or the metadata file itself) or an OCI image (a layout folder or its tar
 * archive). aliases may be NULL; progress may be NULL. Returns the image as JSON text
 * (free()): its "created" is false when the same image was there already.
 */
char *virtkit_image_import(virtkit_conn *conn, const char *source, const char *const *aliases,
                           size_t nr_aliases, virtkit_progress_cb progress, void *opaque,
                           virtkit_error **err);
/* {"images": [...]}, one image, {"aliases": [...]}, as JSON text (free()). */
char *virtkit_image_list(virtkit_conn *conn, virtkit_error **err);
/* ref: an alias, a fingerprint or its start. */
char *virtkit_image_get(virtkit_conn *conn, const char *ref, virtkit_error **err);
char *virtkit_image_aliases(virtkit_conn *conn, virtkit_error **err);
/* Refused (status 409) while instances launched from the image exist. */
int virtkit_image_delete(virtkit_conn *conn, const char *ref, virtkit_error **err);
int virtkit_image_alias_add(virtkit_conn *conn, const char *alias, const char *ref,
                            virtkit_error **err);
int virtkit_image_alias_delete(virtkit_conn *conn, const char *alias, virtkit_error **err);
/*
 * Define an instance called name from image ref, with its own disk (a copy-on-write overlay)
 * or root file system (a copy), and start it. options: NULL or a JSON object with "memory",
 * "cpus", "args" (a container's command), "network" ("user" or "none", VMs), "start" (false:
 * define only). The instance as it is then.
 */
virtkit_instance *virtkit_image_launch(virtkit_conn *conn, const char *ref, const char *name,
                                       const char *options, virtkit_progress_cb progress,
                                       void *opaque, virtkit_error **err);

/* --- saved states and snapshots (VMs) ------------------------------------------------ */

/*
 * Save a running VM's state to path (absolute, on the daemon's host); it
 * stops. The answer is JSON text (free()): {"bytes", "ram_bytes", "instance"}.
 */
char *virtkit_instance_save(virtkit_conn *conn, const char *name, const char *path,
                            virtkit_error **err);
/* Start again the instance whose state was saved to path. */
virtkit_instance *virtkit_restore(virtkit_conn *conn, const char *path, virtkit_error **err);
/*
 * Move a running (or paused) VM to the virtkitd listening on dest_socket (a path on the
 * source daemon's host), with its definition: it runs there (paused if it was) and is
 * undefined here, unless VIRTKIT_MIGRATE_KEEP_SOURCE keeps it here, shut off. Without
 * VIRTKIT_MIGRATE_LIVE the VM stops while its memory is copied (virsh migrate without
 * --live). On failure it goes on running here. The answer is JSON text (free()):
 * {"bytes", "downtime_ms", "total_ms", "destination": the instance there, "source":
 * "undefined"|"kept", ...}.
 */
#define VIRTKIT_MIGRATE_LIVE        1u
#define VIRTKIT_MIGRATE_KEEP_SOURCE 2u
char *virtkit_instance_migrate(virtkit_conn *conn, const char *name, const char *dest_socket,
                               unsigned flags, virtkit_error **err);
/*
 * Snapshots: a saved state the VM goes on from (refused for a VM with a
 * writable disk). create: snap NULL for a name from the time; the answer is
 * the snapshot {"name", "created_ms", "bytes"}; list: {"snapshots": [...]}.
 * restore starts the shut-off VM from the snapshot.
 */
char *virtkit_snapshot_create(virtkit_conn *conn, const char *name, const char *snap,
                              virtkit_error **err);
char *virtkit_snapshot_list(virtkit_conn *conn, const char *name, virtkit_error **err);
int virtkit_snapshot_restore(virtkit_conn *conn, const char *name, const char *snap,
                             virtkit_error **err);
int virtkit_snapshot_delete(virtkit_conn *conn, const char *name, const char *snap,
                            virtkit_error **err);

/* --- streams ------------------------------------------------------------------------- */

/* The console: raw bytes both ways. */
virtkit_stream *virtkit_console_open(virtkit_conn *conn, const char *name, virtkit_error **err);
/* A command in a running container; argv is NULL-terminated. */
virtkit_stream *virtkit_exec_open(virtkit_conn *conn, const char *name, const char *const *argv,
                                  virtkit_error **err);
/*
 * The same on a terminal in the container of rows x cols (both non-zero): its
 * output comes as VIRTKIT_EXEC_STDOUT, and virtkit_exec_resize() changes its
 * size (the command gets SIGWINCH).
 */
virtkit_stream *virtkit_exec_open_tty(virtkit_conn *conn, const char *name, const char *const *argv,
                                      unsigned rows, unsigned cols, virtkit_error **err);
/*
 * The console log as it grows: its last `lines` lines (0: all of it), then what
 * the instance writes, until closed. Read with virtkit_logs_read().
 */
virtkit_stream *virtkit_logs_open(virtkit_conn *conn, const char *name, size_t lines,
                                  virtkit_error **err);
/* Lifecycle events after sequence number since (-1: from now), of one instance or all. */
virtkit_stream *virtkit_events_open(virtkit_conn *conn, int64_t since, const char *instance,
                                    virtkit_error **err);

/*
 * Any upgraded connection, for what the typed calls do not cover (a proxy
 * passing a browser's WebSocket through): method and path (with its query),
 * Upgrade: proto, and extra request header lines ("Name: value\r\n" each,
 * or NULL). After 101, raw bytes both ways (virtkit_stream_read/write);
 * *resp_headers (when not NULL; free()) gets the 101 answer's header.
 */
virtkit_stream *virtkit_upgrade_open(virtkit_conn *conn, const char *method, const char *path,
                                     const char *proto, const char *headers, char **resp_headers,
                                     virtkit_error **err);

/*
 * A descriptor to poll() for input (console and exec streams). Bytes that
 * arrived with the upgrade answer are already buffered: read while
 * virtkit_stream_pending() is non-zero before polling.
 */
int virtkit_stream_fd(const virtkit_stream *s);
size_t virtkit_stream_pending(const virtkit_stream *s);
/* Console: read what is available (blocks until something is); 0 at the end. */
ssize_t virtkit_stream_read(virtkit_stream *s, void *buf, size_t len, virtkit_error **err);
ssize_t virtkit_stream_write(virtkit_stream *s, const void *buf, size_t len, virtkit_error **err);

enum virtkit_exec_stream {
	VIRTKIT_EXEC_STDOUT = 1,
	VIRTKIT_EXEC_STDERR = 2,
	VIRTKIT_EXEC_EXIT = 3, /* the command ended: see *exit_code */
};
/*
 * Exec: read one frame. Returns 1 with *which, *data (malloc'd) and *len
 * set (for VIRTKIT_EXEC_EXIT, *exit_code instead), 0 at the end of the
 * stream, -1 on error.
 */
int virtkit_exec_read(virtkit_stream *s, int *which, char **data, size_t *len, int *exit_code,
                      virtkit_error **err);
int virtkit_exec_write_stdin(virtkit_stream *s, const void *buf, size_t len, virtkit_error **err);
int virtkit_exec_close_stdin(virtkit_stream *s, virtkit_error **err);
int virtkit_exec_resize(virtkit_stream *s, unsigned rows, unsigned cols, virtkit_error **err);

/*
 * Events: the next event as one JSON line (malloc'd, no newline). Returns 1,
 * 0 when timeout_ms passed without one, -1 when the stream ended or failed.
 */
int virtkit_events_next(virtkit_stream *s, char **json, int timeout_ms, virtkit_error **err);

/*
 * Logs: the bytes that arrived (malloc'd in *data, *len set). Returns 1, 0 when
 * timeout_ms passed without any, -1 when the stream ended or failed.
 */
int virtkit_logs_read(virtkit_stream *s, char **data, size_t *len, int timeout_ms,
                      virtkit_error **err);

void virtkit_stream_close(virtkit_stream *s);

/* --- remotes: daemons on other hosts, over TLS (docs/virtkitd.md, "Remotes") ------------ */

/*
 * A daemon's TLS listener at url ("https://HOST:PORT"), trusting exactly the
 * certificate in the PEM file server_cert (pinned: another one is refused,
 * whatever signed it), presenting the client certificate client_cert with
 * its key client_key (PEM files; may be NULL). Fails when the daemon does
 * not trust the client certificate (status 403).
 */
virtkit_conn *virtkit_connect_tls(const char *url, const char *server_cert, const char *client_cert,
                                  const char *client_key, virtkit_error **err);

/*
 * Named remotes live in the client's configuration folder: $VIRTKIT_CONFIG,
 * else $XDG_CONFIG_HOME/virtkit, else ~/.config/virtkit (malloc'd; NULL when
 * too long). "local" is the unix socket (virtkit_default_socket()).
 */
char *virtkit_config_dir(void);
int virtkit_remote_name_valid(const char *name);
/* The remote's daemon (NULL or "": the default remote, "local" unless switched). */
virtkit_conn *virtkit_connect_remote(const char *name, virtkit_error **err);
/*
 * The certificate a server at url presents, unverified, to show a person
 * (PEM, free()); fingerprint (VIRTKIT_FINGERPRINT_SIZE bytes) gets its SHA-256.
 */
char *virtkit_remote_certificate(const char *url, char *fingerprint, virtkit_error **err);
/*
 * Add remote name at url, accepting the server certificate server_pem (as
 * virtkit_remote_certificate() gave it, after a person or a token agreed).
 * This client's certificate is made on first use. With token (from
 * `virtkit trust token` on the server; it ends with the server's
 * fingerprint, checked against server_pem before it is sent) the server is
 * asked to trust it. Returns 0 when the server trusts this client, 1 when the
 * remote was added but the server does not trust it yet (err says so), -1.
 */
int virtkit_remote_add(const char *name, const char *url, const char *server_pem, const char *token,
                       virtkit_error **err);
int virtkit_remote_remove(const char *name, virtkit_error **err);
/* Make name ("local" or a remote) the default. */
int virtkit_remote_set_default(const char *name, virtkit_error **err);
/* {"default": NAME, "remotes": [{"name", "url", "fingerprint"}, ...]} ("local" first; free()). */
char *virtkit_remote_list(virtkit_error **err);

/* --- trust: who may use the daemon's TLS listener (docs/api.md, "Remote access") --------- */

/* {"certificates": [...], "tokens": [...]} as JSON text (free()). */
char *virtkit_trust_list(virtkit_conn *conn, virtkit_error **err);
/* Trust a PEM client certificate under name; fingerprint (may be NULL) gets its fingerprint. */
int virtkit_trust_add(virtkit_conn *conn, const char *pem, const char *name, char *fingerprint,
                      virtkit_error **err);
/*
 * Stop trusting the certificate with this fingerprint (or the one it begins,
 * at least 8 digits); its open connections are cut at once.
 */
int virtkit_trust_remove(virtkit_conn *conn, const char *fingerprint, virtkit_error **err);
/*
 * A one-time join token (free()) that lets one client add its certificate
 * under name; valid for expires_s seconds (<= 0: a day).
 */
char *virtkit_trust_token(virtkit_conn *conn, const char *name, int64_t expires_s,
                          virtkit_error **err);
/* Withdraw an unspent token. */
int virtkit_trust_token_remove(virtkit_conn *conn, const char *name, virtkit_error **err);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif
