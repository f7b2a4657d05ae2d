/* SPDX-License-Identifier: MIT */
/*
 * Importing an OCI image (image-spec image-layout.md): from a layout folder,
 * or from a tar archive of one (`podman save --format oci-archive`, `skopeo
 * copy ... oci-archive:`). Every blob read is checked against the size and
 * the SHA-256 its descriptor gives before it is used; the layers are then
 * unpacked in order (image-unpack.c).
 *
 * From an archive only the layout's own files are taken (oci-layout,
 * index.json, blobs/sha256/<digest>, as regular files), into a scratch
 * folder inside the import's folder; anything else in the archive is skipped.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "common/util.h"
#include "daemon/def.h"
#include "daemon/image-internal.h"
#include "daemon/proc.h"

#define JSON_BLOB_MAX (4u << 20)
#define INDEX_DEPTH   4

/* --- an archive of a layout -------------------------------------------------------------- */

static bool layout_name(const char *name, bool *is_dir)
{
	char hex[IMAGE_FP_LEN + 8];

	*is_dir = false;
	if (!strcmp(name, "oci-layout") || !strcmp(name, "index.json"))
		return true;
	if (!strcmp(name, "blobs") || !strcmp(name, "blobs/sha256")) {
		*is_dir = true;
		return true;
	}
	if (strncmp(name, "blobs/sha256/", 13) != 0)
		return false;
	snprintf(hex, sizeof(hex), "sha256:%s", name + 13);
	return def_image_digest_ok(hex, NULL);
}

static int extract_layout(const char *archive_path, int outdir, struct image_progress *p,
                          struct vk_error *err)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	uint64_t reported = 0;
	int r = 0, ar;

	if (!a)
		return vk_error_set(err, ENOMEM, "out of memory");
	archive_read_support_format_tar(a);
	archive_read_support_format_gnutar(a);
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_zstd(a);
	if (archive_read_open_filename(a, archive_path, 1 << 16) != ARCHIVE_OK) {
		r = vk_error_set(err, EINVAL, "'%s' is not a tar archive: %s", archive_path,
		                 archive_error_string(a) ? archive_error_string(a) : "unreadable");
		goto out;
	}
	if (mkdirat(outdir, "blobs", 0700) < 0 || mkdirat(outdir, "blobs/sha256", 0700) < 0) {
		r = vk_error_errno(err, errno, "cannot create the image's scratch folder");
		goto out;
	}
	while ((ar = archive_read_next_header(a, &e)) == ARCHIVE_OK || ar == ARCHIVE_WARN) {
		const char *name = archive_entry_pathname(e);
		bool is_dir;
		const void *buf;
		size_t len;
		la_int64_t off;
		int fd;

		while (name && name[0] == '.' && name[1] == '/')
			name += 2;
		if (!name || !layout_name(name, &is_dir))
			continue; /* not part of an OCI layout: never written */
		if (is_dir)
			continue;
		if (archive_entry_filetype(e) != AE_IFREG || archive_entry_hardlink(e)) {
			r = vk_error_set(err, EINVAL,
			                 "'%s': '%s' is not a regular file in the archive",
			                 archive_path, name);
			goto out;
		}
		fd = openat(outdir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		            0600);
		if (fd < 0) {
			r = vk_error_errno(err, errno, "'%s': cannot take '%s'%s", archive_path,
			                   name, errno == EEXIST ? " (twice in the archive)" : "");
			goto out;
		}
		while ((ar = archive_read_data_block(a, &buf, &len, &off)) == ARCHIVE_OK) {
			if (pwrite(fd, buf, len, (off_t)off) != (ssize_t)len) {
				r = vk_error_errno(err, errno,
				                   "cannot write the image's scratch copy");
				break;
			}
		}
		if (r == 0 && ar != ARCHIVE_EOF)
			r = vk_error_set(err, EINVAL, "'%s': '%s' is cut short: %s", archive_path,
			                 name,
			                 archive_error_string(a) ? archive_error_string(a) : "?");
		if (r == 0 && ftruncate(fd, (off_t)archive_entry_size(e)) < 0)
			r = vk_error_errno(err, errno, "cannot write the image's scratch copy");
		close(fd);
		if (r < 0)
			goto out;
		uint64_t at = (uint64_t)archive_filter_bytes(a, -1);
		if (at > reported) {
			image_progress_add(p, at - reported);
			reported = at;
		}
	}
	if (ar != ARCHIVE_EOF)
		r = vk_error_set(err, EINVAL, "'%s' is not a readable tar archive: %s",
		                 archive_path,
		                 archive_error_string(a) ? archive_error_string(a) : "unreadable");
out:
	archive_read_free(a);
	return r;
}

/* --- blobs ---------------------------------------------------------------------------------- */

