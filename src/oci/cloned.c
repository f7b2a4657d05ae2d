/* SPDX-License-Identifier: MIT */
/* Re-exec from a sealed memfd copy of the runtime binary. */
#include "cloned.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

#define SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

extern char **environ;

bool oci_exe_is_sealed(void)
{
	int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	int seals;

	if (fd < 0)
		return false;
	seals = fcntl(fd, F_GET_SEALS);
	close(fd);
	return seals >= 0 && (seals & SEALS) == SEALS;
}

int oci_reexec_sealed(char **argv, struct vk_error *err)
{
	struct stat st;
	off_t off = 0;
	int src, mfd;

	if (oci_exe_is_sealed())
		return 0;
	src = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (src < 0 || fstat(src, &st) < 0) {
		if (src >= 0)
			close(src);
		return vk_error_errno(err, errno, "cannot read the runtime binary");
	}
	/* MFD_EXEC: kernels with vm.memfd_noexec would otherwise refuse to exec it. */
	mfd = memfd_create("virtkit-oci", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
	if (mfd < 0 && errno == EINVAL)
		mfd = memfd_create("virtkit-oci", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (mfd < 0) {
		close(src);
		return vk_error_errno(err, errno, "cannot create a memfd for the runtime copy");
	}
	while (off < st.st_size) {
		ssize_t n = sendfile(mfd, src, &off, (size_t)(st.st_size - off));

		if (n <= 0) {
			int e = n < 0 ? errno : EIO;

			close(src);
			close(mfd);
			return vk_error_errno(err, e, "cannot copy the runtime binary");
		}
	}
	close(src);
	if (fcntl(mfd, F_ADD_SEALS, SEALS) < 0) {
		close(mfd);
		return vk_error_errno(err, errno, "cannot seal the runtime copy");
	}
	syscall(SYS_execveat, mfd, "", argv, environ, AT_EMPTY_PATH);
	close(mfd);
	return vk_error_errno(err, errno, "cannot re-exec the sealed runtime copy");
}
