// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-blk on a raw image file. Requests go to the kernel with libaio, as
 * many in flight as the queue holds; completions arrive on an eventfd. The
 * image is opened O_DIRECT where the file system allows it (so requests are
 * truly asynchronous) and buffered otherwise; a request whose buffers are
 * not sector-aligned goes through the buffered descriptor.
 *
 * With more than one queue (VIRTIO_BLK_F_MQ, -d FILE,queues=N) each queue
 * has its own worker thread, aio context, completion eventfd and request
 * slots (struct blk_queue): the queues share nothing but the file and the
 * device lock, which io_submit then runs without.
 */
#include "virtio.h"
#include "../../state/state.h"
#include "../../util.h"

#include <errno.h>
#include <fcntl.h>
#include <libaio.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#define VIRTIO_BLK_F_SEG_MAX	2
#define VIRTIO_BLK_F_RO		5
#define VIRTIO_BLK_F_BLK_SIZE	6
#define VIRTIO_BLK_F_FLUSH	9
#define VIRTIO_BLK_F_MQ		12

#define VIRTIO_BLK_T_IN		0
#define VIRTIO_BLK_T_OUT	1
#define VIRTIO_BLK_T_FLUSH	4
#define VIRTIO_BLK_T_GET_ID	8

#define VIRTIO_BLK_S_OK		0
#define VIRTIO_BLK_S_IOERR	1
#define VIRTIO_BLK_S_UNSUPP	2

#define VIRTIO_BLK_ID_BYTES	20
#define SECTOR_SIZE		512
#define BLK_QUEUE_SIZE		128

struct blk_req {
	struct iocb iocb;
	struct virtq_elem elem;
	struct iovec data[VIRTQ_MAX_SIZE];
	unsigned int n_data;
	uint8_t *status;	/* the last device-writable byte of the chain */
	uint32_t type;
	uint64_t sector;
	size_t len;
	long submit_error;	/* io_submit refused it */
	struct blk_req *next_free;
};

/* One queue's side of the device, served by its own worker. */
struct blk_queue {
	struct virtio_blk *blk;
	unsigned int idx;	/* in vdev->vqs */
	io_context_t aio;
	int aio_efd;
	struct blk_req *reqs;
	struct blk_req *free_reqs;	/* finished ones, for reuse */
	unsigned int fresh;		/* reqs[fresh..] never used: not even touched */
	unsigned int inflight;
	struct iocb *batch[BLK_QUEUE_SIZE];	/* prepared, for one io_submit */
	unsigned int nr_batch;
	bool submitting;		/* the batch is in io_submit, the lock let go */
	unsigned int unnotified;		/* pushed since the last interrupt */
};

struct virtio_blk {
	struct virtio_dev *vdev;
	char *path;
	int fd;			/* buffered */
	int direct_fd;		/* O_DIRECT, or -1 */
	bool readonly;
	uint64_t capacity;	/* in 512-byte sectors */
	char serial[VIRTIO_BLK_ID_BYTES];

	struct blk_queue *queues;
	unsigned int nr_queues;
	pthread_cond_t submitted;	/* a queue's io_submit came back (blk_drain) */

	/* Counters for --stats and the tests, all queues'; taken with the lock held. */
	unsigned long n_read, n_write, n_flush, n_err, max_inflight;
	unsigned long submits, notifies;	/* io_submit calls, interrupts */
	unsigned int warned;
};

static void blk_config_read(struct virtio_dev *vdev, uint64_t off, void *data, unsigned int len)
{
	struct virtio_blk *blk = vdev->priv;
	/* struct virtio_blk_config up to blk_size, little-endian. */
	uint8_t cfg[36] = { 0 };
	uint32_t seg_max = BLK_QUEUE_SIZE - 2, blk_size = SECTOR_SIZE;
	uint16_t num_queues = blk->nr_queues;

	memcpy(cfg, &blk->capacity, 8);
	memcpy(cfg + 12, &seg_max, 4);
	memcpy(cfg + 20, &blk_size, 4);
	memcpy(cfg + 34, &num_queues, 2);
	memset(data, 0, len);
	if (off < sizeof(cfg))
		memcpy(data, cfg + off, MIN((uint64_t)len, sizeof(cfg) - off));
}

