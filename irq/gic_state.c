// SPDX-License-Identifier: GPL-2.0
/*
 * Saving and restoring the vGIC: distributor, redistributors / banked
 * registers, CPU interfaces, line levels, and the ITS. Registers are keyed
 * by their offset (or system register encoding) so the layout never
 * depends on position. Restore follows the order the kernel documents
 * (arm-vgic-v3.rst, arm-vgic-its.rst; see also kvm-arm64-state.md):
 * IIDR then CTLR; redistributor PROPBASER/PENDBASER before GICR_CTLR;
 * groups, enables, routing and configuration before line level; line level
 * before pending; then active and priority; ICC_SRE_EL1 first and
 * ICC_CTLR_EL1 before the active-priority registers; the ITS last.
 * Enable and active bits are cleared (IC*) before being set (IS*), so a
 * fresh vGIC's defaults do not survive.
 */
#include "irq.h"
#include "../state/state.h"
#include "../util.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

/* Distributor (both versions) */
#define GICD_CTLR	0x0000
#define GICD_IIDR	0x0008
#define GICD_IGROUPR	0x0080
#define GICD_ISENABLER	0x0100
#define GICD_ICENABLER	0x0180
#define GICD_ISPENDR	0x0200
#define GICD_ICPENDR	0x0280
#define GICD_ISACTIVER	0x0300
#define GICD_ICACTIVER	0x0380
#define GICD_IPRIORITYR	0x0400
#define GICD_ITARGETSR	0x0800	/* v2 */
#define GICD_ICFGR	0x0c00
#define GICD_IGRPMODR	0x0d00	/* v3 */
#define GICD_CPENDSGIR	0x0f10	/* v2 */
#define GICD_SPENDSGIR	0x0f20	/* v2 */
#define GICD_IROUTER	0x6000	/* v3 */

/* Redistributor (v3): RD frame, then the SGI frame at 64 KiB */
#define GICR_CTLR	0x0000
#define GICR_PROPBASER	0x0070
#define GICR_PENDBASER	0x0078
#define GICR_SGI	0x10000

/* GICv2 CPU interface */
#define GICC_CTLR	0x00
#define GICC_PMR	0x04
#define GICC_BPR	0x08
#define GICC_ABPR	0x1c
#define GICC_APR0	0xd0

/* ITS */
#define GITS_CTLR	0x0000
#define GITS_IIDR	0x0004
#define GITS_CBASER	0x0080
#define GITS_CWRITER	0x0088
#define GITS_CREADR	0x0090
#define GITS_BASER	0x0100

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

/* Line levels are stored beside the registers, under keys no offset has. */
#define KEY_LEVEL(intid) ((1ULL << 40) | (intid))

struct gic_io {
	int fd;
	char *err;
	size_t errlen;
	int ret;		/* first failure */
};

static int gic_attr(struct gic_io *io, bool set, uint32_t group, uint64_t attr, void *val)
{
	struct kvm_device_attr a = {
		.group = group,
		.attr = attr,
		.addr = (uint64_t)(uintptr_t)val,
	};

	if (io->ret)
		return io->ret;
	if (ioctl(io->fd, set ? KVM_SET_DEVICE_ATTR : KVM_GET_DEVICE_ATTR, &a) == 0)
		return 0;
	io->ret = -errno;
	snprintf(io->err, io->errlen, "vGIC: %s group %u attribute 0x%llx: %s",
		 set ? "restoring" : "saving", group, (unsigned long long)attr,
		 strerror(errno));
	return io->ret;
}

/* The redistributor/ICC attributes name a vCPU by affinity, not index. */
static uint64_t mpidr_attr(uint64_t mpidr)
{
	uint64_t aff = ((mpidr >> 32) & 0xff) << 24 | ((mpidr >> 16) & 0xff) << 16 |
		       ((mpidr >> 8) & 0xff) << 8 | (mpidr & 0xff);

	return aff << 32;
}

static void save32(struct gic_io *io, struct state_writer *w, uint32_t group, uint64_t hi,
		   uint32_t off)
{
	uint32_t v = 0;

	if (!gic_attr(io, false, group, hi | off, &v))
		sw_put(w, off, &v, 4);
}

