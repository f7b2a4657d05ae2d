/* SPDX-License-Identifier: MIT */
/*
 * Fuzz harness for virtkit-oci's config.json parser (src/oci/spec*.c): a
 * bundle's config.json is untrusted input (whoever writes the bundle is not
 * necessarily whoever may run containers), so arbitrary bytes go in whole as
 * config.json through oci_spec_parse() (without a bundle, so nothing touches
 * the file system), and again as an `update --resources` document through
 * oci_resources_parse().
 *
 * Checked after every parse (abort when it does not hold):
 *   rejection  the error has a code and a message that either says the JSON is
 *              malformed ("config.json: invalid JSON at line L column C: ...",
 *              "expected a JSON object at the top level") or names the field:
 *              "config.json: <field path>: <reason>", the path starting at a
 *              top-level field of the spec (for resources: a non-empty path)
 *   acceptance the spec holds what its users rely on without checking again:
 *              ociVersion 1.x, a root path, absolute mount destinations with a
 *              type or bind, NULL-terminated string vectors of the length
 *              given, namespace types that are single CLONE_NEW* bits whose
 *              union is ns_flags, a hostname only with a uts namespace, device
 *              and device-rule types and access letters from the spec's sets,
 *              annotations as a JSON object.
 * ASan (leaks included) and UBSan catch the rest.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "fuzz.h"
#include "oci/log.h"
#include "oci/spec.h"

#define CHECK(cond)                                                                           \
	do {                                                                                  \
		if (!(cond)) {                                                                \
			fprintf(stderr, "fuzz-oci-spec: %s:%d: check failed: %s\n", __FILE__, \
			        __LINE__, #cond);                                             \
			abort();                                                              \
		}                                                                             \
	} while (0)

static const char *const top_fields[] = {
        "ociVersion", "root",    "hostname", "domainname",  "mounts",
        "hooks",      "process", "linux",    "annotations",
};

/* "<field>" followed by the end of the path: ".", "[" or ": ". */
static bool starts_with_field(const char *p, const char *field)
{
	size_t n = strlen(field);

	return strncmp(p, field, n) == 0 &&
	       (p[n] == '.' || p[n] == '[' || (p[n] == ':' && p[n + 1] == ' '));
}

static void check_rejection(const struct vk_error *err, const char *fname, bool spec)
{
	size_t n = strlen(fname);
	const char *p = err->msg, *colon;

	CHECK(err->code > 0);
	if (err->code == ENOMEM) /* no field to name; the fuzzer's RSS limit is far below */
		return;
	if (strncmp(p, fname, n) != 0 || strncmp(p + n, ": ", 2) != 0) {
		fprintf(stderr, "fuzz-oci-spec: error without the file name: \"%s\"\n", p);
		abort();
	}
	p += n + 2;
	if (strncmp(p, "invalid JSON", 12) == 0 ||
	    strcmp(p, "expected a JSON object at the top level") == 0)
		return;
	if (spec) {
		for (size_t i = 0; i < sizeof(top_fields) / sizeof(top_fields[0]); i++)
			if (starts_with_field(p, top_fields[i]))
				goto named;
		fprintf(stderr, "fuzz-oci-spec: error names no field: \"%s\"\n", err->msg);
		abort();
	}
named:
	/* A path, then a reason. */
	colon = strstr(p, ": ");
	if (!colon || colon == p || !colon[2]) {
		fprintf(stderr, "fuzz-oci-spec: error names no field or no reason: \"%s\"\n",
		        err->msg);
		abort();
	}
}

static void check_strv(const struct oci_strv *v)
{
	if (!v->v) {
		CHECK(v->n == 0);
		return;
	}
	for (size_t i = 0; i < v->n; i++)
		CHECK(v->v[i] != NULL);
	CHECK(v->v[v->n] == NULL);
}

static void check_resources(const struct oci_resources *r)
{
	for (size_t i = 0; i < r->n_devices; i++) {
		const struct oci_dev_rule *d = &r->devices[i];

		CHECK(d->type == 'a' || d->type == 'c' || d->type == 'b');
		CHECK(memchr(d->access, '\0', sizeof(d->access)) != NULL);
		CHECK(strspn(d->access, "rwm") == strlen(d->access));
		CHECK(d->major >= -1 && d->minor >= -1);
	}
	for (size_t i = 0; i < r->n_hugepages; i++)
		CHECK(r->hugepages[i].page_size != NULL);
}

