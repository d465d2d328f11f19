// SPDX-License-Identifier: GPL-2.0
/*
 * VFIO interrupts wired to the irqchip with no lvmm thread in the path:
 * VFIO signals an eventfd that KVM reads as an irqfd. A level interrupt
 * (VFIO masks the host line when it fires) also gets a resamplefd, which
 * KVM signals when the guest EOIs it and which VFIO takes as its UNMASK
 * trigger. An interrupt is one vector of one VFIO IRQ index, so the same
 * calls serve platform IRQs, PCI INTx and each MSI/MSI-X vector.
 */
#include "internal.h"
#include "../../util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

void vfio_irq_init(struct vfio_irq *irq, uint32_t index, uint32_t sub)
{
	*irq = (struct vfio_irq){ .index = index, .sub = sub, .trigger_fd = -1,
				  .resample_fd = -1 };
}

int vfio_irq_info(int fd, uint32_t index, struct vfio_irq_info *info, const char *name,
		  char *err, size_t errlen)
{
	int ret;

	*info = (struct vfio_irq_info){ .argsz = sizeof(*info), .index = index };
	if (ioctl(fd, VFIO_DEVICE_GET_IRQ_INFO, info) < 0) {
		ret = -errno;
		snprintf(err, errlen, "vfio: %s: IRQ %u: VFIO_DEVICE_GET_IRQ_INFO: %s", name, index,
			 strerror(-ret));
		return ret;
	}
	return 0;
}

/* One vector's eventfd for action (TRIGGER or UNMASK); efd -1 takes it back. */
static int set_irq_eventfd(int fd, const struct vfio_irq *irq, uint32_t action, int32_t efd)
{
	char buf[sizeof(struct vfio_irq_set) + sizeof(int32_t)] __attribute__((aligned(8)));
	struct vfio_irq_set *set = (struct vfio_irq_set *)buf;

	set->argsz = sizeof(buf);
	set->flags = VFIO_IRQ_SET_DATA_EVENTFD | action;
	set->index = irq->index;
	set->start = irq->sub;
	set->count = 1;
	memcpy(set->data, &efd, sizeof(efd));
	return ioctl(fd, VFIO_DEVICE_SET_IRQS, set) < 0 ? -errno : 0;
}

int vfio_irq_disable(int fd, uint32_t index)
{
	struct vfio_irq_set set = {
		.argsz = sizeof(set),
		.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
		.index = index,
		.count = 0,
	};

	return ioctl(fd, VFIO_DEVICE_SET_IRQS, &set) < 0 ? -errno : 0;
}

int vfio_irq_wire(const struct device_env *env, struct vfio_irq *irq, const char *name,
		  char *err, size_t errlen)
{
	int ret;

	irq->trigger_fd = eventfd(0, EFD_CLOEXEC);
	if (irq->trigger_fd >= 0 && irq->level)
		irq->resample_fd = eventfd(0, EFD_CLOEXEC);
	if (irq->trigger_fd < 0 || (irq->level && irq->resample_fd < 0)) {
		ret = -errno;
		snprintf(err, errlen, "vfio: %s: IRQ %u: eventfd: %s", name, irq->index,
			 strerror(-ret));
		return ret;
	}
	/* Queued until the vGIC is initialised, then KVM_IRQFD (+RESAMPLE). */
	ret = env->irqfd(env->ctx, irq->intid, irq->trigger_fd, irq->level ? irq->resample_fd : -1,
			 true);
	if (ret) {
		snprintf(err, errlen, "vfio: %s: IRQ %u: irqfd for SPI %u: %s", name, irq->index,
			 irq->intid, strerror(-ret));
		return ret;
	}
	irq->irqfd = true;
	return 0;
}

/*
 * The trigger (which KVM's irqfd already reads) and, for a level
 * interrupt, the resamplefd as the unmask. The irqfds are attached by now
 * (after the vGIC's CTRL_INIT), the order KVM documents.
 */
int vfio_irq_start(int fd, struct vfio_irq *irq, const char *name, char *err, size_t errlen)
{
	int ret, undo = 0;

	ret = set_irq_eventfd(fd, irq, VFIO_IRQ_SET_ACTION_TRIGGER, irq->trigger_fd);
	if (!ret && irq->level) {
		ret = set_irq_eventfd(fd, irq, VFIO_IRQ_SET_ACTION_UNMASK, irq->resample_fd);
		if (ret)
			undo = vfio_irq_disable(fd, irq->index);
	}
	if (ret) {
		snprintf(err, errlen, "vfio: %s: IRQ %u: VFIO_DEVICE_SET_IRQS: %s%s%s", name,
			 irq->index, strerror(-ret), undo ? "; and taking the trigger back: " : "",
			 undo ? strerror(-undo) : "");
		return ret;
	}
	irq->armed = true;
	return 0;
}

/*
 * The unmask eventfd first (vfio-pci takes it only while INTx is on), then
 * the host interrupt: nothing signals the eventfds afterwards.
 */
int vfio_irq_stop(int fd, struct vfio_irq *irq)
{
	int ret = 0, ret2 = 0;

	if (!irq->armed)
		return 0;
	if (irq->level)
		ret2 = set_irq_eventfd(fd, irq, VFIO_IRQ_SET_ACTION_UNMASK, -1);
	ret = vfio_irq_disable(fd, irq->index);
	irq->armed = false;
	return ret ?: ret2;
}

int vfio_irq_release(const struct device_env *env, int fd, struct vfio_irq *irq)
{
	int ret, ret2 = 0;

	ret = vfio_irq_stop(fd, irq);
	if (irq->irqfd)
		ret2 = env->irqfd(env->ctx, irq->intid, irq->trigger_fd, irq->resample_fd, false);
	irq->irqfd = false;
	if (irq->trigger_fd >= 0)
		close(irq->trigger_fd);
	if (irq->resample_fd >= 0)
		close(irq->resample_fd);
	irq->trigger_fd = irq->resample_fd = -1;
	return ret ?: ret2;
}
