/* SPDX-License-Identifier: MIT */
/* Small utilities: size parsing, whole-file I/O, clocks, fd flags, iovec copies. */
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int vk_parse_size(const char *s, uint64_t *out, struct vk_error *err)
{
	unsigned long long v;
	unsigned shift = 0;
	char *end;

	if (!s || !isdigit((unsigned char)*s))
		return vk_error_set(
		        err, EINVAL,
		        "invalid size '%s': expected a number with an optional K, M, G or T "
		        "suffix (KiB, MiB, GiB, TiB)",
		        s ? s : "");
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return vk_error_set(err, ERANGE, "size '%s' is too large", s);
	if (*end == ' ') /* "256 MiB", as vk_format_size() writes it */
		end++;
	if (!strcmp(end, "bytes") || !strcmp(end, "byte"))
		end += strlen(end);
	switch (toupper((unsigned char)*end)) {
	case 'K':
		shift = 10;
		end++;
		break;
	case 'M':
		shift = 20;
		end++;
		break;
	case 'G':
		shift = 30;
		end++;
		break;
	case 'T':
		shift = 40;
		end++;
		break;
	default:
		break;
	}
	if (shift && (*end == 'i' || *end == 'I'))
		end++;
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end != '\0')
		return vk_error_set(
		        err, EINVAL,
		        "invalid size '%s': expected a number with an optional K, M, G or T "
		        "suffix (KiB, MiB, GiB, TiB)",
		        s);
	if (shift && v > (UINT64_MAX >> shift))
		return vk_error_set(err, ERANGE, "size '%s' is too large", s);
	*out = (uint64_t)v << shift;
	return 0;
}

const char *vk_format_size(uint64_t bytes, char *buf, size_t len)
{
	static const char *const units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	unsigned u = 0;
	uint64_t v = bytes;

	while (v && v % 1024 == 0 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, "%llu %s", (unsigned long long)v, units[u]);
	return buf;
}

const char *vk_format_size_approx(uint64_t bytes, char *buf, size_t len)
{
	static const char *const units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	double v = (double)bytes;
	unsigned u = 0;

	while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		u++;
	}
	if (u == 0 || v >= 100 || v == (double)(uint64_t)v)
		snprintf(buf, len, "%.0f %s", v, units[u]);
	else
		snprintf(buf, len, "%.1f %s", v, units[u]);
	return buf;
}

int vk_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE || *end != '\0')
		return -EINVAL;
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int vk_read_file(const char *path, size_t max_size, uint8_t **buf, size_t *len,
                 struct vk_error *err)
{
	_cleanup_close_ int fd = -1;
	struct stat st;
	uint8_t *data;
	ssize_t n;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return vk_error_errno(err, errno, "cannot open '%s'", path);
	if (fstat(fd, &st) < 0)
		return vk_error_errno(err, errno, "cannot stat '%s'", path);
	if (!S_ISREG(st.st_mode))
		return vk_error_set(err, EINVAL, "'%s' is not a regular file", path);
	if ((uint64_t)st.st_size > max_size)
		return vk_error_set(err, EFBIG, "'%s' is too large (%lld bytes, limit %zu)", path,
		                    (long long)st.st_size, max_size);
	data = malloc((size_t)st.st_size + 1);
	if (!data)
		return vk_error_set(err, ENOMEM, "out of memory reading '%s'", path);
	n = vk_read_full(fd, data, (size_t)st.st_size);
	if (n < 0) {
		free(data);
		return vk_error_errno(err, (int)-n, "cannot read '%s'", path);
	}
	data[n] = '\0';
	*buf = data;
	*len = (size_t)n;
	return 0;
}

int vk_write_file_atomic(const char *path, const void *buf, size_t len, mode_t mode,
                         struct vk_error *err)
{
	char tmp[PATH_MAX];
	ssize_t n;
	int fd;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp))
		return vk_error_set(err, ENAMETOOLONG, "path '%s' is too long", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return vk_error_errno(err, errno, "cannot create '%s'", tmp);
	n = vk_write_full(fd, buf, len);
	if (n < 0 || fsync(fd) < 0) {
		int e = n < 0 ? (int)-n : errno;
		close(fd);
		unlink(tmp);
		return vk_error_errno(err, e, "cannot write '%s'", tmp);
	}
	close(fd);
	if (rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		return vk_error_errno(err, e, "cannot rename '%s' to '%s'", tmp, path);
	}
	return 0;
}

ssize_t vk_read_full(int fd, void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = read(fd, (char *)buf + done, len - done);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

ssize_t vk_write_full(int fd, const void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(fd, (const char *)buf + done, len - done);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		done += (size_t)n;
	}
	return (ssize_t)done;
}

uint64_t vk_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

bool vk_startswith(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

int vk_file_id_get(const char *path, struct vk_file_id *id)
{
	struct stat st;

	id->dev = 0;
	id->ino = 0;
	if (lstat(path, &st) < 0)
		return -errno;
	id->dev = st.st_dev;
	id->ino = st.st_ino;
	return 0;
}

void vk_unlink_if_same(const char *path, const struct vk_file_id *id)
{
	struct stat st;

	if (id->ino && lstat(path, &st) == 0 && st.st_dev == id->dev && st.st_ino == id->ino)
		unlink(path);
}

int vk_set_nonblock(int fd, bool on)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return -errno;
	fl = on ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK);
	return fcntl(fd, F_SETFL, fl) < 0 ? -errno : 0;
}

int vk_set_cloexec(int fd, bool on)
{
	int fl = fcntl(fd, F_GETFD);

	if (fl < 0)
		return -errno;
	fl = on ? (fl | FD_CLOEXEC) : (fl & ~FD_CLOEXEC);
	return fcntl(fd, F_SETFD, fl) < 0 ? -errno : 0;
}

/* The one iovec walker: copy len bytes between buf and the list from offset on. */
static size_t iov_copy(const struct iovec *iov, unsigned n, size_t offset, uint8_t *buf, size_t len,
                       bool to_iov)
{
	size_t done = 0;

	for (unsigned i = 0; i < n && done < len; i++) {
		uint8_t *p = iov[i].iov_base;
		size_t chunk;

		if (offset >= iov[i].iov_len) {
			offset -= iov[i].iov_len;
			continue;
		}
		chunk = VK_MIN(iov[i].iov_len - offset, len - done);
		if (to_iov)
			memcpy(p + offset, buf + done, chunk);
		else
			memcpy(buf + done, p + offset, chunk);
		done += chunk;
		offset = 0;
	}
	return done;
}

size_t vk_iov_to_buf(const struct iovec *iov, unsigned n, size_t offset, void *buf, size_t len)
{
	return iov_copy(iov, n, offset, buf, len, false);
}

size_t vk_iov_from_buf(const struct iovec *iov, unsigned n, size_t offset, const void *buf,
                       size_t len)
{
	/* iov_copy() only reads buf in this direction. */
	return iov_copy(iov, n, offset, (uint8_t *)buf, len, true);
}

size_t vk_iov_size(const struct iovec *iov, unsigned n)
{
	size_t total = 0;

	for (unsigned i = 0; i < n; i++)
		if (vk_add_overflow(total, iov[i].iov_len, &total))
			return SIZE_MAX;
	return total;
}
