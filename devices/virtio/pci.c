// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-pci, modern (virtio 1.x, 4.1): one function per device on the ECAM
 * host, one 32-bit memory BAR holding the common, ISR, device and notify
 * structures (vendor capabilities point at them) and the MSI-X table and
 * PBA. Each queue notifies at its own address, an ioeventfd that follows
 * the BAR wherever the guest puts it. Interrupts: with an ITS, one MSI-X
 * vector per queue plus one for config changes, each an irqfd on an MSI
 * route; without, INTA as a level SPI through an irqfd whose resample
 * eventfd tells the worker to raise it again while the ISR has bits.
 */
#include "virtio.h"
#include "../pci/pci.h"
#include "../../state/state.h"
#include "../../util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* The BAR's layout. */
#define VP_COMMON	0x0000
#define VP_COMMON_SIZE	0x38
#define VP_ISR		0x0800
#define VP_DEVICE	0x1000
#define VP_DEVICE_SIZE	0x1000
#define VP_NOTIFY	0x2000
#define VP_NOTIFY_MULT	4
#define VP_MSIX_TABLE	0x3000
#define VP_MSIX_PBA	0x3800
#define VP_BAR_SIZE	0x4000

/* struct virtio_pci_cap cfg_type */
#define VP_CAP_COMMON	1
#define VP_CAP_NOTIFY	2
#define VP_CAP_ISR	3
#define VP_CAP_DEVICE	4

/* Common configuration registers (4.1.4.3). */
#define CC_DFSELECT	0x00
#define CC_DF		0x04
#define CC_GFSELECT	0x08
#define CC_GF		0x0c
#define CC_MSIX_CONFIG	0x10
#define CC_NUM_QUEUES	0x12
#define CC_STATUS	0x14
#define CC_CFG_GEN	0x15
#define CC_Q_SELECT	0x16
#define CC_Q_SIZE	0x18
#define CC_Q_MSIX	0x1a
#define CC_Q_ENABLE	0x1c
#define CC_Q_NOFF	0x1e
#define CC_Q_DESC_LO	0x20
#define CC_Q_DESC_HI	0x24
#define CC_Q_AVAIL_LO	0x28
#define CC_Q_AVAIL_HI	0x2c
#define CC_Q_USED_LO	0x30
#define CC_Q_USED_HI	0x34

#define VIRTIO_NO_VECTOR	0xffff
#define PCI_VENDOR_REDHAT_QUMRANET 0x1af4
#define VIRTIO_PCI_DEVICE_BASE	0x1040	/* + device id: modern devices */

struct virtio_pci {
	struct pci_func func;
	struct virtio_dev *vdev;
	struct pci_host *host;
	struct pci_msix msix;
	bool has_msix;
	uint16_t config_vector;
	uint16_t queue_vector[VIRTIO_MAX_QUEUES];
	int intx_fd, resample_fd;
	uint64_t notify_base;		/* where the queues' ioeventfds are, 0: none */
};

static struct virtio_pci *vp_of(struct pci_func *f)
{
	return (struct virtio_pci *)f;	/* func is the first member */
}

static void vp_signal(struct virtio_dev *vdev, int q)
{
	struct virtio_pci *vp = vdev->tpriv;

	if (vp->has_msix && pci_msix_enabled(&vp->msix)) {
		uint16_t vec = q < 0 ? vp->config_vector : vp->queue_vector[q];

		/* Masked, the signal waits in the eventfd (pending). */
		if (vec < vp->msix.nr)
			virtio_signal_fd(vdev, vp->msix.vec[vec].fd);
		return;
	}
	if (!(pci_config_command(&vp->func.cfg) & PCI_COMMAND_INTX_DISABLE))
		virtio_signal_fd(vdev, vp->intx_fd);
}

/* The guest EOId INTA and KVM lowered it: up again while the ISR is set. */
static void vp_resample(struct virtio_dev *vdev)
{
	virtio_drain_eventfd(vdev->transport_fd);
	pthread_mutex_lock(&vdev->lock);
	if (atomic_load(&vdev->isr))
		vp_signal(vdev, -1);
	pthread_mutex_unlock(&vdev->lock);
}

static int vp_queue_irq_fd(struct virtio_dev *vdev, unsigned int q)
{
	struct virtio_pci *vp = vdev->tpriv;
	uint16_t vec = vp->queue_vector[q];

	/* Masked, a signal waits in the eventfd (pending), as vp_signal's. */
	if (vp->has_msix && pci_msix_enabled(&vp->msix) && vec < vp->msix.nr)
		return vp->msix.vec[vec].fd;
	return -1;
}

