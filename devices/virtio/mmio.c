// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-mmio transport, version 2 registers (virtio 1.x, 4.2.2). Queue
 * notifications never reach this code on the hot path: each queue's
 * QueueNotify write is an ioeventfd (datamatch = queue index) that wakes the
 * device's worker thread, and used buffers are signalled through an irqfd.
 * The SPI is edge-triggered: an irqfd pulse on a level line could be lost.
 */
#include "virtio.h"
#include "../../state/state.h"
#include "../../sandbox/sandbox.h"
#include "../../util.h"

#include <errno.h>
#include <libfdt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define REG_MAGIC		0x000
#define REG_VERSION		0x004
#define REG_DEVICE_ID		0x008
#define REG_VENDOR_ID		0x00c
#define REG_DEVICE_FEATURES	0x010
#define REG_DEVICE_FEATURES_SEL	0x014
#define REG_DRIVER_FEATURES	0x020
#define REG_DRIVER_FEATURES_SEL	0x024
#define REG_QUEUE_SEL		0x030
#define REG_QUEUE_NUM_MAX	0x034
#define REG_QUEUE_NUM		0x038
#define REG_QUEUE_READY		0x044
#define REG_QUEUE_NOTIFY	0x050
#define REG_INTERRUPT_STATUS	0x060
#define REG_INTERRUPT_ACK	0x064
#define REG_STATUS		0x070
#define REG_QUEUE_DESC_LOW	0x080
#define REG_QUEUE_DESC_HIGH	0x084
#define REG_QUEUE_DRIVER_LOW	0x090
#define REG_QUEUE_DRIVER_HIGH	0x094
#define REG_QUEUE_DEVICE_LOW	0x0a0
#define REG_QUEUE_DEVICE_HIGH	0x0a4
#define REG_CONFIG_GENERATION	0x0fc
#define REG_CONFIG		0x100

#define VIRTIO_MMIO_MAGIC	0x74726976	/* "virt" */
#define LVMM_VENDOR_ID		0x4d4d564c	/* "LVMM" */

static struct virtio_dev *to_vdev(struct device *dev)
{
	return (struct virtio_dev *)dev;
}

