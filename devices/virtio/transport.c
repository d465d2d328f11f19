// SPDX-License-Identifier: GPL-2.0
/*
 * The one place that knows every virtio transport: a device model asks for
 * "a transport as described" and gets an MMIO window (mmio.c) or a PCI
 * function (pci.c). Kept apart from core.c so the core and the transports do
 * not import each other.
 */
#include "virtio.h"

int virtio_transport_create(const char *name, const struct virtio_transport *t,
			    const struct virtio_ops *ops, uint64_t features,
			    const struct device_env *env, void *priv, struct virtio_dev **out)
{
	unsigned int nr_queues = t->nr_queues ?: ops->nr_queues;

	if (t->kind == VIRTIO_TRANSPORT_PCI)
		return virtio_pci_create(name, t->host, ops, nr_queues, features, env, priv, out);
	return virtio_mmio_create(name, t->base, t->intid, ops, nr_queues, features, env, priv,
				  out);
}

/* What a transport's failed create frees with: the device kind's part is not set up. */
const struct virtio_ops virtio_transport_only_ops = { .kind = "virtio" };
