// SPDX-License-Identifier: GPL-2.0
/* The irqchip interface over KVM's in-kernel vGIC models. */
#include "irq.h"
#include "../util.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

int gic_set_attr(int fd, uint32_t group, uint64_t attr, const void *val)
{
	struct kvm_device_attr a = {
		.group = group,
		.attr = attr,
		.addr = (uint64_t)(uintptr_t)val,
	};

	return ioctl(fd, KVM_SET_DEVICE_ATTR, &a) < 0 ? -errno : 0;
}

int gic_has_attr(int fd, uint32_t group, uint64_t attr)
{
	struct kvm_device_attr a = { .group = group, .attr = attr };

	return ioctl(fd, KVM_HAS_DEVICE_ATTR, &a) < 0 ? -errno : 0;
}

static bool kvm_can_create_device(int vm_fd, uint32_t type)
{
	struct kvm_create_device cd = { .type = type, .flags = KVM_CREATE_DEVICE_TEST };

	return ioctl(vm_fd, KVM_CREATE_DEVICE, &cd) == 0;
}

unsigned int irqchip_host_models(int vm_fd)
{
	unsigned int mask = 0;

	if (kvm_can_create_device(vm_fd, KVM_DEV_TYPE_ARM_VGIC_V2))
		mask |= IRQCHIP_MASK(IRQCHIP_GICV2);
	if (kvm_can_create_device(vm_fd, KVM_DEV_TYPE_ARM_VGIC_V3)) {
		mask |= IRQCHIP_MASK(IRQCHIP_GICV3);
		if (kvm_can_create_device(vm_fd, KVM_DEV_TYPE_ARM_VGIC_ITS))
			mask |= IRQCHIP_MASK(IRQCHIP_GICV3_ITS);
	}
	return mask;
}

int irqchip_create(int vm_fd, enum irqchip_model model, unsigned int nr_cpus,
		   struct irqchip **out)
{
	struct irqchip *chip;
	int ret;

	chip = calloc(1, sizeof(*chip));
	if (!chip)
		return -ENOMEM;
	chip->model = model;
	chip->ops = model == IRQCHIP_GICV2 ? &gicv2_ops : &gicv3_ops;
	chip->vm_fd = vm_fd;
	chip->gic_fd = -1;
	chip->its_fd = -1;
	chip->nr_cpus = nr_cpus;
	chip->nr_irqs = GIC_NR_IRQS;
	chip->next_spi = GIC_FIRST_SPI;
	gic_layout_for(model, nr_cpus, &chip->layout);

	ret = chip->ops->create(chip);
	if (ret) {
		irqchip_destroy(chip);
		return ret;
	}
	*out = chip;
	return 0;
}

int irqchip_finalize(struct irqchip *chip)
{
	int ret = chip->ops->finalize(chip);

	if (!ret)
		chip->initialized = true;
	return ret;
}

void irqchip_destroy(struct irqchip *chip)
{
	if (!chip)
		return;
	if (chip->its_fd >= 0)
		close(chip->its_fd);
	if (chip->gic_fd >= 0)
		close(chip->gic_fd);
	free(chip);
}

unsigned int irqchip_alloc_spi(struct irqchip *chip)
{
	if (chip->next_spi >= chip->nr_irqs)
		return 0;
	return chip->next_spi++;
}

int irqchip_set_spi(struct irqchip *chip, unsigned int intid, int level)
{
	struct kvm_irq_level irq = {
		.irq = (KVM_ARM_IRQ_TYPE_SPI << KVM_ARM_IRQ_TYPE_SHIFT) |
		       (intid & KVM_ARM_IRQ_NUM_MASK),
		.level = level,
	};

	return ioctl(chip->vm_fd, KVM_IRQ_LINE, &irq) < 0 ? -errno : 0;
}