static struct virtq *selected_queue(struct virtio_dev *vdev)
{
	if (vdev->queue_sel >= vdev->ops->nr_queues)
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

static void virtio_raise(struct virtio_dev *vdev, unsigned int isr_bit)
{
	uint64_t one = 1;

	atomic_fetch_or(&vdev->isr, isr_bit);
	if (write(vdev->irq_fd, &one, sizeof(one)) == sizeof(one))
		atomic_fetch_add(&vdev->irqs_sent, 1);
}

void virtio_notify_used(struct virtio_dev *vdev, struct virtq *q)
{
	if (virtq_needs_interrupt(q))
		virtio_raise(vdev, VIRTIO_ISR_QUEUE);
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
	for (unsigned int i = 0; i < vdev->ops->nr_queues; i++)
		if (vdev->vqs[i].ready)
			virtq_disable(&vdev->vqs[i]);
	if (vdev->status & VIRTIO_STATUS_DRIVER_OK)
		virtio_raise(vdev, VIRTIO_ISR_CONFIG);
}

void virtio_drain_eventfd(int fd)
{
	uint64_t v;

	if (read(fd, &v, sizeof(v)) < 0)
		return;	/* EAGAIN: nothing pending */
}

static void virtio_reset(struct virtio_dev *vdev)
{
	if (vdev->ops->reset)
		vdev->ops->reset(vdev);
	for (unsigned int i = 0; i < vdev->ops->nr_queues; i++)
		virtq_reset(&vdev->vqs[i]);
	vdev->status = 0;
	vdev->driver_features = 0;
	vdev->device_features_sel = vdev->driver_features_sel = vdev->queue_sel = 0;
	atomic_store(&vdev->isr, 0);
	vdev->broken = false;
}

static uint32_t virtio_reg_read(struct virtio_dev *vdev, uint64_t off)
{
	struct virtq *q = selected_queue(vdev);

	switch (off) {
	case REG_MAGIC:
		return VIRTIO_MMIO_MAGIC;
	case REG_VERSION:
		return 2;
	case REG_DEVICE_ID:
		return vdev->ops->device_id;
	case REG_VENDOR_ID:
		return LVMM_VENDOR_ID;
	case REG_DEVICE_FEATURES:
		if (vdev->device_features_sel > 1)
			return 0;
		return vdev->device_features >> (32 * vdev->device_features_sel);
	case REG_QUEUE_NUM_MAX:
		return q ? q->num_max : 0;
	case REG_QUEUE_READY:
		return q ? q->ready : 0;
	case REG_INTERRUPT_STATUS:
		return atomic_load(&vdev->isr);
	case REG_STATUS:
		return vdev->status;
	case REG_CONFIG_GENERATION:
		return 0;
	case REG_QUEUE_DESC_LOW:
		return q ? (uint32_t)q->desc_gpa : 0;
	case REG_QUEUE_DESC_HIGH:
		return q ? q->desc_gpa >> 32 : 0;
	case REG_QUEUE_DRIVER_LOW:
		return q ? (uint32_t)q->avail_gpa : 0;
	case REG_QUEUE_DRIVER_HIGH:
		return q ? q->avail_gpa >> 32 : 0;
	case REG_QUEUE_DEVICE_LOW:
		return q ? (uint32_t)q->used_gpa : 0;
	case REG_QUEUE_DEVICE_HIGH:
		return q ? q->used_gpa >> 32 : 0;
	default:
		return 0;
	}
}

static void set_half(uint64_t *v, int high, uint32_t val)
{
	if (high)
		*v = (*v & 0xffffffffULL) | ((uint64_t)val << 32);
	else
		*v = (*v & ~0xffffffffULL) | val;
}

static void virtio_write_status(struct virtio_dev *vdev, uint32_t val)
{
	/* The device status is 8 bits (virtio 2.1); the rest of the register reads 0. */
	val &= 0xff;
	if (val == 0) {
		virtio_reset(vdev);
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
}

static void virtio_write_queue_ready(struct virtio_dev *vdev, struct virtq *q, uint32_t val)
{
	uint64_t one = 1;

	if (!val) {
		/* What the device still holds from this ring will be dropped. */
		if (q->ready)
			virtq_disable(q);
		return;
	}
	if (q->ready || vdev->broken)
		return;
	if (virtq_enable(q, &vdev->env.mem)) {
		virtio_set_broken(vdev, "invalid queue (size not a power of two, or rings outside RAM)");
		return;
	}
	/* Let the worker look at the new queue. */
	if (write(q->notify_fd, &one, sizeof(one)) < 0)
		return;
}

static void virtio_reg_write(struct virtio_dev *vdev, uint64_t off, uint32_t val)
{
	struct virtq *q = selected_queue(vdev);
	uint64_t one = 1;

	switch (off) {
	case REG_DEVICE_FEATURES_SEL:
		vdev->device_features_sel = val;
		return;
	case REG_DRIVER_FEATURES:
		if (vdev->driver_features_sel <= 1 && !(vdev->status & VIRTIO_STATUS_FEATURES_OK))
			set_half(&vdev->driver_features, vdev->driver_features_sel, val);
		return;
	case REG_DRIVER_FEATURES_SEL:
		vdev->driver_features_sel = val;
		return;
	case REG_QUEUE_SEL:
		vdev->queue_sel = val;
		return;
	case REG_STATUS:
		virtio_write_status(vdev, val);
		return;
	case REG_INTERRUPT_ACK:
		atomic_fetch_and(&vdev->isr, ~val);
		return;
	case REG_QUEUE_NOTIFY:
		/* Normally caught by the ioeventfd; this is an unknown queue. */
		if (val < vdev->ops->nr_queues && write(vdev->vqs[val].notify_fd, &one, 8) < 0)
			return;
		return;
	}
	if (q && off == REG_QUEUE_READY) {
		virtio_write_queue_ready(vdev, q, val);
		return;
	}
	if (!q || q->ready)
		return;	/* queue registers are writable only while disabled */
	switch (off) {
	case REG_QUEUE_NUM:
		/* Out of range must fail at QueueReady, not wrap into range. */
		q->num = val > q->num_max ? 0 : val;
		break;
	case REG_QUEUE_DESC_LOW:
	case REG_QUEUE_DESC_HIGH:
		set_half(&q->desc_gpa, off == REG_QUEUE_DESC_HIGH, val);
		break;
	case REG_QUEUE_DRIVER_LOW:
	case REG_QUEUE_DRIVER_HIGH:
		set_half(&q->avail_gpa, off == REG_QUEUE_DRIVER_HIGH, val);
		break;
	case REG_QUEUE_DEVICE_LOW:
	case REG_QUEUE_DEVICE_HIGH:
		set_half(&q->used_gpa, off == REG_QUEUE_DEVICE_HIGH, val);
		break;
	}
}

static void virtio_mmio_read(struct device *dev, uint64_t off, void *data, unsigned int len)
{
	struct virtio_dev *vdev = to_vdev(dev);
	uint32_t val;

	pthread_mutex_lock(&vdev->lock);
	if (off >= REG_CONFIG) {
		if (vdev->ops->config_read)
			vdev->ops->config_read(vdev, off - REG_CONFIG, data, len);
	} else if (len == 4 && !(off & 3)) {
		val = virtio_reg_read(vdev, off);
		memcpy(data, &val, 4);
	}
	pthread_mutex_unlock(&vdev->lock);
}

static void virtio_mmio_write(struct device *dev, uint64_t off, const void *data, unsigned int len)
{
	struct virtio_dev *vdev = to_vdev(dev);
	uint32_t val;

	pthread_mutex_lock(&vdev->lock);
	if (off >= REG_CONFIG) {
		if (vdev->ops->config_write)
			vdev->ops->config_write(vdev, off - REG_CONFIG, data, len);
	} else if (len == 4 && !(off & 3)) {
		memcpy(&val, data, 4);
		virtio_reg_write(vdev, off, val);
	}
	pthread_mutex_unlock(&vdev->lock);
}

static int virtio_mmio_fdt(struct device *dev, void *fdt)
{
	int ret;

	ret = device_fdt_begin_node(fdt, "virtio_mmio", dev->mmio_base);
	ret = ret ?: fdt_property_string(fdt, "compatible", "virtio,mmio");
	ret = ret ?: device_fdt_reg(fdt, dev->mmio_base, dev->mmio_size);
	ret = ret ?: device_fdt_spi(fdt, dev->irq, FDT_IRQ_TYPE_EDGE_RISING);
	ret = ret ?: fdt_property(fdt, "dma-coherent", NULL, 0);
	ret = ret ?: fdt_end_node(fdt);
	return ret ? -ENOSPC : 0;
}

/* The device's worker: notify fds, the device's fds, stop_efd; see virtio_ops. */
static void *virtio_worker(void *arg)
{
	struct virtio_dev *vdev = arg;
	unsigned int nq = vdev->ops->nr_queues;

	sandbox_enter(SANDBOX_VIRTIO);
	for (;;) {
		struct pollfd pfd[1 + VIRTIO_MAX_QUEUES + VIRTIO_MAX_EXTRA_FDS];
		struct pollfd *extra = &pfd[1 + nq];
		unsigned int n_extra = 0;
		bool stop, kicked = false;

		pfd[0] = (struct pollfd){ .fd = vdev->stop_efd, .events = POLLIN };
		for (unsigned int i = 0; i < nq; i++)
			pfd[1 + i] = (struct pollfd){ .fd = vdev->vqs[i].notify_fd, .events = POLLIN };
		if (vdev->ops->poll_fds)
			n_extra = vdev->ops->poll_fds(vdev, extra);
		if (poll(pfd, 1 + nq + n_extra, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		stop = pfd[0].revents;
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
			vdev->ops->process(vdev, extra);
			pthread_mutex_unlock(&vdev->lock);
		}
		if (stop)
			break;
	}
	return NULL;
}

static int virtio_mmio_start(struct device *dev)
{
	struct virtio_dev *vdev = to_vdev(dev);
	uint64_t one = 1;
	int ret;

	if (!vdev->ops->process || vdev->worker_running)
		return 0;
	/*
	 * Look at every ready queue once: after a restore (or a stop) the
	 * ring may hold requests whose kick the worker never saw.
	 */
	pthread_mutex_lock(&vdev->lock);
	for (unsigned int i = 0; i < vdev->ops->nr_queues; i++)
		if (vdev->vqs[i].ready && write(vdev->vqs[i].notify_fd, &one, sizeof(one)) < 0)
			pr_warn("%s: queue %u: kicking the worker: %s", dev->name, i,
				strerror(errno));
	pthread_mutex_unlock(&vdev->lock);
	ret = pthread_create(&vdev->worker, NULL, virtio_worker, vdev);
	if (ret)
		return -ret;
	vdev->worker_running = true;
	return 0;
}

static void virtio_mmio_stop(struct device *dev)
{
	struct virtio_dev *vdev = to_vdev(dev);
	uint64_t one = 1;

	if (!vdev->worker_running)
		return;
	if (write(vdev->stop_efd, &one, sizeof(one)) == sizeof(one))
		pthread_join(vdev->worker, NULL);
	virtio_drain_eventfd(vdev->stop_efd);	/* ready for a restart */
	vdev->worker_running = false;
	if (vdev->ops->stopped)
		vdev->ops->stopped(vdev);
}

static void virtio_mmio_stats(struct device *dev, char *buf, unsigned int len)
{
	struct virtio_dev *vdev = to_vdev(dev);
	int n;

	n = snprintf(buf, len, "irqfd_signals=%lu", atomic_load(&vdev->irqs_sent));
	if (vdev->ops->stats && n > 0 && (unsigned int)n < len)
		vdev->ops->stats(vdev, buf + n, len - n);
}

/* Undo the transport: ioeventfds, irqfd, eventfds, then the device's part. */
static void virtio_mmio_free(struct device *dev)
{
	struct virtio_dev *vdev = to_vdev(dev);

	virtio_mmio_stop(dev);
	if (vdev->ops->free)
		vdev->ops->free(vdev);
	if (vdev->stop_efd >= 0)
		close(vdev->stop_efd);
	for (unsigned int i = 0; i < vdev->ops->nr_queues; i++) {
		struct virtq *q = &vdev->vqs[i];

		if (q->notify_fd < 0)
			continue;
		vdev->env.ioeventfd(vdev->env.ctx, dev->mmio_base + REG_QUEUE_NOTIFY, 4, i,
				    q->notify_fd, false);
		close(q->notify_fd);
	}
	if (vdev->irq_fd >= 0) {
		vdev->env.irqfd(vdev->env.ctx, dev->irq, vdev->irq_fd, -1, false);
		close(vdev->irq_fd);
	}
	pthread_mutex_destroy(&vdev->lock);
	free(vdev);
}

/* Snapshot keys of the transport; queue q's fields at VT_QUEUE(q) + field. */
enum {
	VT_STATUS = 1, VT_DEVICE_FEATURES, VT_DRIVER_FEATURES, VT_DEVICE_FEATURES_SEL,
	VT_DRIVER_FEATURES_SEL, VT_QUEUE_SEL, VT_ISR, VT_BROKEN,
};
enum { VQ_NUM, VQ_READY, VQ_DESC, VQ_AVAIL, VQ_USED, VQ_LAST_AVAIL, VQ_USED_IDX, VQ_NR_FIELDS };
#define VT_QUEUE(q) (0x100 + 0x10 * (q))

static void virtio_mmio_quiesce(struct device *dev)
{
	virtio_mmio_stop(dev);
}

static int virtio_mmio_unquiesce(struct device *dev)
{
	return virtio_mmio_start(dev);
}

static int virtio_mmio_save(struct device *dev, struct state_writer *w)
{
	struct virtio_dev *vdev = to_vdev(dev);

	pthread_mutex_lock(&vdev->lock);
	sw_begin(w, dev->name, 1);
	sw_put_u64(w, VT_STATUS, vdev->status);
	sw_put_u64(w, VT_DEVICE_FEATURES, vdev->device_features);
	sw_put_u64(w, VT_DRIVER_FEATURES, vdev->driver_features);
	sw_put_u64(w, VT_DEVICE_FEATURES_SEL, vdev->device_features_sel);
	sw_put_u64(w, VT_DRIVER_FEATURES_SEL, vdev->driver_features_sel);
	sw_put_u64(w, VT_QUEUE_SEL, vdev->queue_sel);
	sw_put_u64(w, VT_ISR, atomic_load(&vdev->isr));
	sw_put_u64(w, VT_BROKEN, vdev->broken);
	for (unsigned int i = 0; i < vdev->ops->nr_queues; i++) {
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
	sw_end(w);
	pthread_mutex_unlock(&vdev->lock);
	return 0;
}

static int virtio_mmio_restore(struct device *dev, const struct state_section *s, char *err,
			       unsigned int errlen)
{
	struct virtio_dev *vdev = to_vdev(dev);
	uint64_t v[VT_BROKEN + 1];
	int ret = 0;

	for (unsigned int k = VT_STATUS; k <= VT_BROKEN; k++) {
		if (!ss_get_u64(s, k, &v[k])) {
			snprintf(err, errlen, "%s: snapshot lacks transport field %u", dev->name, k);
			return -EINVAL;
		}
	}
	if (v[VT_DEVICE_FEATURES] != vdev->device_features) {
		snprintf(err, errlen, "%s: device features differ from the snapshot's", dev->name);
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
					     (v[VT_DRIVER_FEATURES] & ~vdev->device_features) },
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
	vdev->driver_features = v[VT_DRIVER_FEATURES];
	vdev->device_features_sel = v[VT_DEVICE_FEATURES_SEL];
	vdev->driver_features_sel = v[VT_DRIVER_FEATURES_SEL];
	vdev->queue_sel = v[VT_QUEUE_SEL];
	atomic_store(&vdev->isr, v[VT_ISR]);
	vdev->broken = v[VT_BROKEN];
	for (unsigned int i = 0; i < vdev->ops->nr_queues && !ret; i++) {
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

static const struct device_ops virtio_mmio_ops = {
	.quiesce = virtio_mmio_quiesce,
	.unquiesce = virtio_mmio_unquiesce,
	.save = virtio_mmio_save,
	.restore = virtio_mmio_restore,
	.kind = "virtio-mmio",
	.mmio_read = virtio_mmio_read,
	.mmio_write = virtio_mmio_write,
	.fdt = virtio_mmio_fdt,
	.start = virtio_mmio_start,
	.stop = virtio_mmio_stop,
	.free = virtio_mmio_free,
	.stats = virtio_mmio_stats,
};

struct virtio_dev *virtio_mmio_create(const char *name, uint64_t base, unsigned int intid,
				      const struct virtio_ops *ops, uint64_t features,
				      const struct device_env *env, void *priv, int *err)
{
	struct virtio_dev *vdev = calloc(1, sizeof(*vdev));
	int ret;

	if (!vdev) {
		*err = -ENOMEM;
		return NULL;
	}
	vdev->dev.ops = &virtio_mmio_ops;
	snprintf(vdev->dev.name, sizeof(vdev->dev.name), "%s", name);
	vdev->dev.mmio_base = base;
	vdev->dev.mmio_size = VIRTIO_MMIO_SIZE;
	vdev->dev.irq = intid;
	vdev->ops = ops;
	vdev->env = *env;
	vdev->priv = priv;
	vdev->device_features = features | (1ULL << VIRTIO_F_VERSION_1);
	pthread_mutex_init(&vdev->lock, NULL);
	vdev->irq_fd = -1;
	for (unsigned int i = 0; i < VIRTIO_MAX_QUEUES; i++)
		vdev->vqs[i].notify_fd = -1;
	vdev->stop_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vdev->stop_efd < 0) {
		ret = -errno;
		goto fail;
	}

	for (unsigned int i = 0; i < ops->nr_queues; i++) {
		struct virtq *q = &vdev->vqs[i];

		q->num_max = ops->queue_max;
		virtq_reset(q);
		q->notify_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (q->notify_fd < 0) {
			ret = -errno;
			goto fail;
		}
		ret = env->ioeventfd(env->ctx, base + REG_QUEUE_NOTIFY, 4, i, q->notify_fd, true);
		if (ret) {
			close(q->notify_fd);
			q->notify_fd = -1;
			goto fail;
		}
	}
	vdev->irq_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vdev->irq_fd < 0) {
		ret = -errno;
		goto fail;
	}
	ret = env->irqfd(env->ctx, intid, vdev->irq_fd, -1, true);
	if (ret) {
		close(vdev->irq_fd);
		vdev->irq_fd = -1;
		goto fail;
	}
	return vdev;
fail:
	/* The device-specific part is not set up yet: free only the transport. */
	vdev->ops = &(struct virtio_ops){ .nr_queues = ops->nr_queues };
	vdev->worker_running = false;
	virtio_mmio_free(&vdev->dev);
	*err = ret;
	return NULL;
}
