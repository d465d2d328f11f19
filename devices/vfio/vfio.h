/* SPDX-License-Identifier: GPL-2.0 */
/*
 * VFIO platform and AMBA passthrough: a host device bound to vfio-platform
 * or vfio-amba is given to the guest. Its MMIO regions are mmapped from
 * VFIO and mapped into the guest with KVM memory slots (regions VFIO will
 * not let us mmap are trapped and forwarded with pread/pwrite); each of its
 * interrupts is an SPI that KVM raises from an irqfd, level ones lowered and
 * unmasked again through a resamplefd wired to VFIO's UNMASK, so no
 * interrupt passes through lvmm. The guest's device tree node is built from
 * the host's own node.
 *
 * This is what the VM needs; the pieces are in devices/vfio/ (internal.h:
 * containers and groups, regions, the trap device, interrupts; host.h: the
 * pure part the unit tests use).
 */
#ifndef LVMM_VFIO_H
#define LVMM_VFIO_H

#include <stdint.h>

#include "../device.h"
#include "../../options.h"

/* What the VM gives VFIO devices, besides the usual device environment. */
struct vfio_env {
	struct device_env dev;		/* RAM (for DMA maps), irqfd, map_mmio */
	unsigned int (*alloc_spi)(void *ctx); /* ctx is dev.ctx; 0: none left */
	uint64_t window_base, window_size; /* guest addresses for device regions */
	uint32_t first_phandle;		/* FDT phandles from here up are ours */
	const char *root;		/* prefix of /sys and /dev ("" but in tests) */
};

/*
 * Open, map and wire every --vfio-platform device and add it to list (with
 * a trap device for each region that is not mapped). Returns 0, or -errno
 * after printing one line that says what is wrong; devices already on the
 * list are undone by their ops->free like every other device.
 */
int vfio_devices_create(const struct vfio_config *cfgs, unsigned int nr,
			const struct vfio_env *env, struct device_list *list);

struct pci_host;

/*
 * Open, map and wire every --vfio-pci device as a function on host and add
 * it to list. env->dev.msi_irqfd_add set: MSI-X goes to the ITS. Returns 0,
 * or -errno after printing one line that says what is wrong.
 */
int vfio_pci_devices_create(const struct vfio_pci_config *cfgs, unsigned int nr,
			    const struct vfio_env *env, struct pci_host *host,
			    struct device_list *list);

/* Phandles 1 and 2 are the GIC's and the ITS's (irq/irq.h). */
#define VFIO_FIRST_PHANDLE 3

#endif
