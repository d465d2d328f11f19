// SPDX-License-Identifier: GPL-2.0
/* The guest's board: RAM, the device windows, address and SPI allocation. */
#include "board.h"
#include "memmap.h"

#include <errno.h>
#include <stdio.h>

static void window_init(struct board_window *w, const char *name, uint64_t base, uint64_t size)
{
	w->name = name;
	w->base = base;
	w->size = size;
	w->next = base;
}

void board_init(struct board *b, uint64_t ram_size)
{
	b->ram_base = RAM_BASE;
	b->ram_size = ram_size;
	b->uart_base = UART0_BASE;
	/* virtio-mmio slots from VIRTIO_MMIO_BASE up to the PCI host's ECAM. */
	window_init(&b->virtio, "virtio-mmio", VIRTIO_MMIO_BASE, PCI_ECAM_BASE - VIRTIO_MMIO_BASE);
	window_init(&b->vfio, "vfio", VFIO_MMIO_BASE, VFIO_MMIO_SIZE);
	b->spi_alloc = NULL;
	b->spi_ctx = NULL;
}

uint64_t board_highest_gpa(const struct board *b)
{
	return b->ram_base + b->ram_size - 1;
}

int board_window_alloc(struct board_window *w, uint64_t size, uint64_t *gpa, char *err,
		       size_t errlen)
{
	uint64_t at = (w->next + size - 1) & ~(size - 1);

	if (at < w->next || at + size > w->base + w->size) {
		snprintf(err, errlen, "board: the %s window (0x%llx, %llu MiB) is full", w->name,
			 (unsigned long long)w->base, (unsigned long long)(w->size >> 20));
		return -ENOSPC;
	}
	w->next = at + size;
	*gpa = at;
	return 0;
}

void board_set_spi_source(struct board *b, unsigned int (*alloc)(void *ctx), void *ctx)
{
	b->spi_alloc = alloc;
	b->spi_ctx = ctx;
}

unsigned int board_alloc_spi(struct board *b)
{
	return b->spi_alloc ? b->spi_alloc(b->spi_ctx) : 0;
}

void board_uart_path(const struct board *b, char *buf, size_t size)
{
	snprintf(buf, size, "/serial@%llx", (unsigned long long)b->uart_base);
}
