/* SPDX-License-Identifier: MIT */
/*
 * The stdio character device: the guest console on the user's terminal.
 *
 * When stdin is a terminal it is put in raw mode (no echo, no line editing,
 * no signals from Ctrl-C/Ctrl-Z: those keys go to the guest; output
 * post-processing stays on so host log lines still start at column 0, as in
 * QEMU). The saved settings are restored on every way out: chardev_close(),
 * exit() (atexit), the termination signals SIGTERM/SIGINT/SIGHUP/SIGQUIT and
 * the fatal ones SIGSEGV/SIGBUS/SIGFPE/SIGILL/SIGABRT. The signal handlers
 * restore the terminal, put back whatever handler was there before, and let
 * the signal take its course (re-raised, or a fault re-executed).
 * Keys: Ctrl-A x quits through the quit handler, Ctrl-A h prints help,
 * Ctrl-A b sends a break, Ctrl-A Ctrl-A sends one Ctrl-A.
 *
 * When stdin is not a terminal, bytes pass through untouched and EOF on
 * stdin just ends input (the VM keeps running).
 *
 * Non-blocking I/O without side effects: stdin and stdout share their open
 * file descriptions with the shell (and stdout usually with stderr), so we
 * never set O_NONBLOCK on them. We reopen them through /proc/self/fd instead,
 * which gives descriptors of our own; only where that is impossible (a
 * socket) do we set O_NONBLOCK on a dup and put the flags back on the way out.
 *
 * The terminal state is process-wide (one terminal, signal handlers), so it
 * lives in one static object, and only one stdio chardev can be open.
 */
#include "vm/backend/chardev-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

static const int stdio_signals[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGSEGV,
                                    SIGBUS,  SIGFPE, SIGILL, SIGABRT};

/* Everything the signal handlers touch; written only with the signals installed or not yet. */
static struct {
	volatile sig_atomic_t raw; /* the terminal is in raw mode: restore it */
	int tty_fd;
	struct termios saved;
	int shared_fd[2]; /* descriptors whose shared O_NONBLOCK we set, or -1 */
	int shared_flags[2];
	struct sigaction old[ARRAY_SIZE(stdio_signals)];
	bool handlers;
	bool atexit_done;
	bool in_use;
} stdio_term = {.tty_fd = -1, .shared_fd = {-1, -1}};

/* Put the terminal back in the mode it had (async-signal-safe: tcsetattr() only). */
static void stdio_tty_restore(void)
{
	if (stdio_term.raw) {
		stdio_term.raw = 0;
		tcsetattr(stdio_term.tty_fd, TCSANOW, &stdio_term.saved);
	}
}

/* Put back the flags of shared descriptor i, if we changed them (async-signal-safe). */
static void stdio_shared_restore(int i)
{
	if (stdio_term.shared_fd[i] >= 0) {
		fcntl(stdio_term.shared_fd[i], F_SETFL, stdio_term.shared_flags[i]);
		stdio_term.shared_fd[i] = -1;
	}
}

/* Async-signal-safe: tcsetattr() and fcntl() only. */
static void stdio_term_restore(void)
{
	stdio_tty_restore();
	for (int i = 0; i < 2; i++)
		stdio_shared_restore(i);
}

/*
 * Close one of our descriptors, first undoing what we changed through it for
 * everyone else (the terminal's mode, the O_NONBLOCK of a description shared
 * with the shell): a restore later would hit whatever reuses the number.
 */
static void stdio_release_fd(int fd)
{
	if (fd < 0)
		return;
	if (stdio_term.raw && stdio_term.tty_fd == fd)
		stdio_tty_restore();
	for (int i = 0; i < 2; i++)
		if (stdio_term.shared_fd[i] == fd)
			stdio_shared_restore(i);
	close(fd);
}

static int stdio_signal_index(int sig)
{
	for (unsigned i = 0; i < ARRAY_SIZE(stdio_signals); i++)
		if (stdio_signals[i] == sig)
			return (int)i;
	return -1;
}

static void stdio_signal_handler(int sig, siginfo_t *info, void *uctx)
{
	int saved_errno = errno;
	int i = stdio_signal_index(sig);
	bool fault = sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE || sig == SIGILL;

	stdio_term_restore();
	if (i >= 0)
		sigaction(sig, &stdio_term.old[i], NULL);
	/*
	 * A real fault re-executes the instruction on return and reaches the
	 * previous handler (or the default action) that way; anything sent
	 * (kill, raise, abort) is sent again, and stays blocked until we return.
	 */
	if (!fault || info->si_code <= 0)
		raise(sig);
	errno = saved_errno;
}