static void save64(struct gic_io *io, struct state_writer *w, uint32_t group, uint32_t off)
{
	uint64_t v = 0;

	if (!gic_attr(io, false, group, off, &v))
		sw_put_u64(w, off, v);
}

/* Restore one saved 32-bit register; a missing one is a corrupt snapshot. */
static void restore32(struct gic_io *io, const struct state_section *s, uint32_t group,
		      uint64_t hi, uint32_t off)
{
	uint32_t len, v;
	const void *p;

	if (io->ret)
		return;
	p = ss_get(s, off, &len);
	if (!p || len != 4) {
		io->ret = -EINVAL;
		snprintf(io->err, io->errlen, "snapshot section %s lacks register 0x%x", s->name,
			 off);
		return;
	}
	memcpy(&v, p, 4);
	gic_attr(io, true, group, hi | off, &v);
}

static void write32(struct gic_io *io, uint32_t group, uint64_t hi, uint32_t off, uint32_t v)
{
	gic_attr(io, true, group, hi | off, &v);
}

/* Enable/active bits: clear all with IC*, then set the saved ones with IS*. */
static void restore_set_clear(struct gic_io *io, const struct state_section *s, uint32_t group,
			      uint64_t hi, uint32_t set_off, uint32_t clear_off)
{
	write32(io, group, hi, clear_off, ~0U);
	restore32(io, s, group, hi, set_off);
}

static const struct state_section *need_section(struct gic_io *io, const struct state_reader *r,
						const char *name)
{
	const struct state_section *s = sr_section(r, name);

	if (!s && !io->ret) {
		io->ret = -EINVAL;
		snprintf(io->err, io->errlen, "snapshot lacks section %s", name);
	}
	return s;
}

/* "gic.redist.N" or "gic.cpu.N": the section of one vCPU. */
static const struct state_section *need_cpu_section(struct gic_io *io,
						    const struct state_reader *r,
						    bool redist, unsigned int cpu)
{
	char name[32];

	snprintf(name, sizeof(name), "gic.%s.%u", redist ? "redist" : "cpu", cpu);
	return need_section(io, r, name);
}

/*
 * Line levels of 32 interrupts from `intid` (SPIs: the same for any vCPU;
 * PPIs: the vCPU in `hi`), kept under KEY_LEVEL(intid).
 */
static uint64_t level_attr(uint64_t hi, unsigned int intid)
{
	return hi | (VGIC_LEVEL_INFO_LINE_LEVEL << KVM_DEV_ARM_VGIC_LINE_LEVEL_INFO_SHIFT) | intid;
}

static void save_level(struct gic_io *io, struct state_writer *w, uint64_t hi,
		       unsigned int intid)
{
	uint32_t lvl = 0;

	if (!gic_attr(io, false, KVM_DEV_ARM_VGIC_GRP_LEVEL_INFO, level_attr(hi, intid), &lvl))
		sw_put(w, KEY_LEVEL(intid), &lvl, 4);
}

static void restore_level(struct gic_io *io, const struct state_section *s, uint64_t hi,
			  unsigned int intid)
{
	uint32_t len, v;
	const void *lvl = ss_get(s, KEY_LEVEL(intid), &len);

	if (!lvl || len != 4)
		return;
	memcpy(&v, lvl, 4);
	gic_attr(io, true, KVM_DEV_ARM_VGIC_GRP_LEVEL_INFO, level_attr(hi, intid), &v);
}

/*
 * GICD_IIDR goes first (arm-vgic.rst, arm-vgic-v3.rst): it tells KVM which
 * behaviour of its vGIC the saved registers assume, and KVM's GICv2 ignores
 * userspace writes to GICD_IGROUPR until it has been written. A snapshot
 * without it (GICv2 ones from before lvmm saved it) gets this host's own
 * value written back: its groups were read from a KVM that reports them
 * as they are, and are then restored rather than dropped.
 */
static void restore_iidr(struct gic_io *io, const struct state_section *s)
{
	const uint32_t g = KVM_DEV_ARM_VGIC_GRP_DIST_REGS;
	uint32_t len, v;
	const void *p;

	if (io->ret)
		return;
	p = ss_get(s, GICD_IIDR, &len);
	if (p && len == 4)
		memcpy(&v, p, 4);
	else if (gic_attr(io, false, g, GICD_IIDR, &v))
		return;
	if (gic_attr(io, true, g, GICD_IIDR, &v) == -EINVAL)
		snprintf(io->err, io->errlen,
			 "this host's vGIC does not implement the snapshot's GICD_IIDR 0x%08x (revision %u): incompatible host",
			 v, (v >> 12) & 0xf);
}

