// SPDX-License-Identifier: GPL-2.0
/* The arch timer's device tree node (bindings/timer/arm,arch_timer.yaml). */
#include "timer.h"

#include <errno.h>
#include <libfdt.h>

#define GIC_PPI 1
#define IRQ_TYPE_LEVEL_HIGH 4

int timer_fdt_node(void *fdt, const struct timer_ppis *ppis, int gic_version,
		   unsigned int nr_cpus)
{
	/* Order fixed by the binding: secure phys, non-secure phys, virt, hyp. */
	const unsigned int intids[4] = {
		TIMER_SEC_PHYS_INTID, ppis->phys, ppis->virt, TIMER_HYP_INTID,
	};
	uint32_t flags = IRQ_TYPE_LEVEL_HIGH;
	fdt32_t cells[12];
	int ret;

	/* GICv2 PPIs carry a mask of the CPUs they are wired to. */
	if (gic_version == 2)
		flags |= ((1U << nr_cpus) - 1) << 8;
	for (int i = 0; i < 4; i++) {
		cells[i * 3] = cpu_to_fdt32(GIC_PPI);
		cells[i * 3 + 1] = cpu_to_fdt32(intids[i] - 16);
		cells[i * 3 + 2] = cpu_to_fdt32(flags);
	}
	ret = fdt_begin_node(fdt, "timer");
	ret = ret ?: fdt_property_string(fdt, "compatible", "arm,armv8-timer");
	ret = ret ?: fdt_property(fdt, "interrupts", cells, sizeof(cells));
	ret = ret ?: fdt_property(fdt, "always-on", NULL, 0);
	ret = ret ?: fdt_end_node(fdt);
	return ret == -FDT_ERR_NOSPACE ? -ENOSPC : ret ? -EINVAL : 0;
}
