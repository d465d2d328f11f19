// SPDX-License-Identifier: GPL-2.0
/*
 * The generic irqchip: model lookup, SPI allocation, GSI routes and irqfds,
 * KVM_IRQ_LINE, and the state calls handed to the model's ops. It knows no
 * GIC register or attribute group (irq.h says how a model is added).
 */
#include "irq.h"
#include "../util.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

unsigned int irqchip_host_models(int vm_fd)
{
	unsigned int mask = 0;

	for (const struct irqchip_ops *const *m = irqchip_models; *m; m++)
		if ((*m)->probe(vm_fd))
			mask |= IRQCHIP_MASK((*m)->model);
	return mask;
}

static const struct irqchip_ops *irqchip_ops_for(enum irqchip_model model)
{
	for (const struct irqchip_ops *const *m = irqchip_models; *m; m++)
		if ((*m)->model == model)
			return *m;
	return NULL;
}

int irqchip_create(int vm_fd, enum irqchip_model model, unsigned int nr_cpus,
		   struct irqchip **out)
{
	const struct irqchip_ops *ops = irqchip_ops_for(model);
	struct irqchip *chip;
	int ret;

	if (!ops) {
		pr_err("irqchip %s: lvmm has no such model", irqchip_model_name(model));
		return -EINVAL;
	}
	chip = calloc(1, sizeof(*chip));
	if (!chip)
		return -ENOMEM;
	chip->model = model;
	chip->ops = ops;
	chip->vm_fd = vm_fd;
	chip->nr_cpus = nr_cpus;
	chip->nr_irqs = GIC_NR_IRQS;
	chip->next_spi = GIC_FIRST_SPI;
	irq_routes_init(&chip->routes);

	ret = chip->ops->create(chip);
	if (ret) {
		irqchip_destroy(chip);
		return ret;
	}
	*out = chip;
	return 0;
}

static int irqfd_attach(struct irqchip *chip, struct irqfd *irqfd)
{
	struct kvm_irqfd req = {
		.fd = irqfd->fd,
		.gsi = irqfd->gsi,
	};

	if (irqfd->resample_fd >= 0) {
		req.flags = KVM_IRQFD_FLAG_RESAMPLE;
		req.resamplefd = irqfd->resample_fd;
	}
	if (ioctl(chip->vm_fd, KVM_IRQFD, &req) < 0)
		return -errno;
	irqfd->attached = true;
	return 0;
}

static int irqfd_detach(struct irqchip *chip, struct irqfd *irqfd)
{
	struct kvm_irqfd req = {
		.fd = irqfd->fd,
		.gsi = irqfd->gsi,
		.flags = KVM_IRQFD_FLAG_DEASSIGN,
	};

	if (!irqfd->attached)
		return 0;
	irqfd->attached = false;
	return ioctl(chip->vm_fd, KVM_IRQFD, &req) < 0 ? -errno : 0;
}

int irqchip_commit_routes(struct irqchip *chip)
{
	struct kvm_irq_routing *table;
	size_t size;
	int ret = 0;

	size = sizeof(*table) + chip->routes.nr * sizeof(table->entries[0]);
	table = calloc(1, size);
	if (!table)
		return -ENOMEM;
	table->nr = chip->routes.nr;
	for (unsigned int i = 0; i < chip->routes.nr; i++) {
		const struct irq_route *r = &chip->routes.routes[i];
		struct kvm_irq_routing_entry *e = &table->entries[i];

		e->gsi = r->gsi;
		if (r->type == IRQ_ROUTE_SPI) {
			e->type = KVM_IRQ_ROUTING_IRQCHIP;
			e->u.irqchip.irqchip = 0;
			e->u.irqchip.pin = r->intid - GIC_FIRST_SPI;
		} else {
			e->type = KVM_IRQ_ROUTING_MSI;
			e->flags = KVM_MSI_VALID_DEVID;
			e->u.msi.address_lo = (uint32_t)r->msi_addr;
			e->u.msi.address_hi = (uint32_t)(r->msi_addr >> 32);
			e->u.msi.data = r->msi_data;
			e->u.msi.devid = r->msi_devid;
		}
	}
	if (ioctl(chip->vm_fd, KVM_SET_GSI_ROUTING, table) < 0)
		ret = -errno;
	free(table);
	return ret;
}

int irqchip_add_irqfd(struct irqchip *chip, unsigned int intid, int fd, int resample_fd)
{
	struct irqfd *irqfd;
	uint32_t gsi;
	int ret;

	ret = irq_routes_add_spi(&chip->routes, intid, &gsi);
	if (ret)
		return ret;
	irqfd = calloc(1, sizeof(*irqfd));
	if (!irqfd)
		return -ENOMEM;
	irqfd->gsi = gsi;
	irqfd->fd = fd;
	irqfd->resample_fd = resample_fd;
	if (chip->initialized) {
		/* A new route must be in KVM's table before the irqfd uses it. */
		ret = irqchip_commit_routes(chip);
		ret = ret ?: irqfd_attach(chip, irqfd);
		if (ret) {
			free(irqfd);
			return ret;
		}
	}
	irqfd->next = chip->irqfds;
	chip->irqfds = irqfd;
	return 0;
}

