/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest's physical memory map. Devices below 1 GiB, RAM from 1 GiB up
 * (the same split as QEMU's "virt" board, which guests know well).
 */
#ifndef LVMM_MEMMAP_H
#define LVMM_MEMMAP_H

#define GIC_DIST_BASE		0x08000000ULL
#define GICV2_DIST_SIZE		0x1000ULL
#define GICV2_CPU_BASE		0x08010000ULL
#define GICV2_CPU_SIZE		0x2000ULL	/* KVM's GICv2 CPU interface */
#define GICV3_DIST_SIZE		0x10000ULL
#define GICV3_ITS_BASE		0x08080000ULL
#define GICV3_ITS_SIZE		0x20000ULL
#define GICV3_REDIST_BASE	0x080a0000ULL
#define GICV3_REDIST_FRAME_SIZE	0x20000ULL	/* RD + SGI frames per vCPU */
#define GICV3_REDIST_END	0x09000000ULL

#define UART0_BASE		0x09000000ULL

#define VIRTIO_MMIO_BASE	0x0a000000ULL

/*
 * PCI (devices/pci/host.c): ECAM for bus 0, the 32-bit BAR window in the free space
 * below the VFIO window, and a 64-bit window at 512 GiB, beyond the most RAM
 * the 40-bit default IPA space leaves (RAM ends below it).
 */
#define PCI_ECAM_BASE		0x0b000000ULL
#define PCI_ECAM_SIZE		0x00100000ULL	/* one bus */
#define PCI_MMIO32_BASE		0x0c000000ULL
#define PCI_MMIO32_SIZE		0x04000000ULL	/* up to the VFIO window */
#define PCI_MMIO64_BASE		0x8000000000ULL
#define PCI_MMIO64_SIZE		0x8000000000ULL

/* Regions of VFIO passthrough devices, mapped or trapped. */
#define VFIO_MMIO_BASE		0x10000000ULL
#define VFIO_MMIO_SIZE		0x30000000ULL	/* up to RAM */

#define RAM_BASE		0x40000000ULL

#endif
