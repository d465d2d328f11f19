// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-net on a host tap device. The tap is opened with IFF_VNET_HDR and
 * a 12-byte header, which is virtio_net_hdr_v1 itself, so frames move
 * between the guest's buffers and the tap with one readv/writev each. No
 * offloads are offered: the headers stay zero.
 */
#include "virtio.h"
#include "../../util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define VIRTIO_NET_F_MAC	5
#define VNET_HDR_LEN		12	/* struct virtio_net_hdr_v1 */
#define NUM_BUFFERS_OFFSET	10

#define RX_QUEUE 0
#define TX_QUEUE 1

struct virtio_net {
	struct virtio_dev *vdev;
	uint8_t mac[6];
	int tap_fd;
	struct virtq_elem rx_elem;	/* popped, waiting for a frame */
	bool rx_held;
	struct virtq_elem tx_elem;
	unsigned long rx_frames, tx_frames, tx_dropped;
	/* What serves the far end of tap_fd when it is not a tap (user mode). */
	void *backend;
	const struct virtio_net_backend_ops *backend_ops;
};

static void net_config_read(struct virtio_dev *vdev, uint64_t off, void *data, unsigned int len)
{
	struct virtio_net *net = vdev->priv;

	memset(data, 0, len);
	if (off < sizeof(net->mac))
		memcpy(data, net->mac + off, MIN((uint64_t)len, sizeof(net->mac) - off));
}

static void net_tx(struct virtio_net *net)
{
	struct virtio_dev *vdev = net->vdev;
	struct virtq *q = &vdev->vqs[TX_QUEUE];
	struct virtq_elem *e = &net->tx_elem;
	bool used = false;

	while (virtio_pop(vdev, q, e)) {
		if (e->out_len < VNET_HDR_LEN || writev(net->tap_fd, e->iov, e->n_out) < 0)
			net->tx_dropped++;	/* a full tap queue drops, like a wire */
		else
			net->tx_frames++;
		used |= virtq_push(q, e, 0);
	}
	if (used)
		virtio_notify_used(vdev, q);
}

/*
 * The held receive buffer, if it is still from the queue's live ring: one
 * the driver gave up (QueueReady 0, reset, broken device) is dropped here,
 * never filled nor pushed. Lock held.
 */
static bool net_rx_held(struct virtio_net *net)
{
	if (net->rx_held && !virtq_elem_live(&net->vdev->vqs[RX_QUEUE], &net->rx_elem))
		net->rx_held = false;
	return net->rx_held;
}

/* Move frames from the tap into receive buffers, until either runs out. */
static void net_rx(struct virtio_net *net)
{
	struct virtio_dev *vdev = net->vdev;
	struct virtq *q = &vdev->vqs[RX_QUEUE];
	struct virtq_elem *e = &net->rx_elem;
	uint16_t one = 1;
	bool used = false;

	while (virtio_is_live(vdev)) {
		ssize_t n;

		if (!net_rx_held(net)) {
			if (!virtio_pop(vdev, q, e))
				break;
			if (e->in_len < VNET_HDR_LEN) {
				used |= virtq_push(q, e, 0);
				continue;
			}
			net->rx_held = true;
		}
		n = readv(net->tap_fd, &e->iov[e->n_out], e->n_in);
		if (n < 0)
			break;	/* EAGAIN: keep the buffer for the next frame */
		/* Without MRG_RXBUF every frame is in one buffer chain. */
		iov_from_buf(&e->iov[e->n_out], e->n_in, NUM_BUFFERS_OFFSET, &one, sizeof(one));
		used |= virtq_push(q, e, n);
		net->rx_held = false;
		net->rx_frames++;
	}
	if (used)
		virtio_notify_used(vdev, q);
}

static unsigned int net_poll_fds(struct virtio_dev *vdev, unsigned int worker, struct pollfd *extra)
{
	struct virtio_net *net = vdev->priv;
	bool have_rx_buffer;

	pthread_mutex_lock(&vdev->lock);
	have_rx_buffer = virtio_is_live(vdev) &&
			 (net_rx_held(net) || virtq_has_avail(&vdev->vqs[RX_QUEUE]));
	pthread_mutex_unlock(&vdev->lock);
	/* Frames wait in the tap while the guest has no buffer for them. */
	extra[0] = (struct pollfd){ .fd = have_rx_buffer ? net->tap_fd : -1, .events = POLLIN };
	return 1;
}

static void net_process(struct virtio_dev *vdev, unsigned int worker, const struct pollfd *extra)
{
	struct virtio_net *net = vdev->priv;

	net_tx(net);
	net_rx(net);
}

