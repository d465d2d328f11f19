// SPDX-License-Identifier: GPL-2.0
/*
 * The 16550 UART (devices/uart.c) as a guest and a typist drive it. The
 * script: one byte picks the operation (modulo 16), its operands follow:
 *
 *   0 (4 6 8 10 12) write: u16 (bits 0-11 offset in the 4 KiB window,
 *     bits 14-15 log2 of the access size), u8 value
 *   1 (5 7 9 11 13) read: u16 as for write
 *   2 (14 15) input: u8 n, n bytes pushed as the console thread pushes them
 *   3 snapshot: save, restore into a fresh UART and go on with it; the
 *     restored UART must save the very same state (8 per input at most)
 *
 * Checked beyond the sanitizers: the interrupt line as set_irq drives it
 * always agrees with what IIR reports, and the snapshot round trip.
 */
#include "fuzz.h"
#include "../../devices/device.h"
#include "../../state/state.h"

#include <stdio.h>
#include <stdlib.h>

#define UART_FZ_IIR 2
#define UART_FZ_LCR 3

static int uart_fz_level;

static void uart_fz_set_irq(struct device *dev, int level)
{
	uart_fz_level = level;
}

static struct device *uart_fz_new(void)
{
	/* The marker makes the UART match its output against it. */
	struct uart_console_opts opts = { .in_fd = -1, .out_fd = -1, .marker = "login: " };
	struct device *dev = uart_create("uart0", 0x09000000, 33, &opts);

	if (!dev)
		abort();
	dev->set_irq = uart_fz_set_irq;
	return dev;
}

static void uart_fz_die(const char *what)
{
	/* stdout: libFuzzer runs the targets with stderr closed. */
	printf("uart harness: %s\n", what);
	fflush(stdout);
	abort();
}

static void uart_fz_save(struct device *dev, struct state_writer *w, struct state_reader *r)
{
	char err[256];

	sw_init(w);
	if (dev->ops->save(dev, w) || sw_finish(w) ||
	    sr_open(r, w->buf, w->len, err, sizeof(err)) || !sr_section(r, dev->name))
		uart_fz_die("cannot save its state");
}

static struct device *uart_fz_snapshot(struct device *dev)
{
	struct state_writer w, w2;
	struct state_reader r, r2;
	struct device *fresh = uart_fz_new();
	char err[256];

	uart_fz_save(dev, &w, &r);
	if (fresh->ops->restore(fresh, sr_section(&r, dev->name), err, sizeof(err)))
		uart_fz_die("cannot restore a state it just saved");
	uart_fz_save(fresh, &w2, &r2);
	if (w.len != w2.len || memcmp(w.buf, w2.buf, w.len))
		uart_fz_die("the restored UART saves another state");
	sr_close(&r);
	sr_close(&r2);
	sw_free(&w);
	sw_free(&w2);
	dev->ops->free(dev);
	return fresh;
}

/* The line must be high exactly while IIR reports an interrupt. */
static void uart_fz_check_irq(struct device *dev)
{
	uint8_t lcr = 0, iir = 0, zero = 0;
	int level;

	/* IIR does not depend on DLAB; the LCR write only updates the line. */
	dev->ops->mmio_read(dev, UART_FZ_LCR, &lcr, 1);
	dev->ops->mmio_write(dev, UART_FZ_LCR, &zero, 1);
	level = uart_fz_level;
	/* Reading IIR acknowledges THRE: compare with the line before it. */
	dev->ops->mmio_read(dev, UART_FZ_IIR, &iir, 1);
	if (level != !(iir & 1))
		uart_fz_die("the interrupt line disagrees with IIR");
	dev->ops->mmio_write(dev, UART_FZ_LCR, &lcr, 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned int snapshots = 0;
	struct device *dev;
	struct fz f;

	uart_fz_level = 0;
	dev = uart_fz_new();
	fz_init(&f, data, size);
	while (!fz_done(&f)) {
		uint8_t op = fz_u8(&f) % 16, buf[255], n;
		uint64_t v = 0;
		uint16_t reg;

		if (op >= 4)
			op = op >= 14 ? 2 : op & 1;
		switch (op) {
		case 0:
		case 1:
			reg = fz_u16(&f);
			n = 1 << (reg >> 14);
			reg &= UART_MMIO_SIZE - 1;
			if (reg + n > UART_MMIO_SIZE)
				break;	/* the bus does not deliver it */
			if (op == 0) {
				v = fz_u8(&f);
				dev->ops->mmio_write(dev, reg, &v, n);
			} else {
				dev->ops->mmio_read(dev, reg, &v, n);
			}
			break;
		case 2:
			n = fz_u8(&f);
			fz_bytes(&f, buf, n);
			uart_push_input(dev, buf, n);
			break;
		case 3:
			if (snapshots++ < 8)
				dev = uart_fz_snapshot(dev);
			break;
		}
	}
	uart_fz_check_irq(dev);
	dev->ops->free(dev);
	return 0;
}
