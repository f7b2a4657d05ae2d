/* SPDX-License-Identifier: MIT */
/* WebSocket framing, RFC 6455 (see ws.h). */
#include "common/ws.h"

#include <errno.h>
#include <string.h>

#include <gnutls/crypto.h>

#include "common/x509.h"

/* Section 1.3: the GUID every server appends to the key before hashing. */
static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

static bool b64_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/';
}

int vk_ws_accept(const char *key, char *out)
{
	char buf[24 + sizeof(ws_guid)];
	uint8_t h[20];

	/* 16 bytes in base64: 22 characters and "==" (section 4.1, item 7). */
	if (!key || strlen(key) != 24 || key[22] != '=' || key[23] != '=')
		return -EINVAL;
	for (int i = 0; i < 22; i++)
		if (!b64_char(key[i]))
			return -EINVAL;
	memcpy(buf, key, 24);
	memcpy(buf + 24, ws_guid, sizeof(ws_guid) - 1);
	gnutls_hash_fast(GNUTLS_DIG_SHA1, buf, 24 + sizeof(ws_guid) - 1, h);
	vk_base64(h, sizeof(h), out);
	return 0;
}

int vk_ws_parse(const uint8_t *buf, size_t n, struct vk_ws_frame *f)
{
	size_t need = 2;
	uint64_t len;

	if (n < 2)
		return 0;
	f->fin = buf[0] & 0x80;
	f->op = buf[0] & 0x0f;
	f->masked = buf[1] & 0x80;
	if (buf[0] & 0x70)
		return -EPROTO; /* no extension was negotiated */
	switch (f->op) {
	case VK_WS_CONT:
	case VK_WS_TEXT:
	case VK_WS_BINARY:
		break;
	case VK_WS_CLOSE:
	case VK_WS_PING:
	case VK_WS_PONG:
		if (!f->fin || (buf[1] & 0x7f) > 125)
			return -EPROTO; /* section 5.5 */
		break;
	default:
		return -EPROTO;
	}
	len = buf[1] & 0x7f;
	if (len == 126) {
		need += 2;
		if (n < need)
			return 0;
		len = (uint64_t)buf[2] << 8 | buf[3];
		if (len < 126)
			return -EPROTO;
	} else if (len == 127) {
		need += 8;
		if (n < need)
			return 0;
		len = 0;
		for (int i = 0; i < 8; i++)
			len = len << 8 | buf[2 + i];
		if (len >> 63 || len <= 0xffff)
			return -EPROTO;
	}
	if (f->masked) {
		if (n < need + 4)
			return 0;
		memcpy(f->mask, buf + need, 4);
		need += 4;
	}
	f->len = len;
	f->hdr_len = need;
	return (int)need;
}

void vk_ws_unmask(uint8_t *p, size_t n, const uint8_t mask[4], uint64_t off)
{
	for (size_t i = 0; i < n; i++)
		p[i] ^= mask[(off + i) & 3];
}

size_t vk_ws_header(uint8_t *out, uint8_t op, bool fin, uint64_t len)
{
	out[0] = (uint8_t)((fin ? 0x80 : 0) | (op & 0x0f));
	if (len < 126) {
		out[1] = (uint8_t)len;
		return 2;
	}
	if (len <= 0xffff) {
		out[1] = 126;
		out[2] = (uint8_t)(len >> 8);
		out[3] = (uint8_t)len;
		return 4;
	}
	out[1] = 127;
	for (int i = 0; i < 8; i++)
		out[2 + i] = (uint8_t)(len >> (56 - 8 * i));
	return 10;
}
