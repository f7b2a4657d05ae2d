/* SPDX-License-Identifier: MIT */
/*
 * virtkit-oci-init: the container process's last exec before the user's
 * program. The runtime execs this tiny freestanding program from a sealed
 * memfd, so that when the user's program is exec'd (and while its path, a
 * "#!" interpreter or its ELF interpreter is resolved) /proc/self/exe is a
 * write-sealed anonymous file, never the runtime binary on the host
 * (CVE-2019-5736). It costs one exec of a few pages instead of re-executing
 * the whole runtime.
 *
 *   argv: virtkit-oci-init ERRFD MODE NATTR [ATTRFD VALUE]... PATH ARGV0 ARGV1 ...
 *
 * ERRFD (or -1) is the runtime's error channel; it is made close-on-exec
 * here, so a successful execve closes it, and a failed one is reported on it
 * as MODE 's' (a sync message: type, errno, text) or 'c' (start's stream:
 * "X<errno>:" + text). NATTR pairs of an open LSM attribute file of this
 * process (attr/exec: an AppArmor profile or SELinux label for the next
 * execve) and the text to write there come next: they are written and closed
 * right before the execve, since an attribute written before the exec of
 * this stub would have been spent on it. Built with -nostdlib -static; raw
 * syscalls only.
 */
#include <asm/unistd.h>
#include <linux/fcntl.h>

#define ENOENT          2
#define SYNC_EXEC_ERROR 11 /* must match sync.h */

#if defined(__x86_64__)
static long sys3(long n, long a, long b, long c)
{
	long r;

	__asm__ volatile("syscall"
	                 : "=a"(r)
	                 : "a"(n), "D"(a), "S"(b), "d"(c)
	                 : "rcx", "r11", "memory");
	return r;
}

__asm__(".text\n.global _start\n_start:\n\txor %rbp, %rbp\n\tmov %rsp, %rdi\n"
        "\tand $-16, %rsp\n\tcall stub_start\n\thlt\n");
#elif defined(__aarch64__)
static long sys3(long n, long a, long b, long c)
{
	register long x8 __asm__("x8") = n;
	register long x0 __asm__("x0") = a;
	register long x1 __asm__("x1") = b;
	register long x2 __asm__("x2") = c;

	__asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory");
	return x0;
}

__asm__(".text\n.global _start\n_start:\n\tmov x0, sp\n\tbl stub_start\n");
#else
#error "init-stub: unsupported architecture"
#endif

void stub_start(long *sp) __attribute__((noreturn, used));

static unsigned long slen(const char *s)
{
	unsigned long n = 0;

	while (s[n])
		n++;
	return n;
}

static char *put(char *o, char *end, const char *s)
{
	while (*s && o < end)
		*o++ = *s++;
	return o;
}

static char *put_num(char *o, char *end, long v)
{
	char d[24];
	int n = 0;

	if (v < 0 && o < end) {
		*o++ = '-';
		v = -v;
	}
	do {
		d[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v && n < 23);
	while (n && o < end)
		*o++ = d[--n];
	return o;
}

static __attribute__((noreturn)) void die(long code)
{
	for (;;)
		sys3(__NR_exit_group, code, 0, 0);
}

static long parse_fd(const char *p)
{
	long v = -1;

	for (; *p >= '0' && *p <= '9'; p++)
		v = (v < 0 ? 0 : v * 10) + (*p - '0');
	return v;
}

/* Report errno e with what + quoted arg on the error channel, then exit. */
static __attribute__((noreturn)) void fail(long errfd, char mode, long e, const char *what,
                                           const char *arg)
{
	char msg[600], *o = msg, *end = msg + sizeof(msg);

	if (errfd >= 0) {
		if (mode == 's') {
			/* struct sync_msg { u32 type; i32 value; char text[]; } */
			unsigned int type = SYNC_EXEC_ERROR;
			int val = (int)e;

			for (unsigned long i = 0; i < 4; i++)
				*o++ = ((char *)&type)[i];
			for (unsigned long i = 0; i < 4; i++)
				*o++ = ((char *)&val)[i];
		} else {
			o = put(o, end, "X");
			o = put_num(o, end, e);
			o = put(o, end, ":");
		}
		o = put(o, end, what);
		o = put(o, end, "\"");
		o = put(o, end, arg);
		o = put(o, end, "\"");
		if (o < end)
			*o++ = '\0';
		sys3(__NR_write, errfd, (long)msg, o - msg);
	}
	die(e == ENOENT ? 127 : 126);
}

void stub_start(long *sp)
{
	long argc = sp[0], errfd, nattr, e, i = 4;
	char **argv = (char **)(sp + 1), **envp = argv + argc + 1;

	if (argc < 6)
		die(125);
	errfd = parse_fd(argv[1]);
	if (errfd >= 0 && sys3(__NR_fcntl, errfd, F_SETFD, FD_CLOEXEC) < 0) {
		sys3(__NR_close, errfd, 0, 0); /* never let it reach the program */
		errfd = -1;
	}
	nattr = parse_fd(argv[3]);
	if (nattr < 0 || nattr > 2 || argc < 6 + 2 * nattr)
		die(125);
	for (long k = 0; k < nattr; k++, i += 2) {
		long fd = parse_fd(argv[i]), len = (long)slen(argv[i + 1]);

		e = sys3(__NR_write, fd, (long)argv[i + 1], len);
		sys3(__NR_close, fd, 0, 0);
		if (e != len)
			fail(errfd, argv[2][0], e < 0 ? -e : 5 /* EIO */,
			     "cannot apply the process's security profile ", argv[i + 1]);
	}
	e = -sys3(__NR_execve, (long)argv[i], (long)&argv[i + 1], (long)envp);
	fail(errfd, argv[2][0], e, "exec: ", argv[i]);
}
