// SPDX-License-Identifier: GPL-2.0
/*
 * The PCI host bridge (devices/pci/: host.c, config.c, msix.c) and a virtio-pci
 * function (devices/virtio/pci.c) as a hostile guest drives them: any
 * ECAM config access (BAR sizing and moves, the capability list, the
 * command register, MSI-X control), any access to the 32-bit BAR window
 * (virtio common configuration, ISR, notify, the MSI-X table and PBA),
 * writes into guest RAM, and snapshots (save, then restore into a fresh
 * host and function, which go on in its place).
 *
 * The VM side is recorded, not real: ioeventfds, irqfds and MSI routes
 * only count, so a route leak or a double removal shows as a count that
 * does not come back to zero at teardown.
 *
 * The script: the first byte picks the interrupt model (bit 0: an ITS, so
 * MSI-X), then one byte per operation (modulo 6) and its operands.
 */
#include "fuzz.h"
#include "../../devices/virtio/virtio.h"
#include "../../board/memmap.h"
#include "../../devices/pci/pci.h"
#include "../../state/state.h"

#include <stdio.h>
#include <stdlib.h>

#define PF_RAM_GPA	0x40000000ULL
#define PF_RAM_SIZE	0x10000ULL
#define PF_MAX_SNAPSHOTS 4

enum pf_op { PF_ECAM_WRITE, PF_ECAM_READ, PF_BAR_WRITE, PF_BAR_READ, PF_RAM_WRITE, PF_SNAPSHOT };

struct pf_vm {
	int ioeventfds;		/* assigned now */
	int msi_routes;		/* live now */
	uint32_t next_gsi;
	unsigned int next_spi;
};

static int pf_ioeventfd(void *ctx, uint64_t gpa, unsigned int len, uint64_t datamatch, int fd,
			bool assign)
{
	struct pf_vm *vm = ctx;

	vm->ioeventfds += assign ? 1 : -1;
	return 0;
}

static int pf_irqfd(void *ctx, unsigned int intid, int fd, int resample_fd, bool assign)
{
	return 0;
}

static int pf_msi_add(void *ctx, uint64_t addr, uint32_t data, uint32_t devid, int fd,
		      uint32_t *gsi)
{
	struct pf_vm *vm = ctx;

	vm->msi_routes++;
	*gsi = 1024 + vm->next_gsi++;
	return 0;
}

static int pf_msi_remove(void *ctx, uint32_t gsi, int fd)
{
	struct pf_vm *vm = ctx;

	vm->msi_routes--;
	return 0;
}

static unsigned int pf_alloc_spi(void *ctx)
{
	struct pf_vm *vm = ctx;

	return vm->next_spi++;
}

struct pf {
	struct pf_vm vm;
	struct device_env env;
	struct pci_host *host;
	struct device *dev;
};

static int pf_create(struct pf *p, bool msi, void *ram)
{
	char msg[256];

	p->env = (struct device_env){
		.mem = { ram, PF_RAM_GPA, PF_RAM_SIZE, NULL },
		.ioeventfd = pf_ioeventfd,
		.irqfd = pf_irqfd,
		.ctx = &p->vm,
	};
	if (msi) {
		p->env.msi_irqfd_add = pf_msi_add;
		p->env.msi_irqfd_remove = pf_msi_remove;
	}
	p->vm.next_spi = 40;
	if (pci_host_create(msi, pf_alloc_spi, &p->vm, &p->host))
		return -1;
	if (virtio_rng_create("virtio-rng0",
			      &(struct virtio_transport){ .kind = VIRTIO_TRANSPORT_PCI,
							  .host = p->host },
			      &p->env, &p->dev, msg, sizeof(msg))) {
		p->host->ecam.ops->free(&p->host->ecam);
		p->host = NULL;
		return -1;
	}
	return 0;
}

