// SPDX-License-Identifier: GPL-2.0
/*
 * The VFIO platform/AMBA device: a host device found in sysfs (host.c),
 * opened through the VM's containers (container.c), its regions placed in
 * the guest's VFIO window and mapped or trapped (region.c), each of its
 * interrupts an SPI wired by irqfd (irq.c), and its guest device tree node
 * built from the host's. After setup, lvmm's threads take no part in the
 * device's MMIO (mapped regions) or interrupts.
 *
 * While they are created, the devices of one VM share the containers, the
 * guest address window and the phandles; afterwards each holds a reference
 * on the containers, and the last one freed closes them.
 */
#include "vfio.h"
#include "internal.h"
#include "../../util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct vfio_dev {
	struct device dev;	/* no MMIO window of its own: not on the bus */
	struct vfio_containers *cs;
	struct vfio_env env;
	struct vfio_host_dev host;
	const struct vfio_config *cfg;
	int fd;
	uint32_t flags;		/* VFIO_DEVICE_FLAGS_* */
	struct vfio_region regions[VFIO_MAX_REGIONS];
	unsigned int nr_regions;
	struct vfio_irq irqs[VFIO_MAX_IRQS];
	unsigned int nr_irqs;
	struct device *traps[VFIO_MAX_REGIONS]; /* until they are on the device list */
	unsigned int nr_traps, nr_mapped;
	struct vfio_guest_node node;
	unsigned int index;	/* nth --vfio-platform */
};

/* What the devices of one VM share while they are created. */
struct vfio_platform {
	struct vfio_containers *cs;
	struct vfio_window window;
	struct vfio_phandles phandles;
};

static struct vfio_dev *to_vfio(struct device *dev)
{
	return (struct vfio_dev *)dev;
}

static int vfio_dev_start(struct device *dev)
{
	struct vfio_dev *vd = to_vfio(dev);
	char err[256];
	int ret;

	for (unsigned int i = 0; i < vd->nr_irqs; i++) {
		ret = vfio_irq_start(vd->fd, &vd->irqs[i], vd->host.name, err, sizeof(err));
		if (ret) {
			/* ops->start has no message buffer: the detail is said here, once. */
			pr_err("%s", err);
			return ret;
		}
	}
	return 0;
}

static void vfio_dev_stop(struct device *dev)
{
	struct vfio_dev *vd = to_vfio(dev);
	int ret;

	for (unsigned int i = 0; i < vd->nr_irqs; i++) {
		ret = vfio_irq_stop(vd->fd, &vd->irqs[i]);
		if (ret)
			pr_warn("vfio: %s: IRQ %u: turning it off (VFIO_DEVICE_SET_IRQS): %s",
				vd->host.name, i, strerror(-ret));
	}
}

static void vfio_dev_free(struct device *dev)
{
	struct vfio_dev *vd = to_vfio(dev);
	int ret;

	vfio_dev_stop(dev);
	for (unsigned int i = 0; i < vd->nr_irqs; i++) {
		ret = vfio_irq_release(&vd->env.dev, vd->fd, &vd->irqs[i]);
		if (ret)
			pr_warn("vfio: %s: IRQ %u: removing its irqfd: %s", vd->host.name, i,
				strerror(-ret));
	}
	for (unsigned int i = 0; i < vd->nr_regions; i++) {
		ret = vfio_region_release(&vd->env.dev, &vd->regions[i]);
		if (ret)
			pr_warn("vfio: %s: region %u: removing its KVM memory slot: %s",
				vd->host.name, i, strerror(-ret));
	}
	for (unsigned int i = 0; i < vd->nr_traps; i++)
		vd->traps[i]->ops->free(vd->traps[i]);
	if (vd->fd >= 0)
		close(vd->fd);
	vfio_guest_node_free(&vd->node);
	if (vd->cs)
		vfio_containers_put(vd->cs);
	free(vd);
}

static int vfio_dev_fdt(struct device *dev, void *fdt)
{
	return vfio_fdt_nodes(fdt, &to_vfio(dev)->node);
}

static void vfio_dev_stats(struct device *dev, char *buf, unsigned int len)
{
	struct vfio_dev *vd = to_vfio(dev);
	unsigned int level = 0;

	for (unsigned int i = 0; i < vd->nr_irqs; i++)
		level += vd->irqs[i].level;
	snprintf(buf, len, "host=%s regions=%u mapped=%u trapped=%u irqs=%u level=%u",
		 vd->host.name, vd->nr_regions, vd->nr_mapped, vd->nr_regions - vd->nr_mapped,
		 vd->nr_irqs, level);
}

