// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-mmio transport, version 2 registers (virtio 1.x, 4.2.2). Queue
 * notifications never reach this code on the hot path: each queue's
 * QueueNotify write is an ioeventfd (datamatch = queue index) that wakes the
 * device's worker thread, and used buffers are signalled through an irqfd.
 * The SPI is edge-triggered: an irqfd pulse on a level line could be lost.
 * The device itself (status, features, queues, worker) is core.c's.
 */
#include "virtio.h"
#include "../../state/state.h"
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

static uint32_t virtio_reg_read(struct virtio_dev *vdev, uint64_t off)
{
	struct virtq *q = virtio_selected_queue(vdev);

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

static void virtio_reg_write(struct virtio_dev *vdev, uint64_t off, uint32_t val)
{
	struct virtq *q = virtio_selected_queue(vdev);
	uint64_t one = 1;

	switch (off) {
	case REG_DEVICE_FEATURES_SEL:
		vdev->device_features_sel = val;
		return;
	case REG_DRIVER_FEATURES:
		if (vdev->driver_features_sel <= 1 && !(vdev->status & VIRTIO_STATUS_FEATURES_OK))
			virtio_set_half(&vdev->driver_features, vdev->driver_features_sel, val);
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
		if (val < vdev->nr_queues && write(vdev->vqs[val].notify_fd, &one, 8) < 0)
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
		virtio_set_half(&q->desc_gpa, off == REG_QUEUE_DESC_HIGH, val);
		break;
	case REG_QUEUE_DRIVER_LOW:
	case REG_QUEUE_DRIVER_HIGH:
		virtio_set_half(&q->avail_gpa, off == REG_QUEUE_DRIVER_HIGH, val);
		break;
	case REG_QUEUE_DEVICE_LOW:
	case REG_QUEUE_DEVICE_HIGH:
		virtio_set_half(&q->used_gpa, off == REG_QUEUE_DEVICE_HIGH, val);
		break;
	}
}

static void virtio_mmio_read(struct device *dev, uint64_t off, void *data, unsigned int len)
{
	struct virtio_dev *vdev = virtio_of(dev);
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
	struct virtio_dev *vdev = virtio_of(dev);
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


/* Every used-buffer or config interrupt is one pulse on the edge SPI. */
static void virtio_mmio_signal(struct virtio_dev *vdev, int q)
{
	(void)q;
	virtio_signal_fd(vdev, vdev->irq_fd);
}

static const struct virtio_transport_ops virtio_mmio_tops = {
	.signal = virtio_mmio_signal,
};

/* Undo the transport: ioeventfds, irqfd, then the core and the device's part. */
static void virtio_mmio_free(struct device *dev)
{
	struct virtio_dev *vdev = virtio_of(dev);

	virtio_core_stop(dev);
	for (unsigned int i = 0; i < vdev->nr_queues; i++) {
		struct virtq *q = &vdev->vqs[i];

		if (q->notify_fd < 0 || !vdev->notify_wired[i])
			continue;
		vdev->env.ioeventfd(vdev->env.ctx, dev->mmio_base + REG_QUEUE_NOTIFY, 4, i,
				    q->notify_fd, false);
	}
	if (vdev->irq_fd >= 0) {
		vdev->env.irqfd(vdev->env.ctx, dev->irq, vdev->irq_fd, -1, false);
		close(vdev->irq_fd);
	}
	virtio_core_release(vdev);
	free(vdev);
}

static void virtio_mmio_quiesce(struct device *dev)
{
	virtio_core_stop(dev);
}

static int virtio_mmio_save(struct device *dev, struct state_writer *w)
{
	struct virtio_dev *vdev = virtio_of(dev);

	pthread_mutex_lock(&vdev->lock);
	sw_begin(w, dev->name, 1);
	virtio_core_save(vdev, w);
	sw_end(w);
	pthread_mutex_unlock(&vdev->lock);
	return 0;
}

static int virtio_mmio_restore(struct device *dev, const struct state_section *s, char *err,
			       unsigned int errlen)
{
	return virtio_core_restore(virtio_of(dev), s, err, errlen);
}

static const struct device_ops virtio_mmio_ops = {
	.quiesce = virtio_mmio_quiesce,
	.unquiesce = virtio_core_start,
	.save = virtio_mmio_save,
	.restore = virtio_mmio_restore,
	.tracking_changed = virtio_core_tracking_changed,
	.kind = "virtio-mmio",
	.mmio_read = virtio_mmio_read,
	.mmio_write = virtio_mmio_write,
	.fdt = virtio_mmio_fdt,
	.start = virtio_core_start,
	.stop = virtio_core_stop,
	.free = virtio_mmio_free,
	.stats = virtio_core_stats,
};

int virtio_mmio_create(const char *name, uint64_t base, unsigned int intid,
		       const struct virtio_ops *ops, unsigned int nr_queues, uint64_t features,
		       const struct device_env *env, void *priv, struct virtio_dev **out)
{
	struct virtio_dev *vdev = calloc(1, sizeof(*vdev));
	int ret;

	if (!vdev)
		return -ENOMEM;
	vdev->dev.ops = &virtio_mmio_ops;
	vdev->tops = &virtio_mmio_tops;
	vdev->dev.mmio_base = base;
	vdev->dev.mmio_size = VIRTIO_MMIO_SIZE;
	vdev->dev.irq = intid;
	ret = virtio_core_init(vdev, name, ops, nr_queues, features, env, priv);
	if (ret)
		goto fail;
	for (unsigned int i = 0; i < vdev->nr_queues; i++) {
		ret = env->ioeventfd(env->ctx, base + REG_QUEUE_NOTIFY, 4, i,
				     vdev->vqs[i].notify_fd, true);
		if (ret)
			goto fail;
		vdev->notify_wired[i] = true;
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
	*out = vdev;
	return 0;
fail:
	/* The device-specific part is not set up yet: free only the transport. */
	vdev->ops = &virtio_transport_only_ops;
	virtio_mmio_free(&vdev->dev);
	return ret;
}