/* ---- GICv3 ---------------------------------------------------------------- */

static void v3_save_dist(struct gic_io *io, struct state_writer *w, unsigned int nr_irqs)
{
	const uint32_t g = KVM_DEV_ARM_VGIC_GRP_DIST_REGS;

	sw_begin(w, "gic.dist", 1);
	save32(io, w, g, 0, GICD_IIDR);
	save32(io, w, g, 0, GICD_CTLR);
	for (unsigned int i = 32; i < nr_irqs; i += 32) {
		save32(io, w, g, 0, GICD_IGROUPR + i / 8);
		save32(io, w, g, 0, GICD_IGRPMODR + i / 8);
		save32(io, w, g, 0, GICD_ISENABLER + i / 8);
		save32(io, w, g, 0, GICD_ISPENDR + i / 8);
		save32(io, w, g, 0, GICD_ISACTIVER + i / 8);
		save32(io, w, g, 0, GICD_ICFGR + i / 4);
		save32(io, w, g, 0, GICD_ICFGR + i / 4 + 4);
		for (unsigned int k = 0; k < 8; k++)
			save32(io, w, g, 0, GICD_IPRIORITYR + i + 4 * k);
		save_level(io, w, 0, i);
	}
	for (unsigned int i = 32; i < nr_irqs; i++) {
		save32(io, w, g, 0, GICD_IROUTER + 8 * i);
		save32(io, w, g, 0, GICD_IROUTER + 8 * i + 4);
	}
	sw_end(w);
}

static void v3_save_redist(struct gic_io *io, struct state_writer *w, unsigned int cpu,
			   uint64_t mpidr)
{
	const uint32_t g = KVM_DEV_ARM_VGIC_GRP_REDIST_REGS;
	uint64_t hi = mpidr_attr(mpidr);
	char name[32];

	snprintf(name, sizeof(name), "gic.redist.%u", cpu);
	sw_begin(w, name, 1);
	save32(io, w, g, hi, GICR_CTLR);
	save32(io, w, g, hi, GICR_PROPBASER);
	save32(io, w, g, hi, GICR_PROPBASER + 4);
	save32(io, w, g, hi, GICR_PENDBASER);
	save32(io, w, g, hi, GICR_PENDBASER + 4);
	save32(io, w, g, hi, GICR_SGI + GICD_IGROUPR);
	save32(io, w, g, hi, GICR_SGI + GICD_IGRPMODR);
	save32(io, w, g, hi, GICR_SGI + GICD_ISENABLER);
	save32(io, w, g, hi, GICR_SGI + GICD_ISPENDR);
	save32(io, w, g, hi, GICR_SGI + GICD_ISACTIVER);
	save32(io, w, g, hi, GICR_SGI + GICD_ICFGR);
	save32(io, w, g, hi, GICR_SGI + GICD_ICFGR + 4);
	for (unsigned int k = 0; k < 8; k++)
		save32(io, w, g, hi, GICR_SGI + GICD_IPRIORITYR + 4 * k);
	save_level(io, w, hi, 0);
	sw_end(w);
}

static unsigned int icc_nr_apr(uint64_t ctlr)
{
	unsigned int pribits = ((ctlr >> 8) & 7) + 1;

	return pribits >= 7 ? 4 : pribits == 6 ? 2 : 1;
}

static void v3_save_cpu(struct gic_io *io, struct state_writer *w, unsigned int cpu,
			uint64_t mpidr)
{
	static const uint32_t regs[] = {
		ICC_SRE_EL1, ICC_CTLR_EL1, ICC_PMR_EL1, ICC_BPR0_EL1, ICC_BPR1_EL1,
		ICC_IGRPEN0_EL1, ICC_IGRPEN1_EL1,
	};
	const uint32_t g = KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS;
	uint64_t hi = mpidr_attr(mpidr), v = 0, ctlr = 0;
	char name[32];

	snprintf(name, sizeof(name), "gic.cpu.%u", cpu);
	sw_begin(w, name, 1);
	for (unsigned int i = 0; i < ARRAY_SIZE(regs); i++) {
		if (gic_attr(io, false, g, hi | regs[i], &v))
			break;
		sw_put_u64(w, regs[i], v);
		if (regs[i] == ICC_CTLR_EL1)
			ctlr = v;
	}
	for (unsigned int n = 0; n < icc_nr_apr(ctlr); n++) {
		if (!gic_attr(io, false, g, hi | ICC_AP0R_EL1(n), &v))
			sw_put_u64(w, ICC_AP0R_EL1(n), v);
		if (!gic_attr(io, false, g, hi | ICC_AP1R_EL1(n), &v))
			sw_put_u64(w, ICC_AP1R_EL1(n), v);
	}
	sw_end(w);
}