/* Copy the part [offset, offset + len) of iov into out; returns the count. */
static unsigned int iov_slice(const struct iovec *iov, unsigned int n, size_t offset, size_t len,
			      struct iovec *out)
{
	unsigned int k = 0;

	for (unsigned int i = 0; i < n && len; i++) {
		size_t chunk;

		if (offset >= iov[i].iov_len) {
			offset -= iov[i].iov_len;
			continue;
		}
		chunk = MIN(iov[i].iov_len - offset, len);
		out[k].iov_base = (char *)iov[i].iov_base + offset;
		out[k].iov_len = chunk;
		k++;
		len -= chunk;
		offset = 0;
	}
	return k;
}

static bool iov_sector_aligned(const struct iovec *iov, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		if (((uintptr_t)iov[i].iov_base | iov[i].iov_len) & (SECTOR_SIZE - 1))
			return false;
	return true;
}

/*
 * The slot the next chain goes into: a finished one, else one never used
 * yet. Slots are 8 KiB and most guests keep a few in flight: the others'
 * pages stay untouched (RSS outside guest RAM 1.18 instead of 1.52 MiB in
 * bench/vs-kvmtool).
 */
static struct blk_req *blk_next_req(struct blk_queue *bq)
{
	if (bq->free_reqs)
		return bq->free_reqs;
	return bq->fresh < BLK_QUEUE_SIZE ? &bq->reqs[bq->fresh] : NULL;
}

static void blk_take_req(struct blk_queue *bq, struct blk_req *req)
{
	if (req == bq->free_reqs)
		bq->free_reqs = req->next_free;
	else
		bq->fresh++;
}

static void blk_put_req(struct blk_queue *bq, struct blk_req *req)
{
	req->next_free = bq->free_reqs;
	bq->free_reqs = req;
}

/*
 * Put a finished request in the used ring and free its slot. The interrupt
 * waits for the end of the round (blk_notify): one for every request that
 * finished together. Lock held.
 */
static void blk_complete(struct blk_queue *bq, struct blk_req *req, uint8_t status)
{
	struct virtio_blk *blk = bq->blk;
	struct virtq *q = &blk->vdev->vqs[bq->idx];
	uint32_t written = 1;

	if (status != VIRTIO_BLK_S_OK)
		blk->n_err++;
	if (req->type == VIRTIO_BLK_T_IN || req->type == VIRTIO_BLK_T_GET_ID)
		written += status == VIRTIO_BLK_S_OK ? req->len : 0;
	*req->status = status;
	/* A request from a ring the driver has given up since is dropped. */
	if (virtq_push(q, &req->elem, written))
		bq->unnotified++;
	blk_put_req(bq, req);
}

/* One interrupt for the requests completed since the last one. */
static void blk_notify(struct blk_queue *bq)
{
	if (!bq->unnotified)
		return;
	bq->unnotified = 0;
	bq->blk->notifies++;
	virtio_notify_used(bq->blk->vdev, &bq->blk->vdev->vqs[bq->idx]);
}

static void blk_warn(struct virtio_blk *blk, const char *what, struct blk_req *req, long res)
{
	if (blk->warned++ < 10)
		pr_warn("%s: %s at sector %llu (%zu bytes) failed: %s", blk->vdev->dev.name, what,
			(unsigned long long)req->sector, req->len,
			res < 0 ? strerror(-res) : "short transfer");
}

/*
 * Parse one chain into a request and submit it (or complete it at once).
 * Returns -EINVAL for a chain that is not a virtio-blk request at all.
 */