static const struct virtio_transport_ops vp_tops = {
	.signal = vp_signal,
	.transport_event = vp_resample,
	.queue_irq_fd = vp_queue_irq_fd,
};

static void vp_reset_vectors(struct virtio_pci *vp)
{
	vp->config_vector = VIRTIO_NO_VECTOR;
	for (unsigned int i = 0; i < VIRTIO_MAX_QUEUES; i++)
		vp->queue_vector[i] = VIRTIO_NO_VECTOR;
}

static uint16_t vp_vector(struct virtio_pci *vp, uint16_t vec)
{
	/* A vector the function does not have reads back as NO_VECTOR (4.1.5.1.2). */
	return vp->has_msix && vec < vp->msix.nr ? vec : VIRTIO_NO_VECTOR;
}

/* The common structure as the driver reads it, for the current selections. */
static void common_image(struct virtio_pci *vp, uint8_t img[VP_COMMON_SIZE])
{
	struct virtio_dev *vdev = vp->vdev;
	struct virtq *q = virtio_selected_queue(vdev);
	uint32_t df = vdev->device_features_sel > 1 ? 0 :
		      vdev->device_features >> (32 * vdev->device_features_sel);
	uint32_t gf = vdev->driver_features_sel > 1 ? 0 :
		      vdev->driver_features >> (32 * vdev->driver_features_sel);
	uint16_t qsel = vdev->queue_sel;

	memset(img, 0, VP_COMMON_SIZE);
	memcpy(img + CC_DFSELECT, &vdev->device_features_sel, 4);
	memcpy(img + CC_DF, &df, 4);
	memcpy(img + CC_GFSELECT, &vdev->driver_features_sel, 4);
	memcpy(img + CC_GF, &gf, 4);
	memcpy(img + CC_MSIX_CONFIG, &vp->config_vector, 2);
	img[CC_NUM_QUEUES] = vdev->nr_queues;
	img[CC_STATUS] = vdev->status;
	memcpy(img + CC_Q_SELECT, &qsel, 2);
	if (!q)
		return;
	memcpy(img + CC_Q_SIZE, &q->num, 2);
	memcpy(img + CC_Q_MSIX, &vp->queue_vector[vdev->queue_sel], 2);
	img[CC_Q_ENABLE] = q->ready;
	memcpy(img + CC_Q_NOFF, &qsel, 2);	/* queue i notifies at i * multiplier */
	memcpy(img + CC_Q_DESC_LO, &q->desc_gpa, 8);
	memcpy(img + CC_Q_AVAIL_LO, &q->avail_gpa, 8);
	memcpy(img + CC_Q_USED_LO, &q->used_gpa, 8);
}

static void common_write(struct virtio_pci *vp, uint64_t off, uint32_t val, unsigned int len)
{
	struct virtio_dev *vdev = vp->vdev;
	struct virtq *q = virtio_selected_queue(vdev);

	switch (off) {
	case CC_DFSELECT:
		vdev->device_features_sel = val;
		return;
	case CC_GFSELECT:
		vdev->driver_features_sel = val;
		return;
	case CC_GF:
		if (vdev->driver_features_sel <= 1 && !(vdev->status & VIRTIO_STATUS_FEATURES_OK))
			virtio_set_half(&vdev->driver_features, vdev->driver_features_sel, val);
		return;
	case CC_MSIX_CONFIG:
		vp->config_vector = vp_vector(vp, val);
		return;
	case CC_STATUS:
		virtio_write_status(vdev, val);
		if (!vdev->status)
			vp_reset_vectors(vp);
		return;
	case CC_Q_SELECT:
		vdev->queue_sel = val & 0xffff;
		return;
	}
	if (!q)
		return;
	switch (off) {
	case CC_Q_MSIX:
		vp->queue_vector[vdev->queue_sel] = vp_vector(vp, val);
		virtio_interrupts_changed(vdev);
		return;
	case CC_Q_ENABLE:
		/* The driver may not write 0 (4.1.4.3.2); a reset disables. */
		if (val == 1)
			virtio_write_queue_ready(vdev, q, 1);
		return;
	}
	if (q->ready)
		return;	/* queue registers are writable only while disabled */
	switch (off) {
	case CC_Q_SIZE:
		q->num = val > q->num_max ? 0 : val;
		break;
	case CC_Q_DESC_LO:
	case CC_Q_DESC_HI:
		virtio_set_half(&q->desc_gpa, off == CC_Q_DESC_HI, val);
		break;
	case CC_Q_AVAIL_LO:
	case CC_Q_AVAIL_HI:
		virtio_set_half(&q->avail_gpa, off == CC_Q_AVAIL_HI, val);
		break;
	case CC_Q_USED_LO:
	case CC_Q_USED_HI:
		virtio_set_half(&q->used_gpa, off == CC_Q_USED_HI, val);
		break;
	}
	(void)len;
}