static void v3_save_its(struct gic_io *io, struct state_writer *w)
{
	const uint32_t g = KVM_DEV_ARM_VGIC_GRP_ITS_REGS;

	sw_begin(w, "gic.its", 1);
	save64(io, w, g, GITS_IIDR);
	save64(io, w, g, GITS_CTLR);
	save64(io, w, g, GITS_CBASER);
	save64(io, w, g, GITS_CWRITER);
	save64(io, w, g, GITS_CREADR);
	for (unsigned int n = 0; n < 8; n++)
		save64(io, w, g, GITS_BASER + 8 * n);
	sw_end(w);
}

static void v3_restore_dist_spis(struct gic_io *io, const struct state_section *s,
				 unsigned int nr_irqs)
{
	const uint32_t g = KVM_DEV_ARM_VGIC_GRP_DIST_REGS;

	for (unsigned int i = 32; i < nr_irqs; i += 32) {
		restore32(io, s, g, 0, GICD_IGROUPR + i / 8);
		restore32(io, s, g, 0, GICD_IGRPMODR + i / 8);
		restore_set_clear(io, s, g, 0, GICD_ISENABLER + i / 8, GICD_ICENABLER + i / 8);
	}
	for (unsigned int i = 32; i < nr_irqs; i++) {
		restore32(io, s, g, 0, GICD_IROUTER + 8 * i);
		restore32(io, s, g, 0, GICD_IROUTER + 8 * i + 4);
	}
	for (unsigned int i = 32; i < nr_irqs; i += 32) {
		restore32(io, s, g, 0, GICD_ICFGR + i / 4);
		restore32(io, s, g, 0, GICD_ICFGR + i / 4 + 4);
		/* Line level before pending: pending of a level IRQ includes it. */
		restore_level(io, s, 0, i);
		restore32(io, s, g, 0, GICD_ISPENDR + i / 8);	/* sets the latch exactly */
		restore_set_clear(io, s, g, 0, GICD_ISACTIVER + i / 8, GICD_ICACTIVER + i / 8);
		for (unsigned int k = 0; k < 8; k++)
			restore32(io, s, g, 0, GICD_IPRIORITYR + i + 4 * k);
	}
}

static void v3_restore_redist(struct gic_io *io, const struct state_section *s, uint64_t mpidr)
{
	const uint32_t g = KVM_DEV_ARM_VGIC_GRP_REDIST_REGS;
	uint64_t hi = mpidr_attr(mpidr);

	/* The LPI tables' bases first: GICR_CTLR.EnableLPIs freezes them. */
	restore32(io, s, g, hi, GICR_PROPBASER);
	restore32(io, s, g, hi, GICR_PROPBASER + 4);
	restore32(io, s, g, hi, GICR_PENDBASER);
	restore32(io, s, g, hi, GICR_PENDBASER + 4);
	restore32(io, s, g, hi, GICR_CTLR);
	restore32(io, s, g, hi, GICR_SGI + GICD_IGROUPR);
	restore32(io, s, g, hi, GICR_SGI + GICD_IGRPMODR);
	restore_set_clear(io, s, g, hi, GICR_SGI + GICD_ISENABLER, GICR_SGI + GICD_ICENABLER);
	restore32(io, s, g, hi, GICR_SGI + GICD_ICFGR);
	restore32(io, s, g, hi, GICR_SGI + GICD_ICFGR + 4);
	restore_level(io, s, hi, 0);
	restore32(io, s, g, hi, GICR_SGI + GICD_ISPENDR);
	restore_set_clear(io, s, g, hi, GICR_SGI + GICD_ISACTIVER, GICR_SGI + GICD_ICACTIVER);
	for (unsigned int k = 0; k < 8; k++)
		restore32(io, s, g, hi, GICR_SGI + GICD_IPRIORITYR + 4 * k);
}

