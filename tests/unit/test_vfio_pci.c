// SPDX-License-Identifier: GPL-2.0
/*
 * VFIO-PCI's config space: what the guest sees of a passed-through
 * function (QEMU's NVMe controller as VFIO shows it in the test host),
 * which bytes lvmm owns, and the devices it refuses.
 */
#include "test.h"
#include "../../devices/vfio/pci_cfg.h"

#include <errno.h>
#include <string.h>

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v;
	p[1] = v >> 8;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v);
	put16(p + 2, v >> 16);
}

/*
 * NVMe (1b36:0010, class 010802): BAR0 64-bit 16 KiB; capabilities PM at
 * 0x40, MSI at 0x50, MSI-X at 0x70 (65 vectors, table at 0x2000, PBA at
 * 0x3000 of BAR0), PCIe at 0x80; INTA.
 */
static void nvme_config(uint8_t *c, uint64_t *sizes)
{
	memset(c, 0, PCI_CFG_SIZE);
	memset(sizes, 0, PCI_NR_BARS * sizeof(*sizes));
	put16(&c[PCI_VENDOR_ID], 0x1b36);
	put16(&c[PCI_DEVICE_ID], 0x0010);
	put16(&c[PCI_COMMAND], PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	put16(&c[PCI_STATUS], PCI_STATUS_CAP_LIST);
	c[PCI_REVISION_ID] = 2;
	c[0x09] = 0x02;
	c[0x0a] = 0x08;
	c[0x0b] = 0x01;
	c[PCI_HEADER_TYPE] = 0;
	put32(&c[PCI_BAR0], PCI_BAR_MEM_64);
	sizes[0] = 0x4000;
	put16(&c[PCI_SUBSYSTEM_VENDOR_ID], 0x1af4);
	put16(&c[PCI_SUBSYSTEM_ID], 0x1100);
	c[PCI_CAPABILITY_LIST] = 0x40;
	c[PCI_INTERRUPT_PIN] = 1;
	c[0x40] = 0x01;			/* PM */
	c[0x41] = 0x50;
	put16(&c[0x42], 0x0003);
	c[0x50] = PCI_CAP_ID_MSI;
	c[0x51] = 0x70;
	c[0x70] = PCI_CAP_ID_MSIX;
	c[0x71] = 0x80;
	put16(&c[0x72], 64);		/* table size - 1 */
	put32(&c[0x74], 0x2000 | 0);
	put32(&c[0x78], 0x3000 | 0);
	c[0x80] = 0x10;			/* PCIe */
	c[0x81] = 0;
	put16(&c[0x82], 0x0002);
}

/* The layout of QEMU's NVMe, with or without MSI-X offered; false (and why) if refused. */
static bool nvme_layout(bool msix, struct pci_config *cfg, struct vfio_pci_layout *lay)
{
	uint8_t real[PCI_CFG_SIZE];
	uint64_t sizes[PCI_NR_BARS];
	char err[256] = "";

	nvme_config(real, sizes);
	if (!CHECK_EQ_INT(vfio_pci_layout_build(real, sizes, msix, cfg, lay, err, sizeof(err)), 0)) {
		FAIL("err: %s", err);
		return false;
	}
	return true;
}

TEST(vfio_pci_layout_nvme_with_its)
{
	struct vfio_pci_layout lay;
	struct pci_config cfg;
	uint64_t t0, t1;

	if (!nvme_layout(true, &cfg, &lay))
		return;
	CHECK_EQ_INT(pci_config_read(&cfg, PCI_VENDOR_ID, 4), 0x00101b36);
	CHECK_EQ_INT(pci_config_read(&cfg, 0x08, 4), 0x01080202);
	CHECK_EQ_INT(pci_config_read(&cfg, PCI_SUBSYSTEM_VENDOR_ID, 4), 0x11001af4);
	/* The guest starts with decoding and bus mastering off, whatever the host left. */
	CHECK_EQ_INT(pci_config_command(&cfg), 0);
	/* BAR0: 64-bit, 16 KiB, sized the usual way. */
	CHECK_EQ_U64(cfg.bar_size[0], 0x4000);
	CHECK_EQ_U64(cfg.bar_size[1], 0);
	pci_config_write(&cfg, PCI_BAR0, 4, 0xffffffff);
	pci_config_write(&cfg, PCI_BAR0 + 4, 4, 0xffffffff);
	CHECK_EQ_INT(pci_config_read(&cfg, PCI_BAR0, 4), 0xffffc004);
	CHECK_EQ_INT(pci_config_read(&cfg, PCI_BAR0 + 4, 4), 0xffffffff);
	/* The chain without MSI: PM -> MSI-X -> PCIe. */
	CHECK_EQ_INT(cfg.raw[PCI_CAPABILITY_LIST], 0x40);
	CHECK_EQ_INT(cfg.raw[0x41], 0x70);
	CHECK_EQ_INT(cfg.raw[0x71], 0x80);
	CHECK_EQ_INT(cfg.raw[0x81], 0);
	CHECK(cfg.raw[PCI_STATUS] & PCI_STATUS_CAP_LIST);
	CHECK(lay.msi_hidden);
	/* MSI-X: the device's 65 vectors, the guest's first 32. */
	CHECK_EQ_INT(lay.msix_cap, 0x70);
	CHECK_EQ_INT(lay.msix_hw_nr, 65);
	CHECK_EQ_INT(lay.msix_nr, PCI_MSIX_MAX_VECTORS);
	CHECK_EQ_INT(lay.msix_bar, 0);
	CHECK_EQ_INT(lay.msix_table_off, 0x2000);
	CHECK_EQ_INT(lay.msix_pba_off, 0x3000);
	/* lvmm's bytes: the header, IDs and next pointers, the MSI-X capability. */
	CHECK(lay.emulated[PCI_COMMAND] && lay.emulated[PCI_BAR0] && lay.emulated[0x3d]);
	CHECK(lay.emulated[0x40] && lay.emulated[0x41] && !lay.emulated[0x42]);
	for (unsigned int i = 0x70; i < 0x7c; i++)
		CHECK(lay.emulated[i]);
	CHECK(!lay.emulated[0x7c]);
	CHECK(!lay.emulated[0x50] && !lay.emulated[0x82] && !lay.emulated[0xff]);
	CHECK_EQ_INT(lay.intx_pin, 1);
	/* Trapped: the pages of the table and the PBA; mapped: the registers. */
	CHECK(vfio_pci_msix_trap_range(&lay, 0, 0x1000, &t0, &t1));
	CHECK_EQ_U64(t0, 0x2000);
	CHECK_EQ_U64(t1, 0x4000);
	CHECK(!vfio_pci_msix_trap_range(&lay, 2, 0x1000, &t0, &t1));
	/* 64 KiB pages: the whole BAR is one page with the table in it. */
	CHECK(vfio_pci_msix_trap_range(&lay, 0, 0x10000, &t0, &t1));
	CHECK_EQ_U64(t0, 0);
	CHECK_EQ_U64(t1, 0x10000);
}

/* Without an ITS the guest gets no MSI-X to choose: INTx it is. */
TEST(vfio_pci_layout_without_its_hides_msix)
{
	struct vfio_pci_layout lay;
	struct pci_config cfg;
	uint64_t t0, t1;

	if (!nvme_layout(false, &cfg, &lay))
		return;
	CHECK_EQ_INT(cfg.raw[PCI_CAPABILITY_LIST], 0x40);
	CHECK_EQ_INT(cfg.raw[0x41], 0x80);
	CHECK_EQ_INT(cfg.raw[0x81], 0);
	CHECK_EQ_INT(lay.msix_cap, 0);
	CHECK(!lay.emulated[0x70]);
	/* Its table is still the device's, not the guest's: trapped, never mapped. */
	CHECK(vfio_pci_msix_trap_range(&lay, 0, 0x1000, &t0, &t1));
}

TEST(vfio_pci_layout_bars)
{
	struct vfio_pci_layout lay;
	struct pci_config cfg;
	uint8_t real[PCI_CFG_SIZE];
	uint64_t sizes[PCI_NR_BARS];
	char err[256] = "";

	nvme_config(real, sizes);
	/* BAR2: I/O, hidden. BAR3: 32-bit prefetchable 256 bytes, offered as a page. */
	put32(&real[PCI_BAR0 + 8], 0x1);
	sizes[2] = 0x100;
	put32(&real[PCI_BAR0 + 12], 0x8);
	sizes[3] = 0x100;
	if (!CHECK_EQ_INT(vfio_pci_layout_build(real, sizes, true, &cfg, &lay, err, sizeof(err)), 0))
		FAIL("err: %s", err);
	CHECK_EQ_INT(lay.io_bars, 1);
	CHECK_EQ_U64(cfg.bar_size[2], 0);
	CHECK_EQ_INT(pci_config_read(&cfg, PCI_BAR0 + 8, 4), 0);
	CHECK_EQ_U64(cfg.bar_size[3], 0x1000);
	CHECK(lay.bar_prefetch[3]);
	CHECK_EQ_INT(pci_config_read(&cfg, PCI_BAR0 + 12, 4), 0x8);
	/* An expansion ROM is not offered. */
	CHECK_EQ_INT(pci_config_read(&cfg, 0x30, 4), 0);

	nvme_config(real, sizes);
	sizes[0] = 0x3000;
	CHECK_EQ_INT(vfio_pci_layout_build(real, sizes, true, &cfg, &lay, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "BAR 0: size 0x3000 is not a power of two");
}

/* What lvmm cannot pass through, or a config space that lies. */
TEST(vfio_pci_layout_refuses)
{
	struct vfio_pci_layout lay;
	struct pci_config cfg;
	uint8_t real[PCI_CFG_SIZE];
	uint64_t sizes[PCI_NR_BARS];
	char err[256] = "";

	nvme_config(real, sizes);
	real[PCI_HEADER_TYPE] = 0x01;
	CHECK_EQ_INT(vfio_pci_layout_build(real, sizes, true, &cfg, &lay, err, sizeof(err)), -ENOTSUP);
	CHECK_STR(err, "is not a type-0 function (header type 0x01): bridges cannot be passed through");

	nvme_config(real, sizes);
	real[0x81] = 0x80;	/* PCIe points to itself: a loop */
	CHECK_EQ_INT(vfio_pci_layout_build(real, sizes, true, &cfg, &lay, err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "its capability list is broken");

	nvme_config(real, sizes);
	real[0x41] = 0x20;	/* into the header */
	CHECK_EQ_INT(vfio_pci_layout_build(real, sizes, true, &cfg, &lay, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "its capability list is broken (a capability at 0x20)");

	nvme_config(real, sizes);
	put32(&real[0x74], 0x3e00);	/* 65 entries from 0x3e00 overrun the 16 KiB BAR */
	CHECK_EQ_INT(vfio_pci_layout_build(real, sizes, true, &cfg, &lay, err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "its MSI-X table (BAR 0 at 0x3e00, 65 vectors) or PBA (BAR 0 at 0x3000) is not inside one BAR");

	nvme_config(real, sizes);
	real[0x51] = 0x70;
	real[0x71] = 0x50;	/* MSI-X -> MSI -> MSI-X ... */
	CHECK_EQ_INT(vfio_pci_layout_build(real, sizes, true, &cfg, &lay, err, sizeof(err)), -EINVAL);
}
