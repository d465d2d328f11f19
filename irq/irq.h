/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The interrupt controller: one interface over KVM's in-kernel irqchip
 * models, SPI allocation for devices, GSI routes and irqfds, and driving
 * SPI lines. The generic part (irq.c) knows no register and no attribute
 * group: everything model-specific sits behind struct irqchip_ops.
 *
 * Files:
 *   irq.c       generic: create/finalize/destroy, SPIs, routes, irqfds, and
 *               flush/save/restore dispatched to the model's ops
 *   registry.c  the list of models lvmm can create
 *   gicv2.c     KVM's vGICv2: create, finalize, state (ops gicv2_ops)
 *   gicv3.c     KVM's vGICv3: create, finalize, state (ops gicv3_ops)
 *   its.c       the ITS component; gicv3-its = gicv3 + ITS (gicv3_its_ops)
 *   gic_regs.c  register helpers the GIC models share (gic.h): attributes,
 *               MPIDR encoding, runs of registers, line levels, IIDR
 *   model.c, fdt.c, routes.c  pure logic (model.h, routes.h): model choice,
 *               frame layout, FDT node, routing table; unit-tested
 *
 * Adding a model (say a GICv4.1, or another architecture's in-kernel
 * irqchip): write one file implementing struct irqchip_ops (probe, create,
 * finalize, destroy, flush, save, restore; per-model state behind
 * chip->priv), add its ops to the table in registry.c, its name to enum
 * irqchip_model (options.h/options.c), its file to SRCS in the Makefile, and
 * its frames to model.c (layout) and fdt.c (node) when the guest must see them.
 * Nothing in irq.c changes.
 */
#ifndef LVMM_IRQ_H
#define LVMM_IRQ_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../options.h"
#include "model.h"
#include "routes.h"

struct irqchip;
struct state_writer;
struct state_reader;

/*
 * One irqchip model. create, finalize, destroy and restore run on the main
 * thread; flush and save on the thread that takes a snapshot (the control
 * thread, under the VM's op_lock). State calls (flush, save, restore) need
 * every vCPU out of KVM_RUN; they return 0 or -errno with a message in err.
 */
struct irqchip_ops {
	const char *name;
	enum irqchip_model model;
	/* Can this host's KVM create the model? (no device is left behind) */
	bool (*probe)(int vm_fd);
	/*
	 * Create the in-kernel device and place its frames (chip->layout):
	 * before vCPUs exist. May leave partial state for destroy to undo.
	 */
	int (*create)(struct irqchip *chip);
	/* NR_IRQS and CTRL_INIT: after every vCPU is created and initialised. */
	int (*finalize)(struct irqchip *chip);
	/* Close the model's devices and free chip->priv (also after a failed create). */
	void (*destroy)(struct irqchip *chip);
	/* Write state KVM keeps outside guest RAM (LPI pending, ITS tables) into it. */
	int (*flush)(struct irqchip *chip, char *err, size_t errlen);
	/* The model's snapshot sections; mpidrs: each vCPU's MPIDR. */
	int (*save)(struct irqchip *chip, struct state_writer *w, const uint64_t *mpidrs,
		    char *err, size_t errlen);
	/* After finalize and after guest RAM is in place, in the kernel's documented order. */
	int (*restore)(struct irqchip *chip, const struct state_reader *r,
		       const uint64_t *mpidrs, char *err, size_t errlen);
};

/* registry.c: every model, NULL-terminated. */
extern const struct irqchip_ops *const irqchip_models[];

/*
 * Threads. Fixed once irqchip_create returns, so any thread may read them:
 * ops, model, vm_fd, nr_cpus, nr_irqs, layout, priv (the model's device
 * fds). irq_line_calls is written by every thread that drives a line (vCPU
 * threads on the UART's MMIO, the UART's input thread) and read by --stats:
 * atomic. next_spi, initialized, routes and irqfds change only on the main
 * thread (bring-up, teardown), never while another thread uses them.
 */
