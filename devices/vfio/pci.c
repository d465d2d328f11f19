// SPDX-License-Identifier: GPL-2.0
/*
 * VFIO-PCI: a host PCI function bound to vfio-pci, behind an IOMMU, given
 * to the guest as a function on lvmm's PCI host. Guest RAM is mapped for
 * the device's DMA (container.c); its BARs are mmapped into KVM memory
 * slots wherever the guest puts them, all but the pages of the MSI-X table
 * and PBA, which lvmm emulates; its config space is the device's with the
 * parts a VMM must own emulated (pci_cfg.c). Interrupts never pass through
 * lvmm: each MSI-X vector's eventfd, which VFIO signals, is an irqfd on an
 * MSI route to the ITS (pci/msix.c, as for virtio-pci), and INTx is a
 * level SPI with VFIO's unmask wired to KVM's resamplefd (irq.c).
 *
 * Every access the guest traps to (config space, the MSI-X pages) comes
 * through the PCI host, under its lock.
 */
#include "vfio.h"
#include "internal.h"
#include "pci_cfg.h"
#include "../pci/pci.h"
#include "../../util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

/* A part of a BAR mmapped from VFIO, in a KVM memory slot while the BAR decodes. */
struct bar_chunk {
	uint64_t off, size;	/* in the BAR */
	void *map;
	bool slot;
};

struct vfio_pci_bar {
	struct vfio_region region;
	struct bar_chunk chunk[2];	/* before and after the MSI-X pages */
	unsigned int nr_chunks;
	uint64_t gpa;			/* where it decodes now, 0: nowhere */
};

struct vfio_pci_dev {
	struct device dev;	/* not on the MMIO bus: the PCI host dispatches */
	struct pci_func func;
	struct vfio_containers *cs;
	struct device_env env;
	struct vfio_host_dev host;
	int fd;
	uint32_t flags;		/* VFIO_DEVICE_FLAGS_* */
	uint64_t cfg_offset;	/* of the config region in the device fd */
	struct vfio_pci_layout lay;
	struct vfio_pci_bar bars[PCI_NR_BARS];
	struct pci_msix msix;
	bool msix_on;		/* VFIO has the vectors' eventfds */
	struct vfio_irq intx;
	bool has_intx;
	bool started;
	unsigned long slot_errors, irq_errors, cfg_errors, msix_enables;
};

static struct vfio_pci_dev *of_func(struct pci_func *f)
{
	return (struct vfio_pci_dev *)((char *)f - offsetof(struct vfio_pci_dev, func));
}

static struct vfio_pci_dev *of_dev(struct device *dev)
{
	return (struct vfio_pci_dev *)dev;
}

/* ---- config space --------------------------------------------------------- */

static uint32_t cfg_read(struct pci_func *f, unsigned int off, unsigned int len)
{
	struct vfio_pci_dev *vd = of_func(f);
	uint32_t dev = 0, emu;

	if (!vfio_pci_cfg_access_ok(off, len))
		return 0xffffffff;
	emu = pci_config_read(&f->cfg, off, len);
	if (vfio_pci_cfg_emulated(&vd->lay, off, len) == (1U << len) - 1)
		return emu;
	if (pread(vd->fd, &dev, len, vd->cfg_offset + off) != (ssize_t)len)
		dev = 0xffffffff;
	return vfio_pci_cfg_merge(&vd->lay, off, len, emu, dev);
}

/*
 * MSI-X turned on or off by the guest: VFIO takes the vectors' eventfds (INTx
 * off first: VFIO has one interrupt type at a time) or gives them back.
 */
static void msix_switch(struct vfio_pci_dev *vd, bool on)
{
	char buf[sizeof(struct vfio_irq_set) + PCI_MSIX_MAX_VECTORS * sizeof(int32_t)]
		__attribute__((aligned(8)));
	struct vfio_irq_set *set = (struct vfio_irq_set *)buf;
	char err[256];
	int32_t fds[PCI_MSIX_MAX_VECTORS];

	if (on == vd->msix_on)
		return;
	if (!on) {
		if (vfio_irq_disable(vd->fd, VFIO_PCI_MSIX_IRQ_INDEX))
			vd->irq_errors++;
		vd->msix_on = false;
		if (vd->has_intx && vd->started &&
		    vfio_irq_start(vd->fd, &vd->intx, vd->host.name, err, sizeof(err))) {
			pr_warn("%s", err);
			vd->irq_errors++;
		}
		return;
	}
	if (vd->has_intx && vfio_irq_stop(vd->fd, &vd->intx))
		vd->irq_errors++;
	for (unsigned int i = 0; i < vd->msix.nr; i++)
		fds[i] = vd->msix.vec[i].fd;
	set->argsz = sizeof(*set) + vd->msix.nr * sizeof(int32_t);
	set->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
	set->index = VFIO_PCI_MSIX_IRQ_INDEX;
	set->start = 0;
	set->count = vd->msix.nr;
	memcpy(set->data, fds, vd->msix.nr * sizeof(int32_t));
	if (ioctl(vd->fd, VFIO_DEVICE_SET_IRQS, set) < 0) {
		pr_warn("vfio: %s: enabling MSI-X (%u vectors, VFIO_DEVICE_SET_IRQS): %s",
			vd->host.name, vd->msix.nr, strerror(errno));
		vd->irq_errors++;
		return;
	}
	vd->msix_on = true;
	vd->msix_enables++;
}

