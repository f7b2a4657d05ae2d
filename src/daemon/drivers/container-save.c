/* SPDX-License-Identifier: MIT */
/*
 * Saving a container, through the OCI runtime's `checkpoint` (CRIU; see
 * docs/virtkit-oci.md), and starting it again with `restore`. A saved
 * container is a folder the save creates:
 *
 *   PATH/criu/        CRIU's images and the runtime's descriptors.json
 *   PATH/rootfs.tar   snapshots only: the whole root file system, taken at
 *                     the instant of the checkpoint
 *
 * A save stops the container (CRIU ends its processes) and leaves its root
 * file system as it is, for the restore to go on from, as a VM's save leaves
 * its disks: nothing else can change it meanwhile. A snapshot lets the
 * container run on, so it carries the root file system too. Our rootfs is a
 * plain folder with no read-only lower layer to diff against (Podman's
 * rootfs-diff.tar is its overlay's upper layer), so the "diff" is a tar of
 * the whole folder. It is taken with the container paused, and the runtime
 * then checkpoints the paused container (CRIU leaves its freezer frozen), so
 * files and processes are of the same instant; then it is resumed. Restoring
 * a snapshot unpacks the tar with the image layer unpacker (image-unpack.c,
 * which treats the archive as untrusted) into a folder beside the rootfs,
 * swaps the two in one rename, removes the old tree, then restores the
 * processes: a tar cut short or a full disk fails the restore with the
 * rootfs as it was.
 */
#include "daemon/drivers/container-save.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "daemon/def.h"
#include "daemon/drivers/settings.h"
#include "daemon/image-internal.h"
#include "daemon/proc.h"

#define CHECKPOINT_TIMEOUT_MS 120000
#define IMAGES_DIR            "criu"
#define ROOTFS_TAR            "rootfs.tar"

int ct_rootfs(json_object *def, char *buf, size_t len, struct vk_error *err)
{
	const char *bundle = def_get_str(def, "bundle"), *p;
	char cfgpath[PATH_MAX];
	json_object *cfg;
	int r;

	if (!bundle)
		return fmt_buf(buf, len, "%s", def_get_str(def, "rootfs")) < 0
		               ? vk_error_set(err, ENAMETOOLONG, "the rootfs path is too long")
		               : 0;
	fmt_buf(cfgpath, sizeof(cfgpath), "%s/config.json", bundle);
	cfg = json_object_from_file(cfgpath);
	p = def_get_str(json_object_object_get(cfg, "root"), "path");
	if (!p)
		r = vk_error_set(err, EINVAL, "'%s' has no root.path", cfgpath);
	else if ((p[0] == '/' ? fmt_buf(buf, len, "%s", p)
	                      : fmt_buf(buf, len, "%s/%s", bundle, p)) < 0)
		r = vk_error_set(err, ENAMETOOLONG, "the rootfs path is too long");
	else
		r = 0;
	json_object_put(cfg);
	return r;
}

/* `RUNTIME --root ROOT VERB [OPTIONS...] ID`; the error names the verb and the runtime's reason. */
static int runtime_run(struct instance *inst, const char *verb, const char *const *opts,
                       struct vk_error *err)
{
	const char *argv[16];
	char out[4096], last[400];
	int n = 0, st = 0, r;

	argv[n++] = drv_settings.oci_runtime;
	argv[n++] = "--root";
	argv[n++] = drv_settings.oci_root;
	argv[n++] = verb;
	for (; opts && *opts && n < 14; opts++)
		argv[n++] = *opts;
	argv[n++] = inst->uuid;
	argv[n] = NULL;
	if ((r = proc_run(argv, CHECKPOINT_TIMEOUT_MS, out, sizeof(out), &st, err)) < 0)
		return r;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		proc_last_line(out, last, sizeof(last));
		proc_strip_prog(last, drv_settings.oci_runtime);
		return vk_error_set(err, EIO, "OCI runtime '%s %s' failed for '%s'%s%s",
		                    drv_settings.oci_runtime, verb, inst->name, last[0] ? ": " : "",
		                    last);
	}
	return 0;
}

