// SPDX-License-Identifier: GPL-2.0
/*
 * KVM's vGICv3 (Documentation/virt/kvm/devices/arm-vgic-v3.rst): the
 * device, and its state. Frame addresses are set at create time, before
 * any vCPU exists; NR_IRQS and CTRL_INIT once they all do. State sections:
 * "gic.dist" (SPIs), "gic.redist.N" (LPI bases, SGIs/PPIs), "gic.cpu.N"
 * (ICC system registers); the redistributor and ICC attributes name a vCPU
 * by its MPIDR. The ITS is a separate component (its.c).
 */
#include "gic.h"
#include "../state/state.h"
#include "../util.h"

#include <errno.h>
#include <linux/kvm.h>
#include <string.h>

#define GICD_IGRPMODR	0x0d00
#define GICD_IROUTER	0x6000

/* Redistributor: RD frame, then the SGI frame at 64 KiB */
#define GICR_CTLR	0x0000
#define GICR_PROPBASER	0x0070
#define GICR_PENDBASER	0x0078
#define GICR_SGI	0x10000

/* ICC system registers: Op0 Op1 CRn CRm Op2 as in KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS. */
#define ICC(op0, op1, crn, crm, op2) \
	(((op0) << 14) | ((op1) << 11) | ((crn) << 7) | ((crm) << 3) | (op2))
#define ICC_PMR_EL1	ICC(3, 0, 4, 6, 0)
#define ICC_BPR0_EL1	ICC(3, 0, 12, 8, 3)
#define ICC_AP0R_EL1(n)	ICC(3, 0, 12, 8, 4 + (n))
#define ICC_AP1R_EL1(n)	ICC(3, 0, 12, 9, (n))
#define ICC_BPR1_EL1	ICC(3, 0, 12, 12, 3)
#define ICC_CTLR_EL1	ICC(3, 0, 12, 12, 4)
#define ICC_SRE_EL1	ICC(3, 0, 12, 12, 5)
#define ICC_IGRPEN0_EL1	ICC(3, 0, 12, 12, 6)
#define ICC_IGRPEN1_EL1	ICC(3, 0, 12, 12, 7)

bool gicv3_probe(int vm_fd)
{
	return gic_can_create(vm_fd, KVM_DEV_TYPE_ARM_VGIC_V3);
}

int gicv3_create(struct irqchip *chip)
{
	const struct gic_layout *l = &chip->layout;
	int fd, ret;

	gic_layout_for(chip->model, chip->nr_cpus, &chip->layout);
	ret = gic_alloc(chip);
	if (ret)
		return ret;
	fd = gic_create_device(chip->vm_fd, KVM_DEV_TYPE_ARM_VGIC_V3);
	if (fd < 0) {
		pr_err("gicv3: KVM_CREATE_DEVICE: %s", strerror(-fd));
		return fd;
	}
	to_gic(chip)->fd = fd;
	ret = gic_set_attr(fd, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_DIST,
			   &l->dist_base);
	if (!ret)
		ret = gic_set_attr(fd, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_REDIST,
				   &l->redist_base);
	if (ret)
		pr_err("gicv3: setting frame addresses: %s", strerror(-ret));
	return ret;
}

int gicv3_finalize(struct irqchip *chip)
{
	return gic_init_device(chip, "gicv3");
}

void gicv3_destroy(struct irqchip *chip)
{
	gic_free(chip);
}

/* The LPI pending tables, which KVM keeps to itself until asked. */
int gicv3_flush(struct irqchip *chip, char *err, size_t errlen)
{
	struct gic_io io = { to_gic(chip)->fd, err, errlen, 0 };

	gic_attr(&io, true, KVM_DEV_ARM_VGIC_GRP_CTRL, KVM_DEV_ARM_VGIC_SAVE_PENDING_TABLES, NULL);
	return io.ret;
}

static void gicv3_save_dist(struct gic_io *io, struct state_writer *w, unsigned int nr_irqs)
{
	const struct gic_bank d = { KVM_DEV_ARM_VGIC_GRP_DIST_REGS, 0, 4, 0, false };

	sw_begin(w, "gic.dist", 1);
	gic_save(io, w, &d, GICD_IIDR);
	gic_save(io, w, &d, GICD_CTLR);
	for (unsigned int i = 32; i < nr_irqs; i += 32) {
		gic_save(io, w, &d, GICD_IGROUPR + i / 8);
		gic_save(io, w, &d, GICD_IGRPMODR + i / 8);
		gic_save(io, w, &d, GICD_ISENABLER + i / 8);
		gic_save(io, w, &d, GICD_ISPENDR + i / 8);
		gic_save(io, w, &d, GICD_ISACTIVER + i / 8);
		gic_save_run(io, w, &d, GICD_ICFGR + i / 4, 2);
		gic_save_run(io, w, &d, GICD_IPRIORITYR + i, 8);
		gic_save_level(io, w, 0, i);
	}
	/* 64-bit IROUTER<n>, as two 32-bit halves from SPI 32 on. */
	gic_save_run(io, w, &d, GICD_IROUTER + 8 * 32, 2 * (nr_irqs - 32));
	sw_end(w);
}

