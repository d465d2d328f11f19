// SPDX-License-Identifier: GPL-2.0
/*
 * The MMIO bus: a sorted list of device windows, fixed before the vCPUs
 * start (so lookups need no lock). Devices get offsets within their window.
 */
#include "kvm.h"
#include "../devices/device.h"
#include "../util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int mmio_bus_add(struct mmio_bus *bus, struct device *dev)
{
	uint64_t base = dev->mmio_base, end = dev->mmio_base + dev->mmio_size;
	unsigned int pos;

	if (!dev->mmio_size || end < base)
		return -EINVAL;
	for (pos = 0; pos < bus->nr; pos++) {
		struct mmio_region *r = &bus->regions[pos];

		if (base < r->base + r->size && r->base < end)
			return -EBUSY;
		if (r->base > base)
			break;
	}
	if (bus->nr == bus->cap) {
		unsigned int cap = bus->cap ? bus->cap * 2 : 8;
		void *p = realloc(bus->regions, cap * sizeof(*bus->regions));

		if (!p)
			return -ENOMEM;
		bus->regions = p;
		bus->cap = cap;
	}
	memmove(&bus->regions[pos + 1], &bus->regions[pos],
		(bus->nr - pos) * sizeof(*bus->regions));
	bus->regions[pos] = (struct mmio_region){ base, dev->mmio_size, dev };
	bus->nr++;
	return 0;
}

static struct mmio_region *mmio_bus_find(struct mmio_bus *bus, uint64_t addr)
{
	unsigned int lo = 0, hi = bus->nr;

	while (lo < hi) {
		unsigned int mid = (lo + hi) / 2;
		struct mmio_region *r = &bus->regions[mid];

		if (addr < r->base)
			hi = mid;
		else if (addr >= r->base + r->size)
			lo = mid + 1;
		else
			return r;
	}
	return NULL;
}

bool mmio_bus_access(struct mmio_bus *bus, uint64_t addr, void *data, unsigned int len,
		     bool is_write)
{
	struct mmio_region *r = mmio_bus_find(bus, addr);

	if (!r || addr + len > r->base + r->size) {
		/* Reads of nothing return zeroes, writes vanish, as on a bus. */
		if (!is_write)
			memset(data, 0, len);
		if (atomic_fetch_add(&bus->unhandled, 1) < 10)
			pr_warn("guest %s of %u bytes at 0x%llx: no device there",
				is_write ? "write" : "read", len, (unsigned long long)addr);
		return false;
	}
	if (is_write) {
		if (r->dev->ops->mmio_write)
			r->dev->ops->mmio_write(r->dev, addr - r->base, data, len);
	} else {
		memset(data, 0, len);
		if (r->dev->ops->mmio_read)
			r->dev->ops->mmio_read(r->dev, addr - r->base, data, len);
	}
	return true;
}

void mmio_bus_free(struct mmio_bus *bus)
{
	free(bus->regions);
	bus->regions = NULL;
	bus->nr = bus->cap = 0;
}
