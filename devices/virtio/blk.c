// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-blk on a raw image file. Requests go to the kernel with libaio, as
 * many in flight as the queue holds; completions arrive on an eventfd. The
 * image is opened O_DIRECT where the file system allows it (so requests are
 * truly asynchronous) and buffered otherwise; a request whose buffers are
 * not sector-aligned goes through the buffered descriptor.
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
	struct blk_req *next_free;
};

struct virtio_blk {
	struct virtio_dev *vdev;
	char *path;
	int fd;			/* buffered */
	int direct_fd;		/* O_DIRECT, or -1 */
	bool readonly;
	uint64_t capacity;	/* in 512-byte sectors */
	char serial[VIRTIO_BLK_ID_BYTES];

	io_context_t aio;
	int aio_efd;
	struct blk_req *reqs;
	struct blk_req *free_reqs;	/* finished ones, for reuse */
	unsigned int fresh;		/* reqs[fresh..] never used: not even touched */
	unsigned int inflight;
	struct iocb *batch[BLK_QUEUE_SIZE];	/* prepared, for one io_submit */
	unsigned int nr_batch;
	unsigned int unnotified;		/* pushed since the last interrupt */

	/* Counters for --stats and the tests. */
	unsigned long n_read, n_write, n_flush, n_err, max_inflight;
	unsigned long submits, notifies;	/* io_submit calls, interrupts */
	unsigned int warned;
};

