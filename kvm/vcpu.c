// SPDX-License-Identifier: GPL-2.0
/*
 * vCPUs: creation, KVM_ARM_VCPU_INIT, ONE_REG, and one thread per vCPU
 * looping on KVM_RUN. PSCI (CPU_ON, SYSTEM_OFF, ...) is handled by KVM;
 * only the system-wide events come back here.
 */
#include "kvm.h"
#include "counters.h"
#include "../state/state.h"
#include "../sandbox/sandbox.h"
#include "../util.h"

#include <errno.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#define ARM64_CORE_REG(x) \
	(KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | KVM_REG_ARM_CORE_REG(x))
#define MPIDR_EL1 ARM64_SYS_REG(3, 0, 0, 0, 5)

/* Signal that kicks a vCPU thread out of KVM_RUN. */
#define VCPU_KICK_SIGNAL SIGUSR1

int vcpus_create(struct vm *vm, unsigned int nr)
{
	vm->vcpus = calloc(nr, sizeof(*vm->vcpus));
	if (!vm->vcpus)
		return -ENOMEM;
	for (unsigned int i = 0; i < nr; i++) {
		struct vcpu *v = &vm->vcpus[i];
		void *run;
		int fd;

		v->vm = vm;
		v->index = i;
		v->fd = -1;
		v->stats_fd = -1;
		vm->nr_vcpus = i + 1;
		fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, i);
		if (fd < 0)
			return -errno;
		v->fd = fd;
		v->stats_fd = kvm_counters_open(fd);
		run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (run == MAP_FAILED)
			return -errno;
		v->run = run;
	}
	return 0;
}

int vcpu_init_features(struct vcpu *v, uint32_t features)
{
	struct kvm_vcpu_init init;

	if (ioctl(v->vm->vm_fd, KVM_ARM_PREFERRED_TARGET, &init) < 0)
		return -errno;
	memset(init.features, 0, sizeof(init.features));
	init.features[0] = features;
	if (ioctl(v->fd, KVM_ARM_VCPU_INIT, &init) < 0)
		return -errno;
	v->features = features;
	return vcpu_get_reg(v, MPIDR_EL1, &v->mpidr);
}

int vcpu_init(struct vcpu *v)
{
	uint32_t features = 1U << KVM_ARM_VCPU_PSCI_0_2;

	/* Secondaries wait powered off until the guest's PSCI CPU_ON. */
	if (v->index)
		features |= 1U << KVM_ARM_VCPU_POWER_OFF;
	return vcpu_init_features(v, features);
}

int vcpu_get_reg(struct vcpu *v, uint64_t id, uint64_t *val)
{
	struct kvm_one_reg reg = { .id = id, .addr = (uint64_t)(uintptr_t)val };

	return ioctl(v->fd, KVM_GET_ONE_REG, &reg) < 0 ? -errno : 0;
}

int vcpu_set_reg(struct vcpu *v, uint64_t id, uint64_t val)
{
	struct kvm_one_reg reg = { .id = id, .addr = (uint64_t)(uintptr_t)&val };

	return ioctl(v->fd, KVM_SET_ONE_REG, &reg) < 0 ? -errno : 0;
}

int vcpu_set_boot_regs(struct vcpu *v, uint64_t pc, uint64_t fdt)
{
	int ret;

	/* KVM_ARM_VCPU_INIT left PSTATE at EL1h with DAIF masked. */
	ret = vcpu_set_reg(v, ARM64_CORE_REG(regs.regs[0]), fdt);
	for (int i = 1; !ret && i < 4; i++)
		ret = vcpu_set_reg(v, ARM64_CORE_REG(regs.regs[i]), 0);
	if (!ret)
		ret = vcpu_set_reg(v, ARM64_CORE_REG(regs.pc), pc);
	return ret;
}

static const char *system_event_name(uint32_t type)
{
	switch (type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN: return "shutdown";
	case KVM_SYSTEM_EVENT_RESET: return "reset";
	case KVM_SYSTEM_EVENT_CRASH: return "crash";
	default: return "unknown";
	}
}

