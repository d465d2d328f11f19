// SPDX-License-Identifier: GPL-2.0
/*
 * A 16550A UART on MMIO (byte registers, reg-shift 0) as the guest console.
 * Transmission is instant: THR is always empty, so the THRE interrupt
 * follows every write. Input comes from a console thread reading stdin.
 * The interrupt is a level SPI: high while an enabled condition holds.
 */
#include "device.h"
#include "console.h"
#include "../migration/state.h"
#include "../sandbox/sandbox.h"
#include "../util.h"

#include <errno.h>
#include <libfdt.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define UART_RBR 0	/* read, DLAB=0 */
#define UART_THR 0	/* write, DLAB=0 */
#define UART_DLL 0	/* DLAB=1 */
#define UART_IER 1
#define UART_DLM 1	/* DLAB=1 */
#define UART_IIR 2	/* read */
#define UART_FCR 2	/* write */
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_MSR 6
#define UART_SCR 7

#define IER_RDI 0x01
#define IER_THRI 0x02
#define IER_RLSI 0x04
#define IER_MSI 0x08

#define IIR_NO_INT 0x01
#define IIR_MSI 0x00
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_FIFO_ENABLED 0xc0

#define FCR_ENABLE 0x01
#define FCR_CLEAR_RX 0x02

#define LCR_DLAB 0x80

#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10

#define LSR_DR 0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40

#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_RI 0x40
#define MSR_DCD 0x80

/*
 * The 16550A's receive FIFO. Bytes beyond it wait in the console thread
 * (and the host's tty/pipe), not here: the guest clears the FIFO when it
 * opens the port, and nothing that is still waiting may be lost to that.
 */
#define UART_RX_SIZE 16

struct uart {
	struct device dev;
	pthread_mutex_t lock;
	pthread_cond_t rx_space;	/* the guest read RBR or began listening */

	uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
	bool thr_ipending;
	int irq_level;

	uint8_t rx[UART_RX_SIZE];
	unsigned int rx_head, rx_count;

	struct uart_console_opts opts;
	pthread_t input_thread;
	bool input_running;
	bool stopping;
	int stop_pipe[2];

	/* Console text matching for --stats-marker. */
	size_t marker_len, marker_pos;
	char *marker_window;
	uint64_t marker_seen_ns;
};

static struct uart *to_uart(struct device *dev)
{
	return (struct uart *)dev;
}

/* Called with the lock held. */
static uint8_t uart_iir(struct uart *u)
{
	uint8_t fifo = (u->fcr & FCR_ENABLE) ? IIR_FIFO_ENABLED : 0;

	if ((u->ier & IER_RDI) && u->rx_count)
		return IIR_RDI | fifo;
	if ((u->ier & IER_THRI) && u->thr_ipending)
		return IIR_THRI | fifo;
	return IIR_NO_INT | fifo;
}

static void uart_update_irq(struct uart *u)
{
	int level = !(uart_iir(u) & IIR_NO_INT);

	if (level != u->irq_level) {
		u->irq_level = level;
		if (u->dev.set_irq)
			u->dev.set_irq(&u->dev, level);
	}
}

static void uart_rx_push_locked(struct uart *u, uint8_t c)
{
	if (u->rx_count == UART_RX_SIZE)
		return;
	u->rx[(u->rx_head + u->rx_count) % UART_RX_SIZE] = c;
	u->rx_count++;
}

static void uart_match_marker(struct uart *u, uint8_t c)
{
	if (!u->marker_len || u->marker_seen_ns)
		return;
	/* A window of the last marker_len bytes out, compared after each one. */
	if (u->marker_pos < u->marker_len) {
		u->marker_window[u->marker_pos++] = c;
	} else {
		memmove(u->marker_window, u->marker_window + 1, u->marker_len - 1);
		u->marker_window[u->marker_len - 1] = c;
	}
	if (u->marker_pos == u->marker_len &&
	    !memcmp(u->marker_window, u->opts.marker, u->marker_len))
		u->marker_seen_ns = now_ns();
}

static void uart_transmit(struct uart *u, uint8_t c)
{
	if (u->mcr & MCR_LOOP) {
		uart_rx_push_locked(u, c);
		return;
	}
	/* Unbuffered: the byte is out before the guest's store completes. */
	if (u->opts.out_fd >= 0)
		write_all(u->opts.out_fd, &c, 1);
	uart_match_marker(u, c);
}

