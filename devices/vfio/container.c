// SPDX-License-Identifier: GPL-2.0
/*
 * VFIO containers and groups, shared by the VFIO devices of one VM: one
 * container per IOMMU kind (type1 and no-IOMMU groups cannot share a
 * container), each group opened once however many of its devices are
 * passed through, its viability checked with the reason when it is not,
 * and guest RAM mapped for DMA (at its guest address as IOVA) when a
 * type1 container gets its IOMMU. Nothing here knows the device's bus.
 */
#include "internal.h"
#include "../../util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

struct vfio_container {
	int fd;
	bool iommu_set;
};

struct vfio_group {
	int id;
	bool noiommu;
	int fd;
	struct vfio_group *next;
};

struct vfio_containers {
	unsigned int refs;
	struct vfio_container containers[2];	/* [0] type1, [1] no-IOMMU */
	struct vfio_group *groups;
	struct guest_mem mem;
	const char *root;
};

int vfio_containers_new(const char *root, const struct guest_mem *mem,
			struct vfio_containers **out, char *err, size_t errlen)
{
	struct vfio_containers *cs = calloc(1, sizeof(*cs));

	if (!cs) {
		snprintf(err, errlen, "vfio: out of memory");
		return -ENOMEM;
	}
	cs->refs = 1;
	cs->containers[0].fd = cs->containers[1].fd = -1;
	cs->mem = *mem;
	cs->root = root;
	*out = cs;
	return 0;
}

struct vfio_containers *vfio_containers_get(struct vfio_containers *cs)
{
	cs->refs++;
	return cs;
}

void vfio_containers_put(struct vfio_containers *cs)
{
	if (--cs->refs)
		return;
	/* Groups leave their container when closed; then the containers go. */
	while (cs->groups) {
		struct vfio_group *g = cs->groups;

		cs->groups = g->next;
		close(g->fd);
		free(g);
	}
	for (unsigned int i = 0; i < ARRAY_SIZE(cs->containers); i++)
		if (cs->containers[i].fd >= 0)
			close(cs->containers[i].fd);
	free(cs);
}

static int container_open(struct vfio_containers *cs, const struct vfio_host_dev *hd,
			  struct vfio_container *c, char *err, size_t errlen)
{
	char path[PATH_MAX];
	int ret;

	if (c->fd >= 0)
		return 0;
	snprintf(path, sizeof(path), "%s/dev/vfio/vfio", cs->root);
	c->fd = open(path, O_RDWR | O_CLOEXEC);
	if (c->fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "vfio: %s: cannot open %s: %s", hd->name, path,
			 strerror(-ret));
		return ret;
	}
	if (ioctl(c->fd, VFIO_GET_API_VERSION) != VFIO_API_VERSION) {
		snprintf(err, errlen, "vfio: %s: %s has an API version lvmm does not know",
			 hd->name, path);
		return -ENOTSUP;
	}
	return 0;
}

/* The IOMMU model for a container: no-IOMMU, or type1 (v2 preferred). */
static int container_iommu_type(const struct vfio_host_dev *hd, struct vfio_container *c,
				char *err, size_t errlen)
{
	if (hd->noiommu) {
		if (ioctl(c->fd, VFIO_CHECK_EXTENSION, VFIO_NOIOMMU_IOMMU) > 0)
			return VFIO_NOIOMMU_IOMMU;
		snprintf(err, errlen, "vfio: %s: its group is a no-IOMMU group, but no-IOMMU mode is not enabled (echo Y > /sys/module/vfio/parameters/enable_unsafe_noiommu_mode, or boot with vfio.enable_unsafe_noiommu_mode=1)",
			 hd->name);
		return -EPERM;
	}
	if (ioctl(c->fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) > 0)
		return VFIO_TYPE1v2_IOMMU;
	if (ioctl(c->fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU) > 0)
		return VFIO_TYPE1_IOMMU;
	snprintf(err, errlen, "vfio: %s: the host's VFIO offers no type1 IOMMU driver (is vfio_iommu_type1 loaded?)",
		 hd->name);
	return -ENOTSUP;
}

/* Guest RAM at its guest address as IOVA: the device may DMA to the guest. */
static int container_map_ram(const struct vfio_host_dev *hd, struct vfio_container *c,
			     const struct guest_mem *mem, char *err, size_t errlen)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uint64_t)(uintptr_t)mem->host,
		.iova = mem->gpa,
		.size = mem->size,
	};
	int ret;

	if (ioctl(c->fd, VFIO_IOMMU_MAP_DMA, &map) < 0) {
		ret = -errno;
		snprintf(err, errlen, "vfio: %s: mapping guest RAM for DMA (VFIO_IOMMU_MAP_DMA): %s",
			 hd->name, strerror(-ret));
		return ret;
	}
	return 0;
}

/* Set the container's IOMMU model, once; then guest RAM for type1. */
static int container_set_iommu(const struct vfio_containers *cs, const struct vfio_host_dev *hd,
			       struct vfio_container *c, int type, char *err, size_t errlen)
{
	int ret;

	if (c->iommu_set)
		return 0;
	if (ioctl(c->fd, VFIO_SET_IOMMU, type) < 0) {
		ret = -errno;
		if (ret == -EPERM && type != VFIO_NOIOMMU_IOMMU)
			/* vfio_iommu_type1 wants MSIs isolated (an ITS) unless told otherwise. */
			snprintf(err, errlen, "vfio: %s: VFIO_SET_IOMMU: the host cannot isolate the device's MSIs (no interrupt remapping, e.g. a GICv2 or no ITS), so VFIO refuses it; to accept that risk: echo 1 > /sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts (or boot with vfio_iommu_type1.allow_unsafe_interrupts=1)",
				 hd->name);
		else
			snprintf(err, errlen, "vfio: %s: VFIO_SET_IOMMU: %s", hd->name, strerror(-ret));
		return ret;
	}
	c->iommu_set = true;
	/* No DMA without an IOMMU; type1 needs guest RAM mapped. */
	if (type == VFIO_NOIOMMU_IOMMU)
		return 0;
	return container_map_ram(hd, c, &cs->mem, err, errlen);
}

