/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of images as data (def-image.c): names and digests inside an image, the VM
 * metadata file, a kernel against its arch, the OCI index/manifest/config checks, and the
 * definitions a launch makes.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/def-image.h"

static json_object *j(const char *text)
{
	json_object *o = json_tokener_parse(text);

	assert_non_null(o);
	return o;
}

static void expect_msg(const struct vk_error *err, const char *words)
{
	if (!strstr(err->msg, words))
		fail_msg("'%s' does not say '%s'", err->msg, words);
}

static void test_names_and_digests(void **state)
{
	char hex[IMAGE_FP_LEN + 1];

	assert_true(def_image_name_ok("disk.img"));
	assert_true(def_image_name_ok("boot/Image"));
	assert_false(def_image_name_ok("../disk.img"));
	assert_false(def_image_name_ok("a/../../b"));
	assert_false(def_image_name_ok("/etc/shadow"));
	assert_false(def_image_name_ok("a//b"));
	assert_false(def_image_name_ok("."));
	assert_false(def_image_name_ok("a/"));
	assert_false(def_image_name_ok(""));
	assert_true(def_image_digest_ok(
	        "sha256:"
	        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	        hex));
	assert_string_equal(hex,
	                    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
	assert_false(def_image_digest_ok(
	        "sha256:"
	        "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
	        NULL));
	assert_false(def_image_digest_ok("sha512:00", NULL));
	assert_false(def_image_digest_ok("sha256:0123", NULL));
	assert_false(def_image_digest_ok(NULL, NULL));
}

static void test_vm_meta(void **state)
{
	struct vk_error err = {0};
	json_object *in, *out = NULL, *files;

	in = j("{\"arch\":\"riscv64\",\"disk\":\"disk.img\"}");
	assert_int_equal(def_image_vm_meta(in, &out, &err), 0);
	assert_string_equal(json_object_get_string(json_object_object_get(out, "boot")), "disk");
	assert_int_equal(json_object_get_int64(json_object_object_get(out, "memory")), 256 << 20);
	files = json_object_object_get(out, "files");
	assert_string_equal(json_object_get_string(json_object_object_get(
	                            json_object_object_get(files, "disk"), "name")),
	                    "disk.img");
	json_object_put(in);
	json_object_put(out);

	in = j("{\"arch\":\"x86_64\",\"disk\":\"d\",\"kernel\":\"bzImage\",\"memory\":\"1G\"}");
	assert_int_equal(def_image_vm_meta(in, &out, &err), 0);
	assert_string_equal(json_object_get_string(json_object_object_get(out, "boot")), "kernel");
	assert_int_equal(json_object_get_int64(json_object_object_get(out, "memory")), 1 << 30);
	json_object_put(in);
	json_object_put(out);

	/* What is refused, and the sentence says what. */
	static const struct {
		const char *doc, *says;
	} bad[] = {
	        {"{\"arch\":\"arm64\",\"disk\":\"d\"}", "'arch' must be \"riscv64\" or \"x86_64\""},
	        {"{\"arch\":\"riscv64\"}", "'disk'"},
	        {"{\"arch\":\"riscv64\",\"disk\":\"../d\"}", "no absolute path"},
	        {"{\"arch\":\"riscv64\",\"disk\":\"d\",\"extra\":1}", "unknown field 'extra'"},
	        {"{\"arch\":\"x86_64\",\"disk\":\"d\",\"boot\":\"disk\"}",
	         "needs arch \"riscv64\""},
	        {"{\"arch\":\"riscv64\",\"disk\":\"d\",\"boot\":\"kernel\"}",
	         "'kernel' is required"},
	        {"{\"arch\":\"riscv64\",\"disk\":\"d\",\"boot\":\"disk\",\"initrd\":\"i\"}",
	         "'initrd' goes with"},
	        {"{\"arch\":\"riscv64\",\"disk\":\"d\",\"format\":\"vmdk\"}", "'format'"},
	        {"{\"arch\":\"riscv64\",\"disk\":\"d\",\"cpus\":0}", "'cpus'"},
	        {"[1]", "must be a JSON object"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		in = j(bad[i].doc);
		out = NULL;
		vk_error_clear(&err);
		assert_int_equal(def_image_vm_meta(in, &out, &err), -EINVAL);
		assert_null(out);
		expect_msg(&err, bad[i].says);
		assert_true(strncmp(err.msg, "image metadata", 14) == 0);
		json_object_put(in);
	}
}

static void test_kernel_arch(void **state)
{
	uint8_t head[0x240] = {0};
	struct vk_error err = {0};

	memcpy(head,
	       "\x7f"
	       "ELF",
	       4);
	head[18] = 243; /* EM_RISCV */
	assert_int_equal(def_image_kernel_check("riscv64", head, sizeof(head), "k", &err), 0);
	assert_int_equal(def_image_kernel_check("x86_64", head, sizeof(head), "k", &err), -EINVAL);
	expect_msg(&err, "'arch' says x86_64 but the kernel 'k' is an ELF file for riscv64");
	memset(head, 0, sizeof(head));
	memcpy(head + 0x202, "HdrS", 4);
	assert_int_equal(def_image_kernel_check("riscv64", head, sizeof(head), "k", &err), -EINVAL);
	expect_msg(&err, "x86 bzImage");
	assert_int_equal(def_image_kernel_check("x86_64", head, sizeof(head), "k", &err), 0);
	memset(head, 0, sizeof(head));
	memcpy(head + 0x38, "RSC\x05", 4);
	assert_int_equal(def_image_kernel_check("x86_64", head, sizeof(head), "k", &err), -EINVAL);
	/* A flat binary cannot be told: it passes. */
	memset(head, 0x13, sizeof(head));
	assert_int_equal(def_image_kernel_check("x86_64", head, sizeof(head), "k", &err), 0);
}

#define D1          "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2          "sha256:2222222222222222222222222222222222222222222222222222222222222222"
#define MANIFEST_MT "application/vnd.oci.image.manifest.v1+json"

static void test_oci_index(void **state)
{
	struct vk_error err = {0};
	struct oci_desc d;
	json_object *idx;

	idx = j("{\"manifests\":["
	        "{\"mediaType\":\"" MANIFEST_MT "\",\"digest\":\"" D1 "\",\"size\":10,"
	        "\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\"}},"
	        "{\"mediaType\":\"" MANIFEST_MT "\",\"digest\":\"" D2 "\",\"size\":20,"
	        "\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}}]}");
	assert_int_equal(def_oci_index_pick(idx, "amd64", &d, &err), 0);
	assert_string_equal(d.digest, D2);
	assert_int_equal(d.size, 20);
	assert_int_equal(def_oci_index_pick(idx, "riscv64", &d, &err), -ENOENT);
	expect_msg(&err, "no manifest for linux/riscv64 (it has linux/arm64, linux/amd64)");
	json_object_put(idx);

	idx = j("{\"manifests\":[{\"digest\":\"sha256:12\",\"size\":1}]}");
	assert_int_equal(def_oci_index_pick(idx, "amd64", &d, &err), -EINVAL);
	expect_msg(&err, "64 lower-case hex digits");
	json_object_put(idx);

	idx = j("{\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
	        "\"digest\":\"" D1 "\",\"size\":5}]}");
	assert_int_equal(def_oci_index_pick(idx, "amd64", &d, &err), 0);
	assert_true(def_oci_is_index(d.media_type));
	json_object_put(idx);
}

static void test_oci_manifest_config(void **state)
{
	struct oci_manifest *m = calloc(1, sizeof(*m));
	struct vk_error err = {0};
	json_object *doc, *sum;

	doc = j("{\"schemaVersion\":2,\"config\":{\"mediaType\":"
	        "\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" D1 "\",\"size\":3},"
	        "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\","
	        "\"digest\":\"" D2 "\",\"size\":7}]}");
	assert_int_equal(def_oci_manifest(doc, m, &err), 0);
	assert_int_equal(m->nr_layers, 1);
	assert_string_equal(m->layers[0].hex,
	                    "2222222222222222222222222222222222222222222222222222222222222222");
	json_object_put(doc);
	doc = j("{\"schemaVersion\":2,\"config\":{\"digest\":\"" D1 "\",\"size\":3},"
	        "\"layers\":[{\"mediaType\":\"application/x-tar-foreign\",\"digest\":\"" D2
	        "\",\"size\":7}]}");
	assert_int_equal(def_oci_manifest(doc, m, &err), -EINVAL);
	expect_msg(&err, "expected a tar layer");
	json_object_put(doc);
	doc = j("{\"schemaVersion\":2,\"config\":{\"digest\":\"" D1
	        "\",\"size\":-3},\"layers\":[]}");
	assert_int_equal(def_oci_manifest(doc, m, &err), -EINVAL);
	expect_msg(&err, "no valid size");
	json_object_put(doc);
	free(m);

	doc = j("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Env\":[\"A=1\"],"
	        "\"Cmd\":[\"sh\"],\"WorkingDir\":\"/w\",\"User\":\"nobody\"}}");
	assert_int_equal(def_oci_config(doc, "amd64", &sum, &err), 0);
	assert_string_equal(json_object_get_string(json_object_object_get(sum, "working_dir")),
	                    "/w");
	assert_string_equal(json_object_get_string(json_object_object_get(sum, "user")), "nobody");
	json_object_put(sum);
	assert_int_equal(def_oci_config(doc, "riscv64", &sum, &err), -EINVAL);
	expect_msg(&err, "is for architecture 'amd64'");
	json_object_put(doc);
	doc = j("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"WorkingDir\":\"rel\"}"
	        "}");
	assert_int_equal(def_oci_config(doc, "amd64", &sum, &err), -EINVAL);
	expect_msg(&err, "not an absolute path");
	json_object_put(doc);
	doc = j("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Cmd\":[1]}}");
	assert_int_equal(def_oci_config(doc, "amd64", &sum, &err), -EINVAL);
	json_object_put(doc);
}

static void test_launch(void **state)
{
	struct vk_error err = {0};
	const char *args[] = {"echo", "hi", NULL};
	struct image_launch l = {.name = "c1", .args = args, .memory = 64 << 20};
	int64_t ids[2] = {1000, 100};
	json_object *info, *def, *proc;

	info = j("{\"type\":\"container\",\"config\":{\"cmd\":[\"sh\"],\"env\":[\"A=1\"],"
	         "\"working_dir\":\"/w\"}}");
	assert_int_equal(def_image_launch(info, &l, "/img", NULL, "/st/rootfs", ids, &def, &err),
	                 0);
	proc = json_object_object_get(def, "process");
	assert_string_equal(json_object_get_string(json_object_object_get(def, "rootfs")),
	                    "/st/rootfs");
	assert_string_equal(json_object_get_string(json_object_array_get_idx(
	                            json_object_object_get(proc, "args"), 0)),
	                    "echo");
	assert_int_equal(json_object_get_int(json_object_object_get(proc, "uid")), 1000);
	assert_string_equal(json_object_get_string(json_object_object_get(proc, "cwd")), "/w");
	json_object_put(def);
	l.args = NULL;
	l.cpus = 2;
	assert_int_equal(def_image_launch(info, &l, "/img", NULL, "/st/rootfs", ids, &def, &err),
	                 -EINVAL);
	expect_msg(&err, "--cpus is for VMs");
	json_object_put(info);

	info = j("{\"type\":\"vm\",\"arch\":\"riscv64\",\"boot\":\"kernel\",\"cmdline\":\"c\","
	         "\"memory\":1000,\"cpus\":1,\"files\":{\"disk\":{},\"kernel\":{}}}");
	l = (struct image_launch){.name = "v1", .network = "none"};
	assert_int_equal(
	        def_image_launch(info, &l, "/img", "/st/disk.qcow2", NULL, NULL, &def, &err), 0);
	assert_string_equal(json_object_get_string(json_object_object_get(def, "kernel")),
	                    "/img/kernel");
	assert_false(json_object_object_get_ex(def, "initrd", NULL));
	assert_false(json_object_object_get_ex(def, "networks", NULL));
	assert_string_equal(
	        json_object_get_string(json_object_object_get(
	                json_object_array_get_idx(json_object_object_get(def, "disks"), 0),
	                "format")),
	        "qcow2");
	json_object_put(def);
	/* A network of the daemon, and a bridge the user manages. */
	l.network = "lan";
	assert_int_equal(def_image_launch(info, &l, "/img", "/d", NULL, NULL, &def, &err), 0);
	assert_string_equal(json_object_to_json_string_ext(json_object_object_get(def, "networks"),
	                                                   JSON_C_TO_STRING_PLAIN),
	                    "[{\"type\":\"network\",\"name\":\"lan\"}]");
	json_object_put(def);
	l.network = "bridge:br0";
	assert_int_equal(def_image_launch(info, &l, "/img", "/d", NULL, NULL, &def, &err), 0);
	assert_string_equal(json_object_to_json_string_ext(json_object_object_get(def, "networks"),
	                                                   JSON_C_TO_STRING_PLAIN),
	                    "[{\"type\":\"bridge\",\"bridge\":\"br0\"}]");
	json_object_put(def);
	l.network = NULL;
	l.args = args;
	assert_int_equal(def_image_launch(info, &l, "/img", "/d", NULL, NULL, &def, &err), -EINVAL);
	expect_msg(&err, "is for containers");
	json_object_put(info);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_names_and_digests),   cmocka_unit_test(test_vm_meta),
	        cmocka_unit_test(test_kernel_arch),         cmocka_unit_test(test_oci_index),
	        cmocka_unit_test(test_oci_manifest_config), cmocka_unit_test(test_launch),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
