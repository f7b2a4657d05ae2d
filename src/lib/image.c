/* SPDX-License-Identifier: MIT */
/*
 * libvirtkit: images (import, list, describe, alias, delete) and launching
 * instances from them. A long call (import, launch) may report progress: a
 * thread of the library follows the daemon's event stream (opened before the
 * request, from the sequence number the daemon had then, so nothing is
 * missed) and calls the caller's function with each progress event of that
 * operation, until the request has its answer.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "private.h"

#define REF_MAX 80

/* "/1.0/images[/REF[/suffix]]" with REF escaped; NULL on a bad reference. */
static char *image_path(const char *ref, const char *suffix, virtkit_error **err)
{
	char *e, *p;
	size_t len;

	if (ref && (!*ref || strlen(ref) > REF_MAX)) {
		vkl_error(err, VIRTKIT_ERR_INVALID, 0, "invalid image name or alias");
		return NULL;
	}
	e = ref ? vkl_escape(ref) : strdup("");
	len = (e ? strlen(e) : 0) + (suffix ? strlen(suffix) : 0) + 32;
	p = e ? malloc(len) : NULL;
	if (p)
		snprintf(p, len, "/1.0/images%s%s%s%s", ref ? "/" : "", e, suffix ? "/" : "",
		         suffix ? suffix : "");
	else
		vkl_error(err, VIRTKIT_ERR_SYSTEM, 0, "out of memory");
	free(e);
	return p;
}

/* --- progress ------------------------------------------------------------------------------ */

struct follower {
	virtkit_stream *events;
	const char *operation;
	char subject[PATH_MAX];
	virtkit_progress_cb cb;
	void *opaque;
	pthread_t thread;
	pthread_mutex_t lock;
	bool stop;
};

static void deliver(struct follower *f, const char *line)
{
	json_object *o = json_tokener_parse(line), *v;
	const char *type, *ev, *op, *subj, *stage;

	if (!o)
		return;
	type = json_object_object_get_ex(o, "type", &v) ? json_object_get_string(v) : "";
	ev = json_object_object_get_ex(o, "event", &v) ? json_object_get_string(v) : "";
	op = json_object_object_get_ex(o, "operation", &v) ? json_object_get_string(v) : "";
	subj = json_object_object_get_ex(o, "subject", &v) ? json_object_get_string(v) : "";
	stage = json_object_object_get_ex(o, "stage", &v) ? json_object_get_string(v) : "";
	/* A long subject comes with its end only (the daemon keeps the last 160 bytes). */
	if (!strcmp(type, "image") && !strcmp(ev, "progress") && !strcmp(op, f->operation) &&
	    strlen(subj) <= strlen(f->subject) &&
	    !strcmp(f->subject + strlen(f->subject) - strlen(subj), subj))
		f->cb(f->opaque, stage,
		      (uint64_t)json_object_get_int64(json_object_object_get(o, "done")),
		      (uint64_t)json_object_get_int64(json_object_object_get(o, "total")),
		      json_object_get_int(json_object_object_get(o, "percent")));
	json_object_put(o);
}

static void *follow(void *arg)
{
	struct follower *f = arg;

	for (;;) {
		char *line = NULL;
		bool stop;
		int r = virtkit_events_next(f->events, &line, 100, NULL);
		if (r == 1)
			deliver(f, line);
		free(line);
		pthread_mutex_lock(&f->lock);
		stop = f->stop;
		pthread_mutex_unlock(&f->lock);
		if (r < 0 || (stop && r == 0))
			break;
	}
	return NULL;
}

/* Start following, when there is someone to tell; failures only lose the progress. */
static bool follow_start(struct follower *f, virtkit_conn *conn)
{
	char *info;
	json_object *o;
	int64_t seq = -1;

	if (!f->cb)
		return false;
	info = virtkit_server_info(conn, NULL);
	o = info ? json_tokener_parse(info) : NULL;
	if (o && json_object_object_get_ex(o, "event_seq", NULL))
		seq = json_object_get_int64(json_object_object_get(o, "event_seq"));
	json_object_put(o);
	free(info);
	if (seq < 0 || !(f->events = virtkit_events_open(conn, seq, NULL, NULL)))
		return false;
	pthread_mutex_init(&f->lock, NULL);
	if (pthread_create(&f->thread, NULL, follow, f) != 0) {
		virtkit_stream_close(f->events);
		pthread_mutex_destroy(&f->lock);
		return false;
	}
	return true;
}

/* After the answer: the events it caused are stored before it, so drain and stop. */
static void follow_end(struct follower *f, bool started)
{
	if (!started)
		return;
	pthread_mutex_lock(&f->lock);
	f->stop = true;
	pthread_mutex_unlock(&f->lock);
	pthread_join(f->thread, NULL);
	virtkit_stream_close(f->events);
	pthread_mutex_destroy(&f->lock);
}

/* --- calls --------------------------------------------------------------------------------- */

