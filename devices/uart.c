// SPDX-License-Identifier: GPL-2.0
/*
 * A 16550A UART on MMIO (byte registers, reg-shift 0) as the guest console.
 * The interrupt is a level SPI: high while an enabled condition holds.
 *
 * Output: a THR write goes into the console's output buffer (console.c),
 * which a thread of its own writes to stdout; a vCPU never waits for the
 * host. THR reads empty (LSR.THRE and TEMT set) while that buffer has room
 * for a FIFO load (16 bytes); when stdout does not take the bytes and it
 * fills, THRE clears and the THRE interrupt comes back once there is room
 * again: a guest that waits for THRE (Linux's driver does) waits, and loses
 * nothing. A byte written while THRE is clear is dropped and counted, as a
 * real transmit FIFO would lose it.
 *
 * Input: bytes from stdin are held in lvmm (up to UART_HELD_SIZE; beyond
 * that the console thread stops reading stdin) and fed into the 16-byte
 * receive FIFO the guest sees only while it listens: the receive interrupt
 * is enabled (IER.RDI), or it polls (UART_POLL_READS reads of LSR in a row,
 * nothing else in between, with the FIFO empty and THR empty). Linux's 8250
 * driver clears the FIFO and reads RBR, throwing the byte away, while it
 * opens the port with IER 0, and its console writes never read LSR more
 * than twice in a row; so input typed before the guest opens its port is
 * kept for it. A receiver reset (FCR clear-RX) puts the FIFO's bytes back
 * in front of the held input, and when the receive interrupt is off it
 * also ends polling until the guest polls (or listens) again.
 */
#include "device.h"
#include "console.h"
#include "../state/state.h"
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

/* The 16550A's FIFOs: what the guest sees of input, and a THR load. */
#define UART_RX_SIZE 16
#define UART_TX_LOAD 16
/* Input waiting in lvmm for the guest to listen. */
#define UART_HELD_SIZE 4096
/* LSR reads in a row that make a guest a poller (Linux makes at most 2). */
#define UART_POLL_READS 8

struct uart {
	struct device dev;
	pthread_mutex_t lock;
	pthread_cond_t held_space;	/* held input moved into the FIFO */

	uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
	bool thr_ipending;
	int irq_level;

	/* The receive FIFO; rx_looped marks bytes the guest sent in loopback. */
	uint8_t rx[UART_RX_SIZE];
	bool rx_looped[UART_RX_SIZE];
	unsigned int rx_head, rx_count;
	/* Input not yet in the FIFO; room for a FIFO's worth put back. */
	uint8_t held[UART_HELD_SIZE + UART_RX_SIZE];
	unsigned int held_head, held_count;
	bool rx_poll;		/* the guest polls LSR: feed the FIFO */
	unsigned int lsr_run;	/* LSR reads in a row that count for rx_poll */

