// SPDX-License-Identifier: GPL-2.0
/*
 * PCI: config space (BAR sizing, capability list, command register), the
 * MSI-X table with its routes, ECAM decoding by the host, and virtio-pci's
 * common configuration, driven as a guest would through the host's windows.
 */
#include "test.h"
#include "../../devices/pci/pci.h"
#include "../../board/memmap.h"
#include "../../devices/virtio/virtio.h"
#include "../../util.h"

#include <errno.h>
#include <libfdt.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* What the devices asked of the VM: ioeventfds and MSI routes. */
struct rec {
	unsigned int ioeventfds;	/* assigned now */
	uint64_t last_ioeventfd_gpa;
	unsigned int msi_routes;	/* live now */
	unsigned int msi_adds, msi_removes;
	uint64_t last_addr;
	uint32_t last_data, last_devid;
	uint32_t next_gsi;
	unsigned int spi;
};

static int rec_ioeventfd(void *ctx, uint64_t gpa, unsigned int len, uint64_t datamatch, int fd,
			 bool assign)
{
	struct rec *r = ctx;

	r->ioeventfds += assign ? 1 : -1;
	r->last_ioeventfd_gpa = gpa;
	return 0;
}

static int rec_irqfd(void *ctx, unsigned int intid, int fd, int resample_fd, bool assign)
{
	return 0;
}

static int rec_msi_add(void *ctx, uint64_t addr, uint32_t data, uint32_t devid, int fd,
		       uint32_t *gsi)
{
	struct rec *r = ctx;

	r->msi_routes++;
	r->msi_adds++;
	r->last_addr = addr;
	r->last_data = data;
	r->last_devid = devid;
	*gsi = 1024 + r->next_gsi++;
	return 0;
}

static int rec_msi_remove(void *ctx, uint32_t gsi, int fd)
{
	struct rec *r = ctx;

	r->msi_routes--;
	r->msi_removes++;
	return 0;
}

static unsigned int rec_alloc_spi(void *ctx)
{
	struct rec *r = ctx;

	return r->spi++;
}