static int blk_start_request(struct blk_queue *bq, struct blk_req *req)
{
	struct virtio_blk *blk = bq->blk;
	struct virtq_elem *e = &req->elem;
	struct {
		uint32_t type;
		uint32_t reserved;
		uint64_t sector;
	} hdr;
	struct iovec *last;
	int fd;

	if (e->out_len < sizeof(hdr) || e->in_len < 1)
		return -EINVAL;
	iov_to_buf(e->iov, e->n_out, 0, &hdr, sizeof(hdr));
	last = &e->iov[e->n_out + e->n_in - 1];
	while (last->iov_len == 0 && last > &e->iov[e->n_out])
		last--;
	if (last->iov_len == 0)
		return -EINVAL;
	req->status = (uint8_t *)last->iov_base + last->iov_len - 1;
	req->type = hdr.type;
	req->sector = hdr.sector;

	switch (hdr.type) {
	case VIRTIO_BLK_T_IN:
		req->len = e->in_len - 1;
		req->n_data = iov_slice(&e->iov[e->n_out], e->n_in, 0, req->len, req->data);
		break;
	case VIRTIO_BLK_T_OUT:
		req->len = e->out_len - sizeof(hdr);
		req->n_data = iov_slice(e->iov, e->n_out, sizeof(hdr), req->len, req->data);
		if (blk->readonly) {
			blk_complete(bq, req, VIRTIO_BLK_S_IOERR);
			return 0;
		}
		break;
	case VIRTIO_BLK_T_FLUSH:
		req->len = 0;
		io_prep_fdsync(&req->iocb, blk->fd);
		goto submit;
	case VIRTIO_BLK_T_GET_ID:
		req->len = MIN((size_t)e->in_len - 1, (size_t)VIRTIO_BLK_ID_BYTES);
		iov_from_buf(&e->iov[e->n_out], e->n_in, 0, blk->serial, req->len);
		blk_complete(bq, req, VIRTIO_BLK_S_OK);
		return 0;
	default:
		req->len = 0;
		blk_complete(bq, req, VIRTIO_BLK_S_UNSUPP);
		return 0;
	}
	/* Reads and writes: whole sectors, inside the disk. */
	if ((req->len % SECTOR_SIZE) || req->sector > blk->capacity ||
	    req->len / SECTOR_SIZE > blk->capacity - req->sector) {
		blk_complete(bq, req, VIRTIO_BLK_S_IOERR);
		return 0;
	}
	fd = blk->direct_fd >= 0 && iov_sector_aligned(req->data, req->n_data) ?
		     blk->direct_fd : blk->fd;
	if (hdr.type == VIRTIO_BLK_T_IN)
		io_prep_preadv(&req->iocb, fd, req->data, req->n_data, req->sector * SECTOR_SIZE);
	else
		io_prep_pwritev(&req->iocb, fd, req->data, req->n_data, req->sector * SECTOR_SIZE);
submit:
	io_set_eventfd(&req->iocb, bq->aio_efd);
	req->iocb.data = req;
	bq->batch[bq->nr_batch++] = &req->iocb;
	return 0;
}

/* The most requests in flight so far, on all queues together (--stats). */
static void blk_count_inflight(struct virtio_blk *blk)
{
	unsigned long n = 0;

	for (unsigned int i = 0; i < blk->nr_queues; i++)
		n += blk->queues[i].inflight;
	blk->max_inflight = MAX(blk->max_inflight, n);
}

/*
 * Hand the requests of this round to the kernel in one io_submit. On a
 * buffered file io_submit does the copy itself, so with several queues it
 * runs without the device lock: the other queues' workers go on meanwhile.
 * The batch's slots are this worker's alone; a reset waits for it
 * (blk_drain). One queue keeps the lock: nothing else would use the time,
 * and letting go measured no better (README, bench). Called and returns
 * with the lock held.
 */