static void icc_restore(struct gic_io *io, const struct state_section *s, uint64_t hi,
			uint32_t reg)
{
	uint64_t v;

	if (io->ret)
		return;
	if (!ss_get_u64(s, reg, &v)) {
		io->ret = -EINVAL;
		snprintf(io->err, io->errlen, "snapshot section %s lacks ICC register 0x%x",
			 s->name, reg);
		return;
	}
	gic_attr(io, true, KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS, hi | reg, &v);
}

static void v3_restore_cpu(struct gic_io *io, const struct state_section *s, uint64_t mpidr)
{
	uint64_t hi = mpidr_attr(mpidr), ctlr = 0;

	icc_restore(io, s, hi, ICC_SRE_EL1);
	icc_restore(io, s, hi, ICC_CTLR_EL1);
	if (io->ret == -EINVAL && !strncmp(io->err, "vGIC", 4))
		snprintf(io->err, io->errlen,
			 "this host's GIC CPU interface is smaller than the snapshot's (ICC_CTLR_EL1 priority/ID bits): incompatible host");
	ss_get_u64(s, ICC_CTLR_EL1, &ctlr);
	icc_restore(io, s, hi, ICC_PMR_EL1);
	icc_restore(io, s, hi, ICC_BPR0_EL1);
	icc_restore(io, s, hi, ICC_BPR1_EL1);
	for (unsigned int n = 0; n < icc_nr_apr(ctlr); n++) {
		icc_restore(io, s, hi, ICC_AP0R_EL1(n));
		icc_restore(io, s, hi, ICC_AP1R_EL1(n));
	}
	icc_restore(io, s, hi, ICC_IGRPEN0_EL1);
	icc_restore(io, s, hi, ICC_IGRPEN1_EL1);
}

static void its_restore(struct gic_io *io, const struct state_section *s, uint32_t off)
{
	uint64_t v;

	if (io->ret)
		return;
	if (!ss_get_u64(s, off, &v)) {
		io->ret = -EINVAL;
		snprintf(io->err, io->errlen, "snapshot section gic.its lacks register 0x%x", off);
		return;
	}
	gic_attr(io, true, KVM_DEV_ARM_VGIC_GRP_ITS_REGS, off, &v);
}

static void v3_restore_its(struct gic_io *io, const struct state_section *s)
{
	/* Guest RAM and every redistributor are in place by now. */
	its_restore(io, s, GITS_IIDR);
	its_restore(io, s, GITS_CBASER);	/* resets CREADR: before it */
	its_restore(io, s, GITS_CREADR);
	its_restore(io, s, GITS_CWRITER);
	for (unsigned int n = 0; n < 8; n++)
		its_restore(io, s, GITS_BASER + 8 * n);
	if (!io->ret)
		gic_attr(io, true, KVM_DEV_ARM_VGIC_GRP_CTRL, KVM_DEV_ARM_ITS_RESTORE_TABLES, NULL);
	its_restore(io, s, GITS_CTLR);
}

/* ---- GICv2 ---------------------------------------------------------------- */

#define V2_CPU(cpu) ((uint64_t)(cpu) << KVM_DEV_ARM_VGIC_CPUID_SHIFT)

static void v2_save_dist(struct gic_io *io, struct state_writer *w, unsigned int nr_irqs)
{
	const uint32_t g = KVM_DEV_ARM_VGIC_GRP_DIST_REGS;

	sw_begin(w, "gic.dist", 1);
	save32(io, w, g, 0, GICD_IIDR);
	save32(io, w, g, 0, GICD_CTLR);
	for (unsigned int i = 32; i < nr_irqs; i += 32) {
		save32(io, w, g, 0, GICD_IGROUPR + i / 8);
		save32(io, w, g, 0, GICD_ISENABLER + i / 8);
		save32(io, w, g, 0, GICD_ISPENDR + i / 8);
		save32(io, w, g, 0, GICD_ISACTIVER + i / 8);
		save32(io, w, g, 0, GICD_ICFGR + i / 4);
		save32(io, w, g, 0, GICD_ICFGR + i / 4 + 4);
		for (unsigned int k = 0; k < 8; k++) {
			save32(io, w, g, 0, GICD_IPRIORITYR + i + 4 * k);
			save32(io, w, g, 0, GICD_ITARGETSR + i + 4 * k);
		}
	}
	sw_end(w);
}

