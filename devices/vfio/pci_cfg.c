// SPDX-License-Identifier: GPL-2.0
/*
 * The guest's view of a passed-through PCI function's config space: the
 * device's header with lvmm's BARs, its capability chain with MSI left out
 * (and MSI-X too when there is no ITS), and which bytes lvmm emulates.
 */
#include "pci_cfg.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define PCI_HEADER_SIZE		0x40
#define PCI_ROM_ADDRESS		0x30
#define PCI_BIST		0x0f
#define PCI_BAR_IO		0x01
#define PCI_BAR_PREFETCH	0x08
#define MSIX_CAP_LEN		12
/* Far more than fit in 192 bytes: a longer chain loops. */
#define MAX_CAPS		48

static uint32_t get32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Where the device's MSI-X table and PBA end in their BAR: 16 bytes a vector, a bit a vector. */
static uint64_t msix_table_end(const struct vfio_pci_layout *lay)
{
	return lay->msix_table_off + 16ULL * lay->msix_hw_nr;
}

static uint64_t msix_pba_end(const struct vfio_pci_layout *lay)
{
	return lay->msix_pba_off + 8ULL * ((lay->msix_hw_nr + 63) / 64);
}

static void mark(struct vfio_pci_layout *lay, unsigned int off, unsigned int len)
{
	for (unsigned int i = off; i < off + len && i < PCI_CFG_SIZE; i++)
		lay->emulated[i] = true;
}

/* The BARs: memory BARs of the region sizes VFIO gives, I/O BARs hidden. */
static int bars_build(const uint8_t *real, const uint64_t *size, struct pci_config *cfg,
		      struct vfio_pci_layout *lay, char *err, size_t errlen)
{
	for (unsigned int i = 0; i < PCI_NR_BARS; i++) {
		uint8_t flags = real[PCI_BAR0 + 4 * i];
		bool is64 = !(flags & PCI_BAR_IO) && (flags & 0x6) == PCI_BAR_MEM_64;

		if (flags & PCI_BAR_IO) {
			lay->io_bars += !!size[i];
			continue;
		}
		if (is64 && i == PCI_NR_BARS - 1) {
			snprintf(err, errlen, "BAR %u is 64-bit but is the last BAR", i);
			return -EINVAL;
		}
		if (size[i]) {
			/* Below 4 KiB a BAR would share a guest page with another. */
			uint64_t sz = size[i] < 0x1000 ? 0x1000 : size[i];

			if (sz & (sz - 1)) {
				snprintf(err, errlen, "BAR %u: size 0x%llx is not a power of two", i,
					 (unsigned long long)size[i]);
				return -EINVAL;
			}
			if (pci_config_add_bar(cfg, i, sz, is64)) {
				snprintf(err, errlen, "BAR %u: a %s BAR of 0x%llx bytes cannot be offered", i,
					 is64 ? "64-bit" : "32-bit", (unsigned long long)size[i]);
				return -EINVAL;
			}
			lay->bar_prefetch[i] = flags & PCI_BAR_PREFETCH;
			cfg->raw[PCI_BAR0 + 4 * i] |= flags & PCI_BAR_PREFETCH;
		}
		i += is64;	/* the upper half is part of this BAR */
	}
	return 0;
}

/* Where the device's MSI-X table and PBA are, and how many vectors the guest gets. */
static int msix_read(const uint8_t *real, unsigned int cap, const uint64_t *size,
		     struct vfio_pci_layout *lay, char *err, size_t errlen)
{
	uint32_t table = get32(&real[cap + 4]), pba = get32(&real[cap + 8]);

