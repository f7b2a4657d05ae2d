/* SPDX-License-Identifier: MIT */
/*
 * WebSocket framing (RFC 6455), the pure part: the handshake's accept key
 * (section 4.2.2), frame headers (section 5.2), masking (section 5.3). No
 * I/O: the daemon's relay (api-ws.c) and `virtkit ui` use it on sockets
 * they own.
 *
 * Our own framing rather than libwebsockets: libmicrohttpd already does the
 * HTTP side and hands us the upgraded socket, and libwebsockets wants to own
 * the listening socket and its event loop; what is left is these few rules.
 */
#ifndef VK_WS_H
#define VK_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VK_WS_ACCEPT_LEN 28 /* base64 of a SHA-1 */
#define VK_WS_HEADER_MAX 14 /* 2 + 8 (length) + 4 (mask) */

enum vk_ws_op {
	VK_WS_CONT = 0x0,
	VK_WS_TEXT = 0x1,
	VK_WS_BINARY = 0x2,
	VK_WS_CLOSE = 0x8,
	VK_WS_PING = 0x9,
	VK_WS_PONG = 0xa,
};

struct vk_ws_frame {
	bool fin;
	uint8_t op;
	bool masked;
	uint8_t mask[4];
	uint64_t len;   /* of the payload */
	size_t hdr_len; /* bytes of header before it */
};

/*
 * Sec-WebSocket-Accept for the client's Sec-WebSocket-Key (out:
 * VK_WS_ACCEPT_LEN + 1 bytes). -EINVAL unless key is the base64 of 16 bytes.
 */
int vk_ws_accept(const char *key, char *out);

/*
 * The header of the frame at buf[0..n): > 0 its length (f filled), 0 when
 * more bytes are needed, -EPROTO for what RFC 6455 forbids: reserved bits,
 * unknown opcodes, control frames longer than 125 bytes or fragmented, a
 * 64-bit length with its top bit set, a length not in its shortest form.
 */
int vk_ws_parse(const uint8_t *buf, size_t n, struct vk_ws_frame *f);

/* XOR n payload bytes with the mask, the first of them at payload offset off. */
void vk_ws_unmask(uint8_t *p, size_t n, const uint8_t mask[4], uint64_t off);

/* An unmasked (server) frame header into out (VK_WS_HEADER_MAX bytes); its length. */
size_t vk_ws_header(uint8_t *out, uint8_t op, bool fin, uint64_t len);

#endif
