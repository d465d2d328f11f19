// SPDX-License-Identifier: GPL-2.0
/*
 * KVM's ITS (Documentation/virt/kvm/devices/arm-vgic-its.rst) as a
 * component of the gicv3-its model, which is gicv3 plus this: the ITS
 * device and its frame, its CTRL_INIT, its tables flushed into guest RAM,
 * and its registers in the "gic.its" section. (Its FDT child is written by
 * fdt.c with the GIC node: that code is pure and unit-tested.)
 */
#include "gic.h"
#include "../state/state.h"
#include "../util.h"

#include <errno.h>
#include <linux/kvm.h>
#include <string.h>
#include <unistd.h>

#define GITS_CTLR	0x0000
#define GITS_IIDR	0x0004
#define GITS_CBASER	0x0080
#define GITS_CWRITER	0x0088
#define GITS_CREADR	0x0090
#define GITS_BASER	0x0100

static bool its_probe(int vm_fd)
{
	return gicv3_probe(vm_fd) && gic_can_create(vm_fd, KVM_DEV_TYPE_ARM_VGIC_ITS);
}

/* After the vGICv3 device: the ITS frame is placed beside its frames. */
static int its_create(struct irqchip *chip)
{
	struct gic *gic;
	int fd, ret;

	ret = gicv3_create(chip);
	if (ret)
		return ret;
	gic = to_gic(chip);
	fd = gic_create_device(chip->vm_fd, KVM_DEV_TYPE_ARM_VGIC_ITS);
	if (fd < 0) {
		pr_err("gicv3-its: KVM_CREATE_DEVICE: %s", strerror(-fd));
		return fd;
	}
	gic->its_fd = fd;
	ret = gic_set_attr(fd, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_ITS_ADDR_TYPE,
			   &chip->layout.its_base);
	if (ret)
		pr_err("gicv3-its: setting the ITS frame address: %s", strerror(-ret));
	return ret;
}

/* The ITS is initialised after the vGIC it belongs to. */
static int its_finalize(struct irqchip *chip)
{
	int ret = gicv3_finalize(chip);

	if (ret)
		return ret;
	ret = gic_set_attr(to_gic(chip)->its_fd, KVM_DEV_ARM_VGIC_GRP_CTRL,
			   KVM_DEV_ARM_VGIC_CTRL_INIT, NULL);
	if (ret)
		pr_err("gicv3-its: KVM_DEV_ARM_VGIC_CTRL_INIT: %s", strerror(-ret));
	return ret;
}

static void its_destroy(struct irqchip *chip)
{
	struct gic *gic = to_gic(chip);

	if (gic && gic->its_fd >= 0) {
		close(gic->its_fd);
		gic->its_fd = -1;
	}
	gicv3_destroy(chip);
}

/* LPI pending tables (the vGIC's), then the ITS's device/collection tables. */
static int its_flush(struct irqchip *chip, char *err, size_t errlen)
{
	struct gic_io io = { to_gic(chip)->its_fd, err, errlen, 0 };
	int ret = gicv3_flush(chip, err, errlen);

	if (ret)
		return ret;
	gic_attr(&io, true, KVM_DEV_ARM_VGIC_GRP_CTRL, KVM_DEV_ARM_ITS_SAVE_TABLES, NULL);
	return io.ret;
}

static int its_save(struct irqchip *chip, struct state_writer *w, const uint64_t *mpidrs,
		    char *err, size_t errlen)
{
	const struct gic_bank its = { KVM_DEV_ARM_VGIC_GRP_ITS_REGS, 0, 8, 0, false };
	struct gic_io io = { to_gic(chip)->its_fd, err, errlen, 0 };
	int ret = gicv3_save(chip, w, mpidrs, err, errlen);

	if (ret)
		return ret;
	sw_begin(w, "gic.its", 1);
	gic_save(&io, w, &its, GITS_IIDR);
	gic_save(&io, w, &its, GITS_CTLR);
	gic_save(&io, w, &its, GITS_CBASER);
	gic_save(&io, w, &its, GITS_CWRITER);
	gic_save(&io, w, &its, GITS_CREADR);
	gic_save_run(&io, w, &its, GITS_BASER, 8);
	sw_end(w);
	return io.ret;
}

/*
 * The order, in one place (arm-vgic-its.rst): guest RAM and every
 * redistributor first (gicv3_restore), then GITS_IIDR, GITS_CBASER (which
 * resets GITS_CREADR: before it), GITS_CREADR, GITS_CWRITER, GITS_BASER<n>,
 * RESTORE_TABLES, and GITS_CTLR last.
 */
static int its_restore(struct irqchip *chip, const struct state_reader *r,
		       const uint64_t *mpidrs, char *err, size_t errlen)
{
	const struct gic_bank its = { KVM_DEV_ARM_VGIC_GRP_ITS_REGS, 0, 8, 0, false };
	struct gic_io io = { to_gic(chip)->its_fd, err, errlen, 0 };
	const struct state_section *s;
	int ret = gicv3_restore(chip, r, mpidrs, err, errlen);

	if (ret)
		return ret;
	s = gic_section(&io, r, "gic.its");
	if (!s)
		return io.ret;
	gic_restore(&io, s, &its, GITS_IIDR);
	gic_restore(&io, s, &its, GITS_CBASER);
	gic_restore(&io, s, &its, GITS_CREADR);
	gic_restore(&io, s, &its, GITS_CWRITER);
	gic_restore_run(&io, s, &its, GITS_BASER, 8);
	if (!io.ret)
		gic_attr(&io, true, KVM_DEV_ARM_VGIC_GRP_CTRL, KVM_DEV_ARM_ITS_RESTORE_TABLES, NULL);
	gic_restore(&io, s, &its, GITS_CTLR);
	return io.ret;
}

const struct irqchip_ops gicv3_its_ops = {
	.name = "gicv3-its",
	.model = IRQCHIP_GICV3_ITS,
	.probe = its_probe,
	.create = its_create,
	.finalize = its_finalize,
	.destroy = its_destroy,
	.flush = its_flush,
	.save = its_save,
	.restore = its_restore,
};