static void stdio_install_handlers(void)
{
	struct sigaction sa;

	if (stdio_term.handlers)
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = stdio_signal_handler;
	sa.sa_flags = SA_SIGINFO;
	sigfillset(&sa.sa_mask);
	for (unsigned i = 0; i < ARRAY_SIZE(stdio_signals); i++) {
		sigaction(stdio_signals[i], NULL, &stdio_term.old[i]);
		/* A signal the user chose to ignore (nohup) stays ignored. */
		if (stdio_term.old[i].sa_handler == SIG_IGN)
			continue;
		sigaction(stdio_signals[i], &sa, NULL);
	}
	stdio_term.handlers = true;
}

static void stdio_remove_handlers(void)
{
	struct sigaction cur;

	if (!stdio_term.handlers)
		return;
	for (unsigned i = 0; i < ARRAY_SIZE(stdio_signals); i++) {
		/* Put the old handler back only where ours is still installed. */
		if (sigaction(stdio_signals[i], NULL, &cur) == 0 && (cur.sa_flags & SA_SIGINFO) &&
		    cur.sa_sigaction == stdio_signal_handler)
			sigaction(stdio_signals[i], &stdio_term.old[i], NULL);
	}
	stdio_term.handlers = false;
}

static void stdio_atexit(void)
{
	stdio_term_restore();
}

/*
 * A non-blocking descriptor of our own for fd (0 or 1). Returns the new fd,
 * -EBADF when fd is closed, or -errno.
 */
static int stdio_private_fd(int fd, int access)
{
	char path[32];
	struct stat st;
	int nfd, fl;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISREG(st.st_mode)) {
		/* Regular files never block; keep the shell's file position. */
		nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
		return nfd < 0 ? -errno : nfd;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	nfd = open(path, access | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (nfd >= 0)
		return nfd;
	nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (nfd < 0)
		return -errno;
	fl = fcntl(nfd, F_GETFL);
	if (fl >= 0 && !(fl & O_NONBLOCK)) {
		stdio_term.shared_fd[fd] = nfd;
		stdio_term.shared_flags[fd] = fl;
		fcntl(nfd, F_SETFL, fl | O_NONBLOCK);
	}
	return nfd;
}

struct chardev_stdio {
	struct chardev chr;
	struct chardev_stream stream;
	struct chardev_escape esc;
	int in_fd, out_fd;
};

enum chardev_esc_action chardev_escape_feed(struct chardev_escape *e, uint8_t ch)
{
	if (!e->pending) {
		if (ch != CHARDEV_ESCAPE_CHAR)
			return CHARDEV_ESC_PASS;
		e->pending = true;
		return CHARDEV_ESC_SWALLOW;
	}
	e->pending = false;
	switch (ch) {
	case CHARDEV_ESCAPE_CHAR:
		return CHARDEV_ESC_PASS;
	case 'x':
	case 'X':
		return CHARDEV_ESC_QUIT;
	case 'h':
	case 'H':
	case '?':
		return CHARDEV_ESC_HELP;
	case 'b':
	case 'B':
		return CHARDEV_ESC_BREAK;
	default:
		return CHARDEV_ESC_SWALLOW;
	}
}

static const char stdio_help[] = "\r\n"
                                 "C-a h    print this help\r\n"
                                 "C-a x    exit virtkit-vm\r\n"
                                 "C-a b    send a break (magic SysRq)\r\n"
                                 "C-a C-a  send C-a\r\n";

static void stdio_filter(struct chardev_stream *s, const uint8_t *buf, size_t len)
{
	struct chardev_stdio *d = s->opaque;
	uint8_t out[4096];
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		enum chardev_esc_action a = chardev_escape_feed(&d->esc, buf[i]);

		if (a == CHARDEV_ESC_PASS) {
			out[n++] = buf[i];
			continue;
		}
		if (a == CHARDEV_ESC_SWALLOW)
			continue;
		/* Keep the order: what was typed before the escape goes first. */
		chardev_deliver(&d->chr, out, n);
		n = 0;
		if (a == CHARDEV_ESC_QUIT) {
			chardev_request_quit(&d->chr);
			return;
		}
		if (a == CHARDEV_ESC_HELP)
			chardev_stream_write(s, (const uint8_t *)stdio_help,
			                     sizeof(stdio_help) - 1);
		else
			chardev_deliver_break(&d->chr);
	}
	chardev_deliver(&d->chr, out, n);
}

