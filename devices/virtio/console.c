// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-console with one port (no MULTIPORT): the guest's hvc0. Output
 * chains are written to stdout as they come; terminal input is read only
 * while the guest has posted receive buffers, so none is dropped.
 */
#include "virtio.h"
#include "../console.h"
#include "../../migration/state.h"
#include "../../util.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define RX_QUEUE 0
#define TX_QUEUE 1

struct virtio_console {
	struct virtio_dev *vdev;
	struct virtio_console_opts opts;
	bool input_eof;
	struct console_escape esc;
	uint8_t pending[512];	/* filtered input not yet in a guest buffer */
	unsigned int n_pending;
	struct virtq_elem elem;
	unsigned long rx_bytes, tx_bytes;
};

/* Guest output: every chain goes to out_fd, whole. Lock held. */
static void console_tx(struct virtio_console *con)
{
	struct virtio_dev *vdev = con->vdev;
	struct virtq *q = &vdev->vqs[TX_QUEUE];
	bool used = false;

	while (virtio_pop(vdev, q, &con->elem)) {
		struct virtq_elem *e = &con->elem;

		for (unsigned int i = 0; i < e->n_out && con->opts.out_fd >= 0; i++)
			write_all(con->opts.out_fd, e->iov[i].iov_base, e->iov[i].iov_len);
		con->tx_bytes += e->out_len;
		used |= virtq_push(q, e, 0);
	}
	if (used)
		virtio_notify_used(vdev, q);
}

/* Move pending input into receive buffers. Lock held. */
static void console_rx(struct virtio_console *con)
{
	struct virtio_dev *vdev = con->vdev;
	struct virtq *q = &vdev->vqs[RX_QUEUE];
	bool used = false;

	while (con->n_pending && virtio_pop(vdev, q, &con->elem)) {
		struct virtq_elem *e = &con->elem;
		size_t n;

		n = iov_from_buf(&e->iov[e->n_out], e->n_in, 0, con->pending, con->n_pending);
		memmove(con->pending, con->pending + n, con->n_pending - n);
		con->n_pending -= n;
		con->rx_bytes += n;
		used |= virtq_push(q, e, n);
	}
	if (used)
		virtio_notify_used(vdev, q);
}

static bool console_read_input(struct virtio_console *con)
{
	uint8_t buf[sizeof(con->pending) / 2];
	/* The filter can turn n bytes into n + 1. */
	size_t room = (sizeof(con->pending) - con->n_pending - 1) / 2;
	bool quit = false;
	ssize_t n;

	if (!room)
		return false;
	n = read(con->opts.in_fd, buf, MIN(room, sizeof(buf)));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return false;
	if (n <= 0) {
		con->input_eof = true;
		return false;
	}
	if (con->opts.escape) {
		con->n_pending += console_filter(&con->esc, buf, n, con->pending + con->n_pending,
						 &quit);
	} else {
		memcpy(con->pending + con->n_pending, buf, n);
		con->n_pending += n;
	}
	return quit;
}

static unsigned int console_poll_fds(struct virtio_dev *vdev, struct pollfd *extra)
{
	struct virtio_console *con = vdev->priv;
	/* Read the terminal only when there is room to keep what we read. */
	bool want_input = con->opts.in_fd >= 0 && !con->input_eof &&
			  con->n_pending < sizeof(con->pending) / 2;

	extra[0] = (struct pollfd){ .fd = want_input ? con->opts.in_fd : -1, .events = POLLIN };
	return 1;
}

static void console_process(struct virtio_dev *vdev, const struct pollfd *extra)
{
	struct virtio_console *con = vdev->priv;
	bool quit = extra[0].revents && console_read_input(con);

	console_tx(con);
	console_rx(con);
	if (quit && con->opts.on_quit) {
		con->opts.on_quit(con->opts.quit_ctx);
		con->input_eof = true;
	}
}

static void console_config_read(struct virtio_dev *vdev, uint64_t off, void *data,
				unsigned int len)
{
	memset(data, 0, len);	/* no size, one port */
}

static void console_stats(struct virtio_dev *vdev, char *buf, unsigned int len)
{
	struct virtio_console *con = vdev->priv;

	snprintf(buf, len, " rx_bytes=%lu tx_bytes=%lu", con->rx_bytes, con->tx_bytes);
}

static void console_free(struct virtio_dev *vdev)
{
	struct virtio_console *con = vdev->priv;

	free(con);
	vdev->priv = NULL;
}

static void console_save(struct virtio_dev *vdev, struct state_writer *w)
{
	struct virtio_console *con = vdev->priv;

	/* Typed input the guest has not received yet. */
	sw_put(w, VIRTIO_KEY_DEVICE, con->pending, con->n_pending);
}

static int console_restore(struct virtio_dev *vdev, const struct state_section *s, char *err,
			   unsigned int errlen)
{
	struct virtio_console *con = vdev->priv;
	uint32_t len;
	const void *p = ss_get(s, VIRTIO_KEY_DEVICE, &len);

	if (!p || len > sizeof(con->pending)) {
		snprintf(err, errlen, "%s: bad pending input in snapshot", vdev->dev.name);
		return -EINVAL;
	}
	memcpy(con->pending, p, len);
	con->n_pending = len;
	return 0;
}

static const struct virtio_ops console_ops = {
	.save = console_save,
	.restore = console_restore,
	.kind = "virtio-console",
	.device_id = VIRTIO_ID_CONSOLE,
	.nr_queues = 2,
	.queue_max = 64,
	.config_read = console_config_read,
	.poll_fds = console_poll_fds,
	.process = console_process,
	.free = console_free,
	.stats = console_stats,
};

struct device *virtio_console_create(const char *name, uint64_t base, unsigned int intid,
				     const struct virtio_console_opts *opts,
				     const struct device_env *env, int *err)
{
	struct virtio_console *con = calloc(1, sizeof(*con));
	struct virtio_dev *vdev;

	if (!con) {
		*err = -ENOMEM;
		return NULL;
	}
	con->opts = *opts;
	vdev = virtio_mmio_create(name, base, intid, &console_ops, 0, env, con, err);
	if (!vdev) {
		free(con);
		return NULL;
	}
	con->vdev = vdev;
	return &vdev->dev;
}
