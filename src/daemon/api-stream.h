/* SPDX-License-Identifier: MIT */
/*
 * The streaming endpoints: console attach and container exec (HTTP/1.1
 * connections upgraded to byte streams), the NDJSON event stream and the
 * followed console log (chunked responses).
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

/* Answer 101 Switching Protocols to proto; handler gets the connection. */
enum MHD_Result api_queue_upgrade(struct http_req *req, const char *proto,
                                  MHD_UpgradeHandler handler, void *ctx);

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
