// SPDX-License-Identifier: GPL-2.0
/*
 * Bringing a snapshot back: the steps of vmm's bring-up list that a restore
 * walks with state (the snapshot opened, RAM from its memory file, vCPUs
 * initialised with their saved features, then registers, counters, the
 * vGIC and the devices).
 */
#include "migration.h"
#include "snapshot.h"
#include "../irq/irq.h"
#include "../machine.h"
#include "../timer/timer.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int restore_open(struct vmm *v, const struct vm_config *cfg, struct vm_config *rcfg, char *err,
		 size_t errlen)
{
	char why[1024];
	int ret;

	v->restore = calloc(1, sizeof(*v->restore));
	if (!v->restore) {
		snprintf(err, errlen, "restore: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	ret = snapshot_open(cfg->restore_dir, v->restore, why, sizeof(why));
	if (ret) {
		snprintf(err, errlen, "restore: %s", why);
		free(v->restore);
		v->restore = NULL;
		return ret;
	}
	*rcfg = v->restore->cfg;
	rcfg->restore_dir = cfg->restore_dir;
	rcfg->clock = cfg->clock;
	rcfg->copy_memory = cfg->copy_memory;
	rcfg->incoming_ram = cfg->incoming_ram;
	rcfg->stats = cfg->stats;
	rcfg->stats_marker = cfg->stats_marker;
	rcfg->dump_dtb = NULL;
	if (cfg->name_given || !rcfg->name[0])
		memcpy(rcfg->name, cfg->name, sizeof(rcfg->name));
	v->cfg = rcfg;
	if (timer_host_freq() != v->restore->cntfrq) {
		snprintf(err, errlen, "restore: the snapshot's counter runs at %llu Hz, this host's at %llu Hz",
			 (unsigned long long)v->restore->cntfrq,
			 (unsigned long long)timer_host_freq());
		return -EINVAL;
	}
	return 0;
}

void restore_close(struct vmm *v)
{
	if (!v->restore)
		return;
	snapshot_close(v->restore);
	free(v->restore);
	v->restore = NULL;
}

int restore_map_ram(struct vmm *v, void **host, char *err, size_t errlen)
{
	char why[512];
	int ret;

	/* A migration's RAM is in memory already (migration/incoming.c). */
	if (v->cfg->incoming_ram) {
		*host = v->cfg->incoming_ram;
		return 0;
	}
	ret = snapshot_map_memory(v->restore, v->cfg->copy_memory, host, why, sizeof(why));

	if (ret)
		snprintf(err, errlen, "restore: %s", why);
	return ret;
}

/* The saved section of vCPU i. */
static const struct state_section *vcpu_section(struct vmm *v, unsigned int i)
{
	char name[STATE_NAME_LEN + 1];

	snprintf(name, sizeof(name), "vcpu.%u", i);
	return sr_section(&v->restore->reader, name);
}

/* KVM_ARM_VCPU_INIT with the saved features; MP_STATE says who is off. */
int restore_vcpu_init(struct vmm *v, unsigned int i)
{
	const struct state_section *s = vcpu_section(v, i);
	uint32_t features;

	if (!s || vcpu_saved_features(s, &features))
		return -EINVAL;
	return vcpu_init_features(&v->vm.vcpus[i], features & ~(1U << KVM_ARM_VCPU_POWER_OFF));
}

/*
 * The guest's two counters go on from where they were, read as at one
 * moment at the snapshot (snapshots from before lvmm saved the physical
 * one: vCPU 0's saved TIMER_CNT and PTIMER_CNT, read a few ioctls apart,
 * give the difference). --clock advance moves both on by the wall-clock
 * time since the snapshot. Timer compare values are in guest counter terms
 * (restored with the registers), so deadlines keep.
 */
static int restore_counters(struct vmm *v, char *err, size_t errlen)
{
	const struct snapshot_image *img = v->restore;
	const struct state_section *vm = sr_section(&img->reader, "vm");
	const struct state_section *s = vcpu_section(v, 0);
	uint64_t virt = img->guest_counter, phys = 0, saved_v = 0, saved_p = 0;
	struct timer_offsets off;
	bool has_phys;
	int ret;

	has_phys = vm && ss_get_u64(vm, VM_KEY_GUEST_PCOUNTER, &phys);
	if (!has_phys && s && ss_get_u64(s, KVM_REG_ARM_TIMER_CNT, &saved_v) &&
	    ss_get_u64(s, KVM_REG_ARM_PTIMER_CNT, &saved_p)) {
		phys = virt + (saved_p - saved_v);
		has_phys = true;
	}
	if (v->cfg->clock == CLOCK_ADVANCE) {
		struct timespec ts;
		uint64_t now;

		clock_gettime(CLOCK_REALTIME, &ts);
		now = (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
		if (now > img->realtime_ns)
			virt += (unsigned __int128)(now - img->realtime_ns) * img->cntfrq /
				1000000000ULL;
	}
	timer_counter_offsets(&off, virt, phys + (virt - img->guest_counter), has_phys);
	for (unsigned int i = 0; i < v->vm.nr_vcpus; i++) {
		ret = timer_set_counters(v->vm.vcpus[i].fd, &off);
		if (ret) {
			snprintf(err, errlen, "vcpu%u: setting the guest's counters: %s", i,
				 strerror(-ret));
			return ret;
		}
	}
	return 0;
}

static int restore_state(struct vmm *v, char *err, size_t errlen)
{
	struct snapshot_image *img = v->restore;
	uint64_t mpidrs[LVMM_MAX_CPUS];
	const struct state_section *s;
	struct device *dev;
	int ret;

	for (unsigned int i = 0; i < v->vm.nr_vcpus; i++) {
		s = vcpu_section(v, i);
		/* The counters are set once for all vCPUs, below. */
		ret = vcpu_restore(&v->vm.vcpus[i], s, true, err, errlen);
		if (ret)
			return ret;
		mpidrs[i] = v->vm.vcpus[i].mpidr;
	}
	ret = restore_counters(v, err, errlen);
	if (ret)
		return ret;
	ret = irqchip_restore(v->irqchip, &img->reader, mpidrs, err, errlen);
	if (ret)
		return ret;
	device_for_each(&v->devices, dev) {
		s = sr_section(&img->reader, dev->name);
		if (!s && dev->ops->stateless)
			continue;
		if (!s || !dev->ops->restore) {
			snprintf(err, errlen, "the snapshot has no state for %s", dev->name);
			return -EINVAL;
		}
		ret = dev->ops->restore(dev, s, err, errlen);
		if (ret)
			return ret;
	}
	return 0;
}

int restore_apply(struct vmm *v, char *err, size_t errlen)
{
	char why[512] = "";
	int ret = restore_state(v, why, sizeof(why));

	if (!ret)
		return 0;
	if (!why[0])
		snprintf(why, sizeof(why), "%s", strerror(ret < 0 ? -ret : EINVAL));
	snprintf(err, errlen, "restore: %s", why);
	return ret < 0 ? ret : -EINVAL;
}