	struct console_out out;
	uint64_t tx_bytes, rx_bytes;

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

/* THR empty as the guest sees it: room for a FIFO load. Lock held. */
static bool uart_thre(struct uart *u)
{
	return (u->mcr & MCR_LOOP) || console_out_room(&u->out) >= UART_TX_LOAD;
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

static void uart_rx_push_locked(struct uart *u, uint8_t c, bool looped)
{
	unsigned int at = (u->rx_head + u->rx_count) % UART_RX_SIZE;

	if (u->rx_count == UART_RX_SIZE)
		return;
	u->rx[at] = c;
	u->rx_looped[at] = looped;
	u->rx_count++;
}

/* Move held input into the FIFO while the guest listens. Lock held. */
static void uart_rx_feed(struct uart *u)
{
	bool moved = false;

	if (!((u->ier & IER_RDI) || u->rx_poll) || (u->mcr & MCR_LOOP))
		return;
	while (u->held_count && u->rx_count < UART_RX_SIZE) {
		uart_rx_push_locked(u, u->held[u->held_head], false);
		u->held_head = (u->held_head + 1) % sizeof(u->held);
		u->held_count--;
		moved = true;
	}
	if (moved)
		pthread_cond_signal(&u->held_space);
}

/*
 * Receiver reset: input still in the FIFO goes back in front of the held
 * bytes (lvmm never discards input); looped-back bytes go. Lock held.
 */
static void uart_rx_unread(struct uart *u)
{
	while (u->rx_count) {
		unsigned int at = (u->rx_head + u->rx_count - 1) % UART_RX_SIZE;

		u->rx_count--;
		if (u->rx_looped[at])
			continue;
		/* held has UART_RX_SIZE spare: push_input stops at UART_HELD_SIZE. */
		u->held_head = (u->held_head + sizeof(u->held) - 1) % sizeof(u->held);
		u->held[u->held_head] = u->rx[at];
		u->held_count++;
	}
	u->rx_head = 0;
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
		uart_rx_push_locked(u, c, true);
		u->thr_ipending = true;
		return;
	}
	/* Never blocks: a byte that finds no room is counted as dropped. */
	if (console_out_write(&u->out, &c, 1, true))
		u->tx_bytes++;
	uart_match_marker(u, c);
	/* THR empty again at once, unless stdout is behind. */
	u->thr_ipending = uart_thre(u);
}

/* The output thread made room: THR is empty again. */
static void uart_out_space(void *ctx)
{
	struct uart *u = ctx;

	pthread_mutex_lock(&u->lock);
	if (uart_thre(u)) {
		u->thr_ipending = true;
		uart_update_irq(u);
	}
	pthread_mutex_unlock(&u->lock);
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

/* An LSR read: polling for input starts the feed. Lock held. */
static uint8_t uart_lsr_read(struct uart *u)
{
	bool thre = uart_thre(u);

	if (!u->rx_count && thre) {
		if (u->lsr_run < UART_POLL_READS && ++u->lsr_run == UART_POLL_READS) {
			u->rx_poll = true;
			uart_rx_feed(u);
		}
	} else {
		u->lsr_run = 0;
	}
	/* TEMT follows THRE: lvmm's buffer is past the wire. */
	return (thre ? LSR_THRE | LSR_TEMT : 0) | (u->rx_count ? LSR_DR : 0);
}

static void uart_mmio_read(struct device *dev, uint64_t offset, void *data, unsigned int len)
{
	struct uart *u = to_uart(dev);
	uint8_t val = 0;

	pthread_mutex_lock(&u->lock);
	if (offset != UART_LSR)
		u->lsr_run = 0;
	switch (offset) {
	case UART_RBR:
		if (u->lcr & LCR_DLAB) {
			val = u->dll;
		} else if (u->rx_count) {
			val = u->rx[u->rx_head];
			u->rx_head = (u->rx_head + 1) % UART_RX_SIZE;
			u->rx_count--;
			u->rx_bytes++;
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
		val = uart_lsr_read(u);
		break;
	case UART_MSR:
		val = uart_msr(u);
		break;
	case UART_SCR:
		val = u->scr;
		break;
	}
	uart_rx_feed(u);
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
	u->lsr_run = 0;
	switch (offset) {
	case UART_THR:
		if (u->lcr & LCR_DLAB)
			u->dll = val;
		else
			uart_transmit(u, val);
		break;
	case UART_IER:
		if (u->lcr & LCR_DLAB) {
			u->dlm = val;
		} else {
			/* Enabling THRI with an empty THR raises the interrupt. */
			if ((val & IER_THRI) && !(u->ier & IER_THRI))
				u->thr_ipending = uart_thre(u);
			u->ier = val & 0x0f;
		}
		break;
	case UART_FCR:
		/* Clearing the transmit FIFO keeps lvmm's buffer: it is past the wire. */
		u->fcr = val & (FCR_ENABLE | 0xc0);
		if (val & FCR_CLEAR_RX) {
			uart_rx_unread(u);
			if (!(u->ier & IER_RDI))
				u->rx_poll = false;
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
	uart_rx_feed(u);
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
}

unsigned int uart_push_input(struct device *dev, const uint8_t *buf, unsigned int len)
{
	struct uart *u = to_uart(dev);
	unsigned int n = 0;

	pthread_mutex_lock(&u->lock);
	while (n < len && u->held_count < UART_HELD_SIZE) {
		u->held[(u->held_head + u->held_count) % sizeof(u->held)] = buf[n++];
		u->held_count++;
	}
	uart_rx_feed(u);
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
	return n;
}

/* Queue all of buf, waiting for the guest to take held input: nothing is lost. */
static int uart_push_all(struct uart *u, const uint8_t *buf, unsigned int len)
{
	while (len) {
		unsigned int n = uart_push_input(&u->dev, buf, len);

		buf += n;
		len -= n;
		if (!len)
			break;
		pthread_mutex_lock(&u->lock);
		while (!u->stopping && u->held_count >= UART_HELD_SIZE)
			pthread_cond_wait(&u->held_space, &u->lock);
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

	ret = console_out_start(&u->out);
	if (ret || u->opts.in_fd < 0 || u->input_running)
		return ret;
	if (pipe(u->stop_pipe) < 0)
		return -errno;
	u->stopping = false;
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

	if (u->input_running) {
		pthread_mutex_lock(&u->lock);
		u->stopping = true;
		pthread_cond_broadcast(&u->held_space);
		pthread_mutex_unlock(&u->lock);
		write_all(u->stop_pipe[1], "x", 1);
		pthread_join(u->input_thread, NULL);
		close(u->stop_pipe[0]);
		close(u->stop_pipe[1]);
		u->input_running = false;
	}
	/* Last: what the guest wrote up to now still goes out. */
	console_out_stop(&u->out);
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

static void uart_stats(struct device *dev, char *buf, unsigned int len)
{
	struct uart *u = to_uart(dev);

	pthread_mutex_lock(&u->lock);
	snprintf(buf, len, "tx_bytes=%llu tx_dropped=%llu rx_bytes=%llu",
		 (unsigned long long)u->tx_bytes,
		 (unsigned long long)console_out_dropped(&u->out),
		 (unsigned long long)u->rx_bytes);
	pthread_mutex_unlock(&u->lock);
}

static void uart_free(struct device *dev)
{
	struct uart *u = to_uart(dev);

	uart_stop(dev);
	console_out_destroy(&u->out);
	pthread_mutex_destroy(&u->lock);
	pthread_cond_destroy(&u->held_space);
	free(u->marker_window);
	free(u);
}

enum {
	UART_KEY_IER = 1, UART_KEY_LCR, UART_KEY_MCR, UART_KEY_SCR, UART_KEY_DLL, UART_KEY_DLM,
	UART_KEY_FCR, UART_KEY_THR_IPENDING, UART_KEY_IRQ_LEVEL, UART_KEY_RX,
	/* Optional (absent in older snapshots). */
	UART_KEY_RX_HELD, UART_KEY_RX_POLL, UART_KEY_TX_PENDING,
};

static int uart_save(struct device *dev, struct state_writer *w)
{
	struct uart *u = to_uart(dev);
	uint8_t rx[UART_RX_SIZE], *held, *tx;
	unsigned int n_rx = 0;
	size_t n_tx;

	held = malloc(UART_HELD_SIZE + UART_RX_SIZE);
	tx = malloc(CONSOLE_OUT_SIZE);
	if (!held || !tx) {
		free(held);
		free(tx);
		return -ENOMEM;
	}
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
		rx[n_rx++] = u->rx[(u->rx_head + i) % UART_RX_SIZE];
	sw_put(w, UART_KEY_RX, rx, n_rx);
	for (unsigned int i = 0; i < u->held_count; i++)
		held[i] = u->held[(u->held_head + i) % sizeof(u->held)];
	sw_put(w, UART_KEY_RX_HELD, held, u->held_count);
	sw_put_u64(w, UART_KEY_RX_POLL, u->rx_poll);
	/* So are bytes the guest wrote that stdout has not taken yet. */
	n_tx = console_out_pending(&u->out, tx, CONSOLE_OUT_SIZE);
	sw_put(w, UART_KEY_TX_PENDING, tx, n_tx);
	sw_end(w);
	pthread_mutex_unlock(&u->lock);
	free(held);
	free(tx);
	return 0;
}

static int uart_restore(struct device *dev, const struct state_section *s, char *err,
			unsigned int errlen)
{
	struct uart *u = to_uart(dev);
	uint64_t v[UART_KEY_IRQ_LEVEL + 1], rx_poll = 0;
	const void *rx, *held, *tx;
	uint32_t rx_len, held_len = 0, tx_len = 0;

	for (unsigned int k = UART_KEY_IER; k <= UART_KEY_IRQ_LEVEL; k++) {
		if (!ss_get_u64(s, k, &v[k])) {
			snprintf(err, errlen, "%s: snapshot lacks field %u", dev->name, k);
			return -EINVAL;
		}
	}
	/* Only values the registers can hold (the snapshot is untrusted input). */
	for (unsigned int k = UART_KEY_IER; k <= UART_KEY_IRQ_LEVEL; k++) {
		uint64_t max = k == UART_KEY_IER ? 0x0f : k == UART_KEY_FCR ? (FCR_ENABLE | 0xc0) :
			       k >= UART_KEY_THR_IPENDING ? 1 : 0xff;

		if (v[k] & ~max) {
			snprintf(err, errlen, "%s: snapshot field %u (0x%llx) out of range", dev->name,
				 k, (unsigned long long)v[k]);
			return -EINVAL;
		}
	}
	rx = ss_get(s, UART_KEY_RX, &rx_len);
	if (!rx || rx_len > UART_RX_SIZE) {
		snprintf(err, errlen, "%s: bad receive FIFO in snapshot", dev->name);
		return -EINVAL;
	}
	held = ss_get(s, UART_KEY_RX_HELD, &held_len);
	if (held && held_len > UART_HELD_SIZE) {
		snprintf(err, errlen, "%s: bad held input in snapshot", dev->name);
		return -EINVAL;
	}
	tx = ss_get(s, UART_KEY_TX_PENDING, &tx_len);
	if (tx && tx_len > CONSOLE_OUT_SIZE) {
		snprintf(err, errlen, "%s: bad pending output in snapshot", dev->name);
		return -EINVAL;
	}
	ss_get_u64(s, UART_KEY_RX_POLL, &rx_poll);
	pthread_mutex_lock(&u->lock);
	u->ier = v[UART_KEY_IER];
	u->lcr = v[UART_KEY_LCR];
	u->mcr = v[UART_KEY_MCR];
	u->scr = v[UART_KEY_SCR];
	u->dll = v[UART_KEY_DLL];
	u->dlm = v[UART_KEY_DLM];
	u->fcr = v[UART_KEY_FCR];
	u->thr_ipending = v[UART_KEY_THR_IPENDING];
	u->rx_head = u->rx_count = 0;
	for (uint32_t i = 0; i < rx_len; i++)
		uart_rx_push_locked(u, ((const uint8_t *)rx)[i], false);
	u->held_head = 0;
	u->held_count = held ? held_len : 0;
	if (u->held_count)
		memcpy(u->held, held, u->held_count);
	u->rx_poll = rx_poll;
	if (tx && tx_len)
		console_out_write(&u->out, tx, tx_len, true);
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
	.stats = uart_stats,
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
	if (console_out_init(&u->out, name, opts->out_fd, CONSOLE_OUT_SIZE, UART_TX_LOAD,
			     uart_out_space, u)) {
		console_out_destroy(&u->out);
		free(u->marker_window);
		free(u);
		return NULL;
	}
	u->mcr = MCR_OUT2;
	pthread_mutex_init(&u->lock, NULL);
	pthread_cond_init(&u->held_space, NULL);
	return &u->dev;
}
