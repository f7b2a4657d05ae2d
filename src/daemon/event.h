/* SPDX-License-Identifier: MIT */
/*
 * One event (an instance's definition or state change, or an image's import,
 * progress, alias or deletion) and its JSON form. The store records events, the event bus (events.h) hands them to
 * subscribers; both share this type from below.
 */
#ifndef VKD_EVENT_H
#define VKD_EVENT_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "daemon/def.h"

struct vk_event {
	int64_t seq;
	int64_t time_ms; /* wall clock, milliseconds since the epoch */
	char instance[DEF_NAME_MAX + 1];
	char uuid[DEF_UUID_LEN + 1];
	char type[16];  /* vm, container */
	char event[24]; /* defined, updated, undefined, starting, started, ... */
	char state[16]; /* the state after the event */
	char reason[32];
	/* "stopped"/"crashed": how the workload ended, when known (exit_known). */
	bool exit_known;
	int exit_code;   /* the exit status, or -1 when a signal ended it */
	int exit_signal; /* the signal that ended it, or 0 */
	/*
	 * More members for the event's JSON, as the text of one JSON object ("" for none):
	 * image events (type "image") carry everything in it (docs/api.md).
	 */
	char detail[384];
};

json_object *event_to_json(const struct vk_event *ev);

#endif
