// SPDX-License-Identifier: GPL-2.0
/*
 * VFIO-PCI's view of a passed-through function (devices/vfio/pci_cfg.c)
 * and the MSI-X emulation behind it (devices/pci/msix.c), with any device
 * config space and BAR sizes, then driven as a hostile guest would: config
 * reads and writes split between lvmm's bytes and the device's, accesses to
 * the trapped pages of the BARs (MSI-X table, PBA, the device's registers).
 * The device itself is a byte array standing in for VFIO's regions, exactly
 * as devices/vfio/pci.c splits accesses between them.
 *
 * Checked: lvmm's bytes read back from its copy, the device's from the
 * device; the trapped range covers the table and PBA and stays in the BAR;
 * MSI routes come back to zero at teardown.
 *
 * The script: 256 bytes of device config space, six BAR size exponents
 * (0: none), a flags byte (bit 0: an ITS, so MSI-X), then operations.
 */
#include "fuzz.h"
#include "../../devices/vfio/pci_cfg.h"

#include <stdlib.h>

#define DEV_BAR_BYTES	0x10000	/* what the stand-in device backs of each BAR */

enum vp_op { VP_CFG_WRITE, VP_CFG_READ, VP_BAR_WRITE, VP_BAR_READ, VP_NR_OPS };

static int msi_routes;

static int vp_msi_add(void *ctx, uint64_t addr, uint32_t data, uint32_t devid, int fd,
		      uint32_t *gsi)
{
	*gsi = 1024 + msi_routes++;
	return 0;
}

static int vp_msi_remove(void *ctx, uint32_t gsi, int fd)
{
	msi_routes--;
	return 0;
}

static const struct device_env env = {
	.msi_irqfd_add = vp_msi_add,
	.msi_irqfd_remove = vp_msi_remove,
};

static void check(int ok)
{
	if (!ok)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t bars[PCI_NR_BARS][DEV_BAR_BYTES];
	uint8_t real[PCI_CFG_SIZE], devcfg[PCI_CFG_SIZE];
	uint64_t sizes[PCI_NR_BARS];
	struct vfio_pci_layout lay;
	struct pci_config cfg;
	struct pci_msix msix = { 0 };
	bool has_msix = false;
	char err[256];
	struct fz f;

	fz_init(&f, data, size);
	fz_bytes(&f, real, sizeof(real));
	memcpy(devcfg, real, sizeof(devcfg));
	for (unsigned int i = 0; i < PCI_NR_BARS; i++) {
		uint8_t e = fz_u8(&f) % 40;

		sizes[i] = e ? 1ULL << e : 0;
	}
	msi_routes = 0;
	if (vfio_pci_layout_build(real, sizes, fz_u8(&f) & 1, &cfg, &lay, err, sizeof(err)))
		return 0;
	check(strlen(err) < sizeof(err));
	for (unsigned int i = 0; i < PCI_NR_BARS; i++) {
		uint64_t t0, t1;

		if (!vfio_pci_msix_trap_range(&lay, i, 0x1000, &t0, &t1))
			continue;
		check(t0 <= lay.msix_table_off && t0 <= lay.msix_pba_off && t0 < t1);
		check(t1 >= lay.msix_table_off + 16ULL * lay.msix_hw_nr);
		check(t1 <= ((sizes[i] + 0xfff) & ~0xfffULL));
	}
	if (lay.msix_cap) {
		check(lay.msix_nr >= 1 && lay.msix_nr <= PCI_MSIX_MAX_VECTORS);
		if (pci_msix_init_at(&msix, &cfg, lay.msix_cap, lay.msix_nr, lay.msix_bar,
				     lay.msix_table_off, lay.msix_pba_off, &env))
			return 0;	/* out of eventfds */
		has_msix = true;
	}

	while (!fz_done(&f)) {
		uint8_t op = fz_u8(&f) % VP_NR_OPS;
		unsigned int len = 1U << (fz_u8(&f) % 4), bar = fz_u8(&f) % PCI_NR_BARS;
		uint32_t off = fz_u32(&f), val = fz_u32(&f);
		uint64_t v = 0;

		switch (op) {
		case VP_CFG_WRITE: {
			unsigned int mask;

			off %= PCI_CFG_SIZE;
			if (!vfio_pci_cfg_access_ok(off, len))
				break;
			mask = vfio_pci_cfg_emulated(&lay, off, len);
			pci_config_write(&cfg, off, len, val);
			for (unsigned int i = 0; i < len; i++)
				if (!(mask & (1U << i)))
					devcfg[off + i] = val >> (8 * i);
			if (has_msix && vfio_pci_cfg_hits_msix_ctrl(&lay, off, len))
				pci_msix_update(&msix);
			break;
		}
		case VP_CFG_READ: {
			uint32_t emu, dev = 0, got;

			off %= PCI_CFG_SIZE;
			if (!vfio_pci_cfg_access_ok(off, len))
				break;
			emu = pci_config_read(&cfg, off, len);
			memcpy(&dev, &devcfg[off], len);
			got = vfio_pci_cfg_merge(&lay, off, len, emu, dev);
			for (unsigned int i = 0; i < len; i++) {
				uint8_t want = lay.emulated[off + i] ? cfg.raw[off + i] : devcfg[off + i];

				check((uint8_t)(got >> (8 * i)) == want);
			}
			break;
		}
		case VP_BAR_WRITE:
		case VP_BAR_READ:
			if (len > 8)
				len = 8;
			off %= DEV_BAR_BYTES;
			switch (vfio_pci_bar_part(&lay, bar, off)) {
			case VFIO_PCI_BAR_MSIX_TABLE:
				check(has_msix && bar == lay.msix_bar);
				if (op == VP_BAR_WRITE)
					pci_msix_table_write(&msix, off - lay.msix_table_off, &val, len > 4 ? 4 : len);
				else
					pci_msix_table_read(&msix, off - lay.msix_table_off, &v, len);
				break;
			case VFIO_PCI_BAR_MSIX_PBA:
				check(has_msix && bar == lay.msix_bar);
				if (op == VP_BAR_READ)
					pci_msix_pba_read(&msix, off - lay.msix_pba_off, &v, len);
				break;
			case VFIO_PCI_BAR_DEVICE:
				if (off + len > DEV_BAR_BYTES || off + len > sizes[bar])
					break;
				if (op == VP_BAR_WRITE)
					memcpy(&bars[bar][off], &val, len > 4 ? 4 : len);
				else
					memcpy(&v, &bars[bar][off], len);
				break;
			}
			break;
		}
	}
	if (has_msix) {
		pci_msix_free(&msix);
		check(msi_routes == 0);
	}
	return 0;
}
