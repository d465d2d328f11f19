// SPDX-License-Identifier: GPL-2.0
/* The kernel's vhost-net, behind virtio-net's vhost=1 (vhost.h). */
#include "vhost.h"
#include "../../util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/vhost.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* The kernel's dirty log has a bit per 4 KiB page (VHOST_PAGE_SIZE). */
#define VHOST_LOG_PAGE_SHIFT 12

/*
 * Where the kernel's log starts: it sets bit gpa / 4 KiB from there, and
 * lvmm's bitmap starts at guest RAM's first page (vhost_net_open checked
 * that RAM starts on a byte of the bitmap and pages are 4 KiB).
 */
static uint64_t log_base(const struct guest_mem *mem)
{
	return (uint64_t)(uintptr_t)mem->dirty->bits - ((mem->gpa >> VHOST_LOG_PAGE_SHIFT) / 8);
}

int vhost_net_open(const struct guest_mem *mem, char *err, size_t errlen)
{
	/* One region, guest RAM (the table ends in a flexible array). */
	union {
		struct vhost_memory m;
		char bytes[sizeof(struct vhost_memory) + sizeof(struct vhost_memory_region)];
	} table = { .m.nregions = 1 };
	uint64_t features = 0;
	const uint64_t need = (1ULL << VIRTIO_F_VERSION_1) | (1ULL << VHOST_F_LOG_ALL);
	int fd, ret;

	/* Its dirty log (snapshots, migration) must line up with lvmm's bitmap. */
	if (sysconf(_SC_PAGESIZE) != 1 << VHOST_LOG_PAGE_SHIFT ||
	    (mem->gpa >> VHOST_LOG_PAGE_SHIFT) % 8) {
		snprintf(err, errlen,
			 "vhost=1 needs 4 KiB host pages (the kernel's dirty log counts 4 KiB pages)");
		return -EINVAL;
	}
	table.m.regions[0] = (struct vhost_memory_region){
		.guest_phys_addr = mem->gpa, .memory_size = mem->size,
		.userspace_addr = (uint64_t)(uintptr_t)mem->host,
	};
	fd = open("/dev/vhost-net", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "vhost=1: /dev/vhost-net: %s%s", strerror(-ret),
			 ret == -ENOENT ? " (the host kernel needs CONFIG_VHOST_NET: modprobe vhost_net)" : "");
		return ret;
	}
	if (ioctl(fd, VHOST_SET_OWNER) < 0 || ioctl(fd, VHOST_GET_FEATURES, &features) < 0) {
		ret = -errno;
		snprintf(err, errlen, "vhost=1: /dev/vhost-net: %s", strerror(-ret));
		close(fd);
		return ret;
	}
	if ((features & need) != need) {
		snprintf(err, errlen,
			 "vhost=1: the host's vhost-net lacks virtio 1.0 or dirty logging (features 0x%llx)",
			 (unsigned long long)features);
		close(fd);
		return -EOPNOTSUPP;
	}
	if (ioctl(fd, VHOST_SET_MEM_TABLE, &table) < 0) {
		ret = -errno;
		snprintf(err, errlen, "vhost=1: giving vhost-net guest RAM: %s", strerror(-ret));
		close(fd);
		return ret;
	}
	return fd;
}

int vhost_set_features(int fd, const struct guest_mem *mem, bool log)
{
	/*
	 * virtio 1.0 is all the device offers that the kernel acts on: its
	 * header is then 12 bytes, which the tap adds and strips itself.
	 */
	uint64_t features = 1ULL << VIRTIO_F_VERSION_1;

	if (log) {
		uint64_t base;

		if (!mem->dirty || !mem->dirty->bits)
			return -EINVAL;
		base = log_base(mem);
		if (ioctl(fd, VHOST_SET_LOG_BASE, &base) < 0)
			return -errno;
		features |= 1ULL << VHOST_F_LOG_ALL;
	}
	return ioctl(fd, VHOST_SET_FEATURES, &features) < 0 ? -errno : 0;
}

int vhost_ring_start(int fd, unsigned int idx, const struct virtq *q, int call_fd, bool log,
		     int backend_fd)
{
	struct vhost_vring_state num = { .index = idx, .num = q->size };
	struct vhost_vring_state base = { .index = idx, .num = q->last_avail };
	struct vhost_vring_addr addr = {
		.index = idx,
		.flags = log ? 1U << VHOST_VRING_F_LOG : 0,
		.desc_user_addr = (uint64_t)(uintptr_t)q->desc,
		.avail_user_addr = (uint64_t)(uintptr_t)q->avail,
		.used_user_addr = (uint64_t)(uintptr_t)q->used,
		.log_guest_addr = q->used_gpa,
	};
	struct vhost_vring_file kick = { .index = idx, .fd = q->notify_fd };
	struct vhost_vring_file call = { .index = idx, .fd = call_fd };
	struct vhost_vring_file backend = { .index = idx, .fd = backend_fd };

	if (ioctl(fd, VHOST_SET_VRING_NUM, &num) < 0 || ioctl(fd, VHOST_SET_VRING_BASE, &base) < 0 ||
	    ioctl(fd, VHOST_SET_VRING_ADDR, &addr) < 0 || ioctl(fd, VHOST_SET_VRING_KICK, &kick) < 0 ||
	    ioctl(fd, VHOST_SET_VRING_CALL, &call) < 0 ||
	    ioctl(fd, VHOST_NET_SET_BACKEND, &backend) < 0)
		return -errno;
	return 0;
}

int vhost_ring_call(int fd, unsigned int idx, int call_fd)
{
	struct vhost_vring_file call = { .index = idx, .fd = call_fd };

	return ioctl(fd, VHOST_SET_VRING_CALL, &call) < 0 ? -errno : 0;
}

int vhost_ring_stop(int fd, unsigned int idx, uint16_t *last_avail)
{
	struct vhost_vring_file backend = { .index = idx, .fd = VHOST_FILE_UNBIND };
	struct vhost_vring_file kick = { .index = idx, .fd = VHOST_FILE_UNBIND };
	struct vhost_vring_state base = { .index = idx };

	/*
	 * No backend, the ring is idle: then its index can be read. The kick
	 * goes too, or the kernel would wake for kicks lvmm serves now.
	 */
	if (ioctl(fd, VHOST_NET_SET_BACKEND, &backend) < 0 ||
	    ioctl(fd, VHOST_GET_VRING_BASE, &base) < 0 || ioctl(fd, VHOST_SET_VRING_KICK, &kick) < 0)
		return -errno;
	*last_avail = (uint16_t)base.num;
	return 0;
}
