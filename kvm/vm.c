// SPDX-License-Identifier: GPL-2.0
#include "kvm.h"
#include "../util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/vfs.h>
#include <unistd.h>

/* Capabilities lvmm cannot work without. */
static const struct {
	long cap;
	const char *name;
} required_caps[] = {
	{ KVM_CAP_ARM_PSCI_0_2, "KVM_CAP_ARM_PSCI_0_2" },
	{ KVM_CAP_ONE_REG, "KVM_CAP_ONE_REG" },
	{ KVM_CAP_DEVICE_CTRL, "KVM_CAP_DEVICE_CTRL" },
	{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
};

int kvm_open(struct vm *vm, char *err, size_t errlen)
{
	int fd, ver, ret;

	memset(vm, 0, sizeof(*vm));
	vm->kvm_fd = vm->vm_fd = vm->exit_efd = -1;

	fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		if (ret == -ENOENT)
			snprintf(err, errlen, "/dev/kvm does not exist: this host has no KVM "
				 "(is it a VM without nested virtualisation, or is kvm not loaded?)");
		else if (ret == -EACCES || ret == -EPERM)
			snprintf(err, errlen, "no permission to open /dev/kvm "
				 "(run as root or join the group that owns it, usually 'kvm')");
		else
			snprintf(err, errlen, "cannot open /dev/kvm: %s", strerror(-ret));
		return ret;
	}
	vm->kvm_fd = fd;
	ver = ioctl(fd, KVM_GET_API_VERSION, 0);
	if (ver != KVM_API_VERSION) {
		snprintf(err, errlen, "/dev/kvm has API version %d, lvmm needs %d", ver,
			 KVM_API_VERSION);
		return -ENOTSUP;
	}
	for (unsigned int i = 0; i < ARRAY_SIZE(required_caps); i++) {
		if (ioctl(fd, KVM_CHECK_EXTENSION, required_caps[i].cap) <= 0) {
			snprintf(err, errlen, "this host's KVM lacks %s", required_caps[i].name);
			return -ENOTSUP;
		}
	}
	ret = ioctl(fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (ret <= 0) {
		snprintf(err, errlen, "KVM_GET_VCPU_MMAP_SIZE: %s", strerror(errno));
		return -errno;
	}
	vm->run_size = ret;
	pthread_mutex_init(&vm->pause_lock, NULL);
	pthread_cond_init(&vm->pause_cond, NULL);
	vm->exit_efd = eventfd(0, EFD_CLOEXEC);
	if (vm->exit_efd < 0) {
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

int kvm_check_cap(struct vm *vm, long cap)
{
	int fd = vm->vm_fd >= 0 ? vm->vm_fd : vm->kvm_fd;
	int ret = ioctl(fd, KVM_CHECK_EXTENSION, cap);

	return ret < 0 ? 0 : ret;
}

int vm_create(struct vm *vm, uint64_t highest_gpa, char *err, size_t errlen)
{
	unsigned long type = 0;
	unsigned int bits = 64 - __builtin_clzll(highest_gpa);
	int fd;

	/* KVM's default IPA space is 40 bits; ask for more only when needed. */
	if (bits > 40) {
		int max = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_ARM_VM_IPA_SIZE);

		if (max <= 0 || (unsigned int)max < bits) {
			snprintf(err, errlen, "guest memory ends at 0x%llx, beyond the host's %d-bit guest physical address space",
				 (unsigned long long)highest_gpa, max > 0 ? max : 40);
			return -ERANGE;
		}
		type = KVM_VM_TYPE_ARM_IPA_SIZE(bits);
	}
	do {
		fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, type);
	} while (fd < 0 && errno == EINTR);
	if (fd < 0) {
		snprintf(err, errlen, "KVM_CREATE_VM: %s", strerror(errno));
		return -errno;
	}
	vm->vm_fd = fd;
	return 0;
}

#ifndef HUGETLBFS_MAGIC
#define HUGETLBFS_MAGIC 0x958458f6
#endif

void *vm_ram_alloc_hugetlbfs(const char *dir, uint64_t size, char *err, size_t errlen)
{
	struct statfs sfs;
	void *ram;
	int fd, ret;

	if (statfs(dir, &sfs) < 0) {
		snprintf(err, errlen, "--hugetlbfs %s: %s", dir, strerror(errno));
		return NULL;
	}
	if ((uint32_t)sfs.f_type != HUGETLBFS_MAGIC) {
		snprintf(err, errlen, "--hugetlbfs %s: not a hugetlbfs mount (mount -t hugetlbfs none %s)",
			 dir, dir);
		return NULL;
	}
	if (size % sfs.f_bsize) {
		snprintf(err, errlen, "--hugetlbfs %s: guest RAM (%llu MiB) is not a whole number of its %llu KiB pages",
			 dir, (unsigned long long)(size >> 20), (unsigned long long)sfs.f_bsize >> 10);
		return NULL;
	}
	/* A file nobody else can open: gone with lvmm. */
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "--hugetlbfs %s: creating a file: %s", dir, strerror(errno));
		return NULL;
	}
	if (ftruncate(fd, size) < 0) {
		ret = errno;
		close(fd);
		snprintf(err, errlen, "--hugetlbfs %s: %llu MiB: %s", dir,
			 (unsigned long long)(size >> 20), strerror(ret));
		return NULL;
	}
	/* MAP_POPULATE: a pool too small fails here, not with SIGBUS in the guest. */
	ram = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
	ret = errno;
	close(fd);
	if (ram == MAP_FAILED) {
		snprintf(err, errlen, "--hugetlbfs %s: %llu MiB of huge pages: %s (see HugePages_Free in /proc/meminfo; echo N > /proc/sys/vm/nr_hugepages)",
			 dir, (unsigned long long)(size >> 20), strerror(ret));
		return NULL;
	}
	return ram;
}