/* Copy the data of the file disk is on into the archive. */
static int copy_data(struct archive *disk, struct archive *out)
{
	char buf[1 << 16];
	la_ssize_t n;

	while ((n = archive_read_data(disk, buf, sizeof(buf))) > 0)
		if (archive_write_data(out, buf, (size_t)n) != n)
			return ARCHIVE_FATAL;
	return n < 0 ? ARCHIVE_FATAL : ARCHIVE_OK;
}

/*
 * A pax tar of the folder rootfs (names relative to it, owners by number,
 * symlinks as they are, not crossing into other file systems mounted below).
 */
static int tar_rootfs(const char *rootfs, const char *tarpath, struct vk_error *err)
{
	struct archive *disk = archive_read_disk_new(), *out = archive_write_new();
	struct archive_entry *e;
	size_t plen = strlen(rootfs);
	int fd = -1, r = 0, ar;

	if (!disk || !out) {
		r = vk_error_set(err, ENOMEM, "out of memory");
		goto done;
	}
	fd = open(tarpath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = vk_error_errno(err, errno, "cannot create '%s'", tarpath);
		goto done;
	}
	archive_read_disk_set_symlink_physical(disk);
	archive_read_disk_set_behavior(disk, ARCHIVE_READDISK_NO_TRAVERSE_MOUNTS |
	                                             ARCHIVE_READDISK_NO_XATTR);
	archive_write_set_format_pax_restricted(out);
	if (archive_write_open_fd(out, fd) != ARCHIVE_OK ||
	    archive_read_disk_open(disk, rootfs) != ARCHIVE_OK) {
		r = vk_error_set(err, EIO, "cannot archive '%s': %s", rootfs,
		                 archive_error_string(disk) ? archive_error_string(disk)
		                                            : archive_error_string(out));
		goto done;
	}
	for (;;) {
		const char *name;

		e = archive_entry_new();
		ar = archive_read_next_header2(disk, e);
		if (ar == ARCHIVE_EOF) {
			archive_entry_free(e);
			break;
		}
		if (ar < ARCHIVE_WARN) {
			r = vk_error_set(err, EIO, "cannot archive '%s': %s", rootfs,
			                 archive_error_string(disk));
			archive_entry_free(e);
			goto done;
		}
		archive_read_disk_descend(disk);
		name = archive_entry_pathname(e);
		if (strncmp(name, rootfs, plen) != 0 || (name[plen] != '/' && name[plen] != '\0')) {
			archive_entry_free(e);
			continue;
		}
		if (name[plen] == '\0' || strcmp(name + plen, "/") == 0) {
			archive_entry_free(e); /* the folder itself */
			continue;
		}
		archive_entry_set_pathname(e, name + plen + 1);
		archive_entry_set_uname(e, NULL);
		archive_entry_set_gname(e, NULL);
		ar = archive_write_header(out, e);
		if (ar == ARCHIVE_OK && archive_entry_size(e) > 0)
			ar = copy_data(disk, out);
		if (ar < ARCHIVE_WARN) {
			r = vk_error_set(err, EIO, "cannot archive '%s' of '%s': %s",
			                 archive_entry_pathname(e), rootfs,
			                 archive_error_string(out) ? archive_error_string(out)
			                                           : archive_error_string(disk));
			archive_entry_free(e);
			goto done;
		}
		archive_entry_free(e);
	}
	if (archive_write_close(out) != ARCHIVE_OK)
		r = vk_error_set(err, EIO, "cannot write '%s': %s", tarpath,
		                 archive_error_string(out));
done:
	if (disk)
		archive_read_free(disk);
	if (out)
		archive_write_free(out);
	if (fd >= 0 && close(fd) < 0 && r == 0)
		r = vk_error_errno(err, errno, "cannot write '%s'", tarpath);
	return r;
}

static bool is_paused(struct instance *inst)
{
	bool p;

	pthread_mutex_lock(&inst->lock);
	p = inst->state == ST_PAUSED;
	pthread_mutex_unlock(&inst->lock);
	return p;
}

/* A snapshot: pause, the rootfs into a tar, checkpoint the paused container, resume. */
static int snapshot(struct instance *inst, const char *path, const char *images,
                    struct vk_error *err)
{
	const char *opts[] = {"--leave-running", "--image-path", images, NULL};
	char rootfs[PATH_MAX], tarpath[PATH_MAX];
	bool was_paused = is_paused(inst);
	struct vk_error e = {0};
	int r;

