/* SPDX-License-Identifier: MIT */
/*
 * The VMM's guest-agent client as a chardev backend (guest-agent.h): what the
 * guest writes on the agent port comes in through write(), what we say goes
 * out through chardev_deliver() as fast as the port takes it.
 *
 * The protocol is QEMU's (docs/interop/qemu-ga-ref): one JSON object per
 * line each way. guest-sync {"id": N} is answered {"return": N}; a client
 * that may have missed earlier answers (a previous client's, an agent that
 * answered late) discards every line until the one with its own id, which is
 * why each sync takes a new id. guest-shutdown answers nothing on success.
 *
 * The guest is untrusted: its lines are bounded (GA_LINE_MAX; a longer one
 * is dropped up to its newline), parsed with json-c, and only a "return"
 * equal to the id we are waiting for counts.
 */
#include "vm/backend/guest-agent.h"

#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "vm/backend/chardev-internal.h"

#define GA_LINE_MAX 4096
#define GA_OUT_MAX  128

struct guest_agent {
	struct chardev chr; /* first: the backend's chardev */

	char out[GA_OUT_MAX]; /* our request, not yet taken by the port */
	size_t out_len, out_off;

	char line[GA_LINE_MAX + 1]; /* the guest's line being received */
	size_t line_len;
	bool discarding; /* inside an over-long line: drop until the newline */

	uint64_t next_id;
	uint64_t sync_id; /* the guest-sync answer we wait for, 0: none */
	void (*synced)(void *opaque);
	void *synced_opaque;
};

static struct guest_agent *to_agent(struct chardev *c)
{
	return container_of(c, struct guest_agent, chr);
}

/* Hand the port what it has room for. */
static void ga_push(struct guest_agent *a)
{
	while (a->out_off < a->out_len) {
		size_t room = chardev_can_receive(&a->chr);
		size_t n = VK_MIN(room, a->out_len - a->out_off);

		if (!n)
			return; /* accept_input() calls again once the guest reads */
		chardev_deliver(&a->chr, (const uint8_t *)a->out + a->out_off, n);
		a->out_off += n;
	}
}

/* A new request replaces one the guest never took: only the latest counts. */
static void ga_send(struct guest_agent *a, const char *req)
{
	a->out_len = VK_MIN(strlen(req), sizeof(a->out));
	memcpy(a->out, req, a->out_len);
	a->out_off = 0;
	ga_push(a);
}

static void ga_line(struct guest_agent *a)
{
	json_object *o, *ret;
	void (*cb)(void *opaque);

	a->line[a->line_len] = '\0';
	o = json_tokener_parse(a->line);
	if (!o)
		return;
	if (a->sync_id && json_object_is_type(o, json_type_object) &&
	    json_object_object_get_ex(o, "return", &ret) &&
	    json_object_is_type(ret, json_type_int) &&
	    (uint64_t)json_object_get_int64(ret) == a->sync_id) {
		a->sync_id = 0;
		cb = a->synced;
		a->synced = NULL;
		json_object_put(o);
		if (cb)
			cb(a->synced_opaque);
		return;
	}
	json_object_put(o);
}

static size_t ga_write(struct chardev *c, const uint8_t *buf, size_t len)
{
	struct guest_agent *a = to_agent(c);

	for (size_t i = 0; i < len; i++) {
		if (buf[i] == '\n') {
			if (!a->discarding)
				ga_line(a);
			a->line_len = 0;
			a->discarding = false;
		} else if (a->discarding) {
			continue;
		} else if (a->line_len == GA_LINE_MAX) {
			a->discarding = true;
			a->line_len = 0;
		} else {
			a->line[a->line_len++] = (char)buf[i];
		}
	}
	return len;
}

static void ga_accept_input(struct chardev *c)
{
	ga_push(to_agent(c));
}

static void ga_close(struct chardev *c)
{
	free(to_agent(c));
}

static const struct chardev_ops guest_agent_ops = {
        .name = "guest-agent",
        .write = ga_write,
        .accept_input = ga_accept_input,
        .close = ga_close,
};

struct chardev *guest_agent_open(struct vm_loop *loop, struct guest_agent **agent,
                                 struct vk_error *err)
{
	struct guest_agent *a = calloc(1, sizeof(*a));

	if (!a) {
		vk_error_errno(err, ENOMEM, "cannot create the guest agent client");
		return NULL;
	}
	a->chr.ops = &guest_agent_ops;
	a->chr.loop = loop;
	/* Ids start somewhere new each run, as a restarted client's would. */
	a->next_id = (vk_now_ns() / 1000) % 1000000000ull + 1;
	*agent = a;
	return &a->chr;
}

void guest_agent_sync(struct guest_agent *a, void (*synced)(void *opaque), void *opaque)
{
	char req[GA_OUT_MAX];

	a->sync_id = a->next_id++;
	a->synced = synced;
	a->synced_opaque = opaque;
	a->line_len = 0;
	a->discarding = false;
	snprintf(req, sizeof(req),
	         "{\"execute\":\"guest-sync\",\"arguments\":{\"id\":%" PRIu64 "}}\n", a->sync_id);
	ga_send(a, req);
}

void guest_agent_shutdown(struct guest_agent *a)
{
	a->sync_id = 0;
	a->synced = NULL;
	ga_send(a, "{\"execute\":\"guest-shutdown\"}\n");
}