static const struct device_ops vfio_dev_ops = {
	.kind = "vfio",
	.fdt = vfio_dev_fdt,
	.start = vfio_dev_start,
	.stop = vfio_dev_stop,
	.free = vfio_dev_free,
	.stats = vfio_dev_stats,
};

/* What VFIO says the device is: platform or AMBA, with few enough regions and IRQs. */
static int device_check(struct vfio_dev *vd, const struct vfio_device_info *info, char *err,
			size_t errlen)
{
	const char *n = vd->host.name;

	if (!(info->flags & (VFIO_DEVICE_FLAGS_PLATFORM | VFIO_DEVICE_FLAGS_AMBA))) {
		snprintf(err, errlen, "vfio: %s: not a platform or AMBA device (VFIO device flags 0x%x)",
			 n, info->flags);
		return -EINVAL;
	}
	if (info->num_regions > VFIO_MAX_REGIONS || info->num_irqs > VFIO_MAX_IRQS) {
		snprintf(err, errlen, "vfio: %s: has %u regions and %u interrupts; lvmm handles up to %d of each",
			 n, info->num_regions, info->num_irqs, VFIO_MAX_REGIONS);
		return -E2BIG;
	}
	vd->flags = info->flags;
	vd->nr_regions = info->num_regions;
	vd->nr_irqs = info->num_irqs;
	return 0;
}

/* Each region at the next free place of the VFIO window, mapped or trapped. */
static int regions_setup(struct vfio_dev *vd, struct vfio_window *w, char *err, size_t errlen)
{
	uint64_t page = sysconf(_SC_PAGESIZE);
	const char *n = vd->host.name;
	char trap_name[32];
	struct device *trap;
	int ret;

	for (unsigned int i = 0; i < vd->nr_regions; i++) {
		struct vfio_region *r = &vd->regions[i];

		ret = vfio_region_info(vd->fd, i, r, n, err, errlen);
		if (ret)
			return ret;
		/* Whole pages, so that no other device shares a guest page with it. */
		if (vfio_window_alloc(w, ALIGN_UP(r->size, page), &r->gpa)) {
			snprintf(err, errlen, "vfio: %s: region %u (0x%llx bytes) does not fit in the guest's VFIO window 0x%llx-0x%llx (0x%llx bytes left)",
				 n, i, (unsigned long long)r->size, (unsigned long long)w->base,
				 (unsigned long long)w->end - 1,
				 (unsigned long long)(w->end - w->next));
			return -E2BIG;
		}
		vd->node.reg[i][0] = r->gpa;
		vd->node.reg[i][1] = r->size;
		vd->node.nr_regs++;
		if (!r->size)
			continue;
		snprintf(trap_name, sizeof(trap_name), "vfio%u-r%u", vd->index, i);
		ret = vfio_region_setup(&vd->env.dev, vd->fd, i, r, !vd->cfg->no_mmap, n, trap_name,
					&trap, err, errlen);
		if (ret)
			return ret;
		if (trap)
			vd->traps[vd->nr_traps++] = trap;
		else
			vd->nr_mapped++;
	}
	return 0;
}

/* Each interrupt an SPI, wired by irqfd (and resamplefd when level). */
static int irqs_setup(struct vfio_dev *vd, char *err, size_t errlen)
{
	const struct vfio_env *env = &vd->env;
	const char *n = vd->host.name;
	struct vfio_irq_info info;
	int ret;

	for (unsigned int i = 0; i < vd->nr_irqs; i++) {
		struct vfio_irq *irq = &vd->irqs[i];

		ret = vfio_irq_info(vd->fd, i, &info, n, err, errlen);
		if (ret)
			return ret;
		if (info.count != 1 || !(info.flags & VFIO_IRQ_INFO_EVENTFD)) {
			snprintf(err, errlen, "vfio: %s: IRQ %u has %u vectors (flags 0x%x); lvmm wires one eventfd interrupt per index",
				 n, i, info.count, info.flags);
			return -ENOTSUP;
		}
		/*
		 * vfio-platform requests the host interrupt when the device is
		 * opened and reports a failure only on SET_IRQS: ask now (an
		 * idempotent "disable"), not once the VM is about to run.
		 */
		ret = vfio_irq_disable(vd->fd, i);
		if (ret == -EINVAL) {
			snprintf(err, errlen, "vfio: %s: IRQ %u: the host kernel cannot hand out this interrupt (Invalid argument); a host driver that used it as a chained interrupt (as GPIO and interrupt controller drivers do) leaves it so after unbinding: keep that driver from binding at boot (e.g. initcall_blacklist=)",
				 n, i);
			return ret;
		}
		if (ret) {
			snprintf(err, errlen, "vfio: %s: IRQ %u: VFIO_DEVICE_SET_IRQS: %s", n, i,
				 strerror(-ret));
			return ret;
		}
		irq->level = info.flags & VFIO_IRQ_INFO_AUTOMASKED;
		if (irq->level && !(info.flags & VFIO_IRQ_INFO_MASKABLE)) {
			snprintf(err, errlen, "vfio: %s: IRQ %u is level-triggered but cannot be unmasked",
				 n, i);
			return -ENOTSUP;
		}
		irq->intid = env->alloc_spi(env->dev.ctx);
		if (!irq->intid) {
			snprintf(err, errlen, "vfio: %s: IRQ %u: no SPI left", n, i);
			return -ENOSPC;
		}
		ret = vfio_irq_wire(&env->dev, irq, n, err, errlen);
		if (ret)
			return ret;
		vd->node.irqs[i] = (struct vfio_guest_irq){ irq->intid, irq->level };
		vd->node.nr_irqs++;
	}
	if (vd->nr_irqs)
		vd->dev.irq = vd->irqs[0].intid;
	return 0;
}