/* IRQs 0-31 are banked: saved for every vCPU, as is its CPU interface. */
static void v2_save_cpu(struct gic_io *io, struct state_writer *w, unsigned int cpu)
{
	const uint32_t g = KVM_DEV_ARM_VGIC_GRP_DIST_REGS, c = KVM_DEV_ARM_VGIC_GRP_CPU_REGS;
	uint64_t hi = V2_CPU(cpu);
	char name[32];

	snprintf(name, sizeof(name), "gic.cpu.%u", cpu);
	sw_begin(w, name, 1);
	save32(io, w, g, hi, GICD_IGROUPR);
	save32(io, w, g, hi, GICD_ISENABLER);
	save32(io, w, g, hi, GICD_ISPENDR);
	save32(io, w, g, hi, GICD_ISACTIVER);
	save32(io, w, g, hi, GICD_ICFGR + 4);
	for (unsigned int k = 0; k < 8; k++)
		save32(io, w, g, hi, GICD_IPRIORITYR + 4 * k);
	for (unsigned int k = 0; k < 4; k++)
		save32(io, w, g, hi, GICD_SPENDSGIR + 4 * k);
	/* CPU interface registers under keys above the distributor's. */
	for (unsigned int k = 0; k < 4; k++) {
		uint32_t v = 0;
		static const uint32_t regs[] = { GICC_CTLR, GICC_PMR, GICC_BPR, GICC_ABPR };

		if (!gic_attr(io, false, c, hi | regs[k], &v))
			sw_put(w, 0x100000 | regs[k], &v, 4);
	}
	for (unsigned int k = 0; k < 4; k++) {
		uint32_t v = 0;

		if (!gic_attr(io, false, c, hi | (GICC_APR0 + 4 * k), &v))
			sw_put(w, 0x100000 | (GICC_APR0 + 4 * k), &v, 4);
	}
	sw_end(w);
}

static void v2_restore_cpu_regs(struct gic_io *io, const struct state_section *s,
				unsigned int cpu)
{
	const uint32_t c = KVM_DEV_ARM_VGIC_GRP_CPU_REGS;
	static const uint32_t regs[] = {
		GICC_CTLR, GICC_PMR, GICC_BPR, GICC_ABPR,
		GICC_APR0, GICC_APR0 + 4, GICC_APR0 + 8, GICC_APR0 + 12,
	};

	for (unsigned int k = 0; k < ARRAY_SIZE(regs); k++) {
		uint32_t len, v;
		const void *p = ss_get(s, 0x100000 | regs[k], &len);

		if (!p || len != 4)
			continue;
		memcpy(&v, p, 4);
		gic_attr(io, true, c, V2_CPU(cpu) | regs[k], &v);
	}
}

static void v2_restore_irqs(struct gic_io *io, const struct state_section *s, uint64_t hi,
			    unsigned int first, unsigned int end, bool banked)
{
	const uint32_t g = KVM_DEV_ARM_VGIC_GRP_DIST_REGS;

	for (unsigned int i = first; i < end; i += 32) {
		restore32(io, s, g, hi, GICD_IGROUPR + i / 8);
		restore_set_clear(io, s, g, hi, GICD_ISENABLER + i / 8, GICD_ICENABLER + i / 8);
		if (!banked) {
			restore32(io, s, g, hi, GICD_ICFGR + i / 4);
			for (unsigned int k = 0; k < 8; k++)
				restore32(io, s, g, hi, GICD_ITARGETSR + i + 4 * k);
		}
		restore32(io, s, g, hi, GICD_ICFGR + i / 4 + 4);
		restore_set_clear(io, s, g, hi, GICD_ISPENDR + i / 8, GICD_ICPENDR + i / 8);
		restore_set_clear(io, s, g, hi, GICD_ISACTIVER + i / 8, GICD_ICACTIVER + i / 8);
		for (unsigned int k = 0; k < 8; k++)
			restore32(io, s, g, hi, GICD_IPRIORITYR + i + 4 * k);
	}
}

