// SPDX-License-Identifier: GPL-2.0
/*
 * KVM's vGICv3 (Documentation/virt/kvm/devices/arm-vgic-v3.rst) and its ITS
 * (arm-vgic-its.rst). Frame addresses are set at create time, before any
 * vCPU exists; NR_IRQS and CTRL_INIT once they all do.
 */
#include "irq.h"
#include "../util.h"

#include <errno.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>

static int kvm_create_device(int vm_fd, uint32_t type)
{
	struct kvm_create_device cd = { .type = type };

	if (ioctl(vm_fd, KVM_CREATE_DEVICE, &cd) < 0)
		return -errno;
	return cd.fd;
}

static int gicv3_create(struct irqchip *chip)
{
	const struct gic_layout *l = &chip->layout;
	int fd, ret;

	fd = kvm_create_device(chip->vm_fd, KVM_DEV_TYPE_ARM_VGIC_V3);
	if (fd < 0) {
		pr_err("gicv3: KVM_CREATE_DEVICE: %s", strerror(-fd));
		return fd;
	}
	chip->gic_fd = fd;
	ret = gic_set_attr(fd, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_DIST,
			   &l->dist_base);
	if (!ret)
		ret = gic_set_attr(fd, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_REDIST,
				   &l->redist_base);
	if (ret) {
		pr_err("gicv3: setting frame addresses: %s", strerror(-ret));
		return ret;
	}
	if (!l->its)
		return 0;

	fd = kvm_create_device(chip->vm_fd, KVM_DEV_TYPE_ARM_VGIC_ITS);
	if (fd < 0) {
		pr_err("gicv3-its: KVM_CREATE_DEVICE: %s", strerror(-fd));
		return fd;
	}
	chip->its_fd = fd;
	ret = gic_set_attr(fd, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_ITS_ADDR_TYPE, &l->its_base);
	if (ret) {
		pr_err("gicv3-its: setting the ITS frame address: %s", strerror(-ret));
		return ret;
	}
	return 0;
}

static int gicv3_finalize(struct irqchip *chip)
{
	uint32_t nr_irqs = chip->nr_irqs;
	int ret;

	ret = gic_set_attr(chip->gic_fd, KVM_DEV_ARM_VGIC_GRP_NR_IRQS, 0, &nr_irqs);
	if (ret) {
		pr_err("gicv3: setting %u interrupts: %s", nr_irqs, strerror(-ret));
		return ret;
	}
	ret = gic_set_attr(chip->gic_fd, KVM_DEV_ARM_VGIC_GRP_CTRL, KVM_DEV_ARM_VGIC_CTRL_INIT,
			   NULL);
	if (ret) {
		pr_err("gicv3: KVM_DEV_ARM_VGIC_CTRL_INIT: %s", strerror(-ret));
		return ret;
	}
	if (chip->its_fd < 0)
		return 0;
	ret = gic_set_attr(chip->its_fd, KVM_DEV_ARM_VGIC_GRP_CTRL, KVM_DEV_ARM_VGIC_CTRL_INIT,
			   NULL);
	if (ret)
		pr_err("gicv3-its: KVM_DEV_ARM_VGIC_CTRL_INIT: %s", strerror(-ret));
	return ret;
}

const struct irqchip_ops gicv3_ops = {
	.name = "gicv3",
	.create = gicv3_create,
	.finalize = gicv3_finalize,
};