static void stdio_in_closed(struct chardev_stream *s, int err)
{
	struct chardev_stdio *d = s->opaque;

	/* EOF (or a hung-up terminal) ends input; the VM keeps running. */
	chardev_stream_stop_input(s);
	stdio_release_fd(d->in_fd);
	d->in_fd = -1;
}

static size_t stdio_write(struct chardev *c, const uint8_t *buf, size_t len)
{
	struct chardev_stdio *d = container_of(c, struct chardev_stdio, chr);

	return chardev_stream_write(&d->stream, buf, len);
}

static void stdio_accept_input(struct chardev *c)
{
	struct chardev_stdio *d = container_of(c, struct chardev_stdio, chr);

	chardev_stream_accept_input(&d->stream);
}

static void stdio_close(struct chardev *c)
{
	struct chardev_stdio *d = container_of(c, struct chardev_stdio, chr);

	chardev_stream_destroy(&d->stream);
	stdio_release_fd(d->in_fd);
	stdio_release_fd(d->out_fd);
	stdio_term_restore(); /* anything still recorded (normally nothing) */
	stdio_remove_handlers();
	stdio_term.in_use = false;
	free(d);
}

static const struct chardev_ops stdio_ops = {
        .name = "stdio",
        .write = stdio_write,
        .accept_input = stdio_accept_input,
        .close = stdio_close,
};

/* Raw mode as QEMU's stdio sets it: keys go to the guest, OPOST stays. */
static int stdio_enter_raw(int fd)
{
	struct termios t;

	if (tcgetattr(fd, &stdio_term.saved) < 0)
		return -errno;
	t = stdio_term.saved;
	t.c_iflag &= ~(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
	t.c_oflag |= OPOST;
	t.c_lflag &= ~(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
	t.c_cflag &= ~(CSIZE | PARENB);
	t.c_cflag |= CS8;
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	stdio_term.tty_fd = fd;
	if (!stdio_term.atexit_done) {
		atexit(stdio_atexit);
		stdio_term.atexit_done = true;
	}
	stdio_install_handlers();
	stdio_term.raw = 1;
	if (tcsetattr(fd, TCSANOW, &t) < 0) {
		int e = errno;
		stdio_term.raw = 0;
		return -e;
	}
	return 0;
}

struct chardev *chardev_stdio_open(struct vm_loop *loop, struct vk_error *err)
{
	struct chardev_stdio *d;
	int ret;

	if (stdio_term.in_use) {
		vk_error_set(err, EBUSY, "the terminal is already used by another stdio console");
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (!d || chardev_stream_init(&d->stream, &d->chr, d) < 0) {
		vk_error_errno(err, ENOMEM, "cannot set up the stdio console");
		free(d);
		return NULL;
	}
	d->chr.ops = &stdio_ops;
	d->chr.loop = loop;
	stdio_term.in_use = true;
	chardev_ignore_sigpipe();
	d->in_fd = stdio_private_fd(STDIN_FILENO, O_RDONLY);
	d->out_fd = stdio_private_fd(STDOUT_FILENO, O_WRONLY);
	if (d->out_fd < 0 && d->out_fd != -EBADF) {
		vk_error_errno(err, -d->out_fd, "cannot use standard output for the console");
		goto fail;
	}
	if (d->in_fd < 0 && d->in_fd != -EBADF) {
		vk_error_errno(err, -d->in_fd, "cannot use standard input for the console");
		goto fail;
	}
	if (d->in_fd < 0)
		d->in_fd = -1; /* stdin closed: no input */
	if (d->out_fd < 0)
		d->out_fd = -1; /* stdout closed: output dropped */
	d->stream.in_fd = d->in_fd;
	d->stream.out_fd = d->out_fd;
	d->stream.in_closed = stdio_in_closed;
	if (d->in_fd >= 0 && isatty(d->in_fd)) {
		ret = stdio_enter_raw(d->in_fd);
		if (ret < 0) {
			vk_error_errno(err, -ret, "cannot put the terminal in raw mode");
			goto fail;
		}
		d->stream.filter = stdio_filter;
	}
	ret = chardev_stream_start(&d->stream);
	if (ret < 0) {
		vk_error_errno(err, -ret, "cannot watch the stdio console");
		goto fail;
	}
	return &d->chr;
fail:
	stdio_close(&d->chr);
	return NULL;
}