static void net_stopped(struct virtio_dev *vdev)
{
	struct virtio_net *net = vdev->priv;

	/*
	 * A receive buffer taken but not filled goes back to the ring, so a
	 * snapshot taken now does not lose it. One from a ring the driver has
	 * given up is dropped instead: stepping the new ring's index back
	 * would hand the device a stale slot.
	 */
	pthread_mutex_lock(&vdev->lock);
	if (net_rx_held(net)) {
		/* The last one taken from the live ring: give it back. */
		vdev->vqs[RX_QUEUE].last_avail--;
		net->rx_held = false;
	}
	pthread_mutex_unlock(&vdev->lock);
}

static void net_reset(struct virtio_dev *vdev)
{
	struct virtio_net *net = vdev->priv;

	net->rx_held = false;	/* that buffer belongs to the old queue */
}

static void net_stats(struct virtio_dev *vdev, char *buf, unsigned int len)
{
	struct virtio_net *net = vdev->priv;

	int n = snprintf(buf, len, " rx_frames=%lu tx_frames=%lu tx_dropped=%lu", net->rx_frames,
			 net->tx_frames, net->tx_dropped);

	if (net->backend_ops && n > 0 && (unsigned int)n < len)
		net->backend_ops->stats(net->backend, buf + n, len - n);
}

static void net_free(struct virtio_dev *vdev)
{
	struct virtio_net *net = vdev->priv;

	if (!net)
		return;
	if (net->tap_fd >= 0)
		close(net->tap_fd);
	if (net->backend_ops)
		net->backend_ops->free(net->backend);
	free(net);
	vdev->priv = NULL;
}

static const struct virtio_ops net_ops = {
	.kind = "virtio-net",
	.device_id = VIRTIO_ID_NET,
	.nr_queues = 2,
	.queue_max = 256,
	.config_read = net_config_read,
	.poll_fds = net_poll_fds,
	.process = net_process,
	.stopped = net_stopped,
	.reset = net_reset,
	.free = net_free,
	.stats = net_stats,
};

/* Open the tap with the vnet header; the fd, or -errno with a message. */
static int tap_open(const char *ifname, char *err, size_t errlen)
{
	struct ifreq ifr = { 0 };
	int hdr_len = VNET_HDR_LEN;
	int fd, ret;

	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "network: /dev/net/tun: %s", strerror(-ret));
		return ret;
	}
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		ret = -errno;
		if (ret == -EPERM)
			snprintf(err, errlen,
				 "network: tap '%s': %s (create it beforehand with 'ip tuntap add %s mode tap user USER', or run as root)",
				 ifname, strerror(-ret), ifname);
		else
			snprintf(err, errlen, "network: tap '%s': %s", ifname, strerror(-ret));
		close(fd);
		return ret;
	}
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr_len) < 0 || ioctl(fd, TUNSETOFFLOAD, 0) < 0) {
		ret = -errno;
		snprintf(err, errlen, "network: tap '%s': setting the vnet header: %s", ifname,
			 strerror(-ret));
		close(fd);
		return ret;
	}
	return fd;
}

/*
 * The device on an already open frame fd (a tap opened with a 12-byte
 * vnet header, or for the tests a datagram socket): it takes the fd.
 */
int virtio_net_create_on_fd(const char *name, const struct virtio_transport *t, int fd,
			    const uint8_t mac[6], const struct device_env *env,
			    struct device **out, char *err, size_t errlen)
{
	struct virtio_net *net = calloc(1, sizeof(*net));
	struct virtio_dev *vdev;
	int ret;

	if (!net) {
		close(fd);
		snprintf(err, errlen, "%s: out of memory", name);
		return -ENOMEM;
	}
	net->tap_fd = fd;
	memcpy(net->mac, mac, sizeof(net->mac));
	ret = virtio_transport_create(name, t, &net_ops, 1ULL << VIRTIO_NET_F_MAC, env, net, &vdev);
	if (ret) {
		close(fd);
		free(net);
		snprintf(err, errlen, "%s: creating the transport: %s", name, strerror(-ret));
		return ret;
	}
	net->vdev = vdev;
	*out = &vdev->dev;
	return 0;
}

void virtio_net_set_backend(struct device *dev, void *backend,
			    const struct virtio_net_backend_ops *ops)
{
	struct virtio_net *net = virtio_of(dev)->priv;

	net->backend = backend;
	net->backend_ops = ops;
}

int virtio_net_create(const char *name, const struct virtio_transport *t,
		      const struct virtio_net_opts *opts, const struct device_env *env,
		      struct device **out, char *err, size_t errlen)
{
	int fd = tap_open(opts->tapif, err, errlen);	/* the message names the tap */

	if (fd < 0)
		return fd;
	return virtio_net_create_on_fd(name, t, fd, opts->mac, env, out, err, errlen);
}