static int vfio_dev_create(struct vfio_platform *plat, const struct vfio_config *cfg,
			   unsigned int index, const struct vfio_host_dev *hd,
			   const struct vfio_env *env, struct device_list *list, char *err,
			   size_t errlen)
{
	struct vfio_device_info info;
	struct vfio_dev *vd;
	int ret;

	vd = calloc(1, sizeof(*vd));
	if (!vd) {
		snprintf(err, errlen, "vfio: %s: out of memory", hd->name);
		return -ENOMEM;
	}
	vd->dev.ops = &vfio_dev_ops;
	snprintf(vd->dev.name, sizeof(vd->dev.name), "vfio%u", index);
	vd->index = index;
	vd->cs = vfio_containers_get(plat->cs);
	vd->env = *env;
	vd->host = *hd;
	snprintf(vd->dev.desc, sizeof(vd->dev.desc), "passed-through %s", vd->host.name);
	vd->cfg = cfg;
	vd->fd = -1;
	for (unsigned int i = 0; i < VFIO_MAX_IRQS; i++)
		vfio_irq_init(&vd->irqs[i], i, 0);

	ret = vfio_device_open(vd->cs, hd, &vd->fd, &info, err, errlen);
	ret = ret ?: device_check(vd, &info, err, errlen);
	ret = ret ?: regions_setup(vd, &plat->window, err, errlen);
	ret = ret ?: irqs_setup(vd, err, errlen);
	ret = ret ?: vfio_guest_node_build(&vd->node, hd, vd->flags & VFIO_DEVICE_FLAGS_AMBA, cfg,
					   index, &plat->phandles, err, errlen);
	if (ret) {
		vfio_dev_free(&vd->dev);
		return ret;
	}
	/* The device (no MMIO window: on no bus), then its trapped regions. */
	device_list_add(list, &vd->dev);
	for (unsigned int i = 0; i < vd->nr_traps; i++)
		device_list_add(list, vd->traps[i]);
	vd->nr_traps = 0;
	return 0;
}

/* Every device must be ready before any is touched: look them all up first. */
static int lookup_all(const struct vfio_config *cfgs, unsigned int nr, const char *root,
		      struct vfio_host_dev *hds, char *err, size_t errlen)
{
	int ret;

	for (unsigned int i = 0; i < nr; i++) {
		ret = vfio_host_lookup(root, cfgs[i].device, &hds[i], err, errlen);
		if (ret)
			return ret;
		for (unsigned int j = 0; j < i; j++) {
			if (!strcmp(hds[i].path, hds[j].path)) {
				snprintf(err, errlen, "vfio: %s: given twice", hds[i].name);
				return -EINVAL;
			}
		}
	}
	return 0;
}

int vfio_devices_create(const struct vfio_config *cfgs, unsigned int nr,
			const struct vfio_env *env, struct device_list *list)
{
	struct vfio_platform plat = { .phandles.next = env->first_phandle };
	struct vfio_host_dev *hds;
	char err[2 * PATH_MAX];
	int ret;

	if (!nr)
		return 0;
	hds = calloc(nr, sizeof(*hds));
	if (!hds) {
		pr_err("vfio: out of memory");
		return -ENOMEM;
	}
	ret = lookup_all(cfgs, nr, env->root, hds, err, sizeof(err));
	ret = ret ?: vfio_containers_new(env->root, &env->dev.mem, &plat.cs, err, sizeof(err));
	if (!ret) {
		vfio_window_init(&plat.window, env->window_base, env->window_size);
		for (unsigned int i = 0; i < nr && !ret; i++)
			ret = vfio_dev_create(&plat, &cfgs[i], i, &hds[i], env, list, err,
					      sizeof(err));
		vfio_containers_put(plat.cs);
	}
	free(hds);
	if (ret)
		pr_err("%s", err);
	return ret;
}
