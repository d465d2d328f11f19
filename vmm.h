/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Bring-up, run and teardown of one VM: the ordered list of steps in one
 * place (vmm.c), walked backwards on the way out.
 */
#ifndef LVMM_VMM_H
#define LVMM_VMM_H

#include "kvm/kvm.h"
#include "options.h"

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
