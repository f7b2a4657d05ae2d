/* SPDX-License-Identifier: MIT */
/*
 * `virtkit-vm image create|info|resize|check`: disk images from the command line,
 * through the same block layer a running machine uses (what the manager's
 * volumes call; qemu-img's subset and its JSON keys).
 */
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/compiler.h"
#include "common/util.h"
#include "vm/backend/block.h"
#include "vm/main/config.h"

void vm_image_usage(FILE *out)
{
	fprintf(out, "virtkit-vm image create PATH [--size SIZE] [--format raw|qcow2]\n"
	             "                        [--backing FILE --backing-format raw|qcow2] "
	             "[--cluster-size SIZE]\n"
	             "       virtkit-vm image info PATH [--format raw|qcow2] [--json]\n"
	             "       virtkit-vm image resize PATH SIZE [--format raw|qcow2]\n"
	             "       virtkit-vm image check PATH [--format raw|qcow2]\n");
}

static void help(void)
{
	printf("usage: ");
	vm_image_usage(stdout);
	printf("\n"
	       "create: a new image (qcow2 unless --format raw); never over an existing file.\n"
	       "  --backing FILE makes a copy-on-write overlay of FILE (recorded as given: a\n"
	       "  relative name is found next to the image, as QEMU does); its format is\n"
	       "  required and never guessed; the size defaults to the backing file's.\n"
	       "info: format, virtual size, space used on the host, cluster size, backing\n"
	       "  file; --json prints qemu-img info's keys. The image is not locked: it may\n"
	       "  be in use by a running machine. Without --format the first bytes decide.\n"
	       "resize: grow an image that no machine uses (shrinking is refused); a file\n"
	       "  with a qcow2 header needs --format said.\n"
	       "check: read every byte a guest could, through the block layer: a truncated\n"
	       "  or corrupt image fails here, with the offset, rather than in a guest.\n"
	       "  Without --format the first bytes decide.\n"
	       "SIZE: bytes, or with a K, M, G or T suffix (powers of 1024).\n"
	       "See docs/virtkit-vm.md.\n");
}

static int VK_PRINTF(1, 2) bad(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "virtkit-vm: image: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see virtkit-vm image --help)\n");
	return 2;
}

static int fail(const struct vk_error *err)
{
	fprintf(stderr, "virtkit-vm: %s\n", err->msg);
	return 1;
}

struct image_args {
	const char *cmd;
	const char *path;
	const char *size;
	const char *backing;
	const char *cluster_size;
	enum block_format format, backing_format;
	bool json;
};

static int parse(int argc, char **argv, struct image_args *a)
{
	static const struct option opts[] = {
	        {"size", required_argument, NULL, 's'},
	        {"format", required_argument, NULL, 'f'},
	        {"backing", required_argument, NULL, 'b'},
	        {"backing-format", required_argument, NULL, 'F'},
	        {"cluster-size", required_argument, NULL, 'c'},
	        {"json", no_argument, NULL, 'j'},
	        {"help", no_argument, NULL, 'h'},
	        {0},
	};
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "hs:f:b:F:c:", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			a->size = optarg;
			break;
		case 'f':
		case 'F':
			if (block_format_parse(optarg, c == 'f' ? &a->format : &a->backing_format) <
			    0)
				return bad("unknown format '%s' (raw or qcow2)", optarg);
			break;
		case 'b':
			a->backing = optarg;
			break;
		case 'c':
			a->cluster_size = optarg;
			break;
		case 'j':
			a->json = true;
			break;
		case 'h':
			help();
			return 0;
		default:
			return bad("unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return bad("%s: which image?", a->cmd);
	a->path = argv[optind++];
	if (!strcmp(a->cmd, "resize")) {
		if (optind >= argc)
			return bad("resize: to what size?");
		a->size = argv[optind++];
	}
	if (optind < argc)
		return bad("unexpected argument '%s'", argv[optind]);
	return -1; /* parsed: go on */
}

static int cluster_bits(uint64_t size)
{
	for (int b = 9; b < 32; b++)
		if (size == (1ull << b))
			return b;
	return -1;
}

static int cmd_create(const struct image_args *a)
{
	struct block_create_opts o = {
	        .format = a->format == BLOCK_FORMAT_AUTO ? BLOCK_FORMAT_QCOW2 : a->format,
	        .backing = a->backing,
	        .backing_format = a->backing_format,
	};
	struct vk_error err = {0};

	if (a->size && vk_parse_size(a->size, &o.size, &err) < 0)
		return fail(&err);
	if (!a->size && !a->backing)
		return bad("create: --size is needed without --backing");
	if (a->cluster_size) {
		uint64_t bytes;
		int b;

		if (vk_parse_size(a->cluster_size, &bytes, &err) < 0)
			return fail(&err);
		b = cluster_bits(bytes);
		if (b < 0)
			return bad("create: cluster size '%s' is not a power of two",
			           a->cluster_size);
		o.cluster_bits = (unsigned)b;
	}
	if (block_create(a->path, &o, &err) < 0)
		return fail(&err);
	return 0;
}

static const char *human(uint64_t bytes, char *buf, size_t len)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
	double v = (double)bytes;
	unsigned u = 0;

	while (v >= 1024 && u + 1 < ARRAY_SIZE(units)) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, u ? "%.3g %s" : "%.0f %s", v, units[u]);
	return buf;
}

/* Without --format: what the file's first bytes say (only for reporting and with the
 * user's word; `run` never guesses qcow2). */
