/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of src/oci/hostmounts.c's bookkeeping: which mountinfo lines
 * count as below a container's root (escaped names, a sibling with the same
 * prefix, the root itself), the mounts a create added, and the state JSON.
 * Unmounting is covered by tests/integration/oci/mntns.sh.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "oci/hostmounts.h"

static const char *write_mountinfo(const char *text)
{
	static char path[64];
	FILE *f;
	int fd;

	snprintf(path, sizeof(path), "/tmp/vk-mountinfo.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs(text, f);
	fclose(f);
	return path;
}

static const char *const table =
        "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n"
        "60 27 0:50 / /srv/c/rootfs rw - overlay overlay rw\n"
        "61 60 0:51 / /srv/c/rootfs/proc rw - proc proc rw\n"
        "62 60 0:52 / /srv/c/rootfs/dev rw - tmpfs tmpfs rw\n"
        "63 62 0:53 / /srv/c/rootfs/dev/pts rw - devpts devpts rw\n"
        "64 27 0:54 / /srv/c/rootfs2/proc rw - proc proc rw\n"
        "65 60 0:55 / /srv/c/rootfs/my\\040data\\134x rw - tmpfs tmpfs rw\n"
        "garbage line\n";

static void test_scan(void **state)
{
	const char *mi = write_mountinfo(table);
	struct oci_hostmnts l;
	struct vk_error err = {0};

	(void)state;
	/* Strictly below the root: not the root's own mount, not rootfs2. */
	assert_int_equal(oci_hostmnts_scan(mi, "/srv/c/rootfs", &l, &err), 0);
	assert_int_equal(l.n, 4);
	assert_int_equal(l.v[0].id, 61);
	assert_string_equal(l.v[0].rel, "proc");
	assert_string_equal(l.v[2].rel, "dev/pts");
	assert_string_equal(l.v[3].rel, "my data\\x");
	oci_hostmnts_clear(&l);
	/* A trailing slash on the root changes nothing. */
	assert_int_equal(oci_hostmnts_scan(mi, "/srv/c/rootfs/", &l, &err), 0);
	assert_int_equal(l.n, 4);
	oci_hostmnts_clear(&l);
	assert_int_equal(oci_hostmnts_scan(mi, "/nowhere", &l, &err), 0);
	assert_int_equal(l.n, 0);
	unlink(mi);
	assert_int_equal(oci_hostmnts_scan(mi, "/srv", &l, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "cannot read"));
}

static void test_added_and_json(void **state)
{
	const char *mi = write_mountinfo("60 27 0:50 / /r rw - overlay o rw\n"
	                                 "61 60 0:51 / /r/proc rw - proc proc rw\n");
	struct oci_hostmnts before, after, added, back;
	struct vk_error err = {0};
	char *json;

	(void)state;
	assert_int_equal(oci_hostmnts_scan(mi, "/r", &before, &err), 0);
	unlink(mi);
	/* proc stays; a new dev; id 61 reused at another place counts as new. */
	mi = write_mountinfo("61 60 0:51 / /r/proc rw - proc proc rw\n"
	                     "70 60 0:60 / /r/dev rw - tmpfs tmpfs rw\n"
	                     "61 70 0:61 / /r/dev/pts rw - devpts devpts rw\n");
	assert_int_equal(oci_hostmnts_scan(mi, "/r", &after, &err), 0);
	unlink(mi);
	assert_int_equal(oci_hostmnts_added(&before, &after, &added), 0);
	assert_int_equal(added.n, 2);
	assert_string_equal(added.v[0].rel, "dev");
	assert_int_equal(added.v[1].id, 61);
	assert_string_equal(added.v[1].rel, "dev/pts");
	json = oci_hostmnts_to_json(&added);
	assert_string_equal(json,
	                    "[{\"id\":70,\"path\":\"dev\"},{\"id\":61,\"path\":\"dev/pts\"}]");
	assert_int_equal(oci_hostmnts_from_json(json, &back), 0);
	assert_int_equal(back.n, 2);
	assert_int_equal(back.v[0].id, 70);
	assert_string_equal(back.v[1].rel, "dev/pts");
	free(json);
	oci_hostmnts_clear(&back);
	/* Not an array of {id, path}: refused, nothing half-filled. */
	assert_int_equal(oci_hostmnts_from_json("{}", &back), -EINVAL);
	assert_int_equal(oci_hostmnts_from_json("[{\"id\":1}]", &back), -EINVAL);
	assert_int_equal(back.n, 0);
	oci_hostmnts_clear(&before);
	oci_hostmnts_clear(&after);
	oci_hostmnts_clear(&added);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_scan),
	        cmocka_unit_test(test_added_and_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
