/* SPDX-License-Identifier: GPL-2.0 */
/*
 * PCI: the configuration space of a type-0 function (config.c), its MSI-X
 * capability with the table and PBA (msix.c), and a generic ECAM host
 * bridge with one bus (host.c). Pure logic but for the eventfds MSI-X
 * vectors signal through: the host reaches KVM only through device_env.
 */
#ifndef LVMM_PCI_H
#define LVMM_PCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "../device.h"

/* Type-0 header (PCI Local Bus 3.0, 6.1). */
#define PCI_VENDOR_ID		0x00
#define PCI_DEVICE_ID		0x02
#define PCI_COMMAND		0x04
#define  PCI_COMMAND_MEMORY	0x0002
#define  PCI_COMMAND_MASTER	0x0004
#define  PCI_COMMAND_INTX_DISABLE 0x0400
#define PCI_STATUS		0x06
#define  PCI_STATUS_CAP_LIST	0x0010
#define PCI_REVISION_ID		0x08
#define PCI_HEADER_TYPE		0x0e
#define PCI_BAR0		0x10
#define  PCI_BAR_MEM_64		0x04
#define PCI_SUBSYSTEM_VENDOR_ID	0x2c
#define PCI_SUBSYSTEM_ID	0x2e
#define PCI_CAPABILITY_LIST	0x34
#define PCI_INTERRUPT_LINE	0x3c
#define PCI_INTERRUPT_PIN	0x3d
#define PCI_CAP_ID_VNDR		0x09
#define PCI_CAP_ID_MSIX		0x11

#define PCI_CFG_SIZE		256
#define PCI_NR_BARS		6
#define PCI_ECAM_FN_SIZE	0x1000	/* one function's config space in ECAM */
#define PCI_MAX_SLOTS		32

/*
 * One function's config space: the bytes the guest reads, which bits it
 * may write, and the BARs' sizes. A BAR's address bits below its size are
 * read-only zero, which gives the sizing protocol (write all ones, read
 * back ~(size - 1) and the flags) with no special case.
 */
struct pci_config {
	uint8_t raw[PCI_CFG_SIZE];
	uint8_t wmask[PCI_CFG_SIZE];
	uint64_t bar_size[PCI_NR_BARS];	/* 0: BAR not implemented */
	uint8_t last_cap;		/* offset of the last capability, 0: none */
	uint8_t next_cap;		/* where the next capability goes */
};

void pci_config_init(struct pci_config *c, uint16_t vendor, uint16_t device, uint32_t class_code,
		     uint8_t revision, uint16_t subsys_vendor, uint16_t subsys);
/* A memory BAR (64-bit takes idx and idx + 1); size a power of two >= 16. */
int pci_config_add_bar(struct pci_config *c, unsigned int idx, uint64_t size, bool is64);
void pci_config_set_bar_addr(struct pci_config *c, unsigned int idx, uint64_t addr);
/* The BAR's address as programmed (the sizing pattern included). */
uint64_t pci_config_bar_addr(const struct pci_config *c, unsigned int idx);
/* Where the BAR decodes now: its address when memory decode is on, else 0. */
uint64_t pci_config_bar_decoded(const struct pci_config *c, unsigned int idx);
/* Link a capability of len bytes; returns its offset or -ENOSPC. */
int pci_config_add_cap(struct pci_config *c, uint8_t id, unsigned int len);
uint32_t pci_config_read(const struct pci_config *c, unsigned int off, unsigned int len);
void pci_config_write(struct pci_config *c, unsigned int off, unsigned int len, uint32_t val);
uint16_t pci_config_command(const struct pci_config *c);

/* MSI-X (PCI 3.0, 6.8.2): table entries and their irqfds. */
/* virtio uses a vector per queue and one for config; passthrough up to this. */
#define PCI_MSIX_MAX_VECTORS	32
#define PCI_MSIX_ENTRY_SIZE	16
#define PCI_MSIX_CTRL_ENABLE	0x8000
#define PCI_MSIX_CTRL_MASKALL	0x4000
#define PCI_MSIX_ENTRY_MASKED	1

struct pci_msix_vec {
	uint32_t addr_lo, addr_hi, data, ctrl;
	int fd;			/* the device signals this eventfd */
	bool routed;		/* a GSI routes it and fd is attached */
	uint32_t gsi;
	uint64_t routed_addr;
	uint32_t routed_data;
};