	if ((r = ct_rootfs(inst->rt.def, rootfs, sizeof(rootfs), err)) < 0)
		return r;
	if (fmt_buf(tarpath, sizeof(tarpath), "%s/" ROOTFS_TAR, path) < 0)
		return vk_error_set(err, ENAMETOOLONG, "'%s' is too long", path);
	if (!was_paused && (r = runtime_run(inst, "pause", NULL, err)) < 0)
		return r;
	r = tar_rootfs(rootfs, tarpath, err);
	if (r == 0)
		r = runtime_run(inst, "checkpoint", opts, err);
	if (!was_paused && runtime_run(inst, "resume", NULL, &e) < 0) {
		vk_warn("instance '%s': %s", inst->name, e.msg);
		if (r == 0)
			r = vk_error_set(err, e.code, "%s", e.msg);
	}
	return r;
}

int ct_save(struct instance *inst, const char *path, bool keep_running, json_object **reply,
            struct vk_error *err)
{
	const char *opts[] = {"--image-path", NULL, NULL};
	char images[PATH_MAX], tarpath[PATH_MAX];
	int r;

	if (fmt_buf(images, sizeof(images), "%s/" IMAGES_DIR, path) < 0)
		return vk_error_set(err, ENAMETOOLONG, "'%s' is too long", path);
	if (mkdir(path, 0700) < 0)
		return vk_error_errno(err, errno,
		                      errno == EEXIST ? "'%s' exists: a container is saved to a "
		                                        "new folder"
		                                      : "cannot create '%s'",
		                      path);
	if (keep_running) {
		r = snapshot(inst, path, images, err);
	} else {
		opts[1] = images;
		/* CRIU ends the container's processes: that end is the save's. */
		inst->rt.kill_requested = true;
		r = runtime_run(inst, "checkpoint", opts, err);
		if (r < 0)
			inst->rt.kill_requested = false;
	}
	if (r < 0) {
		rm_rf(path);
		return r;
	}
	*reply = json_object_new_object();
	json_object_object_add(*reply, "bytes", json_object_new_int64(proc_tree_bytes(path)));
	if (fmt_buf(tarpath, sizeof(tarpath), "%s/" ROOTFS_TAR, path) == 0 &&
	    access(tarpath, F_OK) == 0)
		json_object_object_add(*reply, "rootfs_bytes",
		                       json_object_new_int64(proc_tree_bytes(tarpath)));
	return 0;
}

/* Remove everything in the folder dirfd (not the folder). */
static int empty_dir(int dirfd, const char *what, struct vk_error *err)
{
	int fd = dup(dirfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	char sub[PATH_MAX];
	int r = 0;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return vk_error_errno(err, errno, "cannot read '%s'", what);
	}
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		int e = fmt_buf(sub, sizeof(sub), "%s/%s", what, de->d_name) < 0 ? -ENAMETOOLONG
		                                                                 : rm_rf(sub);

		if (e < 0) {
			r = vk_error_errno(err, -e, "cannot empty '%s' (at '%s')", what,
			                   de->d_name);
			break;
		}
	}
	closedir(d);
	return r;
}

/* The tar unpacked into the emptied rootfs itself: for a rootfs that cannot be renamed
 * (a mount point), once the tar is known to unpack whole. */
static int unpack_in_place(const char *rootfs, int tarfd, const char *tarpath, struct vk_error *err)
{
	int rootfd = open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r;

	if (rootfd < 0)
		return vk_error_errno(err, errno, "cannot open the root file system '%s'", rootfs);
	if (lseek(tarfd, 0, SEEK_SET) < 0)
		r = vk_error_errno(err, errno, "cannot read '%s' again", tarpath);
	else if ((r = empty_dir(rootfd, rootfs, err)) == 0)
		r = image_unpack_layer(rootfd, tarfd, tarpath, NULL, err);
	close(rootfd);
	return r;
}

/*
 * The tar tar_rootfs() wrote ends in its end-of-archive blocks (two zero blocks of 512
 * bytes, perhaps more zeros after). A tar cut at a block boundary between two
 * entries reads as a whole archive (libarchive and GNU tar accept a missing end): the
 * end is looked at here.
 */
