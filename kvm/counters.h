/* SPDX-License-Identifier: GPL-2.0 */
/*
 * KVM's own counters of a vCPU (exits, MMIO exits, WFI, time halted), read
 * from its binary statistics file (KVM_GET_STATS_FD, Linux 5.14+): what
 * --stats prints, so a benchmark can count exits per request.
 */
#ifndef LVMM_KVM_COUNTERS_H
#define LVMM_KVM_COUNTERS_H

#include <stddef.h>
#include <stdint.h>

/* The vCPU's statistics file, or -1 where the kernel has none. */
int kvm_counters_open(int vcpu_fd);

/*
 * Adds the value of each counter named in names[] to sum[i] (a counter
 * the file lacks adds nothing). Returns 0, or -errno for a file that is
 * not a well-formed statistics file, having added nothing.
 */
int kvm_counters_add(int stats_fd, const char *const names[], uint64_t sum[], size_t n);

#endif
