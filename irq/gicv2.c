// SPDX-License-Identifier: GPL-2.0
/*
 * KVM's vGICv2 (Documentation/virt/kvm/devices/arm-vgic.rst): the device,
 * and its state. Distributor and CPU interface registers are addressed with
 * a vCPU index; IRQs 0-31 are banked per vCPU and saved with that vCPU's
 * CPU interface in "gic.cpu.N", the SPIs in "gic.dist".
 */
#include "gic.h"
#include "../state/state.h"
#include "../util.h"

#include <errno.h>
#include <linux/kvm.h>
#include <string.h>

#define GICD_ITARGETSR	0x0800
#define GICD_CPENDSGIR	0x0f10
#define GICD_SPENDSGIR	0x0f20

/* CPU interface */
#define GICC_CTLR	0x00
#define GICC_PMR	0x04
#define GICC_BPR	0x08
#define GICC_ABPR	0x1c
#define GICC_APR0	0xd0

/* CPU interface registers sit in gic.cpu.N under keys above the distributor's. */
#define KEY_GICC	0x100000

#define V2_CPU(cpu) ((uint64_t)(cpu) << KVM_DEV_ARM_VGIC_CPUID_SHIFT)

static bool gicv2_probe(int vm_fd)
{
	return gic_can_create(vm_fd, KVM_DEV_TYPE_ARM_VGIC_V2);
}

static int gicv2_create(struct irqchip *chip)
{
	const struct gic_layout *l = &chip->layout;
	struct gic *gic;
	int fd, ret;

	gic_layout_for(IRQCHIP_GICV2, chip->nr_cpus, &chip->layout);
	ret = gic_alloc(chip);
	if (ret)
		return ret;
	gic = to_gic(chip);
	fd = gic_create_device(chip->vm_fd, KVM_DEV_TYPE_ARM_VGIC_V2);
	if (fd < 0) {
		pr_err("gicv2: KVM_CREATE_DEVICE: %s", strerror(-fd));
		return fd;
	}
	gic->fd = fd;
	ret = gic_set_attr(fd, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V2_ADDR_TYPE_DIST,
			   &l->dist_base);
	if (!ret)
		ret = gic_set_attr(fd, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V2_ADDR_TYPE_CPU,
				   &l->cpu_base);
	if (ret)
		pr_err("gicv2: setting frame addresses: %s", strerror(-ret));
	return ret;
}

static int gicv2_finalize(struct irqchip *chip)
{
	return gic_init_device(chip, "gicv2");
}

/* Nothing of a GICv2's state lives outside its registers. */
static int gicv2_flush(struct irqchip *chip, char *err, size_t errlen)
{
	return 0;
}

static void gicv2_save_dist(struct gic_io *io, struct state_writer *w, unsigned int nr_irqs)
{
	const struct gic_bank d = { KVM_DEV_ARM_VGIC_GRP_DIST_REGS, 0, 4, 0, false };

	sw_begin(w, "gic.dist", 1);
	gic_save(io, w, &d, GICD_IIDR);
	gic_save(io, w, &d, GICD_CTLR);
	for (unsigned int i = 32; i < nr_irqs; i += 32) {
		gic_save(io, w, &d, GICD_IGROUPR + i / 8);
		gic_save(io, w, &d, GICD_ISENABLER + i / 8);
		gic_save(io, w, &d, GICD_ISPENDR + i / 8);
		gic_save(io, w, &d, GICD_ISACTIVER + i / 8);
		gic_save_run(io, w, &d, GICD_ICFGR + i / 4, 2);
		for (unsigned int k = 0; k < 8; k++) {
			gic_save(io, w, &d, GICD_IPRIORITYR + i + 4 * k);
			gic_save(io, w, &d, GICD_ITARGETSR + i + 4 * k);
		}
	}
	sw_end(w);
}

/* IRQs 0-31 are banked: saved for every vCPU, as is its CPU interface. */
static void gicv2_save_cpu(struct gic_io *io, struct state_writer *w, unsigned int cpu)
{
	const struct gic_bank d = { KVM_DEV_ARM_VGIC_GRP_DIST_REGS, V2_CPU(cpu), 4, 0, false };
	const struct gic_bank c = { KVM_DEV_ARM_VGIC_GRP_CPU_REGS, V2_CPU(cpu), 4, KEY_GICC,
				    true };

	gic_begin_cpu_section(w, "cpu", cpu);
	gic_save(io, w, &d, GICD_IGROUPR);
	gic_save(io, w, &d, GICD_ISENABLER);
	gic_save(io, w, &d, GICD_ISPENDR);
	gic_save(io, w, &d, GICD_ISACTIVER);
	gic_save(io, w, &d, GICD_ICFGR + 4);
	gic_save_run(io, w, &d, GICD_IPRIORITYR, 8);
	gic_save_run(io, w, &d, GICD_SPENDSGIR, 4);
	gic_save_run(io, w, &c, GICC_CTLR, 3);	/* CTLR, PMR, BPR */
	gic_save(io, w, &c, GICC_ABPR);
	gic_save_run(io, w, &c, GICC_APR0, 4);
	sw_end(w);
}