static int tar_has_end(int tarfd, const char *tarpath, struct vk_error *err)
{
	uint8_t tail[1024];
	struct stat st;

	if (fstat(tarfd, &st) < 0)
		return vk_error_errno(err, errno, "cannot read '%s'", tarpath);
	if (st.st_size < (off_t)sizeof(tail) || st.st_size % 512 ||
	    pread(tarfd, tail, sizeof(tail), st.st_size - (off_t)sizeof(tail)) !=
	            (ssize_t)sizeof(tail))
		return vk_error_set(err, EINVAL, "'%s' is cut short (%lld bytes)", tarpath,
		                    (long long)st.st_size);
	for (size_t i = 0; i < sizeof(tail); i++)
		if (tail[i])
			return vk_error_set(err, EINVAL,
			                    "'%s' is cut short: it does not end in the tar's "
			                    "end-of-archive blocks",
			                    tarpath);
	return 0;
}

/* rootfs becomes the tree in the tar, or stays as it was when that fails. */
static int put_back_rootfs(const char *rootfs, int tarfd, const char *tarpath, struct vk_error *err)
{
	char stage[PATH_MAX];
	size_t n = strlen(rootfs);
	struct stat st;
	int fd, r, e;

	e = stat(rootfs, &st) < 0 ? errno : S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
	if (e)
		return vk_error_errno(err, e, "the root file system '%s' is not a folder", rootfs);
	while (n > 1 && rootfs[n - 1] == '/')
		n--; /* the staging folder goes beside the rootfs, not into it */
	if (fmt_buf(stage, sizeof(stage), "%.*s.restoring", (int)n, rootfs) < 0)
		return vk_error_set(err, ENAMETOOLONG, "'%s' is too long", rootfs);
	rm_rf(stage); /* left by a daemon that died here */
	if (mkdir(stage, st.st_mode & 07777) < 0)
		return vk_error_errno(err, errno, "cannot create '%s' to unpack the snapshot in",
		                      stage);
	fd = open(stage, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	r = fd < 0 ? vk_error_errno(err, errno, "cannot open '%s'", stage)
	           : image_unpack_layer(fd, tarfd, tarpath, NULL, err);
	if (r == 0 && (fchown(fd, st.st_uid, st.st_gid) < 0 || fchmod(fd, st.st_mode & 07777) < 0))
		r = vk_error_errno(err, errno, "cannot give '%s' the owner and mode of '%s'", stage,
		                   rootfs);
	if (fd >= 0)
		close(fd);
	if (r == 0 && renameat2(AT_FDCWD, stage, AT_FDCWD, rootfs, RENAME_EXCHANGE) < 0) {
		if (errno == EBUSY || errno == EXDEV || errno == EINVAL || errno == ENOSYS)
			r = unpack_in_place(rootfs, tarfd, tarpath, err);
		else
			r = vk_error_errno(err, errno, "cannot put '%s' in place of '%s'", stage,
			                   rootfs);
	}
	/* After the exchange, the old tree; after a failure, the partial one. */
	rm_rf(stage);
	return r;
}

int ct_restore_prepare(struct instance *inst, const char *rootfs, char *images, size_t len,
                       struct vk_error *err)
{
	const char *path = inst->rt.restore_path;
	char tarpath[PATH_MAX];
	struct stat st;
	int tarfd, r;

	if (fmt_buf(images, len, "%s/" IMAGES_DIR, path) < 0 ||
	    fmt_buf(tarpath, sizeof(tarpath), "%s/" ROOTFS_TAR, path) < 0)
		return vk_error_set(err, ENAMETOOLONG, "'%s' is too long", path);
	if (stat(images, &st) < 0 || !S_ISDIR(st.st_mode))
		return vk_error_set(err, EINVAL,
		                    "'%s' is not a saved container: it has no %s folder (CRIU's "
		                    "images)",
		                    path, IMAGES_DIR);
	tarfd = open(tarpath, O_RDONLY | O_CLOEXEC);
	if (tarfd < 0)
		return errno == ENOENT ? 0
		                       : vk_error_errno(err, errno, "cannot open '%s'", tarpath);
	vk_info("instance '%s': putting back its root file system '%s' from '%s'", inst->name,
	        rootfs, tarpath);
	r = tar_has_end(tarfd, tarpath, err);
	if (r == 0)
		r = put_back_rootfs(rootfs, tarfd, tarpath, err);
	close(tarfd);
	return r;
}