static void blk_submit_batch(struct blk_queue *bq)
{
	struct virtio_blk *blk = bq->blk;
	pthread_mutex_t *lock = &blk->vdev->lock;
	struct blk_req *failed[BLK_QUEUE_SIZE];
	unsigned int done = 0, submitted = 0, nr_failed = 0;
	bool unlocked = blk->nr_queues > 1;

	if (!bq->nr_batch)
		return;
	bq->submitting = unlocked;
	if (unlocked)
		pthread_mutex_unlock(lock);
	while (done < bq->nr_batch) {
		int n = io_submit(bq->aio, bq->nr_batch - done, &bq->batch[done]);

		if (n == -EINTR || n == -EAGAIN)
			continue;
		if (n <= 0) {
			/* The first one failed: it completes with an error, the rest go on. */
			struct blk_req *req = bq->batch[done]->data;

			req->submit_error = n < 0 ? n : -EIO;
			failed[nr_failed++] = req;
			done++;
			continue;
		}
		submitted += n;
		done += n;
	}
	if (unlocked) {
		pthread_mutex_lock(lock);
		bq->submitting = false;
		pthread_cond_broadcast(&blk->submitted);
	}
	bq->inflight += submitted;
	bq->nr_batch = 0;
	for (unsigned int i = 0; i < nr_failed; i++) {
		blk_warn(blk, "submitting I/O", failed[i], failed[i]->submit_error);
		blk_complete(bq, failed[i], VIRTIO_BLK_S_IOERR);
	}
	blk->submits++;
	blk_count_inflight(blk);
}

static void blk_process_queue(struct blk_queue *bq)
{
	struct virtio_dev *vdev = bq->blk->vdev;
	struct virtq *q = &vdev->vqs[bq->idx];
	struct blk_req *req;

	while ((req = blk_next_req(bq)) && virtio_pop(vdev, q, &req->elem)) {
		blk_take_req(bq, req);
		if (blk_start_request(bq, req)) {
			blk_put_req(bq, req);
			virtio_set_broken(vdev, "request without header or status byte");
			break;
		}
	}
	blk_submit_batch(bq);
}

/*
 * Reap finished I/O into the used ring; with wait, block until nothing is
 * in flight. The caller sends the interrupt (blk_notify). Lock held.
 */
static void blk_reap(struct blk_queue *bq, bool wait)
{
	struct virtio_blk *blk = bq->blk;
	struct io_event events[32];

	while (bq->inflight) {
		struct timespec zero = { 0, 0 };
		int n = io_getevents(bq->aio, wait ? 1 : 0, ARRAY_SIZE(events), events,
				     wait ? NULL : &zero);

		if (n < 0 && n == -EINTR)
			continue;
		if (n <= 0)
			break;
		for (int i = 0; i < n; i++) {
			struct blk_req *req = events[i].data;
			long res = (long)events[i].res;
			uint8_t status = VIRTIO_BLK_S_OK;

			bq->inflight--;
			if (req->type == VIRTIO_BLK_T_FLUSH) {
				blk->n_flush++;
				if (res < 0) {
					blk_warn(blk, "flush", req, res);
					status = VIRTIO_BLK_S_IOERR;
				}
			} else {
				if (req->type == VIRTIO_BLK_T_IN)
					blk->n_read++;
				else
					blk->n_write++;
				if (res < 0 || (size_t)res != req->len) {
					blk_warn(blk, req->type == VIRTIO_BLK_T_IN ? "read" : "write",
						 req, res);
					status = VIRTIO_BLK_S_IOERR;
				}
			}
			blk_complete(bq, req, status);
		}
	}
}

static unsigned int blk_poll_fds(struct virtio_dev *vdev, unsigned int worker,
				 struct pollfd *extra)
{
	struct virtio_blk *blk = vdev->priv;

	extra[0] = (struct pollfd){ .fd = blk->queues[worker].aio_efd, .events = POLLIN };
	return 1;
}

static void blk_process(struct virtio_dev *vdev, unsigned int worker,
			const struct pollfd *extra)
{
	struct virtio_blk *blk = vdev->priv;
	struct blk_queue *bq = &blk->queues[worker];

	if (extra[0].revents)
		virtio_drain_eventfd(bq->aio_efd);
	blk_reap(bq, false);
	blk_process_queue(bq);
	/* One interrupt for the round: reaped, and completed at once (errors, GET_ID). */
	blk_notify(bq);
}

static bool blk_any_submitting(struct virtio_blk *blk)
{
	for (unsigned int i = 0; i < blk->nr_queues; i++)
		if (blk->queues[i].submitting)
			return true;
	return false;
}

/*
 * Lock held: every queue's I/O back in its used ring, its interrupt sent.
 * First wait until no queue's batch is in io_submit (blk_submit_batch lets
 * the lock go); from then on the lock stays held, so no worker starts more.
 */
