/* SPDX-License-Identifier: MIT */
/*
 * linux.seccomp with libseccomp: default action, extra architectures, filter
 * flags, per-syscall actions with errno values and argument comparisons.
 * Unknown syscall names are skipped (a profile names syscalls of newer
 * kernels), as runc and crun do.
 */
#include "security.h"
#include "sync.h"

#include <errno.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"

static uint32_t with_errno(uint32_t action, bool has, unsigned eno)
{
	if (action == SCMP_ACT_ERRNO(0))
		return SCMP_ACT_ERRNO(has ? eno : EPERM);
	if (action == SCMP_ACT_TRACE(0))
		return SCMP_ACT_TRACE(has ? eno : EPERM);
	return action;
}

static int set_flags(scmp_filter_ctx ctx, const struct oci_seccomp *sc, struct vk_error *err)
{
	for (size_t i = 0; i < sc->flags.n; i++) {
		const char *f = sc->flags.v[i];
		int r = 0;

		if (strcmp(f, "SECCOMP_FILTER_FLAG_LOG") == 0)
			r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_LOG, 1);
		else if (strcmp(f, "SECCOMP_FILTER_FLAG_SPEC_ALLOW") == 0)
			r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_SSB, 1);
		else if (strcmp(f, "SECCOMP_FILTER_FLAG_TSYNC") == 0)
			r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
		else
			oci_debug("seccomp flag %s is not supported by this libseccomp: ignored",
			          f);
		if (r < 0)
			return vk_error_errno(err, -r, "linux.seccomp.flags: cannot set %s", f);
	}
	return 0;
}

static int add_rule(scmp_filter_ctx ctx, const struct oci_seccomp_rule *rule, uint32_t action,
                    int nr, const char *name, struct vk_error *err)
{
	struct scmp_arg_cmp cmp[24];
	bool dup_index = false;
	size_t i, j;
	int r;

	for (i = 0; i < rule->n_args && i < ARRAY_SIZE(cmp); i++) {
		cmp[i] = (struct scmp_arg_cmp){rule->args[i].index,
		                               (enum scmp_compare)rule->args[i].op,
		                               rule->args[i].value, rule->args[i].value_two};
		for (j = 0; j < i; j++)
			if (rule->args[j].index == rule->args[i].index)
				dup_index = true;
	}
	if (dup_index) {
		/* Two conditions on one argument: libseccomp wants them as separate
		 * rules, which makes them alternatives (runc's reading of the spec). */
		for (i = 0; i < rule->n_args; i++) {
			r = seccomp_rule_add_array(ctx, action, nr, 1, &cmp[i]);
			if (r < 0)
				return vk_error_errno(
				        err, -r, "linux.seccomp: cannot add a rule for %s", name);
		}
		return 0;
	}
	r = seccomp_rule_add_array(ctx, action, nr, (unsigned)rule->n_args, cmp);
	if (r < 0)
		return vk_error_errno(err, -r, "linux.seccomp: cannot add a rule for %s", name);
	return 0;
}

static int send_notify_fd(int sock, int fd, const char *state, struct vk_error *err)
{
	int r = sync_sendmsg(sock, state, strlen(state), fd);

	if (r < 0)
		return vk_error_errno(err, -r, "cannot send the seccomp notify fd to the listener");
	return 0;
}

int oci_seccomp_load(const struct oci_seccomp *sc, int listener_fd, const char *state_json,
                     struct vk_error *err)
{
	uint32_t def = with_errno(sc->default_action, sc->has_default_errno, sc->default_errno);
	bool notify = def == SCMP_ACT_NOTIFY;
	scmp_filter_ctx ctx = seccomp_init(def);
	size_t i, j;
	int r;

	if (!ctx)
		return vk_error_set(err, EINVAL, "linux.seccomp: cannot create the filter");
	r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (r < 0) {
		vk_error_errno(err, -r, "linux.seccomp: cannot configure the filter");
		goto out;
	}
	for (i = 0; i < sc->n_archs; i++) {
		r = seccomp_arch_add(ctx, sc->archs[i]);
		if (r < 0 && r != -EEXIST) {
			vk_error_errno(err, -r, "linux.seccomp.architectures[%zu]: cannot add", i);
			goto out;
		}
	}
	r = set_flags(ctx, sc, err);
	if (r < 0)
		goto out;
	for (i = 0; i < sc->n_rules; i++) {
		const struct oci_seccomp_rule *rule = &sc->rules[i];
		uint32_t act = with_errno(rule->action, rule->has_errno, rule->errno_ret);

		if (act == def)
			continue; /* libseccomp refuses rules that repeat the default */
		if (act == SCMP_ACT_NOTIFY)
			notify = true;
		for (j = 0; j < rule->names.n; j++) {
			int nr = seccomp_syscall_resolve_name(rule->names.v[j]);

			if (nr == __NR_SCMP_ERROR) {
				oci_debug("seccomp: unknown syscall '%s' skipped",
				          rule->names.v[j]);
				continue;
			}
			r = add_rule(ctx, rule, act, nr, rule->names.v[j], err);
			if (r < 0)
				goto out;
		}
	}
	r = seccomp_load(ctx);
	if (r < 0) {
		vk_error_errno(err, -r, "cannot load the seccomp filter");
		goto out;
	}
	if (notify && listener_fd >= 0) {
		int nfd = seccomp_notify_fd(ctx);

		if (nfd < 0) {
			r = vk_error_errno(err, -nfd, "cannot get the seccomp notify fd");
			goto out;
		}
		r = send_notify_fd(listener_fd, nfd, state_json ? state_json : "{}", err);
		close(nfd);
	}
out:
	seccomp_release(ctx);
	return r < 0 ? (err && err->code ? -err->code : r) : 0;
}
