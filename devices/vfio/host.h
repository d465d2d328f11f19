/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The host's side of a VFIO device (host.c), pure and unit-tested on the
 * build machine: finding it in sysfs and saying what is wrong with it,
 * the devices that keep its IOMMU group from being viable, and its host
 * device tree node read with the properties the guest keeps. Everything
 * takes a root prefix for /sys, so the tests run it on a fake tree.
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
	char bus[16];			/* platform, amba or pci */
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
 * Find PCI device ADDR (canonical DDDD:BB:DD.F) under root and check it is
 * bound to vfio-pci in a real (not no-IOMMU) IOMMU group. 0, or -errno
 * with a one-line "vfio: ADDR: ..." that says how to fix it.
 */
int vfio_host_lookup_pci(const char *root, const char *addr, struct vfio_host_dev *hd,
			 char *err, size_t errlen);

/*
 * The other devices of hd's IOMMU group that keep it from being viable
 * (bound to a driver that is not VFIO's), as "NAME (DRIVER), ..." in buf.
 * Returns how many there are.
 */
int vfio_group_blockers(const struct vfio_host_dev *hd, char *buf, size_t len);

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

#endif
