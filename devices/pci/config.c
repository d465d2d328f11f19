// SPDX-License-Identifier: GPL-2.0
/* The config space of a type-0 PCI function: pure logic, unit-tested. */
#include "pci.h"

#include <errno.h>
#include <string.h>

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v;
	p[1] = v >> 8;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v);
	put16(p + 2, v >> 16);
}

static uint32_t get32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

void pci_config_init(struct pci_config *c, uint16_t vendor, uint16_t device, uint32_t class_code,
		     uint8_t revision, uint16_t subsys_vendor, uint16_t subsys)
{
	memset(c, 0, sizeof(*c));
	put16(&c->raw[PCI_VENDOR_ID], vendor);
	put16(&c->raw[PCI_DEVICE_ID], device);
	c->raw[PCI_REVISION_ID] = revision;
	c->raw[0x09] = class_code;
	c->raw[0x0a] = class_code >> 8;
	c->raw[0x0b] = class_code >> 16;
	put16(&c->raw[PCI_SUBSYSTEM_VENDOR_ID], subsys_vendor);
	put16(&c->raw[PCI_SUBSYSTEM_ID], subsys);
	/* Memory decode, bus master, INTx disable; no I/O space. */
	put16(&c->wmask[PCI_COMMAND], PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
				      PCI_COMMAND_INTX_DISABLE);
	c->wmask[PCI_INTERRUPT_LINE] = 0xff;
	c->next_cap = 0x40;
}

int pci_config_add_bar(struct pci_config *c, unsigned int idx, uint64_t size, bool is64)
{
	uint64_t mask = ~(size - 1);

	if (idx + is64 >= PCI_NR_BARS || size < 16 || (size & (size - 1)) ||
	    (!is64 && size > 0x80000000ULL))
		return -EINVAL;
	c->bar_size[idx] = size;
	c->raw[PCI_BAR0 + 4 * idx] = is64 ? PCI_BAR_MEM_64 : 0;
	put32(&c->wmask[PCI_BAR0 + 4 * idx], (uint32_t)mask & ~0xfU);
	if (is64)
		put32(&c->wmask[PCI_BAR0 + 4 * (idx + 1)], mask >> 32);
	return 0;
}

static bool bar_is64(const struct pci_config *c, unsigned int idx)
{
	return c->bar_size[idx] && (c->raw[PCI_BAR0 + 4 * idx] & PCI_BAR_MEM_64);
}

void pci_config_set_bar_addr(struct pci_config *c, unsigned int idx, uint64_t addr)
{
	uint8_t *p = &c->raw[PCI_BAR0 + 4 * idx];

	put32(p, ((uint32_t)addr & ~0xfU) | (p[0] & 0xf));
	if (bar_is64(c, idx))
		put32(p + 4, addr >> 32);
}

uint64_t pci_config_bar_addr(const struct pci_config *c, unsigned int idx)
{
	uint64_t addr;

	if (idx >= PCI_NR_BARS || !c->bar_size[idx])
		return 0;
	addr = get32(&c->raw[PCI_BAR0 + 4 * idx]) & ~0xfU;
	if (bar_is64(c, idx))
		addr |= (uint64_t)get32(&c->raw[PCI_BAR0 + 4 * idx + 4]) << 32;
	return addr;
}

uint16_t pci_config_command(const struct pci_config *c)
{
	return c->raw[PCI_COMMAND] | c->raw[PCI_COMMAND + 1] << 8;
}

uint64_t pci_config_bar_decoded(const struct pci_config *c, unsigned int idx)
{
	uint64_t addr = pci_config_bar_addr(c, idx);

	if (!(pci_config_command(c) & PCI_COMMAND_MEMORY))
		return 0;
	/* All address bits set: the sizing pattern, not a place to decode. */
	if ((addr | (c->bar_size[idx] - 1) | 0xf) == (bar_is64(c, idx) ? UINT64_MAX : UINT32_MAX))
		return 0;
	return addr;
}

int pci_config_add_cap(struct pci_config *c, uint8_t id, unsigned int len)
{
	unsigned int off = c->next_cap;

	if (len < 2 || off + len > PCI_CFG_SIZE)
		return -ENOSPC;
	c->raw[off] = id;
	c->raw[off + 1] = 0;
	if (c->last_cap)
		c->raw[c->last_cap + 1] = off;
	else
		c->raw[PCI_CAPABILITY_LIST] = off;
	c->raw[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
	c->last_cap = off;
	c->next_cap = (off + len + 3) & ~3U;
	return off;
}

/* Naturally aligned 1, 2 or 4 bytes inside the space; else nothing. */
static bool access_ok(unsigned int off, unsigned int len)
{
	return (len == 1 || len == 2 || len == 4) && !(off & (len - 1)) &&
	       off + len <= PCI_CFG_SIZE;
}

uint32_t pci_config_read(const struct pci_config *c, unsigned int off, unsigned int len)
{
	uint32_t v = 0;

	if (!access_ok(off, len))
		return 0xffffffff;
	for (unsigned int i = 0; i < len; i++)
		v |= (uint32_t)c->raw[off + i] << (8 * i);
	return v;
}

void pci_config_write(struct pci_config *c, unsigned int off, unsigned int len, uint32_t val)
{
	if (!access_ok(off, len))
		return;
	for (unsigned int i = 0; i < len; i++) {
		uint8_t m = c->wmask[off + i], b = val >> (8 * i);

		c->raw[off + i] = (c->raw[off + i] & ~m) | (b & m);
	}
}