/*
 * A vector delivers when MSI-X is enabled and neither the function nor the
 * vector is masked: then its MSI route to the ITS exists and its eventfd is
 * an irqfd. Masked, the irqfd is detached; what the device signals stays in
 * the eventfd (the PBA bit reads it) and KVM delivers it on re-attach.
 */
struct pci_msix {
	struct pci_config *cfg;
	unsigned int cap;	/* offset of the capability */
	unsigned int nr;
	uint32_t devid;		/* requester id: bus << 8 | devfn */
	const struct device_env *env;
	struct pci_msix_vec vec[PCI_MSIX_MAX_VECTORS];
	unsigned long routes_set;	/* MSI routes installed, for --stats */
	unsigned long route_errors;
};

int pci_msix_init(struct pci_msix *m, struct pci_config *cfg, unsigned int nr, unsigned int bar,
		  uint32_t table_off, uint32_t pba_off, const struct device_env *env);
/*
 * The same for a capability already in cfg at cap (a passed-through
 * device's own, found in its config space): its table size reads nr.
 */
int pci_msix_init_at(struct pci_msix *m, struct pci_config *cfg, unsigned int cap,
		     unsigned int nr, unsigned int bar, uint32_t table_off, uint32_t pba_off,
		     const struct device_env *env);
void pci_msix_free(struct pci_msix *m);
bool pci_msix_enabled(const struct pci_msix *m);
void pci_msix_table_read(struct pci_msix *m, uint64_t off, void *data, unsigned int len);
void pci_msix_table_write(struct pci_msix *m, uint64_t off, const void *data, unsigned int len);
void pci_msix_pba_read(struct pci_msix *m, uint64_t off, void *data, unsigned int len);
/* Bring routes and irqfds in line with the table and the control word. */
void pci_msix_update(struct pci_msix *m);
/* Drop every route and irqfd (reset, teardown). */
void pci_msix_unroute_all(struct pci_msix *m);

/* A function behind the host bridge. */
struct pci_func;
struct pci_func_ops {
	/* Config space access; the function takes its own lock. */
	uint32_t (*cfg_read)(struct pci_func *f, unsigned int off, unsigned int len);
	void (*cfg_write)(struct pci_func *f, unsigned int off, unsigned int len, uint32_t val);
	/* An access to BAR bar at offset off. */
	void (*bar_read)(struct pci_func *f, unsigned int bar, uint64_t off, void *data,
			 unsigned int len);
	void (*bar_write)(struct pci_func *f, unsigned int bar, uint64_t off, const void *data,
			  unsigned int len);
	/* BAR bar now decodes at addr (0: not at all); was at old. */
	void (*bar_moved)(struct pci_func *f, unsigned int bar, uint64_t old, uint64_t addr);
};

struct pci_func {
	const struct pci_func_ops *ops;
	struct pci_config cfg;
	uint8_t devfn;
	unsigned int intx_spi;		/* INTA's SPI (INTID) */
	uint64_t decoded[PCI_NR_BARS];	/* where the host dispatches each BAR now */
};

/*
 * The ECAM host bridge. Two windows on the MMIO bus: ecam (config space
 * of bus 0, and the FDT node) and mem32 (the 32-bit BAR window, dispatched
 * to the function whose BAR decodes there). One lock serialises config
 * and BAR accesses, so BARs cannot move under a dispatch.
 */
struct pci_host {
	struct device ecam;
	struct device mem32;
	struct device mem64;
	pthread_mutex_t lock;
	struct pci_func *slot[PCI_MAX_SLOTS];
	unsigned int nr_slots;
	uint64_t next_mem32;
	bool msi;		/* an ITS takes MSIs: msi-map in the FDT */
	unsigned int (*alloc_spi)(void *ctx);
	void *spi_ctx;
};

int pci_host_create(bool msi, unsigned int (*alloc_spi)(void *ctx), void *spi_ctx,
		    struct pci_host **out);
/* Give f the next slot, its BARs addresses in the window and INTA an SPI. */
int pci_host_plug(struct pci_host *h, struct pci_func *f, char *err, size_t errlen);
/* Take back the last function plugged (its creation failed later on). */
void pci_host_unplug(struct pci_host *h, struct pci_func *f);
/* Re-read where f's BARs decode (after a restore wrote its config). */
void pci_host_refresh(struct pci_host *h, struct pci_func *f);
/* ECAM offset: bus << 20 | devfn << 12 | register. */
static inline uint64_t pci_ecam_offset(unsigned int bus, unsigned int devfn, unsigned int reg)
{
	return ((uint64_t)bus << 20) | ((uint64_t)devfn << 12) | reg;
}

#endif
