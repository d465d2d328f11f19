// SPDX-License-Identifier: GPL-2.0
/* Dirty tracking of guest RAM: KVM's log plus lvmm's own writes (dirty.h). */
#include "dirty.h"
#include "../util.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define BITS_PER_LONG (8 * sizeof(unsigned long))

static unsigned int page_shift(void)
{
	long ps = sysconf(_SC_PAGESIZE);

	return (unsigned int)__builtin_ctzl(ps > 0 ? (unsigned long)ps : 4096UL);
}

uint64_t dirty_pages(const struct vm *vm)
{
	return vm->ram.size >> page_shift();
}

size_t dirty_bitmap_longs(const struct vm *vm)
{
	return (size_t)((dirty_pages(vm) + BITS_PER_LONG - 1) / BITS_PER_LONG);
}

static int set_slot_logging(struct vm *vm, bool on)
{
	struct kvm_userspace_memory_region region = {
		.slot = 0,
		.flags = on ? KVM_MEM_LOG_DIRTY_PAGES : 0,
		.guest_phys_addr = vm->ram.gpa,
		.memory_size = vm->ram.size,
		.userspace_addr = (uint64_t)(uintptr_t)vm->ram.host,
	};

	return ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0 ? -errno : 0;
}

int dirty_start(struct vm *vm, char *err, size_t errlen)
{
	struct guest_dirty *d = &vm->dirty;
	size_t longs = dirty_bitmap_longs(vm);
	int ret;

	if (!d->bits) {
		d->bits = calloc(longs, sizeof(unsigned long));
		d->kvm_bits = calloc(longs, sizeof(unsigned long));
		if (!d->bits || !d->kvm_bits) {
			free(d->bits);
			free(d->kvm_bits);
			d->bits = d->kvm_bits = NULL;
			snprintf(err, errlen, "dirty tracking: out of memory");
			return -ENOMEM;
		}
		d->page_shift = page_shift();
	}
	memset(d->bits, 0, longs * sizeof(unsigned long));
	/*
	 * Manual protect: a harvest re-arms exactly the pages it reports, and
	 * only then (CLEAR), instead of write-protecting the whole slot in the
	 * GET. Without the capability GET does both, which is also correct.
	 */
	if (ioctl(vm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2) > 0) {
		struct kvm_enable_cap cap = {
			.cap = KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2,
			.args = { KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE },
		};

		vm->dirty_manual = ioctl(vm->vm_fd, KVM_ENABLE_CAP, &cap) == 0;
	}
	__atomic_store_n(&d->on, true, __ATOMIC_RELEASE);
	ret = set_slot_logging(vm, true);
	if (ret) {
		__atomic_store_n(&d->on, false, __ATOMIC_RELEASE);
		snprintf(err, errlen, "dirty tracking: logging the RAM slot: %s", strerror(-ret));
	}
	return ret;
}

int dirty_harvest(struct vm *vm, unsigned long *bitmap, char *err, size_t errlen)
{
	struct guest_dirty *d = &vm->dirty;
	size_t longs = dirty_bitmap_longs(vm);
	struct kvm_dirty_log log = { .slot = 0, .dirty_bitmap = d->kvm_bits };
	int ret = 0;

	if (ioctl(vm->vm_fd, KVM_GET_DIRTY_LOG, &log) < 0) {
		ret = -errno;
		snprintf(err, errlen, "dirty tracking: KVM_GET_DIRTY_LOG: %s", strerror(-ret));
		return ret;
	}
	if (vm->dirty_manual) {
		struct kvm_clear_dirty_log clear = {
			.slot = 0,
			.first_page = 0,
			.num_pages = (uint32_t)dirty_pages(vm),
			.dirty_bitmap = d->kvm_bits,
		};

		if (ioctl(vm->vm_fd, KVM_CLEAR_DIRTY_LOG, &clear) < 0) {
			ret = -errno;
			snprintf(err, errlen, "dirty tracking: KVM_CLEAR_DIRTY_LOG: %s",
				 strerror(-ret));
			return ret;
		}
	}
	/* KVM's, and lvmm's own writes since the last harvest (taken word by word). */
	for (size_t i = 0; i < longs; i++)
		bitmap[i] |= d->kvm_bits[i] | __atomic_exchange_n(&d->bits[i], 0UL, __ATOMIC_ACQ_REL);
	return 0;
}

void dirty_stop(struct vm *vm)
{
	__atomic_store_n(&vm->dirty.on, false, __ATOMIC_RELEASE);
	if (set_slot_logging(vm, false))
		pr_warn("dirty tracking: could not turn the RAM slot's log off");
}
