/* SPDX-License-Identifier: MIT */
/* Images as data: VM image metadata, OCI index/manifest/config, launch definitions (def-image.h). */
#include "daemon/def-image.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"
#include "daemon/def-check.h"

#define OCI_MANIFEST   "application/vnd.oci.image.manifest.v1+json"
#define OCI_INDEX      "application/vnd.oci.image.index.v1+json"
#define OCI_CONFIG     "application/vnd.oci.image.config.v1+json"
#define OCI_LAYER      "application/vnd.oci.image.layer.v1.tar"
#define DOCKER_LIST    "application/vnd.docker.distribution.manifest.list.v2+json"
#define DOCKER_MANIFST "application/vnd.docker.distribution.manifest.v2+json"

bool def_image_name_ok(const char *name)
{
	const char *p = name;

	if (!name[0] || name[0] == '/' || strlen(name) > 255 || !dc_text_ok(name, false))
		return false;
	while (*p) {
		size_t n = strcspn(p, "/");
		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		p += n;
		if (*p == '/')
			p++;
	}
	return p[-1] != '/';
}

bool def_image_digest_ok(const char *digest, char hex[IMAGE_FP_LEN + 1])
{
	if (!digest || strncmp(digest, "sha256:", 7) != 0 || strlen(digest) != 7 + IMAGE_FP_LEN)
		return false;
	for (const char *p = digest + 7; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	if (hex)
		memcpy(hex, digest + 7, IMAGE_FP_LEN + 1);
	return true;
}

/* dc_* messages start with "invalid definition: "; in a metadata file they name the file. */
static int meta_error(struct vk_error *err, int r)
{
	static const char prefix[] = "invalid definition: ";

	if (err && strncmp(err->msg, prefix, sizeof(prefix) - 1) == 0)
		memmove(err->msg, err->msg + sizeof(prefix) - 1,
		        strlen(err->msg) - (sizeof(prefix) - 1) + 1);
	return err ? vk_error_prefix(err, "image metadata") : r;
}

static int meta_file(struct dc_ctx *c, json_object *in, const char *key, bool required,
                     json_object *files)
{
	const char *name;
	json_object *f;
	int r;

	if ((r = dc_get_str(c, in, key, required, 255, &name)) < 0)
		return r;
	if (!name)
		return 0;
	if (!def_image_name_ok(name))
		return dc_bad(c, key,
		              "must name a file in the image's folder (no absolute path, no "
		              "'..')");
	f = json_object_new_object();
	dc_put_str(f, "name", name);
	json_object_object_add(files, key, f);
	return 0;
}

int def_image_vm_meta(json_object *in, json_object **out, struct vk_error *err)
{
	static const char *const keys[] = {"arch",   "boot",        "disk",    "format",
	                                   "kernel", "initrd",      "cmdline", "memory",
	                                   "cpus",   "description", NULL};
	static const char *const arches[] = {"riscv64", "x86_64", NULL};
	static const char *const boots[] = {"kernel", "disk", NULL};
	static const char *const formats[] = {"raw", "qcow2", NULL};
	struct dc_ctx c = {.err = err};
	const char *arch, *boot, *format, *cmdline, *desc;
	json_object *o = NULL, *files;
	uint64_t memory, cpus;
	int r;

	if (!json_object_is_type(in, json_type_object))
		return vk_error_set(err, EINVAL, "image metadata must be a JSON object");
	o = json_object_new_object();
	files = json_object_new_object();
	json_object_object_add(o, "type", json_object_new_string("vm"));
	if ((r = dc_check_keys(&c, in, keys)) < 0 ||
	    (r = dc_get_str(&c, in, "arch", true, 16, &arch)) < 0 ||
	    (r = dc_check_enum(&c, "arch", arch, arches, "must be \"riscv64\" or \"x86_64\"")) <
	            0 ||
	    (r = dc_get_str(&c, in, "boot", false, 8, &boot)) < 0 ||
	    (boot &&
	     (r = dc_check_enum(&c, "boot", boot, boots, "must be \"kernel\" or \"disk\"")) < 0) ||
	    (r = dc_get_str(&c, in, "format", false, 8, &format)) < 0 ||
	    (format && (r = dc_check_enum(&c, "format", format, formats,
	                                  "must be \"raw\" or \"qcow2\"")) < 0) ||
	    (r = dc_get_str(&c, in, "cmdline", false, CMDLINE_LEN_MAX, &cmdline)) < 0 ||
	    (r = dc_get_str(&c, in, "description", false, 1024, &desc)) < 0 ||
	    (r = dc_get_size(&c, in, "memory", 16ull << 20, 64ull << 30, 256ull << 20, &memory)) <
	            0 ||
	    (r = dc_get_uint(&c, in, "cpus", 1, 64, 1, &cpus)) < 0 ||
	    (r = meta_file(&c, in, "disk", true, files)) < 0 ||
	    (r = meta_file(&c, in, "kernel", false, files)) < 0 ||
	    (r = meta_file(&c, in, "initrd", false, files)) < 0)
		goto fail;
	if (!boot)
		boot = json_object_object_get_ex(files, "kernel", NULL) ? "kernel" : "disk";
	if (strcmp(boot, "kernel") == 0 && !json_object_object_get_ex(files, "kernel", NULL)) {
		r = dc_bad(&c, "kernel", "is required when the image boots a kernel");
		goto fail;
	}
	if (strcmp(boot, "disk") == 0 && strcmp(arch, "riscv64") != 0) {
		r = dc_bad(&c, "boot",
		           "\"disk\" needs arch \"riscv64\" (the PC board has no BIOS)");
		goto fail;
	}
	if (strcmp(boot, "disk") == 0 && json_object_object_get_ex(files, "initrd", NULL)) {
		r = dc_bad(&c, "initrd", "goes with \"boot\": \"kernel\"");
		goto fail;
	}
	if (format)
		dc_put_str(json_object_object_get(files, "disk"), "format", format);
	dc_put_str(o, "arch", arch);
	dc_put_str(o, "boot", boot);
	dc_put_str(o, "cmdline", cmdline);
	dc_put_int(o, "memory", memory);
	dc_put_int(o, "cpus", cpus);
	dc_put_str(o, "description", desc);
	json_object_object_add(o, "files", files);
	*out = o;
	return 0;
fail:
	json_object_put(files);
	json_object_put(o);
	return meta_error(err, r);
}

int def_image_kernel_check(const char *arch, const uint8_t *head, size_t len, const char *name,
                           struct vk_error *err)
{
	const char *is = NULL, *kind = NULL;

	if (len >= 20 && memcmp(head,
	                        "\x7f"
	                        "ELF",
	                        4) == 0) {
		unsigned machine = head[18] | (unsigned)head[19] << 8;
		is = machine == 243 ? "riscv64" : machine == 62 ? "x86_64" : "another";
		kind = "an ELF file";
	} else if (len >= 0x206 && memcmp(head + 0x202, "HdrS", 4) == 0) {
		is = "x86_64";
		kind = "an x86 bzImage";
	} else if (len >= 0x40 && memcmp(head + 0x38, "RSC\x05", 4) == 0) {
		is = "riscv64";
		kind = "a RISC-V Linux Image";
	}
	if (!is || strcmp(is, arch) == 0)
		return 0;
	return vk_error_set(err, EINVAL,
	                    "image metadata: 'arch' says %s but the kernel '%s' is %s for %s", arch,
	                    name, kind, strcmp(is, "another") == 0 ? "another architecture" : is);
}

/* --- OCI documents -------------------------------------------------------------------- */

static const char *str_of(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* A descriptor's mediaType, digest and size; what names it in messages. */
static int get_desc(json_object *d, const char *what, struct oci_desc *out, struct vk_error *err)
{
	json_object *size;
	const char *mt = str_of(d, "mediaType"), *digest = str_of(d, "digest");

	memset(out, 0, sizeof(*out));
	if (!json_object_is_type(d, json_type_object))
		return vk_error_set(err, EINVAL, "%s is not a JSON object", what);
	if (!def_image_digest_ok(digest, out->hex))
		return vk_error_set(err, EINVAL,
		                    "%s: digest '%.80s' is not \"sha256:\" and 64 lower-case hex "
		                    "digits",
		                    what, digest ? digest : "(none)");
	if (!json_object_object_get_ex(d, "size", &size) ||
	    !json_object_is_type(size, json_type_int) || json_object_get_int64(size) < 0)
		return vk_error_set(err, EINVAL, "%s: no valid size", what);
	out->size = json_object_get_int64(size);
	snprintf(out->digest, sizeof(out->digest), "%s", digest);
	snprintf(out->media_type, sizeof(out->media_type), "%s", mt ? mt : "");
	return 0;
}

static bool is_manifest_type(const char *mt)
{
	return !mt[0] || strcmp(mt, OCI_MANIFEST) == 0 || strcmp(mt, DOCKER_MANIFST) == 0;
}

static bool is_index_type(const char *mt)
{
	return strcmp(mt, OCI_INDEX) == 0 || strcmp(mt, DOCKER_LIST) == 0;
}

int def_oci_index_pick(json_object *index, const char *arch, struct oci_desc *out,
                       struct vk_error *err)
{
	json_object *ms;
	char seen[256] = "";
	size_t n, i, used = 0;

	if (!json_object_is_type(index, json_type_object) ||
	    !json_object_object_get_ex(index, "manifests", &ms) ||
	    !json_object_is_type(ms, json_type_array))
		return vk_error_set(err, EINVAL, "index.json has no \"manifests\" list");
	n = json_object_array_length(ms);
	if (n > 1024)
		return vk_error_set(err, EINVAL, "index.json lists %zu manifests (at most 1024)",
		                    n);
	for (i = 0; i < n; i++) {
		json_object *d = json_object_array_get_idx(ms, i), *pf;
		const char *os, *a;
		char what[48];
		int r;

		snprintf(what, sizeof(what), "index.json: manifests[%zu]", i);
		if ((r = get_desc(d, what, out, err)) < 0)
			return r;
		if (!is_manifest_type(out->media_type) && !is_index_type(out->media_type))
			continue;
		if (!json_object_object_get_ex(d, "platform", &pf))
			return 0;
		os = str_of(pf, "os");
		a = str_of(pf, "architecture");
		if ((!os || strcmp(os, "linux") == 0) && (!a || strcmp(a, arch) == 0))
			return 0;
		if (used < sizeof(seen))
			used += (size_t)snprintf(seen + used, sizeof(seen) - used, "%s%s/%s",
			                         used ? ", " : "", os ? os : "?", a ? a : "?");
	}
	memset(out, 0, sizeof(*out));
	return vk_error_set(err, ENOENT, "the image has no manifest for linux/%s%s%s%s", arch,
	                    seen[0] ? " (it has " : "", seen, seen[0] ? ")" : "");
}

bool def_oci_is_index(const char *media_type)
{
	return is_index_type(media_type);
}

static bool layer_type_ok(const char *mt)
{
	static const char *const ok[] = {
	        OCI_LAYER,
	        OCI_LAYER "+gzip",
	        OCI_LAYER "+zstd",
	        "application/vnd.docker.image.rootfs.diff.tar.gzip",
	        NULL,
	};

	for (const char *const *p = ok; *p; p++)
		if (strcmp(mt, *p) == 0)
			return true;
	return false;
}

int def_oci_manifest(json_object *m, struct oci_manifest *out, struct vk_error *err)
{
	json_object *cfg, *layers, *v;
	size_t n, i;
	int r;

	memset(out, 0, sizeof(*out));
	if (!json_object_is_type(m, json_type_object))
		return vk_error_set(err, EINVAL, "the image manifest is not a JSON object");
	if (!json_object_object_get_ex(m, "schemaVersion", &v) || json_object_get_int(v) != 2)
		return vk_error_set(err, EINVAL, "the image manifest is not schemaVersion 2");
	if (!json_object_object_get_ex(m, "config", &cfg))
		return vk_error_set(err, EINVAL, "the image manifest has no config");
	if ((r = get_desc(cfg, "manifest: config", &out->config, err)) < 0)
		return r;
	if (out->config.media_type[0] && strcmp(out->config.media_type, OCI_CONFIG) != 0 &&
	    strcmp(out->config.media_type, "application/vnd.docker.container.image.v1+json") != 0)
		return vk_error_set(err, EINVAL,
		                    "the image's config has media type '%s', not an image config "
		                    "(an artifact, not a container image?)",
		                    out->config.media_type);
	if (!json_object_object_get_ex(m, "layers", &layers) ||
	    !json_object_is_type(layers, json_type_array))
		return vk_error_set(err, EINVAL, "the image manifest has no layers list");
	n = json_object_array_length(layers);
	if (n > IMAGE_LAYERS_MAX)
		return vk_error_set(err, EINVAL, "the image has %zu layers (at most %d)", n,
		                    IMAGE_LAYERS_MAX);
	for (i = 0; i < n; i++) {
		char what[40];
		snprintf(what, sizeof(what), "manifest: layers[%zu]", i);
		if ((r = get_desc(json_object_array_get_idx(layers, i), what, &out->layers[i],
		                  err)) < 0)
			return r;
		if (!layer_type_ok(out->layers[i].media_type))
			return vk_error_set(err, EINVAL,
			                    "%s has media type '%s' (expected a tar layer, plain, "
			                    "gzip or zstd)",
			                    what, out->layers[i].media_type);
	}
	out->nr_layers = n;
	return 0;
}

/* A list of strings (or absent/null): copied into out under key; EINVAL otherwise. */
static int copy_strings(json_object *from, const char *key, json_object *out, const char *outkey,
                        size_t max, struct vk_error *err)
{
	json_object *v, *a;
	size_t n;

	if (!json_object_object_get_ex(from, key, &v) || json_object_is_type(v, json_type_null))
		return 0;
	if (!json_object_is_type(v, json_type_array) || (n = json_object_array_length(v)) > max)
		return vk_error_set(err, EINVAL,
		                    "the image config's %s is not a list of at most %zu strings",
		                    key, max);
	a = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		json_object *s = json_object_array_get_idx(v, i);
		if (!json_object_is_type(s, json_type_string) ||
		    !dc_text_ok(json_object_get_string(s), true)) {
			json_object_put(a);
			return vk_error_set(err, EINVAL, "the image config's %s[%zu] is not text",
			                    key, i);
		}
		json_object_array_add(a, json_object_new_string(json_object_get_string(s)));
	}
	json_object_object_add(out, outkey, a);
	return 0;
}

int def_oci_config(json_object *c, const char *arch, json_object **out, struct vk_error *err)
{
	const char *a = str_of(c, "architecture"), *os = str_of(c, "os"), *s;
	json_object *o, *cfg = NULL;
	int r;

	if (!json_object_is_type(c, json_type_object))
		return vk_error_set(err, EINVAL, "the image config is not a JSON object");
	if (!os || strcmp(os, "linux") != 0)
		return vk_error_set(err, EINVAL, "the image is for OS '%s', not linux",
		                    os ? os : "(none)");
	if (!a || strcmp(a, arch) != 0)
		return vk_error_set(err, EINVAL,
		                    "the image is for architecture '%s', and this host runs %s "
		                    "containers",
		                    a ? a : "(none)", arch);
	o = json_object_new_object();
	dc_put_str(o, "architecture", a);
	dc_put_str(o, "os", os);
	if (json_object_object_get_ex(c, "config", &cfg) &&
	    !json_object_is_type(cfg, json_type_null) &&
	    !json_object_is_type(cfg, json_type_object)) {
		json_object_put(o);
		return vk_error_set(err, EINVAL, "the image config's \"config\" is not an object");
	}
	if (cfg && json_object_is_type(cfg, json_type_object)) {
		if ((r = copy_strings(cfg, "Env", o, "env", ENV_MAX, err)) < 0 ||
		    (r = copy_strings(cfg, "Entrypoint", o, "entrypoint", ARGS_MAX, err)) < 0 ||
		    (r = copy_strings(cfg, "Cmd", o, "cmd", ARGS_MAX, err)) < 0) {
			json_object_put(o);
			return r;
		}
		if ((s = str_of(cfg, "WorkingDir")) && s[0]) {
			if (s[0] != '/' || !dc_text_ok(s, false)) {
				json_object_put(o);
				return vk_error_set(
				        err, EINVAL,
				        "the image config's WorkingDir '%.80s' is not an "
				        "absolute path",
				        s);
			}
			dc_put_str(o, "working_dir", s);
		}
		if ((s = str_of(cfg, "User")) && s[0]) {
			if (strlen(s) > 64 || !dc_text_ok(s, false)) {
				json_object_put(o);
				return vk_error_set(err, EINVAL,
				                    "the image config's User is not a user name");
			}
			dc_put_str(o, "user", s);
		}
	}
	*out = o;
	return 0;
}

/* --- launch ------------------------------------------------------------------------------ */

static json_object *file_path(const char *dir, json_object *files, const char *key)
{
	json_object *f;
	char buf[4200];

	if (!json_object_object_get_ex(files, key, &f))
		return NULL;
	snprintf(buf, sizeof(buf), "%s/%s", dir, key);
	return json_object_new_string(buf);
}

static int launch_vm(json_object *info, const struct image_launch *l, const char *image_dir,
                     const char *disk_path, json_object *d)
{
	json_object *files = json_object_object_get(info, "files"), *disks, *disk, *v;

	json_object_object_add(d, "arch", json_object_new_string(str_of(info, "arch")));
	json_object_object_add(d, "boot", json_object_new_string(str_of(info, "boot")));
	if ((v = file_path(image_dir, files, "kernel")))
		json_object_object_add(d, "kernel", v);
	if ((v = file_path(image_dir, files, "initrd")))
		json_object_object_add(d, "initrd", v);
	if (str_of(info, "cmdline"))
		json_object_object_add(d, "cmdline",
		                       json_object_new_string(str_of(info, "cmdline")));
	json_object_object_add(
	        d, "memory",
	        json_object_new_int64(
	                l->memory ? (int64_t)l->memory
	                          : json_object_get_int64(json_object_object_get(info, "memory"))));
	json_object_object_add(
	        d, "cpus",
	        json_object_new_int(
	                l->cpus ? (int)l->cpus
	                        : json_object_get_int(json_object_object_get(info, "cpus"))));
	disks = json_object_new_array();
	disk = json_object_new_object();
	json_object_object_add(disk, "path", json_object_new_string(disk_path));
	json_object_object_add(disk, "format", json_object_new_string("qcow2"));
	json_object_array_add(disks, disk);
	json_object_object_add(d, "disks", disks);
	if (!l->network || strcmp(l->network, "none") != 0) {
		json_object *nets = json_object_new_array(), *n = json_object_new_object();
		const char *net = l->network ? l->network : "user";
		if (strcmp(net, "user") == 0) {
			json_object_object_add(n, "type", json_object_new_string("user"));
		} else if (strncmp(net, "bridge:", 7) == 0) {
			json_object_object_add(n, "type", json_object_new_string("bridge"));
			json_object_object_add(n, "bridge", json_object_new_string(net + 7));
		} else {
			json_object_object_add(n, "type", json_object_new_string("network"));
			json_object_object_add(n, "name", json_object_new_string(net));
		}
		json_object_array_add(nets, n);
		json_object_object_add(d, "networks", nets);
	}
	json_object_object_add(d, "rng", json_object_new_boolean(1));
	return 0;
}

static json_object *copy_array(json_object *a)
{
	json_object *out = json_object_new_array();

	for (size_t i = 0; a && i < json_object_array_length(a); i++)
		json_object_array_add(out, json_object_get(json_object_array_get_idx(a, i)));
	return out;
}

static int launch_container(json_object *info, const struct image_launch *l, const char *rootfs,
                            const int64_t user_ids[2], json_object *d, struct vk_error *err)
{
	json_object *cfg = json_object_object_get(info, "config");
	json_object *proc = json_object_new_object(), *args, *env;
	const char *wd = str_of(cfg, "working_dir");

	json_object_object_add(d, "rootfs", json_object_new_string(rootfs));
	json_object_object_add(d, "process", proc);
	if (l->args && l->args[0]) {
		args = json_object_new_array();
		for (size_t i = 0; l->args[i]; i++)
			json_object_array_add(args, json_object_new_string(l->args[i]));
	} else {
		args = copy_array(json_object_object_get(cfg, "entrypoint"));
		json_object *cmd = json_object_object_get(cfg, "cmd");
		for (size_t i = 0; cmd && i < json_object_array_length(cmd); i++)
			json_object_array_add(args,
			                      json_object_get(json_object_array_get_idx(cmd, i)));
	}
	json_object_object_add(proc, "args", args);
	if (json_object_array_length(args) == 0)
		return vk_error_set(err, EINVAL,
		                    "the image names no command (no Entrypoint, no Cmd): give one "
		                    "after '--'");
	env = json_object_object_get(cfg, "env");
	if (env)
		json_object_object_add(proc, "env", copy_array(env));
	if (wd)
		json_object_object_add(proc, "cwd", json_object_new_string(wd));
	if (user_ids && user_ids[0] >= 0) {
		json_object_object_add(proc, "uid", json_object_new_int64(user_ids[0]));
		json_object_object_add(proc, "gid", json_object_new_int64(user_ids[1]));
	}
	if (l->network)
		json_object_object_add(d, "network", json_object_new_string(l->network));
	if (l->memory) {
		json_object *lim = json_object_new_object();
		json_object_object_add(lim, "memory", json_object_new_int64((int64_t)l->memory));
		json_object_object_add(d, "limits", lim);
	}
	return 0;
}

int def_image_launch(json_object *info, const struct image_launch *l, const char *image_dir,
                     const char *disk_path, const char *rootfs, const int64_t user_ids[2],
                     json_object **out, struct vk_error *err)
{
	const char *type = str_of(info, "type"), *desc = str_of(info, "description");
	json_object *d = json_object_new_object();
	int r;

	json_object_object_add(d, "name", json_object_new_string(l->name));
	if (l->uuid)
		json_object_object_add(d, "uuid", json_object_new_string(l->uuid));
	json_object_object_add(d, "type", json_object_new_string(type ? type : "vm"));
	if (desc)
		json_object_object_add(d, "description", json_object_new_string(desc));
	if (type && strcmp(type, "container") == 0) {
		if (l->cpus) {
			json_object_put(d);
			return vk_error_set(
			        err, EINVAL,
			        "--cpus is for VMs (a container shares the host's CPUs; "
			        "--memory limits it)");
		}
		r = launch_container(info, l, rootfs, user_ids, d, err);
	} else {
		if (l->args && l->args[0]) {
			json_object_put(d);
			return vk_error_set(
			        err, EINVAL,
			        "a command after '--' is for containers: a VM boots its "
			        "image");
		}
		r = launch_vm(info, l, image_dir, disk_path, d);
	}
	if (r < 0) {
		json_object_put(d);
		return r;
	}
	*out = d;
	return 0;
}