static void gicv3_save_redist(struct gic_io *io, struct state_writer *w, unsigned int cpu,
			      uint64_t mpidr)
{
	const struct gic_bank r = { KVM_DEV_ARM_VGIC_GRP_REDIST_REGS, gic_mpidr_attr(mpidr), 4, 0,
				    false };

	gic_begin_cpu_section(w, "redist", cpu);
	gic_save(io, w, &r, GICR_CTLR);
	gic_save_run(io, w, &r, GICR_PROPBASER, 2);
	gic_save_run(io, w, &r, GICR_PENDBASER, 2);
	gic_save(io, w, &r, GICR_SGI + GICD_IGROUPR);
	gic_save(io, w, &r, GICR_SGI + GICD_IGRPMODR);
	gic_save(io, w, &r, GICR_SGI + GICD_ISENABLER);
	gic_save(io, w, &r, GICR_SGI + GICD_ISPENDR);
	gic_save(io, w, &r, GICR_SGI + GICD_ISACTIVER);
	gic_save_run(io, w, &r, GICR_SGI + GICD_ICFGR, 2);
	gic_save_run(io, w, &r, GICR_SGI + GICD_IPRIORITYR, 8);
	gic_save_level(io, w, r.hi, 0);
	sw_end(w);
}

/* Active-priority registers per group: 1, 2 or 4 by ICC_CTLR_EL1.PRIbits. */
static unsigned int icc_nr_apr(uint64_t ctlr)
{
	unsigned int pribits = ((ctlr >> 8) & 7) + 1;

	return pribits >= 7 ? 4 : pribits == 6 ? 2 : 1;
}

static void gicv3_save_cpu(struct gic_io *io, struct state_writer *w, unsigned int cpu,
			   uint64_t mpidr)
{
	static const uint32_t regs[] = {
		ICC_SRE_EL1, ICC_CTLR_EL1, ICC_PMR_EL1, ICC_BPR0_EL1, ICC_BPR1_EL1,
		ICC_IGRPEN0_EL1, ICC_IGRPEN1_EL1,
	};
	const struct gic_bank icc = { KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS, gic_mpidr_attr(mpidr), 8,
				      0, false };
	uint64_t ctlr = 0;

	gic_begin_cpu_section(w, "cpu", cpu);
	for (unsigned int i = 0; i < ARRAY_SIZE(regs); i++) {
		uint64_t v = gic_save(io, w, &icc, regs[i]);

		if (regs[i] == ICC_CTLR_EL1)
			ctlr = v;
	}
	for (unsigned int n = 0; n < icc_nr_apr(ctlr); n++) {
		gic_save(io, w, &icc, ICC_AP0R_EL1(n));
		gic_save(io, w, &icc, ICC_AP1R_EL1(n));
	}
	sw_end(w);
}

int gicv3_save(struct irqchip *chip, struct state_writer *w, const uint64_t *mpidrs,
	       char *err, size_t errlen)
{
	struct gic_io io = { to_gic(chip)->fd, err, errlen, 0 };

	gicv3_save_dist(&io, w, chip->nr_irqs);
	for (unsigned int c = 0; c < chip->nr_cpus; c++)
		gicv3_save_redist(&io, w, c, mpidrs[c]);
	for (unsigned int c = 0; c < chip->nr_cpus; c++)
		gicv3_save_cpu(&io, w, c, mpidrs[c]);
	return io.ret;
}

/*
 * SPIs: groups, enables, routing and configuration before line level;
 * line level before pending (pending of a level IRQ includes it); then
 * active and priority.
 */
static void gicv3_restore_spis(struct gic_io *io, const struct state_section *s,
			       unsigned int nr_irqs)
{
	const struct gic_bank d = { KVM_DEV_ARM_VGIC_GRP_DIST_REGS, 0, 4, 0, false };

	for (unsigned int i = 32; i < nr_irqs; i += 32) {
		gic_restore(io, s, &d, GICD_IGROUPR + i / 8);
		gic_restore(io, s, &d, GICD_IGRPMODR + i / 8);
		gic_restore_set_clear(io, s, &d, GICD_ISENABLER + i / 8, GICD_ICENABLER + i / 8);
	}
	gic_restore_run(io, s, &d, GICD_IROUTER + 8 * 32, 2 * (nr_irqs - 32));
	for (unsigned int i = 32; i < nr_irqs; i += 32) {
		gic_restore_run(io, s, &d, GICD_ICFGR + i / 4, 2);
		gic_restore_level(io, s, 0, i);
		gic_restore(io, s, &d, GICD_ISPENDR + i / 8);	/* sets the latch exactly */
		gic_restore_set_clear(io, s, &d, GICD_ISACTIVER + i / 8, GICD_ICACTIVER + i / 8);
		gic_restore_run(io, s, &d, GICD_IPRIORITYR + i, 8);
	}
}