/* Handle one exit; returns false when the thread should stop. */
static bool vcpu_handle_exit(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	struct vm *vm = v->vm;

	switch (run->exit_reason) {
	case KVM_EXIT_MMIO:
		mmio_bus_access(&vm->bus, run->mmio.phys_addr, run->mmio.data, run->mmio.len,
				run->mmio.is_write);
		return true;
	case KVM_EXIT_SYSTEM_EVENT:
		switch (run->system_event.type) {
		case KVM_SYSTEM_EVENT_SHUTDOWN:
			vm_request_exit(vm, VM_EXIT_POWEROFF);
			return false;
		case KVM_SYSTEM_EVENT_RESET:
			vm_request_exit(vm, VM_EXIT_RESET);
			return false;
		case KVM_SYSTEM_EVENT_CRASH:
			vm_request_exit(vm, VM_EXIT_CRASH);
			return false;
		default:
			pr_warn("vcpu%u: ignoring system event %u (%s)", v->index,
				run->system_event.type, system_event_name(run->system_event.type));
			return true;
		}
	case KVM_EXIT_FAIL_ENTRY:
		pr_err("vcpu%u: KVM could not enter the guest (reason 0x%llx)", v->index,
		       (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		pr_err("vcpu%u: KVM internal error (suberror %u)", v->index,
		       run->internal.suberror);
		break;
	case KVM_EXIT_ARM_NISV:
		pr_err("vcpu%u: guest MMIO access at 0x%llx that KVM cannot decode", v->index,
		       (unsigned long long)run->arm_nisv.fault_ipa);
		break;
	default:
		pr_err("vcpu%u: unexpected KVM exit reason %u", v->index, run->exit_reason);
		break;
	}
	vm_request_exit(vm, VM_EXIT_ERROR);
	return false;
}

/*
 * If a pause is requested: finish whatever KVM_RUN left pending (an MMIO
 * read's data reaches the register only on the next entry; immediate_exit
 * makes that entry return at once), then wait until resumed. Returns true
 * if it parked.
 */
static bool vcpu_park_if_paused(struct vcpu *v)
{
	struct vm *vm = v->vm;

	pthread_mutex_lock(&vm->pause_lock);
	if (!vm->pause_requested) {
		pthread_mutex_unlock(&vm->pause_lock);
		return false;
	}
	pthread_mutex_unlock(&vm->pause_lock);

	v->run->immediate_exit = 1;
	ioctl(v->fd, KVM_RUN, 0);	/* -EINTR once pending work is done */

	pthread_mutex_lock(&vm->pause_lock);
	vm->nr_parked++;
	pthread_cond_broadcast(&vm->pause_cond);
	while (vm->pause_requested && !atomic_load(&vm->stopping))
		pthread_cond_wait(&vm->pause_cond, &vm->pause_lock);
	vm->nr_parked--;
	/* Under the lock, so a new pause's immediate_exit = 1 is not lost. */
	v->run->immediate_exit = 0;
	pthread_mutex_unlock(&vm->pause_lock);
	return true;
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	struct vm *vm = v->vm;
	char name[16];
	sigset_t set;

	sandbox_enter(SANDBOX_VCPU);
	snprintf(name, sizeof(name), "vcpu%u", v->index);
	pthread_setname_np(pthread_self(), name);
	sigemptyset(&set);
	sigaddset(&set, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);

	while (!atomic_load(&vm->stopping)) {
		if (vcpu_park_if_paused(v))
			continue;
		if (v->index == 0 && !atomic_load(&vm->first_run_ns))
			atomic_store(&vm->first_run_ns, now_ns());
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			pr_err("vcpu%u: KVM_RUN: %s", v->index, strerror(errno));
			vm_request_exit(vm, VM_EXIT_ERROR);
			break;
		}
		if (!vcpu_handle_exit(v))
			break;
	}
	/* A thread that left may not be waited for by a pause. */
	pthread_mutex_lock(&vm->pause_lock);
	v->thread_done = true;
	pthread_cond_broadcast(&vm->pause_cond);
	pthread_mutex_unlock(&vm->pause_lock);
	return NULL;
}

static void vcpu_kick_handler(int sig __unused)
{
	/* Only here to make KVM_RUN return -EINTR. */
}

int vcpus_start(struct vm *vm)
{
	struct sigaction sa = { .sa_handler = vcpu_kick_handler };
	int ret;

	sigemptyset(&sa.sa_mask);
	if (sigaction(VCPU_KICK_SIGNAL, &sa, NULL) < 0)
		return -errno;
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		/* Under the lock: a pause from the control thread counts who runs. */
		pthread_mutex_lock(&vm->pause_lock);
		ret = pthread_create(&v->thread, NULL, vcpu_thread, v);
		if (!ret)
			v->thread_started = true;
		pthread_mutex_unlock(&vm->pause_lock);
		if (ret)
			return -ret;
	}
	return 0;
}

