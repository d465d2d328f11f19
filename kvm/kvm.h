/* SPDX-License-Identifier: GPL-2.0 */
/*
 * VM and vCPU lifecycle on /dev/kvm: the VM fd, guest RAM and its memory
 * slot, vCPUs (init, ONE_REG, the KVM_RUN loop) and the MMIO bus that
 * routes MMIO exits to devices.
 */
#ifndef LVMM_KVM_H
#define LVMM_KVM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include "guest_mem.h"

struct device;

struct mmio_region {
	uint64_t base, size;
	struct device *dev;
};

struct mmio_bus {
	struct mmio_region *regions;
	unsigned int nr, cap;
	atomic_uint unhandled;	/* accesses nobody claimed (warned about) */
};

struct vm;

struct vcpu {
	struct vm *vm;
	unsigned int index;
	int fd;
	int stats_fd;		/* KVM's counters of it (kvm/counters.h), or -1; held
				 * open for --stats and for bench/kvmstat to read */
	struct kvm_run *run;
	uint64_t mpidr;
	uint32_t features;	/* KVM_ARM_VCPU_INIT features[0] used */
	pthread_t thread;
	/* Both written and read under vm->pause_lock (a pause counts who runs). */
	bool thread_started;
	bool thread_done;	/* left its loop (system event or error) */
};

/* Why the VM stopped; the first reason reported wins. */
enum vm_exit_reason {
	VM_EXIT_NONE = 0,
	VM_EXIT_POWEROFF,	/* PSCI SYSTEM_OFF */
	VM_EXIT_RESET,		/* PSCI SYSTEM_RESET */
	VM_EXIT_CRASH,		/* PSCI crash event */
	VM_EXIT_QUIT,		/* the user's Ctrl-A x */
	VM_EXIT_SIGNAL,		/* SIGINT/SIGTERM/SIGHUP to lvmm */
	VM_EXIT_ERROR,		/* a vCPU failed */
	VM_EXIT_STOPPED,	/* "lvmm stop" or "snapshot --stop" */
	VM_EXIT_MIGRATED,	/* "lvmm migrate": it runs on at the destination */
};

#define VM_MAX_EXTRA_SLOTS 32

struct vm {
	int kvm_fd;
	int vm_fd;
	size_t run_size;
	struct guest_mem ram;
	struct guest_dirty dirty;	/* lvmm's own writes to ram, while tracking */
	bool dirty_manual;		/* KVM's log re-armed by KVM_CLEAR_DIRTY_LOG (dirty.c) */
	struct guest_mem extra_slots[VM_MAX_EXTRA_SLOTS]; /* slot i + 1; size 0: free */
	unsigned int nr_vcpus;
	struct vcpu *vcpus;
	struct mmio_bus bus;

	int exit_efd;		/* eventfd: written when exit_reason is set */
	atomic_int exit_reason;
	atomic_bool stopping;
	_Atomic uint64_t first_run_ns;	/* monotonic time of vCPU 0's first KVM_RUN */

	/*
	 * Pausing: vCPU threads park outside KVM_RUN until resumed. pause_lock
	 * guards pause_requested, nr_parked and each vCPU's thread_started and
	 * thread_done; pause_cond is signalled when any of them changes.
	 */
	pthread_mutex_t pause_lock;
	pthread_cond_t pause_cond;
	bool pause_requested;
	unsigned int nr_parked;
};

/*
 * Open /dev/kvm and check what lvmm needs. On failure returns -errno and
 * writes a one-line reason to err.
 */
int kvm_open(struct vm *vm, char *err, size_t errlen);
/* KVM_CAP_* value on /dev/kvm (or the VM once it exists); 0 if absent. */
int kvm_check_cap(struct vm *vm, long cap);
int vm_create(struct vm *vm, uint64_t highest_gpa, char *err, size_t errlen);
/* Guest RAM at gpa: host memory given, or (host NULL) fresh anonymous memory. */
int vm_add_ram(struct vm *vm, uint64_t gpa, uint64_t size, void *host);
/*
 * size bytes of huge pages from the hugetlbfs mounted at dir (a file no one
 * else sees), all reserved now; NULL with a message in err.
 */
void *vm_ram_alloc_hugetlbfs(const char *dir, uint64_t size, char *err, size_t errlen);
/*
 * Map host memory at gpa in a memory slot of its own (slot 0 is RAM);
 * vm_unmap_memory removes it. Returns 0 or -errno.
 */
int vm_map_memory(struct vm *vm, uint64_t gpa, uint64_t size, void *host);
int vm_unmap_memory(struct vm *vm, uint64_t gpa);
/* KVM_IOEVENTFD: fd is signalled when the guest writes datamatch at gpa. */
int vm_ioeventfd(struct vm *vm, uint64_t gpa, unsigned int len, uint64_t datamatch, int fd,
		 bool assign);
void vm_destroy(struct vm *vm);

/* Report why the VM should stop and wake whoever waits in vm_wait_exit. */
void vm_request_exit(struct vm *vm, enum vm_exit_reason reason);

int vcpus_create(struct vm *vm, unsigned int nr);
/* KVM_ARM_VCPU_INIT with PSCI 0.2; secondaries start powered off. */
int vcpu_init(struct vcpu *vcpu);
/* KVM_ARM_VCPU_INIT with the given features[0] (a restore). */
int vcpu_init_features(struct vcpu *vcpu, uint32_t features);
int vcpu_get_reg(struct vcpu *vcpu, uint64_t id, uint64_t *val);
int vcpu_set_reg(struct vcpu *vcpu, uint64_t id, uint64_t val);
/* Linux arm64 boot: PC at the kernel, x0 the FDT, x1-x3 zero. */
int vcpu_set_boot_regs(struct vcpu *vcpu, uint64_t pc, uint64_t fdt);
int vcpus_start(struct vm *vm);
/* Kick every vCPU out of KVM_RUN and join its thread. */
void vcpus_stop(struct vm *vm);
/*
 * Park every vCPU thread outside KVM_RUN (pending MMIO completed, so the
 * registers are final), and let them go again.
 */
void vcpus_pause(struct vm *vm);
void vcpus_resume(struct vm *vm);

struct state_writer;
struct state_section;
/* A vCPU's registers (KVM_GET_REG_LIST), MP state, features, MPIDR. */
int vcpu_save(struct vcpu *vcpu, struct state_writer *w, char *err, size_t errlen);
/*
 * Set them back on a vCPU created and initialised with the saved features.
 * skip_counters: leave the counter registers alone (the caller sets them:
 * timer_set_counters).
 */
int vcpu_restore(struct vcpu *vcpu, const struct state_section *s, bool skip_counters,
		 char *err, size_t errlen);
/* Saved features[0] of a vCPU section. */
int vcpu_saved_features(const struct state_section *s, uint32_t *features);

int mmio_bus_add(struct mmio_bus *bus, struct device *dev);
/* Dispatch one access; returns false when no device claims it. */
bool mmio_bus_access(struct mmio_bus *bus, uint64_t addr, void *data, unsigned int len,
		     bool is_write);
void mmio_bus_free(struct mmio_bus *bus);

#endif
