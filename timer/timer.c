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

void timer_counter_offsets(struct timer_offsets *o, uint64_t virt, uint64_t phys,
			   bool has_phys)
{
	uint64_t now = timer_host_counter();

	o->virt = now - virt;
	o->phys = now - phys;
	o->has_phys = has_phys;
}

/*
 * A counter read or write through ONE_REG: KVM reads the host's counter
 * somewhere inside the ioctl. Bracketing it with our own readings bounds
 * when; a bracket wider than this (the thread was preempted) is retried.
 */
#define TIMER_BRACKET_TRIES 20

static uint64_t bracket_limit(void)
{
	return timer_host_freq() / 10000;	/* 100 us */
}

static int one_reg(int vcpu_fd, bool set, uint64_t id, uint64_t *val)
{
	struct kvm_one_reg reg = { .id = id, .addr = (uint64_t)(uintptr_t)val };

	return ioctl(vcpu_fd, set ? KVM_SET_ONE_REG : KVM_GET_ONE_REG, &reg) < 0 ? -errno : 0;
}

int timer_read_counters(int vcpu_fd, uint64_t *virt, uint64_t *phys)
{
	uint64_t best = ~0ULL;
	int ret;

	for (int i = 0; i < TIMER_BRACKET_TRIES && best > bracket_limit(); i++) {
		uint64_t v, p, u1, u2;

		u1 = timer_host_counter();
		ret = one_reg(vcpu_fd, false, KVM_REG_ARM_TIMER_CNT, &v);
		if (!ret)
			ret = one_reg(vcpu_fd, false, KVM_REG_ARM_PTIMER_CNT, &p);
		u2 = timer_host_counter();
		if (ret)
			return ret;
		/* The second read came about half the bracket after the first. */
		if (u2 - u1 < best) {
			best = u2 - u1;
			*virt = v;
			*phys = p - (u2 - u1) / 2;
		}
	}
	return 0;
}

static int set_counter(int vcpu_fd, uint64_t id, uint64_t offset)
{
	for (int i = 0;; i++) {
		uint64_t u1 = timer_host_counter(), val = u1 - offset, u2;
		int ret = one_reg(vcpu_fd, true, id, &val);

		u2 = timer_host_counter();
		/* KVM's offset is its reading less val: off by at most u2 - u1. */
		if (ret || u2 - u1 <= bracket_limit() || i == TIMER_BRACKET_TRIES - 1)
			return ret;
	}
}

int timer_set_counters(int vcpu_fd, const struct timer_offsets *o)
{
	int ret = set_counter(vcpu_fd, KVM_REG_ARM_TIMER_CNT, o->virt);

	if (!ret && o->has_phys)
		ret = set_counter(vcpu_fd, KVM_REG_ARM_PTIMER_CNT, o->phys);
	return ret;
}
