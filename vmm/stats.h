/* SPDX-License-Identifier: GPL-2.0 */
/* --stats: one line of timings and memory use, and a line per device. */
#ifndef LVMM_VMM_STATS_H
#define LVMM_VMM_STATS_H

#include <stdint.h>

struct vmm;

/* Monotonic time at which main() started. */
extern uint64_t lvmm_start_ns;

/* CPU time of the calling thread so far (bring-up's cost). */
uint64_t thread_cpu_ns(void);
/* Print them to stderr (the VM is stopped: its devices are still there). */
void vmm_print_stats(struct vmm *v);

#endif