/* ---- entry points --------------------------------------------------------- */

int irqchip_flush_to_ram(struct irqchip *chip, char *err, size_t errlen)
{
	struct gic_io io = { chip->gic_fd, err, errlen, 0 };

	if (chip->layout.version != 3)
		return 0;
	gic_attr(&io, true, KVM_DEV_ARM_VGIC_GRP_CTRL, KVM_DEV_ARM_VGIC_SAVE_PENDING_TABLES, NULL);
	if (chip->its_fd >= 0) {
		io.fd = chip->its_fd;
		gic_attr(&io, true, KVM_DEV_ARM_VGIC_GRP_CTRL, KVM_DEV_ARM_ITS_SAVE_TABLES, NULL);
	}
	return io.ret;
}

int irqchip_save(struct irqchip *chip, struct state_writer *w, const uint64_t *mpidrs,
		 char *err, size_t errlen)
{
	struct gic_io io = { chip->gic_fd, err, errlen, 0 };

	if (chip->layout.version == 3) {
		v3_save_dist(&io, w, chip->nr_irqs);
		for (unsigned int c = 0; c < chip->nr_cpus; c++)
			v3_save_redist(&io, w, c, mpidrs[c]);
		for (unsigned int c = 0; c < chip->nr_cpus; c++)
			v3_save_cpu(&io, w, c, mpidrs[c]);
		if (chip->its_fd >= 0) {
			io.fd = chip->its_fd;
			v3_save_its(&io, w);
		}
	} else {
		v2_save_dist(&io, w, chip->nr_irqs);
		for (unsigned int c = 0; c < chip->nr_cpus; c++)
			v2_save_cpu(&io, w, c);
	}
	return io.ret;
}

int irqchip_restore(struct irqchip *chip, const struct state_reader *r, const uint64_t *mpidrs,
		    char *err, size_t errlen)
{
	struct gic_io io = { chip->gic_fd, err, errlen, 0 };
	const struct state_section *dist = need_section(&io, r, "gic.dist");

	if (chip->layout.version == 3) {
		const uint32_t g = KVM_DEV_ARM_VGIC_GRP_DIST_REGS;

		if (dist) {
			restore_iidr(&io, dist);	/* before anything else */
			restore32(&io, dist, g, 0, GICD_CTLR);
		}
		for (unsigned int c = 0; c < chip->nr_cpus; c++) {
			const struct state_section *s = need_cpu_section(&io, r, true, c);

			if (s)
				v3_restore_redist(&io, s, mpidrs[c]);
		}
		if (dist)
			v3_restore_dist_spis(&io, dist, chip->nr_irqs);
		for (unsigned int c = 0; c < chip->nr_cpus; c++) {
			const struct state_section *s = need_cpu_section(&io, r, false, c);

			if (s)
				v3_restore_cpu(&io, s, mpidrs[c]);
		}
		if (chip->its_fd >= 0) {
			const struct state_section *s = need_section(&io, r, "gic.its");

			io.fd = chip->its_fd;
			if (s)
				v3_restore_its(&io, s);
		}
		return io.ret;
	}

	if (dist) {
		restore_iidr(&io, dist);	/* before anything else, CPU registers too */
		restore32(&io, dist, KVM_DEV_ARM_VGIC_GRP_DIST_REGS, 0, GICD_CTLR);
	}
	for (unsigned int c = 0; c < chip->nr_cpus; c++) {
		const struct state_section *s = need_cpu_section(&io, r, false, c);

		if (!s)
			continue;
		v2_restore_irqs(&io, s, V2_CPU(c), 0, 32, true);
		/* Pending SGIs: clear all sources, then set the saved ones. */
		for (unsigned int k = 0; k < 4; k++) {
			write32(&io, KVM_DEV_ARM_VGIC_GRP_DIST_REGS, V2_CPU(c), GICD_CPENDSGIR + 4 * k,
				~0U);
			restore32(&io, s, KVM_DEV_ARM_VGIC_GRP_DIST_REGS, V2_CPU(c),
				  GICD_SPENDSGIR + 4 * k);
		}
		v2_restore_cpu_regs(&io, s, c);
	}
	if (dist)
		v2_restore_irqs(&io, dist, 0, 32, chip->nr_irqs, false);
	return io.ret;
}
