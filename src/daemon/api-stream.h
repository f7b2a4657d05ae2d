/* SPDX-License-Identifier: MIT */
/*
 * The streaming endpoints: console attach and container exec (HTTP/1.1
 * connections upgraded to byte streams) and the NDJSON event stream.
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

/* Where the instances' run folders are (exec keeps its pid file there). */
void api_streams_init(const struct vkd_paths *paths);

enum MHD_Result api_console(struct http_req *req, struct instance *inst);
enum MHD_Result api_exec(struct http_req *req, struct instance *inst);
enum MHD_Result api_events(struct http_req *req);

/* At daemon shutdown: end exec relays and event streams. */
void api_streams_shutdown(void);

#endif
