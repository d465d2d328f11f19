/* SPDX-License-Identifier: GPL-2.0 */
/*
 * User-mode networking (-n mode=user): libslirp on a thread of its own,
 * joined to a virtio-net device by a datagram socket pair. The device sees
 * the pair like a tap opened with a vnet header (one message = a 12-byte
 * virtio_net_hdr_v1 + one Ethernet frame), so virtio-net needs no second
 * backend, and slirp, which is not thread-safe, is touched by one thread.
 *
 * The guest's network is QEMU's and kvmtool's: 10.0.2.0/24, the host (a
 * gateway NATing to the host's own sockets) at 10.0.2.2, DNS at 10.0.2.3,
 * DHCP handing out 10.0.2.15 and up. No privileges are needed.
 */
#ifndef LVMM_DEVICES_NET_USER_H
#define LVMM_DEVICES_NET_USER_H

#include "../../options.h"

#include <stddef.h>

struct usernet;

/*
 * Start the stack for cfg (its hostfwd= forwards listen from now on).
 * *device_fd is the device's end of the pair. Returns 0, or -errno with a
 * message in err (e.g. a forward's host port is taken).
 */
int usernet_create(const struct net_config *cfg, int *device_fd, struct usernet **out,
		   char *err, size_t errlen);

/* Stop the thread and close every connection; un may be NULL. */
void usernet_free(struct usernet *un);

/* One line of counters for --stats. */
void usernet_stats(struct usernet *un, char *buf, unsigned int len);

#endif
