/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One VM's parts as bring-up (vmm/) assembles them, and what snapshot,
 * restore (migration/) and the control requests (control/) work on. A
 * header of its own, below all three, so none of them imports another's
 * code to reach the VM.
 */
#ifndef LVMM_MACHINE_H
#define LVMM_MACHINE_H

#include "board/board.h"
#include "boot/boot.h"
#include "devices/device.h"
#include "kvm/kvm.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct control;
struct irqchip;
struct snapshot_image;
struct vm_config;

struct vmm {
	const struct vm_config *cfg;
	struct board board;
	struct vm vm;
	struct irqchip *irqchip;
	struct device_list devices;
	struct device *console;	/* the UART (--stats watches its output) */
	struct boot_files boot;
	char *bootargs;

	bool term_raw;
	bool devices_started;
	uint64_t setup_cpu_ns;		/* --stats: CPU time of bring-up */
	uint64_t restore_done_ns;	/* --stats: monotonic time vCPUs were started */

	/* Restoring: the snapshot being brought back (NULL for a fresh boot). */
	struct snapshot_image *restore;

	/*
	 * The control channel's thread asks for pause, resume and snapshots
	 * while the main thread waits for the end: op_lock serialises those
	 * operations and guards paused.
	 */
	struct control *control;
	pthread_mutex_t op_lock;
	bool paused;

	/*
	 * Incremental snapshots (migration/snapshot.c): dirty tracking runs from
	 * the first snapshot on; snap_dirty holds what was harvested and is not
	 * in a snapshot yet. A diff goes only from the last snapshot taken.
	 */
	bool snap_tracking;
	unsigned long *snap_dirty;
	char last_snapshot[4096];
	uint64_t last_snapshot_id;
};

#endif