/* Bytes the device owns go to it; lvmm's are written to the guest's copy. */
static void cfg_write(struct pci_func *f, unsigned int off, unsigned int len, uint32_t val)
{
	struct vfio_pci_dev *vd = of_func(f);
	unsigned int mask;

	if (!vfio_pci_cfg_access_ok(off, len))
		return;
	mask = vfio_pci_cfg_emulated(&vd->lay, off, len);
	pci_config_write(&f->cfg, off, len, val);
	if (!mask) {
		if (pwrite(vd->fd, &val, len, vd->cfg_offset + off) != (ssize_t)len)
			vd->cfg_errors++;
	} else {
		for (unsigned int i = 0; i < len; i++) {
			uint8_t b = val >> (8 * i);

			if (!(mask & (1U << i)) &&
			    pwrite(vd->fd, &b, 1, vd->cfg_offset + off + i) != 1)
				vd->cfg_errors++;
		}
	}
	/* Memory decode and bus mastering are the device's too (VFIO filters the rest). */
	if (vfio_pci_cfg_hits_command(off, len)) {
		uint16_t cmd = pci_config_command(&f->cfg) &
			       (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE);

		if (pwrite(vd->fd, &cmd, 2, vd->cfg_offset + PCI_COMMAND) != 2)
			vd->cfg_errors++;
	}
	if (vfio_pci_cfg_hits_msix_ctrl(&vd->lay, off, len)) {
		msix_switch(vd, pci_msix_enabled(&vd->msix));
		pci_msix_update(&vd->msix);
	}
}

/* ---- BARs ----------------------------------------------------------------- */

/* A trapped access: the MSI-X table and PBA are lvmm's, the rest the device's. */
static void bar_read(struct pci_func *f, unsigned int bar, uint64_t off, void *data,
		     unsigned int len)
{
	struct vfio_pci_dev *vd = of_func(f);
	const struct vfio_region *r = &vd->bars[bar].region;

	memset(data, 0, len);
	switch (vfio_pci_bar_part(&vd->lay, bar, off)) {
	case VFIO_PCI_BAR_MSIX_TABLE:
		pci_msix_table_read(&vd->msix, off - vd->lay.msix_table_off, data, len);
		break;
	case VFIO_PCI_BAR_MSIX_PBA:
		pci_msix_pba_read(&vd->msix, off - vd->lay.msix_pba_off, data, len);
		break;
	case VFIO_PCI_BAR_DEVICE:
		if (off + len <= r->size &&
		    pread(vd->fd, data, len, r->offset + off) != (ssize_t)len)
			memset(data, 0xff, len);
		break;
	}
}

static void bar_write(struct pci_func *f, unsigned int bar, uint64_t off, const void *data,
		      unsigned int len)
{
	struct vfio_pci_dev *vd = of_func(f);
	const struct vfio_region *r = &vd->bars[bar].region;

	switch (vfio_pci_bar_part(&vd->lay, bar, off)) {
	case VFIO_PCI_BAR_MSIX_TABLE:
		pci_msix_table_write(&vd->msix, off - vd->lay.msix_table_off, data, len);
		break;
	case VFIO_PCI_BAR_MSIX_PBA:
		break;		/* read-only */
	case VFIO_PCI_BAR_DEVICE:
		if (off + len <= r->size &&
		    pwrite(vd->fd, data, len, r->offset + off) != (ssize_t)len)
			vd->cfg_errors++;
		break;
	}
}

