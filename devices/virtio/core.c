// SPDX-License-Identifier: GPL-2.0
/*
 * The virtio device core, the same under every transport (mmio.c, pci.c):
 * device status and feature negotiation, the queues, the worker thread that
 * waits on the queues' notify eventfds, and the snapshot of that state.
 * A transport owns the registers, where the notify eventfds are wired
 * (ioeventfds) and how an interrupt leaves (virtio_transport_ops.signal).
 */
#include "virtio.h"
#include "../../state/state.h"
#include "../../sandbox/sandbox.h"
#include "../../util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct virtq *virtio_selected_queue(struct virtio_dev *vdev)
{
	if (vdev->queue_sel >= vdev->nr_queues)
		return NULL;
	return &vdev->vqs[vdev->queue_sel];
}

bool virtio_is_live(struct virtio_dev *vdev)
{
	return (vdev->status & VIRTIO_STATUS_DRIVER_OK) && !vdev->broken;
}

int virtio_pop(struct virtio_dev *vdev, struct virtq *q, struct virtq_elem *elem)
{
	int ret;

	if (!virtio_is_live(vdev))
		return 0;
	ret = virtq_pop(q, &vdev->env.mem, elem);
	if (ret < 0) {
		virtio_set_broken(vdev, "malformed descriptor chain");
		return 0;
	}
	return ret;
}

/* Tell a device that hands its rings elsewhere to look again (lock held). */
static void virtio_rings_changed(struct virtio_dev *vdev)
{
	if (vdev->ops->rings_changed)
		vdev->ops->rings_changed(vdev);
}

void virtio_interrupts_changed(struct virtio_dev *vdev)
{
	virtio_rings_changed(vdev);
}

/* Set the ISR bit and have the transport send the interrupt (q < 0: config). */
static void virtio_raise(struct virtio_dev *vdev, unsigned int isr_bit, int q)
{
	atomic_fetch_or(&vdev->isr, isr_bit);
	vdev->tops->signal(vdev, q);
}

void virtio_signal_fd(struct virtio_dev *vdev, int fd)
{
	uint64_t one = 1;

	if (fd >= 0 && write(fd, &one, sizeof(one)) == sizeof(one))
		atomic_fetch_add(&vdev->irqs_sent, 1);
}

void virtio_notify_used(struct virtio_dev *vdev, struct virtq *q)
{
	if (virtq_needs_interrupt(q))
		virtio_raise(vdev, VIRTIO_ISR_QUEUE, q - vdev->vqs);
}

void virtio_set_broken(struct virtio_dev *vdev, const char *why)
{
	if (vdev->broken)
		return;
	/* A guest can break its device at will: do not let it flood the log. */
	if (vdev->breaks < 10)
		pr_warn("%s: %s: the device needs a reset%s", vdev->dev.name, why,
			vdev->breaks == 9 ? " (further ones not reported)" : "");
	vdev->breaks++;
	vdev->broken = true;
	vdev->status |= VIRTIO_STATUS_NEEDS_RESET;
	for (unsigned int i = 0; i < vdev->nr_queues; i++)
		if (vdev->vqs[i].ready)
			virtq_disable(&vdev->vqs[i]);
	virtio_rings_changed(vdev);
	if (vdev->status & VIRTIO_STATUS_DRIVER_OK)
		virtio_raise(vdev, VIRTIO_ISR_CONFIG, -1);
}

void virtio_drain_eventfd(int fd)
{
	uint64_t v;

	if (read(fd, &v, sizeof(v)) < 0)
		return;	/* EAGAIN: nothing pending */
}

void virtio_reset(struct virtio_dev *vdev)
{
	if (vdev->ops->reset)
		vdev->ops->reset(vdev);
	for (unsigned int i = 0; i < vdev->nr_queues; i++)
		virtq_reset(&vdev->vqs[i]);
	vdev->status = 0;
	vdev->driver_features = 0;
	vdev->device_features_sel = vdev->driver_features_sel = vdev->queue_sel = 0;
	atomic_store(&vdev->isr, 0);
	vdev->broken = false;
}

void virtio_set_half(uint64_t *v, int high, uint32_t val)
{
	if (high)
		*v = (*v & 0xffffffffULL) | ((uint64_t)val << 32);
	else
		*v = (*v & ~0xffffffffULL) | val;
}

