/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What KVM's GIC models (gicv2.c, gicv3.c, its.c) share: their private state
 * behind chip->priv and the register helpers of gic_regs.c. Not for use
 * outside irq/: the rest of lvmm goes through irq.h.
 */
#ifndef LVMM_IRQ_GIC_H
#define LVMM_IRQ_GIC_H

#include "irq.h"

struct state_section;

/* chip->priv of every GIC model. */
struct gic {
	int fd;			/* the vGIC device (KVM_CREATE_DEVICE), -1 until created */
	int its_fd;		/* its.c's: the ITS device, -1 without one */
};

static inline struct gic *to_gic(struct irqchip *chip)
{
	return chip->priv;
}

/* Distributor registers both versions have (GICv3's SGI frame repeats them). */
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
#define GICD_ICFGR	0x0c00

/* ---- devices ---- */

/* Allocate chip->priv with no device open yet. */
int gic_alloc(struct irqchip *chip);
/* Close the vGIC device and free chip->priv (its.c closes the ITS first). */
void gic_free(struct irqchip *chip);
/* KVM_CREATE_DEVICE: the new fd, or -errno. */
int gic_create_device(int vm_fd, uint32_t type);
/* KVM_CREATE_DEVICE_TEST. */
bool gic_can_create(int vm_fd, uint32_t type);
int gic_set_attr(int fd, uint32_t group, uint64_t attr, const void *val);
/* NR_IRQS then CTRL_INIT on the vGIC device; `name` prefixes the messages. */
int gic_init_device(struct irqchip *chip, const char *name);

/* ---- register state ---- */

/*
 * One save or restore pass over one device. The first failure is kept in
 * ret (with its message in err); every later call does nothing, so a pass
 * is written as a plain list of registers in the order KVM wants them.
 */
struct gic_io {
	int fd;
	char *err;
	size_t errlen;
	int ret;
};

/* KVM_{GET,SET}_DEVICE_ATTR of one attribute; val is 4 or 8 bytes. */
int gic_attr(struct gic_io *io, bool set, uint32_t group, uint64_t attr, void *val);

/*
 * A bank of registers: their attribute group, the vCPU part of the
 * attribute (hi: MPIDR affinity, or the GICv2 CPU index; 0 for none),
 * register width, the snapshot key base (key = key | offset), and whether
 * a snapshot may lack them (then they are left as KVM has them).
 */
struct gic_bank {
	uint32_t group;
	uint64_t hi;
	unsigned int width;	/* 4 or 8 bytes */
	uint64_t key;
	bool optional;
};

/* The redistributor/ICC attributes name a vCPU by affinity, not index. */
uint64_t gic_mpidr_attr(uint64_t mpidr);

/*
 * Save / restore `n` consecutive registers from offset `off`. Saving
 * returns the last register's value (0 after a failure).
 */
uint64_t gic_save_run(struct gic_io *io, struct state_writer *w, const struct gic_bank *b,
		      uint32_t off, unsigned int n);
void gic_restore_run(struct gic_io *io, const struct state_section *s, const struct gic_bank *b,
		     uint32_t off, unsigned int n);
/* The one-register forms. */
#define gic_save(io, w, b, off) gic_save_run(io, w, b, off, 1)
#define gic_restore(io, s, b, off) gic_restore_run(io, s, b, off, 1)
/* Enable/active/pending bits: clear all with IC*, then set the saved ones with IS*. */
void gic_restore_set_clear(struct gic_io *io, const struct state_section *s,
			   const struct gic_bank *b, uint32_t set_off, uint32_t clear_off);
/* Write ~0 to a 32-bit register (an IC* one). */
void gic_clear(struct gic_io *io, const struct gic_bank *b, uint32_t off);

/* Line levels of the 32 interrupts from `intid` (PPIs: the vCPU in hi). */
void gic_save_level(struct gic_io *io, struct state_writer *w, uint64_t hi, unsigned int intid);
void gic_restore_level(struct gic_io *io, const struct state_section *s, uint64_t hi,
		       unsigned int intid);
/* GICD_IIDR, first of all distributor registers. */
void gic_restore_iidr(struct gic_io *io, const struct state_section *s);

/* A section the snapshot must have; NULL (and io->ret set) when absent. */
const struct state_section *gic_section(struct gic_io *io, const struct state_reader *r,
					const char *name);
/* "gic.<kind>.<cpu>": the section of one vCPU (kind: "redist" or "cpu"). */
const struct state_section *gic_cpu_section(struct gic_io *io, const struct state_reader *r,
					    const char *kind, unsigned int cpu);
/* Begin "gic.<kind>.<cpu>" in the writer. */
void gic_begin_cpu_section(struct state_writer *w, const char *kind, unsigned int cpu);

/* ---- gicv3.c, for its.c: gicv3-its is gicv3 plus the ITS ---- */
bool gicv3_probe(int vm_fd);
int gicv3_create(struct irqchip *chip);
int gicv3_finalize(struct irqchip *chip);
void gicv3_destroy(struct irqchip *chip);
int gicv3_flush(struct irqchip *chip, char *err, size_t errlen);
int gicv3_save(struct irqchip *chip, struct state_writer *w, const uint64_t *mpidrs,
	       char *err, size_t errlen);
int gicv3_restore(struct irqchip *chip, const struct state_reader *r, const uint64_t *mpidrs,
		  char *err, size_t errlen);

extern const struct irqchip_ops gicv2_ops;
extern const struct irqchip_ops gicv3_ops;
extern const struct irqchip_ops gicv3_its_ops;

#endif
