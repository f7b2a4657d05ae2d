/* SPDX-License-Identifier: MIT */
/*
 * Asynchronous block I/O (block-aio.h): an io_uring for raw images' reads,
 * writes and flushes, worker threads for the rest, and one eventfd on the
 * event loop through which every finished request comes back.
 *
 * State under aio->mu: the workers' job queue, the list of finished requests
 * waiting for the loop (done_head), and the count of requests whose I/O has
 * not finished (inflight). The io_uring's submission side is under sq_mu and
 * its completion side under mu; the kernel signals the eventfd when it posts
 * a completion, a worker when it finishes a job.
 */
#include <errno.h>
#include <liburing.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "vm/backend/block-aio.h"
#include "vm/loop.h"

#define AIO_WORKERS_RAW   4 /* raw without io_uring: parallel preadv/pwritev */
#define AIO_WORKERS_OTHER 2 /* qcow2 serializes on its lock; discard, write zeroes */
#define AIO_RING_ENTRIES  256

struct block_aio {
	struct block_backend *be;
	struct vm_loop *loop;
	int efd;

	pthread_mutex_t mu;
	pthread_cond_t work; /* a job was queued, or stop */
	pthread_cond_t idle; /* inflight reached 0 */
	struct block_req *jobs_head, **jobs_tail;
	struct block_req *done_head, **done_tail;
	unsigned inflight;
	bool stop;
	pthread_t workers[AIO_WORKERS_RAW];
	unsigned nr_workers;

	bool uring; /* reads, writes and flushes go through ring */
	int raw_fd;
	pthread_mutex_t sq_mu;
	struct io_uring ring;
};

