// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-console with one port (no MULTIPORT): the guest's hvc0. Terminal
 * input is read only while the guest has posted receive buffers, so none
 * is dropped.
 *
 * Output chains are copied into the console's output buffer (console.c),
 * which a thread of its own writes to stdout: the worker never waits for
 * the host. When the buffer is full, the chain being copied stays with
 * the device and is not returned to the guest until all of it is in the
 * buffer: the guest waits (Linux's hvc driver spins for it), nothing is
 * lost. For a snapshot such a chain goes back to the ring and the count of
 * its bytes already taken is saved, with the buffer's unwritten bytes.
 */
#include "virtio.h"
#include "../console.h"
#include "../../state/state.h"
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

/* Wake the worker when the output buffer has this much room again. */
#define CONSOLE_OUT_MARK 4096

enum { KEY_INPUT = VIRTIO_KEY_DEVICE, KEY_OUTPUT, KEY_TX_TAKEN };

struct virtio_console {
	struct virtio_dev *vdev;
	struct virtio_console_opts opts;
	bool input_eof;
	struct console_escape esc;
	uint8_t pending[512];	/* filtered input not yet in a guest buffer */
	unsigned int n_pending;
	struct virtq_elem elem;
	unsigned long rx_bytes, tx_bytes;

	struct console_out out;
	int space_efd;		/* the writer made room */
	struct virtq_elem tx_elem;
	bool tx_held;		/* tx_elem is popped, not all of it taken */
	uint32_t tx_taken;	/* bytes of the current chain in the buffer */
};

/* Guest output: chains go into the output buffer, whole. Lock held. */
/*
 * Whether a transmit chain is held from the live ring. One from a ring the
 * driver has since disabled is forgotten: it must neither be pushed nor be
 * given back to the new ring (stepping its index back would hand the
 * device a stale slot).
 */
static bool console_tx_held(struct virtio_console *con)
{
	if (con->tx_held && !virtq_elem_live(&con->vdev->vqs[TX_QUEUE], &con->tx_elem)) {
		con->tx_held = false;
		con->tx_taken = 0;
	}
	return con->tx_held;
}

static void console_tx(struct virtio_console *con)
{
	struct virtio_dev *vdev = con->vdev;
	struct virtq *q = &vdev->vqs[TX_QUEUE];
	struct virtq_elem *e = &con->tx_elem;
	bool used = false;

	/* A broken device waits for its reset, which forgets a held chain. */
	while (virtio_is_live(vdev)) {
		if (!console_tx_held(con)) {
			if (!virtio_pop(vdev, q, e))
				break;
			con->tx_held = true;
			/* A chain put back for a snapshot: skip what was taken. */
			con->tx_taken = MIN(con->tx_taken, e->out_len);
		}
		while (con->tx_taken < e->out_len) {
			uint8_t chunk[4096];
			/*
			 * Read the room once: the writer thread frees more at
			 * any time, and MIN evaluates its arguments twice (a
			 * fuzzer found the chunk overflowing that way).
			 */
			size_t room = console_out_room(&con->out);
			size_t n = MIN(room, sizeof(chunk));

			n = MIN(n, e->out_len - con->tx_taken);
			if (!n)
				break;
			iov_to_buf(e->iov, e->n_out, con->tx_taken, chunk, n);
			console_out_write(&con->out, chunk, n, false);
			con->tx_taken += n;
			con->tx_bytes += n;
		}
		if (con->tx_taken < e->out_len)
			break;	/* the buffer is full: the chain waits */
		used |= virtq_push(q, e, 0);
		con->tx_held = false;
		con->tx_taken = 0;
	}
	if (used)
		virtio_notify_used(vdev, q);
}

/* From the output thread: room again, let the worker go on. */
static void console_out_space(void *ctx)
{
	struct virtio_console *con = ctx;
	uint64_t one = 1;

	/* It fails only with the counter full: the worker wakes anyway. */
	if (write(con->space_efd, &one, sizeof(one)) < 0)
		return;
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

static unsigned int console_poll_fds(struct virtio_dev *vdev, unsigned int worker,
				     struct pollfd *extra)
{
	struct virtio_console *con = vdev->priv;
	/* Read the terminal only when there is room to keep what we read. */
	bool want_input = con->opts.in_fd >= 0 && !con->input_eof &&
			  con->n_pending < sizeof(con->pending) / 2;

	extra[0] = (struct pollfd){ .fd = want_input ? con->opts.in_fd : -1, .events = POLLIN };
	extra[1] = (struct pollfd){ .fd = con->space_efd, .events = POLLIN };
	return 2;
}

static void console_process(struct virtio_dev *vdev, unsigned int worker,
			    const struct pollfd *extra)
{
	struct virtio_console *con = vdev->priv;
	bool quit = extra[0].revents && console_read_input(con);

	if (extra[1].revents)
		virtio_drain_eventfd(con->space_efd);

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

	snprintf(buf, len, " rx_bytes=%lu tx_bytes=%lu tx_dropped=%llu", con->rx_bytes,
		 con->tx_bytes, (unsigned long long)console_out_dropped(&con->out));
}

static void console_wake_worker(struct virtio_console *con)
{
	console_out_space(con);
}

/*
 * The worker stopped (a snapshot, or the end): a chain not all taken goes
 * back to the ring, so a snapshot has it; tx_taken says how much of it the
 * buffer already has, and the next pop skips that.
 */
static void console_stopped(struct virtio_dev *vdev)
{
	struct virtio_console *con = vdev->priv;

	pthread_mutex_lock(&vdev->lock);
	if (console_tx_held(con)) {
		/* The last one taken from the live ring: give it back. */
		vdev->vqs[TX_QUEUE].last_avail--;
		con->tx_held = false;
		/* After a restart, take it again without waiting for a kick. */
		console_wake_worker(con);
	}
	pthread_mutex_unlock(&vdev->lock);
}

static void console_reset(struct virtio_dev *vdev)
{
	struct virtio_console *con = vdev->priv;

	/* That chain belongs to the old queue; its bytes taken still go out. */
	con->tx_held = false;
	con->tx_taken = 0;
}

static void console_free(struct virtio_dev *vdev)
{
	struct virtio_console *con = vdev->priv;

	if (!con)
		return;
	/* What the guest wrote up to now still goes out, if stdout takes it. */
	console_out_destroy(&con->out);
	if (con->space_efd >= 0)
		close(con->space_efd);
	free(con);
	vdev->priv = NULL;
}

static void console_save(struct virtio_dev *vdev, struct state_writer *w)
{
	struct virtio_console *con = vdev->priv;
	uint8_t *out = malloc(CONSOLE_OUT_SIZE);
	size_t n = out ? console_out_pending(&con->out, out, CONSOLE_OUT_SIZE) : 0;

	/* Typed input the guest has not received yet. */
	sw_put(w, KEY_INPUT, con->pending, con->n_pending);
	/* Output stdout has not taken yet, and how much of the next chain that is. */
	if (!out)
		w->error = w->error ?: -ENOMEM;
	sw_put(w, KEY_OUTPUT, out, n);
	sw_put_u64(w, KEY_TX_TAKEN, con->tx_taken);
	free(out);
}

static int console_restore(struct virtio_dev *vdev, const struct state_section *s, char *err,
			   unsigned int errlen)
{
	struct virtio_console *con = vdev->priv;
	uint32_t len, out_len = 0;
	const void *p = ss_get(s, KEY_INPUT, &len);
	const void *out = ss_get(s, KEY_OUTPUT, &out_len);
	uint64_t taken = 0;

	if (!p || len > sizeof(con->pending)) {
		snprintf(err, errlen, "%s: bad pending input in snapshot", vdev->dev.name);
		return -EINVAL;
	}
	/* Output and tx_taken are absent in older snapshots. */
	if ((out && out_len > CONSOLE_OUT_SIZE) ||
	    (ss_get_u64(s, KEY_TX_TAKEN, &taken) && taken > UINT32_MAX)) {
		snprintf(err, errlen, "%s: bad pending output in snapshot", vdev->dev.name);
		return -EINVAL;
	}
	memcpy(con->pending, p, len);
	con->n_pending = len;
	if (out && out_len)
		console_out_write(&con->out, out, out_len, true);
	con->tx_taken = taken;
	/* Chains and input may be waiting: look at the queues once started. */
	console_wake_worker(con);
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
	.stopped = console_stopped,
	.reset = console_reset,
	.free = console_free,
	.stats = console_stats,
};

int virtio_console_create(const char *name, const struct virtio_transport *t,
			  const struct virtio_console_opts *opts, const struct device_env *env,
			  struct device **out, char *err, size_t errlen)
{
	struct virtio_console *con = calloc(1, sizeof(*con));
	struct virtio_dev *vdev;
	int ret;

	if (!con) {
		snprintf(err, errlen, "%s: out of memory", name);
		return -ENOMEM;
	}
	con->opts = *opts;
	con->space_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (con->space_efd < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: eventfd: %s", name, strerror(-ret));
		free(con);
		return ret;
	}
	ret = console_out_init(&con->out, name, opts->out_fd, CONSOLE_OUT_SIZE,
			       CONSOLE_OUT_MARK, console_out_space, con);
	/* The writer only waits until there is output: it can start now. */
	ret = ret ?: console_out_start(&con->out);
	if (ret) {
		snprintf(err, errlen, "%s: output writer: %s", name, strerror(-ret));
		goto fail;
	}
	ret = virtio_transport_create(name, t, &console_ops, 0, env, con, &vdev);
	if (ret) {
		snprintf(err, errlen, "%s: creating the transport: %s", name, strerror(-ret));
		goto fail;
	}
	con->vdev = vdev;
	*out = &vdev->dev;
	return 0;
fail:
	console_out_destroy(&con->out);
	close(con->space_efd);
	free(con);
	return ret;
}