static void blk_drain(struct virtio_blk *blk)
{
	while (blk_any_submitting(blk))
		pthread_cond_wait(&blk->submitted, &blk->vdev->lock);
	for (unsigned int i = 0; i < blk->nr_queues; i++) {
		blk_reap(&blk->queues[i], true);
		blk_notify(&blk->queues[i]);
	}
}

static void blk_stopped(struct virtio_dev *vdev)
{
	/* Nothing is lost: requests in flight complete to the guest's ring. */
	pthread_mutex_lock(&vdev->lock);
	blk_drain(vdev->priv);
	pthread_mutex_unlock(&vdev->lock);
}

static void blk_reset(struct virtio_dev *vdev)
{
	/* The driver gives up its queues: wait for the I/O aimed at their buffers. */
	blk_drain(vdev->priv);
}

static void blk_stats(struct virtio_dev *vdev, char *buf, unsigned int len)
{
	struct virtio_blk *blk = vdev->priv;

	snprintf(buf, len, " queues=%u reads=%lu writes=%lu flushes=%lu errors=%lu max_inflight=%lu io_submits=%lu interrupts=%lu",
		 blk->nr_queues, blk->n_read, blk->n_write, blk->n_flush, blk->n_err,
		 blk->max_inflight, blk->submits, blk->notifies);
}

static void blk_free(struct virtio_dev *vdev)
{
	struct virtio_blk *blk = vdev->priv;

	if (!blk)
		return;
	for (unsigned int i = 0; blk->queues && i < blk->nr_queues; i++) {
		struct blk_queue *bq = &blk->queues[i];

		if (bq->aio)
			io_destroy(bq->aio);
		if (bq->aio_efd >= 0)
			close(bq->aio_efd);
		free(bq->reqs);
	}
	free(blk->queues);
	pthread_cond_destroy(&blk->submitted);
	if (blk->direct_fd >= 0)
		close(blk->direct_fd);
	if (blk->fd >= 0)
		close(blk->fd);
	free(blk->path);
	free(blk);
	vdev->priv = NULL;
}

static void blk_save(struct virtio_dev *vdev, struct state_writer *w)
{
	struct virtio_blk *blk = vdev->priv;

	sw_put_u64(w, VIRTIO_KEY_DEVICE, blk->capacity);
}

static int blk_restore(struct virtio_dev *vdev, const struct state_section *s, char *err,
		       unsigned int errlen)
{
	struct virtio_blk *blk = vdev->priv;
	uint64_t capacity;

	if (!ss_get_u64(s, VIRTIO_KEY_DEVICE, &capacity) || capacity != blk->capacity) {
		snprintf(err, errlen, "disk '%s' changed size since the snapshot", blk->path);
		return -EINVAL;
	}
	return 0;
}

static const struct virtio_ops blk_ops = {
	.save = blk_save,
	.restore = blk_restore,
	.kind = "virtio-blk",
	.device_id = VIRTIO_ID_BLOCK,
	.nr_queues = 1,
	.worker_per_queue = true,
	.queue_max = BLK_QUEUE_SIZE,
	.config_read = blk_config_read,
	.poll_fds = blk_poll_fds,
	.process = blk_process,
	.stopped = blk_stopped,
	.reset = blk_reset,
	.free = blk_free,
	.stats = blk_stats,
};