/* Register widths of the common structure: an access must match one. */
static unsigned int common_width(uint64_t off)
{
	switch (off) {
	case CC_MSIX_CONFIG: case CC_NUM_QUEUES: case CC_Q_SELECT: case CC_Q_SIZE:
	case CC_Q_MSIX: case CC_Q_ENABLE: case CC_Q_NOFF:
		return 2;
	case CC_STATUS: case CC_CFG_GEN:
		return 1;
	default:
		return off < VP_COMMON_SIZE && !(off & 3) ? 4 : 0;
	}
}

static void vp_bar_read(struct pci_func *f, unsigned int bar, uint64_t off, void *data,
			unsigned int len)
{
	struct virtio_pci *vp = vp_of(f);
	struct virtio_dev *vdev = vp->vdev;

	memset(data, 0, len);
	if (bar)
		return;
	pthread_mutex_lock(&vdev->lock);
	if (off < VP_COMMON + VP_COMMON_SIZE) {
		uint8_t img[VP_COMMON_SIZE];

		if (common_width(off) == len) {
			common_image(vp, img);
			memcpy(data, img + off, len);
		}
	} else if (off == VP_ISR && len == 1) {
		/* Reading the ISR clears it (4.1.4.5). */
		*(uint8_t *)data = atomic_exchange(&vdev->isr, 0);
	} else if (off >= VP_DEVICE && off + len <= VP_DEVICE + VP_DEVICE_SIZE) {
		if (vdev->ops->config_read)
			vdev->ops->config_read(vdev, off - VP_DEVICE, data, len);
	} else if (vp->has_msix && off >= VP_MSIX_TABLE && off < VP_MSIX_PBA) {
		pci_msix_table_read(&vp->msix, off - VP_MSIX_TABLE, data, len);
	} else if (vp->has_msix && off >= VP_MSIX_PBA) {
		pci_msix_pba_read(&vp->msix, off - VP_MSIX_PBA, data, len);
	}
	pthread_mutex_unlock(&vdev->lock);
}

static void vp_bar_write(struct pci_func *f, unsigned int bar, uint64_t off, const void *data,
			 unsigned int len)
{
	struct virtio_pci *vp = vp_of(f);
	struct virtio_dev *vdev = vp->vdev;
	uint32_t val = 0;

	if (bar)
		return;
	pthread_mutex_lock(&vdev->lock);
	if (off < VP_COMMON + VP_COMMON_SIZE) {
		if (common_width(off) == len) {
			memcpy(&val, data, len);
			common_write(vp, off, val, len);
		}
	} else if (off >= VP_DEVICE && off + len <= VP_DEVICE + VP_DEVICE_SIZE) {
		if (vdev->ops->config_write)
			vdev->ops->config_write(vdev, off - VP_DEVICE, data, len);
	} else if (off >= VP_NOTIFY && off < VP_NOTIFY + VP_NOTIFY_MULT * vdev->nr_queues) {
		/* Normally caught by the ioeventfd: the BAR is not decoded yet. */
		unsigned int q = (off - VP_NOTIFY) / VP_NOTIFY_MULT;

		if (write(vdev->vqs[q].notify_fd, &(uint64_t){ 1 }, 8) < 0)
			pr_warn("%s: queue %u: kicking the worker failed", vdev->dev.name, q);
	} else if (vp->has_msix && off >= VP_MSIX_TABLE && off < VP_MSIX_PBA) {
		pci_msix_table_write(&vp->msix, off - VP_MSIX_TABLE, data, len);
	}
	pthread_mutex_unlock(&vdev->lock);
}

static uint32_t vp_cfg_read(struct pci_func *f, unsigned int off, unsigned int len)
{
	struct virtio_dev *vdev = vp_of(f)->vdev;
	uint32_t v;

	pthread_mutex_lock(&vdev->lock);
	v = pci_config_read(&f->cfg, off, len);
	pthread_mutex_unlock(&vdev->lock);
	return v;
}

