/* SPDX-License-Identifier: MIT */
/* The JSON form of an event (docs/api.md, GET /1.0/events): an instance's, or an image's. */
#include "daemon/event.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

json_object *event_to_json(const struct vk_event *ev)
{
	json_object *o = json_object_new_object();
	char ts[64];
	time_t t = (time_t)(ev->time_ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
	         tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	         (int)(ev->time_ms % 1000));
	json_object_object_add(o, "seq", json_object_new_int64(ev->seq));
	json_object_object_add(o, "time", json_object_new_string(ts));
	if (strcmp(ev->type, "image") == 0) {
		json_object *d = ev->detail[0] ? json_tokener_parse(ev->detail) : NULL;
		json_object_object_add(o, "type", json_object_new_string(ev->type));
		json_object_object_add(o, "event", json_object_new_string(ev->event));
		if (json_object_is_type(d, json_type_object)) {
			json_object_object_foreach(d, k, v)
			{
				if (!json_object_object_get_ex(o, k, NULL))
					json_object_object_add(o, k, json_object_get(v));
			}
		}
		json_object_put(d);
		return o;
	}
	json_object_object_add(o, "instance", json_object_new_string(ev->instance));
	json_object_object_add(o, "uuid", json_object_new_string(ev->uuid));
	json_object_object_add(o, "type", json_object_new_string(ev->type));
	json_object_object_add(o, "event", json_object_new_string(ev->event));
	json_object_object_add(o, "state", json_object_new_string(ev->state));
	json_object_object_add(o, "reason", json_object_new_string(ev->reason));
	if (ev->exit_known && ev->exit_signal > 0)
		json_object_object_add(o, "signal", json_object_new_int(ev->exit_signal));
	else if (ev->exit_known)
		json_object_object_add(o, "exit_code", json_object_new_int(ev->exit_code));
	return o;
}