static int open_blob(int layout, const struct oci_desc *d, struct vk_error *err)
{
	char path[IMAGE_FP_LEN + 16];
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "blobs/sha256/%s", d->hex);
	fd = openat(layout, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return vk_error_errno(err, errno, "blob %s is missing from the image", d->digest);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return vk_error_set(err, EINVAL, "blob %s is not a regular file", d->digest);
	}
	if ((int64_t)st.st_size != d->size) {
		close(fd);
		return vk_error_set(err, EINVAL,
		                    "blob %s has %lld bytes where its descriptor says %lld (a "
		                    "truncated or altered image)",
		                    d->digest, (long long)st.st_size, (long long)d->size);
	}
	return fd;
}

/* Hash an open blob against its digest (progress as stage). */
static int verify_blob(int fd, const struct oci_desc *d, const char *stage,
                       struct image_progress *p, struct vk_error *err)
{
	char hex[IMAGE_FP_LEN + 1];
	uint64_t size;
	int r;

	image_progress_stage(p, stage, (uint64_t)d->size);
	r = image_sha256_fd(fd, d->digest, hex, &size, p, err);
	if (r < 0)
		return r;
	if (strcmp(hex, d->hex) != 0)
		return vk_error_set(err, EINVAL,
		                    "blob %s does not match its digest (its content hashes to "
		                    "sha256:%.12s...): a corrupt or altered image",
		                    d->digest, hex);
	if (lseek(fd, 0, SEEK_SET) < 0)
		return vk_error_errno(err, errno, "cannot read blob %s", d->digest);
	return 0;
}

/* A small JSON blob, verified, parsed. text (may be NULL) keeps its bytes. */
static int read_json_blob(int layout, const struct oci_desc *d, json_object **out, char **text,
                          struct vk_error *err)
{
	char hex[IMAGE_FP_LEN + 1];
	char *buf;
	int fd, r;
	ssize_t n;

	if (d->size > JSON_BLOB_MAX)
		return vk_error_set(err, EINVAL, "blob %s is too large for a JSON document (%lld)",
		                    d->digest, (long long)d->size);
	fd = open_blob(layout, d, err);
	if (fd < 0)
		return fd;
	buf = malloc((size_t)d->size + 1);
	if (!buf) {
		close(fd);
		return vk_error_set(err, ENOMEM, "out of memory");
	}
	n = pread(fd, buf, (size_t)d->size, 0);
	close(fd);
	if (n != d->size) {
		free(buf);
		return vk_error_set(err, EIO, "cannot read blob %s", d->digest);
	}
	buf[n] = '\0';
	image_sha256_text(buf, (size_t)n, hex);
	if (strcmp(hex, d->hex) != 0) {
		free(buf);
		return vk_error_set(err, EINVAL,
		                    "blob %s does not match its digest: a corrupt or altered image",
		                    d->digest);
	}
	r = def_parse_json(buf, (size_t)n, out, err);
	if (r < 0)
		r = vk_error_prefix(err, "blob %s", d->digest);
	if (r == 0 && text)
		*text = buf;
	else
		free(buf);
	return r;
}

static int read_layout_file(int layout, const char *name, json_object **out, struct vk_error *err)
{
	char *buf = malloc(JSON_BLOB_MAX + 1);
	int fd = openat(layout, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), r;
	ssize_t n;

	if (!buf) {
		if (fd >= 0)
			close(fd);
		return vk_error_set(err, ENOMEM, "out of memory");
	}
	if (fd < 0) {
		free(buf);
		return vk_error_errno(err, errno, "the image layout has no %s", name);
	}
	n = read(fd, buf, JSON_BLOB_MAX + 1);
	close(fd);
	if (n < 0 || n > JSON_BLOB_MAX) {
		free(buf);
		return vk_error_set(err, EINVAL, "the image layout's %s is unreadable or too large",
		                    name);
	}
	r = def_parse_json(buf, (size_t)n, out, err);
	free(buf);
	return r < 0 ? vk_error_prefix(err, "the image layout's %s", name) : 0;
}