static int group_open_fd(const struct vfio_host_dev *hd, char *err, size_t errlen)
{
	const char *dev = hd->group_dev;
	int fd, ret;

	fd = open(dev, O_RDWR | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	ret = -errno;
	if (ret == -ENOENT)
		snprintf(err, errlen, "vfio: %s: %s does not exist (IOMMU group %d has no VFIO group device)",
			 hd->name, dev, hd->group);
	else if (ret == -EACCES && hd->noiommu)
		snprintf(err, errlen, "vfio: %s: no permission to open %s (run as root: no-IOMMU groups also need CAP_SYS_RAWIO)",
			 hd->name, dev);
	else if (ret == -EACCES)
		snprintf(err, errlen, "vfio: %s: no permission to open %s (run as root, or give this user the group: chown USER %s)",
			 hd->name, dev, dev);
	else if (ret == -EPERM && hd->noiommu)
		snprintf(err, errlen, "vfio: %s: no permission to open %s: no-IOMMU groups need CAP_SYS_RAWIO (run as root)",
			 hd->name, dev);
	else if (ret == -EBUSY)
		snprintf(err, errlen, "vfio: %s: %s is in use by another process", hd->name, dev);
	else
		snprintf(err, errlen, "vfio: %s: cannot open %s: %s", hd->name, dev, strerror(-ret));
	return ret;
}

static int group_check_viable(const struct vfio_host_dev *hd, int fd, char *err, size_t errlen)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	char others[512];
	int ret;

	if (ioctl(fd, VFIO_GROUP_GET_STATUS, &status) < 0) {
		ret = -errno;
		snprintf(err, errlen, "vfio: %s: VFIO_GROUP_GET_STATUS: %s", hd->name,
			 strerror(-ret));
		return ret;
	}
	if (status.flags & VFIO_GROUP_FLAGS_VIABLE)
		return 0;
	if (vfio_group_blockers(hd, others, sizeof(others)))
		snprintf(err, errlen, "vfio: %s: IOMMU group %d is not viable: other devices in it are bound to host drivers: %s; bind them to a VFIO driver too, or unbind them",
			 hd->name, hd->group, others);
	else
		snprintf(err, errlen, "vfio: %s: IOMMU group %d is not viable: another device in it is in use by the host",
			 hd->name, hd->group);
	return -EBUSY;
}

/* The group of hd in its container, opened once per VM. */
static int group_get(struct vfio_containers *cs, const struct vfio_host_dev *hd,
		     struct vfio_group **out, char *err, size_t errlen)
{
	struct vfio_container *c = &cs->containers[hd->noiommu];
	struct vfio_group *g;
	int ret, type;

	for (g = cs->groups; g; g = g->next) {
		if (g->id == hd->group && g->noiommu == hd->noiommu) {
			*out = g;
			return 0;
		}
	}
	ret = group_open_fd(hd, err, errlen);
	if (ret < 0)
		return ret;
	g = calloc(1, sizeof(*g));
	if (!g) {
		close(ret);
		snprintf(err, errlen, "vfio: %s: out of memory", hd->name);
		return -ENOMEM;
	}
	*g = (struct vfio_group){ .id = hd->group, .noiommu = hd->noiommu, .fd = ret };
	g->next = cs->groups;
	cs->groups = g;

	ret = group_check_viable(hd, g->fd, err, errlen);
	ret = ret ?: container_open(cs, hd, c, err, errlen);
	if (ret)
		return ret;
	type = container_iommu_type(hd, c, err, errlen);
	if (type < 0)
		return type;
	if (ioctl(g->fd, VFIO_GROUP_SET_CONTAINER, &c->fd) < 0) {
		ret = -errno;
		if (ret == -EPERM && hd->noiommu)
			snprintf(err, errlen, "vfio: %s: no-IOMMU groups need CAP_SYS_RAWIO (run as root)",
				 hd->name);
		else
			snprintf(err, errlen, "vfio: %s: VFIO_GROUP_SET_CONTAINER: %s", hd->name,
				 strerror(-ret));
		return ret;
	}
	ret = container_set_iommu(cs, hd, c, type, err, errlen);
	if (ret)
		return ret;
	*out = g;
	return 0;
}

int vfio_device_open(struct vfio_containers *cs, const struct vfio_host_dev *hd, int *fd,
		     struct vfio_device_info *info, char *err, size_t errlen)
{
	struct vfio_group *g = NULL;
	int ret;

	ret = group_get(cs, hd, &g, err, errlen);
	if (ret)
		return ret;
	*fd = ioctl(g->fd, VFIO_GROUP_GET_DEVICE_FD, hd->name);
	if (*fd < 0) {
		ret = -errno;
		if (ret == -EBUSY)
			snprintf(err, errlen, "vfio: %s: already in use (another VMM has it open)",
				 hd->name);
		else
			snprintf(err, errlen, "vfio: %s: VFIO_GROUP_GET_DEVICE_FD: %s", hd->name,
				 strerror(-ret));
		return ret;
	}
	*info = (struct vfio_device_info){ .argsz = sizeof(*info) };
	if (ioctl(*fd, VFIO_DEVICE_GET_INFO, info) < 0) {
		ret = -errno;
		snprintf(err, errlen, "vfio: %s: VFIO_DEVICE_GET_INFO: %s", hd->name, strerror(-ret));
		return ret;
	}
	return 0;
}
