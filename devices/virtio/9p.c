// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-9p: one request queue; the worker thread hands each request to the
 * 9P2000.L server (9p_server.c) and copies the reply back.
 */
#include "virtio.h"
#include "9p.h"
#include "../../util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VIRTIO_9P_MOUNT_TAG 0
#define P9_TAG_MAX 64

struct virtio_9p {
	struct virtq_elem elem;
	struct p9_server srv;
	char tag[P9_TAG_MAX];
	uint8_t req[P9_MSIZE_MAX];
	uint8_t resp[P9_MSIZE_MAX];
};

static void p9_config_read(struct virtio_dev *vdev, uint64_t off, void *data, unsigned int len)
{
	struct virtio_9p *p9 = vdev->priv;
	/* struct virtio_9p_config: le16 tag_len, then the tag (no NUL). */
	uint8_t cfg[2 + P9_TAG_MAX] = { 0 };
	size_t n = strlen(p9->tag);

	cfg[0] = n;
	cfg[1] = n >> 8;
	memcpy(cfg + 2, p9->tag, n);
	memset(data, 0, len);
	if (off < 2 + n)
		memcpy(data, cfg + off, MIN((uint64_t)len, 2 + n - off));
}

static void p9_process(struct virtio_dev *vdev, unsigned int worker, const struct pollfd *extra)
{
	struct virtio_9p *p9 = vdev->priv;
	struct virtq *q = &vdev->vqs[0];
	bool used = false;

	(void)extra;
	while (virtio_pop(vdev, q, &p9->elem)) {
		struct virtq_elem *e = &p9->elem;
		size_t len = iov_to_buf(e->iov, e->n_out, 0, p9->req, sizeof(p9->req));
		size_t cap = 0, n;

		for (unsigned int i = e->n_out; i < e->n_out + e->n_in; i++)
			cap += e->iov[i].iov_len;
		n = p9_handle(&p9->srv, p9->req, len, p9->resp, MIN(cap, sizeof(p9->resp)));
		n = iov_from_buf(e->iov + e->n_out, e->n_in, 0, p9->resp, n);
		used |= virtq_push(q, e, n);
	}
	if (used)
		virtio_notify_used(vdev, q);
}

static void p9_reset(struct virtio_dev *vdev)
{
	struct virtio_9p *p9 = vdev->priv;

	p9_server_reset(&p9->srv);
}

static void p9_stats(struct virtio_dev *vdev, char *buf, unsigned int len)
{
	struct virtio_9p *p9 = vdev->priv;

	snprintf(buf, len, " requests=%lu fids=%u", p9->srv.requests, p9->srv.nr_fids);
}

static void p9_free(struct virtio_dev *vdev)
{
	struct virtio_9p *p9 = vdev->priv;

	p9_server_fini(&p9->srv);
	free(p9);
	vdev->priv = NULL;
}

static const struct virtio_ops p9_ops = {
	.kind = "virtio-9p",
	.device_id = VIRTIO_ID_9P,
	.nr_queues = 1,
	.queue_max = 128,
	.config_read = p9_config_read,
	.process = p9_process,
	.reset = p9_reset,
	.free = p9_free,
	.stats = p9_stats,
};

int virtio_9p_create(const char *name, const struct virtio_transport *t,
		     const struct virtio_9p_opts *opts, const struct device_env *env,
		     struct device **out, char *err, size_t errlen)
{
	struct virtio_9p *p9;
	struct virtio_dev *vdev;
	int ret;

	if (!opts->tag[0] || strlen(opts->tag) >= P9_TAG_MAX) {
		snprintf(err, errlen, "%s: tag '%s' must be 1 to %d characters", name, opts->tag,
			 P9_TAG_MAX - 1);
		return -EINVAL;
	}
	p9 = calloc(1, sizeof(*p9));
	if (!p9) {
		snprintf(err, errlen, "%s: out of memory", name);
		return -ENOMEM;
	}
	snprintf(p9->tag, sizeof(p9->tag), "%s", opts->tag);
	ret = p9_server_init(&p9->srv, opts->dir, opts->readonly);
	if (ret) {
		free(p9);
		snprintf(err, errlen, "%s: cannot open directory '%s': %s", name, opts->dir,
			 strerror(-ret));
		return ret;
	}
	ret = virtio_transport_create(name, t, &p9_ops, 1ull << VIRTIO_9P_MOUNT_TAG, env, p9,
				      &vdev);
	if (ret) {
		p9_server_fini(&p9->srv);
		free(p9);
		snprintf(err, errlen, "%s: creating the transport: %s", name, strerror(-ret));
		return ret;
	}
	/* Open fids are host file descriptors of this process: a snapshot cannot carry them. */
	vdev->dev.no_snapshot = "a --9p share cannot be checkpointed (the guest's open files are this process's file descriptors)";
	*out = &vdev->dev;
	return 0;
}
