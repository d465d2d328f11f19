/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Dirty tracking of guest RAM for a migration: KVM's dirty log on the RAM
 * slot (KVM_MEM_LOG_DIRTY_PAGES), harvested with KVM_GET_DIRTY_LOG, and
 * re-armed with KVM_CLEAR_DIRTY_LOG where the kernel has manual protect
 * (KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2); OR-ed with the pages lvmm's own
 * threads wrote (struct guest_dirty, marked by virtq_push). KVM's own
 * writes to guest RAM (the ITS and vGIC tables it saves) are in its log.
 */
#ifndef LVMM_KVM_DIRTY_H
#define LVMM_KVM_DIRTY_H

#include "kvm.h"

#include <stddef.h>
#include <stdint.h>

/* Pages of guest RAM, and the longs of a bitmap for them. */
uint64_t dirty_pages(const struct vm *vm);
size_t dirty_bitmap_longs(const struct vm *vm);

/*
 * Turn tracking on: from now on every page written is reported by the
 * next harvest. 0, or -errno with a message (the slot could not be logged).
 */
int dirty_start(struct vm *vm, char *err, size_t errlen);

/*
 * The pages written since the last harvest (or the start) added to bitmap
 * (dirty_bitmap_longs() longs: bits already set stay set, so a caller that
 * has not sent a harvest yet loses nothing), and tracking re-armed for them.
 */
int dirty_harvest(struct vm *vm, unsigned long *bitmap, char *err, size_t errlen);

/* Tracking off again (the slot without the log; lvmm's marks stop). */
void dirty_stop(struct vm *vm);

#endif
