/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest's side of a VFIO device (guest.c), pure and unit-tested on the
 * build machine: guest addresses for its regions, and its device tree
 * node, built from the host's and written into the guest's FDT.
 */
#ifndef LVMM_VFIO_GUEST_H
#define LVMM_VFIO_GUEST_H

#include <stdbool.h>
#include <stdint.h>

#include "host.h"

/* Guest addresses for regions: [base, end), handed out upwards. */
struct vfio_window {
	uint64_t base, end, next;
};

void vfio_window_init(struct vfio_window *w, uint64_t base, uint64_t size);
/*
 * Place a region of size bytes, aligned to its size rounded up to a power
 * of two (at least 64 KiB, at most 2 MiB). -E2BIG when it does not fit.
 */
int vfio_window_alloc(struct vfio_window *w, uint64_t size, uint64_t *gpa);

/* Phandles handed out while the devices of one VM are created. */
struct vfio_phandles {
	uint32_t next;
	uint32_t clk;		/* the apb_pclk node's; 0 until an AMBA device needs it */
};

/*
 * The guest's node of the index-th device from hd's host node: its name
 * and kept properties, the apb_pclk clock (one for the VM) if it is an
 * AMBA PrimeCell (amba: VFIO says so; else its compatible), and cfg's
 * gpio-keys. reg and interrupts are the caller's. Returns 0 or -errno
 * with a "vfio: NAME: ..." line in err.
 */
int vfio_guest_node_build(struct vfio_guest_node *node, const struct vfio_host_dev *hd,
			  bool amba, const struct vfio_config *cfg, unsigned int index,
			  struct vfio_phandles *ph, char *err, size_t errlen);

/*
 * Write the guest's nodes (the fixed clock if emit_clock, the device, its
 * gpio-keys) into an FDT being built, positioned inside the root node.
 */
int vfio_fdt_nodes(void *fdt, const struct vfio_guest_node *n);

/* Fixed clock that AMBA PrimeCell devices get as apb_pclk. */
#define VFIO_APB_PCLK_HZ 24000000

#endif
