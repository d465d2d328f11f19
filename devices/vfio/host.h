/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The pure part of VFIO passthrough, unit-tested on the build machine:
 * host.c finds the device in sysfs and says what is wrong with it, and
 * reads its host device tree node; guest.c places regions in the guest's
 * window, filters the host node's properties and builds and writes the
 * guest's node. Everything takes a root prefix for /sys, so the tests run
 * it on a fake tree.
 */
#ifndef LVMM_VFIO_HOST_H
#define LVMM_VFIO_HOST_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../options.h"

#define VFIO_MAX_REGIONS 16
#define VFIO_MAX_IRQS 16

/* The host device as sysfs describes it. */
struct vfio_host_dev {
	char name[64];			/* e.g. 9010000.pl031 */
	char path[PATH_MAX];		/* its directory under /sys/devices */
	char bus[16];			/* platform or amba */
	char driver[64];		/* vfio-amba, ...; "" when unbound */
	int group;			/* IOMMU group number */
	bool noiommu;			/* a VFIO no-IOMMU group */
	char group_dev[PATH_MAX];	/* /dev/vfio/N or /dev/vfio/noiommu-N */
	char of_node[PATH_MAX];		/* its device tree node; "" if none */
};

/*
 * Find DEVICE (a name on the platform or amba bus, or a sysfs path) under
 * root and check it is bound to vfio-platform or vfio-amba and has an IOMMU
 * group. Returns 0, or -errno with a one-line "vfio: NAME: ..." in err that
 * says what is wrong and how to fix it.
 */
int vfio_host_lookup(const char *root, const char *device, struct vfio_host_dev *hd,
		     char *err, size_t errlen);

/*
 * The other devices of hd's IOMMU group that keep it from being viable
 * (bound to a driver that is not VFIO's), as "NAME (DRIVER), ..." in buf.
 * Returns how many there are.
 */
int vfio_group_blockers(const struct vfio_host_dev *hd, char *buf, size_t len);

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

/* Is a host node property copied into the guest's node? */
bool vfio_dt_prop_kept(const char *name);

struct vfio_dt_prop {
	char *name;
	void *val;
	size_t len;
};

struct vfio_guest_irq {
	unsigned int intid;
	bool level;
};

/* Everything the guest's device tree gets for one device. */
struct vfio_guest_node {
	char name[64];			/* host node name without unit address */
	struct vfio_dt_prop *props;	/* host properties kept, compatible first */
	unsigned int nr_props;
	uint64_t reg[VFIO_MAX_REGIONS][2]; /* guest address, size */
	unsigned int nr_regs;
	struct vfio_guest_irq irqs[VFIO_MAX_IRQS];
	unsigned int nr_irqs;
	uint32_t clk_phandle;		/* AMBA: its apb_pclk; 0 for none */
	bool emit_clock;		/* also write the apb_pclk fixed clock node */
	uint32_t phandle;		/* 0: none (one is given for gpio keys) */
	const struct vfio_gpio_key *keys;
	unsigned int nr_keys;
	unsigned int index;		/* nth VFIO device: names gpio-keys-N */
	const char *host_name;		/* for key labels */
};

/*
 * Read the host node at of_node (a directory of property files) into n:
 * its name and the properties vfio_dt_prop_kept() keeps. Returns 0 or
 * -errno with a message in err.
 */
int vfio_dt_read_node(const char *of_node, struct vfio_guest_node *n, char *err, size_t errlen);
const struct vfio_dt_prop *vfio_dt_find(const struct vfio_guest_node *n, const char *name);
void vfio_guest_node_free(struct vfio_guest_node *n);

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
