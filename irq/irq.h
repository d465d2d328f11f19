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

/* Helpers for the model backends. */
int gic_set_attr(int fd, uint32_t group, uint64_t attr, const void *val);
int gic_has_attr(int fd, uint32_t group, uint64_t attr);

extern const struct irqchip_ops gicv2_ops;
extern const struct irqchip_ops gicv3_ops;

#endif