static int gicv2_save(struct irqchip *chip, struct state_writer *w, const uint64_t *mpidrs,
		      char *err, size_t errlen)
{
	struct gic_io io = { to_gic(chip)->fd, err, errlen, 0 };

	gicv2_save_dist(&io, w, chip->nr_irqs);
	for (unsigned int c = 0; c < chip->nr_cpus; c++)
		gicv2_save_cpu(&io, w, c);
	return io.ret;
}

/*
 * Interrupts first to end (banked: 0-31 of one vCPU; else SPIs): group,
 * enable, then (SPIs) configuration and targets, before pending, active
 * and priority.
 */
static void gicv2_restore_irqs(struct gic_io *io, const struct state_section *s, uint64_t hi,
			       unsigned int first, unsigned int end, bool banked)
{
	const struct gic_bank d = { KVM_DEV_ARM_VGIC_GRP_DIST_REGS, hi, 4, 0, false };

	for (unsigned int i = first; i < end; i += 32) {
		gic_restore(io, s, &d, GICD_IGROUPR + i / 8);
		gic_restore_set_clear(io, s, &d, GICD_ISENABLER + i / 8, GICD_ICENABLER + i / 8);
		if (!banked) {
			gic_restore(io, s, &d, GICD_ICFGR + i / 4);
			gic_restore_run(io, s, &d, GICD_ITARGETSR + i, 8);
		}
		gic_restore(io, s, &d, GICD_ICFGR + i / 4 + 4);
		gic_restore_set_clear(io, s, &d, GICD_ISPENDR + i / 8, GICD_ICPENDR + i / 8);
		gic_restore_set_clear(io, s, &d, GICD_ISACTIVER + i / 8, GICD_ICACTIVER + i / 8);
		gic_restore_run(io, s, &d, GICD_IPRIORITYR + i, 8);
	}
}

/* One vCPU: its banked interrupts, pending SGIs, then its CPU interface. */
static void gicv2_restore_cpu(struct gic_io *io, const struct state_section *s, unsigned int cpu)
{
	const struct gic_bank d = { KVM_DEV_ARM_VGIC_GRP_DIST_REGS, V2_CPU(cpu), 4, 0, false };
	const struct gic_bank c = { KVM_DEV_ARM_VGIC_GRP_CPU_REGS, V2_CPU(cpu), 4, KEY_GICC,
				    true };

	gicv2_restore_irqs(io, s, V2_CPU(cpu), 0, 32, true);
	/* Pending SGIs: clear all sources, then set the saved ones. */
	for (unsigned int k = 0; k < 4; k++)
		gic_restore_set_clear(io, s, &d, GICD_SPENDSGIR + 4 * k, GICD_CPENDSGIR + 4 * k);
	gic_restore_run(io, s, &c, GICC_CTLR, 3);
	gic_restore(io, s, &c, GICC_ABPR);
	gic_restore_run(io, s, &c, GICC_APR0, 4);
}

/*
 * The order, in one place: GICD_IIDR before anything else (CPU registers
 * too), GICD_CTLR; per vCPU its banked interrupts and CPU interface; then
 * the SPIs.
 */
static int gicv2_restore(struct irqchip *chip, const struct state_reader *r,
			 const uint64_t *mpidrs, char *err, size_t errlen)
{
	const struct gic_bank d = { KVM_DEV_ARM_VGIC_GRP_DIST_REGS, 0, 4, 0, false };
	struct gic_io io = { to_gic(chip)->fd, err, errlen, 0 };
	const struct state_section *dist = gic_section(&io, r, "gic.dist");

	if (dist) {
		gic_restore_iidr(&io, dist);
		gic_restore(&io, dist, &d, GICD_CTLR);
	}
	for (unsigned int c = 0; c < chip->nr_cpus; c++) {
		const struct state_section *s = gic_cpu_section(&io, r, "cpu", c);

		if (s)
			gicv2_restore_cpu(&io, s, c);
	}
	if (dist)
		gicv2_restore_irqs(&io, dist, 0, 32, chip->nr_irqs, false);
	return io.ret;
}

const struct irqchip_ops gicv2_ops = {
	.name = "gicv2",
	.model = IRQCHIP_GICV2,
	.probe = gicv2_probe,
	.create = gicv2_create,
	.finalize = gicv2_finalize,
	.destroy = gic_free,
	.flush = gicv2_flush,
	.save = gicv2_save,
	.restore = gicv2_restore,
};