static uint8_t uart_msr(struct uart *u)
{
	if (u->mcr & MCR_LOOP) {
		uint8_t msr = 0;

		if (u->mcr & MCR_RTS)
			msr |= MSR_CTS;
		if (u->mcr & MCR_DTR)
			msr |= MSR_DSR;
		if (u->mcr & MCR_OUT1)
			msr |= MSR_RI;
		if (u->mcr & MCR_OUT2)
			msr |= MSR_DCD;
		return msr;
	}
	return MSR_DCD | MSR_DSR | MSR_CTS;
}

static void uart_mmio_read(struct device *dev, uint64_t offset, void *data, unsigned int len)
{
	struct uart *u = to_uart(dev);
	uint8_t val = 0;

	pthread_mutex_lock(&u->lock);
	switch (offset) {
	case UART_RBR:
		if (u->lcr & LCR_DLAB) {
			val = u->dll;
		} else if (u->rx_count) {
			val = u->rx[u->rx_head];
			u->rx_head = (u->rx_head + 1) % UART_RX_SIZE;
			u->rx_count--;
			pthread_cond_signal(&u->rx_space);
		}
		break;
	case UART_IER:
		val = (u->lcr & LCR_DLAB) ? u->dlm : u->ier;
		break;
	case UART_IIR:
		val = uart_iir(u);
		/* Reading IIR acknowledges a THRE interrupt it reports. */
		if ((val & 0x0f) == IIR_THRI)
			u->thr_ipending = false;
		break;
	case UART_LCR:
		val = u->lcr;
		break;
	case UART_MCR:
		val = u->mcr;
		break;
	case UART_LSR:
		val = LSR_THRE | LSR_TEMT | (u->rx_count ? LSR_DR : 0);
		break;
	case UART_MSR:
		val = uart_msr(u);
		break;
	case UART_SCR:
		val = u->scr;
		break;
	}
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
	memset(data, 0, len);
	*(uint8_t *)data = val;
}

static void uart_mmio_write(struct device *dev, uint64_t offset, const void *data,
			    unsigned int len __unused)
{
	struct uart *u = to_uart(dev);
	uint8_t val = *(const uint8_t *)data;

	pthread_mutex_lock(&u->lock);
	switch (offset) {
	case UART_THR:
		if (u->lcr & LCR_DLAB) {
			u->dll = val;
		} else {
			uart_transmit(u, val);
			u->thr_ipending = true;
		}
		break;
	case UART_IER:
		if (u->lcr & LCR_DLAB) {
			u->dlm = val;
		} else {
			/* Enabling THRI with an empty THR raises the interrupt. */
			if ((val & IER_THRI) && !(u->ier & IER_THRI))
				u->thr_ipending = true;
			if ((val & IER_RDI) && !(u->ier & IER_RDI))
				pthread_cond_signal(&u->rx_space);
			u->ier = val & 0x0f;
		}
		break;
	case UART_FCR:
		u->fcr = val & (FCR_ENABLE | 0xc0);
		if (val & FCR_CLEAR_RX) {
			u->rx_head = u->rx_count = 0;
			pthread_cond_signal(&u->rx_space);
		}
		break;
	case UART_LCR:
		u->lcr = val;
		break;
	case UART_MCR:
		u->mcr = val & 0x1f;
		break;
	case UART_SCR:
		u->scr = val;
		break;
	}
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
}

unsigned int uart_push_input(struct device *dev, const uint8_t *buf, unsigned int len)
{
	struct uart *u = to_uart(dev);
	unsigned int n = 0;

	pthread_mutex_lock(&u->lock);
	/*
	 * Input is held back while the guest does not listen (receive
	 * interrupt off, as when no process has the port open): Linux clears
	 * the FIFO when it opens the port, which would drop it.
	 */
	while ((u->ier & IER_RDI) && n < len && u->rx_count < UART_RX_SIZE)
		uart_rx_push_locked(u, buf[n++]);
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
	return n;
}

