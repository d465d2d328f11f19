// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-net on a host tap device. The tap is opened with IFF_VNET_HDR and
 * a 12-byte header, which is virtio_net_hdr_v1 itself, so frames move
 * between the guest's buffers and the tap with one readv/writev each. No
 * offloads are offered: the headers stay zero. (Checksum and TSO offloads
 * were built and measured twice: the guest got 5 times fewer frames and
 * took more interrupts, and TCP did not move; see README, Benchmarks.)
 *
 * With vhost=1 the host kernel's vhost-net serves the rings instead, while
 * the device is live and its workers run: the guest's kicks wake the
 * kernel directly, and its "used buffers" signal goes straight to KVM
 * where the queue's interrupt is an MSI-X vector, else to the worker,
 * which raises the transport's interrupt (the ISR bit, INTx).
 * A stop (snapshot, migration's last pause, exit) or a reset takes the
 * rings back, so the device's state is always lvmm's own when saved.
 */
#include "vhost.h"
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
	/* vhost=1 (vhost.h): */
	int vhost_fd;		/* -1: lvmm serves the rings */
	bool vhost_on;		/* the kernel has them now */
	bool vhost_log;		/* and logs its writes to guest RAM */
	int call_fd[2];		/* per queue: the kernel used buffers, for the worker */
	int vhost_call[2];	/* what the kernel signals: call_fd, or straight to KVM */
	unsigned long vhost_signals;	/* passed on by the worker */
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
	have_rx_buffer = !net->vhost_on && virtio_is_live(vdev) &&
			 (net_rx_held(net) || virtq_has_avail(&vdev->vqs[RX_QUEUE]));
	pthread_mutex_unlock(&vdev->lock);
	/* Frames wait in the tap while the guest has no buffer for them. */
	extra[0] = (struct pollfd){ .fd = have_rx_buffer ? net->tap_fd : -1, .events = POLLIN };
	extra[1] = (struct pollfd){ .fd = net->call_fd[RX_QUEUE], .events = POLLIN };
	extra[2] = (struct pollfd){ .fd = net->call_fd[TX_QUEUE], .events = POLLIN };
	return 3;
}

/* The kernel used buffers of queue q: the guest's interrupt (lock held). */
static void net_vhost_signal(struct virtio_net *net, unsigned int q)
{
	struct virtio_dev *vdev = net->vdev;

	if (vdev->vqs[q].ready) {
		net->vhost_signals++;
		virtio_notify_used(vdev, &vdev->vqs[q]);
	}
}

/* A signal of the kernel's on queue q's call eventfd, if one waits: passed on. */
static void net_vhost_pass_on(struct virtio_net *net, unsigned int q)
{
	uint64_t v;

	if (read(net->call_fd[q], &v, sizeof(v)) == sizeof(v))
		net_vhost_signal(net, q);
}

static void net_process(struct virtio_dev *vdev, unsigned int worker, const struct pollfd *extra)
{
	struct virtio_net *net = vdev->priv;

	for (unsigned int q = RX_QUEUE; q <= TX_QUEUE; q++) {
		if (extra[1 + q].revents)
			net_vhost_pass_on(net, q);
	}
	if (net->vhost_on)
		return;		/* the rings are the kernel's */
	net_tx(net);
	net_rx(net);
}

/* A receive buffer taken but not filled goes back to the ring (lock held). */
static void net_rx_give_back(struct virtio_net *net)
{
	if (net_rx_held(net)) {
		/* The last one taken from the live ring: give it back. */
		net->vdev->vqs[RX_QUEUE].last_avail--;
		net->rx_held = false;
	}
}

/*
 * Where the kernel signals queue q: straight to KVM where the transport
 * needs nothing more (an MSI-X vector), else the worker, which raises the
 * transport's interrupt (lock held).
 */
static int net_vhost_call_fd(struct virtio_net *net, unsigned int q)
{
	struct virtio_dev *vdev = net->vdev;
	int fd = vdev->tops->queue_irq_fd ? vdev->tops->queue_irq_fd(vdev, q) : -1;

	return fd >= 0 ? fd : net->call_fd[q];
}

/* Whether the kernel should serve the rings now (lock held). */
static bool net_vhost_wanted(struct virtio_net *net)
{
	struct virtio_dev *vdev = net->vdev;

	return net->vhost_fd >= 0 && vdev->running && virtio_is_live(vdev) &&
	       (vdev->status & VIRTIO_STATUS_FEATURES_OK) && vdev->vqs[RX_QUEUE].ready &&
	       vdev->vqs[TX_QUEUE].ready;
}

static bool net_tracking(struct virtio_net *net)
{
	const struct guest_dirty *d = net->vdev->env.mem.dirty;

	return d && __atomic_load_n(&d->on, __ATOMIC_ACQUIRE);
}

