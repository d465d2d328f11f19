// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-rng (devices/virtio/rng.c) through the virtio-mmio transport, as
 * virtio_harness.h drives it. No host side: getrandom() fills the buffers.
 */
#include "virtio_harness.h"

static struct device *rng_fz_create(struct vh *h, int *err)
{
	struct device *dev = NULL;
	char msg[256];

	*err = virtio_rng_create("virtio-rng0", &(struct virtio_transport){ .base = VH_MMIO_BASE, .intid = VH_INTID }, &h->env, &dev, msg, sizeof(msg));
	return *err ? NULL : dev;
}

static const struct vh_device rng_fz = {
	.create = rng_fz_create,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return vh_run(&rng_fz, data, size);
}
