/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The config space a VFIO-PCI function shows the guest (pci_cfg.c), pure
 * and unit-tested: built from the device's own config space and its BAR
 * sizes. lvmm owns the header (BARs, command, interrupt line), the
 * capability chain and the MSI-X capability; every other byte (the PCIe
 * and power management capabilities' registers, ...) is the device's,
 * read and written through VFIO.
 */
#ifndef LVMM_VFIO_PCI_CFG_H
#define LVMM_VFIO_PCI_CFG_H

#include <stdbool.h>
#include <stdint.h>

#include "../pci/pci.h"

#define PCI_CAP_ID_MSI		0x05

struct vfio_pci_layout {
	bool emulated[PCI_CFG_SIZE];	/* served from the guest's copy */
	bool bar_prefetch[PCI_NR_BARS];
	unsigned int io_bars;		/* I/O BARs, hidden: the guest has no I/O space */
	/* MSI-X, when the guest gets it (0: hidden, or the device has none) */
	unsigned int msix_cap;
	unsigned int msix_hw_nr;	/* the device's table size */
	unsigned int msix_nr;		/* what the guest sees: at most PCI_MSIX_MAX_VECTORS */
	unsigned int msix_bar;
	uint32_t msix_table_off, msix_pba_off;
	bool msi_hidden;		/* the device has MSI; lvmm offers MSI-X or INTx */
	uint8_t intx_pin;		/* 0: none */
};

/*
 * From the device's config space (real: its first 256 bytes as VFIO reads
 * them) and its BAR regions' sizes, the guest's config space in cfg (ids,
 * class, BARs of those sizes, the capability chain without the
 * capabilities lvmm hides) and which bytes lvmm owns in lay. msix: offer
 * MSI-X (there is an ITS to send it to). 0, or -errno with a message.
 */
int vfio_pci_layout_build(const uint8_t real[PCI_CFG_SIZE], const uint64_t bar_region_size[PCI_NR_BARS],
			  bool msix, struct pci_config *cfg, struct vfio_pci_layout *lay,
			  char *err, size_t errlen);

/*
 * A guest config access of len bytes at off, checked: 1, 2 or 4 bytes,
 * naturally aligned, inside the space.
 */
bool vfio_pci_cfg_access_ok(unsigned int off, unsigned int len);

/* Which bytes of the access lvmm owns: bit i for byte off + i. */
unsigned int vfio_pci_cfg_emulated(const struct vfio_pci_layout *lay, unsigned int off,
				   unsigned int len);

/* A read: the device's bytes (dev) with lvmm's (emu) where it owns them. */
uint32_t vfio_pci_cfg_merge(const struct vfio_pci_layout *lay, unsigned int off,
			    unsigned int len, uint32_t emu, uint32_t dev);

/* Does a write at off change the MSI-X control word, or the command register? */
bool vfio_pci_cfg_hits_msix_ctrl(const struct vfio_pci_layout *lay, unsigned int off,
				 unsigned int len);
bool vfio_pci_cfg_hits_command(unsigned int off, unsigned int len);

/* Where a trapped BAR access lands. */
enum vfio_pci_bar_part {
	VFIO_PCI_BAR_DEVICE,		/* forwarded to the device */
	VFIO_PCI_BAR_MSIX_TABLE,	/* lvmm's MSI-X table */
	VFIO_PCI_BAR_MSIX_PBA,		/* lvmm's PBA */
};
enum vfio_pci_bar_part vfio_pci_bar_part(const struct vfio_pci_layout *lay, unsigned int bar,
					 uint64_t off);

/* The part [*start, *end) of BAR bar that must be trapped (MSI-X table and PBA, in whole pages). */
bool vfio_pci_msix_trap_range(const struct vfio_pci_layout *lay, unsigned int bar, uint64_t page,
			      uint64_t *start, uint64_t *end);

#endif