void vcpus_pause(struct vm *vm)
{
	pthread_mutex_lock(&vm->pause_lock);
	vm->pause_requested = true;
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		if (!v->thread_started || v->thread_done)
			continue;
		v->run->immediate_exit = 1;
		pthread_kill(v->thread, VCPU_KICK_SIGNAL);
	}
	for (;;) {
		unsigned int running = 0;

		for (unsigned int i = 0; i < vm->nr_vcpus; i++)
			if (vm->vcpus[i].thread_started && !vm->vcpus[i].thread_done)
				running++;
		if (vm->nr_parked >= running)
			break;
		pthread_cond_wait(&vm->pause_cond, &vm->pause_lock);
	}
	pthread_mutex_unlock(&vm->pause_lock);
}

void vcpus_resume(struct vm *vm)
{
	pthread_mutex_lock(&vm->pause_lock);
	vm->pause_requested = false;
	pthread_cond_broadcast(&vm->pause_cond);
	pthread_mutex_unlock(&vm->pause_lock);
}

void vcpus_stop(struct vm *vm)
{
	pthread_mutex_lock(&vm->pause_lock);
	atomic_store(&vm->stopping, true);
	pthread_cond_broadcast(&vm->pause_cond);
	pthread_mutex_unlock(&vm->pause_lock);
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		if (!v->thread_started)
			continue;
		/* immediate_exit covers a kick that lands just before KVM_RUN. */
		v->run->immediate_exit = 1;
		pthread_kill(v->thread, VCPU_KICK_SIGNAL);
	}
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		if (!v->thread_started)
			continue;
		pthread_join(v->thread, NULL);
		pthread_mutex_lock(&vm->pause_lock);
		v->thread_started = false;
		pthread_mutex_unlock(&vm->pause_lock);
	}
}

/* Section keys below any KVM register id (those have KVM_REG_ARM64 set). */
#define VCPU_KEY_MP_STATE	1
#define VCPU_KEY_FEATURES	2
#define VCPU_KEY_MPIDR		3

static size_t reg_size(uint64_t id)
{
	return 1UL << ((id & KVM_REG_SIZE_MASK) >> KVM_REG_SIZE_SHIFT);
}

