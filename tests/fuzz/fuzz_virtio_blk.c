// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-blk (devices/virtio/blk.c) through the virtio-mmio transport, as
 * virtio_harness.h drives it, on a 64 KiB disk (a memfd, rewritten before
 * each input). Requests go to the kernel through the device's real libaio
 * context; a buffered submission completes at once and the next VH_PROCESS
 * reaps it, so completions interleave with the script like disk interrupts.
 */
#include "virtio_harness.h"

#include <fcntl.h>
#include <sys/mman.h>

#define BLK_FZ_DISK 0x10000

static int blk_fz_disk = -1;
static char blk_fz_path[64];

static struct device *blk_fz_create(struct vh *h, int *err)
{
	/* Two queues: the multiqueue paths, and queue 0 is a single-queue device's. */
	struct virtio_blk_opts opts = { .path = blk_fz_path, .serial = "fuzz-disk", .queues = 2 };

	if (blk_fz_disk < 0) {
		blk_fz_disk = memfd_create("lvmm-fuzz-disk", MFD_CLOEXEC);
		if (blk_fz_disk < 0 || ftruncate(blk_fz_disk, BLK_FZ_DISK) < 0)
			vh_die("memfd");
		snprintf(blk_fz_path, sizeof(blk_fz_path), "/proc/self/fd/%d", blk_fz_disk);
	}
	struct device *dev = NULL;
	char msg[256];

	*err = virtio_blk_create("virtio-blk0", &(struct virtio_transport){ .base = VH_MMIO_BASE, .intid = VH_INTID }, &opts, &h->env, &dev, msg, sizeof(msg));
	return *err ? NULL : dev;
}

static void blk_fz_begin(struct vh *h)
{
	static uint8_t pattern[BLK_FZ_DISK];

	if (!pattern[1])
		for (unsigned int i = 0; i < sizeof(pattern); i++)
			pattern[i] = (uint8_t)(i * 13 + (i >> 9) + 1);
	if (pwrite(blk_fz_disk, pattern, sizeof(pattern), 0) != sizeof(pattern))
		vh_die("cannot reset the disk");
}

static const struct vh_device blk_fz = {
	.persistent = true,
	.create = blk_fz_create,
	.begin = blk_fz_begin,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return vh_run(&blk_fz, data, size);
}
