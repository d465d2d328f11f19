// SPDX-License-Identifier: GPL-2.0
/* Choosing a GIC model and laying out its frames: pure logic. */
#include "model.h"
#include "../board/memmap.h"
#include "../util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Preference order for --irqchip auto. */
static const enum irqchip_model auto_order[] = {
	IRQCHIP_GICV3_ITS, IRQCHIP_GICV3, IRQCHIP_GICV2,
};

void irqchip_mask_names(unsigned int mask, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (unsigned int i = 0; i < ARRAY_SIZE(auto_order); i++) {
		if (!(mask & IRQCHIP_MASK(auto_order[i])))
			continue;
		if (used >= len)
			break;
		used += snprintf(buf + used, len - used, "%s%s", used ? ", " : "",
				 irqchip_model_name(auto_order[i]));
	}
	if (!used)
		snprintf(buf, len, "none");
}

int irqchip_select(enum irqchip_model requested, unsigned int offered,
		   enum irqchip_model *chosen, char *err, size_t errlen)
{
	char names[64];

	if (requested == IRQCHIP_AUTO) {
		for (unsigned int i = 0; i < ARRAY_SIZE(auto_order); i++) {
			if (offered & IRQCHIP_MASK(auto_order[i])) {
				*chosen = auto_order[i];
				return 0;
			}
		}
		snprintf(err, errlen, "this host's KVM offers no in-kernel GIC (gicv2, gicv3)");
		return -ENODEV;
	}
	if (offered & IRQCHIP_MASK(requested)) {
		*chosen = requested;
		return 0;
	}
	irqchip_mask_names(offered, names, sizeof(names));
	snprintf(err, errlen, "irqchip %s is not offered by this host's KVM (it offers: %s)",
		 irqchip_model_name(requested), names);
	return -ENODEV;
}

void gic_layout_for(enum irqchip_model model, unsigned int nr_cpus, struct gic_layout *l)
{
	memset(l, 0, sizeof(*l));
	l->dist_base = GIC_DIST_BASE;
	if (model == IRQCHIP_GICV2) {
		l->version = 2;
		l->dist_size = GICV2_DIST_SIZE;
		l->cpu_base = GICV2_CPU_BASE;
		l->cpu_size = GICV2_CPU_SIZE;
		return;
	}
	l->version = 3;
	l->dist_size = GICV3_DIST_SIZE;
	l->redist_base = GICV3_REDIST_BASE;
	l->redist_size = (uint64_t)nr_cpus * GICV3_REDIST_FRAME_SIZE;
	if (model == IRQCHIP_GICV3_ITS) {
		l->its = true;
		l->its_base = GICV3_ITS_BASE;
		l->its_size = GICV3_ITS_SIZE;
	}
}

unsigned int gic_max_cpus(enum irqchip_model model)
{
	if (model == IRQCHIP_GICV2)
		return GICV2_MAX_CPUS;
	return (GICV3_REDIST_END - GICV3_REDIST_BASE) / GICV3_REDIST_FRAME_SIZE;
}
