// SPDX-License-Identifier: GPL-2.0
/* The GIC's device tree node (Documentation/devicetree/bindings/interrupt-controller/arm,gic*.yaml). */
#include "model.h"

#include <errno.h>
#include <libfdt.h>
#include <stdio.h>

static int fdt_reg_pairs(void *fdt, const uint64_t *pairs, int n)
{
	fdt64_t cells[8];

	for (int i = 0; i < n * 2; i++)
		cells[i] = cpu_to_fdt64(pairs[i]);
	return fdt_property(fdt, "reg", cells, n * 2 * sizeof(fdt64_t));
}

static int gic_fdt_its(void *fdt, const struct gic_layout *l)
{
	uint64_t reg[2] = { l->its_base, l->its_size };
	char name[48];
	int ret;

	snprintf(name, sizeof(name), "msi-controller@%llx", (unsigned long long)l->its_base);
	ret = fdt_begin_node(fdt, name);
	ret = ret ?: fdt_property_string(fdt, "compatible", "arm,gic-v3-its");
	ret = ret ?: fdt_property(fdt, "msi-controller", NULL, 0);
	ret = ret ?: fdt_property_u32(fdt, "#msi-cells", 1);
	ret = ret ?: fdt_reg_pairs(fdt, reg, 1);
	ret = ret ?: fdt_property_u32(fdt, "phandle", GIC_ITS_PHANDLE);
	ret = ret ?: fdt_end_node(fdt);
	return ret;
}

int gic_fdt_node(void *fdt, const struct gic_layout *l)
{
	char name[48];
	int ret;

	snprintf(name, sizeof(name), "intc@%llx", (unsigned long long)l->dist_base);
	ret = fdt_begin_node(fdt, name);
	if (l->version == 3) {
		uint64_t reg[4] = { l->dist_base, l->dist_size, l->redist_base, l->redist_size };

		ret = ret ?: fdt_property_string(fdt, "compatible", "arm,gic-v3");
		ret = ret ?: fdt_reg_pairs(fdt, reg, 2);
		ret = ret ?: fdt_property_u32(fdt, "#redistributor-regions", 1);
	} else {
		uint64_t reg[4] = { l->dist_base, l->dist_size, l->cpu_base, l->cpu_size };

		ret = ret ?: fdt_property_string(fdt, "compatible", "arm,cortex-a15-gic");
		ret = ret ?: fdt_reg_pairs(fdt, reg, 2);
	}
	ret = ret ?: fdt_property_u32(fdt, "#interrupt-cells", 3);
	ret = ret ?: fdt_property(fdt, "interrupt-controller", NULL, 0);
	ret = ret ?: fdt_property_u32(fdt, "#address-cells", 2);
	ret = ret ?: fdt_property_u32(fdt, "#size-cells", 2);
	ret = ret ?: fdt_property(fdt, "ranges", NULL, 0);
	ret = ret ?: fdt_property_u32(fdt, "phandle", GIC_PHANDLE);
	if (!ret && l->version == 3 && l->its)
		ret = gic_fdt_its(fdt, l);
	ret = ret ?: fdt_end_node(fdt);
	return ret == -FDT_ERR_NOSPACE ? -ENOSPC : ret ? -EINVAL : 0;
}
