// SPDX-License-Identifier: GPL-2.0
/*
 * A generic ECAM host bridge ("pci-host-ecam-generic"), one bus. Config
 * space is bus << 20 | devfn << 12 | register in the ECAM window; the
 * functions' BARs are assigned in the 32-bit window, which the host
 * dispatches by where each BAR decodes now (the guest may move them).
 * INTx: INTA of each slot is its own level SPI (interrupt-map); MSI-X goes
 * to the ITS when the VM has one (msi-map, device id = requester id).
 */
#include "pci.h"
#include "../../state/state.h"
#include "../../board/memmap.h"
#include "../../irq/irq.h"
#include "../../util.h"

#include <errno.h>
#include <libfdt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct pci_host *host_of_ecam(struct device *dev)
{
	return (struct pci_host *)dev;	/* ecam is the first member */
}

static struct pci_host *host_of_mem32(struct device *dev)
{
	return (struct pci_host *)((char *)dev - offsetof(struct pci_host, mem32));
}

static struct pci_host *host_of_mem64(struct device *dev)
{
	return (struct pci_host *)((char *)dev - offsetof(struct pci_host, mem64));
}

static struct pci_func *ecam_func(struct pci_host *h, uint64_t off, unsigned int *reg)
{
	unsigned int bus = off >> 20, devfn = (off >> 12) & 0xff;

	*reg = off & 0xfff;
	/* One bus, single-function devices: function 0 of each slot. */
	if (bus || (devfn & 7) || (devfn >> 3) >= PCI_MAX_SLOTS)
		return NULL;
	return h->slot[devfn >> 3];
}

static bool in_window(uint64_t addr, uint64_t size, uint64_t base, uint64_t wsize)
{
	return addr >= base && size <= wsize && addr - base <= wsize - size;
}

/* After a config write: move the BARs whose decoding changed. */
static void refresh_bars(struct pci_func *f)
{
	for (unsigned int i = 0; i < PCI_NR_BARS; i++) {
		uint64_t now = pci_config_bar_decoded(&f->cfg, i), old = f->decoded[i];

		if (!f->cfg.bar_size[i] || now == old)
			continue;
		/* Outside the windows a BAR decodes nowhere we dispatch. */
		if (now && !in_window(now, f->cfg.bar_size[i], PCI_MMIO32_BASE, PCI_MMIO32_SIZE) &&
		    !in_window(now, f->cfg.bar_size[i], PCI_MMIO64_BASE, PCI_MMIO64_SIZE))
			now = 0;
		if (now == old)
			continue;
		f->decoded[i] = now;
		if (f->ops->bar_moved)
			f->ops->bar_moved(f, i, old, now);
	}
}

static void ecam_read(struct device *dev, uint64_t off, void *data, unsigned int len)
{
	struct pci_host *h = host_of_ecam(dev);
	struct pci_func *f;
	unsigned int reg;
	uint32_t v = 0xffffffff;	/* no function: all ones */

	pthread_mutex_lock(&h->lock);
	f = ecam_func(h, off, &reg);
	if (f)
		v = reg < PCI_CFG_SIZE ? f->ops->cfg_read(f, reg, len) : 0;
	pthread_mutex_unlock(&h->lock);
	if (len <= 4)
		memcpy(data, &v, len);
	else
		memset(data, 0xff, len);
}

static void ecam_write(struct device *dev, uint64_t off, const void *data, unsigned int len)
{
	struct pci_host *h = host_of_ecam(dev);
	struct pci_func *f;
	unsigned int reg;
	uint32_t v = 0;

	if (len > 4)
		return;
	memcpy(&v, data, len);
	pthread_mutex_lock(&h->lock);
	f = ecam_func(h, off, &reg);
	if (f && reg < PCI_CFG_SIZE) {
		f->ops->cfg_write(f, reg, len, v);
		refresh_bars(f);
	}
	pthread_mutex_unlock(&h->lock);
}

/* The function and BAR decoding gpa, with the offset in the BAR. */
static struct pci_func *bar_at(struct pci_host *h, uint64_t gpa, unsigned int len,
			       unsigned int *bar, uint64_t *off)
{
	for (unsigned int s = 0; s < h->nr_slots; s++) {
		struct pci_func *f = h->slot[s];

		for (unsigned int i = 0; f && i < PCI_NR_BARS; i++) {
			uint64_t base = f->decoded[i];

			if (base && gpa >= base && gpa + len <= base + f->cfg.bar_size[i]) {
				*bar = i;
				*off = gpa - base;
				return f;
			}
		}
	}
	return NULL;
}

/* An access to a BAR window (mem32 or mem64), dispatched by where BARs decode now. */
static void window_read(struct pci_host *h, struct device *dev, uint64_t off, void *data,
			unsigned int len)
{
	struct pci_func *f;
	unsigned int bar;
	uint64_t boff;

	memset(data, 0, len);
	pthread_mutex_lock(&h->lock);
	f = bar_at(h, dev->mmio_base + off, len, &bar, &boff);
	if (f)
		f->ops->bar_read(f, bar, boff, data, len);
	pthread_mutex_unlock(&h->lock);
}

