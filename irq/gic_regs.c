// SPDX-License-Identifier: GPL-2.0
/*
 * Register helpers KVM's GIC models share: device creation, attribute
 * access, runs of registers saved under their offset (so a snapshot never
 * depends on position) and restored by one loop, line levels, GICD_IIDR.
 * The order registers are restored in belongs to each model's file.
 */
#include "gic.h"
#include "../state/state.h"
#include "../util.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* Line levels are stored beside the registers, under keys no offset has. */
#define KEY_LEVEL(intid) ((1ULL << 40) | (intid))

int gic_alloc(struct irqchip *chip)
{
	struct gic *gic = calloc(1, sizeof(*gic));

	if (!gic)
		return -ENOMEM;
	gic->fd = -1;
	gic->its_fd = -1;
	chip->priv = gic;
	return 0;
}

void gic_free(struct irqchip *chip)
{
	struct gic *gic = to_gic(chip);

	if (!gic)
		return;
	if (gic->fd >= 0)
		close(gic->fd);
	free(gic);
	chip->priv = NULL;
}

int gic_create_device(int vm_fd, uint32_t type)
{
	struct kvm_create_device cd = { .type = type };

	if (ioctl(vm_fd, KVM_CREATE_DEVICE, &cd) < 0)
		return -errno;
	return cd.fd;
}

bool gic_can_create(int vm_fd, uint32_t type)
{
	struct kvm_create_device cd = { .type = type, .flags = KVM_CREATE_DEVICE_TEST };

	return ioctl(vm_fd, KVM_CREATE_DEVICE, &cd) == 0;
}

int gic_set_attr(int fd, uint32_t group, uint64_t attr, const void *val)
{
	struct kvm_device_attr a = {
		.group = group,
		.attr = attr,
		.addr = (uint64_t)(uintptr_t)val,
	};

	return ioctl(fd, KVM_SET_DEVICE_ATTR, &a) < 0 ? -errno : 0;
}

int gic_init_device(struct irqchip *chip, const char *name)
{
	uint32_t nr_irqs = chip->nr_irqs;
	int fd = to_gic(chip)->fd;
	int ret;

	ret = gic_set_attr(fd, KVM_DEV_ARM_VGIC_GRP_NR_IRQS, 0, &nr_irqs);
	if (ret) {
		pr_err("%s: setting %u interrupts: %s", name, nr_irqs, strerror(-ret));
		return ret;
	}
	ret = gic_set_attr(fd, KVM_DEV_ARM_VGIC_GRP_CTRL, KVM_DEV_ARM_VGIC_CTRL_INIT, NULL);
	if (ret)
		pr_err("%s: KVM_DEV_ARM_VGIC_CTRL_INIT: %s", name, strerror(-ret));
	return ret;
}

int gic_attr(struct gic_io *io, bool set, uint32_t group, uint64_t attr, void *val)
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

uint64_t gic_mpidr_attr(uint64_t mpidr)
{
	uint64_t aff = ((mpidr >> 32) & 0xff) << 24 | ((mpidr >> 16) & 0xff) << 16 |
		       ((mpidr >> 8) & 0xff) << 8 | (mpidr & 0xff);

	return aff << 32;
}

uint64_t gic_save_run(struct gic_io *io, struct state_writer *w, const struct gic_bank *b,
		      uint32_t off, unsigned int n)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < n; i++, off += b->width) {
		v = 0;	/* a 4-byte register fills the low half (little-endian) */
		if (gic_attr(io, false, b->group, b->hi | off, &v))
			return 0;
		if (b->width == 8)
			sw_put_u64(w, b->key | off, v);
		else
			sw_put(w, b->key | off, &v, 4);
	}
	return v;
}

/* The one restore loop: a register the snapshot must have is an error when absent. */
void gic_restore_run(struct gic_io *io, const struct state_section *s, const struct gic_bank *b,
		     uint32_t off, unsigned int n)
{
	for (unsigned int i = 0; i < n && !io->ret; i++, off += b->width) {
		uint64_t v = 0;
		uint32_t len;
		const void *p = ss_get(s, b->key | off, &len);

		if (!p || len != b->width) {
			if (b->optional)
				continue;
			io->ret = -EINVAL;
			snprintf(io->err, io->errlen, "snapshot section %s lacks register 0x%x",
				 s->name, off);
			return;
		}
		memcpy(&v, p, b->width);
		gic_attr(io, true, b->group, b->hi | off, &v);
	}
}

void gic_clear(struct gic_io *io, const struct gic_bank *b, uint32_t off)
{
	uint32_t v = ~0U;

	gic_attr(io, true, b->group, b->hi | off, &v);
}

void gic_restore_set_clear(struct gic_io *io, const struct state_section *s,
			   const struct gic_bank *b, uint32_t set_off, uint32_t clear_off)
{
	gic_clear(io, b, clear_off);
	gic_restore(io, s, b, set_off);
}

static uint64_t level_attr(uint64_t hi, unsigned int intid)
{
	return hi | (VGIC_LEVEL_INFO_LINE_LEVEL << KVM_DEV_ARM_VGIC_LINE_LEVEL_INFO_SHIFT) | intid;
}

void gic_save_level(struct gic_io *io, struct state_writer *w, uint64_t hi, unsigned int intid)
{
	uint32_t lvl = 0;

	if (!gic_attr(io, false, KVM_DEV_ARM_VGIC_GRP_LEVEL_INFO, level_attr(hi, intid), &lvl))
		sw_put(w, KEY_LEVEL(intid), &lvl, 4);
}

/* Snapshots from before lvmm saved line levels have none: nothing to restore. */
void gic_restore_level(struct gic_io *io, const struct state_section *s, uint64_t hi,
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
void gic_restore_iidr(struct gic_io *io, const struct state_section *s)
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

const struct state_section *gic_section(struct gic_io *io, const struct state_reader *r,
					const char *name)
{
	const struct state_section *s = sr_section(r, name);

	if (!s && !io->ret) {
		io->ret = -EINVAL;
		snprintf(io->err, io->errlen, "snapshot lacks section %s", name);
	}
	return s;
}

const struct state_section *gic_cpu_section(struct gic_io *io, const struct state_reader *r,
					    const char *kind, unsigned int cpu)
{
	char name[32];

	snprintf(name, sizeof(name), "gic.%s.%u", kind, cpu);
	return gic_section(io, r, name);
}

void gic_begin_cpu_section(struct state_writer *w, const char *kind, unsigned int cpu)
{
	char name[32];

	snprintf(name, sizeof(name), "gic.%s.%u", kind, cpu);
	sw_begin(w, name, 1);
}