/* Queue all of buf, waiting for the guest to drain the FIFO: nothing is lost. */
static int uart_push_all(struct uart *u, const uint8_t *buf, unsigned int len)
{
	while (len) {
		unsigned int n = uart_push_input(&u->dev, buf, len);

		buf += n;
		len -= n;
		if (!len)
			break;
		pthread_mutex_lock(&u->lock);
		while (!u->stopping && (u->rx_count == UART_RX_SIZE || !(u->ier & IER_RDI)))
			pthread_cond_wait(&u->rx_space, &u->lock);
		pthread_mutex_unlock(&u->lock);
		if (u->stopping)
			return -1;
	}
	return 0;
}

/*
 * Reads stdin and feeds the UART. On a terminal, Ctrl-A x asks to quit and
 * Ctrl-A Ctrl-A sends one Ctrl-A.
 */
static void *uart_input_thread(void *arg)
{
	struct uart *u = arg;
	struct console_escape esc = { 0 };
	uint8_t buf[256], out[512];

	sandbox_enter(SANDBOX_CONSOLE);
	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = u->opts.in_fd, .events = POLLIN },
			{ .fd = u->stop_pipe[0], .events = POLLIN },
		};
		unsigned int n_out;
		bool quit = false;
		ssize_t n;

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[1].revents)
			break;
		n = read(u->opts.in_fd, buf, sizeof(buf));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			break;	/* end of input: the guest simply gets no more */
		if (u->opts.escape) {
			n_out = console_filter(&esc, buf, n, out, &quit);
		} else {
			memcpy(out, buf, n);
			n_out = n;
		}
		if (n_out && uart_push_all(u, out, n_out))
			break;
		if (quit) {
			if (u->opts.on_quit)
				u->opts.on_quit(u->opts.quit_ctx);
			break;
		}
	}
	return NULL;
}

static int uart_start(struct device *dev)
{
	struct uart *u = to_uart(dev);
	int ret;

	if (u->opts.in_fd < 0)
		return 0;
	if (pipe(u->stop_pipe) < 0)
		return -errno;
	ret = pthread_create(&u->input_thread, NULL, uart_input_thread, u);
	if (ret) {
		close(u->stop_pipe[0]);
		close(u->stop_pipe[1]);
		return -ret;
	}
	u->input_running = true;
	return 0;
}

static void uart_stop(struct device *dev)
{
	struct uart *u = to_uart(dev);

	if (!u->input_running)
		return;
	pthread_mutex_lock(&u->lock);
	u->stopping = true;
	pthread_cond_broadcast(&u->rx_space);
	pthread_mutex_unlock(&u->lock);
	write_all(u->stop_pipe[1], "x", 1);
	pthread_join(u->input_thread, NULL);
	close(u->stop_pipe[0]);
	close(u->stop_pipe[1]);
	u->input_running = false;
}

static int uart_fdt(struct device *dev, void *fdt)
{
	int ret;

	ret = device_fdt_begin_node(fdt, "serial", dev->mmio_base);
	if (!ret)
		ret = fdt_property_string(fdt, "compatible", "ns16550a");
	if (!ret)
		ret = device_fdt_reg(fdt, dev->mmio_base, dev->mmio_size);
	if (!ret)
		ret = device_fdt_spi(fdt, dev->irq, FDT_IRQ_TYPE_LEVEL_HIGH);
	if (!ret)
		ret = fdt_property_u32(fdt, "clock-frequency", UART_CLOCK_HZ);
	if (!ret)
		ret = fdt_end_node(fdt);
	return ret ? -ENOSPC : 0;
}

uint64_t uart_marker_seen_ns(struct device *dev)
{
	struct uart *u = to_uart(dev);
	uint64_t t;

	pthread_mutex_lock(&u->lock);
	t = u->marker_seen_ns;
	pthread_mutex_unlock(&u->lock);
	return t;
}

static void uart_free(struct device *dev)
{
	struct uart *u = to_uart(dev);

	uart_stop(dev);
	pthread_mutex_destroy(&u->lock);
	pthread_cond_destroy(&u->rx_space);
	free(u->marker_window);
	free(u);
}

enum {
	UART_KEY_IER = 1, UART_KEY_LCR, UART_KEY_MCR, UART_KEY_SCR, UART_KEY_DLL, UART_KEY_DLM,
	UART_KEY_FCR, UART_KEY_THR_IPENDING, UART_KEY_IRQ_LEVEL, UART_KEY_RX,
};