TEST(pci_config_bar_sizing)
{
	struct pci_config c;

	pci_config_init(&c, 0x1af4, 0x1044, 0xff0000, 1, 0x1af4, 4);
	CHECK_EQ_INT(pci_config_add_bar(&c, 0, 0x4000, false), 0);
	CHECK_EQ_INT(pci_config_add_bar(&c, 2, 0x100000, true), 0);
	CHECK_EQ_INT(pci_config_add_bar(&c, 5, 0x1000, true), -EINVAL);	/* no BAR 6 */
	CHECK_EQ_INT(pci_config_add_bar(&c, 1, 0x3000, false), -EINVAL);	/* not 2^n */
	pci_config_set_bar_addr(&c, 0, 0x0c000000);
	/* The sizing protocol: all ones in, ~(size - 1) and the flags out. */
	pci_config_write(&c, PCI_BAR0, 4, 0xffffffff);
	CHECK_EQ_U64(pci_config_read(&c, PCI_BAR0, 4), 0xffffc000);
	pci_config_write(&c, PCI_BAR0 + 8, 4, 0xffffffff);
	pci_config_write(&c, PCI_BAR0 + 12, 4, 0xffffffff);
	CHECK_EQ_U64(pci_config_read(&c, PCI_BAR0 + 8, 4), 0xfff00000 | PCI_BAR_MEM_64);
	CHECK_EQ_U64(pci_config_read(&c, PCI_BAR0 + 12, 4), 0xffffffff);
	/* An unimplemented BAR reads 0 whatever is written. */
	pci_config_write(&c, PCI_BAR0 + 4, 4, 0xffffffff);
	CHECK_EQ_U64(pci_config_read(&c, PCI_BAR0 + 4, 4), 0);
	/* Back to an address; it decodes only with memory decode on. */
	pci_config_write(&c, PCI_BAR0, 4, 0x0c004000);
	CHECK_EQ_U64(pci_config_bar_addr(&c, 0), 0x0c004000);
	CHECK_EQ_U64(pci_config_bar_decoded(&c, 0), 0);
	pci_config_write(&c, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	CHECK_EQ_U64(pci_config_bar_decoded(&c, 0), 0x0c004000);
	pci_config_write(&c, PCI_BAR0 + 8, 4, 0x00200000);
	pci_config_write(&c, PCI_BAR0 + 12, 4, 0x80);
	CHECK_EQ_U64(pci_config_bar_addr(&c, 2), 0x8000200000ULL);
	/* The sizing pattern is not a place to decode at. */
	pci_config_write(&c, PCI_BAR0, 4, 0xffffffff);
	CHECK_EQ_U64(pci_config_bar_decoded(&c, 0), 0);
}

TEST(pci_config_command_and_readonly)
{
	struct pci_config c;

	pci_config_init(&c, 0x1af4, 0x1042, 0x018000, 1, 0x1af4, 2);
	/* Only memory, master and INTx disable stick; no I/O space. */
	pci_config_write(&c, PCI_COMMAND, 2, 0xffff);
	CHECK_EQ_U64(pci_config_read(&c, PCI_COMMAND, 2),
		     PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE);
	/* IDs, class, header type, pin: read-only. */
	pci_config_write(&c, PCI_VENDOR_ID, 4, 0);
	CHECK_EQ_U64(pci_config_read(&c, PCI_VENDOR_ID, 4), 0x10421af4);
	pci_config_write(&c, 0x08, 4, 0);
	CHECK_EQ_U64(pci_config_read(&c, 0x08, 4), 0x01800001);
	pci_config_write(&c, PCI_INTERRUPT_LINE, 1, 0x2a);
	CHECK_EQ_U64(pci_config_read(&c, PCI_INTERRUPT_LINE, 1), 0x2a);
	/* Misaligned or odd sizes: all ones, and writes vanish. */
	CHECK_EQ_U64(pci_config_read(&c, 0x01, 2), 0xffffffff);
	CHECK_EQ_U64(pci_config_read(&c, 0xfe, 4), 0xffffffff);
	pci_config_write(&c, PCI_COMMAND + 1, 2, 0);
	CHECK_EQ_U64(pci_config_read(&c, PCI_COMMAND, 2) & PCI_COMMAND_MEMORY, PCI_COMMAND_MEMORY);
}

TEST(pci_config_capability_walk)
{
	struct pci_config c;
	unsigned int ids[8], n = 0;
	int a, b;

	pci_config_init(&c, 1, 2, 0, 0, 0, 0);
	CHECK_EQ_U64(pci_config_read(&c, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST, 0);
	a = pci_config_add_cap(&c, PCI_CAP_ID_VNDR, 16);
	b = pci_config_add_cap(&c, PCI_CAP_ID_MSIX, 12);
	CHECK_EQ_INT(a, 0x40);
	CHECK_EQ_INT(b, 0x50);
	CHECK(pci_config_read(&c, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
	/* Walk as a driver does, from the pointer to the end of the chain. */
	for (unsigned int p = pci_config_read(&c, PCI_CAPABILITY_LIST, 1); p && n < 8;
	     p = pci_config_read(&c, p + 1, 1))
		ids[n++] = pci_config_read(&c, p, 1);
	CHECK_EQ_INT(n, 2);
	CHECK_EQ_INT(ids[0], PCI_CAP_ID_VNDR);
	CHECK_EQ_INT(ids[1], PCI_CAP_ID_MSIX);
	/* The chain is read-only. */
	pci_config_write(&c, a + 1, 1, 0);
	CHECK_EQ_INT(pci_config_read(&c, a + 1, 1), b);
	CHECK_EQ_INT(pci_config_add_cap(&c, PCI_CAP_ID_VNDR, 200), -ENOSPC);
}

static void tw(struct pci_msix *m, uint64_t off, uint32_t v)
{
	pci_msix_table_write(m, off, &v, 4);
}

TEST(pci_msix_mask_unmask_routes)
{
	struct rec r = { 0 };
	struct device_env env = { .msi_irqfd_add = rec_msi_add, .msi_irqfd_remove = rec_msi_remove,
				  .ctx = &r };
	struct pci_config c;
	struct pci_msix m;
	unsigned int ctrl;
	uint32_t v = 0, pba = 0;

	pci_config_init(&c, 1, 2, 0, 0, 0, 0);
	CHECK_EQ_INT(pci_config_add_bar(&c, 0, 0x4000, false), 0);
	if (!CHECK_EQ_INT(pci_msix_init(&m, &c, 3, 0, 0x3000, 0x3800, &env), 0))
		return;
	m.devid = 0x08;
	ctrl = m.cap + 2;
	CHECK_EQ_U64(pci_config_read(&c, ctrl, 2), 2);		/* table size - 1 */
	CHECK_EQ_U64(pci_config_read(&c, m.cap + 4, 4), 0x3000);	/* BIR 0 */
	CHECK_EQ_U64(pci_config_read(&c, m.cap + 8, 4), 0x3800);
	/* Entries come up masked. */
	pci_msix_table_read(&m, 12, &v, 4);
	CHECK_EQ_U64(v, 1);
	/* Program vector 1, enable MSI-X: still masked, no route. */
	tw(&m, 16 + 0, 0x08090040);
	tw(&m, 16 + 4, 0);
	tw(&m, 16 + 8, 7);
	pci_config_write(&c, ctrl, 2, PCI_MSIX_CTRL_ENABLE);
	pci_msix_update(&m);
	CHECK(pci_msix_enabled(&m));
	CHECK_EQ_INT(r.msi_routes, 0);
	/* Masked, a signal is pending in the PBA. */
	CHECK_EQ_INT(write(m.vec[1].fd, &(uint64_t){ 1 }, 8), 8);
	pci_msix_pba_read(&m, 0, &pba, 4);
	CHECK_EQ_U64(pba, 2);
	/* Unmask: one route with the entry's address, data and the device id. */
	tw(&m, 16 + 12, 0);
	CHECK_EQ_INT(r.msi_routes, 1);
	CHECK_EQ_U64(r.last_addr, 0x08090040);
	CHECK_EQ_U64(r.last_data, 7);
	CHECK_EQ_U64(r.last_devid, 0x08);
	pci_msix_pba_read(&m, 0, &pba, 4);
	CHECK_EQ_U64(pba, 0);		/* routed: KVM delivers what was pending */
	/* Function mask takes every route down; clearing it brings them back. */
	pci_config_write(&c, ctrl, 2, PCI_MSIX_CTRL_ENABLE | PCI_MSIX_CTRL_MASKALL);
	pci_msix_update(&m);
	CHECK_EQ_INT(r.msi_routes, 0);
	pci_config_write(&c, ctrl, 2, PCI_MSIX_CTRL_ENABLE);
	pci_msix_update(&m);
	CHECK_EQ_INT(r.msi_routes, 1);
	/* A new data value while unmasked: the route is replaced. */
	tw(&m, 16 + 8, 9);
	CHECK_EQ_INT(r.msi_routes, 1);
	CHECK_EQ_U64(r.last_data, 9);
	CHECK_EQ_INT(r.msi_adds, 3);
	/* Only the mask bit of vector control is writable. */
	tw(&m, 16 + 12, 0xfffffffe);
	pci_msix_table_read(&m, 16 + 12, &v, 4);
	CHECK_EQ_U64(v, 0);
	/* Past the table: reads 0, writes vanish. */
	tw(&m, 3 * 16, 0x1234);
	pci_msix_table_read(&m, 3 * 16, &v, 4);
	CHECK_EQ_U64(v, 0);
	/* Disable: no route left. */
	pci_config_write(&c, ctrl, 2, 0);
	pci_msix_update(&m);
	CHECK_EQ_INT(r.msi_routes, 0);
	pci_msix_free(&m);
}

/* A host with one virtio-rng function on it, as the guest sees it. */
struct vpfix {
	struct rec r;
	struct device_env env;
	struct pci_host *host;
	struct device *dev;
	void *ram;
};

static uint32_t ecam_rd(struct pci_host *h, unsigned int devfn, unsigned int reg,
			unsigned int len)
{
	uint32_t v = 0;

	h->ecam.ops->mmio_read(&h->ecam, pci_ecam_offset(0, devfn, reg), &v, len);
	return v;
}

static void ecam_wr(struct pci_host *h, unsigned int devfn, unsigned int reg, unsigned int len,
		    uint32_t v)
{
	h->ecam.ops->mmio_write(&h->ecam, pci_ecam_offset(0, devfn, reg), &v, len);
}

static uint64_t bar_rd(struct pci_host *h, uint64_t gpa, unsigned int len)
{
	uint64_t v = 0;

	h->mem32.ops->mmio_read(&h->mem32, gpa - h->mem32.mmio_base, &v, len);
	return v;
}

static void bar_wr(struct pci_host *h, uint64_t gpa, unsigned int len, uint64_t v)
{
	h->mem32.ops->mmio_write(&h->mem32, gpa - h->mem32.mmio_base, &v, len);
}

static bool vp_setup(struct vpfix *f, bool msi)
{
	char msg[256];

	memset(f, 0, sizeof(*f));
	f->r.spi = 40;
	f->ram = calloc(1, 0x10000);
	f->env = (struct device_env){
		.mem = { f->ram, 0x40000000, 0x10000, NULL },
		.ioeventfd = rec_ioeventfd, .irqfd = rec_irqfd, .ctx = &f->r,
	};
	if (msi) {
		f->env.msi_irqfd_add = rec_msi_add;
		f->env.msi_irqfd_remove = rec_msi_remove;
	}
	if (!CHECK_EQ_INT(pci_host_create(msi, rec_alloc_spi, &f->r, &f->host), 0))
		return false;
	return CHECK_EQ_INT(virtio_rng_create("virtio-rng0",
					      &(struct virtio_transport){
						      .kind = VIRTIO_TRANSPORT_PCI,
						      .host = f->host },
					      &f->env, &f->dev, msg, sizeof(msg)), 0);
}

static void vp_teardown(struct vpfix *f)
{
	if (f->dev)
		f->dev->ops->free(f->dev);
	if (f->host)
		f->host->ecam.ops->free(&f->host->ecam);
	free(f->ram);
}

/* The offset of the vendor capability of cfg_type type, 0 if none. */
static unsigned int find_vcap(struct pci_host *h, unsigned int type)
{
	for (unsigned int p = ecam_rd(h, 0, PCI_CAPABILITY_LIST, 1); p;
	     p = ecam_rd(h, 0, p + 1, 1))
		if (ecam_rd(h, 0, p, 1) == PCI_CAP_ID_VNDR && ecam_rd(h, 0, p + 3, 1) == type)
			return p;
	return 0;
}

TEST(pci_ecam_decode)
{
	struct vpfix f;

	if (!vp_setup(&f, false))
		goto out;
	/* Slot 0 function 0 is the rng; everything else reads all ones. */
	CHECK_EQ_U64(ecam_rd(f.host, 0, PCI_VENDOR_ID, 4), 0x10441af4);
	CHECK_EQ_U64(ecam_rd(f.host, 0, PCI_VENDOR_ID, 2), 0x1af4);
	CHECK_EQ_U64(ecam_rd(f.host, 0, PCI_DEVICE_ID, 2), 0x1044);
	CHECK_EQ_U64(ecam_rd(f.host, 1, PCI_VENDOR_ID, 4), 0xffffffff);	/* function 1 */
	CHECK_EQ_U64(ecam_rd(f.host, 8, PCI_VENDOR_ID, 4), 0xffffffff);	/* slot 1 */
	{
		uint32_t v = 0;

		f.host->ecam.ops->mmio_read(&f.host->ecam, pci_ecam_offset(1, 0, 0), &v, 4);
		CHECK_EQ_U64(v, 0xffffffff);	/* bus 1 */
	}
	/* Extended config space of a present function: zeros. */
	CHECK_EQ_U64(ecam_rd(f.host, 0, 0x100, 4), 0);
	/* INTA, on the SPI the host gave the slot. */
	CHECK_EQ_U64(ecam_rd(f.host, 0, PCI_INTERRUPT_PIN, 1), 1);
	CHECK_EQ_INT(f.dev->irq, 40);
	/* No ITS: no MSI-X capability. */
	for (unsigned int p = ecam_rd(f.host, 0, PCI_CAPABILITY_LIST, 1); p;
	     p = ecam_rd(f.host, 0, p + 1, 1))
		CHECK(ecam_rd(f.host, 0, p, 1) != PCI_CAP_ID_MSIX);
	/* BAR 0 in the 32-bit window; decoded (and notify wired) only with MEMORY on. */
	CHECK_EQ_U64(ecam_rd(f.host, 0, PCI_BAR0, 4), PCI_MMIO32_BASE);
	CHECK_EQ_INT(f.r.ioeventfds, 0);
	CHECK_EQ_U64(bar_rd(f.host, PCI_MMIO32_BASE + 0x12, 2), 0);
	ecam_wr(f.host, 0, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	CHECK_EQ_INT(f.r.ioeventfds, 1);
	CHECK_EQ_U64(bar_rd(f.host, PCI_MMIO32_BASE + 0x12, 2), 1);	/* num_queues */
	/* The guest moves the BAR: the notify ioeventfd follows. */
	ecam_wr(f.host, 0, PCI_COMMAND, 2, 0);
	CHECK_EQ_INT(f.r.ioeventfds, 0);
	ecam_wr(f.host, 0, PCI_BAR0, 4, 0xffffffff);
	CHECK_EQ_U64(ecam_rd(f.host, 0, PCI_BAR0, 4), 0xffffc000);
	ecam_wr(f.host, 0, PCI_BAR0, 4, PCI_MMIO32_BASE + 0x100000);
	ecam_wr(f.host, 0, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	CHECK_EQ_INT(f.r.ioeventfds, 1);
	CHECK_EQ_U64(f.r.last_ioeventfd_gpa, PCI_MMIO32_BASE + 0x100000 + 0x2000);
	CHECK_EQ_U64(bar_rd(f.host, PCI_MMIO32_BASE + 0x12, 2), 0);
	CHECK_EQ_U64(bar_rd(f.host, PCI_MMIO32_BASE + 0x100000 + 0x12, 2), 1);
out:
	vp_teardown(&f);
}

TEST(virtio_pci_common_config)
{
	struct vpfix f;
	unsigned int common, notify;
	uint64_t bar, cc;

	if (!vp_setup(&f, true))
		goto out;
	common = find_vcap(f.host, 1);
	notify = find_vcap(f.host, 2);
	CHECK(find_vcap(f.host, 3) && find_vcap(f.host, 4));
	if (!CHECK(common && notify))
		goto out;
	CHECK_EQ_U64(ecam_rd(f.host, 0, notify + 16, 4), 4);	/* notify_off_multiplier */
	ecam_wr(f.host, 0, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	bar = ecam_rd(f.host, 0, PCI_BAR0, 4) & ~0xfULL;
	cc = bar + ecam_rd(f.host, 0, common + 8, 4);
	/* Features: VERSION_1 in the high word. */
	bar_wr(f.host, cc + 0x00, 4, 1);
	CHECK_EQ_U64(bar_rd(f.host, cc + 0x04, 4), 1);
	bar_wr(f.host, cc + 0x00, 4, 0);
	CHECK_EQ_U64(bar_rd(f.host, cc + 0x04, 4), 0);
	bar_wr(f.host, cc + 0x14, 1, 1 | 2);
	bar_wr(f.host, cc + 0x08, 4, 1);
	bar_wr(f.host, cc + 0x0c, 4, 1);
	bar_wr(f.host, cc + 0x14, 1, 1 | 2 | 8);
	CHECK_EQ_U64(bar_rd(f.host, cc + 0x14, 1), 1 | 2 | 8);
	/* Queue 0: size, vector, rings; a queue past the last reads size 0. */
	bar_wr(f.host, cc + 0x16, 2, 1);
	CHECK_EQ_U64(bar_rd(f.host, cc + 0x18, 2), 0);
	bar_wr(f.host, cc + 0x16, 2, 0);
	CHECK_EQ_U64(bar_rd(f.host, cc + 0x18, 2), 64);
	CHECK_EQ_U64(bar_rd(f.host, cc + 0x1e, 2), 0);		/* queue_notify_off */
	bar_wr(f.host, cc + 0x18, 2, 16);
	bar_wr(f.host, cc + 0x1a, 2, 1);
	CHECK_EQ_U64(bar_rd(f.host, cc + 0x1a, 2), 1);
	bar_wr(f.host, cc + 0x1a, 2, 5);			/* no such vector */
	CHECK_EQ_U64(bar_rd(f.host, cc + 0x1a, 2), 0xffff);
	bar_wr(f.host, cc + 0x1a, 2, 1);
	bar_wr(f.host, cc + 0x10, 2, 0);			/* config vector */
	CHECK_EQ_U64(bar_rd(f.host, cc + 0x10, 2), 0);
	bar_wr(f.host, cc + 0x20, 4, 0x40000000);
	bar_wr(f.host, cc + 0x28, 4, 0x40001000);
	bar_wr(f.host, cc + 0x30, 4, 0x40002000);
	bar_wr(f.host, cc + 0x1c, 2, 1);
	CHECK_EQ_U64(bar_rd(f.host, cc + 0x1c, 2), 1);
	CHECK_EQ_U64(bar_rd(f.host, cc + 0x20, 4), 0x40000000);
	/* Enabled: the ring registers are the driver's no more. */
	bar_wr(f.host, cc + 0x20, 4, 0x40008000);
	CHECK_EQ_U64(bar_rd(f.host, cc + 0x20, 4), 0x40000000);
	/* A 4-byte access to a 2-byte register is ignored. */
	bar_wr(f.host, cc + 0x16, 4, 0);
	CHECK_EQ_U64(bar_rd(f.host, cc + 0x16, 4), 0);
	/* MSI-X on with vector 1 unmasked: one route, the requester id as device id. */
	{
		unsigned int cap = 0;

		for (unsigned int p = ecam_rd(f.host, 0, PCI_CAPABILITY_LIST, 1); p;
		     p = ecam_rd(f.host, 0, p + 1, 1))
			if (ecam_rd(f.host, 0, p, 1) == PCI_CAP_ID_MSIX)
				cap = p;
		if (!CHECK(cap))
			goto out;
		CHECK_EQ_U64(ecam_rd(f.host, 0, cap + 2, 2), 1);	/* 2 vectors */
		bar_wr(f.host, bar + 0x3000 + 16, 4, 0x08090040);
		bar_wr(f.host, bar + 0x3000 + 24, 4, 3);
		bar_wr(f.host, bar + 0x3000 + 28, 4, 0);
		CHECK_EQ_INT(f.r.msi_routes, 0);
		ecam_wr(f.host, 0, cap + 2, 2, PCI_MSIX_CTRL_ENABLE);
		CHECK_EQ_INT(f.r.msi_routes, 1);
		CHECK_EQ_U64(f.r.last_devid, 0);
		CHECK_EQ_U64(f.r.last_data, 3);
	}
	/* Reset: status 0, vectors back to NO_VECTOR. */
	bar_wr(f.host, cc + 0x14, 1, 0);
	CHECK_EQ_U64(bar_rd(f.host, cc + 0x14, 1), 0);
	CHECK_EQ_U64(bar_rd(f.host, cc + 0x10, 2), 0xffff);
	/* The ISR clears on read. */
	atomic_store(&((struct virtio_dev *)f.dev)->isr, 1);
	CHECK_EQ_U64(bar_rd(f.host, bar + 0x800, 1), 1);
	CHECK_EQ_U64(bar_rd(f.host, bar + 0x800, 1), 0);
out:
	vp_teardown(&f);
}

static uint32_t dummy_cfg_read(struct pci_func *f, unsigned int off, unsigned int len)
{
	return pci_config_read(&f->cfg, off, len);
}

static void dummy_cfg_write(struct pci_func *f, unsigned int off, unsigned int len, uint32_t v)
{
	pci_config_write(&f->cfg, off, len, v);
}

/*
 * A full bus: every slot's INTA in interrupt-map (10 cells each). The FDT
 * writer once copied the cells through a 64-cell buffer, so a VM with more
 * than 6 PCI functions (8 disks) overran the stack and crashed at boot.
 */
TEST(pci_host_fdt_full_bus)
{
	static const struct pci_func_ops ops = { .cfg_read = dummy_cfg_read,
						 .cfg_write = dummy_cfg_write };
	struct pci_func funcs[PCI_MAX_SLOTS];
	struct pci_host *h = NULL;
	struct rec r = { .spi = 40 };
	static char fdt[65536];
	const fdt32_t *map;
	char err[128];
	int len, node;

	if (!CHECK_EQ_INT(pci_host_create(true, rec_alloc_spi, &r, &h), 0))
		return;
	for (unsigned int i = 0; i < PCI_MAX_SLOTS; i++) {
		funcs[i] = (struct pci_func){ .ops = &ops };
		pci_config_init(&funcs[i].cfg, 0x1af4, 0x1042, 0x010000, 1, 0x1af4, 2);
		pci_config_add_bar(&funcs[i].cfg, 0, 0x4000, false);
		if (!CHECK_EQ_INT(pci_host_plug(h, &funcs[i], err, sizeof(err)), 0))
			FAIL("slot %u: %s", i, err);
	}
	CHECK_EQ_INT(fdt_create(fdt, sizeof(fdt)), 0);
	CHECK_EQ_INT(fdt_finish_reservemap(fdt), 0);
	CHECK_EQ_INT(fdt_begin_node(fdt, ""), 0);
	CHECK_EQ_INT(h->ecam.ops->fdt(&h->ecam, fdt), 0);
	CHECK_EQ_INT(fdt_end_node(fdt), 0);
	CHECK_EQ_INT(fdt_finish(fdt), 0);
	node = fdt_path_offset(fdt, "/pcie@b000000");
	CHECK(node >= 0);
	map = fdt_getprop(fdt, node, "interrupt-map", &len);
	if (CHECK(map) && CHECK_EQ_INT(len, PCI_MAX_SLOTS * 10 * 4)) {
		for (unsigned int s = 0; s < PCI_MAX_SLOTS; s++) {
			const fdt32_t *e = &map[s * 10];

			CHECK_EQ_INT(fdt32_to_cpu(e[0]), (s << 3) << 8);
			CHECK_EQ_INT(fdt32_to_cpu(e[3]), 1);
			CHECK_EQ_INT(fdt32_to_cpu(e[8]), funcs[s].intx_spi - 32);
			CHECK_EQ_INT(fdt32_to_cpu(e[9]), 4);
		}
	}
	h->ecam.ops->free(&h->ecam);
}