int vcpu_save(struct vcpu *v, struct state_writer *w, char *err, size_t errlen)
{
	struct kvm_reg_list probe = { .n = 0 }, *list;
	struct kvm_mp_state mp;
	uint8_t val[256];
	char name[32];
	int ret = 0;

	/* The first call says how many (E2BIG); the second fills them in. */
	if (ioctl(v->fd, KVM_GET_REG_LIST, &probe) < 0 && errno != E2BIG) {
		ret = -errno;
		snprintf(err, errlen, "vcpu%u: KVM_GET_REG_LIST: %s", v->index, strerror(-ret));
		return ret;
	}
	list = calloc(1, sizeof(*list) + probe.n * sizeof(list->reg[0]));
	if (!list) {
		snprintf(err, errlen, "vcpu%u: %s", v->index, strerror(ENOMEM));
		return -ENOMEM;
	}
	list->n = probe.n;
	if (ioctl(v->fd, KVM_GET_REG_LIST, list) < 0) {
		ret = -errno;
		snprintf(err, errlen, "vcpu%u: KVM_GET_REG_LIST: %s", v->index, strerror(errno));
		goto out;
	}
	if (ioctl(v->fd, KVM_GET_MP_STATE, &mp) < 0) {
		ret = -errno;
		snprintf(err, errlen, "vcpu%u: KVM_GET_MP_STATE: %s", v->index, strerror(errno));
		goto out;
	}
	snprintf(name, sizeof(name), "vcpu.%u", v->index);
	sw_begin(w, name, 1);
	sw_put_u64(w, VCPU_KEY_MP_STATE, mp.mp_state);
	sw_put_u64(w, VCPU_KEY_FEATURES, v->features);
	sw_put_u64(w, VCPU_KEY_MPIDR, v->mpidr);
	for (uint64_t i = 0; i < list->n; i++) {
		uint64_t id = list->reg[i];
		struct kvm_one_reg reg = { .id = id, .addr = (uint64_t)(uintptr_t)val };

		if (reg_size(id) > sizeof(val)) {
			ret = -E2BIG;
			snprintf(err, errlen, "vcpu%u: register 0x%llx is %zu bytes", v->index,
				 (unsigned long long)id, reg_size(id));
			break;
		}
		if (ioctl(v->fd, KVM_GET_ONE_REG, &reg) < 0) {
			ret = -errno;
			snprintf(err, errlen, "vcpu%u: reading register 0x%llx: %s", v->index,
				 (unsigned long long)id, strerror(errno));
			break;
		}
		sw_put(w, id, val, reg_size(id));
	}
	sw_end(w);
out:
	free(list);
	return ret;
}

int vcpu_saved_features(const struct state_section *s, uint32_t *features)
{
	uint64_t f;

	if (!ss_get_u64(s, VCPU_KEY_FEATURES, &f))
		return -EINVAL;
	*features = f;
	return 0;
}

int vcpu_restore(struct vcpu *v, const struct state_section *s, bool skip_counters,
		 char *err, size_t errlen)
{
	struct kvm_mp_state mp;
	const void *data;
	uint64_t key, state;
	size_t pos = 0;
	uint32_t len;

	while (ss_next(s, &pos, &key, &data, &len)) {
		struct kvm_one_reg reg = { .id = key, .addr = (uint64_t)(uintptr_t)data };

		if (!(key & KVM_REG_ARM64))
			continue;	/* our own fields */
		if (len != reg_size(key)) {
			snprintf(err, errlen, "vcpu%u: register 0x%llx has %u bytes, not %zu",
				 v->index, (unsigned long long)key, len, reg_size(key));
			return -EINVAL;
		}
		if (skip_counters && (key == KVM_REG_ARM_TIMER_CNT || key == KVM_REG_ARM_PTIMER_CNT))
			continue;
		if (ioctl(v->fd, KVM_SET_ONE_REG, &reg) < 0) {
			int ret = -errno;

			snprintf(err, errlen, "vcpu%u: this host's KVM refuses register 0x%llx: %s (incompatible host)",
				 v->index, (unsigned long long)key, strerror(-ret));
			return ret;
		}
	}
	if (!ss_get_u64(s, VCPU_KEY_MP_STATE, &state)) {
		snprintf(err, errlen, "vcpu%u: snapshot lacks its MP state", v->index);
		return -EINVAL;
	}
	mp.mp_state = state;
	if (ioctl(v->fd, KVM_SET_MP_STATE, &mp) < 0) {
		int ret = -errno;

		snprintf(err, errlen, "vcpu%u: KVM_SET_MP_STATE: %s", v->index, strerror(-ret));
		return ret;
	}
	return 0;
}