/* The mapped parts of the BAR follow it: out of the old place, into the new. */
static void bar_moved(struct pci_func *f, unsigned int bar, uint64_t old, uint64_t addr)
{
	struct vfio_pci_dev *vd = of_func(f);
	struct vfio_pci_bar *b = &vd->bars[bar];

	for (unsigned int i = 0; i < b->nr_chunks; i++) {
		struct bar_chunk *c = &b->chunk[i];

		if (c->slot && vd->env.map_mmio(vd->env.ctx, old + c->off, c->size, NULL))
			vd->slot_errors++;
		c->slot = false;
		if (!addr)
			continue;
		if (vd->env.map_mmio(vd->env.ctx, addr + c->off, c->size, c->map)) {
			/* Left unmapped, the accesses trap and are forwarded. */
			vd->slot_errors++;
			continue;
		}
		c->slot = true;
	}
	b->gpa = addr;
}

static const struct pci_func_ops vfio_pci_func_ops = {
	.cfg_read = cfg_read,
	.cfg_write = cfg_write,
	.bar_read = bar_read,
	.bar_write = bar_write,
	.bar_moved = bar_moved,
};

/* mmap [off, off + size) of BAR bar: a chunk the guest reaches with no exit. */
static void chunk_map(struct vfio_pci_dev *vd, struct vfio_pci_bar *b, uint64_t off,
		      uint64_t size)
{
	void *map;

	if (!size)
		return;
	map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, vd->fd, b->region.offset + off);
	if (map == MAP_FAILED)
		return;		/* VFIO keeps it (sparse mmap): trapped */
	b->chunk[b->nr_chunks++] = (struct bar_chunk){ .off = off, .size = size, .map = map };
}

/* The BAR regions as VFIO describes them. */
static int bars_setup(struct vfio_pci_dev *vd, uint64_t *sizes, char *err, size_t errlen)
{
	int ret;

	for (unsigned int i = 0; i < PCI_NR_BARS; i++) {
		ret = vfio_region_info(vd->fd, VFIO_PCI_BAR0_REGION_INDEX + i, &vd->bars[i].region,
				       vd->host.name, err, errlen);
		if (ret)
			return ret;
		sizes[i] = vd->bars[i].region.size;
	}
	return 0;
}

/* Each memory BAR mmapped where VFIO allows, but for the MSI-X pages. */
static void bars_map(struct vfio_pci_dev *vd)
{
	uint64_t page = sysconf(_SC_PAGESIZE);

	for (unsigned int i = 0; i < PCI_NR_BARS; i++) {
		struct vfio_pci_bar *b = &vd->bars[i];
		uint64_t size = b->region.size, t0, t1;

		if (!vd->func.cfg.bar_size[i] || !(b->region.flags & VFIO_REGION_INFO_FLAG_MMAP) ||
		    !IS_ALIGNED(size, page) || !IS_ALIGNED(b->region.offset, page))
			continue;
		if (vfio_pci_msix_trap_range(&vd->lay, i, page, &t0, &t1)) {
			chunk_map(vd, b, 0, t0);
			chunk_map(vd, b, t1, t1 < size ? size - t1 : 0);
		} else {
			chunk_map(vd, b, 0, size);
		}
	}
}

/* ---- interrupts ----------------------------------------------------------- */

static int irqs_setup(struct vfio_pci_dev *vd, char *err, size_t errlen)
{
	struct vfio_irq_info info;
	const char *n = vd->host.name;
	int ret;

	if (vd->lay.msix_cap) {
		ret = vfio_irq_info(vd->fd, VFIO_PCI_MSIX_IRQ_INDEX, &info, n, err, errlen);
		if (ret)
			return ret;
		if (!(info.flags & VFIO_IRQ_INFO_EVENTFD) || info.count < vd->lay.msix_nr) {
			snprintf(err, errlen, "vfio: %s: VFIO offers %u MSI-X vectors (flags 0x%x), the device's table has %u",
				 n, info.count, info.flags, vd->lay.msix_hw_nr);
			return -ENOTSUP;
		}
		ret = pci_msix_init_at(&vd->msix, &vd->func.cfg, vd->lay.msix_cap, vd->lay.msix_nr,
				       vd->lay.msix_bar, vd->lay.msix_table_off,
				       vd->lay.msix_pba_off, &vd->env);
		if (ret) {
			snprintf(err, errlen, "vfio: %s: MSI-X: %s", n, strerror(-ret));
			return ret;
		}
		vd->msix.devid = vd->func.devfn;	/* bus 0: the requester id */
	}
	if (!vd->lay.intx_pin)
		return 0;
	ret = vfio_irq_info(vd->fd, VFIO_PCI_INTX_IRQ_INDEX, &info, n, err, errlen);
	if (ret)
		return ret;
	if (!info.count)
		return 0;	/* VFIO found the pin unusable */
	vd->intx.level = true;
	vd->intx.intid = vd->func.intx_spi;
	ret = vfio_irq_wire(&vd->env, &vd->intx, n, err, errlen);
	if (ret)
		return ret;
	vd->has_intx = true;
	vd->dev.irq = vd->intx.intid;
	return 0;
}

