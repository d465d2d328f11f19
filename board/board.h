/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest's board: where RAM is, which windows of the address space hold
 * devices, and who gets which address and SPI. Bring-up, the device wiring
 * and the FDT all ask it, so the memory map is decided in one place
 * (the fixed addresses are in memmap.h).
 *
 * A window is a range of guest addresses handed out low to high. A new bus
 * (PCI's ECAM and its 32/64-bit BAR windows, say) is one more window here.
 */
#ifndef LVMM_BOARD_H
#define LVMM_BOARD_H

#include <stddef.h>
#include <stdint.h>

struct board_window {
	const char *name;	/* for messages: "virtio-mmio" */
	uint64_t base, size;
	uint64_t next;		/* first free address */
};

struct board {
	uint64_t ram_base, ram_size;
	uint64_t uart_base;
	struct board_window virtio;	/* virtio-mmio transports, one slot each */
	struct board_window vfio;	/* VFIO platform regions, mapped or trapped */
	/*
	 * SPIs are the interrupt controller's lines: once it exists, bring-up
	 * gives the board its allocator (0: none left).
	 */
	unsigned int (*spi_alloc)(void *ctx);
	void *spi_ctx;
};

/* The board for a guest with ram_size bytes of RAM. */
void board_init(struct board *b, uint64_t ram_size);
/* The highest guest physical address the VM may need (the IPA size). */
uint64_t board_highest_gpa(const struct board *b);

/*
 * Take size bytes (aligned to size, a power of two) from window w.
 * Returns 0 with the address in *gpa, or -ENOSPC (message in err).
 */
int board_window_alloc(struct board_window *w, uint64_t size, uint64_t *gpa, char *err,
		       size_t errlen);

void board_set_spi_source(struct board *b, unsigned int (*alloc)(void *ctx), void *ctx);
/* A free SPI (its INTID), or 0 when none is left (or no irqchip yet). */
unsigned int board_alloc_spi(struct board *b);

/* The FDT path of the console UART, for /chosen's stdout-path. */
void board_uart_path(const struct board *b, char *buf, size_t size);

#endif