	lay->msix_hw_nr = ((real[cap + 2] | real[cap + 3] << 8) & 0x7ff) + 1;
	lay->msix_bar = table & 7;
	lay->msix_table_off = table & ~7U;
	lay->msix_pba_off = pba & ~7U;
	if (lay->msix_bar >= PCI_NR_BARS || (pba & 7) != lay->msix_bar ||
	    msix_table_end(lay) > size[lay->msix_bar] || msix_pba_end(lay) > size[lay->msix_bar]) {
		snprintf(err, errlen, "its MSI-X table (BAR %u at 0x%x, %u vectors) or PBA (BAR %u at 0x%x) is not inside one BAR",
			 table & 7, lay->msix_table_off, lay->msix_hw_nr, pba & 7, lay->msix_pba_off);
		return -EINVAL;
	}
	lay->msix_nr = lay->msix_hw_nr < PCI_MSIX_MAX_VECTORS ? lay->msix_hw_nr : PCI_MSIX_MAX_VECTORS;
	return 0;
}

/*
 * The capability chain as the guest walks it: every capability of the
 * device but MSI (and MSI-X without an ITS), their IDs and next pointers
 * lvmm's, the registers behind them the device's.
 */
static int caps_build(const uint8_t *real, const uint64_t *size, bool msix,
		      struct pci_config *cfg, struct vfio_pci_layout *lay, char *err, size_t errlen)
{
	unsigned int off = real[PCI_CAPABILITY_LIST] & ~3U, prev = 0, n = 0;
	int ret;