static void vp_cfg_write(struct pci_func *f, unsigned int off, unsigned int len, uint32_t val)
{
	struct virtio_pci *vp = vp_of(f);
	struct virtio_dev *vdev = vp->vdev;

	pthread_mutex_lock(&vdev->lock);
	pci_config_write(&f->cfg, off, len, val);
	if (vp->has_msix) {
		pci_msix_update(&vp->msix);	/* enable or function mask may have changed */
		virtio_interrupts_changed(vdev);
	}
	pthread_mutex_unlock(&vdev->lock);
}

/* Queue notify ioeventfds follow the BAR: 2-byte writes of the queue index. */
static int vp_wire_notify(struct virtio_pci *vp, uint64_t base, bool assign)
{
	struct virtio_dev *vdev = vp->vdev;
	int ret = 0;

	for (unsigned int i = 0; i < vdev->nr_queues; i++) {
		if (vdev->notify_wired[i] == assign)
			continue;
		ret = vdev->env.ioeventfd(vdev->env.ctx, base + VP_NOTIFY + VP_NOTIFY_MULT * i, 2, i,
					  vdev->vqs[i].notify_fd, assign);
		if (ret) {
			pr_warn("%s: queue %u notify ioeventfd at 0x%llx: %s", vdev->dev.name, i,
				(unsigned long long)(base + VP_NOTIFY + VP_NOTIFY_MULT * i),
				strerror(-ret));
			continue;	/* the trapped path still kicks the worker */
		}
		vdev->notify_wired[i] = assign;
	}
	return ret;
}

static void vp_bar_moved(struct pci_func *f, unsigned int bar, uint64_t old, uint64_t addr)
{
	struct virtio_pci *vp = vp_of(f);

	if (bar)
		return;
	if (old)
		vp_wire_notify(vp, old, false);
	vp->notify_base = addr;
	if (addr)
		vp_wire_notify(vp, addr, true);
}

static const struct pci_func_ops vp_func_ops = {
	.cfg_read = vp_cfg_read,
	.cfg_write = vp_cfg_write,
	.bar_read = vp_bar_read,
	.bar_write = vp_bar_write,
	.bar_moved = vp_bar_moved,
};

static int vp_add_cap(struct pci_config *c, uint8_t type, uint32_t off, uint32_t len,
		      bool notify)
{
	int cap = pci_config_add_cap(c, PCI_CAP_ID_VNDR, notify ? 20 : 16);

	if (cap < 0)
		return cap;
	c->raw[cap + 2] = notify ? 20 : 16;	/* cap_len */
	c->raw[cap + 3] = type;
	c->raw[cap + 4] = 0;			/* BAR 0 */
	memcpy(&c->raw[cap + 8], &off, 4);
	memcpy(&c->raw[cap + 12], &len, 4);
	if (notify)
		memcpy(&c->raw[cap + 16], &(uint32_t){ VP_NOTIFY_MULT }, 4);
	return 0;
}

static void vp_free(struct device *dev)
{
	struct virtio_dev *vdev = virtio_of(dev);
	struct virtio_pci *vp = vdev->tpriv;

	virtio_core_stop(dev);
	if (vp) {
		if (vp->notify_base)
			vp_wire_notify(vp, vp->notify_base, false);
		if (vp->has_msix)
			pci_msix_free(&vp->msix);
		if (vp->intx_fd >= 0) {
			vdev->env.irqfd(vdev->env.ctx, dev->irq, vp->intx_fd, vp->resample_fd, false);
			close(vp->intx_fd);
		}
		if (vp->resample_fd >= 0)
			close(vp->resample_fd);
		free(vp);
	}
	virtio_core_release(vdev);
	free(vdev);
}

static void vp_stats(struct device *dev, char *buf, unsigned int len)
{
	struct virtio_dev *vdev = virtio_of(dev);
	struct virtio_pci *vp = vdev->tpriv;
	int n;

	n = snprintf(buf, len, "msi_routes=%lu msi_route_errors=%lu ",
		     vp->has_msix ? vp->msix.routes_set : 0,
		     vp->has_msix ? vp->msix.route_errors : 0);
	if (n > 0 && (unsigned int)n < len)
		virtio_core_stats(dev, buf + n, len - n);
}

static void vp_quiesce(struct device *dev)
{
	virtio_core_stop(dev);
}