/* ---- the device ----------------------------------------------------------- */

static void device_reset(struct vfio_pci_dev *vd)
{
	if ((vd->flags & VFIO_DEVICE_FLAGS_RESET) && ioctl(vd->fd, VFIO_DEVICE_RESET) < 0)
		pr_warn("vfio: %s: VFIO_DEVICE_RESET: %s", vd->host.name, strerror(errno));
}

static int vfio_pci_start(struct device *dev)
{
	struct vfio_pci_dev *vd = of_dev(dev);
	char err[256];
	int ret;

	vd->started = true;
	if (!vd->has_intx || vd->msix_on)
		return 0;
	ret = vfio_irq_start(vd->fd, &vd->intx, vd->host.name, err, sizeof(err));
	if (ret)
		pr_err("%s", err);
	return ret;
}

static void vfio_pci_stop(struct device *dev)
{
	struct vfio_pci_dev *vd = of_dev(dev);

	if (vd->msix_on && vfio_irq_disable(vd->fd, VFIO_PCI_MSIX_IRQ_INDEX))
		pr_warn("vfio: %s: turning MSI-X off: %s", vd->host.name, strerror(errno));
	vd->msix_on = false;
	if (vd->has_intx && vfio_irq_stop(vd->fd, &vd->intx))
		pr_warn("vfio: %s: turning INTx off", vd->host.name);
	vd->started = false;
}

static void vfio_pci_free(struct device *dev)
{
	struct vfio_pci_dev *vd = of_dev(dev);

	if (vd->fd >= 0)
		vfio_pci_stop(dev);
	pci_msix_free(&vd->msix);
	if (vd->has_intx)
		vfio_irq_release(&vd->env, vd->fd, &vd->intx);
	for (unsigned int i = 0; i < PCI_NR_BARS; i++) {
		struct vfio_pci_bar *b = &vd->bars[i];

		for (unsigned int c = 0; c < b->nr_chunks; c++) {
			if (b->chunk[c].slot)
				vd->env.map_mmio(vd->env.ctx, b->gpa + b->chunk[c].off,
						 b->chunk[c].size, NULL);
			munmap(b->chunk[c].map, b->chunk[c].size);
		}
	}
	if (vd->fd >= 0) {
		/* The device leaves as it came: nothing of the guest's left in it. */
		device_reset(vd);
		close(vd->fd);
	}
	if (vd->cs)
		vfio_containers_put(vd->cs);
	free(vd);
}

static void vfio_pci_stats(struct device *dev, char *buf, unsigned int len)
{
	struct vfio_pci_dev *vd = of_dev(dev);
	unsigned int mapped = 0;

	for (unsigned int i = 0; i < PCI_NR_BARS; i++)
		mapped += vd->bars[i].nr_chunks;
	snprintf(buf, len, "host=%s mapped_chunks=%u msix_vectors=%u msix_enables=%lu msi_routes=%lu msi_route_errors=%lu intx=%s slot_errors=%lu irq_errors=%lu io_errors=%lu",
		 vd->host.name, mapped, vd->lay.msix_cap ? vd->msix.nr : 0, vd->msix_enables,
		 vd->msix.routes_set, vd->msix.route_errors, vd->has_intx ? "yes" : "no",
		 vd->slot_errors, vd->irq_errors, vd->cfg_errors);
}

static const struct device_ops vfio_pci_ops = {
	.kind = "vfio-pci",
	.start = vfio_pci_start,
	.stop = vfio_pci_stop,
	.free = vfio_pci_free,
	.stats = vfio_pci_stats,
};