static void check_spec(const struct oci_spec *s)
{
	const struct oci_linux *l = &s->linux_;
	json_object *ann;
	int flags = 0;

	CHECK(s->oci_version && strncmp(s->oci_version, "1.", 2) == 0);
	CHECK(s->root_path != NULL);
	for (size_t i = 0; i < s->n_mounts; i++) {
		const struct oci_mount *m = &s->mounts[i];

		CHECK(m->destination && m->destination[0] == '/');
		CHECK(m->type || m->bind);
		check_strv(&m->options);
	}
	for (int k = 0; k < OCI_HOOK_KINDS; k++) {
		for (size_t i = 0; i < s->hooks[k].n; i++) {
			CHECK(s->hooks[k].v[i].path != NULL);
			CHECK(s->hooks[k].v[i].timeout >= 0);
			check_strv(&s->hooks[k].v[i].args);
			check_strv(&s->hooks[k].v[i].env);
		}
	}
	if (s->process) {
		const struct oci_process *p = s->process;

		check_strv(&p->args);
		check_strv(&p->env);
		for (size_t i = 0; i < p->n_rlimits; i++)
			CHECK(p->rlimits[i].resource >= 0 && p->rlimits[i].resource < RLIM_NLIMITS);
	}
	for (size_t i = 0; i < l->n_namespaces; i++) {
		int t = l->namespaces[i].type;

		CHECK(t != 0 && (t & (t - 1)) == 0);
		CHECK(t & (CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS |
		           CLONE_NEWUSER | CLONE_NEWCGROUP | CLONE_NEWTIME));
		flags |= t;
	}
	CHECK(flags == s->ns_flags);
	CHECK(!s->hostname || !*s->hostname || (s->ns_flags & CLONE_NEWUTS));
	for (size_t i = 0; i < l->n_devices; i++) {
		const struct oci_device *d = &l->devices[i];

		CHECK(d->path != NULL);
		CHECK(d->type == 'c' || d->type == 'b' || d->type == 'u' || d->type == 'p');
	}
	check_strv(&l->masked_paths);
	check_strv(&l->readonly_paths);
	check_resources(&l->resources);
	if (l->seccomp) {
		for (size_t i = 0; i < l->seccomp->n_rules; i++)
			check_strv(&l->seccomp->rules[i].names);
		check_strv(&l->seccomp->flags);
	}
	CHECK(s->annotations_json != NULL);
	ann = json_tokener_parse(s->annotations_json);
	CHECK(ann && json_object_is_type(ann, json_type_object));
	json_object_put(ann);
}

int vk_fuzz_one(const uint8_t *data, size_t size)
{
	struct vk_error err = {0};
	struct oci_resources res;
	struct oci_spec *spec;
	static bool quiet;

	/* Warnings (unknown capabilities...) are not findings: keep them off stderr. */
	if (!quiet && oci_log_open("/dev/null", false, false) == 0)
		quiet = true;
	spec = oci_spec_parse((const char *)data, size, NULL, "config.json", &err);
	if (spec) {
		CHECK(err.code == 0);
		check_spec(spec);
		oci_spec_free(spec);
	} else {
		check_rejection(&err, "config.json", true);
	}

	memset(&err, 0, sizeof(err));
	if (oci_resources_parse((const char *)data, size, "resources.json", &res, &err) == 0) {
		CHECK(err.code == 0);
		check_resources(&res);
		oci_resources_free(&res);
	} else {
		check_rejection(&err, "resources.json", false);
	}
	return 0;
}

#define S(x)                                        \
	{                                           \
		(const uint8_t *)(x), sizeof(x) - 1 \
	}
const struct vk_fuzz_input vk_fuzz_builtin[] = {
        S(""),
        S("{"),
        S("[]"),
        S("{}"),
        S("{\"ociVersion\":\"2.0\"}"),
        S("{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"}} x"),
        S("{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"},\"hostname\":\"h\"}"),
        S("{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"r\"},\"mounts\":[{\"destination\":"
          "\"rel\",\"type\":\"tmpfs\"}]}"),
        S("{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"r\"},\"annotations\":{\"a\":1}}"),
        S("{\"memory\":{\"limit\":\"x\"}}"),
};
const unsigned vk_fuzz_nr_builtin = sizeof(vk_fuzz_builtin) / sizeof(vk_fuzz_builtin[0]);
const char vk_fuzz_name[] = "oci-spec";
