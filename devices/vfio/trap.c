// SPDX-License-Identifier: GPL-2.0
/*
 * The trap device: a VFIO region that is not mapped into the guest (VFIO
 * will not mmap it, it is read-only or not whole pages, or --vfio-platform
 * ...,no-mmap) sits on the MMIO bus, and each guest access exits to lvmm
 * and is forwarded to the region with pread/pwrite on the device fd.
 */
#include "internal.h"
#include "../../util.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct vfio_trap {
	struct device dev;
	int fd;			/* the owner's device fd (closed by the owner) */
	uint64_t offset;
	unsigned int region;
	char host_name[64];
	atomic_uint accesses;
	atomic_uint errors;
};

/* An access the device refused: the guest reads what pread left; say so (a few times). */
static void trap_error(struct vfio_trap *t, const char *what, uint64_t off, unsigned int len,
		       ssize_t n)
{
	if (atomic_fetch_add(&t->errors, 1) < 10)
		pr_warn("vfio: %s: guest %s of %u bytes at offset 0x%llx of region %u failed: %s",
			t->host_name, what, len, (unsigned long long)off, t->region,
			n < 0 ? strerror(errno) : "short transfer");
}

static void vfio_trap_read(struct device *dev, uint64_t off, void *data, unsigned int len)
{
	struct vfio_trap *t = (struct vfio_trap *)dev;
	ssize_t n = pread(t->fd, data, len, t->offset + off);

	atomic_fetch_add(&t->accesses, 1);
	if (n != (ssize_t)len)
		trap_error(t, "read", off, len, n);
}

static void vfio_trap_write(struct device *dev, uint64_t off, const void *data, unsigned int len)
{
	struct vfio_trap *t = (struct vfio_trap *)dev;
	ssize_t n = pwrite(t->fd, data, len, t->offset + off);

	atomic_fetch_add(&t->accesses, 1);
	if (n != (ssize_t)len)
		trap_error(t, "write", off, len, n);
}

static void vfio_trap_stats(struct device *dev, char *buf, unsigned int len)
{
	struct vfio_trap *t = (struct vfio_trap *)dev;

	snprintf(buf, len, "host=%s region=%u trapped_accesses=%u errors=%u", t->host_name,
		 t->region, atomic_load(&t->accesses), atomic_load(&t->errors));
}

static void vfio_trap_free(struct device *dev)
{
	free(dev);
}

static const struct device_ops vfio_trap_ops = {
	.kind = "vfio-trap",
	.mmio_read = vfio_trap_read,
	.mmio_write = vfio_trap_write,
	.free = vfio_trap_free,
	.stats = vfio_trap_stats,
};

struct device *vfio_trap_new(int fd, uint64_t offset, unsigned int region, uint64_t gpa,
			     uint64_t size, const char *name, const char *host_name)
{
	struct vfio_trap *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->dev.ops = &vfio_trap_ops;
	snprintf(t->dev.name, sizeof(t->dev.name), "%s", name);
	t->dev.mmio_base = gpa;
	t->dev.mmio_size = size;
	t->fd = fd;
	t->offset = offset;
	t->region = region;
	snprintf(t->host_name, sizeof(t->host_name), "%s", host_name);
	return &t->dev;
}
