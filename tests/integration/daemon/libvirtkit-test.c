/* SPDX-License-Identifier: MIT */
/*
 * libvirtkit through its public header only, against a running daemon:
 *   libvirtkit-test SOCKET KERNEL
 * Connection errors, API errors with their HTTP status, definitions, the
 * instance accessors, lifecycle, XML export and the event stream. TAP.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <virtkit/virtkit.h>

static int n, failed;

static void ok(int cond, const char *name, const virtkit_error *err)
{
	n++;
	if (cond) {
		printf("ok %d - %s\n", n, name);
	} else {
		failed++;
		printf("not ok %d - %s%s%s\n", n, name, err ? ": " : "",
		       err ? virtkit_error_message(err) : "");
	}
}

int main(int argc, char **argv)
{
	virtkit_error *err = NULL;
	virtkit_conn *c;
	virtkit_instance *i, **list;
	virtkit_stream *s;
	char def[1024], *text, *line = NULL;
	size_t count = 0, k;
	int found = 0, r;

	if (argc != 3) {
		fprintf(stderr, "usage: libvirtkit-test SOCKET KERNEL\n");
		return 2;
	}
	c = virtkit_connect("/nonexistent/virtkit.sock", &err);
	ok(!c && err && virtkit_error_kind(err) == VIRTKIT_ERR_CONNECT &&
	           strstr(virtkit_error_message(err), "/nonexistent/virtkit.sock"),
	   "a missing socket is a connect error naming the socket", NULL);
	virtkit_error_free(err);
	err = NULL;

	c = virtkit_connect(argv[1], &err);
	ok(c != NULL, "connect", err);
	if (!c)
		goto out;
	text = virtkit_server_info(c, &err);
	ok(text && strstr(text, "\"api_version\":\"1.0\""), "server info", err);
	free(text);

	s = virtkit_events_open(c, -1, "libvm", &err);
	ok(s != NULL, "open the event stream", err);

	snprintf(def, sizeof(def),
	         "{\"name\":\"libvm\",\"type\":\"vm\",\"arch\":\"riscv64\",\"kernel\":\"%s\"}",
	         argv[2]);
	i = virtkit_instance_define(c, def, strlen(def), &err);
	ok(i && !strcmp(virtkit_instance_name(i), "libvm") &&
	           !strcmp(virtkit_instance_state(i), "shutoff") &&
	           !strcmp(virtkit_instance_type(i), "vm") &&
	           strlen(virtkit_instance_uuid(i)) == 36,
	   "define: the handle describes the new instance", err);
	virtkit_instance_free(i);

	i = virtkit_instance_define(c, def, strlen(def), &err);
	ok(!i && err && virtkit_error_kind(err) == VIRTKIT_ERR_API &&
	           virtkit_error_status(err) == 409,
	   "defining it twice is an API error with status 409", NULL);
	virtkit_error_free(err);
	err = NULL;

	i = virtkit_instance_get(c, "nosuch", &err);
	ok(!i && err && virtkit_error_status(err) == 404 &&
	           strstr(virtkit_error_message(err), "nosuch"),
	   "an unknown instance is a 404 naming it", NULL);
	virtkit_error_free(err);
	err = NULL;

	r = virtkit_instance_start(c, "libvm", &err);
	ok(r == 0, "start", err);
	i = virtkit_instance_get(c, "libvm", &err);
	ok(i && !strcmp(virtkit_instance_state(i), "running") && virtkit_instance_pid(i) > 0,
	   "get: running, with a pid", err);
	virtkit_instance_free(i);
	r = virtkit_instance_set_autostart(c, "libvm", 1, &err);
	ok(r == 0, "set autostart", err);
	if (virtkit_instance_list(c, &list, &count, &err) == 0) {
		for (k = 0; k < count; k++)
			found |= !strcmp(virtkit_instance_name(list[k]), "libvm") &&
			         virtkit_instance_autostart(list[k]);
		virtkit_instance_list_free(list, count);
	}
	ok(found, "list shows it with autostart", err);
	text = virtkit_instance_xml(c, "libvm", &err);
	ok(text && strstr(text, "<name>libvm</name>"), "XML export", err);
	free(text);
	r = virtkit_instance_stop(c, "libvm", VIRTKIT_STOP_FORCE, 0, &err);
	ok(r == 0, "stop --force", err);
	r = virtkit_instance_undefine(c, "libvm", &err);
	ok(r == 0, "undefine", err);

	if (s) {
		const char *want[] = {"\"defined\"",      "\"starting\"", "\"started\"",
		                      "\"autostart-on\"", "\"stopping\"", "\"stopped\"",
		                      "\"undefined\""};
		int good = 1;
		for (k = 0; k < sizeof(want) / sizeof(want[0]); k++) {
			r = virtkit_events_next(s, &line, 10000, &err);
			if (r != 1 || !strstr(line, want[k]))
				good = 0;
			free(line);
			line = NULL;
		}
		ok(good, "the event stream delivered every event in order", err);
		r = virtkit_events_next(s, &line, 0, &err);
		ok(r == 0, "and nothing more (timeout 0)", err);
		virtkit_stream_close(s);
	}
	virtkit_disconnect(c);
out:
	virtkit_error_free(err);
	printf("1..%d\n", n);
	return failed ? 1 : 0;
}