static int uart_save(struct device *dev, struct state_writer *w)
{
	struct uart *u = to_uart(dev);
	uint8_t rx[UART_RX_SIZE];

	pthread_mutex_lock(&u->lock);
	sw_begin(w, dev->name, 1);
	sw_put_u64(w, UART_KEY_IER, u->ier);
	sw_put_u64(w, UART_KEY_LCR, u->lcr);
	sw_put_u64(w, UART_KEY_MCR, u->mcr);
	sw_put_u64(w, UART_KEY_SCR, u->scr);
	sw_put_u64(w, UART_KEY_DLL, u->dll);
	sw_put_u64(w, UART_KEY_DLM, u->dlm);
	sw_put_u64(w, UART_KEY_FCR, u->fcr);
	sw_put_u64(w, UART_KEY_THR_IPENDING, u->thr_ipending);
	sw_put_u64(w, UART_KEY_IRQ_LEVEL, u->irq_level);
	/* Received bytes the guest has not read yet: they must survive. */
	for (unsigned int i = 0; i < u->rx_count; i++)
		rx[i] = u->rx[(u->rx_head + i) % UART_RX_SIZE];
	sw_put(w, UART_KEY_RX, rx, u->rx_count);
	sw_end(w);
	pthread_mutex_unlock(&u->lock);
	return 0;
}

static int uart_restore(struct device *dev, const struct state_section *s, char *err,
			unsigned int errlen)
{
	struct uart *u = to_uart(dev);
	uint64_t v[UART_KEY_IRQ_LEVEL + 1];
	const void *rx;
	uint32_t rx_len;

	for (unsigned int k = UART_KEY_IER; k <= UART_KEY_IRQ_LEVEL; k++) {
		if (!ss_get_u64(s, k, &v[k])) {
			snprintf(err, errlen, "%s: snapshot lacks field %u", dev->name, k);
			return -EINVAL;
		}
	}
	rx = ss_get(s, UART_KEY_RX, &rx_len);
	if (!rx || rx_len > UART_RX_SIZE) {
		snprintf(err, errlen, "%s: bad receive FIFO in snapshot", dev->name);
		return -EINVAL;
	}
	pthread_mutex_lock(&u->lock);
	u->ier = v[UART_KEY_IER];
	u->lcr = v[UART_KEY_LCR];
	u->mcr = v[UART_KEY_MCR];
	u->scr = v[UART_KEY_SCR];
	u->dll = v[UART_KEY_DLL];
	u->dlm = v[UART_KEY_DLM];
	u->fcr = v[UART_KEY_FCR];
	u->thr_ipending = v[UART_KEY_THR_IPENDING];
	memcpy(u->rx, rx, rx_len);
	u->rx_head = 0;
	u->rx_count = rx_len;
	/* Drive the line to the saved level (GICv2 has no line-level state). */
	u->irq_level = -1;
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
	return 0;
}

static const struct device_ops uart_ops = {
	.save = uart_save,
	.restore = uart_restore,
	.kind = "uart",
	.mmio_read = uart_mmio_read,
	.mmio_write = uart_mmio_write,
	.fdt = uart_fdt,
	.start = uart_start,
	.stop = uart_stop,
	.free = uart_free,
};

struct device *uart_create(const char *name, uint64_t base, unsigned int irq,
			   const struct uart_console_opts *opts)
{
	struct uart *u = calloc(1, sizeof(*u));

	if (!u)
		return NULL;
	u->dev.ops = &uart_ops;
	snprintf(u->dev.name, sizeof(u->dev.name), "%s", name);
	u->dev.mmio_base = base;
	u->dev.mmio_size = UART_MMIO_SIZE;
	u->dev.irq = irq;
	u->opts = *opts;
	u->marker_len = opts->marker ? strlen(opts->marker) : 0;
	if (u->marker_len) {
		u->marker_window = malloc(u->marker_len);
		if (!u->marker_window) {
			free(u);
			return NULL;
		}
	}
	u->mcr = MCR_OUT2;
	pthread_mutex_init(&u->lock, NULL);
	pthread_cond_init(&u->rx_space, NULL);
	return &u->dev;
}
