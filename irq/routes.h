/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The GSI routing table lvmm programs with KVM_SET_GSI_ROUTING (it replaces
 * KVM's default table as a whole). SPI routes use gsi = INTID - 32, the
 * convention KVM's default table follows; MSI routes (to the ITS) take GSIs
 * from IRQ_MSI_GSI_BASE up. Pure logic (routes.c), unit-tested.
 */
#ifndef LVMM_IRQ_ROUTES_H
#define LVMM_IRQ_ROUTES_H

#include <stdint.h>

enum irq_route_type { IRQ_ROUTE_SPI, IRQ_ROUTE_MSI };

struct irq_route {
	uint32_t gsi;
	enum irq_route_type type;
	uint32_t intid;			/* SPI */
	uint64_t msi_addr;		/* MSI: doorbell (GITS_TRANSLATER) */
	uint32_t msi_data;		/* MSI: event ID */
	uint32_t msi_devid;		/* MSI: device ID (KVM_MSI_VALID_DEVID) */
};

#define IRQ_MSI_GSI_BASE 1024

struct irq_routes {
	struct irq_route *routes;
	unsigned int nr, cap;
	uint32_t next_msi_gsi;
};

void irq_routes_init(struct irq_routes *r);
void irq_routes_free(struct irq_routes *r);
/* Route an SPI; adding the same SPI again returns the same GSI. */
int irq_routes_add_spi(struct irq_routes *r, unsigned int intid, uint32_t *gsi);
int irq_routes_add_msi(struct irq_routes *r, uint64_t addr, uint32_t data, uint32_t devid,
		       uint32_t *gsi);
const struct irq_route *irq_routes_find(const struct irq_routes *r, uint32_t gsi);
int irq_routes_remove(struct irq_routes *r, uint32_t gsi);

#endif
