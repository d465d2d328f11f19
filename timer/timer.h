/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The architected timer: KVM emulates it in the kernel; lvmm picks its PPIs
 * (KVM_ARM_VCPU_TIMER_CTRL) and describes them in the device tree. fdt.c is
 * pure logic; timer.c talks to KVM.
 */
#ifndef LVMM_TIMER_H
#define LVMM_TIMER_H

#include <stdint.h>

/* INTIDs of the timer PPIs (the values KVM and QEMU's virt board use). */
#define TIMER_HYP_INTID		26
#define TIMER_VIRT_INTID	27
#define TIMER_SEC_PHYS_INTID	29
#define TIMER_PHYS_INTID	30

struct timer_ppis {
	unsigned int virt;	/* EL1 virtual timer */
	unsigned int phys;	/* EL1 physical timer */
};

void timer_default_ppis(struct timer_ppis *ppis);

/*
 * Tell KVM which PPIs the timers use. Setting them on one vCPU sets them
 * for every vCPU created so far: call it once all vCPUs exist, before any
 * runs. Returns 0 or -errno; a kernel without the attribute keeps its
 * defaults, which are the same numbers.
 */
int timer_configure(int vcpu_fd, const struct timer_ppis *ppis);

/* The "arm,armv8-timer" node listing the same PPIs. */
int timer_fdt_node(void *fdt, const struct timer_ppis *ppis, int gic_version,
		   unsigned int nr_cpus);

/* The host's counter (CNTVCT_EL0, as userspace sees it) and frequency. */
uint64_t timer_host_counter(void);
uint64_t timer_host_freq(void);
/*
 * Make the guest's counters read `guest_now` at this moment: one VM-wide
 * KVM_ARM_SET_COUNTER_OFFSET where the kernel has it (returns 1), else
 * returns 0 and the caller writes KVM_REG_ARM_TIMER_CNT on every vCPU.
 */
int timer_set_guest_counter(int vm_fd, uint64_t guest_now);

#endif