/* The device's config space as VFIO gives it, and the guest's view of it. */
static int config_setup(struct vfio_pci_dev *vd, const uint64_t *sizes, bool msix, char *err,
			size_t errlen)
{
	struct vfio_region r;
	uint8_t real[PCI_CFG_SIZE];
	char why[256];
	int ret;

	ret = vfio_region_info(vd->fd, VFIO_PCI_CONFIG_REGION_INDEX, &r, vd->host.name, err,
			       errlen);
	if (ret)
		return ret;
	vd->cfg_offset = r.offset;
	if (pread(vd->fd, real, sizeof(real), r.offset) != sizeof(real)) {
		ret = -errno ?: -EIO;
		snprintf(err, errlen, "vfio: %s: reading its config space: %s", vd->host.name,
			 strerror(-ret));
		return ret;
	}
	ret = vfio_pci_layout_build(real, sizes, msix, &vd->func.cfg, &vd->lay, why, sizeof(why));
	if (ret)
		snprintf(err, errlen, "vfio: %s: %s", vd->host.name, why);
	return ret;
}

static int vfio_pci_create(struct vfio_containers *cs, const struct vfio_host_dev *hd,
			   unsigned int index, const struct device_env *env, struct pci_host *host,
			   struct device_list *list, char *err, size_t errlen)
{
	uint64_t sizes[PCI_NR_BARS];
	struct vfio_device_info info;
	struct vfio_pci_dev *vd;
	bool plugged = false;
	char why[256];
	int ret;

	vd = calloc(1, sizeof(*vd));
	if (!vd) {
		snprintf(err, errlen, "vfio: %s: out of memory", hd->name);
		return -ENOMEM;
	}
	vd->dev.ops = &vfio_pci_ops;
	snprintf(vd->dev.name, sizeof(vd->dev.name), "vfio-pci%u", index);
	vd->cs = vfio_containers_get(cs);
	vd->env = *env;
	vd->host = *hd;
	snprintf(vd->dev.desc, sizeof(vd->dev.desc), "passed-through PCI %s", hd->name);
	vd->fd = -1;
	vd->func.ops = &vfio_pci_func_ops;
	for (unsigned int i = 0; i < PCI_MSIX_MAX_VECTORS; i++)
		vd->msix.vec[i].fd = -1;
	vfio_irq_init(&vd->intx, VFIO_PCI_INTX_IRQ_INDEX, 0);

	ret = vfio_device_open(cs, hd, &vd->fd, &info, err, errlen);
	if (!ret && !(info.flags & VFIO_DEVICE_FLAGS_PCI)) {
		snprintf(err, errlen, "vfio: %s: VFIO does not see a PCI device (flags 0x%x)",
			 hd->name, info.flags);
		ret = -EINVAL;
	}
	if (!ret) {
		vd->flags = info.flags;
		/* Whatever the host or a last user left in it goes first. */
		device_reset(vd);
	}
	ret = ret ?: bars_setup(vd, sizes, err, errlen);
	ret = ret ?: config_setup(vd, sizes, env->msi_irqfd_add != NULL, err, errlen);
	if (!ret) {
		ret = pci_host_plug(host, &vd->func, why, sizeof(why));
		if (ret)
			snprintf(err, errlen, "vfio: %s: %s", hd->name, why);
		plugged = !ret;
	}
	if (!ret) {
		/* The host gave INTA its SPI; a device without INTx shows no pin. */
		vd->func.cfg.raw[PCI_INTERRUPT_PIN] = vd->lay.intx_pin ? 1 : 0;
		bars_map(vd);
		ret = irqs_setup(vd, err, errlen);
	}
	if (ret) {
		if (plugged)
			pci_host_unplug(host, &vd->func);
		vfio_pci_free(&vd->dev);
		return ret;
	}
	device_list_add(list, &vd->dev);
	return 0;
}

int vfio_pci_devices_create(const struct vfio_pci_config *cfgs, unsigned int nr,
			    const struct vfio_env *env, struct pci_host *host,
			    struct device_list *list)
{
	struct vfio_host_dev *hds;
	struct vfio_containers *cs = NULL;
	char err[2 * PATH_MAX];
	int ret = 0;

	if (!nr)
		return 0;
	hds = calloc(nr, sizeof(*hds));
	if (!hds) {
		pr_err("vfio: out of memory");
		return -ENOMEM;
	}
	/* Every device must be ready before any is touched: look them all up first. */
	for (unsigned int i = 0; i < nr && !ret; i++)
		ret = vfio_host_lookup_pci(env->root, cfgs[i].addr, &hds[i], err, sizeof(err));
	ret = ret ?: vfio_containers_new(env->root, &env->dev.mem, &cs, err, sizeof(err));
	for (unsigned int i = 0; i < nr && !ret; i++)
		ret = vfio_pci_create(cs, &hds[i], i, &env->dev, host, list, err, sizeof(err));
	if (cs)
		vfio_containers_put(cs);
	free(hds);
	if (ret)
		pr_err("%s", err);
	return ret;
}