/* The manifest index.json leads to for linux/arch, through nested indexes. */
static int find_manifest(int layout, const char *arch, struct oci_desc *md, struct vk_error *err)
{
	json_object *index = NULL, *lay = NULL, *v;
	int r;

	if ((r = read_layout_file(layout, "oci-layout", &lay, err)) < 0)
		return r;
	if (!json_object_object_get_ex(lay, "imageLayoutVersion", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    strncmp(json_object_get_string(v), "1.", 2) != 0) {
		json_object_put(lay);
		return vk_error_set(err, EINVAL,
		                    "the image layout's oci-layout is not version 1.x");
	}
	json_object_put(lay);
	if ((r = read_layout_file(layout, "index.json", &index, err)) < 0)
		return r;
	for (int depth = 0;; depth++) {
		json_object *next = NULL;
		r = def_oci_index_pick(index, arch, md, err);
		json_object_put(index);
		if (r < 0)
			return r;
		if (!def_oci_is_index(md->media_type))
			return 0;
		if (depth == INDEX_DEPTH)
			return vk_error_set(err, ELOOP, "image indexes nested too deep");
		if ((r = read_json_blob(layout, md, &next, NULL, err)) < 0)
			return r;
		index = next;
	}
}

const char *image_host_oci_arch(void)
{
	static struct utsname u;

	if (!u.machine[0] && uname(&u) < 0)
		return "unknown";
	if (!strcmp(u.machine, "x86_64"))
		return "amd64";
	if (!strcmp(u.machine, "aarch64"))
		return "arm64";
	return u.machine; /* riscv64, s390x, ppc64le as OCI spells them */
}

static int unpack_layers(int layout, int dir, const struct oci_manifest *m,
                         struct image_progress *p, struct vk_error *err)
{
	int root, r = 0;

	if (mkdirat(dir, "rootfs", 0755) < 0 ||
	    (root = openat(dir, "rootfs", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return vk_error_errno(err, errno, "cannot create the image's rootfs");
	for (size_t i = 0; i < m->nr_layers && r == 0; i++) {
		char what[128], stage[64];
		int fd = open_blob(layout, &m->layers[i], err);
		if (fd < 0) {
			r = fd;
			break;
		}
		snprintf(stage, sizeof(stage), "verify layer %zu/%zu", i + 1, m->nr_layers);
		r = verify_blob(fd, &m->layers[i], stage, p, err);
		if (r == 0) {
			snprintf(stage, sizeof(stage), "unpack layer %zu/%zu", i + 1, m->nr_layers);
			snprintf(what, sizeof(what), "layer %zu/%zu (%.19s...)", i + 1,
			         m->nr_layers, m->layers[i].digest);
			image_progress_stage(p, stage, (uint64_t)m->layers[i].size);
			r = image_unpack_layer(root, fd, what, p, err);
		}
		close(fd);
	}
	close(root);
	return r;
}

int image_oci_import(const char *source, const char *dir, const char *arch, json_object **info,
                     char fp[IMAGE_FP_LEN + 1], struct image_progress *p, struct vk_error *err)
{
	struct oci_manifest *m = calloc(1, sizeof(*m));
	json_object *manifest = NULL, *config = NULL, *summary = NULL, *o;
	char *config_text = NULL;
	struct oci_desc md;
	struct stat st = {0};
	int dfd = -1, layout = -1, r;

	if (!m)
		return vk_error_set(err, ENOMEM, "out of memory");
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || stat(source, &st) < 0) {
		r = vk_error_errno(err, errno, "cannot open '%s'", dfd < 0 ? dir : source);
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		layout = open(source, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	} else {
		image_progress_stage(p, "read archive", (uint64_t)st.st_size);
		if (mkdirat(dfd, "layout", 0700) < 0 ||
		    (layout = openat(dfd, "layout", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
			r = vk_error_errno(err, errno, "cannot create the image's scratch folder");
			goto out;
		}
		if ((r = extract_layout(source, layout, p, err)) < 0)
			goto out;
		image_progress_end(p);
	}
	if (layout < 0) {
		r = vk_error_errno(err, errno, "cannot open '%s'", source);
		goto out;
	}
	if ((r = find_manifest(layout, arch, &md, err)) < 0 ||
	    (r = read_json_blob(layout, &md, &manifest, NULL, err)) < 0 ||
	    (r = def_oci_manifest(manifest, m, err)) < 0 ||
	    (r = read_json_blob(layout, &m->config, &config, &config_text, err)) < 0 ||
	    (r = def_oci_config(config, arch, &summary, err)) < 0 ||
	    (r = unpack_layers(layout, dfd, m, p, err)) < 0)
		goto out;
	{
		int cfd = openat(dfd, "config.json", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
		if (cfd < 0 || vk_write_full(cfd, config_text, strlen(config_text)) < 0 ||
		    fsync(cfd) < 0) {
			r = vk_error_errno(err, errno, "cannot write the image's config");
			if (cfd >= 0)
				close(cfd);
			goto out;
		}
		close(cfd);
	}
	o = json_object_new_object();
	json_object_object_add(o, "type", json_object_new_string("container"));
	json_object_object_add(o, "arch", json_object_new_string(arch));
	json_object_object_add(o, "manifest", json_object_new_string(md.digest));
	json_object_object_add(o, "layers", json_object_new_int((int)m->nr_layers));
	json_object_object_add(o, "config", summary);
	summary = NULL;
	*info = o;
	memcpy(fp, md.hex, IMAGE_FP_LEN + 1);
	r = 0;
out:
	if (layout >= 0)
		close(layout);
	if (dfd >= 0) {
		if (!S_ISDIR(st.st_mode)) {
			char scratch[PATH_MAX];
			snprintf(scratch, sizeof(scratch), "%s/layout", dir);
			rm_rf(scratch);
		}
		close(dfd);
	}
	json_object_put(manifest);
	json_object_put(config);
	json_object_put(summary);
	free(config_text);
	free(m);
	return r;
}
