/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel's vhost-net (/dev/vhost-net), behind virtio-net's vhost=1:
 * the host kernel serves the rings itself, woken by a queue's notify
 * eventfd (the guest's kick, an ioeventfd) and signalling a call eventfd
 * when it used buffers. Thin wrappers over its ioctls
 * (include/uapi/linux/vhost.h); net.c decides when the rings are the
 * kernel's and when lvmm's.
 */
#ifndef LVMM_VIRTIO_VHOST_H
#define LVMM_VIRTIO_VHOST_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include "virtio.h"

/*
 * Open /dev/vhost-net for guest RAM mem: owner, features checked, memory
 * table set. The fd, or -errno with a message in err.
 */
int vhost_net_open(const struct guest_mem *mem, char *err, size_t errlen);

/*
 * The features the kernel acts on (the driver's VERSION_1), and its dirty
 * log: with log on, every page it writes is set in mem's dirty bitmap (the
 * one migrations and diff snapshots harvest, kvm/dirty.c). 0 or -errno.
 */
int vhost_set_features(int fd, const struct guest_mem *mem, bool log);

/* Hand queue idx's live ring to the kernel, served from backend_fd. 0 or -errno. */
int vhost_ring_start(int fd, unsigned int idx, const struct virtq *q, int call_fd, bool log,
		     int backend_fd);
/* Where the kernel signals queue idx's used buffers from now on. 0 or -errno. */
int vhost_ring_call(int fd, unsigned int idx, int call_fd);
/* Take it back: the kernel stops; *last_avail is the next entry it would have taken. */
int vhost_ring_stop(int fd, unsigned int idx, uint16_t *last_avail);

#endif