int irqchip_remove_irqfd(struct irqchip *chip, int fd)
{
	for (struct irqfd **p = &chip->irqfds; *p; p = &(*p)->next) {
		struct irqfd *irqfd = *p;
		int ret;

		if (irqfd->fd != fd)
			continue;
		ret = irqfd_detach(chip, irqfd);
		*p = irqfd->next;
		free(irqfd);
		return ret;
	}
	return -ENOENT;
}

int irqchip_add_msi_irqfd(struct irqchip *chip, uint64_t addr, uint32_t data, uint32_t devid,
			  int fd, uint32_t *gsi)
{
	struct irqfd *irqfd = calloc(1, sizeof(*irqfd));
	int ret;

	if (!irqfd)
		return -ENOMEM;
	ret = irq_routes_add_msi(&chip->routes, addr, data, devid, gsi);
	if (ret) {
		free(irqfd);
		return ret;
	}
	irqfd->gsi = *gsi;
	irqfd->fd = fd;
	irqfd->resample_fd = -1;
	if (chip->initialized) {
		/* The route must be in KVM's table before the irqfd uses it. */
		ret = irqchip_commit_routes(chip);
		ret = ret ?: irqfd_attach(chip, irqfd);
		if (ret) {
			irq_routes_remove(&chip->routes, *gsi);
			free(irqfd);
			return ret;
		}
	}
	irqfd->next = chip->irqfds;
	chip->irqfds = irqfd;
	return 0;
}

int irqchip_remove_msi_irqfd(struct irqchip *chip, uint32_t gsi, int fd)
{
	int ret = irqchip_remove_irqfd(chip, fd);
	int ret2 = irq_routes_remove(&chip->routes, gsi);

	/* Detached first: no irqfd may point at a GSI KVM no longer has. */
	if (chip->initialized)
		ret2 = ret2 ?: irqchip_commit_routes(chip);
	return ret ?: ret2;
}

int irqchip_finalize(struct irqchip *chip)
{
	int ret = chip->ops->finalize(chip);

	if (ret)
		return ret;
	chip->initialized = true;
	/* irqfds asked for before CTRL_INIT: route them, then attach. */
	ret = irqchip_commit_routes(chip);
	if (ret) {
		pr_err("%s: KVM_SET_GSI_ROUTING: %s", chip->ops->name, strerror(-ret));
		return ret;
	}
	for (struct irqfd *irqfd = chip->irqfds; irqfd; irqfd = irqfd->next) {
		ret = irqfd_attach(chip, irqfd);
		if (ret) {
			pr_err("%s: KVM_IRQFD for GSI %u: %s", chip->ops->name, irqfd->gsi,
			       strerror(-ret));
			return ret;
		}
	}
	return 0;
}

void irqchip_destroy(struct irqchip *chip)
{
	if (!chip)
		return;
	while (chip->irqfds) {
		struct irqfd *irqfd = chip->irqfds;

		irqfd_detach(chip, irqfd);
		chip->irqfds = irqfd->next;
		free(irqfd);
	}
	irq_routes_free(&chip->routes);
	chip->ops->destroy(chip);
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

	/* vCPU threads count, the --stats reader reads: relaxed is enough. */
	if (intid < GIC_NR_IRQS)
		atomic_fetch_add_explicit(&chip->irq_line_calls[intid], 1, memory_order_relaxed);
	return ioctl(chip->vm_fd, KVM_IRQ_LINE, &irq) < 0 ? -errno : 0;
}

unsigned int irqchip_line_calls(struct irqchip *chip, unsigned int intid)
{
	if (intid >= GIC_NR_IRQS)
		return 0;
	return atomic_load_explicit(&chip->irq_line_calls[intid], memory_order_relaxed);
}

/* Snapshots: the model owns its state and the order it is restored in. */
int irqchip_flush_to_ram(struct irqchip *chip, char *err, size_t errlen)
{
	return chip->ops->flush(chip, err, errlen);
}

int irqchip_save(struct irqchip *chip, struct state_writer *w, const uint64_t *mpidrs,
		 char *err, size_t errlen)
{
	return chip->ops->save(chip, w, mpidrs, err, errlen);
}

int irqchip_restore(struct irqchip *chip, const struct state_reader *r, const uint64_t *mpidrs,
		    char *err, size_t errlen)
{
	return chip->ops->restore(chip, r, mpidrs, err, errlen);
}