void virtio_write_status(struct virtio_dev *vdev, uint32_t val)
{
	/* The device status is 8 bits (virtio 2.1); the rest of the register reads 0. */
	val &= 0xff;
	if (val == 0) {
		virtio_reset(vdev);
		virtio_rings_changed(vdev);
		return;
	}
	if ((val & VIRTIO_STATUS_FEATURES_OK) && !(vdev->status & VIRTIO_STATUS_FEATURES_OK)) {
		/* Only features we offered, and virtio 1.x: else FEATURES_OK stays clear. */
		if ((vdev->driver_features & ~vdev->device_features) ||
		    !(vdev->driver_features & (1ULL << VIRTIO_F_VERSION_1)))
			val &= ~VIRTIO_STATUS_FEATURES_OK;
	}
	/* NEEDS_RESET is ours to set; the driver cannot clear it but by reset. */
	vdev->status = (val & ~VIRTIO_STATUS_NEEDS_RESET) |
		       (vdev->status & VIRTIO_STATUS_NEEDS_RESET);
	virtio_rings_changed(vdev);
}

void virtio_write_queue_ready(struct virtio_dev *vdev, struct virtq *q, uint32_t val)
{
	uint64_t one = 1;

	if (!val) {
		/* What the device still holds from this ring will be dropped. */
		if (q->ready) {
			virtq_disable(q);
			virtio_rings_changed(vdev);
		}
		return;
	}
	if (q->ready || vdev->broken)
		return;
	if (virtq_enable(q, &vdev->env.mem)) {
		virtio_set_broken(vdev, "invalid queue (size not a power of two, or rings outside RAM)");
		return;
	}
	virtio_rings_changed(vdev);
	/* Let the worker look at the new queue. */
	if (write(q->notify_fd, &one, sizeof(one)) < 0)
		return;
}

/*
 * A worker: its queues' notify fds, the device's fds, stop_efd; see
 * virtio_ops. Worker 0 also takes the transport's fd.
 */
