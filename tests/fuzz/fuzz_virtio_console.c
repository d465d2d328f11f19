// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-console (devices/virtio/console.c) through the virtio-mmio
 * transport, as virtio_harness.h drives it. Input comes through a pipe with
 * the Ctrl-A escape filter on (VH_BACKEND: the script's bytes; a VH_LOOP
 * round: one byte); output goes to /dev/null.
 */
#include "virtio_harness.h"

#include <fcntl.h>

static int con_fz_null = -1;
static unsigned int con_fz_quits;

static void con_fz_quit(void *ctx)
{
	con_fz_quits++;
}

static struct device *con_fz_create(struct vh *h, int *err)
{
	struct virtio_console_opts opts = {
		.in_fd = h->fds[0],
		.out_fd = con_fz_null,
		.escape = true,
		.on_quit = con_fz_quit,
	};
	struct device *dev = NULL;
	char msg[256];

	*err = virtio_console_create("virtio-console0",
				     &(struct virtio_transport){ .base = VH_MMIO_BASE, .intid = VH_INTID },
				     &opts, &h->env, &dev, msg, sizeof(msg));
	return *err ? NULL : dev;
}

static void con_fz_begin(struct vh *h)
{
	if (con_fz_null < 0)
		con_fz_null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (pipe2(h->fds, O_NONBLOCK | O_CLOEXEC) < 0 || con_fz_null < 0)
		vh_die("pipe");
}

static void con_fz_end(struct vh *h)
{
	close(h->fds[0]);
	close(h->fds[1]);
	h->fds[0] = h->fds[1] = -1;
}

static void con_fz_type(struct vh *h, const void *buf, size_t len)
{
	if (write(h->fds[1], buf, len) < 0)
		return;	/* the pipe is full: the typist waits, the input is dropped */
}

static void con_fz_backend(struct vh *h, struct fz *f)
{
	uint8_t buf[255];
	uint8_t n = fz_u8(f);

	fz_bytes(f, buf, n);
	con_fz_type(h, buf, n);
}

static void con_fz_tick(struct vh *h)
{
	con_fz_type(h, "k", 1);
}

static const struct vh_device con_fz = {
	.create = con_fz_create,
	.begin = con_fz_begin,
	.end = con_fz_end,
	.backend = con_fz_backend,
	.tick = con_fz_tick,
	.async_key = VIRTIO_KEY_DEVICE + 1,	/* console.c's KEY_OUTPUT */
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return vh_run(&con_fz, data, size);
}
