/* SPDX-License-Identifier: MIT */
/* The embedded init stub: a sealed memfd copy and the exec through it. */
#include "stub.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/util.h"
#include "sync.h"

/* The stub writes this message type without including sync.h. */
_Static_assert(SYNC_EXEC_ERROR == 11, "stub/init-stub.c hardcodes SYNC_EXEC_ERROR");

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

#ifdef VK_OCI_HAVE_STUB
#include "init-stub.h"
#endif

bool oci_stub_available(void)
{
#ifdef VK_OCI_HAVE_STUB
	return true;
#else
	return false;
#endif
}

bool oci_stub_usable(const struct oci_spec *spec)
{
	const struct oci_seccomp *sc = spec->linux_.seccomp;
	bool named = false;

	if (!oci_stub_available() || !oci_spec_has_ns(spec, CLONE_NEWPID) ||
	    oci_spec_ns_path(spec, CLONE_NEWPID))
		return false;
	if (!sc)
		return true;
	for (size_t i = 0; i < sc->n_rules; i++) {
		const struct oci_seccomp_rule *r = &sc->rules[i];

		for (size_t j = 0; j < r->names.n; j++) {
			if (strcmp(r->names.v[j], "execveat") != 0)
				continue;
			named = true;
			/* Only an unconditional allow is certain to let it through. */
			if (r->action != SCMP_ACT_ALLOW || r->n_args)
				return false;
		}
	}
	return named || sc->default_action == SCMP_ACT_ALLOW || sc->default_action == SCMP_ACT_LOG;
}

int oci_stub_create(struct vk_error *err)
{
#ifdef VK_OCI_HAVE_STUB
	int fd = memfd_create("virtkit-oci-init", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);

	if (fd < 0 && errno == EINVAL)
		fd = memfd_create("virtkit-oci-init", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return vk_error_errno(err, errno, "cannot create the init stub");
	if (vk_write_full(fd, oci_init_stub, sizeof(oci_init_stub)) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0) {
		int e = errno;

		close(fd);
		return vk_error_errno(err, e, "cannot seal the init stub");
	}
	return fd;
#else
	return vk_error_set(err, ENOTSUP, "no init stub on this architecture");
#endif
}

int oci_stub_exec(int stubfd, int errfd, char mode, const struct oci_lsm_exec *lsm,
                  const char *path, char *const argv[], char *const envp[], struct vk_error *err)
{
	char fdbuf[16], modebuf[2] = {mode, '\0'}, nbuf[4], attrfd[OCI_LSM_MAX_ATTRS][16];
	size_t n = 0, nattr = lsm ? lsm->n : 0, k = 0;
	char **nargv;

	while (argv[n])
		n++;
	nargv = calloc(n + 6 + 2 * nattr, sizeof(char *));
	if (!nargv)
		return vk_error_set(err, ENOMEM, "out of memory");
	snprintf(fdbuf, sizeof(fdbuf), "%d", errfd);
	snprintf(nbuf, sizeof(nbuf), "%zu", nattr);
	nargv[k++] = (char *)"virtkit-oci-init";
	nargv[k++] = fdbuf;
	nargv[k++] = modebuf;
	nargv[k++] = nbuf;
	for (size_t i = 0; i < nattr; i++) {
		snprintf(attrfd[i], sizeof(attrfd[i]), "%d", lsm->fd[i]);
		nargv[k++] = attrfd[i];
		nargv[k++] = lsm->value[i];
		/* The stub closes it once written. */
		vk_set_cloexec(lsm->fd[i], false);
	}
	nargv[k++] = (char *)path;
	memcpy(nargv + k, argv, (n + 1) * sizeof(char *));
	/* The stub makes errfd close-on-exec again before the real exec. */
	if (errfd >= 0)
		vk_set_cloexec(errfd, false);
	syscall(SYS_execveat, stubfd, "", nargv, envp, AT_EMPTY_PATH);
	if (errfd >= 0)
		vk_set_cloexec(errfd, true);
	for (size_t i = 0; i < nattr; i++)
		vk_set_cloexec(lsm->fd[i], true);
	free(nargv);
	return vk_error_errno(err, errno, "cannot exec the init stub");
}
