/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One VM from start to end: bring-up as one ordered list of steps (vmm.c),
 * run until it stops, teardown walking the list backwards. The parts it
 * assembles are struct vmm (machine.h).
 */
#ifndef LVMM_VMM_H
#define LVMM_VMM_H

#include <stddef.h>
#include <stdint.h>

#include "../kvm/kvm.h"
#include "../options.h"

struct vm_config;

struct vmm_result {
	enum vm_exit_reason reason;
	int signo;		/* for VM_EXIT_SIGNAL */
	char name[LVMM_NAME_MAX + 1];	/* the VM's: a restored one's is the snapshot's */
};

/*
 * Boot (or, with cfg->restore_dir, restore) and run the VM until it stops.
 * Returns 0 with the reason in res, or -errno when it could not be started,
 * with the reason in err (empty when a device printed it already).
 */
/*
 * Steps of the caller's in bring-up (either may be NULL; 0, or -errno with
 * err set, which ends the bring-up):
 * - fn needs the host and the boot files checked first and must come
 *   before RAM and devices are set up (the quick guest's directory): run
 *   once the host can take the VM and the kernel opened, not for a
 *   restore. It may change the configuration it was given (vmm_run's cfg),
 *   but not the kernel or initrd.
 * - ready comes when everything that can fail has passed, just before the
 *   vCPUs start (an incoming migration tells its source to let go).
 */
struct vmm_prepare {
	int (*fn)(void *ctx, char *err, size_t errlen);
	int (*ready)(void *ctx, char *err, size_t errlen);
	void *ctx;
};

int vmm_run(const struct vm_config *cfg, const struct vmm_prepare *prepare,
	    struct vmm_result *res, char *err, size_t errlen);

#endif
