/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The interrupt controller: one interface over KVM's in-kernel GIC models
 * (GICv2, GICv3, GICv3 + ITS), SPI allocation for devices, and driving SPI
 * lines. Each model is an ops table (gicv2.c, gicv3.c); model.c and fdt.c
 * are pure logic that the unit tests use without KVM.
 */
#ifndef LVMM_IRQ_H
#define LVMM_IRQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../options.h"

/* Where the GIC's frames sit in the guest's physical address space. */
struct gic_layout {
	int version;			/* 2 or 3 */
	bool its;
	uint64_t dist_base, dist_size;
	uint64_t cpu_base, cpu_size;	/* GICv2 CPU interface */
	uint64_t redist_base, redist_size; /* GICv3: one 128 KiB frame per vCPU */
	uint64_t its_base, its_size;
};

#define GIC_PHANDLE 1
#define GIC_ITS_PHANDLE 2

/* Bit masks of enum irqchip_model values. */
#define IRQCHIP_MASK(m) (1U << (m))

/* Total interrupt IDs the vGIC is given: 32 private + SPIs. */
#define GIC_NR_IRQS 256
#define GIC_FIRST_SPI 32
#define GICV2_MAX_CPUS 8

/*
 * Pick the model for a request: auto takes the first of gicv3-its, gicv3,
 * gicv2 that `offered` has. Returns 0 or -ENODEV with a message in err.
 */
int irqchip_select(enum irqchip_model requested, unsigned int offered,
		   enum irqchip_model *chosen, char *err, size_t errlen);
/* "gicv3-its, gicv3" for a mask; "none" when empty. */
void irqchip_mask_names(unsigned int mask, char *buf, size_t len);

/* The GIC's layout for a model and vCPU count (the guest memory map). */
void gic_layout_for(enum irqchip_model model, unsigned int nr_cpus, struct gic_layout *layout);
/* Largest vCPU count the model's layout can hold. */
unsigned int gic_max_cpus(enum irqchip_model model);

/* FDT: the GIC node (and ITS child); phandle GIC_PHANDLE. */
int gic_fdt_node(void *fdt, const struct gic_layout *layout);

/*
 * The GSI routing table lvmm programs with KVM_SET_GSI_ROUTING (it replaces
 * KVM's default table as a whole). SPI routes use gsi = INTID - 32, the
 * convention KVM's default table follows; MSI routes (to the ITS) take GSIs
 * from IRQ_MSI_GSI_BASE up.
 */
enum irq_route_type { IRQ_ROUTE_SPI, IRQ_ROUTE_MSI };

struct irq_route {
	uint32_t gsi;
	enum irq_route_type type;
	uint32_t intid;			/* SPI */
	uint64_t msi_addr;		/* MSI: doorbell (GITS_TRANSLATER) */
	uint32_t msi_data;		/* MSI: event ID */
	uint32_t msi_devid;		/* MSI: device ID (KVM_MSI_VALID_DEVID) */
};

#define IRQ_MSI_GSI_BASE 1024

struct irq_routes {
	struct irq_route *routes;
	unsigned int nr, cap;
	uint32_t next_msi_gsi;
};

void irq_routes_init(struct irq_routes *r);
void irq_routes_free(struct irq_routes *r);
/* Route an SPI; adding the same SPI again returns the same GSI. */
int irq_routes_add_spi(struct irq_routes *r, unsigned int intid, uint32_t *gsi);
int irq_routes_add_msi(struct irq_routes *r, uint64_t addr, uint32_t data, uint32_t devid,
		       uint32_t *gsi);
const struct irq_route *irq_routes_find(const struct irq_routes *r, uint32_t gsi);
int irq_routes_remove(struct irq_routes *r, uint32_t gsi);

struct irqchip;

struct irqchip_ops {
	const char *name;
	/* KVM_CREATE_DEVICE and frame addresses: before vCPUs exist. */
	int (*create)(struct irqchip *chip);
	/* NR_IRQS and CTRL_INIT: after every vCPU is created and initialised. */
	int (*finalize)(struct irqchip *chip);
};

struct irqchip {
	const struct irqchip_ops *ops;
	enum irqchip_model model;
	int vm_fd;
	int gic_fd;		/* -1 until created */
	int its_fd;		/* -1 without an ITS */
	unsigned int nr_cpus;
	unsigned int nr_irqs;
	unsigned int next_spi;	/* next free INTID */
	bool initialized;
	struct gic_layout layout;
	struct irq_routes routes;
	struct irqfd *irqfds;	/* registered, or queued until CTRL_INIT */
	unsigned int irq_line_calls[GIC_NR_IRQS]; /* KVM_IRQ_LINE per INTID */
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

struct state_writer;
struct state_reader;

/*
 * Snapshots (gic_state.c). All vCPUs must be out of KVM_RUN. flush writes
 * KVM's LPI pending tables and ITS tables into guest RAM, before RAM is
 * saved. save/restore take each vCPU's MPIDR (the redistributor and CPU
 * interface attributes name vCPUs by affinity). restore runs after
 * irqchip_finalize. Errors: -errno with a message in err.
 */
int irqchip_flush_to_ram(struct irqchip *chip, char *err, size_t errlen);
int irqchip_save(struct irqchip *chip, struct state_writer *w, const uint64_t *mpidrs,
		 char *err, size_t errlen);
int irqchip_restore(struct irqchip *chip, const struct state_reader *r, const uint64_t *mpidrs,
		    char *err, size_t errlen);

/* Helpers for the model backends. */
int gic_set_attr(int fd, uint32_t group, uint64_t attr, const void *val);
int gic_has_attr(int fd, uint32_t group, uint64_t attr);

extern const struct irqchip_ops gicv2_ops;
extern const struct irqchip_ops gicv3_ops;

#endif
