/* SPDX-License-Identifier: MIT */
/*
 * config.json "linux.seccomp": actions, architectures, flags and syscall
 * rules with argument comparisons, checked against libseccomp's names so a
 * typo is reported at parse time with its field path.
 */
#include "spec-internal.h"

#include <ctype.h>
#include <errno.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *name;
	uint32_t action;
} actions[] = {
        {"SCMP_ACT_KILL", SCMP_ACT_KILL_THREAD},
        {"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD},
        {"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS},
        {"SCMP_ACT_TRAP", SCMP_ACT_TRAP},
        {"SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0)},
        {"SCMP_ACT_TRACE", SCMP_ACT_TRACE(0)},
        {"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW},
        {"SCMP_ACT_LOG", SCMP_ACT_LOG},
        {"SCMP_ACT_NOTIFY", SCMP_ACT_NOTIFY},
};

static const struct {
	const char *name;
	int op;
} ops[] = {
        {"SCMP_CMP_NE", SCMP_CMP_NE},
        {"SCMP_CMP_LT", SCMP_CMP_LT},
        {"SCMP_CMP_LE", SCMP_CMP_LE},
        {"SCMP_CMP_EQ", SCMP_CMP_EQ},
        {"SCMP_CMP_GE", SCMP_CMP_GE},
        {"SCMP_CMP_GT", SCMP_CMP_GT},
        {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};

static const char *const known_flags[] = {
        "SECCOMP_FILTER_FLAG_TSYNC",
        "SECCOMP_FILTER_FLAG_LOG",
        "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
        "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
};

static int parse_action(struct sj *s, json_object *o, const char *key, bool required, uint32_t *out)
{
	char *name = NULL;
	size_t i;
	int r;

	r = sj_string(s, o, key, required, &name);
	if (r || !name)
		return r;
	for (i = 0; i < ARRAY_SIZE(actions); i++) {
		if (strcmp(actions[i].name, name) == 0) {
			*out = actions[i].action;
			free(name);
			return 0;
		}
	}
	sj_push(s, key);
	r = sj_fail(s, "unknown action '%s'", name);
	free(name);
	return r;
}

static int parse_args(struct sj *s, json_object *o, struct oci_seccomp_rule *rule)
{
	json_object *arr;
	size_t i, j, mark;
	int r;

	r = sj_array(s, o, "args", &arr);
	if (r || !arr)
		return r;
	rule->n_args = json_object_array_length(arr);
	if (rule->n_args > 6 * 4)
		return sj_fail(s, "args: too many argument filters");
	rule->args = calloc(rule->n_args + 1, sizeof(*rule->args));
	if (!rule->args) {
		rule->n_args = 0;
		return vk_error_set(s->err, ENOMEM, "out of memory");
	}
	mark = sj_push(s, "args");
	for (i = 0; i < rule->n_args; i++) {
		json_object *a = json_object_array_get_idx(arr, i);
		struct oci_seccomp_arg *arg = &rule->args[i];
		struct oci_opt_u64 value = {0}, two = {0};
		uint32_t index = 0;
		char *op = NULL;
		size_t mk = sj_push_index(s, i);

		if (!json_object_is_type(a, json_type_object))
			return sj_fail(s, "expected an object");
		r = sj_u32(s, a, "index", true, &index, NULL);
		if (!r)
			r = sj_u64(s, a, "value", &value);
		if (!r)
			r = sj_u64(s, a, "valueTwo", &two);
		if (!r)
			r = sj_string(s, a, "op", true, &op);
		if (r) {
			free(op);
			return r;
		}
		if (index > 5) {
			free(op);
			sj_push(s, "index");
			return sj_fail(s, "must be between 0 and 5");
		}
		arg->op = 0;
		for (j = 0; j < ARRAY_SIZE(ops); j++)
			if (strcmp(ops[j].name, op) == 0)
				arg->op = ops[j].op;
		if (!arg->op) {
			sj_push(s, "op");
			r = sj_fail(s, "unknown operator '%s'", op);
			free(op);
			return r;
		}
		free(op);
		if (!value.valid)
			return sj_fail(s, "value is required");
		arg->index = index;
		arg->value = value.v;
		arg->value_two = two.v;
		sj_pop(s, mk);
	}
	sj_pop(s, mark);
	return 0;
}

static int parse_rules(struct sj *s, json_object *o, struct oci_seccomp *sc)
{
	json_object *arr;
	size_t i, mark;
	int r;

	r = sj_array(s, o, "syscalls", &arr);
	if (r || !arr)
		return r;
	sc->n_rules = json_object_array_length(arr);
	sc->rules = calloc(sc->n_rules + 1, sizeof(*sc->rules));
	if (!sc->rules) {
		sc->n_rules = 0;
		return vk_error_set(s->err, ENOMEM, "out of memory");
	}
	mark = sj_push(s, "syscalls");
	for (i = 0; i < sc->n_rules; i++) {
		json_object *e = json_object_array_get_idx(arr, i);
		struct oci_seccomp_rule *rule = &sc->rules[i];
		uint32_t eno = 0;
		size_t mk = sj_push_index(s, i);

		if (!json_object_is_type(e, json_type_object))
			return sj_fail(s, "expected an object");
		r = sj_strv(s, e, "names", &rule->names);
		if (!r && rule->names.n == 0)
			r = sj_fail(s, "names must list at least one syscall");
		if (!r)
			r = parse_action(s, e, "action", true, &rule->action);
		if (!r)
			r = sj_u32(s, e, "errnoRet", false, &eno, &rule->has_errno);
		if (!r)
			r = parse_args(s, e, rule);
		if (r)
			return r;
		if (rule->has_errno && eno > 4095)
			return sj_fail(s, "errnoRet must be at most 4095");
		rule->errno_ret = eno;
		sj_pop(s, mk);
	}
	sj_pop(s, mark);
	return 0;
}

static int parse_archs(struct sj *s, json_object *o, struct oci_seccomp *sc)
{
	struct oci_strv names = {0};
	size_t i, j;
	int r;

	r = sj_strv(s, o, "architectures", &names);
	if (r)
		return r;
	sc->archs = calloc(names.n + 1, sizeof(uint32_t));
	if (!sc->archs) {
		oci_strv_free(&names);
		return vk_error_set(s->err, ENOMEM, "out of memory");
	}
	for (i = 0; i < names.n; i++) {
		char low[64];
		const char *n = names.v[i];
		uint32_t arch;

		if (strncmp(n, "SCMP_ARCH_", 10) == 0)
			n += 10;
		for (j = 0; n[j] && j < sizeof(low) - 1; j++)
			low[j] = (char)tolower((unsigned char)n[j]);
		low[j] = '\0';
		arch = seccomp_arch_resolve_name(low);
		if (!arch) {
			sj_push(s, "architectures");
			sj_push_index(s, i);
			r = sj_fail(s, "unknown architecture '%s'", names.v[i]);
			oci_strv_free(&names);
			return r;
		}
		sc->archs[sc->n_archs++] = arch;
	}
	oci_strv_free(&names);
	return 0;
}

int spec_parse_seccomp(struct sj *s, json_object *o, struct oci_seccomp *sc)
{
	uint32_t eno = 0;
	size_t i, j;
	int r;

	r = parse_action(s, o, "defaultAction", true, &sc->default_action);
	if (!r)
		r = sj_u32(s, o, "defaultErrnoRet", false, &eno, &sc->has_default_errno);
	if (!r && eno > 4095)
		r = sj_fail(s, "defaultErrnoRet must be at most 4095");
	sc->default_errno = eno;
	if (!r)
		r = parse_archs(s, o, sc);
	if (!r)
		r = sj_strv(s, o, "flags", &sc->flags);
	if (r)
		return r;
	for (i = 0; i < sc->flags.n; i++) {
		for (j = 0; j < ARRAY_SIZE(known_flags); j++)
			if (strcmp(known_flags[j], sc->flags.v[i]) == 0)
				break;
		if (j == ARRAY_SIZE(known_flags)) {
			sj_push(s, "flags");
			sj_push_index(s, i);
			return sj_fail(s, "unknown flag '%s'", sc->flags.v[i]);
		}
	}
	r = sj_string(s, o, "listenerPath", false, &sc->listener_path);
	if (!r)
		r = sj_string(s, o, "listenerMetadata", false, &sc->listener_metadata);
	if (!r)
		r = parse_rules(s, o, sc);
	return r;
}

void spec_free_seccomp(struct oci_seccomp *sc)
{
	for (size_t i = 0; i < sc->n_rules; i++) {
		oci_strv_free(&sc->rules[i].names);
		free(sc->rules[i].args);
	}
	free(sc->rules);
	free(sc->archs);
	oci_strv_free(&sc->flags);
	free(sc->listener_path);
	free(sc->listener_metadata);
}
