/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the storage pool's pure pieces and its table: volume request
 * bodies (create, resize), VM disks that name a volume or a formatted image
 * file, the riscv64 board's virtio slots, their libvirt XML both ways, and the
 * volumes table in a real SQLite database (a temporary folder).
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

#include "daemon/def-volume.h"
#include "daemon/def.h"
#include "daemon/domxml.h"
#include "daemon/proc.h"
#include "daemon/store-volumes.h"
#include "daemon/store.h"

static json_object *parse(const char *text)
{
	json_object *o = json_tokener_parse(text);

	assert_non_null(o);
	return o;
}

/* def_volume_create on text: 0 with *spec (o kept alive in *keep) or -EINVAL with msg. */
static int create(const char *text, struct volume_spec *spec, json_object **keep, char *msg)
{
	struct vk_error err = {0};
	int r;

	*keep = parse(text);
	r = def_volume_create(*keep, spec, &err);
	if (msg)
		snprintf(msg, VK_ERROR_MSG_MAX, "%s", err.msg);
	return r;
}

static void test_create_requests(void **state)
{
	struct volume_spec s;
	json_object *o;
	char msg[VK_ERROR_MSG_MAX];

	(void)state;
	assert_int_equal(create("{\"name\":\"web1\",\"size\":\"10G\"}", &s, &o, msg), 0);
	assert_string_equal(s.format, "qcow2"); /* the default */
	assert_true(s.size == 10ull << 30 && !s.from);
	json_object_put(o);

	assert_int_equal(create("{\"name\":\"r\",\"size\":4096,\"format\":\"raw\"}", &s, &o, msg),
	                 0);
	assert_string_equal(s.format, "raw");
	json_object_put(o);

	/* A clone of a volume: no size needed, always qcow2. */
	assert_int_equal(create("{\"name\":\"c\",\"from\":\"base\"}", &s, &o, msg), 0);
	assert_true(s.size == 0 && !s.from_is_path && !strcmp(s.from, "base"));
	assert_string_equal(s.format, "qcow2");
	json_object_put(o);
	assert_int_equal(create("{\"name\":\"c\",\"from\":\"/srv/b.img\",\"from_format\":\"qcow2\","
	                        "\"size\":\"20G\"}",
	                        &s, &o, msg),
	                 0);
	assert_true(s.from_is_path && !strcmp(s.from_format, "qcow2"));
	json_object_put(o);

	static const struct {
		const char *body, *says;
	} bad[] = {
	        {"{\"name\":\"a/b\",\"size\":\"1M\"}", "'name' must be"},
	        {"{\"name\":\"\",\"size\":\"1M\"}", "'name' must be"},
	        {"{\"size\":\"1M\"}", "'name' is required"},
	        {"{\"name\":\"x\"}", "'size' is required"},
	        {"{\"name\":\"x\",\"size\":0}", "between 512 bytes and 64 TiB"},
	        {"{\"name\":\"x\",\"size\":-1}", "must not be negative"},
	        {"{\"name\":\"x\",\"size\":\"65T\"}", "between 512 bytes and 64 TiB"},
	        {"{\"name\":\"x\",\"size\":\"99999999999999999999\"}", "must be a size"},
	        {"{\"name\":\"x\",\"size\":1000}", "512-byte sectors"},
	        {"{\"name\":\"x\",\"size\":\"1M\",\"format\":\"vmdk\"}", "\"qcow2\" or \"raw\""},
	        {"{\"name\":\"x\",\"from\":\"b\",\"format\":\"raw\"}", "qcow2 overlay"},
	        {"{\"name\":\"x\",\"from\":\"../b\"}", "a volume's name or an absolute path"},
	        {"{\"name\":\"x\",\"from\":\"b\",\"from_format\":\"raw\"}", "only valid when"},
	        {"{\"name\":\"x\",\"size\":\"1M\",\"from_format\":\"raw\"}", "only valid with"},
	        {"{\"name\":\"x\",\"size\":\"1M\",\"preallocation\":\"full\"}", "unknown field"},
	        {"[1]", "expected a JSON object"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = create(bad[i].body, &s, &o, msg);
		if (r != -EINVAL || !strstr(msg, bad[i].says) || strncmp(msg, "invalid volume", 14))
			fail_msg("%s: %d '%s'", bad[i].body, r, msg);
		json_object_put(o);
	}
}

static void test_resize_requests(void **state)
{
	struct vk_error err = {0};
	json_object *o;
	uint64_t size;

	(void)state;
	o = parse("{\"size\":\"2G\"}");
	assert_int_equal(def_volume_resize(o, &size, &err), 0);
	assert_true(size == 2ull << 30);
	json_object_put(o);
	o = parse("{\"size\":513}");
	assert_int_equal(def_volume_resize(o, &size, &err), -EINVAL);
	json_object_put(o);
	o = parse("{}");
	assert_int_equal(def_volume_resize(o, &size, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "'size' is required"));
	json_object_put(o);
}

/* def_normalize on a VM definition with these members; NULL and msg when refused. */
static json_object *vm(const char *arch, const char *members, char *msg)
{
	struct vk_error err = {0};
	char text[4096];
	json_object *in, *out = NULL;

	snprintf(text, sizeof(text),
	         "{\"name\":\"v\",\"type\":\"vm\",\"arch\":\"%s\",\"kernel\":\"/k\"%s%s}", arch,
	         members[0] ? "," : "", members);
	in = parse(text);
	if (def_normalize(in, &out, NULL, &err) < 0)
		out = NULL;
	if (msg)
		snprintf(msg, VK_ERROR_MSG_MAX, "%s", err.msg);
	json_object_put(in);
	return out;
}

static const char *disk_str(json_object *def, size_t i, const char *key)
{
	return def_get_str(json_object_array_get_idx(json_object_object_get(def, "disks"), i), key);
}

static void test_disks(void **state)
{
	char msg[VK_ERROR_MSG_MAX];
	json_object *d;

	(void)state;
	d = vm("riscv64",
	       "\"disks\":[{\"volume\":\"web1\"},{\"path\":\"/a.qcow2\",\"format\":\"qcow2\"},"
	       "{\"path\":\"/b.img\"}]",
	       msg);
	assert_non_null(d);
	assert_string_equal(disk_str(d, 0, "volume"), "web1");
	assert_null(disk_str(d, 0, "path"));
	assert_null(disk_str(d, 0, "format")); /* the volume's, known to the pool */
	assert_string_equal(disk_str(d, 1, "format"), "qcow2");
	assert_null(disk_str(d, 2, "format")); /* not given: virtkit-vm never guesses qcow2 */
	json_object_put(d);

	static const struct {
		const char *arch, *members, *says;
	} bad[] = {
	        {"riscv64", "\"disks\":[{\"volume\":\"a\",\"path\":\"/a\"}]", "not both"},
	        {"riscv64", "\"disks\":[{\"readonly\":true}]", "needs either 'path'"},
	        {"riscv64", "\"disks\":[{\"volume\":\"a/b\"}]", "must be a volume name"},
	        {"riscv64", "\"disks\":[{\"path\":\"/a\",\"format\":\"vmdk\"}]", "\"raw\" or"},
	        {"x86_64", "\"disks\":[{},{},{},{},{},{},{},{},{}]", "at most 8"},
	        {"x86_64", "\"networks\":[{},{},{},{},{}]", "at most 4"},
	        {"riscv64",
	         "\"disks\":[{\"path\":\"/a\"},{\"path\":\"/a\"},{\"path\":\"/a\"},"
	         "{\"path\":\"/a\"},{\"path\":\"/a\"},{\"path\":\"/a\"},{\"path\":\"/a\"}],"
	         "\"networks\":[{}],\"rng\":true",
	         "8 virtio slots, and 7 disks, 1 network and the rng need 9"},
	        {"riscv64",
	         "\"disks\":[{\"path\":\"/a\"},{\"path\":\"/a\"},{\"path\":\"/a\"},"
	         "{\"path\":\"/a\"},{\"path\":\"/a\"},{\"path\":\"/a\"}],"
	         "\"networks\":[{}],\"rng\":true,\"agent\":true",
	         "and 6 disks, 1 network, the rng and the guest agent's console need 9"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		d = vm(bad[i].arch, bad[i].members, msg);
		if (d || !strstr(msg, bad[i].says))
			fail_msg("%s: '%s'", bad[i].members, msg);
	}
	/* The same devices fit the PC, whose virtio devices are on PCI. */
	d = vm("x86_64",
	       "\"disks\":[{\"path\":\"/a\"},{\"path\":\"/a\"},{\"path\":\"/a\"},{\"path\":\"/a\"},"
	       "{\"path\":\"/a\"},{\"path\":\"/a\"},{\"path\":\"/a\"},{\"path\":\"/a\"}],"
	       "\"networks\":[{},{},{},{}],\"rng\":true",
	       msg);
	assert_non_null(d);
	json_object_put(d);
}

static void test_domxml(void **state)
{
	static const char doc[] =
	        "<domain type='qemu'><name>x</name><os><type arch='riscv64'>hvm</type>"
	        "<kernel>/k</kernel></os><devices>"
	        "<disk type='volume' device='disk'><driver name='qemu' type='qcow2'/>"
	        "<source pool='default' volume='web1'/><target dev='vda' bus='virtio'/></disk>"
	        "<disk type='file'><driver name='qemu'/><source file='/b.img'/><readonly/></disk>"
	        "<disk type='file'><driver type='raw'/><source file='/c.img'/></disk>"
	        "</devices></domain>";
	struct vk_error err = {0};
	struct domxml_report rep;
	json_object *raw, *def, *raw2, *def2;
	char *xml;

	(void)state;
	assert_int_equal(domxml_import(doc, sizeof(doc) - 1, &raw, &rep, &err), 0);
	domxml_report_free(&rep);
	assert_int_equal(def_normalize(raw, &def, NULL, &err), 0);
	assert_string_equal(disk_str(def, 0, "volume"), "web1");
	assert_string_equal(disk_str(def, 0, "format"), "qcow2");
	assert_null(disk_str(def, 1, "format"));
	assert_string_equal(disk_str(def, 2, "format"), "raw");
	assert_int_equal(domxml_export(def, &xml, &err), 0);
	assert_non_null(strstr(xml, "<disk type=\"volume\" device=\"disk\">"));
	assert_non_null(strstr(xml, "<source pool=\"default\" volume=\"web1\"/>"));
	assert_non_null(strstr(xml, "<driver name=\"qemu\" type=\"qcow2\"/>"));
	assert_non_null(strstr(xml, "<driver name=\"qemu\"/>")); /* no format: no type */
	assert_int_equal(domxml_import(xml, strlen(xml), &raw2, &rep, &err), 0);
	assert_int_equal(json_object_array_length(rep.warnings), 0);
	domxml_report_free(&rep);
	assert_int_equal(def_normalize(raw2, &def2, NULL, &err), 0);
	assert_true(json_object_equal(json_object_object_get(def, "disks"),
	                              json_object_object_get(def2, "disks")));
	free(xml);
	json_object_put(raw);
	json_object_put(def);
	json_object_put(raw2);
	json_object_put(def2);
}

static int count_cb(void *opaque, const struct store_volume *v)
{
	(*(int *)opaque)++;
	return v->name[0] ? 0 : -1;
}

static void test_store(void **state)
{
	char dir[] = "/tmp/vk-voltest.XXXXXX", db[64], child[DEF_NAME_MAX + 1];
	struct store_volume v = {.capacity = 1 << 20, .created_ms = 1234}, got;
	struct vk_error err = {0};
	struct store *s;
	int n = 0;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(db, sizeof(db), "%s/v.db", dir);
	assert_int_equal(store_open(db, NULL, &s, &err), 0);
	assert_int_equal(store_volumes_init(s, &err), 0);
	snprintf(v.name, sizeof(v.name), "base");
	snprintf(v.format, sizeof(v.format), "raw");
	assert_int_equal(store_volume_insert(s, "default", &v, &err), 0);
	assert_int_equal(store_volume_insert(s, "default", &v, &err), -EEXIST);
	snprintf(v.name, sizeof(v.name), "clone");
	snprintf(v.format, sizeof(v.format), "qcow2");
	snprintf(v.base_volume, sizeof(v.base_volume), "base");
	snprintf(v.base_format, sizeof(v.base_format), "raw");
	assert_int_equal(store_volume_insert(s, "default", &v, &err), 0);
	assert_int_equal(store_volume_get(s, "default", "clone", &got, &err), 0);
	assert_string_equal(got.base_volume, "base");
	assert_string_equal(got.base_path, "");
	assert_true(got.capacity == 1 << 20 && got.created_ms == 1234);
	assert_int_equal(store_volume_get(s, "other", "clone", &got, &err), -ENOENT);
	assert_int_equal(store_volume_child(s, "default", "base", child, &err), 1);
	assert_string_equal(child, "clone");
	assert_int_equal(store_volume_child(s, "default", "clone", child, &err), 0);
	assert_int_equal(store_volume_set_capacity(s, "default", "base", 2 << 20, &err), 0);
	assert_int_equal(store_volume_set_capacity(s, "default", "nope", 2 << 20, &err), -ENOENT);
	assert_int_equal(store_volume_list(s, "default", count_cb, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(store_volume_delete(s, "default", "clone", &err), 0);
	assert_int_equal(store_volume_delete(s, "default", "clone", &err), -ENOENT);
	store_close(s);
	/* The table outlives the daemon: a reopened store has it. */
	assert_int_equal(store_open(db, NULL, &s, &err), 0);
	assert_int_equal(store_volumes_init(s, &err), 0);
	assert_int_equal(store_volume_get(s, "default", "base", &got, &err), 0);
	assert_true(got.capacity == 2 << 20);
	store_close(s);
	rm_rf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_create_requests), cmocka_unit_test(test_resize_requests),
	        cmocka_unit_test(test_disks),           cmocka_unit_test(test_domxml),
	        cmocka_unit_test(test_store),
	};

	domxml_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