static void *virtio_worker(void *arg)
{
	struct virtio_worker *wk = arg;
	struct virtio_dev *vdev = wk->vdev;
	unsigned int q0 = vdev->ops->worker_per_queue ? wk->idx : 0;
	unsigned int nq = vdev->ops->worker_per_queue ? 1 : vdev->nr_queues;
	int transport_fd = wk->idx == 0 ? vdev->transport_fd : -1;

	sandbox_enter(vdev->ops->device_id == VIRTIO_ID_9P ? SANDBOX_VIRTIO_9P : SANDBOX_VIRTIO);
	for (;;) {
		struct pollfd pfd[2 + VIRTIO_MAX_QUEUES + VIRTIO_MAX_EXTRA_FDS];
		struct pollfd *extra = &pfd[2 + nq];
		unsigned int n_extra = 0;
		bool stop, kicked = false;

		pfd[0] = (struct pollfd){ .fd = vdev->stop_efd, .events = POLLIN };
		for (unsigned int i = 0; i < nq; i++) {
			const struct virtq *q = &vdev->vqs[q0 + i];

			pfd[1 + i] = (struct pollfd){
				.fd = __atomic_load_n(&q->kicks_elsewhere, __ATOMIC_ACQUIRE) ?
				      -1 : q->notify_fd,
				.events = POLLIN };
		}
		if (vdev->ops->poll_fds)
			n_extra = vdev->ops->poll_fds(vdev, wk->idx, extra);
		/* The transport's own fd (virtio-pci INTx: the resample eventfd). */
		pfd[1 + nq] = (struct pollfd){ .fd = transport_fd, .events = POLLIN };
		if (poll(pfd, 2 + nq + n_extra, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		/* stop_efd is never read here: it wakes every worker, and stays readable. */
		stop = pfd[0].revents;
		if (pfd[1 + nq].revents && vdev->tops->transport_event)
			vdev->tops->transport_event(vdev);
		for (unsigned int i = 0; i < nq; i++) {
			if (pfd[1 + i].revents) {
				virtio_drain_eventfd(pfd[1 + i].fd);
				kicked = true;
			}
		}
		/*
		 * A kick that came with the stop is served first: the stop may be
		 * for a snapshot, and a kick does not survive one.
		 */
		if (!stop || kicked) {
			pthread_mutex_lock(&vdev->lock);
			vdev->ops->process(vdev, wk->idx, extra);
			pthread_mutex_unlock(&vdev->lock);
		}
		if (stop)
			break;
	}
	return NULL;
}

/* Between start and stop, or not: a device that hands its rings elsewhere follows. */
static void virtio_set_running(struct virtio_dev *vdev, bool running)
{
	pthread_mutex_lock(&vdev->lock);
	vdev->running = running;
	virtio_rings_changed(vdev);
	pthread_mutex_unlock(&vdev->lock);
}

/* Ask the running workers to return and wait for them. */
static void virtio_workers_join(struct virtio_dev *vdev)
{
	uint64_t one = 1;

	if (!vdev->nr_workers)
		return;
	if (write(vdev->stop_efd, &one, sizeof(one)) != sizeof(one))
		pr_warn("%s: stopping the workers: %s", vdev->dev.name, strerror(errno));
	for (unsigned int i = 0; i < vdev->nr_workers; i++)
		pthread_join(vdev->workers[i].thread, NULL);
	virtio_drain_eventfd(vdev->stop_efd);	/* ready for a restart */
	vdev->nr_workers = 0;
}

int virtio_core_start(struct device *dev)
{
	struct virtio_dev *vdev = virtio_of(dev);
	unsigned int n = virtio_nr_workers(vdev);
	uint64_t one = 1;

	if (!vdev->ops->process || vdev->nr_workers)
		return 0;
	/*
	 * A device that hands its rings to the kernel does so before a worker
	 * could serve them. Then every ready queue is looked at once: after a
	 * restore (or a stop) the ring may hold requests whose kick nobody saw.
	 */
	virtio_set_running(vdev, true);
	pthread_mutex_lock(&vdev->lock);
	for (unsigned int i = 0; i < vdev->nr_queues; i++)
		if (vdev->vqs[i].ready && write(vdev->vqs[i].notify_fd, &one, sizeof(one)) < 0)
			pr_warn("%s: queue %u: kicking the worker: %s", dev->name, i,
				strerror(errno));
	pthread_mutex_unlock(&vdev->lock);
	for (unsigned int i = 0; i < n; i++) {
		struct virtio_worker *wk = &vdev->workers[i];
		int ret;

		wk->vdev = vdev;
		wk->idx = i;
		ret = pthread_create(&wk->thread, NULL, virtio_worker, wk);
		if (ret) {
			virtio_workers_join(vdev);	/* the ones already running */
			virtio_set_running(vdev, false);
			return -ret;
		}
		vdev->nr_workers = i + 1;
	}
	return 0;
}

void virtio_core_stop(struct device *dev)
{
	struct virtio_dev *vdev = virtio_of(dev);

	if (!vdev->nr_workers)
		return;
	virtio_workers_join(vdev);
	virtio_set_running(vdev, false);
	if (vdev->ops->stopped)
		vdev->ops->stopped(vdev);
}

void virtio_core_tracking_changed(struct device *dev)
{
	struct virtio_dev *vdev = virtio_of(dev);

	pthread_mutex_lock(&vdev->lock);
	virtio_rings_changed(vdev);
	pthread_mutex_unlock(&vdev->lock);
}

void virtio_core_stats(struct device *dev, char *buf, unsigned int len)
{
	struct virtio_dev *vdev = virtio_of(dev);
	int n;

	n = snprintf(buf, len, "irqfd_signals=%lu", atomic_load(&vdev->irqs_sent));
	if (vdev->ops->stats && n > 0 && (unsigned int)n < len)
		vdev->ops->stats(vdev, buf + n, len - n);
}

/* Undo the transport: ioeventfds, irqfd, eventfds, then the device's part. */

/* Snapshot keys of the core; queue q's fields at VT_QUEUE(q) + field. */
enum {
	VT_STATUS = 1, VT_DEVICE_FEATURES, VT_DRIVER_FEATURES, VT_DEVICE_FEATURES_SEL,
	VT_DRIVER_FEATURES_SEL, VT_QUEUE_SEL, VT_ISR, VT_BROKEN,
	VT_NR_QUEUES,	/* absent before multiqueue: the kind's own count */
};
enum { VQ_NUM, VQ_READY, VQ_DESC, VQ_AVAIL, VQ_USED, VQ_LAST_AVAIL, VQ_USED_IDX, VQ_NR_FIELDS };
#define VT_QUEUE(q) (0x100 + 0x10 * (q))

void virtio_core_save(struct virtio_dev *vdev, struct state_writer *w)
{
	sw_put_u64(w, VT_STATUS, vdev->status);
	sw_put_u64(w, VT_DEVICE_FEATURES, vdev->device_features);
	sw_put_u64(w, VT_DRIVER_FEATURES, vdev->driver_features);
	sw_put_u64(w, VT_DEVICE_FEATURES_SEL, vdev->device_features_sel);
	sw_put_u64(w, VT_DRIVER_FEATURES_SEL, vdev->driver_features_sel);
	sw_put_u64(w, VT_QUEUE_SEL, vdev->queue_sel);
	sw_put_u64(w, VT_ISR, atomic_load(&vdev->isr));
	sw_put_u64(w, VT_BROKEN, vdev->broken);
	sw_put_u64(w, VT_NR_QUEUES, vdev->nr_queues);
	for (unsigned int i = 0; i < vdev->nr_queues; i++) {
		struct virtq *q = &vdev->vqs[i];
		const uint64_t f[VQ_NR_FIELDS] = {
			q->num, q->ready, q->desc_gpa, q->avail_gpa, q->used_gpa,
			q->last_avail, q->used_idx,
		};

		for (unsigned int k = 0; k < VQ_NR_FIELDS; k++)
			sw_put_u64(w, VT_QUEUE(i) + k, f[k]);
	}
	if (vdev->ops->save)
		vdev->ops->save(vdev, w);
}

int virtio_core_restore(struct virtio_dev *vdev, const struct state_section *s, char *err,
			unsigned int errlen)
{
	struct device *dev = &vdev->dev;
	uint64_t v[VT_BROKEN + 1], nr_queues = vdev->ops->nr_queues;
	int ret = 0;

	for (unsigned int k = VT_STATUS; k <= VT_BROKEN; k++) {
		if (!ss_get_u64(s, k, &v[k])) {
			snprintf(err, errlen, "%s: snapshot lacks transport field %u", dev->name, k);
			return -EINVAL;
		}
	}
	ss_get_u64(s, VT_NR_QUEUES, &nr_queues);
	if (nr_queues != vdev->nr_queues) {
		/* Queues the snapshot has and this device lacks would be lost. */
		snprintf(err, errlen, "%s: the snapshot's device has %llu queues, this one %u",
			 dev->name, (unsigned long long)nr_queues, vdev->nr_queues);
		return -EINVAL;
	}
	/*
	 * A device that offered less (an earlier lvmm's, once a device gains
	 * a feature) goes on offering that: its driver negotiated with it.
	 * One that offered something this one cannot do cannot be restored.
	 */
	if (v[VT_DEVICE_FEATURES] & ~vdev->device_features) {
		snprintf(err, errlen, "%s: the snapshot's device offered features 0x%llx this one lacks",
			 dev->name, (unsigned long long)(v[VT_DEVICE_FEATURES] & ~vdev->device_features));
		return -EINVAL;
	}
	/* What the registers can hold, and only accepted features that were offered. */
	{
		const struct { const char *name; bool bad; } checks[] = {
			/*
			 * A driver may write any bits; only FEATURES_OK says
			 * they were all offered (virtio_write_status).
			 */
			{ "driver features", (v[VT_STATUS] & VIRTIO_STATUS_FEATURES_OK) &&
					     (v[VT_DRIVER_FEATURES] & ~v[VT_DEVICE_FEATURES]) },
			{ "status", v[VT_STATUS] > 0xff },
			{ "device features select", v[VT_DEVICE_FEATURES_SEL] > UINT32_MAX },
			{ "driver features select", v[VT_DRIVER_FEATURES_SEL] > UINT32_MAX },
			{ "queue select", v[VT_QUEUE_SEL] > UINT32_MAX },
			{ "interrupt status",
			  v[VT_ISR] & ~(uint64_t)(VIRTIO_ISR_QUEUE | VIRTIO_ISR_CONFIG) },
			{ "broken flag", v[VT_BROKEN] > 1 },
		};

		for (unsigned int i = 0; i < ARRAY_SIZE(checks); i++) {
			if (checks[i].bad) {
				snprintf(err, errlen, "%s: snapshot's transport state out of range (%s)",
					 dev->name, checks[i].name);
				return -EINVAL;
			}
		}
	}
	pthread_mutex_lock(&vdev->lock);
	vdev->status = v[VT_STATUS];
	vdev->device_features = v[VT_DEVICE_FEATURES];
	vdev->driver_features = v[VT_DRIVER_FEATURES];
	vdev->device_features_sel = v[VT_DEVICE_FEATURES_SEL];
	vdev->driver_features_sel = v[VT_DRIVER_FEATURES_SEL];
	vdev->queue_sel = v[VT_QUEUE_SEL];
	atomic_store(&vdev->isr, v[VT_ISR]);
	vdev->broken = v[VT_BROKEN];
	for (unsigned int i = 0; i < vdev->nr_queues && !ret; i++) {
		struct virtq *q = &vdev->vqs[i];
		uint64_t f[VQ_NR_FIELDS];

		for (unsigned int k = 0; k < VQ_NR_FIELDS; k++) {
			if (!ss_get_u64(s, VT_QUEUE(i) + k, &f[k])) {
				snprintf(err, errlen, "%s: snapshot lacks queue %u", dev->name, i);
				ret = -EINVAL;
				break;
			}
		}
		if (ret)
			break;
		if (f[VQ_NUM] > q->num_max || f[VQ_READY] > 1 || f[VQ_LAST_AVAIL] > UINT16_MAX ||
		    f[VQ_USED_IDX] > UINT16_MAX) {
			snprintf(err, errlen, "%s: queue %u in the snapshot is out of range", dev->name, i);
			ret = -EINVAL;
			break;
		}
		q->num = f[VQ_NUM];
		q->desc_gpa = f[VQ_DESC];
		q->avail_gpa = f[VQ_AVAIL];
		q->used_gpa = f[VQ_USED];
		if (!f[VQ_READY])
			continue;
		/* The same checks as when the driver enabled it. */
		if (virtq_enable(q, &vdev->env.mem)) {
			snprintf(err, errlen, "%s: queue %u in the snapshot is invalid", dev->name, i);
			ret = -EINVAL;
			break;
		}
		q->last_avail = f[VQ_LAST_AVAIL];
		q->used_idx = f[VQ_USED_IDX];
	}
	if (!ret && vdev->ops->restore)
		ret = vdev->ops->restore(vdev, s, err, errlen);
	pthread_mutex_unlock(&vdev->lock);
	return ret;
}

int virtio_core_init(struct virtio_dev *vdev, const char *name, const struct virtio_ops *ops,
		     unsigned int nr_queues, uint64_t features, const struct device_env *env,
		     void *priv)
{
	snprintf(vdev->dev.name, sizeof(vdev->dev.name), "%s", name);
	vdev->ops = ops;
	vdev->env = *env;
	vdev->priv = priv;
	vdev->device_features = features | (1ULL << VIRTIO_F_VERSION_1);
	pthread_mutex_init(&vdev->lock, NULL);
	vdev->irq_fd = -1;
	vdev->transport_fd = -1;
	vdev->stop_efd = -1;
	for (unsigned int i = 0; i < VIRTIO_MAX_QUEUES; i++)
		vdev->vqs[i].notify_fd = -1;
	if (nr_queues < ops->nr_queues || nr_queues > VIRTIO_MAX_QUEUES)
		return -EINVAL;
	vdev->nr_queues = nr_queues;
	vdev->stop_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vdev->stop_efd < 0)
		return -errno;
	for (unsigned int i = 0; i < nr_queues; i++) {
		struct virtq *q = &vdev->vqs[i];

		q->num_max = ops->queue_max;
		virtq_reset(q);
		q->notify_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (q->notify_fd < 0)
			return -errno;
	}
	return 0;
}

/* The transport has unwired its fds: stop the worker, free the device's part. */
void virtio_core_release(struct virtio_dev *vdev)
{
	virtio_core_stop(&vdev->dev);
	if (vdev->ops->free)
		vdev->ops->free(vdev);
	if (vdev->stop_efd >= 0)
		close(vdev->stop_efd);
	for (unsigned int i = 0; i < vdev->nr_queues; i++)
		if (vdev->vqs[i].notify_fd >= 0)
			close(vdev->vqs[i].notify_fd);
	pthread_mutex_destroy(&vdev->lock);
}
