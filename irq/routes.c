// SPDX-License-Identifier: GPL-2.0
/* The GSI routing table as lvmm keeps it: pure logic, unit-tested. */
#include "model.h"
#include "routes.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void irq_routes_init(struct irq_routes *r)
{
	memset(r, 0, sizeof(*r));
	r->next_msi_gsi = IRQ_MSI_GSI_BASE;
}

void irq_routes_free(struct irq_routes *r)
{
	free(r->routes);
	irq_routes_init(r);
}

const struct irq_route *irq_routes_find(const struct irq_routes *r, uint32_t gsi)
{
	for (unsigned int i = 0; i < r->nr; i++)
		if (r->routes[i].gsi == gsi)
			return &r->routes[i];
	return NULL;
}

static struct irq_route *irq_routes_append(struct irq_routes *r)
{
	if (r->nr == r->cap) {
		unsigned int cap = r->cap ? r->cap * 2 : 16;
		struct irq_route *p = realloc(r->routes, cap * sizeof(*p));

		if (!p)
			return NULL;
		r->routes = p;
		r->cap = cap;
	}
	memset(&r->routes[r->nr], 0, sizeof(r->routes[0]));
	return &r->routes[r->nr++];
}

int irq_routes_add_spi(struct irq_routes *r, unsigned int intid, uint32_t *gsi)
{
	struct irq_route *route;

	if (intid < GIC_FIRST_SPI || intid >= 1020)
		return -EINVAL;
	if (irq_routes_find(r, intid - GIC_FIRST_SPI)) {
		*gsi = intid - GIC_FIRST_SPI;
		return 0;
	}
	route = irq_routes_append(r);
	if (!route)
		return -ENOMEM;
	route->type = IRQ_ROUTE_SPI;
	route->gsi = intid - GIC_FIRST_SPI;
	route->intid = intid;
	*gsi = route->gsi;
	return 0;
}

int irq_routes_add_msi(struct irq_routes *r, uint64_t addr, uint32_t data, uint32_t devid,
		       uint32_t *gsi)
{
	struct irq_route *route;
	uint32_t free_gsi = IRQ_MSI_GSI_BASE;

	/* The lowest free MSI GSI: masking and unmasking do not use GSIs up. */
	while (free_gsi < r->next_msi_gsi && irq_routes_find(r, free_gsi))
		free_gsi++;
	route = irq_routes_append(r);
	if (!route)
		return -ENOMEM;
	route->type = IRQ_ROUTE_MSI;
	route->gsi = free_gsi;
	if (free_gsi == r->next_msi_gsi)
		r->next_msi_gsi++;
	route->msi_addr = addr;
	route->msi_data = data;
	route->msi_devid = devid;
	*gsi = route->gsi;
	return 0;
}

int irq_routes_remove(struct irq_routes *r, uint32_t gsi)
{
	for (unsigned int i = 0; i < r->nr; i++) {
		if (r->routes[i].gsi != gsi)
			continue;
		r->routes[i] = r->routes[--r->nr];
		return 0;
	}
	return -ENOENT;
}