char *virtkit_image_import(virtkit_conn *conn, const char *source, const char *const *aliases,
                           size_t nr_aliases, virtkit_progress_cb progress, void *opaque,
                           virtkit_error **err)
{
	struct follower f = {.operation = "import", .cb = progress, .opaque = opaque};
	json_object *body, *al;
	char abs[PATH_MAX], *resp;
	bool following;

	if (!source || !*source) {
		vkl_error(err, VIRTKIT_ERR_INVALID, 0, "which image to import?");
		return NULL;
	}
	/* The daemon runs on this host: it reads the same path, made absolute here. */
	if (!realpath(source, abs)) {
		vkl_error(err, VIRTKIT_ERR_INVALID, 0, "cannot import '%s': %s", source,
		          strerror(errno));
		return NULL;
	}
	snprintf(f.subject, sizeof(f.subject), "%s", abs);
	body = json_object_new_object();
	json_object_object_add(body, "source", json_object_new_string(abs));
	al = json_object_new_array();
	for (size_t i = 0; aliases && i < nr_aliases; i++)
		json_object_array_add(al, json_object_new_string(aliases[i]));
	json_object_object_add(body, "aliases", al);
	following = follow_start(&f, conn);
	resp = vkl_call(conn, "POST", "/1.0/images", "application/json",
	                json_object_to_json_string_ext(body, VK_JSON_FLAGS),
	                strlen(json_object_to_json_string_ext(body, VK_JSON_FLAGS)), NULL, err);
	follow_end(&f, following);
	json_object_put(body);
	return resp;
}

char *virtkit_image_list(virtkit_conn *conn, virtkit_error **err)
{
	return vkl_call(conn, "GET", "/1.0/images", NULL, NULL, 0, NULL, err);
}

char *virtkit_image_get(virtkit_conn *conn, const char *ref, virtkit_error **err)
{
	char *path = image_path(ref, NULL, err), *resp;

	if (!path)
		return NULL;
	resp = vkl_call(conn, "GET", path, NULL, NULL, 0, NULL, err);
	free(path);
	return resp;
}

int virtkit_image_delete(virtkit_conn *conn, const char *ref, virtkit_error **err)
{
	char *path = image_path(ref, NULL, err), *resp;

	if (!path)
		return -1;
	resp = vkl_call(conn, "DELETE", path, NULL, NULL, 0, NULL, err);
	free(path);
	free(resp);
	return resp ? 0 : -1;
}

int virtkit_image_alias_add(virtkit_conn *conn, const char *alias, const char *ref,
                            virtkit_error **err)
{
	json_object *body;
	const char *text;
	char *resp;

	if (!alias || !ref) {
		vkl_error(err, VIRTKIT_ERR_INVALID, 0, "an alias needs a name and an image");
		return -1;
	}
	body = json_object_new_object();
	json_object_object_add(body, "name", json_object_new_string(alias));
	json_object_object_add(body, "target", json_object_new_string(ref));
	text = json_object_to_json_string_ext(body, VK_JSON_FLAGS);
	resp = vkl_call(conn, "POST", "/1.0/images/aliases", "application/json", text, strlen(text),
	                NULL, err);
	json_object_put(body);
	free(resp);
	return resp ? 0 : -1;
}

int virtkit_image_alias_delete(virtkit_conn *conn, const char *alias, virtkit_error **err)
{
	char *path, *resp, *e;
	size_t len;

	if (!alias || !*alias || strlen(alias) > REF_MAX) {
		vkl_error(err, VIRTKIT_ERR_INVALID, 0, "invalid alias");
		return -1;
	}
	e = vkl_escape(alias);
	len = (e ? strlen(e) : 0) + 32;
	path = e ? malloc(len) : NULL;
	if (!path) {
		free(e);
		vkl_error(err, VIRTKIT_ERR_SYSTEM, 0, "out of memory");
		return -1;
	}
	snprintf(path, len, "/1.0/images/aliases/%s", e);
	resp = vkl_call(conn, "DELETE", path, NULL, NULL, 0, NULL, err);
	free(e);
	free(path);
	free(resp);
	return resp ? 0 : -1;
}

char *virtkit_image_aliases(virtkit_conn *conn, virtkit_error **err)
{
	return vkl_call(conn, "GET", "/1.0/images/aliases", NULL, NULL, 0, NULL, err);
}

virtkit_instance *virtkit_image_launch(virtkit_conn *conn, const char *ref, const char *name,
                                       const char *options, virtkit_progress_cb progress,
                                       void *opaque, virtkit_error **err)
{
	struct follower f = {.operation = "launch", .cb = progress, .opaque = opaque};
	char *path = image_path(ref, "launch", err), *resp, *img;
	json_object *body, *o, *v;
	virtkit_instance *i;
	const char *text;
	bool following = false;

	if (!path)
		return NULL;
	body = options ? json_tokener_parse(options) : json_object_new_object();
	if (!json_object_is_type(body, json_type_object) || !name) {
		json_object_put(body);
		free(path);
		vkl_error(err, VIRTKIT_ERR_INVALID, 0,
		          name ? "launch options must be a JSON object"
		               : "the instance needs a name");
		return NULL;
	}
	json_object_object_add(body, "name", json_object_new_string(name));
	text = json_object_to_json_string_ext(body, VK_JSON_FLAGS);
	/* Progress names the image by its fingerprint: learn it first. */
	if (progress && (img = virtkit_image_get(conn, ref, NULL))) {
		o = json_tokener_parse(img);
		if (json_object_object_get_ex(o, "fingerprint", &v))
			snprintf(f.subject, sizeof(f.subject), "%s", json_object_get_string(v));
		json_object_put(o);
		free(img);
		following = f.subject[0] && follow_start(&f, conn);
	}
	resp = vkl_call(conn, "POST", path, "application/json", text, strlen(text), NULL, err);
	follow_end(&f, following);
	free(path);
	json_object_put(body);
	if (!resp)
		return NULL;
	o = json_tokener_parse(resp);
	free(resp);
	if (!o || !json_object_object_get_ex(o, "name", NULL)) {
		json_object_put(o);
		vkl_error(err, VIRTKIT_ERR_PROTOCOL, 0, "the daemon sent a malformed instance");
		return NULL;
	}
	i = vkl_instance_from_json(o);
	json_object_put(o);
	if (!i)
		vkl_error(err, VIRTKIT_ERR_SYSTEM, 0, "out of memory");
	return i;
}
