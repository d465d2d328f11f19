// SPDX-License-Identifier: GPL-2.0
#include "device.h"

#include <errno.h>
#include <libfdt.h>
#include <stdio.h>

void device_list_init(struct device_list *list)
{
	list->head = NULL;
	list->tail = &list->head;
}

void device_list_add(struct device_list *list, struct device *dev)
{
	dev->next = NULL;
	*list->tail = dev;
	list->tail = &dev->next;
}

static int fdt_err(int err)
{
	return err == -FDT_ERR_NOSPACE ? -ENOSPC : -EINVAL;
}

int device_fdt_begin_node(void *fdt, const char *node, uint64_t base)
{
	char name[64];
	int ret;

	snprintf(name, sizeof(name), "%s@%llx", node, (unsigned long long)base);
	ret = fdt_begin_node(fdt, name);
	return ret ? fdt_err(ret) : 0;
}

int device_fdt_reg(void *fdt, uint64_t base, uint64_t size)
{
	fdt64_t reg[2] = { cpu_to_fdt64(base), cpu_to_fdt64(size) };
	int ret = fdt_property(fdt, "reg", reg, sizeof(reg));

	return ret ? fdt_err(ret) : 0;
}

int device_fdt_spi(void *fdt, unsigned int intid, unsigned int flags)
{
	/* GIC binding: <type number flags>, type 0 = SPI, number = INTID - 32. */
	fdt32_t cells[3] = { cpu_to_fdt32(0), cpu_to_fdt32(intid - 32), cpu_to_fdt32(flags) };
	int ret = fdt_property(fdt, "interrupts", cells, sizeof(cells));

	return ret ? fdt_err(ret) : 0;
}