static enum block_format probe(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool qcow2 = fd >= 0 && block_has_qcow2_magic(fd);

	if (fd >= 0)
		close(fd);
	return qcow2 ? BLOCK_FORMAT_QCOW2 : BLOCK_FORMAT_RAW;
}

static int cmd_info(const struct image_args *a)
{
	enum block_format fmt = a->format == BLOCK_FORMAT_AUTO ? probe(a->path) : a->format;
	struct vk_error err = {0};
	struct block_info info;
	char h1[32], h2[32];

	if (block_get_info(a->path, fmt, &info, &err) < 0)
		return fail(&err);
	if (a->json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "filename", json_object_new_string(a->path));
		json_object_object_add(o, "format",
		                       json_object_new_string(block_format_name(info.format)));
		json_object_object_add(o, "virtual-size",
		                       json_object_new_int64((int64_t)info.virtual_size));
		json_object_object_add(o, "actual-size",
		                       json_object_new_int64((int64_t)info.actual_size));
		if (info.cluster_size)
			json_object_object_add(o, "cluster-size",
			                       json_object_new_int64((int64_t)info.cluster_size));
		if (info.backing) {
			json_object_object_add(o, "backing-filename",
			                       json_object_new_string(info.backing));
			json_object_object_add(o, "full-backing-filename",
			                       json_object_new_string(info.backing_full));
		}
		if (info.backing_format != BLOCK_FORMAT_AUTO)
			json_object_object_add(
			        o, "backing-filename-format",
			        json_object_new_string(block_format_name(info.backing_format)));
		if (info.format == BLOCK_FORMAT_QCOW2)
			json_object_object_add(o, "dirty-flag",
			                       json_object_new_boolean(info.dirty));
		printf("%s\n",
		       json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
		                                                 JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
	} else {
		printf("image: %s\nfile format: %s\nvirtual size: %s (%" PRIu64 " bytes)\n"
		       "disk size: %s\n",
		       a->path, block_format_name(info.format),
		       human(info.virtual_size, h1, sizeof(h1)), info.virtual_size,
		       human(info.actual_size, h2, sizeof(h2)));
		if (info.cluster_size)
			printf("cluster_size: %" PRIu64 "\n", info.cluster_size);
		if (info.backing)
			printf("backing file: %s (actual path: %s)\n", info.backing,
			       info.backing_full);
		if (info.backing_format != BLOCK_FORMAT_AUTO)
			printf("backing file format: %s\n", block_format_name(info.backing_format));
		if (info.dirty)
			printf("dirty: yes (lazy refcounts; qemu-img check -r all repairs it)\n");
	}
	block_info_free(&info);
	return 0;
}

static int cmd_resize(const struct image_args *a)
{
	struct vk_error err = {0};
	uint64_t size;

	if (vk_parse_size(a->size, &size, &err) < 0)
		return fail(&err);
	if (a->format == BLOCK_FORMAT_AUTO && probe(a->path) == BLOCK_FORMAT_QCOW2)
		return bad("resize: '%s' starts with a qcow2 header: say --format qcow2 (or "
		           "--format raw to resize the file itself)",
		           a->path);
	if (block_resize(a->path, a->format, size, &err) < 0)
		return fail(&err);
	return 0;
}

#define CHECK_CHUNK (1u << 20)

/* Read the whole virtual disk (unallocated qcow2 clusters cost no I/O). */
static int cmd_check(const struct image_args *a)
{
	struct block_open_opts o = {.readonly = true,
	                            .no_lock = true,
	                            .format = a->format == BLOCK_FORMAT_AUTO ? probe(a->path)
	                                                                     : a->format};
	struct vk_error err = {0};
	struct block_backend *be;
	uint8_t *buf;
	int r = 0;

	be = block_open(a->path, &o, &err);
	if (!be)
		return fail(&err);
	buf = malloc(CHECK_CHUNK);
	if (!buf) {
		block_close(be);
		fprintf(stderr, "virtkit-vm: out of memory\n");
		return 1;
	}
	for (uint64_t off = 0; off < be->size && r == 0; off += CHECK_CHUNK) {
		struct iovec v = {.iov_base = buf, .iov_len = VK_MIN(CHECK_CHUNK, be->size - off)};
		r = block_readv(be, &v, 1, off);
		if (r < 0)
			vk_error_set(&err, -r,
			             "%s image '%s' cannot be read at offset %" PRIu64
			             ": %s (a truncated or corrupt image)",
			             block_format_name(be->format), a->path, off, strerror(-r));
	}
	if (r == 0)
		printf("%s: %s image, %" PRIu64 " bytes, every byte readable\n", a->path,
		       block_format_name(be->format), be->size);
	free(buf);
	block_close(be);
	return r < 0 ? fail(&err) : 0;
}

int vm_image_main(int argc, char **argv)
{
	struct image_args a = {0};
	int r;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		if (argc < 2) {
			fprintf(stderr, "usage: ");
			vm_image_usage(stderr);
			return 2;
		}
		help();
		return 0;
	}
	a.cmd = argv[1];
	if (strcmp(a.cmd, "create") && strcmp(a.cmd, "info") && strcmp(a.cmd, "resize") &&
	    strcmp(a.cmd, "check"))
		return bad("unknown command '%s' (create, info, resize or check)", a.cmd);
	r = parse(argc - 1, argv + 1, &a);
	if (r >= 0)
		return r;
	if (!strcmp(a.cmd, "create"))
		return cmd_create(&a);
	if (!strcmp(a.cmd, "info"))
		return cmd_info(&a);
	if (!strcmp(a.cmd, "check"))
		return cmd_check(&a);
	return cmd_resize(&a);
}