/* The kernel gives up a ring it has; lvmm's queue goes on from where it stopped. */
static int net_vhost_take_back(struct virtio_net *net, unsigned int q)
{
	struct virtio_dev *vdev = net->vdev;
	struct virtq *vq = &vdev->vqs[q];
	uint16_t last_avail;
	uint64_t one = 1;
	int ret;

	ret = vhost_ring_stop(net->vhost_fd, q, &last_avail);
	__atomic_store_n(&vq->kicks_elsewhere, false, __ATOMIC_RELEASE);
	if (ret)
		return ret;
	if (vq->ready) {
		vq->last_avail = last_avail;
		vq->used_idx = __atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE);
	}
	/* The worker waits on the kick again: have it look at the ring. */
	if (write(vq->notify_fd, &one, sizeof(one)) < 0)
		return 0;
	return 0;
}

/*
 * The kernel cannot serve the rings (an ioctl failed): close it, which
 * stops it for good, and serve them here from now on. If it did not say
 * where it stopped, the device breaks rather than guess.
 */
static void net_vhost_give_up(struct virtio_net *net, const char *what, int err, bool lost)
{
	struct virtio_dev *vdev = net->vdev;

	pr_warn("%s: vhost-net: %s: %s; lvmm serves the rings itself from now on", vdev->dev.name,
		what, strerror(-err));
	close(net->vhost_fd);
	net->vhost_fd = -1;
	net->vhost_on = false;
	for (unsigned int q = RX_QUEUE; q <= TX_QUEUE; q++)
		__atomic_store_n(&vdev->vqs[q].kicks_elsewhere, false, __ATOMIC_RELEASE);
	if (lost)
		virtio_set_broken(vdev, "vhost-net kept its rings");
}

static void net_vhost_stop(struct virtio_net *net)
{
	int ret = 0;

	for (unsigned int q = RX_QUEUE; q <= TX_QUEUE; q++)
		ret = net_vhost_take_back(net, q) ?: ret;
	net->vhost_on = false;
	if (ret) {
		net_vhost_give_up(net, "taking the rings back", ret, true);
		return;
	}
	/*
	 * A signal the worker has not passed on yet: a running worker still
	 * will (a stale one finds its queue reset, or costs the guest a
	 * spurious interrupt); a stopped one will not, so it goes on here.
	 */
	for (unsigned int q = RX_QUEUE; q <= TX_QUEUE && !net->vdev->running; q++)
		net_vhost_pass_on(net, q);
}

static void net_vhost_start(struct virtio_net *net)
{
	struct virtio_dev *vdev = net->vdev;
	bool log = net_tracking(net);
	unsigned int q = RX_QUEUE;	/* then one past the last queue handed over */
	int ret;

	/* The kernel takes from the ring's index: a buffer held here goes back first. */
	net_rx_give_back(net);
	ret = vhost_set_features(net->vhost_fd, &vdev->env.mem, log);
	for (; !ret && q <= TX_QUEUE; q++) {
		__atomic_store_n(&vdev->vqs[q].kicks_elsewhere, true, __ATOMIC_RELEASE);
		net->vhost_call[q] = net_vhost_call_fd(net, q);
		ret = vhost_ring_start(net->vhost_fd, q, &vdev->vqs[q], net->vhost_call[q], log,
				       net->tap_fd);
	}
	if (ret) {
		bool lost = false;

		/* A ring that failed half way is taken back too: its index is the one set. */
		while (q-- > RX_QUEUE)
			lost |= net_vhost_take_back(net, q) != 0;
		net_vhost_give_up(net, "handing it the rings", ret, lost);
		return;
	}
	net->vhost_on = true;
	net->vhost_log = log;
}

/* Give the kernel the rings, or take them back, as the device's state says. */
static void net_rings_changed(struct virtio_dev *vdev)
{
	struct virtio_net *net = vdev->priv;
	bool want = net_vhost_wanted(net);

	/* A change of dirty tracking: the kernel's log follows (a restart). */
	if (net->vhost_on && (!want || net->vhost_log != net_tracking(net)))
		net_vhost_stop(net);
	if (want && !net->vhost_on && net->vhost_fd >= 0)
		net_vhost_start(net);
	/* The queue's interrupt moved (a vector, MSI-X on or off): the kernel's signal follows. */
	for (unsigned int q = RX_QUEUE; net->vhost_on && q <= TX_QUEUE; q++) {
		int fd = net_vhost_call_fd(net, q), ret;

		if (fd == net->vhost_call[q])
			continue;
		ret = vhost_ring_call(net->vhost_fd, q, fd);
		if (ret) {
			net_vhost_stop(net);
			if (net->vhost_fd >= 0)
				net_vhost_give_up(net, "moving its interrupt", ret, false);
			break;
		}
		net->vhost_call[q] = fd;
	}
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
	net_rx_give_back(net);
	pthread_mutex_unlock(&vdev->lock);
}

