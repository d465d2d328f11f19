// SPDX-License-Identifier: GPL-2.0
/*
 * VFIO regions given to the guest: mmapped from the device fd and put in
 * a KVM memory slot (through device_env's map_mmio), so the guest's
 * accesses never leave KVM; or, when that cannot be done, trapped by a
 * trap device (trap.c). Where in the guest a region goes is the device's
 * choice (r->gpa), made before vfio_region_setup.
 */
#include "internal.h"
#include "../../util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

int vfio_region_info(int fd, unsigned int index, struct vfio_region *r, const char *name,
		     char *err, size_t errlen)
{
	struct vfio_region_info info = { .argsz = sizeof(info), .index = index };
	int ret;

	if (ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, &info) < 0) {
		ret = -errno;
		snprintf(err, errlen, "vfio: %s: region %u: VFIO_DEVICE_GET_REGION_INFO: %s", name,
			 index, strerror(-ret));
		return ret;
	}
	r->size = info.size;
	r->offset = info.offset;
	r->flags = info.flags;
	return 0;
}

static bool region_mappable(const struct vfio_region *r)
{
	uint64_t page = sysconf(_SC_PAGESIZE);
	uint32_t need = VFIO_REGION_INFO_FLAG_MMAP | VFIO_REGION_INFO_FLAG_READ |
			VFIO_REGION_INFO_FLAG_WRITE;

	/* A read-only or odd-sized region would need a read-only slot: trap it. */
	return (r->flags & need) == need && r->size && IS_ALIGNED(r->size, page) &&
	       IS_ALIGNED(r->offset, page);
}

static int region_map(const struct device_env *env, int fd, unsigned int index,
		      struct vfio_region *r, const char *name, char *err, size_t errlen)
{
	int ret;

	r->map = mmap(NULL, r->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, r->offset);
	if (r->map == MAP_FAILED) {
		ret = -errno;
		r->map = NULL;
		snprintf(err, errlen, "vfio: %s: region %u: mmap: %s", name, index, strerror(-ret));
		return ret;
	}
	ret = env->map_mmio(env->ctx, r->gpa, r->size, r->map);
	if (ret) {
		snprintf(err, errlen, "vfio: %s: region %u: KVM memory slot at 0x%llx: %s", name,
			 index, (unsigned long long)r->gpa, strerror(-ret));
		return ret;
	}
	r->slot = true;
	return 0;
}

int vfio_region_setup(const struct device_env *env, int fd, unsigned int index,
		      struct vfio_region *r, bool may_mmap, const char *name,
		      const char *trap_name, struct device **trap, char *err, size_t errlen)
{
	*trap = NULL;
	if (may_mmap && region_mappable(r))
		return region_map(env, fd, index, r, name, err, errlen);
	*trap = vfio_trap_new(fd, r->offset, index, r->gpa, r->size, trap_name, name);
	if (!*trap) {
		snprintf(err, errlen, "vfio: %s: region %u: out of memory", name, index);
		return -ENOMEM;
	}
	return 0;
}

int vfio_region_release(const struct device_env *env, struct vfio_region *r)
{
	int ret = 0;

	if (r->slot)
		ret = env->map_mmio(env->ctx, r->gpa, r->size, NULL);
	r->slot = false;
	if (r->map)
		munmap(r->map, r->size);
	r->map = NULL;
	return ret;
}
