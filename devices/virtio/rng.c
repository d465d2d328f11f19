// SPDX-License-Identifier: GPL-2.0
/* virtio-rng: fills the guest's buffers from the host's getrandom(). */
#include "virtio.h"
#include "../../util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <unistd.h>

struct virtio_rng {
	struct virtq_elem elem;
	unsigned long bytes;
};

static void rng_process(struct virtio_dev *vdev, unsigned int worker, const struct pollfd *extra)
{
	struct virtio_rng *rng = vdev->priv;
	struct virtq *q = &vdev->vqs[0];
	bool used = false;

	while (virtio_pop(vdev, q, &rng->elem)) {
		struct virtq_elem *e = &rng->elem;
		uint32_t done = 0;

		for (unsigned int i = e->n_out; i < e->n_out + e->n_in; i++) {
			ssize_t n = getrandom(e->iov[i].iov_base, e->iov[i].iov_len, 0);

			if (n < 0)
				break;
			done += n;
			if ((size_t)n < e->iov[i].iov_len)
				break;
		}
		rng->bytes += done;
		used |= virtq_push(q, e, done);
	}
	if (used)
		virtio_notify_used(vdev, q);
}

static void rng_stats(struct virtio_dev *vdev, char *buf, unsigned int len)
{
	struct virtio_rng *rng = vdev->priv;

	snprintf(buf, len, " bytes=%lu", rng->bytes);
}

static void rng_free(struct virtio_dev *vdev)
{
	struct virtio_rng *rng = vdev->priv;

	free(rng);
	vdev->priv = NULL;
}

static const struct virtio_ops rng_ops = {
	.kind = "virtio-rng",
	.device_id = VIRTIO_ID_RNG,
	.nr_queues = 1,
	.queue_max = 64,
	.process = rng_process,
	.free = rng_free,
	.stats = rng_stats,
};

int virtio_rng_create(const char *name, const struct virtio_transport *t,
		      const struct device_env *env, struct device **out, char *err,
		      size_t errlen)
{
	struct virtio_rng *rng = calloc(1, sizeof(*rng));
	struct virtio_dev *vdev;
	int ret;

	if (!rng) {
		snprintf(err, errlen, "%s: out of memory", name);
		return -ENOMEM;
	}
	ret = virtio_transport_create(name, t, &rng_ops, 0, env, rng, &vdev);
	if (ret) {
		free(rng);
		snprintf(err, errlen, "%s: creating the transport: %s", name, strerror(-ret));
		return ret;
	}
	*out = &vdev->dev;
	return 0;
}