	cfg->raw[PCI_CAPABILITY_LIST] = 0;
	cfg->raw[PCI_STATUS] &= ~PCI_STATUS_CAP_LIST;
	if (!(real[PCI_STATUS] & PCI_STATUS_CAP_LIST))
		return 0;
	for (; off; off = real[off + 1] & ~3U) {
		uint8_t id;

		if (off < PCI_HEADER_SIZE || off > PCI_CFG_SIZE - 4 || ++n > MAX_CAPS) {
			snprintf(err, errlen, "its capability list is broken (a capability at 0x%x)", off);
			return -EINVAL;
		}
		id = real[off];
		if (id == PCI_CAP_ID_MSI) {
			lay->msi_hidden = true;
			continue;
		}
		if (id == PCI_CAP_ID_MSIX) {
			if (lay->msix_hw_nr || off + MSIX_CAP_LEN > PCI_CFG_SIZE) {
				snprintf(err, errlen, "its MSI-X capability at 0x%x is duplicated or cut short", off);
				return -EINVAL;
			}
			ret = msix_read(real, off, size, lay, err, errlen);
			if (ret)
				return ret;
			if (!msix)
				continue;
			lay->msix_cap = off;
			mark(lay, off, MSIX_CAP_LEN);
		}
		cfg->raw[off] = id;
		cfg->raw[off + 1] = 0;
		mark(lay, off, 2);
		if (prev)
			cfg->raw[prev + 1] = off;
		else
			cfg->raw[PCI_CAPABILITY_LIST] = off;
		cfg->raw[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
		prev = off;
	}
	cfg->last_cap = prev;
	cfg->next_cap = 0xff;	/* no room for a capability of lvmm's own */
	return 0;
}

int vfio_pci_layout_build(const uint8_t real[PCI_CFG_SIZE], const uint64_t bar_region_size[PCI_NR_BARS],
			  bool msix, struct pci_config *cfg, struct vfio_pci_layout *lay,
			  char *err, size_t errlen)
{
	uint32_t class_code = real[0x09] | real[0x0a] << 8 | real[0x0b] << 16;
	int ret;

	memset(lay, 0, sizeof(*lay));
	if ((real[PCI_HEADER_TYPE] & 0x7f) != 0) {
		snprintf(err, errlen, "is not a type-0 function (header type 0x%02x): bridges cannot be passed through",
			 real[PCI_HEADER_TYPE]);
		return -ENOTSUP;
	}
	pci_config_init(cfg, real[PCI_VENDOR_ID] | real[PCI_VENDOR_ID + 1] << 8,
			real[PCI_DEVICE_ID] | real[PCI_DEVICE_ID + 1] << 8, class_code,
			real[PCI_REVISION_ID], real[PCI_SUBSYSTEM_VENDOR_ID] |
			real[PCI_SUBSYSTEM_VENDOR_ID + 1] << 8,
			real[PCI_SUBSYSTEM_ID] | real[PCI_SUBSYSTEM_ID + 1] << 8);
	/* The header is lvmm's but for what only the device knows. */
	mark(lay, 0, PCI_HEADER_SIZE);
	cfg->raw[PCI_STATUS] = real[PCI_STATUS];
	cfg->raw[PCI_STATUS + 1] = real[PCI_STATUS + 1] & 0x06;	/* DEVSEL timing */
	cfg->raw[0x0c] = real[0x0c];			/* cache line size */
	cfg->wmask[0x0c] = 0xff;
	cfg->raw[PCI_HEADER_TYPE] = 0;			/* one function per slot */
	cfg->raw[PCI_BIST] = 0;
	lay->intx_pin = real[PCI_INTERRUPT_PIN] <= 4 ? real[PCI_INTERRUPT_PIN] : 0;
	ret = bars_build(real, bar_region_size, cfg, lay, err, errlen);
	ret = ret ?: caps_build(real, bar_region_size, msix, cfg, lay, err, errlen);
	return ret;
}

bool vfio_pci_msix_trap_range(const struct vfio_pci_layout *lay, unsigned int bar, uint64_t page,
			      uint64_t *start, uint64_t *end)
{
	uint64_t t0, t1, p0, p1;

	if (!lay->msix_hw_nr || bar != lay->msix_bar)
		return false;
	t0 = lay->msix_table_off;
	t1 = msix_table_end(lay);
	p0 = lay->msix_pba_off;
	p1 = msix_pba_end(lay);
	*start = (t0 < p0 ? t0 : p0) & ~(page - 1);
	*end = ((t1 > p1 ? t1 : p1) + page - 1) & ~(page - 1);
	return true;
}

bool vfio_pci_cfg_access_ok(unsigned int off, unsigned int len)
{
	return (len == 1 || len == 2 || len == 4) && !(off & (len - 1)) &&
	       off + len <= PCI_CFG_SIZE;
}

unsigned int vfio_pci_cfg_emulated(const struct vfio_pci_layout *lay, unsigned int off,
				   unsigned int len)
{
	unsigned int mask = 0;

	for (unsigned int i = 0; i < len && off + i < PCI_CFG_SIZE; i++)
		if (lay->emulated[off + i])
			mask |= 1U << i;
	return mask;
}

uint32_t vfio_pci_cfg_merge(const struct vfio_pci_layout *lay, unsigned int off,
			    unsigned int len, uint32_t emu, uint32_t dev)
{
	unsigned int mask = vfio_pci_cfg_emulated(lay, off, len);
	uint32_t v = dev;

	for (unsigned int i = 0; i < len; i++) {
		if (!(mask & (1U << i)))
			continue;
		v &= ~(0xffU << (8 * i));
		v |= emu & (0xffU << (8 * i));
	}
	return v;
}

bool vfio_pci_cfg_hits_msix_ctrl(const struct vfio_pci_layout *lay, unsigned int off,
				 unsigned int len)
{
	unsigned int ctrl = lay->msix_cap + 2;

	return lay->msix_cap && off < ctrl + 2 && off + len > ctrl;
}

bool vfio_pci_cfg_hits_command(unsigned int off, unsigned int len)
{
	return off < PCI_COMMAND + 2 && off + len > PCI_COMMAND;
}

enum vfio_pci_bar_part vfio_pci_bar_part(const struct vfio_pci_layout *lay, unsigned int bar,
					 uint64_t off)
{
	if (!lay->msix_cap || bar != lay->msix_bar)
		return VFIO_PCI_BAR_DEVICE;
	if (off >= lay->msix_table_off && off < msix_table_end(lay))
		return VFIO_PCI_BAR_MSIX_TABLE;
	if (off >= lay->msix_pba_off && off < msix_pba_end(lay))
		return VFIO_PCI_BAR_MSIX_PBA;
	return VFIO_PCI_BAR_DEVICE;
}
