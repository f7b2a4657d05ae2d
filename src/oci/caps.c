/* SPDX-License-Identifier: MIT */
/*
 * Capabilities with libcap: the bounding set is trimmed while the process
 * is still privileged; the other sets are applied after the uid change
 * (PR_SET_KEEPCAPS keeps permitted across it) and ambient raised last.
 */
#include "security.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/capability.h>
#include <sys/prctl.h>

static int last_cap(void)
{
	int n = (int)cap_max_bits();

	return n > 0 && n <= 64 ? n - 1 : CAP_LAST_CAP;
}

int oci_caps_bound(const struct oci_caps *c, struct vk_error *err)
{
	for (int i = 0; i <= last_cap(); i++) {
		if (c->present && (c->bounding & (1ull << i)))
			continue;
		if (prctl(PR_CAPBSET_DROP, i, 0, 0, 0) < 0 && errno != EINVAL) {
			char *name = cap_to_name((cap_value_t)i);
			int r = vk_error_errno(err, errno, "cannot drop %s from the bounding set",
			                       name ? name : "a capability");

			cap_free(name);
			return r;
		}
	}
	return 0;
}

int oci_caps_apply(const struct oci_caps *c, struct vk_error *err)
{
	cap_t caps = cap_init();
	cap_value_t v;
	int r = 0;

	if (!caps)
		return vk_error_errno(err, errno, "cannot allocate capabilities");
	for (int i = 0; c->present && i <= last_cap(); i++) {
		v = (cap_value_t)i;
		if (c->effective & (1ull << i))
			cap_set_flag(caps, CAP_EFFECTIVE, 1, &v, CAP_SET);
		if (c->permitted & (1ull << i))
			cap_set_flag(caps, CAP_PERMITTED, 1, &v, CAP_SET);
		if (c->inheritable & (1ull << i))
			cap_set_flag(caps, CAP_INHERITABLE, 1, &v, CAP_SET);
	}
	if (cap_set_proc(caps) < 0)
		r = vk_error_errno(err, errno, "cannot set the process capabilities");
	cap_free(caps);
	if (r)
		return r;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return vk_error_errno(err, errno, "cannot clear ambient capabilities");
	for (int i = 0; c->present && i <= last_cap(); i++) {
		if (!(c->ambient & (1ull << i)))
			continue;
		/* Raising needs the cap in permitted and inheritable (runc: best effort). */
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, i, 0, 0) < 0 && errno != EPERM) {
			char *name = cap_to_name((cap_value_t)i);

			r = vk_error_errno(err, errno, "cannot raise ambient %s",
			                   name ? name : "?");
			cap_free(name);
			return r;
		}
	}
	return 0;
}

json_object *oci_caps_names(void)
{
	json_object *a = json_object_new_array();

	for (int i = 0; i <= last_cap(); i++) {
		char *name = cap_to_name((cap_value_t)i), up[64];
		size_t j;

		if (!name)
			continue;
		for (j = 0; name[j] && j < sizeof(up) - 1; j++)
			up[j] = (char)toupper((unsigned char)name[j]);
		up[j] = '\0';
		cap_free(name);
		if (up[0] != 'C') /* libcap prints unnamed ones as numbers */
			continue;
		json_object_array_add(a, json_object_new_string(up));
	}
	return a;
}