/* Open the image and set up libaio; messages name the file and the cause. */
static int blk_open(struct virtio_blk *blk, const struct virtio_blk_opts *opts, char *err,
		    size_t errlen)
{
	int flags = (opts->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC;
	const char *base;
	uint64_t size;
	int ret;

	blk->fd = open(opts->path, flags);
	if (blk->fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "disk '%s': %s", opts->path, strerror(-ret));
		return ret;
	}
	/* kvmtool's -d takes a block device too (a shared disk, an LVM volume). */
	ret = disk_fd_size(blk->fd, &size);
	if (ret) {
		snprintf(err, errlen, "disk '%s' is not a regular file or a block device (raw images only)",
			 opts->path);
		return ret;
	}
	if (size % SECTOR_SIZE)
		pr_warn("disk '%s': size is not a multiple of 512; the last %llu bytes are not visible",
			opts->path, (unsigned long long)(size % SECTOR_SIZE));
	blk->capacity = size / SECTOR_SIZE;
	blk->direct_fd = open(opts->path, flags | O_DIRECT);	/* may fail: fine */

	base = strrchr(opts->path, '/');
	base = base ? base + 1 : opts->path;
	/* The ID is 20 bytes, NUL-padded, not necessarily NUL-terminated. */
	base = opts->serial ? opts->serial : base;
	memcpy(blk->serial, base, strnlen(base, sizeof(blk->serial)));

	for (unsigned int i = 0; i < blk->nr_queues; i++) {
		struct blk_queue *bq = &blk->queues[i];

		ret = io_setup(BLK_QUEUE_SIZE, &bq->aio);
		if (ret) {
			snprintf(err, errlen, "disk '%s': io_setup: %s%s", opts->path,
				 strerror(-ret), ret == -EAGAIN ? " (fs.aio-max-nr reached)" : "");
			bq->aio = 0;
			return ret;
		}
		bq->aio_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		bq->reqs = calloc(BLK_QUEUE_SIZE, sizeof(*bq->reqs));
		if (bq->aio_efd < 0 || !bq->reqs) {
			snprintf(err, errlen, "disk '%s': out of memory or eventfds", opts->path);
			return -ENOMEM;
		}
	}
	return 0;
}

int virtio_blk_create(const char *name, const struct virtio_transport *t,
		      const struct virtio_blk_opts *opts, const struct device_env *env,
		      struct device **out, char *err, size_t errlen)
{
	struct virtio_blk *blk = calloc(1, sizeof(*blk));
	uint64_t features = (1ULL << VIRTIO_BLK_F_SEG_MAX) | (1ULL << VIRTIO_BLK_F_BLK_SIZE) |
			    (1ULL << VIRTIO_BLK_F_FLUSH);
	struct virtio_transport tq;
	struct virtio_dev *vdev;
	int ret;

	if (!blk) {
		snprintf(err, errlen, "%s: out of memory", name);
		return -ENOMEM;
	}
	blk->fd = blk->direct_fd = -1;
	blk->readonly = opts->readonly;
	blk->path = strdup(opts->path);
	pthread_cond_init(&blk->submitted, NULL);
	blk->nr_queues = MAX(opts->queues, 1u);
	if (blk->nr_queues > VIRTIO_BLK_MAX_QUEUES) {
		snprintf(err, errlen, "%s: %u queues asked for, at most %u", name, blk->nr_queues,
			 VIRTIO_BLK_MAX_QUEUES);
		ret = -EINVAL;
		goto fail;
	}
	blk->queues = calloc(blk->nr_queues, sizeof(*blk->queues));
	if (!blk->queues) {
		snprintf(err, errlen, "%s: out of memory", name);
		ret = -ENOMEM;
		goto fail;
	}
	for (unsigned int i = 0; i < blk->nr_queues; i++)
		blk->queues[i] = (struct blk_queue){ .blk = blk, .idx = i, .aio_efd = -1 };
	ret = blk_open(blk, opts, err, errlen);	/* the message names the file and the cause */
	if (ret)
		goto fail;
	if (opts->readonly)
		features |= 1ULL << VIRTIO_BLK_F_RO;
	/* One queue is what a device without MQ has: offered only for more. */
	if (blk->nr_queues > 1)
		features |= 1ULL << VIRTIO_BLK_F_MQ;
	tq = *t;
	tq.nr_queues = blk->nr_queues;
	ret = virtio_transport_create(name, &tq, &blk_ops, features, env, blk, &vdev);
	if (ret) {
		snprintf(err, errlen, "%s: creating the transport: %s", name, strerror(-ret));
		goto fail;
	}
	blk->vdev = vdev;
	*out = &vdev->dev;
	return 0;
fail:
	{
		struct virtio_dev tmp = { .priv = blk };

		blk_free(&tmp);
	}
	return ret;
}