static void signal_loop(struct block_aio *aio)
{
	uint64_t one = 1;

	if (write(aio->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		vk_warn("block I/O on '%s': cannot signal completion: %s", aio->be->path,
		        strerror(errno));
}

/* Under mu: req's I/O is over; the loop will call done(). */
static void finished_locked(struct block_aio *aio, struct block_req *req)
{
	req->next = NULL;
	*aio->done_tail = req;
	aio->done_tail = &req->next;
	if (--aio->inflight == 0)
		pthread_cond_broadcast(&aio->idle);
}

static int run_sync(struct block_backend *be, struct block_req *req)
{
	switch (req->op) {
	case BLOCK_OP_READ:
		return block_readv(be, req->iov, req->niov, req->offset);
	case BLOCK_OP_WRITE:
		return block_writev(be, req->iov, req->niov, req->offset);
	case BLOCK_OP_FLUSH:
		return block_flush(be);
	case BLOCK_OP_DISCARD:
		return block_discard(be, req->offset, req->len);
	case BLOCK_OP_WRITE_ZEROES:
		return block_write_zeroes(be, req->offset, req->len);
	}
	return -EINVAL;
}

static void *worker(void *arg)
{
	struct block_aio *aio = arg;

	pthread_mutex_lock(&aio->mu);
	for (;;) {
		struct block_req *req;

		while (!aio->jobs_head && !aio->stop)
			pthread_cond_wait(&aio->work, &aio->mu);
		if (!aio->jobs_head)
			break; /* stopping, and nothing left */
		req = aio->jobs_head;
		aio->jobs_head = req->next;
		if (!aio->jobs_head)
			aio->jobs_tail = &aio->jobs_head;
		pthread_mutex_unlock(&aio->mu);
		req->result = run_sync(aio->be, req);
		pthread_mutex_lock(&aio->mu);
		finished_locked(aio, req);
		signal_loop(aio);
	}
	pthread_mutex_unlock(&aio->mu);
	return NULL;
}

/* Under mu. */
static void queue_job_locked(struct block_aio *aio, struct block_req *req)
{
	req->next = NULL;
	*aio->jobs_tail = req;
	aio->jobs_tail = &req->next;
	pthread_cond_signal(&aio->work);
}

/* Under mu: move the ring's completions to the done list. */
static void reap_locked(struct block_aio *aio)
{
	struct io_uring_cqe *cqe;

	if (!aio->uring)
		return;
	while (io_uring_peek_cqe(&aio->ring, &cqe) == 0) {
		struct block_req *req = io_uring_cqe_get_data(cqe);
		int res = cqe->res;

		io_uring_cqe_seen(&aio->ring, cqe);
		if ((req->op != BLOCK_OP_FLUSH && res >= 0 && (uint64_t)res != req->total) ||
		    (res == -EINVAL && req->direct) || res == -ECANCELED) {
			/* A worker does it again, whole: after a short transfer, for a file
			 * system that wants more alignment than O_DIRECT got, or when the
			 * kernel cancelled it because the submitting thread exited. */
			queue_job_locked(aio, req);
			continue;
		}
		req->result = res < 0 ? res : 0;
		finished_locked(aio, req);
	}
}

/* Call done() of every finished request (loop thread or machine lock held). */
static void deliver(struct block_aio *aio)
{
	struct block_req *list;

	pthread_mutex_lock(&aio->mu);
	reap_locked(aio);
	list = aio->done_head;
	aio->done_head = NULL;
	aio->done_tail = &aio->done_head;
	pthread_mutex_unlock(&aio->mu);
	while (list) {
		struct block_req *req = list;

		list = req->next;
		req->done(req);
	}
}

static void on_event(void *opaque, int fd, short revents)
{
	struct block_aio *aio = opaque;
	uint64_t n;

	if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		vk_warn("block I/O on '%s': eventfd: %s", aio->be->path, strerror(errno));
	deliver(aio);
}

static bool uring_submit(struct block_aio *aio, struct block_req *req)
{
	struct io_uring_sqe *sqe;
	int r;

	pthread_mutex_lock(&aio->sq_mu);
	sqe = io_uring_get_sqe(&aio->ring);
	if (!sqe) {
		(void)io_uring_submit(&aio->ring);
		sqe = io_uring_get_sqe(&aio->ring);
	}
	if (!sqe) {
		pthread_mutex_unlock(&aio->sq_mu);
		return false;
	}
	if (req->op == BLOCK_OP_FLUSH) {
		io_uring_prep_fsync(sqe, aio->raw_fd, IORING_FSYNC_DATASYNC);
	} else {
		int fd = block_data_fd(aio->be, aio->raw_fd, req->iov, req->niov, req->offset);

		req->direct = fd != aio->raw_fd;
		if (req->op == BLOCK_OP_READ)
			io_uring_prep_readv(sqe, fd, req->iov, req->niov, req->offset);
		else
			io_uring_prep_writev(sqe, fd, req->iov, req->niov, req->offset);
	}
	io_uring_sqe_set_data(sqe, req);
	r = io_uring_submit(&aio->ring);
	pthread_mutex_unlock(&aio->sq_mu);
	/* A refused submission (r < 0) leaves the entry queued: it goes with the next one. */
	return r >= 0 || r == -EBUSY || r == -EAGAIN;
}

void block_aio_submit(struct block_aio *aio, struct block_req *req)
{
	bool ring_op = req->op == BLOCK_OP_READ || req->op == BLOCK_OP_WRITE ||
	               (req->op == BLOCK_OP_FLUSH && !aio->be->readonly);

	req->total = 0;
	req->direct = false;
	for (unsigned i = 0; i < req->niov; i++)
		req->total += req->iov[i].iov_len;
	pthread_mutex_lock(&aio->mu);
	aio->inflight++;
	if (!(aio->uring && ring_op && !(req->op == BLOCK_OP_WRITE && aio->be->readonly))) {
		queue_job_locked(aio, req);
		pthread_mutex_unlock(&aio->mu);
		return;
	}
	pthread_mutex_unlock(&aio->mu);
	if (!uring_submit(aio, req)) {
		pthread_mutex_lock(&aio->mu);
		queue_job_locked(aio, req);
		pthread_mutex_unlock(&aio->mu);
	}
}

void block_aio_drain(struct block_aio *aio)
{
	pthread_mutex_lock(&aio->mu);
	for (;;) {
		struct timespec ts;

		reap_locked(aio);
		if (!aio->inflight)
			break;
		if (aio->uring) {
			/* An entry a busy ring refused earlier goes now. */
			pthread_mutex_lock(&aio->sq_mu);
			(void)io_uring_submit(&aio->ring);
			pthread_mutex_unlock(&aio->sq_mu);
		}
		/* Workers signal idle; the ring's completions are looked at every ms. */
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&aio->idle, &aio->mu, &ts);
	}
	pthread_mutex_unlock(&aio->mu);
	/* What the drain reaped still goes to the loop. */
	signal_loop(aio);
}

void block_aio_settle(struct block_aio *aio)
{
	block_aio_drain(aio);
	deliver(aio);
}

const char *block_aio_engine(const struct block_aio *aio)
{
	return aio->uring ? "io_uring" : "threads";
}

static bool want_uring(void)
{
	const char *e = getenv("VK_BLOCK_AIO");

	return !e || strcmp(e, "threads") != 0;
}

struct block_aio *block_aio_new(struct block_backend *be, struct vm_loop *loop,
                                struct vk_error *err)
{
	struct block_aio *aio = calloc(1, sizeof(*aio));
	unsigned want;
	int r;

	if (!aio) {
		vk_error_errno(err, ENOMEM, "disk '%s': asynchronous I/O", be->path);
		return NULL;
	}
	aio->be = be;
	aio->loop = loop;
	aio->jobs_tail = &aio->jobs_head;
	aio->done_tail = &aio->done_head;
	pthread_mutex_init(&aio->mu, NULL);
	pthread_mutex_init(&aio->sq_mu, NULL);
	pthread_cond_init(&aio->work, NULL);
	pthread_cond_init(&aio->idle, NULL);
	aio->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (aio->efd < 0) {
		vk_error_errno(err, errno, "disk '%s': eventfd", be->path);
		goto fail;
	}
	aio->raw_fd = block_raw_fd(be);
	if (aio->raw_fd >= 0 && want_uring()) {
		r = io_uring_queue_init(AIO_RING_ENTRIES, &aio->ring, 0);
		if (r == 0 && io_uring_register_eventfd(&aio->ring, aio->efd) == 0)
			aio->uring = true;
		else if (r == 0)
			io_uring_queue_exit(&aio->ring);
		/* else: no io_uring here (kernel, seccomp, limits): worker threads do it all */
	}
	want = aio->raw_fd >= 0 && !aio->uring ? AIO_WORKERS_RAW : AIO_WORKERS_OTHER;
	for (; aio->nr_workers < want; aio->nr_workers++) {
		r = pthread_create(&aio->workers[aio->nr_workers], NULL, worker, aio);
		if (r) {
			vk_error_errno(err, r, "disk '%s': I/O threads", be->path);
			goto fail;
		}
	}
	if (vm_loop_add_fd(loop, aio->efd, POLLIN, on_event, aio) < 0) {
		vk_error_set(err, ENOMEM, "disk '%s': cannot watch I/O completions", be->path);
		goto fail;
	}
	return aio;
fail:
	aio->loop = NULL;
	block_aio_free(aio);
	return NULL;
}

void block_aio_free(struct block_aio *aio)
{
	if (!aio)
		return;
	if (aio->nr_workers || aio->uring)
		block_aio_drain(aio);
	pthread_mutex_lock(&aio->mu);
	aio->stop = true;
	pthread_cond_broadcast(&aio->work);
	pthread_mutex_unlock(&aio->mu);
	for (unsigned i = 0; i < aio->nr_workers; i++)
		pthread_join(aio->workers[i], NULL);
	if (aio->loop)
		vm_loop_del_fd(aio->loop, aio->efd);
	if (aio->uring)
		io_uring_queue_exit(&aio->ring);
	if (aio->efd >= 0)
		close(aio->efd);
	pthread_cond_destroy(&aio->work);
	pthread_cond_destroy(&aio->idle);
	pthread_mutex_destroy(&aio->mu);
	pthread_mutex_destroy(&aio->sq_mu);
	free(aio);
}
