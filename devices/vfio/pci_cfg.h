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

/* The part [*start, *end) of BAR bar that must be trapped (MSI-X table and PBA, in whole pages). */
bool vfio_pci_msix_trap_range(const struct vfio_pci_layout *lay, unsigned int bar, uint64_t page,
			      uint64_t *start, uint64_t *end);

#endif
