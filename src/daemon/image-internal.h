/* SPDX-License-Identifier: MIT */
/*
 * Private to the image layer (images.c, image-file.c, image-unpack.c,
 * image-oci.c): progress reporting, hashed file copies, tree copies, the safe
 * unpacking of tar layers and the import of OCI image layouts.
 */
#ifndef VKD_IMAGE_INTERNAL_H
#define VKD_IMAGE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "common/error.h"
#include "daemon/def-image.h"

/*
 * A long operation's progress: report() is called when a stage starts, every
 * 5 % of it (at most four times a second) and when it ends. images.c turns
 * the calls into image events.
 */
struct image_progress {
	void (*report)(struct image_progress *p, bool done);
	const char *operation; /* "import", "launch" */
	const char *subject;   /* what it works on: the import's source, the image */
	char stage[64];        /* "copy disk", "verify layer 1/3", ... */
	uint64_t done, total;  /* bytes of this stage */
	int last_pct;
	uint64_t last_ns;
};

void image_progress_stage(struct image_progress *p, const char *stage, uint64_t total);
void image_progress_add(struct image_progress *p, uint64_t n);
void image_progress_end(struct image_progress *p);

/* The 64 hex digits of a SHA-256 digest. */
void image_hex(const uint8_t digest[32], char hex[IMAGE_FP_LEN + 1]);
/* SHA-256 of a byte string, as hex. */
void image_sha256_text(const char *text, size_t len, char hex[IMAGE_FP_LEN + 1]);

/*
 * Copy the regular file src (read through srcfd, name for messages) to a new file dst
 * (created in dstdir, mode 0444) while computing its SHA-256 (hex) and size, reporting
 * progress. The copy is fsync'd.
 */
int image_copy_file(int srcfd, const char *src, int dstdir, const char *dst,
                    char hex[IMAGE_FP_LEN + 1], uint64_t *size, struct image_progress *p,
                    struct vk_error *err) VK_MUST_CHECK;
/* SHA-256 (hex) and size of what fd reads from its current offset, with progress. */
int image_sha256_fd(int fd, const char *name, char hex[IMAGE_FP_LEN + 1], uint64_t *size,
                    struct image_progress *p, struct vk_error *err) VK_MUST_CHECK;

/* Bytes of the regular files below a folder (for a copy's progress). */
uint64_t image_tree_bytes(const char *dir);
/*
 * Copy a root file system tree to dst (which must not exist): folders, files, symlinks,
 * hard links (kept as links), device nodes and fifos, with owners, modes and times. Never
 * follows a symlink. Reports progress in bytes.
 */
int image_copy_tree(const char *src, const char *dst, struct image_progress *p,
                    struct vk_error *err) VK_MUST_CHECK;

/*
 * Unpack one layer (a tar stream, plain, gzip or zstd, read from layerfd) into the tree
 * whose folder rootfd is, applying OCI whiteouts. Every entry must stay inside the tree:
 * an absolute name, a ".." part, or a path that leaves the tree through a symlink (an
 * absolute one, or one with ".." that climbs out) is an error naming the entry and the
 * layer (what), and so is a hard link to such a path. Owners are kept when the daemon
 * runs as root.
 */
int image_unpack_layer(int rootfd, int layerfd, const char *what, struct image_progress *p,
                       struct vk_error *err) VK_MUST_CHECK;

/* This host's architecture as OCI names it (amd64, arm64, riscv64). */
const char *image_host_oci_arch(void);

/*
 * Import an OCI image from source (an image layout folder, or a tar archive of one) into
 * the new, empty folder dir: its blobs are verified against their digests, its layers
 * unpacked into dir/rootfs, its config written to dir/config.json. *info gets the image's
 * description (type "container") and fp its fingerprint (the manifest's digest).
 */
int image_oci_import(const char *source, const char *dir, const char *arch, json_object **info,
                     char fp[IMAGE_FP_LEN + 1], struct image_progress *p,
                     struct vk_error *err) VK_MUST_CHECK;

#endif
