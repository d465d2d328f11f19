/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The pieces of VFIO passthrough that any VFIO device is built from (the
 * platform/AMBA device in platform.c today, VFIO-PCI next):
 *
 *   container.c  containers and groups, shared by the devices of one VM;
 *                opening a device fd by name; guest RAM mapped for DMA
 *   region.c     region info; a region mmapped into the guest, or trapped
 *   trap.c       the trap device: guest MMIO forwarded to the region
 *   irq.c        interrupts: eventfd -> irqfd, level ones unmasked by VFIO
 *                from KVM's resamplefd
 *
 * Functions return 0 or -errno and, where they take one, fill err with a
 * one-line "vfio: NAME: ..." at the step that failed; the caller prints it.
 */
#ifndef LVMM_VFIO_INTERNAL_H
#define LVMM_VFIO_INTERNAL_H

#include <linux/vfio.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guest.h"
#include "host.h"
#include "../device.h"

/* ---- container.c ---------------------------------------------------------- */

/*
 * The VFIO containers of one VM (type1 and no-IOMMU groups cannot share
 * one) and the groups in them, each opened once however many of its
 * devices are passed through. Every device holds a reference; the last
 * one put closes the groups, then the containers.
 */
struct vfio_containers;

/* root prefixes /dev; mem is guest RAM, mapped for DMA in a type1 container. */
int vfio_containers_new(const char *root, const struct guest_mem *mem,
			struct vfio_containers **out, char *err, size_t errlen);
struct vfio_containers *vfio_containers_get(struct vfio_containers *cs);
void vfio_containers_put(struct vfio_containers *cs);

/*
 * The fd of device hd->name: its group opened (once per VM), checked
 * viable and set in the container for its IOMMU kind, the container's
 * IOMMU chosen and guest RAM mapped the first time, then
 * VFIO_GROUP_GET_DEVICE_FD; and what VFIO_DEVICE_GET_INFO says of it
 * (its kind, regions and IRQ indexes). The caller closes *fd once it is
 * >= 0, even when this fails.
 */
int vfio_device_open(struct vfio_containers *cs, const struct vfio_host_dev *hd, int *fd,
		     struct vfio_device_info *info, char *err, size_t errlen);

/* ---- region.c ------------------------------------------------------------- */

struct vfio_region {
	uint64_t size;
	uint64_t offset;	/* in the device fd */
	uint32_t flags;		/* VFIO_REGION_INFO_FLAG_* */
	uint64_t gpa;		/* set by the device before vfio_region_setup */
	void *map;		/* the mmap when mapped into the guest, else NULL */
	bool slot;		/* map is in a KVM memory slot */
};

/* VFIO_DEVICE_GET_REGION_INFO for region index of the device (named name). */
int vfio_region_info(int fd, unsigned int index, struct vfio_region *r, const char *name,
		     char *err, size_t errlen);

/*
 * Give the guest region index at r->gpa: mmapped into a KVM memory slot
 * when allowed (may_mmap) and VFIO lets us, else *trap is a new trap
 * device (trap.c, named trap_name) for the caller to add to the device
 * list. *trap stays NULL for a mapped region.
 */
int vfio_region_setup(const struct device_env *env, int fd, unsigned int index,
		      struct vfio_region *r, bool may_mmap, const char *name,
		      const char *trap_name, struct device **trap, char *err, size_t errlen);

/* Undo vfio_region_setup's mapping (a trap is freed as a device). */
int vfio_region_release(const struct device_env *env, struct vfio_region *r);

/* ---- trap.c --------------------------------------------------------------- */

/*
 * A device over [gpa, gpa + size) whose reads and writes go to region
 * (at offset of fd) with pread/pwrite. fd stays the owner's to close; the
 * trap must be freed (by its ops->free) before it is. NULL: no memory.
 */
struct device *vfio_trap_new(int fd, uint64_t offset, unsigned int region, uint64_t gpa,
			     uint64_t size, const char *name, const char *host_name);

/* ---- irq.c ---------------------------------------------------------------- */

/* One eventfd interrupt: vector sub of VFIO IRQ index, raised as intid. */
struct vfio_irq {
	uint32_t index;		/* VFIO IRQ index */
	uint32_t sub;		/* vector within the index (PCI MSI/MSI-X) */
	unsigned int intid;
	bool level;
	int trigger_fd;		/* KVM raises intid when VFIO signals it */
	int resample_fd;	/* level: KVM signals it on EOI, VFIO unmasks */
	bool irqfd;		/* registered with the irqchip */
	bool armed;		/* handed to VFIO with SET_IRQS */
};

void vfio_irq_init(struct vfio_irq *irq, uint32_t index, uint32_t sub);

/* VFIO_DEVICE_GET_IRQ_INFO for index. */
int vfio_irq_info(int fd, uint32_t index, struct vfio_irq_info *info, const char *name,
		  char *err, size_t errlen);

/* SET_IRQS with DATA_NONE: every vector of index off. Returns 0 or -errno. */
int vfio_irq_disable(int fd, uint32_t index);

/*
 * The eventfds of irq (intid and level set), registered with the irqchip
 * as an irqfd, with the resamplefd for a level interrupt.
 */
int vfio_irq_wire(const struct device_env *env, struct vfio_irq *irq, const char *name,
		  char *err, size_t errlen);

/*
 * Hand the eventfds to VFIO: the trigger, and for a level interrupt the
 * resamplefd as the unmask. Call once the irqfds are attached.
 */
int vfio_irq_start(int fd, struct vfio_irq *irq, const char *name, char *err, size_t errlen);

/*
 * Take them back (nothing signals the eventfds afterwards): the whole
 * index off, and the unmask eventfd. 0 or the first -errno.
 */
int vfio_irq_stop(int fd, struct vfio_irq *irq);

/* Stop, remove the irqfd, close the eventfds; 0 or the first -errno. */
int vfio_irq_release(const struct device_env *env, int fd, struct vfio_irq *irq);

#endif