/* Free the function, then the host; every ioeventfd and route is given back. */
static void pf_destroy(struct pf *p)
{
	if (p->dev)
		p->dev->ops->free(p->dev);
	if (p->host)
		p->host->ecam.ops->free(&p->host->ecam);
	if (p->vm.ioeventfds || p->vm.msi_routes) {
		fprintf(stderr, "pci fuzz: %d ioeventfds and %d MSI routes left after free\n",
			p->vm.ioeventfds, p->vm.msi_routes);
		abort();
	}
}

static unsigned int pf_len(uint8_t b, bool eight)
{
	static const unsigned int lens[] = { 1, 2, 4, 8 };

	return lens[b % (eight ? 4 : 3)];
}

/* Save p's function and host, restore them into a fresh pair q. */
static int pf_snapshot(struct pf *p, struct pf *q, bool msi, void *ram)
{
	struct state_writer w;
	struct state_reader r;
	const struct state_section *s;
	char err[256];
	int ret = -1;

	sw_init(&w);
	if (p->dev->ops->quiesce)
		p->dev->ops->quiesce(p->dev);
	if (p->host->ecam.ops->save(&p->host->ecam, &w) || p->dev->ops->save(p->dev, &w) ||
	    sw_finish(&w) || sr_open(&r, w.buf, w.len, err, sizeof(err))) {
		sw_free(&w);
		return -1;
	}
	if (pf_create(q, msi, ram))
		goto out;
	s = sr_section(&r, p->dev->name);
	if (!s || q->dev->ops->restore(q->dev, s, err, sizeof(err))) {
		/* What one build saved, the same build must restore. */
		fprintf(stderr, "pci fuzz: restore of a fresh save failed: %s\n", err);
		abort();
	}
	ret = 0;
out:
	sr_close(&r);
	sw_free(&w);
	return ret;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t ram[PF_RAM_SIZE];
	unsigned int snapshots = 0;
	struct pf *p = calloc(1, sizeof(*p)), *q;
	struct fz f;
	bool msi;

	fz_init(&f, data, size);
	memset(ram, 0, sizeof(ram));
	msi = fz_u8(&f) & 1;
	if (!p || pf_create(p, msi, ram)) {
		free(p);
		return 0;
	}
	while (!fz_done(&f)) {
		uint8_t op = fz_u8(&f) % 6;
		uint64_t val = 0;
		uint32_t off;
		unsigned int len;

		switch (op) {
		case PF_ECAM_WRITE:
		case PF_ECAM_READ:
			off = fz_u32(&f) % PCI_ECAM_SIZE;
			len = pf_len(fz_u8(&f), false);
			off &= ~(len - 1);
			if (op == PF_ECAM_WRITE) {
				val = fz_u32(&f);
				p->host->ecam.ops->mmio_write(&p->host->ecam, off, &val, len);
			} else {
				p->host->ecam.ops->mmio_read(&p->host->ecam, off, &val, len);
			}
			break;
		case PF_BAR_WRITE:
		case PF_BAR_READ:
			off = fz_u32(&f) % p->host->mem32.mmio_size;
			len = pf_len(fz_u8(&f), true);
			off &= ~(len - 1);
			if (op == PF_BAR_WRITE) {
				val = fz_u64(&f);
				p->host->mem32.ops->mmio_write(&p->host->mem32, off, &val, len);
			} else {
				p->host->mem32.ops->mmio_read(&p->host->mem32, off, &val, len);
			}
			break;
		case PF_RAM_WRITE: {
			uint16_t at = fz_u16(&f);
			uint8_t n = fz_u8(&f);

			fz_bytes(&f, ram + at, n <= PF_RAM_SIZE - at ? n : PF_RAM_SIZE - at);
			break;
		}
		case PF_SNAPSHOT:
			if (snapshots++ == PF_MAX_SNAPSHOTS)
				break;
			/* The devices point at their pf (env.ctx): each pair stays put. */
			q = calloc(1, sizeof(*q));
			if (!q)
				break;
			if (pf_snapshot(p, q, msi, ram)) {
				free(q);
				break;
			}
			pf_destroy(p);
			free(p);
			p = q;
			break;
		}
	}
	pf_destroy(p);
	free(p);
	return 0;
}