static void window_write(struct pci_host *h, struct device *dev, uint64_t off,
			 const void *data, unsigned int len)
{
	struct pci_func *f;
	unsigned int bar;
	uint64_t boff;

	pthread_mutex_lock(&h->lock);
	f = bar_at(h, dev->mmio_base + off, len, &bar, &boff);
	if (f)
		f->ops->bar_write(f, bar, boff, data, len);
	pthread_mutex_unlock(&h->lock);
}

static void mem32_read(struct device *dev, uint64_t off, void *data, unsigned int len)
{
	window_read(host_of_mem32(dev), dev, off, data, len);
}

static void mem32_write(struct device *dev, uint64_t off, const void *data, unsigned int len)
{
	window_write(host_of_mem32(dev), dev, off, data, len);
}

static void mem64_read(struct device *dev, uint64_t off, void *data, unsigned int len)
{
	window_read(host_of_mem64(dev), dev, off, data, len);
}

static void mem64_write(struct device *dev, uint64_t off, const void *data, unsigned int len)
{
	window_write(host_of_mem64(dev), dev, off, data, len);
}

/* A property of n big-endian cells, written in place (any n the FDT has room for). */
static int fdt_cells(void *fdt, const char *name, const uint32_t *cells, unsigned int n)
{
	fdt32_t *be;
	int ret;

	ret = fdt_property_placeholder(fdt, name, n * sizeof(*be), (void **)&be);
	if (ret)
		return ret;
	for (unsigned int i = 0; i < n; i++)
		be[i] = cpu_to_fdt32(cells[i]);
	return 0;
}

static int ecam_fdt(struct device *dev, void *fdt)
{
	struct pci_host *h = host_of_ecam(dev);
	const uint32_t bus_range[] = { 0, 0 };
	const uint32_t ranges[] = {
		/* 32-bit non-prefetchable memory, then 64-bit memory */
		0x02000000, 0, (uint32_t)PCI_MMIO32_BASE, 0, (uint32_t)PCI_MMIO32_BASE,
		0, (uint32_t)PCI_MMIO32_SIZE,
		0x03000000, (uint32_t)(PCI_MMIO64_BASE >> 32), (uint32_t)PCI_MMIO64_BASE,
		(uint32_t)(PCI_MMIO64_BASE >> 32), (uint32_t)PCI_MMIO64_BASE,
		(uint32_t)(PCI_MMIO64_SIZE >> 32), (uint32_t)PCI_MMIO64_SIZE,
	};
	const uint32_t map_mask[] = { 0xf800, 0, 0, 7 };
	const uint32_t msi_map[] = { 0, GIC_ITS_PHANDLE, 0, 0x10000 };
	uint32_t imap[PCI_MAX_SLOTS * 10];
	unsigned int n = 0;
	int ret;

	/* child: devfn << 8, 0, 0, INTA; GIC: 2 address cells, then the SPI, level */
	for (unsigned int s = 0; s < h->nr_slots; s++) {
		const uint32_t e[] = { (uint32_t)(s << 3) << 8, 0, 0, 1, GIC_PHANDLE, 0, 0,
				       0, h->slot[s]->intx_spi - GIC_FIRST_SPI,
				       FDT_IRQ_TYPE_LEVEL_HIGH };

		memcpy(&imap[n], e, sizeof(e));
		n += ARRAY_SIZE(e);
	}
	ret = device_fdt_begin_node(fdt, "pcie", dev->mmio_base);
	ret = ret ?: fdt_property_string(fdt, "compatible", "pci-host-ecam-generic");
	ret = ret ?: fdt_property_string(fdt, "device_type", "pci");
	ret = ret ?: fdt_property_u32(fdt, "#address-cells", 3);
	ret = ret ?: fdt_property_u32(fdt, "#size-cells", 2);
	ret = ret ?: fdt_property_u32(fdt, "#interrupt-cells", 1);
	ret = ret ?: device_fdt_reg(fdt, dev->mmio_base, dev->mmio_size);
	ret = ret ?: fdt_cells(fdt, "bus-range", bus_range, ARRAY_SIZE(bus_range));
	ret = ret ?: fdt_cells(fdt, "ranges", ranges, ARRAY_SIZE(ranges));
	ret = ret ?: fdt_cells(fdt, "interrupt-map-mask", map_mask, ARRAY_SIZE(map_mask));
	if (n)
		ret = ret ?: fdt_cells(fdt, "interrupt-map", imap, n);
	if (h->msi)
		ret = ret ?: fdt_cells(fdt, "msi-map", msi_map, ARRAY_SIZE(msi_map));
	ret = ret ?: fdt_property(fdt, "dma-coherent", NULL, 0);
	ret = ret ?: fdt_end_node(fdt);
	return ret ? -ENOSPC : 0;
}