struct irqchip {
	const struct irqchip_ops *ops;
	enum irqchip_model model;
	int vm_fd;
	unsigned int nr_cpus;
	unsigned int nr_irqs;
	unsigned int next_spi;	/* next free INTID */
	bool initialized;
	struct gic_layout layout; /* set by ops->create; the FDT and board read it */
	struct irq_routes routes;
	struct irqfd *irqfds;	/* registered, or queued until CTRL_INIT */
	void *priv;		/* the model's own state (devices, fds) */
	atomic_uint irq_line_calls[GIC_NR_IRQS]; /* KVM_IRQ_LINE per INTID */
};

/* An eventfd wired to a GSI by KVM_IRQFD. */
struct irqfd {
	uint32_t gsi;
	int fd;
	int resample_fd;	/* -1: edge (plain irqfd) */
	bool attached;
	struct irqfd *next;
};

/* Which models this host's KVM can create (IRQCHIP_MASK bits). */
unsigned int irqchip_host_models(int vm_fd);

int irqchip_create(int vm_fd, enum irqchip_model model, unsigned int nr_cpus,
		   struct irqchip **out);
int irqchip_finalize(struct irqchip *chip);
void irqchip_destroy(struct irqchip *chip);

/* Hand out the next free SPI; returns its INTID, or 0 when none is left. */
unsigned int irqchip_alloc_spi(struct irqchip *chip);

/*
 * Drive an SPI with KVM_IRQ_LINE. Used by devices emulated on the vCPU
 * thread whose line level is userspace state (the UART): there is no
 * eventfd to hand to an irqfd, and the level changes on the guest's own
 * MMIO accesses.
 */
int irqchip_set_spi(struct irqchip *chip, unsigned int intid, int level);
/* How many times irqchip_set_spi drove `intid` (any thread may ask). */
unsigned int irqchip_line_calls(struct irqchip *chip, unsigned int intid);

/*
 * Have KVM raise SPI `intid` whenever `fd` is signalled, with no trip
 * through lvmm. With resample_fd >= 0 the SPI is level: KVM lowers it when
 * the guest EOIs and then signals resample_fd (KVM_IRQFD_FLAG_RESAMPLE).
 * Before the vGIC is initialised the request is queued, and attached by
 * irqchip_finalize after CTRL_INIT and the routing table.
 */
int irqchip_add_irqfd(struct irqchip *chip, unsigned int intid, int fd, int resample_fd);
/* KVM_IRQFD_FLAG_DEASSIGN for an fd added above. */
int irqchip_remove_irqfd(struct irqchip *chip, int fd);
/*
 * An MSI (to the ITS: addr is GITS_TRANSLATER, data the event id, devid
 * the requester id, KVM_MSI_VALID_DEVID) as a GSI route, and fd an irqfd on
 * it: a PCI function's MSI-X vector. remove detaches fd and drops the route.
 */
int irqchip_add_msi_irqfd(struct irqchip *chip, uint64_t addr, uint32_t data, uint32_t devid,
			  int fd, uint32_t *gsi);
int irqchip_remove_msi_irqfd(struct irqchip *chip, uint32_t gsi, int fd);
/* Program the routing table (KVM_SET_GSI_ROUTING). */
int irqchip_commit_routes(struct irqchip *chip);

/*
 * Snapshots, through the model's ops. All vCPUs must be out of KVM_RUN.
 * flush writes KVM's LPI pending tables and ITS tables into guest RAM,
 * before RAM is saved. save/restore take each vCPU's MPIDR (the
 * redistributor and CPU interface attributes name vCPUs by affinity).
 * restore runs after irqchip_finalize. Errors: -errno with a message in err.
 */
int irqchip_flush_to_ram(struct irqchip *chip, char *err, size_t errlen);
int irqchip_save(struct irqchip *chip, struct state_writer *w, const uint64_t *mpidrs,
		 char *err, size_t errlen);
int irqchip_restore(struct irqchip *chip, const struct state_reader *r, const uint64_t *mpidrs,
		    char *err, size_t errlen);

#endif