static void blk_config_read(struct virtio_dev *vdev, uint64_t off, void *data, unsigned int len)
{
	struct virtio_blk *blk = vdev->priv;
	/* struct virtio_blk_config up to blk_size, little-endian. */
	uint8_t cfg[24] = { 0 };
	uint32_t seg_max = BLK_QUEUE_SIZE - 2, blk_size = SECTOR_SIZE;

	memcpy(cfg, &blk->capacity, 8);
	memcpy(cfg + 12, &seg_max, 4);
	memcpy(cfg + 20, &blk_size, 4);
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
static struct blk_req *blk_next_req(struct virtio_blk *blk)
{
	if (blk->free_reqs)
		return blk->free_reqs;
	return blk->fresh < BLK_QUEUE_SIZE ? &blk->reqs[blk->fresh] : NULL;
}

static void blk_take_req(struct virtio_blk *blk, struct blk_req *req)
{
	if (req == blk->free_reqs)
		blk->free_reqs = req->next_free;
	else
		blk->fresh++;
}

static void blk_put_req(struct virtio_blk *blk, struct blk_req *req)
{
	req->next_free = blk->free_reqs;
	blk->free_reqs = req;
}

/*
 * Put a finished request in the used ring and free its slot. The interrupt
 * waits for the end of the round (blk_notify): one for every request that
 * finished together. Lock held.
 */
static void blk_complete(struct virtio_blk *blk, struct blk_req *req, uint8_t status)
{
	struct virtq *q = &blk->vdev->vqs[0];
	uint32_t written = 1;

	if (status != VIRTIO_BLK_S_OK)
		blk->n_err++;
	if (req->type == VIRTIO_BLK_T_IN || req->type == VIRTIO_BLK_T_GET_ID)
		written += status == VIRTIO_BLK_S_OK ? req->len : 0;
	*req->status = status;
	/* A request from a ring the driver has given up since is dropped. */
	if (virtq_push(q, &req->elem, written))
		blk->unnotified++;
	blk_put_req(blk, req);
}

/* One interrupt for the requests completed since the last one. */
static void blk_notify(struct virtio_blk *blk)
{
	if (!blk->unnotified)
		return;
	blk->unnotified = 0;
	blk->notifies++;
	virtio_notify_used(blk->vdev, &blk->vdev->vqs[0]);
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
static int blk_start_request(struct virtio_blk *blk, struct blk_req *req)
{
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
			blk_complete(blk, req, VIRTIO_BLK_S_IOERR);
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
		blk_complete(blk, req, VIRTIO_BLK_S_OK);
		return 0;
	default:
		req->len = 0;
		blk_complete(blk, req, VIRTIO_BLK_S_UNSUPP);
		return 0;
	}
	/* Reads and writes: whole sectors, inside the disk. */
	if ((req->len % SECTOR_SIZE) || req->sector > blk->capacity ||
	    req->len / SECTOR_SIZE > blk->capacity - req->sector) {
		blk_complete(blk, req, VIRTIO_BLK_S_IOERR);
		return 0;
	}
	fd = blk->direct_fd >= 0 && iov_sector_aligned(req->data, req->n_data) ?
		     blk->direct_fd : blk->fd;
	if (hdr.type == VIRTIO_BLK_T_IN)
		io_prep_preadv(&req->iocb, fd, req->data, req->n_data, req->sector * SECTOR_SIZE);
	else
		io_prep_pwritev(&req->iocb, fd, req->data, req->n_data, req->sector * SECTOR_SIZE);
submit:
	io_set_eventfd(&req->iocb, blk->aio_efd);
	req->iocb.data = req;
	blk->batch[blk->nr_batch++] = &req->iocb;
	return 0;
}

/* Hand the requests of this round to the kernel in one io_submit. */
static void blk_submit_batch(struct virtio_blk *blk)
{
	unsigned int done = 0;

	while (done < blk->nr_batch) {
		int n = io_submit(blk->aio, blk->nr_batch - done, &blk->batch[done]);

		if (n == -EINTR || n == -EAGAIN)
			continue;
		if (n <= 0) {
			/* The first one failed: it completes with an error, the rest go on. */
			struct blk_req *req = blk->batch[done]->data;

			blk_warn(blk, "submitting I/O", req, n < 0 ? n : -EIO);
			blk_complete(blk, req, VIRTIO_BLK_S_IOERR);
			done++;
			continue;
		}
		blk->inflight += n;
		done += n;
	}
	if (blk->nr_batch) {
		blk->submits++;
		if (blk->inflight > blk->max_inflight)
			blk->max_inflight = blk->inflight;
	}
	blk->nr_batch = 0;
}

static void blk_process_queue(struct virtio_blk *blk)
{
	struct virtio_dev *vdev = blk->vdev;
	struct virtq *q = &vdev->vqs[0];
	struct blk_req *req;

	while ((req = blk_next_req(blk)) && virtio_pop(vdev, q, &req->elem)) {
		blk_take_req(blk, req);
		if (blk_start_request(blk, req)) {
			blk_put_req(blk, req);
			virtio_set_broken(vdev, "request without header or status byte");
			break;
		}
	}
	blk_submit_batch(blk);
}

/*
 * Reap finished I/O into the used ring; with wait, block until nothing is
 * in flight. The caller sends the interrupt (blk_notify). Lock held.
 */
static void blk_reap(struct virtio_blk *blk, bool wait)
{
	struct io_event events[32];

	while (blk->inflight) {
		struct timespec zero = { 0, 0 };
		int n = io_getevents(blk->aio, wait ? 1 : 0, ARRAY_SIZE(events), events,
				     wait ? NULL : &zero);

		if (n < 0 && n == -EINTR)
			continue;
		if (n <= 0)
			break;
		for (int i = 0; i < n; i++) {
			struct blk_req *req = events[i].data;
			long res = (long)events[i].res;
			uint8_t status = VIRTIO_BLK_S_OK;

			blk->inflight--;
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
			blk_complete(blk, req, status);
		}
	}
}

static unsigned int blk_poll_fds(struct virtio_dev *vdev, struct pollfd *extra)
{
	struct virtio_blk *blk = vdev->priv;

	extra[0] = (struct pollfd){ .fd = blk->aio_efd, .events = POLLIN };
	return 1;
}

static void blk_process(struct virtio_dev *vdev, const struct pollfd *extra)
{
	struct virtio_blk *blk = vdev->priv;

	if (extra[0].revents)
		virtio_drain_eventfd(blk->aio_efd);
	blk_reap(blk, false);
	blk_process_queue(blk);
	/* One interrupt for the round: reaped, and completed at once (errors, GET_ID). */
	blk_notify(blk);
}

static void blk_stopped(struct virtio_dev *vdev)
{
	struct virtio_blk *blk = vdev->priv;

	/* Nothing is lost: requests in flight complete to the guest's ring. */
	pthread_mutex_lock(&vdev->lock);
	blk_reap(blk, true);
	blk_notify(blk);
	pthread_mutex_unlock(&vdev->lock);
}

static void blk_reset(struct virtio_dev *vdev)
{
	struct virtio_blk *blk = vdev->priv;

	/* The driver gives up its queue: wait for the I/O aimed at its buffers. */
	blk_reap(blk, true);
	blk_notify(blk);
}

static void blk_stats(struct virtio_dev *vdev, char *buf, unsigned int len)
{
	struct virtio_blk *blk = vdev->priv;

	snprintf(buf, len, " reads=%lu writes=%lu flushes=%lu errors=%lu max_inflight=%lu io_submits=%lu interrupts=%lu",
		 blk->n_read, blk->n_write, blk->n_flush, blk->n_err, blk->max_inflight,
		 blk->submits, blk->notifies);
}

static void blk_free(struct virtio_dev *vdev)
{
	struct virtio_blk *blk = vdev->priv;

	if (!blk)
		return;
	if (blk->aio)
		io_destroy(blk->aio);
	if (blk->aio_efd >= 0)
		close(blk->aio_efd);
	if (blk->direct_fd >= 0)
		close(blk->direct_fd);
	if (blk->fd >= 0)
		close(blk->fd);
	free(blk->reqs);
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

	ret = io_setup(BLK_QUEUE_SIZE, &blk->aio);
	if (ret) {
		snprintf(err, errlen, "disk '%s': io_setup: %s", opts->path, strerror(-ret));
		blk->aio = 0;
		return ret;
	}
	blk->aio_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	blk->reqs = calloc(BLK_QUEUE_SIZE, sizeof(*blk->reqs));
	if (blk->aio_efd < 0 || !blk->reqs) {
		snprintf(err, errlen, "disk '%s': out of memory or eventfds", opts->path);
		return -ENOMEM;
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
	struct virtio_dev *vdev;
	int ret;

	if (!blk) {
		snprintf(err, errlen, "%s: out of memory", name);
		return -ENOMEM;
	}
	blk->fd = blk->direct_fd = blk->aio_efd = -1;
	blk->readonly = opts->readonly;
	blk->path = strdup(opts->path);
	ret = blk_open(blk, opts, err, errlen);	/* the message names the file and the cause */
	if (ret)
		goto fail;
	if (opts->readonly)
		features |= 1ULL << VIRTIO_BLK_F_RO;
	ret = virtio_transport_create(name, t, &blk_ops, features, env, blk, &vdev);
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