static void net_reset(struct virtio_dev *vdev)
{
	struct virtio_net *net = vdev->priv;

	net->rx_held = false;	/* that buffer belongs to the old queue */
	/* The kernel lets go of the rings before the queues are forgotten. */
	if (net->vhost_on)
		net_vhost_stop(net);
}

/* Whether the kernel signalled queue q straight to KVM, when it last had the ring. */
static bool net_vhost_direct(const struct virtio_net *net, unsigned int q)
{
	return net->vhost_call[q] >= 0 && net->vhost_call[q] != net->call_fd[q];
}

static void net_stats(struct virtio_dev *vdev, char *buf, unsigned int len)
{
	struct virtio_net *net = vdev->priv;

	int n = snprintf(buf, len, " rx_frames=%lu tx_frames=%lu tx_dropped=%lu", net->rx_frames,
			 net->tx_frames, net->tx_dropped);

	/* Frames the kernel moved are not counted here; its signals passed on are. */
	if (net->vhost_fd >= 0 && n > 0 && (unsigned int)n < len)
		n += snprintf(buf + n, len - n, " vhost=1 vhost_signals=%lu vhost_direct=%u",
			      net->vhost_signals,
			      net_vhost_direct(net, RX_QUEUE) + net_vhost_direct(net, TX_QUEUE));

	if (net->backend_ops && n > 0 && (unsigned int)n < len)
		net->backend_ops->stats(net->backend, buf + n, len - n);
}

static void net_free(struct virtio_dev *vdev)
{
	struct virtio_net *net = vdev->priv;

	if (!net)
		return;
	if (net->vhost_fd >= 0)
		close(net->vhost_fd);	/* the kernel stops first: it uses the tap */
	for (unsigned int q = RX_QUEUE; q <= TX_QUEUE; q++)
		if (net->call_fd[q] >= 0)
			close(net->call_fd[q]);
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
	.rings_changed = net_rings_changed,
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

/* The device on an open frame fd, served by the kernel too if vhost_fd >= 0; takes both. */
static int net_create(const char *name, const struct virtio_transport *t, int fd, int vhost_fd,
		      const uint8_t mac[6], const struct device_env *env, struct device **out,
		      char *err, size_t errlen)
{
	struct virtio_net *net = calloc(1, sizeof(*net));
	struct virtio_dev *vdev;
	int ret = -ENOMEM;

	if (!net)
		goto fail;
	net->tap_fd = fd;
	net->vhost_fd = vhost_fd;
	net->call_fd[RX_QUEUE] = net->call_fd[TX_QUEUE] = -1;
	net->vhost_call[RX_QUEUE] = net->vhost_call[TX_QUEUE] = -1;
	memcpy(net->mac, mac, sizeof(net->mac));
	for (unsigned int q = RX_QUEUE; vhost_fd >= 0 && q <= TX_QUEUE; q++) {
		net->call_fd[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (net->call_fd[q] < 0) {
			ret = -errno;
			goto fail;
		}
	}
	ret = virtio_transport_create(name, t, &net_ops, 1ULL << VIRTIO_NET_F_MAC, env, net, &vdev);
	if (ret) {
		snprintf(err, errlen, "%s: creating the transport: %s", name, strerror(-ret));
		goto fail_quiet;
	}
	net->vdev = vdev;
	*out = &vdev->dev;
	return 0;
fail:
	snprintf(err, errlen, "%s: %s", name, strerror(-ret));
fail_quiet:
	if (net) {
		for (unsigned int q = RX_QUEUE; q <= TX_QUEUE; q++)
			if (net->call_fd[q] >= 0)
				close(net->call_fd[q]);
		free(net);
	}
	if (vhost_fd >= 0)
		close(vhost_fd);
	close(fd);
	return ret;
}

/*
 * The device on an already open frame fd (a tap opened with a 12-byte
 * vnet header, or for the tests a datagram socket): it takes the fd.
 */
int virtio_net_create_on_fd(const char *name, const struct virtio_transport *t, int fd,
			    const uint8_t mac[6], const struct device_env *env,
			    struct device **out, char *err, size_t errlen)
{
	return net_create(name, t, fd, -1, mac, env, out, err, errlen);
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
	int vhost_fd = -1;

	if (fd < 0)
		return fd;
	if (opts->vhost) {
		vhost_fd = vhost_net_open(&env->mem, err, errlen);
		if (vhost_fd < 0) {
			close(fd);
			return vhost_fd;
		}
	}
	return net_create(name, t, fd, vhost_fd, opts->mac, env, out, err, errlen);
}
