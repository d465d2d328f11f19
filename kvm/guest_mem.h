/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest RAM as one contiguous range: the type the VM owns (struct vm's
 * ram) and every device translates guest addresses through. The only
 * translate function checks the whole [gpa, gpa + len) lies inside, so a
 * guest-given address or length can never reach past RAM.
 */
#ifndef LVMM_GUEST_MEM_H
#define LVMM_GUEST_MEM_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Pages of guest RAM lvmm itself wrote while dirty tracking is on (kvm/
 * dirty.c): KVM's dirty log sees only the guest's own writes (and KVM's),
 * not a device thread's into a buffer or a used ring.
 */
struct guest_dirty {
	unsigned long *bits;	/* a bit per page; allocated when tracking first starts */
	unsigned long *kvm_bits;	/* scratch for KVM's log (kvm/dirty.c) */
	unsigned int page_shift;
	bool on;		/* atomic: marks are taken only while set */
};

struct guest_mem {
	void *host;
	uint64_t gpa;
	uint64_t size;
	struct guest_dirty *dirty;	/* the VM's (NULL: never tracked, e.g. tests) */
};

/* [p, p + len), host addresses inside m, written by lvmm: dirty if tracking. */
static inline void guest_mem_mark_dirty(const struct guest_mem *m, const void *p, uint64_t len)
{
	struct guest_dirty *d = m->dirty;
	uint64_t first, last;

	if (!d || !len || !__atomic_load_n(&d->on, __ATOMIC_ACQUIRE))
		return;
	first = (uint64_t)((const char *)p - (const char *)m->host) >> d->page_shift;
	last = (uint64_t)((const char *)p - (const char *)m->host + len - 1) >> d->page_shift;
	for (uint64_t pg = first; pg <= last; pg++)
		__atomic_fetch_or(&d->bits[pg / (8 * sizeof(long))], 1UL << (pg % (8 * sizeof(long))),
				  __ATOMIC_RELAXED);
}

/* Host pointer for [gpa, gpa + len) if it lies wholly in guest RAM, else NULL. */
static inline void *guest_mem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	if (!m->host || gpa < m->gpa || len > m->size || gpa - m->gpa > m->size - len)
		return (void *)0;
	return (char *)m->host + (gpa - m->gpa);
}

#endif
