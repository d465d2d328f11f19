// SPDX-License-Identifier: GPL-2.0
/* KVM's vGICv2 (Documentation/virt/kvm/devices/arm-vgic.rst). */
#include "irq.h"
#include "../util.h"

#include <errno.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>

static int gicv2_create(struct irqchip *chip)
{
	struct kvm_create_device cd = { .type = KVM_DEV_TYPE_ARM_VGIC_V2 };
	const struct gic_layout *l = &chip->layout;
	int ret;

	if (ioctl(chip->vm_fd, KVM_CREATE_DEVICE, &cd) < 0) {
		ret = -errno;
		pr_err("gicv2: KVM_CREATE_DEVICE: %s", strerror(-ret));
		return ret;
	}
	chip->gic_fd = cd.fd;
	ret = gic_set_attr(cd.fd, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V2_ADDR_TYPE_DIST,
			   &l->dist_base);
	if (!ret)
		ret = gic_set_attr(cd.fd, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V2_ADDR_TYPE_CPU,
				   &l->cpu_base);
	if (ret)
		pr_err("gicv2: setting frame addresses: %s", strerror(-ret));
	return ret;
}

static int gicv2_finalize(struct irqchip *chip)
{
	uint32_t nr_irqs = chip->nr_irqs;
	int ret;

	ret = gic_set_attr(chip->gic_fd, KVM_DEV_ARM_VGIC_GRP_NR_IRQS, 0, &nr_irqs);
	if (ret) {
		pr_err("gicv2: setting %u interrupts: %s", nr_irqs, strerror(-ret));
		return ret;
	}
	ret = gic_set_attr(chip->gic_fd, KVM_DEV_ARM_VGIC_GRP_CTRL, KVM_DEV_ARM_VGIC_CTRL_INIT,
			   NULL);
	if (ret)
		pr_err("gicv2: KVM_DEV_ARM_VGIC_CTRL_INIT: %s", strerror(-ret));
	return ret;
}

const struct irqchip_ops gicv2_ops = {
	.name = "gicv2",
	.create = gicv2_create,
	.finalize = gicv2_finalize,
};
