/* SPDX-License-Identifier: MIT */
/*
 * libvirtkit: remotes, named daemons reached over TLS, as Incus's remotes.
 * The client's configuration folder ($VIRTKIT_CONFIG, else
 * $XDG_CONFIG_HOME/virtkit, else ~/.config/virtkit; mode 0700) holds
 *   remotes.json        {"default": NAME, "remotes": {NAME: {"url", "fingerprint"}}}
 *   servercerts/NAME.crt  the certificate each remote was accepted with (pinned)
 *   client.crt, client.key  this client's certificate, made on first use
 *   remotes.lock        serializes writers (flock)
 * "local" is the unix socket ($VIRTKIT_SOCKET or the default) and always
 * exists. A remote's certificate is accepted once, when it is added (the
 * caller shows its fingerprint, or a join token carries it); afterwards a
 * server presenting another one is refused.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"
#include "common/x509.h"
#include "private.h"

#define CONFIG_MAX (1u << 20)

int virtkit_remote_name_valid(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n > 63 || !isalnum((unsigned char)name[0]))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && !strchr("-_.", name[i]))
			return 0;
	return 1;
}

char *virtkit_config_dir(void)
{
	const char *e = getenv("VIRTKIT_CONFIG"), *x = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");
	char buf[PATH_MAX];

	if (e && *e)
		return strdup(e);
	if (x && *x && snprintf(buf, sizeof(buf), "%s/virtkit", x) < (int)sizeof(buf))
		return strdup(buf);
	if (!home || !*home) {
		struct passwd *pw = getpwuid(getuid());
		home = pw ? pw->pw_dir : "/";
	}
	if (snprintf(buf, sizeof(buf), "%s/.config/virtkit", home) >= (int)sizeof(buf))
		return NULL;
	return strdup(buf);
}

/* mkdir -p: every missing folder of path (the last one with mode). -errno. */
static int mkdirs(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, n + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* dir/name into out; -1 when it does not fit. */
static int path_in(char *out, size_t len, const char *dir, const char *name)
{
	return snprintf(out, len, "%s/%s", dir, name) < (int)len ? 0 : -1;
}

static void sys_error(virtkit_error **err, const struct vk_error *e)
{
	vkl_error(err, e->code == EINVAL ? VIRTKIT_ERR_INVALID : VIRTKIT_ERR_SYSTEM, 0, "%s",
	          e->msg);
}

/* The folder (and servercerts/), made when mk; its path in dir. */
static int config_open(char *dir, size_t len, bool mk, virtkit_error **err)
{
	char *d = virtkit_config_dir(), sub[PATH_MAX];
	int r;

	if (!d || snprintf(dir, len, "%s", d) >= (int)len) {
		free(d);
		vkl_error(err, VIRTKIT_ERR_SYSTEM, 0, "the configuration folder path is too long");
		return -1;
	}
	free(d);
	if (!mk)
		return 0;
	if ((r = mkdirs(dir, 0700)) < 0 || path_in(sub, sizeof(sub), dir, "servercerts") < 0 ||
	    (r = mkdirs(sub, 0700)) < 0) {
		vkl_error(err, VIRTKIT_ERR_SYSTEM, 0,
		          "cannot create the configuration folder '%s': %s", dir,
		          strerror(r < 0 ? -r : ENAMETOOLONG));
		return -1;
	}
	return 0;
}

/* remotes.json, or an empty configuration when it does not exist. */
static json_object *config_load(const char *dir, virtkit_error **err)
{
	struct vk_error e = {0};
	char path[PATH_MAX];
	json_object *o, *r;
	uint8_t *buf;
	size_t len;
	int rc;

	if (path_in(path, sizeof(path), dir, "remotes.json") < 0) {
		vkl_error(err, VIRTKIT_ERR_SYSTEM, 0, "the configuration folder path is too long");
		return NULL;
	}
	rc = vk_read_file(path, CONFIG_MAX, &buf, &len, &e);
	if (rc == -ENOENT) {
		o = json_object_new_object();
		json_object_object_add(o, "default", json_object_new_string("local"));
		json_object_object_add(o, "remotes", json_object_new_object());
		return o;
	}
	if (rc < 0) {
		sys_error(err, &e);
		return NULL;
	}
	o = json_tokener_parse((const char *)buf);
	free(buf);
	if (!o || !json_object_object_get_ex(o, "remotes", &r) ||
	    !json_object_is_type(r, json_type_object)) {
		json_object_put(o);
		vkl_error(err, VIRTKIT_ERR_SYSTEM, 0, "'%s' is not a virtkit remotes file", path);
		return NULL;
	}
	return o;
}

static int config_save(const char *dir, json_object *o, virtkit_error **err)
{
	struct vk_error e = {0};
	char path[PATH_MAX];
	size_t len;
	const char *s = json_object_to_json_string_length(
	        o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE, &len);

	if (path_in(path, sizeof(path), dir, "remotes.json") < 0 ||
	    vk_write_file_atomic(path, s, len, 0600, &e) < 0) {
		if (e.code)
			sys_error(err, &e);
		else
			vkl_error(err, VIRTKIT_ERR_SYSTEM, 0, "the configuration path is too long");
		return -1;
	}
	return 0;
}

/* An exclusive lock on the folder's writers; -1 after setting err. */
static int config_lock(const char *dir, virtkit_error **err)
{
	char path[PATH_MAX];
	int fd;

	if (path_in(path, sizeof(path), dir, "remotes.lock") < 0 ||
	    (fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0 || flock(fd, LOCK_EX) < 0) {
		vkl_error(err, VIRTKIT_ERR_SYSTEM, 0, "cannot lock '%s': %s", path,
		          strerror(errno));
		return -1;
	}
	return fd;
}

/* This client's certificate and key, made on first use. */
static int client_identity(const char *dir, char *crt, char *key, size_t len, virtkit_error **err)
{
	struct vk_error e = {0};
	struct passwd *pw = getpwuid(getuid());
	char host[64] = "localhost", cn[160];

	if (path_in(crt, len, dir, "client.crt") < 0 || path_in(key, len, dir, "client.key") < 0) {
		vkl_error(err, VIRTKIT_ERR_SYSTEM, 0, "the configuration path is too long");
		return -1;
	}
	gethostname(host, sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	snprintf(cn, sizeof(cn), "%s@%s", pw ? pw->pw_name : "virtkit", host);
	if (vk_x509_ensure(crt, key, cn, VK_X509_CLIENT, &e) < 0) {
		sys_error(err, &e);
		return -1;
	}
	return 0;
}

/* The remote's entry in the configuration (borrowed), or NULL. */
static json_object *remote_entry(json_object *cfg, const char *name)
{
	json_object *r = json_object_object_get(cfg, "remotes"), *e;

	return r && json_object_object_get_ex(r, name, &e) ? e : NULL;
}

static const char *entry_str(json_object *e, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(e, key, &v) ? json_object_get_string(v) : NULL;
}

virtkit_conn *vkl_conn_remote(const char *name, bool check, virtkit_error **err)
{
	char dir[PATH_MAX], crt[PATH_MAX + 16], key[PATH_MAX + 16], server[PATH_MAX + 80];
	json_object *cfg, *e;
	virtkit_conn *conn = NULL;
	const char *url;

	if (config_open(dir, sizeof(dir), false, err) < 0 || !(cfg = config_load(dir, err)))
		return NULL;
	if (!name || !*name)
		name = entry_str(cfg, "default");
	if (!name || strcmp(name, "local") == 0) {
		json_object_put(cfg);
		return check ? virtkit_connect(NULL, err) : NULL;
	}
	e = remote_entry(cfg, name);
	url = e ? entry_str(e, "url") : NULL;
	if (!url) {
		vkl_error(err, VIRTKIT_ERR_INVALID, 0,
		          "unknown remote '%s' (see 'virtkit remote list')", name);
		json_object_put(cfg);
		return NULL;
	}
	snprintf(server, sizeof(server), "%s/servercerts/%s.crt", dir, name);
	if (client_identity(dir, crt, key, sizeof(crt), err) == 0) {
		conn = check ? virtkit_connect_tls(url, server, crt, key, err)
		             : vkl_conn_tls(url, server, crt, key, err);
		/* Messages name the remote as the user does. */
		if (conn) {
			char *where = malloc(strlen(name) + strlen(url) + 4);
			if (where) {
				sprintf(where, "%s (%s)", name, url);
				free(conn->socket);
				conn->socket = where;
			}
		}
	}
	json_object_put(cfg);
	return conn;
}

virtkit_conn *virtkit_connect_remote(const char *name, virtkit_error **err)
{
	return vkl_conn_remote(name, true, err);
}

static size_t discard(char *data, size_t size, size_t n, void *opaque)
{
	(void)data;
	(void)opaque;
	return size * n;
}

char *virtkit_remote_certificate(const char *url, char *fingerprint, virtkit_error **err)
{
	struct curl_certinfo *ci = NULL;
	struct vk_error e = {0};
	char *pem = NULL, full[1100];
	CURLcode rc;
	long code = 0;
	CURL *c;

	if (!url || strncmp(url, "https://", 8) != 0 || strlen(url) > 1000) {
		vkl_error(err, VIRTKIT_ERR_INVALID, 0, "a remote's address is https://HOST:PORT");
		return NULL;
	}
	vkl_curl_init();
	c = curl_easy_init();
	if (!c) {
		vkl_error(err, VIRTKIT_ERR_SYSTEM, 0, "out of memory");
		return NULL;
	}
	snprintf(full, sizeof(full), "%s%s1.0", url, url[strlen(url) - 1] == '/' ? "" : "/");
	/* Unverified on purpose: the point is to show the certificate to a person. */
	curl_easy_setopt(c, CURLOPT_URL, full);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	curl_easy_setopt(c, CURLOPT_CERTINFO, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard); /* the banner: not needed */
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (rc != CURLE_OK) {
		vkl_error(err, VIRTKIT_ERR_CONNECT, 0, "cannot reach '%s': %s", url,
		          curl_easy_strerror(rc));
		goto out;
	}
	if (curl_easy_getinfo(c, CURLINFO_CERTINFO, &ci) == CURLE_OK && ci && ci->num_of_certs > 0)
		for (struct curl_slist *l = ci->certinfo[0]; l; l = l->next)
			if (strncmp(l->data, "Cert:", 5) == 0)
				pem = strdup(l->data + 5);
	if (!pem) {
		vkl_error(err, VIRTKIT_ERR_PROTOCOL, 0, "'%s' sent no certificate", url);
		goto out;
	}
	if (vk_x509_fingerprint_pem(pem, strlen(pem), fingerprint, NULL, NULL, &e) < 0) {
		vkl_error(err, VIRTKIT_ERR_PROTOCOL, 0, "'%s': %s", url, e.msg);
		free(pem);
		pem = NULL;
	}
out:
	curl_easy_cleanup(c);
	return pem;
}

/* POST the token from a connection that presents this client's certificate. */
static int join(virtkit_conn *conn, const char *token, virtkit_error **err)
{
	json_object *o = json_object_new_object();
	char *body, *resp;

	json_object_object_add(o, "token", json_object_new_string(token));
	body = strdup(json_object_to_json_string_ext(o, VK_JSON_FLAGS));
	json_object_put(o);
	if (!body) {
		vkl_error(err, VIRTKIT_ERR_SYSTEM, 0, "out of memory");
		return -1;
	}
	resp = vkl_call(conn, "POST", "/1.0/trust", NULL, body, strlen(body), NULL, err);
	free(body);
	free(resp);
	return resp ? 0 : -1;
}

int virtkit_remote_add(const char *name, const char *url, const char *server_pem, const char *token,
                       virtkit_error **err)
{
	char dir[PATH_MAX], server[PATH_MAX + 80], tmp[PATH_MAX + 96], crt[PATH_MAX + 16],
	        key[PATH_MAX + 16], fp[VK_FINGERPRINT_LEN + 1];
	struct vk_error e = {0};
	virtkit_conn *conn = NULL;
	json_object *cfg = NULL, *entry;
	const char *dot;
	int lock = -1, r = -1;

	if (!virtkit_remote_name_valid(name) || strcmp(name, "local") == 0) {
		vkl_error(err, VIRTKIT_ERR_INVALID, 0,
		          "a remote's name is 1 to 63 letters, digits, '-', '_' or '.', starting "
		          "with a letter or digit, and not 'local'");
		return -1;
	}
	if (!url || strncmp(url, "https://", 8) != 0 || !url[8] || strlen(url) > 1000) {
		vkl_error(err, VIRTKIT_ERR_INVALID, 0, "a remote's address is https://HOST:PORT");
		return -1;
	}
	if (!server_pem ||
	    vk_x509_fingerprint_pem(server_pem, strlen(server_pem), fp, NULL, NULL, &e) < 0) {
		vkl_error(err, VIRTKIT_ERR_INVALID, 0, "the server certificate: %s",
		          e.code ? e.msg : "missing");
		return -1;
	}
	/* A token made by another server must not reach this one. */
	if (token && (dot = strchr(token, '.')) && strcmp(dot + 1, fp) != 0) {
		vkl_error(err, VIRTKIT_ERR_INVALID, 0,
		          "the token was made by a server whose certificate is %.16s..., but '%s' "
		          "presents %.16s...: not sending it",
		          dot + 1, url, fp);
		return -1;
	}
	if (config_open(dir, sizeof(dir), true, err) < 0 || (lock = config_lock(dir, err)) < 0)
		return -1;
	if (!(cfg = config_load(dir, err)))
		goto out;
	if (remote_entry(cfg, name)) {
		vkl_error(err, VIRTKIT_ERR_API, 409, "a remote named '%s' exists already", name);
		goto out;
	}
	if (client_identity(dir, crt, key, sizeof(crt), err) < 0)
		goto out;
	/* The certificate goes in place first: the connection pins it. */
	snprintf(server, sizeof(server), "%s/servercerts/%s.crt", dir, name);
	snprintf(tmp, sizeof(tmp), "%s.new", server);
	if (vk_write_file_atomic(tmp, server_pem, strlen(server_pem), 0644, &e) < 0) {
		sys_error(err, &e);
		goto out;
	}
	conn = vkl_conn_tls(url, tmp, crt, key, err);
	if (!conn || (token && join(conn, token, err) < 0))
		goto out_tmp;
	/* Whether it trusts us now: a remote added before it does is kept, and said. */
	virtkit_disconnect(conn);
	conn = virtkit_connect_tls(url, tmp, crt, key, err);
	if (!conn && !(token == NULL && err && *err && virtkit_error_status(*err) == 403))
		goto out_tmp;
	if (rename(tmp, server) < 0) {
		vkl_error(err, VIRTKIT_ERR_SYSTEM, 0, "cannot rename '%s': %s", tmp,
		          strerror(errno));
		goto out_tmp;
	}
	entry = json_object_new_object();
	json_object_object_add(entry, "url", json_object_new_string(url));
	json_object_object_add(entry, "fingerprint", json_object_new_string(fp));
	json_object_object_add(json_object_object_get(cfg, "remotes"), name, entry);
	if (config_save(dir, cfg, conn ? err : NULL) < 0) {
		unlink(server);
		goto out;
	}
	r = conn ? 0 : 1; /* 1: added, not trusted yet (err says why) */
	goto out;
out_tmp:
	unlink(tmp);
out:
	virtkit_disconnect(conn);
	json_object_put(cfg);
	if (lock >= 0)
		close(lock);
	return r;
}

int virtkit_remote_remove(const char *name, virtkit_error **err)
{
	char dir[PATH_MAX], server[PATH_MAX + 80];
	json_object *cfg;
	const char *def;
	int lock, r = -1;

	if (name && strcmp(name, "local") == 0) {
		vkl_error(err, VIRTKIT_ERR_INVALID, 0, "'local' cannot be removed");
		return -1;
	}
	if (config_open(dir, sizeof(dir), true, err) < 0 || (lock = config_lock(dir, err)) < 0)
		return -1;
	if (!(cfg = config_load(dir, err)))
		goto out;
	if (!name || !remote_entry(cfg, name)) {
		vkl_error(err, VIRTKIT_ERR_API, 404, "no remote is named '%s'", name ? name : "");
		goto out;
	}
	json_object_object_del(json_object_object_get(cfg, "remotes"), name);
	def = entry_str(cfg, "default");
	if (def && strcmp(def, name) == 0)
		json_object_object_add(cfg, "default", json_object_new_string("local"));
	if (config_save(dir, cfg, err) < 0)
		goto out;
	snprintf(server, sizeof(server), "%s/servercerts/%s.crt", dir, name);
	unlink(server);
	r = 0;
out:
	json_object_put(cfg);
	close(lock);
	return r;
}

int virtkit_remote_set_default(const char *name, virtkit_error **err)
{
	char dir[PATH_MAX];
	json_object *cfg;
	int lock, r = -1;

	if (config_open(dir, sizeof(dir), true, err) < 0 || (lock = config_lock(dir, err)) < 0)
		return -1;
	if (!(cfg = config_load(dir, err)))
		goto out;
	if (!name || (strcmp(name, "local") != 0 && !remote_entry(cfg, name))) {
		vkl_error(err, VIRTKIT_ERR_API, 404, "no remote is named '%s'", name ? name : "");
		goto out;
	}
	json_object_object_add(cfg, "default", json_object_new_string(name));
	r = config_save(dir, cfg, err);
out:
	json_object_put(cfg);
	close(lock);
	return r;
}

char *virtkit_remote_list(virtkit_error **err)
{
	char dir[PATH_MAX], *s;
	json_object *cfg, *out, *list, *local;
	const char *def;

	if (config_open(dir, sizeof(dir), false, err) < 0 || !(cfg = config_load(dir, err)))
		return NULL;
	def = entry_str(cfg, "default");
	out = json_object_new_object();
	list = json_object_new_array();
	local = json_object_new_object();
	json_object_object_add(local, "name", json_object_new_string("local"));
	json_object_object_add(local, "url", json_object_new_string(virtkit_default_socket()));
	json_object_array_add(list, local);
	json_object_object_foreach(json_object_object_get(cfg, "remotes"), name, e)
	{
		json_object *r = json_object_new_object();
		json_object_object_add(r, "name", json_object_new_string(name));
		json_object_object_add(r, "url", json_object_new_string(entry_str(e, "url") ?: ""));
		json_object_object_add(r, "fingerprint",
		                       json_object_new_string(entry_str(e, "fingerprint") ?: ""));
		json_object_array_add(list, r);
	}
	json_object_object_add(out, "default", json_object_new_string(def ? def : "local"));
	json_object_object_add(out, "remotes", list);
	s = strdup(json_object_to_json_string_ext(out, VK_JSON_FLAGS));
	json_object_put(out);
	json_object_put(cfg);
	if (!s)
		vkl_error(err, VIRTKIT_ERR_SYSTEM, 0, "out of memory");
	return s;
}
