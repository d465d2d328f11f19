// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-net (devices/virtio/net.c) through the virtio-mmio transport, as
 * virtio_harness.h drives it. The tap is one end of a datagram socketpair:
 * one frame per read and per write, as on a tap. Host events: a frame of
 * the script's bytes arrives (VH_BACKEND), a 64-byte frame per VH_LOOP
 * round; what the guest transmits is read and dropped.
 */
#include "virtio_harness.h"

#include <sys/socket.h>

#define NET_FRAME_MAX 1600

static struct device *net_fz_create(struct vh *h, int *err)
{
	static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
	int fd = dup(h->fds[1]);
	struct device *dev = NULL;
	char msg[256];

	if (fd < 0) {
		*err = -1;
		return NULL;
	}
	*err = virtio_net_create_on_fd("virtio-net0", &(struct virtio_transport){ .base = VH_MMIO_BASE, .intid = VH_INTID }, fd, mac,
				       &h->env, &dev, msg, sizeof(msg));
	return *err ? NULL : dev;
}

static void net_fz_begin(struct vh *h)
{
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, h->fds) < 0)
		vh_die("socketpair");
}

static void net_fz_end(struct vh *h)
{
	close(h->fds[0]);
	close(h->fds[1]);
	h->fds[0] = h->fds[1] = -1;
}

static void net_fz_send(struct vh *h, const void *frame, size_t len)
{
	if (send(h->fds[0], frame, len, MSG_DONTWAIT) < 0)
		return;	/* the "tap" is full: the frame is lost, as on a wire */
}

static void net_fz_backend(struct vh *h, struct fz *f)
{
	uint8_t frame[NET_FRAME_MAX];
	size_t len = fz_u16(f) % NET_FRAME_MAX;

	fz_bytes(f, frame, len);
	net_fz_send(h, frame, len);
}

static void net_fz_tick(struct vh *h)
{
	uint8_t frame[64] = { [12] = 0xff, [13] = 0xff, [14] = 0xff };

	net_fz_send(h, frame, sizeof(frame));
}

static void net_fz_drain(struct vh *h)
{
	uint8_t frame[NET_FRAME_MAX];

	while (recv(h->fds[0], frame, sizeof(frame), MSG_DONTWAIT) >= 0)
		;
}

static const struct vh_device net_fz = {
	.create = net_fz_create,
	.begin = net_fz_begin,
	.end = net_fz_end,
	.backend = net_fz_backend,
	.tick = net_fz_tick,
	.drain = net_fz_drain,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return vh_run(&net_fz, data, size);
}
