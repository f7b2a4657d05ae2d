/* SPDX-License-Identifier: MIT */
/*
 * The streaming endpoints: console attach and container exec (HTTP/1.1
 * connections upgraded to byte streams, or to WebSockets carrying them), the
 * NDJSON event stream and the followed console log (chunked responses).
 * Exec frames (both ways) are Docker-like: 8-byte header {stream, 0, 0, 0,
 * length as big-endian u32} then the payload; streams 0 stdin (length 0 =
 * end of input), 1 stdout, 2 stderr, 3 exit ({"exit_code":N}, last frame).
 */
#ifndef VKD_API_STREAM_H
#define VKD_API_STREAM_H

#include "daemon/http.h"
#include "daemon/instance.h"

#define EXEC_FRAME_MAX (64 * 1024)

struct vkd_paths;

/* Where the instances' run folders are (exec keeps its pid file and console socket there). */
void api_exec_init(const struct vkd_paths *paths);

/*
 * Upgraded connections (api-ws.c). A stream's code gets a socket of plain
 * bytes whether the client asked for proto itself or for a WebSocket (a
 * browser), and calls api_upgraded_close() once when it is done with it.
 */
struct api_upgraded;
/*
 * sock: the stream's bytes; extra: what the client sent after its request.
 * sock -1 and u NULL: the upgrade failed (release ctx, nothing else).
 */
typedef void (*api_upgrade_fn)(void *ctx, int sock, const char *extra, size_t extra_len,
                               struct api_upgraded *u);
/* Does the request ask for proto, or for a WebSocket carrying it? */
bool api_wants_stream(struct MHD_Connection *c, const char *proto);
bool api_wants_websocket(struct MHD_Connection *c);
/* Answer 101 Switching Protocols (to proto or websocket); fn gets the connection. */
enum MHD_Result api_queue_upgrade(struct http_req *req, const char *proto, api_upgrade_fn fn,
                                  void *ctx);
/* The stream is done with its socket: close the connection (exactly once). */
void api_upgraded_close(struct api_upgraded *u);
/*
 * At daemon shutdown, after api_streams_shutdown() and before libmicrohttpd
 * stops: no new thread for an upgraded connection (a new one is closed at
 * once), and wait up to timeout_ms for the running ones to close theirs.
 * false (said in the log): some did not, and stopping libmicrohttpd is unsafe.
 */
bool api_upgraded_shutdown(unsigned timeout_ms);

enum MHD_Result api_console(struct http_req *req, struct instance *inst);
enum MHD_Result api_exec(struct http_req *req, struct instance *inst);
enum MHD_Result api_events(struct http_req *req);

/* At daemon shutdown: end exec relays, event streams and log followers. */
void api_streams_shutdown(void);
bool api_streams_stopping(void);

/* GET /1.0/host (api-host.c): the helpers it runs once (probe, --version). */
void api_host_init(const char *vm_binary, const char *oci_runtime, const char *shim);
enum MHD_Result api_host(struct http_req *req);

/* The console log, whole, its end, or followed (api-logs.c). */
void api_logs_init(const struct vkd_paths *paths);
enum MHD_Result api_logs(struct http_req *req, struct instance *inst);

#endif
