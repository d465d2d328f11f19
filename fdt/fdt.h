/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest's device tree, built with libfdt's sequential-write API from a
 * description of the VM. No KVM here: the unit tests build trees on the
 * build machine and parse them back.
 */
#ifndef LVMM_FDT_H
#define LVMM_FDT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../devices/device.h"
#include "../irq/irq.h"
#include "../timer/timer.h"

struct fdt_desc {
	uint64_t ram_base, ram_size;
	unsigned int nr_cpus;
	const uint64_t *mpidrs;		/* MPIDR_EL1 of each vCPU */
	struct gic_layout gic;
	struct timer_ppis timer;
	bool psci_1_0;			/* KVM implements PSCI 1.x */
	const char *bootargs;
	uint64_t initrd_start, initrd_size; /* size 0: no initrd */
	uint64_t kaslr_seed;		/* /chosen/kaslr-seed; 0: none */
	const char *stdout_path;	/* e.g. "/serial@9000000"; NULL: none */
	const struct device_list *devices;
};

/* Build the blob into buf. Returns 0, -ENOSPC, or -EINVAL. */
int fdt_build(const struct fdt_desc *desc, void *buf, size_t size);

/* MPIDR bits that identify a CPU in the "reg" of its cpu node. */
#define MPIDR_HWID_MASK 0xff00ffffffULL

#endif
