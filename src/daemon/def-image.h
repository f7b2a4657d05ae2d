/* SPDX-License-Identifier: MIT */
/*
 * Images as data (docs/api.md, "Images"): the metadata file of a VM image, the
 * OCI documents of a container image (index, manifest, config), and the
 * instance definition a launch makes from an image. Pure code: no I/O (the
 * importer in image*.c reads the files and hands their JSON here).
 *
 * Everything here is untrusted input: unknown fields of the metadata file are
 * refused, digests must be "sha256:" and 64 lower-case hex digits, file names
 * inside an image stay inside it (no absolute names, no "..").
 */
#ifndef VKD_DEF_IMAGE_H
#define VKD_DEF_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "common/error.h"

#define IMAGE_FP_LEN     64 /* a fingerprint: sha256, hex */
#define IMAGE_LAYERS_MAX 128

/* A file name relative to an image's folder: no "/" at the start, no "." or ".." parts. */
bool def_image_name_ok(const char *name);
/* "sha256:" + 64 lower-case hex digits; hex (may be NULL) gets the 64 digits. */
bool def_image_digest_ok(const char *digest, char hex[IMAGE_FP_LEN + 1]);

/*
 * A VM image's metadata file (in, already parsed) checked and normalized into the image's
 * description: {"type":"vm", "arch", "boot", "cmdline", "memory", "cpus", "description",
 * "files": {"disk": {"name", "format"}, "kernel": {"name"}, "initrd": {"name"}}}. The
 * importer adds each file's size and sha256. EINVAL with a sentence naming the field.
 */
int def_image_vm_meta(json_object *in, json_object **out, struct vk_error *err) VK_MUST_CHECK;

/*
 * A VM image's kernel against the architecture its metadata says, from the file's first
 * bytes (head, len of them): an ELF file's machine, an x86 bzImage's or a RISC-V Linux
 * Image's header. EINVAL when they disagree ("... says riscv64 but 'k' is an x86 bzImage").
 * Files it cannot tell (a flat binary) pass.
 */
int def_image_kernel_check(const char *arch, const uint8_t *head, size_t len, const char *name,
                           struct vk_error *err) VK_MUST_CHECK;

/* A content descriptor of an OCI document (image-spec descriptor.md). */
struct oci_desc {
	char media_type[128];
	char digest[IMAGE_FP_LEN + 8]; /* "sha256:..." */
	char hex[IMAGE_FP_LEN + 1];
	int64_t size;
};

/*
 * index.json: the manifest for linux/arch (arch as OCI spells it: amd64, riscv64; an entry
 * without a platform also fits). A nested image index is returned as is (its media type says
 * so): the caller reads it and asks again. ENOENT when no manifest fits, naming the platforms
 * there are.
 */
int def_oci_index_pick(json_object *index, const char *arch, struct oci_desc *out,
                       struct vk_error *err) VK_MUST_CHECK;

/* An image index's media type (OCI, or Docker's manifest list). */
bool def_oci_is_index(const char *media_type);

/* An image manifest: its config and layers (tar, tar+gzip or tar+zstd), checked. */
struct oci_manifest {
	struct oci_desc config;
	struct oci_desc layers[IMAGE_LAYERS_MAX];
	size_t nr_layers;
};
int def_oci_manifest(json_object *m, struct oci_manifest *out, struct vk_error *err) VK_MUST_CHECK;

/*
 * An image config: checked and summarized into {"architecture", "os", "env", "entrypoint",
 * "cmd", "working_dir", "user"} (what a launch needs). EINVAL for a config of another OS or
 * architecture than arch, or fields of the wrong type.
 */
int def_oci_config(json_object *c, const char *arch, json_object **out,
                   struct vk_error *err) VK_MUST_CHECK;

/* What `launch` asks for beyond the image (NULL / 0: the image's defaults). */
struct image_launch {
	const char *name;
	const char *uuid;
	uint64_t memory;
	unsigned cpus;
	const char *const *args; /* containers: the command instead of the image's, NULL-ended */
	/*
	 * NULL: the default (a VM: one user-mode network card; a container: "none"). A VM:
	 * "user", "none", "bridge:BRIDGE" or a network of the daemon; a container: its
	 * definition's "network" ("none", "host", a network's name, "bridge:BRIDGE").
	 */
	const char *network;
};

/*
 * The raw definition (to be normalized like any other) of an instance launched from an
 * image described by info (as stored): a VM gets the image's boot settings and its own disk
 * (disk_path, a qcow2 overlay) and the image's kernel and initrd by their paths in image_dir;
 * a container gets rootfs as its root and the image config's command, environment, working
 * folder and user (numeric, or resolved by the caller into uid/gid: user_ids).
 */
int def_image_launch(json_object *info, const struct image_launch *l, const char *image_dir,
                     const char *disk_path, const char *rootfs, const int64_t user_ids[2],
                     json_object **out, struct vk_error *err) VK_MUST_CHECK;

#endif
