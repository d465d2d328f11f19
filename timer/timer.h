/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The architected timer: KVM emulates it in the kernel; lvmm picks its PPIs
 * (KVM_ARM_VCPU_TIMER_CTRL) and describes them in the device tree. fdt.c is
 * pure logic; timer.c talks to KVM.
 */
#ifndef LVMM_TIMER_H
#define LVMM_TIMER_H

#include <stdbool.h>
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
 * Restoring the guest's counters. KVM keeps two offsets from the host's
 * counter (per VM since 6.4, per vCPU before): the virtual one, set by
 * writing KVM_REG_ARM_TIMER_CNT, and the physical one, set by writing
 * KVM_REG_ARM_PTIMER_CNT. A booted VM has a physical offset of 0 and a
 * virtual one equal to the host's counter when it was created, so its
 * CNTPCT and CNTVCT differ. KVM_ARM_SET_COUNTER_OFFSET is not used: it
 * sets both offsets to one value (CNTPCT would jump to CNTVCT's value), and
 * after it KVM ignores the two register writes.
 *
 * timer_read_counters: the guest's virtual and physical counters as at
 * one moment (that of the virtual one's reading), through a paused vCPU.
 * The two reads are separate ioctls: the pair is bracketed by readings of
 * the host's counter and retried until the bracket is under 100 us, so
 * their difference (the guest's CNTPCT - CNTVCT) is exact to about that.
 * Returns 0 or -errno (a kernel without KVM_REG_ARM_PTIMER_CNT: -ENOENT).
 *
 * timer_counter_offsets: the offsets that make the counters read `virt`
 * and `phys` at this moment (has_phys false: the saved VM had no physical
 * counter register, leave the physical offset alone).
 * timer_set_counters: apply them through one vCPU. Each value written is
 * computed from the host's counter read just before its ioctl, and a write
 * whose ioctl took longer than 100 us is done again, so each offset lands
 * within that of its target; writing them through every vCPU sets the same
 * offsets. Returns 0 or -errno.
 */
int timer_read_counters(int vcpu_fd, uint64_t *virt, uint64_t *phys);
struct timer_offsets {
	uint64_t virt, phys;
	bool has_phys;
};

void timer_counter_offsets(struct timer_offsets *o, uint64_t virt, uint64_t phys,
			   bool has_phys);
int timer_set_counters(int vcpu_fd, const struct timer_offsets *o);

#endif