static void ecam_free(struct device *dev)
{
	struct pci_host *h = host_of_ecam(dev);

	pthread_mutex_destroy(&h->lock);
	free(h);
}

/* A window goes with the host (ecam_free): nothing of its own. */
static void window_free(struct device *dev)
{
	(void)dev;
}

/*
 * The host bridge holds no state of its own: where BARs decode lives in
 * each function's config space, which the function saves. It writes an
 * empty section so a snapshot lists it (restore wants one per device).
 */
static int host_save(struct device *dev, struct state_writer *w)
{
	sw_begin(w, dev->name, 1);
	sw_end(w);
	return 0;
}

static int host_restore(struct device *dev, const struct state_section *s, char *err,
			unsigned int errlen)
{
	return 0;
}

static const struct device_ops ecam_ops = {
	.kind = "pci-host-ecam",
	.mmio_read = ecam_read,
	.mmio_write = ecam_write,
	.fdt = ecam_fdt,
	.free = ecam_free,
	.save = host_save,
	.restore = host_restore,
};

static const struct device_ops mem32_ops = {
	.kind = "pci-mmio32",
	.mmio_read = mem32_read,
	.mmio_write = mem32_write,
	.free = window_free,
	.save = host_save,
	.restore = host_restore,
};

/* Added after virtio-pci snapshots existed: those restore without its section. */
static const struct device_ops mem64_ops = {
	.kind = "pci-mmio64",
	.stateless = true,
	.mmio_read = mem64_read,
	.mmio_write = mem64_write,
	.free = window_free,
	.save = host_save,
	.restore = host_restore,
};

int pci_host_create(bool msi, unsigned int (*alloc_spi)(void *ctx), void *spi_ctx,
		    struct pci_host **out)
{
	struct pci_host *h = calloc(1, sizeof(*h));

	if (!h)
		return -ENOMEM;
	h->ecam.ops = &ecam_ops;
	snprintf(h->ecam.name, sizeof(h->ecam.name), "pci-host");
	h->ecam.mmio_base = PCI_ECAM_BASE;
	h->ecam.mmio_size = PCI_ECAM_SIZE;
	h->mem32.ops = &mem32_ops;
	snprintf(h->mem32.name, sizeof(h->mem32.name), "pci-mmio32");
	h->mem32.mmio_base = PCI_MMIO32_BASE;
	h->mem32.mmio_size = PCI_MMIO32_SIZE;
	h->mem64.ops = &mem64_ops;
	snprintf(h->mem64.name, sizeof(h->mem64.name), "pci-mmio64");
	h->mem64.mmio_base = PCI_MMIO64_BASE;
	h->mem64.mmio_size = PCI_MMIO64_SIZE;
	pthread_mutex_init(&h->lock, NULL);
	h->next_mem32 = PCI_MMIO32_BASE;
	h->msi = msi;
	h->alloc_spi = alloc_spi;
	h->spi_ctx = spi_ctx;
	*out = h;
	return 0;
}

int pci_host_plug(struct pci_host *h, struct pci_func *f, char *err, size_t errlen)
{
	uint64_t next = h->next_mem32;

	if (h->nr_slots == PCI_MAX_SLOTS) {
		snprintf(err, errlen, "PCI bus 0 is full (%u slots)", PCI_MAX_SLOTS);
		return -ENOSPC;
	}
	for (unsigned int i = 0; i < PCI_NR_BARS; i++) {
		uint64_t size = f->cfg.bar_size[i];

		if (!size)
			continue;
		next = ALIGN_UP(next, size);
		if (next + size > PCI_MMIO32_BASE + PCI_MMIO32_SIZE) {
			snprintf(err, errlen, "the PCI 32-bit window (%llu MiB) is full",
				 (unsigned long long)(PCI_MMIO32_SIZE >> 20));
			return -ENOSPC;
		}
		pci_config_set_bar_addr(&f->cfg, i, next);
		next += size;
	}
	f->intx_spi = h->alloc_spi(h->spi_ctx);
	if (!f->intx_spi) {
		snprintf(err, errlen, "no SPI left for the INTx of PCI slot %u", h->nr_slots);
		return -ENOSPC;
	}
	f->devfn = h->nr_slots << 3;
	f->cfg.raw[PCI_INTERRUPT_PIN] = 1;	/* INTA */
	f->cfg.raw[PCI_INTERRUPT_LINE] = f->intx_spi - GIC_FIRST_SPI;
	h->next_mem32 = next;
	h->slot[h->nr_slots++] = f;
	return 0;
}

void pci_host_unplug(struct pci_host *h, struct pci_func *f)
{
	if (h->nr_slots && h->slot[h->nr_slots - 1] == f)
		h->slot[--h->nr_slots] = NULL;
}

void pci_host_refresh(struct pci_host *h, struct pci_func *f)
{
	pthread_mutex_lock(&h->lock);
	refresh_bars(f);
	pthread_mutex_unlock(&h->lock);
}
