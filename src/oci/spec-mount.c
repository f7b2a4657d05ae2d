/* SPDX-License-Identifier: MIT */
/*
 * Mount options of config.json "mounts": the fstab-style words the spec
 * allows, split into MS_* flags, propagation, recursive attributes and the
 * filesystem data string.
 */
#include "spec-internal.h"

#include <errno.h>
#include <linux/mount.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "log.h"

struct mopt {
	const char *name;
	unsigned long set;
	unsigned long clear;
	unsigned long propagation;
	uint64_t rec_attr;
};

static const struct mopt mopts[] = {
        {"defaults", 0, 0, 0, 0},
        {"ro", MS_RDONLY, 0, 0, 0},
        {"rw", 0, MS_RDONLY, 0, 0},
        {"nosuid", MS_NOSUID, 0, 0, 0},
        {"suid", 0, MS_NOSUID, 0, 0},
        {"nodev", MS_NODEV, 0, 0, 0},
        {"dev", 0, MS_NODEV, 0, 0},
        {"noexec", MS_NOEXEC, 0, 0, 0},
        {"exec", 0, MS_NOEXEC, 0, 0},
        {"sync", MS_SYNCHRONOUS, 0, 0, 0},
        {"async", 0, MS_SYNCHRONOUS, 0, 0},
        {"dirsync", MS_DIRSYNC, 0, 0, 0},
        {"remount", MS_REMOUNT, 0, 0, 0},
        {"mand", MS_MANDLOCK, 0, 0, 0},
        {"nomand", 0, MS_MANDLOCK, 0, 0},
        {"atime", 0, MS_NOATIME, 0, 0},
        {"noatime", MS_NOATIME, 0, 0, 0},
        {"diratime", 0, MS_NODIRATIME, 0, 0},
        {"nodiratime", MS_NODIRATIME, 0, 0, 0},
        {"relatime", MS_RELATIME, 0, 0, 0},
        {"norelatime", 0, MS_RELATIME, 0, 0},
        {"strictatime", MS_STRICTATIME, 0, 0, 0},
        {"nostrictatime", 0, MS_STRICTATIME, 0, 0},
        {"bind", MS_BIND, 0, 0, 0},
        {"rbind", MS_BIND | MS_REC, 0, 0, 0},
        {"private", 0, 0, MS_PRIVATE, 0},
        {"rprivate", 0, 0, MS_PRIVATE | MS_REC, 0},
        {"shared", 0, 0, MS_SHARED, 0},
        {"rshared", 0, 0, MS_SHARED | MS_REC, 0},
        {"slave", 0, 0, MS_SLAVE, 0},
        {"rslave", 0, 0, MS_SLAVE | MS_REC, 0},
        {"unbindable", 0, 0, MS_UNBINDABLE, 0},
        {"runbindable", 0, 0, MS_UNBINDABLE | MS_REC, 0},
        {"rro", 0, 0, 0, MOUNT_ATTR_RDONLY},
        {"rrw", 0, 0, 0, 0},
        {"rnosuid", 0, 0, 0, MOUNT_ATTR_NOSUID},
        {"rnodev", 0, 0, 0, MOUNT_ATTR_NODEV},
        {"rnoexec", 0, 0, 0, MOUNT_ATTR_NOEXEC},
        {"rnoatime", 0, 0, 0, MOUNT_ATTR_NOATIME},
};

const char *const oci_mount_option_names[] = {
        "defaults",   "ro",         "rw",          "nosuid",      "suid",          "nodev",
        "dev",        "noexec",     "exec",        "sync",        "async",         "dirsync",
        "remount",    "mand",       "nomand",      "atime",       "noatime",       "diratime",
        "nodiratime", "relatime",   "norelatime",  "strictatime", "nostrictatime", "bind",
        "rbind",      "private",    "rprivate",    "shared",      "rshared",       "slave",
        "rslave",     "unbindable", "runbindable", "rro",         "rrw",           "rnosuid",
        "rnodev",     "rnoexec",    "rnoatime",    NULL,
};

static int append_data(char **data, const char *opt)
{
	size_t old = *data ? strlen(*data) : 0, add = strlen(opt);
	char *n = realloc(*data, old + add + 2);

	if (!n)
		return -ENOMEM;
	if (old)
		n[old++] = ',';
	memcpy(n + old, opt, add + 1);
	*data = n;
	return 0;
}

int spec_parse_mount_options(struct sj *s, struct oci_mount *m)
{
	size_t i, j;

	for (i = 0; i < m->options.n; i++) {
		const char *o = m->options.v[i];
		bool found = false;

		for (j = 0; j < ARRAY_SIZE(mopts); j++) {
			if (strcmp(mopts[j].name, o) != 0)
				continue;
			m->flags = (m->flags & ~mopts[j].clear) | mopts[j].set;
			if (mopts[j].propagation)
				m->propagation = mopts[j].propagation;
			m->rec_attr_set |= mopts[j].rec_attr;
			found = true;
			break;
		}
		if (found)
			continue;
		if (strcmp(o, "tmpcopyup") == 0 || strcmp(o, "idmap") == 0 ||
		    strcmp(o, "ridmap") == 0) {
			size_t mark = sj_push(s, "options");

			sj_push_index(s, i);
			sj_fail(s, "option '%s' is not supported by this runtime", o);
			sj_pop(s, mark);
			return -EINVAL;
		}
		if (append_data(&m->data, o) < 0)
			return vk_error_set(s->err, ENOMEM, "out of memory");
	}
	if (m->flags & MS_BIND) {
		m->bind = true;
		m->flags &= ~(unsigned long)MS_BIND;
		/* A bind mount's rec flag lives in flags; keep it. */
	}
	if (m->type && strcmp(m->type, "bind") == 0) {
		m->bind = true;
	}
	return 0;
}
