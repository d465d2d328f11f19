/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The GIC models as the guest sees them: which one to pick, where its frames
 * sit, its device tree node. Pure logic (model.c, fdt.c) that the unit tests
 * use without KVM; it knows nothing of irq.c, and irq.c calls none of it.
 */
#ifndef LVMM_IRQ_MODEL_H
#define LVMM_IRQ_MODEL_H

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

#endif