/* One redistributor: the LPI tables' bases first (GICR_CTLR.EnableLPIs freezes them). */
static void gicv3_restore_redist(struct gic_io *io, const struct state_section *s,
				 uint64_t mpidr)
{
	const struct gic_bank r = { KVM_DEV_ARM_VGIC_GRP_REDIST_REGS, gic_mpidr_attr(mpidr), 4, 0,
				    false };

	gic_restore_run(io, s, &r, GICR_PROPBASER, 2);
	gic_restore_run(io, s, &r, GICR_PENDBASER, 2);
	gic_restore(io, s, &r, GICR_CTLR);
	gic_restore(io, s, &r, GICR_SGI + GICD_IGROUPR);
	gic_restore(io, s, &r, GICR_SGI + GICD_IGRPMODR);
	gic_restore_set_clear(io, s, &r, GICR_SGI + GICD_ISENABLER, GICR_SGI + GICD_ICENABLER);
	gic_restore_run(io, s, &r, GICR_SGI + GICD_ICFGR, 2);
	gic_restore_level(io, s, r.hi, 0);
	gic_restore(io, s, &r, GICR_SGI + GICD_ISPENDR);
	gic_restore_set_clear(io, s, &r, GICR_SGI + GICD_ISACTIVER, GICR_SGI + GICD_ICACTIVER);
	gic_restore_run(io, s, &r, GICR_SGI + GICD_IPRIORITYR, 8);
}

/* One CPU interface: ICC_SRE_EL1 first, ICC_CTLR_EL1 before the active priorities. */
static void gicv3_restore_cpu(struct gic_io *io, const struct state_section *s, uint64_t mpidr)
{
	const struct gic_bank icc = { KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS, gic_mpidr_attr(mpidr), 8,
				      0, false };
	uint64_t ctlr = 0;

	gic_restore(io, s, &icc, ICC_SRE_EL1);
	gic_restore(io, s, &icc, ICC_CTLR_EL1);
	if (io->ret == -EINVAL && !strncmp(io->err, "vGIC", 4))
		snprintf(io->err, io->errlen,
			 "this host's GIC CPU interface is smaller than the snapshot's (ICC_CTLR_EL1 priority/ID bits): incompatible host");
	ss_get_u64(s, ICC_CTLR_EL1, &ctlr);
	gic_restore(io, s, &icc, ICC_PMR_EL1);
	gic_restore(io, s, &icc, ICC_BPR0_EL1);
	gic_restore(io, s, &icc, ICC_BPR1_EL1);
	for (unsigned int n = 0; n < icc_nr_apr(ctlr); n++) {
		gic_restore(io, s, &icc, ICC_AP0R_EL1(n));
		gic_restore(io, s, &icc, ICC_AP1R_EL1(n));
	}
	gic_restore(io, s, &icc, ICC_IGRPEN0_EL1);
	gic_restore(io, s, &icc, ICC_IGRPEN1_EL1);
}

/*
 * The order, in one place (arm-vgic-v3.rst): GICD_IIDR before anything
 * else, GICD_CTLR; every redistributor; the SPIs; every CPU interface.
 */
int gicv3_restore(struct irqchip *chip, const struct state_reader *r, const uint64_t *mpidrs,
		  char *err, size_t errlen)
{
	const struct gic_bank d = { KVM_DEV_ARM_VGIC_GRP_DIST_REGS, 0, 4, 0, false };
	struct gic_io io = { to_gic(chip)->fd, err, errlen, 0 };
	const struct state_section *dist = gic_section(&io, r, "gic.dist");

	if (dist) {
		gic_restore_iidr(&io, dist);
		gic_restore(&io, dist, &d, GICD_CTLR);
	}
	for (unsigned int c = 0; c < chip->nr_cpus; c++) {
		const struct state_section *s = gic_cpu_section(&io, r, "redist", c);

		if (s)
			gicv3_restore_redist(&io, s, mpidrs[c]);
	}
	if (dist)
		gicv3_restore_spis(&io, dist, chip->nr_irqs);
	for (unsigned int c = 0; c < chip->nr_cpus; c++) {
		const struct state_section *s = gic_cpu_section(&io, r, "cpu", c);

		if (s)
			gicv3_restore_cpu(&io, s, mpidrs[c]);
	}
	return io.ret;
}

const struct irqchip_ops gicv3_ops = {
	.name = "gicv3",
	.model = IRQCHIP_GICV3,
	.probe = gicv3_probe,
	.create = gicv3_create,
	.finalize = gicv3_finalize,
	.destroy = gicv3_destroy,
	.flush = gicv3_flush,
	.save = gicv3_save,
	.restore = gicv3_restore,
};
