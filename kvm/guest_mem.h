/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest RAM as one contiguous range: the type the VM owns (struct vm's
 * ram) and every device translates guest addresses through. The only
 * translate function checks the whole [gpa, gpa + len) lies inside, so a
 * guest-given address or length can never reach past RAM.
 */
#ifndef LVMM_GUEST_MEM_H
#define LVMM_GUEST_MEM_H

#include <stdint.h>

struct guest_mem {
	void *host;
	uint64_t gpa;
	uint64_t size;
};

/* Host pointer for [gpa, gpa + len) if it lies wholly in guest RAM, else NULL. */
static inline void *guest_mem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	if (!m->host || gpa < m->gpa || len > m->size || gpa - m->gpa > m->size - len)
		return (void *)0;
	return (char *)m->host + (gpa - m->gpa);
}

#endif