int vm_add_ram(struct vm *vm, uint64_t gpa, uint64_t size, void *host)
{
	struct kvm_userspace_memory_region region;

	if (!host)
		host = mmap(NULL, size, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (host == MAP_FAILED)
		return -errno;
	region = (struct kvm_userspace_memory_region){
		.slot = 0,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uint64_t)(uintptr_t)host,
	};
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0) {
		int ret = -errno;

		munmap(host, size);
		return ret;
	}
	vm->ram = (struct guest_mem){ host, gpa, size, &vm->dirty };
	return 0;
}

int vm_map_memory(struct vm *vm, uint64_t gpa, uint64_t size, void *host)
{
	struct kvm_userspace_memory_region region;

	for (unsigned int i = 0; i < VM_MAX_EXTRA_SLOTS; i++) {
		if (vm->extra_slots[i].size)
			continue;
		region = (struct kvm_userspace_memory_region){
			.slot = i + 1,
			.guest_phys_addr = gpa,
			.memory_size = size,
			.userspace_addr = (uint64_t)(uintptr_t)host,
		};
		if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
			return -errno;
		vm->extra_slots[i] = (struct guest_mem){ host, gpa, size, NULL };
		return 0;
	}
	return -ENOSPC;
}

int vm_unmap_memory(struct vm *vm, uint64_t gpa)
{
	for (unsigned int i = 0; i < VM_MAX_EXTRA_SLOTS; i++) {
		struct kvm_userspace_memory_region region = { .slot = i + 1 };

		if (!vm->extra_slots[i].size || vm->extra_slots[i].gpa != gpa)
			continue;
		region.guest_phys_addr = gpa;
		/* memory_size 0 deletes the slot. */
		if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
			return -errno;
		vm->extra_slots[i].size = 0;
		return 0;
	}
	return -ENOENT;
}

int vm_ioeventfd(struct vm *vm, uint64_t gpa, unsigned int len, uint64_t datamatch, int fd,
		 bool assign)
{
	struct kvm_ioeventfd req = {
		.datamatch = datamatch,
		.addr = gpa,
		.len = len,
		.fd = fd,
		.flags = KVM_IOEVENTFD_FLAG_DATAMATCH | (assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN),
	};

	return ioctl(vm->vm_fd, KVM_IOEVENTFD, &req) < 0 ? -errno : 0;
}

void vm_request_exit(struct vm *vm, enum vm_exit_reason reason)
{
	int none = VM_EXIT_NONE;
	uint64_t one = 1;

	if (atomic_compare_exchange_strong(&vm->exit_reason, &none, reason))
		write_all(vm->exit_efd, &one, sizeof(one));
}

void vm_destroy(struct vm *vm)
{
	mmio_bus_free(&vm->bus);
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		if (v->run)
			munmap(v->run, vm->run_size);
		if (v->fd >= 0)
			close(v->fd);
		if (v->stats_fd >= 0)
			close(v->stats_fd);
	}
	free(vm->vcpus);
	vm->vcpus = NULL;
	vm->nr_vcpus = 0;
	/*
	 * The VM goes before its RAM: KVM then frees its stage-2 tables whole.
	 * Unmapping RAM a live VM maps walks them page by page through the MMU
	 * notifier (a page at a time after dirty logging split them), which
	 * took 0.3-0.5 s for 1 GiB on the emulated host and stalled the other
	 * VMs there: a migrated VM's destination on the same host among them.
	 */
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->ram.host)
		munmap(vm->ram.host, vm->ram.size);
	vm->ram.host = NULL;
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	if (vm->exit_efd >= 0)
		close(vm->exit_efd);
	vm->vm_fd = vm->kvm_fd = vm->exit_efd = -1;
}
