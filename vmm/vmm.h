/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Bring-up, run and teardown of one VM: the ordered list of steps in one
 * place (vmm.c), walked backwards on the way out.
 */
#ifndef LVMM_VMM_H
#define LVMM_VMM_H

#include "boot/boot.h"
#include "control/control.h"
#include "devices/device.h"
#include "irq/irq.h"
#include "kvm/kvm.h"
#include "options.h"

struct boot_file {
	const char *what;	/* "kernel", "initrd" */
	const char *path;
	int fd;
	uint64_t size;
};

struct snapshot_image;

/* One VM: what vmm.c brings up, and what snapshots and the control channel see. */
struct vmm {
	const struct vm_config *cfg;
	struct vm vm;
	struct irqchip *irqchip;
	struct device_list devices;
	struct device *console;

	char kernel_path[256];
	struct boot_file kernel, initrd;
	struct kernel_image image;
	struct boot_layout layout;
	char *bootargs;

	bool term_raw;
	bool devices_started;
	uint64_t setup_cpu_ns;

	/* Restoring: the snapshot being brought back (NULL for a fresh boot). */
	struct snapshot_image *restore;

	/* The control channel; op_lock serialises pause/resume/snapshot. */
	struct control control;
	pthread_mutex_t op_lock;
	bool paused;
	uint64_t restore_done_ns;	/* restore: monotonic time vCPUs were started */
};

struct vmm_result {
	enum vm_exit_reason reason;
	int signo;		/* for VM_EXIT_SIGNAL */
};

/* Monotonic time at which main() started, for --stats. */
extern uint64_t lvmm_start_ns;

/*
 * Boot and run the VM until it stops. Returns 0 with the reason in res, or
 * -errno when it could not be started (a message has been printed).
 */
int vmm_run(const struct vm_config *cfg, struct vmm_result *res);

#endif
