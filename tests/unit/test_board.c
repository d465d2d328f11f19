// SPDX-License-Identifier: GPL-2.0
/*
 * The board (board/board.h): the addresses guests and snapshots already
 * know stay where they are, and a window hands out aligned, disjoint
 * ranges until it is full, then says which window is full.
 */
#include "test.h"
#include "../../board/board.h"
#include "../../board/memmap.h"

#include <errno.h>
#include <string.h>

TEST(board_layout)
{
	struct board b;
	char path[64];

	board_init(&b, 256ULL << 20);
	CHECK_EQ_U64(b.ram_base, 0x40000000ULL);
	CHECK_EQ_U64(board_highest_gpa(&b), 0x40000000ULL + (256ULL << 20) - 1);
	CHECK_EQ_U64(b.vfio.base, VFIO_MMIO_BASE);
	CHECK_EQ_U64(b.vfio.size, VFIO_MMIO_SIZE);
	board_uart_path(&b, path, sizeof(path));
	CHECK(!strcmp(path, "/serial@9000000"));
}

/* The virtio-mmio slots: 0x0a000000, 0x0a000200, ... as before the board. */
TEST(board_virtio_slots)
{
	struct board b;
	char err[128] = "";
	uint64_t gpa;

	board_init(&b, 64ULL << 20);
	for (unsigned int i = 0; i < 4; i++) {
		CHECK_EQ_INT(board_window_alloc(&b.virtio, 0x200, &gpa, err, sizeof(err)), 0);
		CHECK_EQ_U64(gpa, 0x0a000000ULL + i * 0x200);
	}
	CHECK_EQ_INT(board_window_alloc(&b.virtio, 0x1000, &gpa, err, sizeof(err)), 0);
	CHECK_EQ_U64(gpa, 0x0a001000ULL);	/* aligned to its size */
	CHECK(b.virtio.base + b.virtio.size <= b.vfio.base);
	/* and ends where the PCI host's ECAM begins (virtio-pci can sit beside it). */
	CHECK(b.virtio.base + b.virtio.size <= PCI_ECAM_BASE);
}

TEST(board_window_full)
{
	struct board_window w = { .name = "test", .base = 0x1000, .size = 0x400, .next = 0x1000 };
	char err[128] = "";
	uint64_t gpa = 0;

	CHECK_EQ_INT(board_window_alloc(&w, 0x200, &gpa, err, sizeof(err)), 0);
	CHECK_EQ_INT(board_window_alloc(&w, 0x200, &gpa, err, sizeof(err)), 0);
	CHECK_EQ_U64(gpa, 0x1200);
	CHECK_EQ_INT(board_window_alloc(&w, 0x200, &gpa, err, sizeof(err)), -ENOSPC);
	CHECK(strstr(err, "test window") != NULL);
	CHECK_EQ_U64(gpa, 0x1200);	/* untouched on failure */
}

static unsigned int fake_spi(void *ctx)
{
	unsigned int *next = ctx;

	return *next < 35 ? (*next)++ : 0;
}

/* SPIs come from the source bring-up gives; none before it, 0 when spent. */
TEST(board_spis)
{
	unsigned int next = 32;
	struct board b;

	board_init(&b, 64ULL << 20);
	CHECK_EQ_INT(board_alloc_spi(&b), 0);
	board_set_spi_source(&b, fake_spi, &next);
	CHECK_EQ_INT(board_alloc_spi(&b), 32);
	CHECK_EQ_INT(board_alloc_spi(&b), 33);
	CHECK_EQ_INT(board_alloc_spi(&b), 34);
	CHECK_EQ_INT(board_alloc_spi(&b), 0);
}