/* Snapshot keys of the PCI transport, below the device's (VIRTIO_KEY_DEVICE). */
#define VPK_CONFIG	0x800	/* + i: config space bytes 8i..8i+7 */
#define VPK_CONFIG_VEC	0x840
#define VPK_QUEUE_VEC	0x841	/* + queue */
#define VPK_MSIX	0x880	/* + 8 * vector + (addr_lo, addr_hi, data, ctrl, pending) */

static int vp_save(struct device *dev, struct state_writer *w)
{
	struct virtio_dev *vdev = virtio_of(dev);
	struct virtio_pci *vp = vdev->tpriv;

	pthread_mutex_lock(&vdev->lock);
	sw_begin(w, dev->name, 1);
	virtio_core_save(vdev, w);
	for (unsigned int i = 0; i < PCI_CFG_SIZE / 8; i++) {
		uint64_t v;

		memcpy(&v, &vp->func.cfg.raw[8 * i], 8);
		sw_put_u64(w, VPK_CONFIG + i, v);
	}
	sw_put_u64(w, VPK_CONFIG_VEC, vp->config_vector);
	for (unsigned int i = 0; i < vdev->nr_queues; i++)
		sw_put_u64(w, VPK_QUEUE_VEC + i, vp->queue_vector[i]);
	for (unsigned int i = 0; vp->has_msix && i < vp->msix.nr; i++) {
		const struct pci_msix_vec *v = &vp->msix.vec[i];
		uint32_t pba = 0;

		pci_msix_pba_read(&vp->msix, 0, &pba, 4);
		sw_put_u64(w, VPK_MSIX + 8 * i, v->addr_lo);
		sw_put_u64(w, VPK_MSIX + 8 * i + 1, v->addr_hi);
		sw_put_u64(w, VPK_MSIX + 8 * i + 2, v->data);
		sw_put_u64(w, VPK_MSIX + 8 * i + 3, v->ctrl);
		sw_put_u64(w, VPK_MSIX + 8 * i + 4, (pba >> i) & 1);
	}
	sw_end(w);
	pthread_mutex_unlock(&vdev->lock);
	return 0;
}

/*
 * After the core: the config space (only its writable bits: ids, BAR sizes
 * and capabilities stay this build's), vectors and the MSI-X table, then
 * the BARs decode again (ioeventfds) and the MSI routes are rebuilt; a
 * vector pending at the snapshot is pending again.
 */
static int vp_restore(struct device *dev, const struct state_section *s, char *err,
		      unsigned int errlen)
{
	struct virtio_dev *vdev = virtio_of(dev);
	struct virtio_pci *vp = vdev->tpriv;
	struct pci_config *c = &vp->func.cfg;
	uint64_t v;
	int ret;

	ret = virtio_core_restore(vdev, s, err, errlen);
	if (ret)
		return ret;
	pthread_mutex_lock(&vdev->lock);
	for (unsigned int i = 0; i < PCI_CFG_SIZE / 8 && !ret; i++) {
		uint8_t b[8];

		if (!ss_get_u64(s, VPK_CONFIG + i, &v)) {
			ret = -EINVAL;
			break;
		}
		memcpy(b, &v, 8);
		for (unsigned int k = 0; k < 8; k++) {
			unsigned int o = 8 * i + k;

			c->raw[o] = (c->raw[o] & ~c->wmask[o]) | (b[k] & c->wmask[o]);
		}
	}
	if (!ret && ss_get_u64(s, VPK_CONFIG_VEC, &v))
		vp->config_vector = vp_vector(vp, v);
	else
		ret = -EINVAL;
	for (unsigned int i = 0; i < vdev->nr_queues && !ret; i++) {
		if (!ss_get_u64(s, VPK_QUEUE_VEC + i, &v))
			ret = -EINVAL;
		else
			vp->queue_vector[i] = vp_vector(vp, v);
	}
	for (unsigned int i = 0; vp->has_msix && i < vp->msix.nr && !ret; i++) {
		struct pci_msix_vec *mv = &vp->msix.vec[i];
		uint64_t f[5];

		for (unsigned int k = 0; k < 5 && !ret; k++)
			if (!ss_get_u64(s, VPK_MSIX + 8 * i + k, &f[k]) || f[k] > UINT32_MAX)
				ret = -EINVAL;
		if (ret)
			break;
		mv->addr_lo = f[0];
		mv->addr_hi = f[1];
		mv->data = f[2];
		mv->ctrl = f[3] & PCI_MSIX_ENTRY_MASKED;
		if (f[4] && write(mv->fd, &(uint64_t){ 1 }, 8) != 8)
			ret = -errno;
	}
	if (!ret && vp->has_msix)
		pci_msix_update(&vp->msix);
	pthread_mutex_unlock(&vdev->lock);
	if (ret) {
		snprintf(err, errlen, "%s: the snapshot's PCI state is missing or out of range",
			 dev->name);
		return ret;
	}
	pci_host_refresh(vp->host, &vp->func);
	return 0;
}

