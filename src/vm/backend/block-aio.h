/* SPDX-License-Identifier: MIT */
/*
 * Asynchronous block I/O, off the machine lock (docs/threading.md).
 *
 * A device submits requests from whatever thread it runs on (a hart or vCPU
 * thread holding the machine lock) and gets each one back on the event
 * loop's thread, with the machine lock held, in whatever order the I/O
 * finished. Two engines behind the same calls:
 *   - io_uring (liburing) for reads, writes and flushes of raw images: the
 *     kernel does the I/O and signals an eventfd the loop watches;
 *   - worker threads running the backend's synchronous operations: qcow2
 *     (whose metadata work is ours, not the kernel's), discard and write
 *     zeroes, and everything when io_uring is unavailable (an old kernel, a
 *     seccomp policy, VK_BLOCK_AIO=threads).
 * Nothing here takes the machine lock except the loop, around completions.
 */
#ifndef VK_VM_BACKEND_BLOCK_AIO_H
#define VK_VM_BACKEND_BLOCK_AIO_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "common/error.h"
#include "vm/backend/block.h"

struct vm_loop;
struct block_aio;

enum block_op {
	BLOCK_OP_READ,
	BLOCK_OP_WRITE,
	BLOCK_OP_FLUSH,
	BLOCK_OP_DISCARD,
	BLOCK_OP_WRITE_ZEROES,
};

struct block_req {
	enum block_op op;
	const struct iovec *iov; /* READ and WRITE: valid until done() */
	unsigned niov;
	uint64_t offset; /* bytes */
	uint64_t len;    /* DISCARD and WRITE_ZEROES */
	int result;      /* 0 or -errno when done() runs */
	/* Called on the loop's thread with the machine lock held. */
	void (*done)(struct block_req *req);
	/* private to block-aio.c */
	struct block_req *next;
	uint64_t total;
	bool direct; /* went to the ring on the O_DIRECT descriptor */
};

/* I/O for be, completions on loop's thread. NULL with a sentence in err. */
struct block_aio *block_aio_new(struct block_backend *be, struct vm_loop *loop,
                                struct vk_error *err);

/* Start req (its fields filled in); req->done() runs later, never from inside this call. */
void block_aio_submit(struct block_aio *aio, struct block_req *req);

/*
 * Wait until every submitted request's I/O has finished (their done() may
 * still be pending on the loop). Safe with the machine lock held: no engine
 * needs it. A device reset calls this before it forgets its queues.
 */
void block_aio_drain(struct block_aio *aio);

/*
 * Drain, then call done() of every finished request now, on the calling
 * thread, which holds the machine lock: afterwards nothing of this device is
 * in flight or waiting for the loop (a machine's state is about to be saved).
 */
void block_aio_settle(struct block_aio *aio);

/* Drain and free; done() is not called for what was pending. NULL is accepted. */
void block_aio_free(struct block_aio *aio);

/* "io_uring" or "threads": what carries reads and writes. */
const char *block_aio_engine(const struct block_aio *aio);

#endif
