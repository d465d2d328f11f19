// SPDX-License-Identifier: GPL-2.0
#include "timer.h"

#include <errno.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>

void timer_default_ppis(struct timer_ppis *ppis)
{
	ppis->virt = TIMER_VIRT_INTID;
	ppis->phys = TIMER_PHYS_INTID;
}

static int vcpu_set_timer_irq(int vcpu_fd, uint64_t attr, unsigned int intid)
{
	int val = intid;
	struct kvm_device_attr a = {
		.group = KVM_ARM_VCPU_TIMER_CTRL,
		.attr = attr,
		.addr = (uint64_t)(uintptr_t)&val,
	};

	if (ioctl(vcpu_fd, KVM_HAS_DEVICE_ATTR, &a) < 0)
		return -ENOTSUP;
	return ioctl(vcpu_fd, KVM_SET_DEVICE_ATTR, &a) < 0 ? -errno : 0;
}

int timer_configure(int vcpu_fd, const struct timer_ppis *ppis)
{
	int ret;

	ret = vcpu_set_timer_irq(vcpu_fd, KVM_ARM_VCPU_TIMER_IRQ_VTIMER, ppis->virt);
	if (ret == -ENOTSUP)
		return 0;	/* old kernel: fixed PPIs, which are ours */
	if (ret)
		return ret;
	ret = vcpu_set_timer_irq(vcpu_fd, KVM_ARM_VCPU_TIMER_IRQ_PTIMER, ppis->phys);
	return ret == -ENOTSUP ? 0 : ret;
}

uint64_t timer_host_counter(void)
{
	uint64_t v;

	__asm__ volatile("isb; mrs %0, cntvct_el0" : "=r"(v) : : "memory");
	return v;
}

uint64_t timer_host_freq(void)
{
	uint64_t v;

	__asm__ volatile("mrs %0, cntfrq_el0" : "=r"(v));
	return v;
}

int timer_set_guest_counter(int vm_fd, uint64_t guest_now)
{
	struct kvm_arm_counter_offset off = { 0 };

	if (ioctl(vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_COUNTER_OFFSET) <= 0)
		return 0;
	off.counter_offset = timer_host_counter() - guest_now;
	if (ioctl(vm_fd, KVM_ARM_SET_COUNTER_OFFSET, &off) < 0)
		return -errno;
	return 1;
}