static const struct device_ops vp_dev_ops = {
	.kind = "virtio-pci",
	.quiesce = vp_quiesce,
	.unquiesce = virtio_core_start,
	.save = vp_save,
	.restore = vp_restore,
	.tracking_changed = virtio_core_tracking_changed,
	.start = virtio_core_start,
	.stop = virtio_core_stop,
	.free = vp_free,
	.stats = vp_stats,
};

int virtio_pci_create(const char *name, struct pci_host *host, const struct virtio_ops *ops,
		      unsigned int nr_queues, uint64_t features, const struct device_env *env, void *priv,
		      struct virtio_dev **out)
{
	struct virtio_dev *vdev = calloc(1, sizeof(*vdev));
	struct virtio_pci *vp = calloc(1, sizeof(*vp));
	struct pci_config *c;
	char err[128];
	int ret;

	if (!vdev || !vp) {
		free(vdev);
		free(vp);
		return -ENOMEM;
	}
	vdev->dev.ops = &vp_dev_ops;
	vdev->tops = &vp_tops;
	vdev->tpriv = vp;
	vp->vdev = vdev;
	vp->host = host;
	vp->intx_fd = vp->resample_fd = -1;
	vp_reset_vectors(vp);
	ret = virtio_core_init(vdev, name, ops, nr_queues, features, env, priv);
	if (ret)
		goto fail;
	/* A name for messages (the device has no MMIO window of its own). */
	vp->func.ops = &vp_func_ops;
	c = &vp->func.cfg;
	/* Class: "other" of each kind is enough for the virtio driver, which binds by id. */
	pci_config_init(c, PCI_VENDOR_REDHAT_QUMRANET, VIRTIO_PCI_DEVICE_BASE + ops->device_id,
			0xff0000, 1, PCI_VENDOR_REDHAT_QUMRANET, ops->device_id);
	ret = pci_config_add_bar(c, 0, VP_BAR_SIZE, false);
	ret = ret ?: vp_add_cap(c, VP_CAP_COMMON, VP_COMMON, VP_COMMON_SIZE, false);
	ret = ret ?: vp_add_cap(c, VP_CAP_ISR, VP_ISR, 4, false);
	ret = ret ?: vp_add_cap(c, VP_CAP_DEVICE, VP_DEVICE, VP_DEVICE_SIZE, false);
	ret = ret ?: vp_add_cap(c, VP_CAP_NOTIFY, VP_NOTIFY, VP_NOTIFY_MULT * vdev->nr_queues,
				true);
	ret = ret ?: pci_host_plug(host, &vp->func, err, sizeof(err));
	if (ret)
		goto fail;
	vdev->dev.irq = vp->func.intx_spi;
	snprintf(vdev->dev.desc, sizeof(vdev->dev.desc), "PCI 00:%02x.0", vp->func.devfn >> 3);
	/* MSI-X only where an MSI can go: to the ITS. */
	if (env->msi_irqfd_add) {
		ret = pci_msix_init(&vp->msix, c, vdev->nr_queues + 1, 0, VP_MSIX_TABLE,
				    VP_MSIX_PBA, &vdev->env);
		if (ret)
			goto fail;
		vp->msix.devid = vp->func.devfn;	/* bus 0 */
		vp->has_msix = true;
	}
	vp->intx_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	vp->resample_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vp->intx_fd < 0 || vp->resample_fd < 0) {
		ret = -errno;
		goto fail;
	}
	ret = env->irqfd(env->ctx, vp->func.intx_spi, vp->intx_fd, vp->resample_fd, true);
	if (ret) {
		close(vp->intx_fd);
		vp->intx_fd = -1;
		goto fail;
	}
	vdev->transport_fd = vp->resample_fd;
	*out = vdev;
	return 0;
fail:
	/* The device-specific part is not set up yet: free only the transport. */
	vdev->ops = &virtio_transport_only_ops;
	vp_free(&vdev->dev);
	return ret;
}
