/* SPDX-License-Identifier: MIT */
/*
 * Fuzz harnesses for images (see def-image.h, image-unpack.c):
 *  - vkd_fuzz_image: a JSON document as the VM metadata file, an OCI index, manifest or
 *    config (byte 0 picks which). Property: what is accepted names only files inside the
 *    image and only well-formed digests.
 *  - vkd_fuzz_unpack: a layer (tar, plain or compressed) unpacked into a fresh folder
 *    next to an empty one. Property: nothing appears anywhere but inside the target, and
 *    the sibling stays empty, whatever the layer says.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/def-image.h"
#include "daemon/def.h"
#include "daemon/image-internal.h"
#include "daemon/proc.h"
#include "fuzz-daemon.h"

/* True when NAME has a component "." or ".." or starts at "/": it could leave the folder.
 * Written apart from def_image_name_ok() on purpose (the oracle must not share its bugs);
 * "...d.qcow2" is a name like any other. */
static bool leaves_folder(const char *name)
{
	const char *p = name;

	if (*p == '/')
		return true;
	while (*p) {
		size_t n = strcspn(p, "/");
		if ((n == 1 && p[0] == '.') || (n == 2 && !strncmp(p, "..", 2)))
			return true;
		p += n + (p[n] == '/');
	}
	return false;
}

static void check_desc(const struct oci_desc *d)
{
	if (!def_image_digest_ok(d->digest, NULL) || d->size < 0)
		abort(); /* an accepted descriptor with a bad digest or size */
}

int vkd_fuzz_image(const uint8_t *data, size_t len)
{
	struct vk_error err = {0};
	json_object *in = NULL, *out = NULL, *files;
	struct oci_manifest *m;
	struct oci_desc d;

	if (len < 1 || def_parse_json((const char *)data + 1, len - 1, &in, &err) < 0)
		return 0;
	switch (data[0] % 4) {
	case 0:
		if (def_image_vm_meta(in, &out, &err) == 0) {
			files = json_object_object_get(out, "files");
			json_object_object_foreach(files, k, v)
			{
				(void)k;
				const char *n =
				        json_object_get_string(json_object_object_get(v, "name"));
				if (!n || !def_image_name_ok(n) || leaves_folder(n))
					abort(); /* a file name that could leave the image's folder */
			}
		}
		break;
	case 1:
		if (def_oci_index_pick(in, "amd64", &d, &err) == 0)
			check_desc(&d);
		break;
	case 2:
		m = calloc(1, sizeof(*m));
		if (m && def_oci_manifest(in, m, &err) == 0) {
			check_desc(&m->config);
			for (size_t i = 0; i < m->nr_layers; i++)
				check_desc(&m->layers[i]);
		}
		free(m);
		break;
	default:
		if (def_oci_config(in, "amd64", &out, &err) < 0)
			out = NULL;
		break;
	}
	json_object_put(out);
	json_object_put(in);
	return 0;
}

static char base[64];

static void remove_base(void)
{
	rm_rf(base);
}

/* Entries of a folder besides . and .. */
static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

int vkd_fuzz_unpack(const uint8_t *data, size_t len)
{
	char root[128], outside[128];
	struct vk_error err = {0};
	int fd, rfd;

	if (!base[0]) {
		snprintf(base, sizeof(base), "/tmp/vk-fuzz-unpack-XXXXXX");
		if (!mkdtemp(base))
			abort();
		atexit(remove_base);
	}
	snprintf(root, sizeof(root), "%s/root", base);
	snprintf(outside, sizeof(outside), "%s/outside", base);
	rm_rf(root);
	if (mkdir(root, 0755) < 0 || (mkdir(outside, 0755) < 0 && errno != EEXIST))
		abort();
	fd = memfd_create("layer", MFD_CLOEXEC);
	rfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || rfd < 0 || (len && write(fd, data, len) != (ssize_t)len) ||
	    lseek(fd, 0, SEEK_SET) < 0)
		abort();
	if (image_unpack_layer(rfd, fd, "layer", NULL, &err) < 0 && !err.msg[0])
		abort(); /* a failure must say why */
	close(fd);
	close(rfd);
	if (count_entries(outside) != 0 || count_entries(base) != 2) {
		fprintf(stderr, "a layer wrote outside its root (%s)\n", base);
		abort();
	}
	rm_rf(root);
	return 0;
}
