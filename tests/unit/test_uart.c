// SPDX-License-Identifier: GPL-2.0
/*
 * The 16550 as the guest's driver sees it: register reads and writes
 * through the device's MMIO handlers, and the interrupt line it drives.
 * Only what Linux's 8250 driver relies on is checked, plus what lvmm adds:
 * output that never blocks a vCPU (a stalled stdout shows as THR busy),
 * input held until the guest listens or polls, and the --stats-marker
 * timing. The output goes through the console's writer thread, so the
 * fixture starts the device and reads what reached the pipe with a wait.
 */
#include "test.h"
#include "../../devices/device.h"
#include "../../state/state.h"
#include "../../util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RBR 0
#define THR 0
#define DLL 0
#define IER 1
#define DLM 1
#define IIR 2
#define FCR 2
#define LCR 3
#define MCR 4
#define LSR 5
#define MSR 6
#define SCR 7

#define IER_RDI 0x01
#define IER_THRI 0x02

#define IIR_NONE 0x01
#define IIR_THRI 0x02
#define IIR_RDI 0x04

#define LSR_DR 0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40

/* What lvmm promises: a poller sees input after this many LSR reads. */
#define POLL_READS 8

/* The interrupt line as the irqchip would see it. */
struct line {
	int level;
	unsigned int calls;
};

struct uart_fixture {
	struct device *dev;
	struct line line;
	int pipe[2];		/* [0]: what the guest transmitted */
};

static void record_irq(struct device *dev, int level)
{
	struct line *line = dev->irq_ctx;

	line->level = level;
	line->calls++;
}

static bool setup(struct uart_fixture *f, const char *marker)
{
	struct uart_console_opts opts = { .in_fd = -1, .out_fd = -1, .marker = marker };

	memset(f, 0, sizeof(*f));
	if (!CHECK_EQ_INT(pipe2(f->pipe, O_NONBLOCK | O_CLOEXEC), 0))
		return false;
	opts.out_fd = f->pipe[1];
	f->dev = uart_create("uart0", 0x09000000, 33, &opts);
	if (!CHECK(f->dev))
		return false;
	f->dev->set_irq = record_irq;
	f->dev->irq_ctx = &f->line;
	return CHECK_EQ_INT(f->dev->ops->start(f->dev), 0);
}

static void teardown(struct uart_fixture *f)
{
	if (f->dev)
		f->dev->ops->free(f->dev);
	close(f->pipe[0]);
	close(f->pipe[1]);
}

static uint8_t rd(struct uart_fixture *f, uint64_t off)
{
	uint8_t v = 0xff;

	f->dev->ops->mmio_read(f->dev, off, &v, 1);
	return v;
}

static void wr(struct uart_fixture *f, uint64_t off, uint8_t v)
{
	f->dev->ops->mmio_write(f->dev, off, &v, 1);
}

static void wr_str(struct uart_fixture *f, const char *s)
{
	while (*s)
		wr(f, THR, *s++);
}

/*
 * What the guest has transmitted since the last call, as a string: want
 * bytes, or what came within 2 s.
 */
static const char *output(struct uart_fixture *f, size_t want)
{
	static char buf[256];
	uint64_t end = now_ns() + 2000000000ULL;
	size_t len = 0;

	while (len < want && len < sizeof(buf) - 1 && now_ns() < end) {
		struct pollfd pfd = { .fd = f->pipe[0], .events = POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, 10) <= 0)
			continue;
		n = read(f->pipe[0], buf + len, want - len);
		if (n > 0)
			len += n;
	}
	buf[len] = '\0';
	return buf;
}

/* Read LSR until it shows received data, at most n times; the reads made. */
static unsigned int poll_lsr(struct uart_fixture *f, unsigned int n)
{
	for (unsigned int i = 1; i <= n; i++)
		if (rd(f, LSR) & LSR_DR)
			return i;
	return n + 1;
}

TEST(uart_create)
{
	struct uart_fixture f;

	if (!setup(&f, NULL))
		return;
	CHECK_STR(f.dev->name, "uart0");
	CHECK_STR(f.dev->ops->kind, "uart");
	CHECK_EQ_U64(f.dev->mmio_base, 0x09000000);
	CHECK_EQ_U64(f.dev->mmio_size, UART_MMIO_SIZE);
	CHECK_EQ_U64(f.dev->irq, 33);
	/* Quiet after reset: no interrupt enabled, nothing pending. */
	CHECK_EQ_U64(rd(&f, IER), 0);
	CHECK_EQ_U64(rd(&f, IIR), IIR_NONE);
	CHECK_EQ_U64(f.line.calls, 0);
	teardown(&f);
}

TEST(uart_wide_read)
{
	struct uart_fixture f;
	uint64_t v = ~0ULL;

	if (!setup(&f, NULL))
		return;
	/* Byte registers: the rest of a wider access reads as zero. */
	wr(&f, SCR, 0x5a);
	f.dev->ops->mmio_read(f.dev, SCR, &v, 4);
	CHECK_EQ_U64(v, 0xffffffff0000005aULL);
	f.dev->ops->mmio_read(f.dev, SCR, &v, 8);
	CHECK_EQ_U64(v, 0x5a);
	teardown(&f);
}

TEST(uart_thr_writes_out_fd)
{
	struct uart_fixture f;

	if (!setup(&f, NULL))
		return;
	wr_str(&f, "Hello\r\n");
	CHECK_STR(output(&f, 7), "Hello\r\n");
	/* Nothing enabled: the line never moved. */
	CHECK_EQ_U64(f.line.calls, 0);
	CHECK_EQ_U64(f.line.level, 0);
	teardown(&f);
}

TEST(uart_thr_no_out_fd)
{
	struct uart_console_opts opts = { .in_fd = -1, .out_fd = -1 };
	struct device *dev = uart_create("uart0", 0x09000000, 33, &opts);
	uint8_t c = 'x', lsr = 0;

	if (!CHECK(dev))
		return;
	/* Output goes nowhere, and nothing breaks. */
	dev->ops->mmio_write(dev, THR, &c, 1);
	dev->ops->mmio_read(dev, LSR, &lsr, 1);
	CHECK_EQ_U64(lsr, LSR_THRE | LSR_TEMT);
	dev->ops->free(dev);
}

TEST(uart_thre_interrupt)
{
	struct uart_fixture f;

	if (!setup(&f, NULL))
		return;
	/* Enabling THRI with the (always) empty THR raises the line at once. */
	wr(&f, IER, IER_THRI);
	CHECK_EQ_U64(f.line.level, 1);
	CHECK_EQ_U64(rd(&f, IER), IER_THRI);
	/* Reading IIR reports THRE once and acknowledges it. */
	CHECK_EQ_U64(rd(&f, IIR), IIR_THRI);
	CHECK_EQ_U64(f.line.level, 0);
	CHECK_EQ_U64(rd(&f, IIR), IIR_NONE);
	CHECK_EQ_U64(f.line.level, 0);

	/* Each byte sent makes THR empty again. */
	wr(&f, THR, 'a');
	CHECK_EQ_U64(f.line.level, 1);
	CHECK_STR(output(&f, 1), "a");
	CHECK_EQ_U64(rd(&f, IIR), IIR_THRI);
	CHECK_EQ_U64(f.line.level, 0);
	CHECK_EQ_U64(rd(&f, IIR), IIR_NONE);

	/* Setting THRI again while it is already on raises nothing new. */
	wr(&f, IER, IER_THRI);
	CHECK_EQ_U64(f.line.level, 0);
	CHECK_EQ_U64(rd(&f, IIR), IIR_NONE);

	/* set_irq is called on changes only: up, down, up, down. */
	CHECK_EQ_U64(f.line.calls, 4);
	teardown(&f);
}

TEST(uart_thre_disable_drops_line)
{
	struct uart_fixture f;

	if (!setup(&f, NULL))
		return;
	wr(&f, IER, IER_THRI);
	CHECK_EQ_U64(f.line.level, 1);
	wr(&f, IER, 0);
	CHECK_EQ_U64(f.line.level, 0);
	CHECK_EQ_U64(rd(&f, IIR), IIR_NONE);
	/* A THR write with THRI off raises nothing. */
	wr(&f, THR, 'z');
	CHECK_EQ_U64(f.line.level, 0);
	teardown(&f);
}

TEST(uart_lsr)
{
	struct uart_fixture f;
	uint8_t c = 'q';

	if (!setup(&f, NULL))
		return;
	CHECK_EQ_U64(rd(&f, LSR), LSR_THRE | LSR_TEMT);
	wr(&f, THR, 'x');
	CHECK_EQ_U64(rd(&f, LSR), LSR_THRE | LSR_TEMT);
	wr(&f, IER, IER_RDI);
	CHECK_EQ_U64(uart_push_input(f.dev, &c, 1), 1);
	CHECK_EQ_U64(rd(&f, LSR), LSR_THRE | LSR_TEMT | LSR_DR);
	CHECK_EQ_U64(rd(&f, RBR), 'q');
	CHECK_EQ_U64(rd(&f, LSR), LSR_THRE | LSR_TEMT);
	teardown(&f);
}

TEST(uart_dlab)
{
	struct uart_fixture f;

	if (!setup(&f, NULL))
		return;
	wr(&f, IER, IER_RDI);
	/* 8N1 with DLAB set, as the 8250 driver does to program the baud rate. */
	wr(&f, LCR, 0x83);
	CHECK_EQ_U64(rd(&f, LCR), 0x83);
	wr(&f, DLL, 0x01);
	wr(&f, DLM, 0x02);
	CHECK_EQ_U64(rd(&f, DLL), 0x01);
	CHECK_EQ_U64(rd(&f, DLM), 0x02);
	/* IER was left alone. */
	wr(&f, LCR, 0x03);
	CHECK_EQ_U64(rd(&f, LCR), 0x03);
	CHECK_EQ_U64(rd(&f, IER), IER_RDI);
	CHECK_EQ_U64(rd(&f, RBR), 0);	/* empty FIFO, not the DLL */
	wr(&f, THR, 'k');
	/* The first byte out: the divisor writes were not bytes sent. */
	CHECK_STR(output(&f, 1), "k");
	/* The divisor survives. */
	wr(&f, LCR, 0x80);
	CHECK_EQ_U64(rd(&f, DLL), 0x01);
	CHECK_EQ_U64(rd(&f, DLM), 0x02);
	teardown(&f);
}

TEST(uart_scratch)
{
	struct uart_fixture f;

	if (!setup(&f, NULL))
		return;
	/* The 8250 driver probes for a 16450+ by writing and reading SCR. */
	wr(&f, SCR, 0xa5);
	CHECK_EQ_U64(rd(&f, SCR), 0xa5);
	wr(&f, SCR, 0x5a);
	CHECK_EQ_U64(rd(&f, SCR), 0x5a);
	teardown(&f);
}

TEST(uart_loopback)
{
	struct uart_fixture f;

	if (!setup(&f, NULL))
		return;
	/* Outside loopback the modem lines read as a connected cable. */
	CHECK_EQ_U64(rd(&f, MSR), 0xb0);

	/* The 8250 driver's autoconfig test: loopback with OUT2 set. */
	wr(&f, MCR, 0x10 | 0x08);
	CHECK_EQ_U64(rd(&f, MCR), 0x18);
	CHECK_EQ_U64(rd(&f, MSR), 0x80);	/* OUT2 -> DCD */
	wr(&f, MCR, 0x10 | 0x0f);
	CHECK_EQ_U64(rd(&f, MSR), 0xf0);

	wr(&f, THR, 'L');
	wr(&f, THR, 'b');
	CHECK_EQ_U64(rd(&f, LSR) & LSR_DR, LSR_DR);
	CHECK_EQ_U64(rd(&f, RBR), 'L');
	CHECK_EQ_U64(rd(&f, RBR), 'b');
	CHECK_EQ_U64(rd(&f, LSR) & LSR_DR, 0);

	/* Out of loopback, bytes go out again (and the looped ones did not). */
	wr(&f, MCR, 0x08);
	wr(&f, THR, 'o');
	CHECK_STR(output(&f, 1), "o");
	CHECK_EQ_U64(rd(&f, LSR) & LSR_DR, 0);
	teardown(&f);
}

TEST(uart_input_held_until_rdi)
{
	struct uart_fixture f;
	const uint8_t in[] = "abc";

	if (!setup(&f, NULL))
		return;
	/* Nobody listens yet: lvmm keeps the input, the FIFO stays empty. */
	CHECK_EQ_U64(uart_push_input(f.dev, in, 3), 3);
	CHECK_EQ_U64(rd(&f, LSR) & LSR_DR, 0);
	CHECK_EQ_U64(f.line.level, 0);
	wr(&f, IER, IER_THRI);
	rd(&f, IIR);
	CHECK_EQ_U64(rd(&f, LSR) & LSR_DR, 0);
	CHECK_EQ_U64(rd(&f, RBR), 0);

	wr(&f, IER, IER_RDI);
	CHECK_EQ_U64(f.line.level, 1);
	CHECK_EQ_U64(rd(&f, IIR), IIR_RDI);
	/* Reading IIR does not acknowledge received data. */
	CHECK_EQ_U64(rd(&f, IIR), IIR_RDI);
	CHECK_EQ_U64(f.line.level, 1);

	CHECK_EQ_U64(rd(&f, RBR), 'a');
	CHECK_EQ_U64(f.line.level, 1);
	CHECK_EQ_U64(rd(&f, RBR), 'b');
	CHECK_EQ_U64(rd(&f, RBR), 'c');
	CHECK_EQ_U64(f.line.level, 0);
	CHECK_EQ_U64(rd(&f, IIR), IIR_NONE);
	CHECK_EQ_U64(rd(&f, LSR) & LSR_DR, 0);
	/* An empty FIFO reads as 0 and stays empty. */
	CHECK_EQ_U64(rd(&f, RBR), 0);
	CHECK_EQ_U64(rd(&f, LSR) & LSR_DR, 0);
	CHECK_EQ_U64(uart_push_input(f.dev, in, 0), 0);
	/* Listening, input goes straight through. */
	CHECK_EQ_U64(uart_push_input(f.dev, in + 1, 1), 1);
	CHECK_EQ_U64(f.line.level, 1);
	CHECK_EQ_U64(rd(&f, RBR), 'b');
	teardown(&f);
}

TEST(uart_rx_before_thre)
{
	struct uart_fixture f;
	uint8_t c = 'r';

	if (!setup(&f, NULL))
		return;
	wr(&f, IER, IER_RDI | IER_THRI);
	CHECK_EQ_U64(uart_push_input(f.dev, &c, 1), 1);
	/* Received data outranks THRE, which stays pending under it. */
	CHECK_EQ_U64(rd(&f, IIR), IIR_RDI);
	CHECK_EQ_U64(rd(&f, RBR), 'r');
	CHECK_EQ_U64(f.line.level, 1);
	CHECK_EQ_U64(rd(&f, IIR), IIR_THRI);
	CHECK_EQ_U64(f.line.level, 0);
	CHECK_EQ_U64(rd(&f, IIR), IIR_NONE);
	teardown(&f);
}

TEST(uart_rx_fifo_refills_in_order)
{
	struct uart_fixture f;
	uint8_t in[40];

	if (!setup(&f, NULL))
		return;
	for (unsigned int i = 0; i < sizeof(in); i++)
		in[i] = 'A' + i;
	wr(&f, IER, IER_RDI);
	/* More than the FIFO: lvmm holds the rest and refills as the guest reads. */
	CHECK_EQ_U64(uart_push_input(f.dev, in, 20), 20);
	CHECK_EQ_U64(rd(&f, RBR), 'A');
	CHECK_EQ_U64(uart_push_input(f.dev, in + 20, 20), 20);
	for (unsigned int i = 1; i < sizeof(in); i++) {
		if (!CHECK_EQ_U64(rd(&f, LSR) & LSR_DR, LSR_DR) ||
		    !CHECK_EQ_U64(rd(&f, IIR), IIR_RDI) || !CHECK_EQ_U64(rd(&f, RBR), in[i])) {
			FAIL("at byte %u", i);
			break;
		}
	}
	CHECK_EQ_U64(rd(&f, LSR) & LSR_DR, 0);
	CHECK_EQ_U64(f.line.level, 0);
	teardown(&f);
}

TEST(uart_input_held_is_bounded)
{
	struct uart_fixture f;
	static uint8_t in[8192];

	if (!setup(&f, NULL))
		return;
	memset(in, 'h', sizeof(in));
	/* lvmm keeps 4 KiB for a guest that does not listen; then push says full. */
	CHECK_EQ_U64(uart_push_input(f.dev, in, sizeof(in)), 4096);
	CHECK_EQ_U64(uart_push_input(f.dev, in, 1), 0);
	wr(&f, IER, IER_RDI);
	CHECK_EQ_U64(rd(&f, RBR), 'h');
	/* The FIFO took 16 and the guest read one: room for 17 again. */
	CHECK_EQ_U64(uart_push_input(f.dev, in, sizeof(in)), 17);
	teardown(&f);
}

TEST(uart_fcr_clear_rx_keeps_input)
{
	struct uart_fixture f;
	const uint8_t in[] = "12345";

	if (!setup(&f, NULL))
		return;
	wr(&f, IER, IER_RDI);
	CHECK_EQ_U64(uart_push_input(f.dev, in, 5), 5);
	CHECK_EQ_U64(f.line.level, 1);
	CHECK_EQ_U64(rd(&f, RBR), '1');
	/*
	 * A receiver reset while listening: the bytes go back to lvmm and
	 * come straight back, in order; none is lost.
	 */
	wr(&f, FCR, 0x07);
	CHECK_EQ_U64(f.line.level, 1);
	/* The FIFO-enabled bits show in IIR. */
	CHECK_EQ_U64(rd(&f, IIR), 0xc0 | IIR_RDI);
	CHECK_EQ_U64(rd(&f, RBR), '2');
	/* FCR without bit 1 keeps the data. */
	wr(&f, FCR, 0x01);
	CHECK_EQ_U64(rd(&f, RBR), '3');

	/* Not listening: the reset hides the bytes until the guest listens. */
	wr(&f, IER, 0);
	wr(&f, FCR, 0x07);
	CHECK_EQ_U64(f.line.level, 0);
	CHECK_EQ_U64(rd(&f, LSR) & LSR_DR, 0);
	CHECK_EQ_U64(rd(&f, RBR), 0);
	CHECK_EQ_U64(rd(&f, IIR), 0xc0 | IIR_NONE);
	wr(&f, IER, IER_RDI);
	CHECK_EQ_U64(f.line.level, 1);
	CHECK_EQ_U64(rd(&f, RBR), '4');
	CHECK_EQ_U64(rd(&f, RBR), '5');
	CHECK_EQ_U64(rd(&f, LSR) & LSR_DR, 0);
	CHECK_EQ_U64(f.line.level, 0);
	teardown(&f);
}

/* Loopback bytes are the guest's own: a receiver reset drops them. */
TEST(uart_fcr_clear_rx_drops_looped_bytes)
{
	struct uart_fixture f;
	const uint8_t in = 'i';

	if (!setup(&f, NULL))
		return;
	wr(&f, IER, IER_RDI);
	CHECK_EQ_U64(uart_push_input(f.dev, &in, 1), 1);
	wr(&f, MCR, 0x18);
	wr(&f, THR, 'L');
	wr(&f, FCR, 0x07);
	wr(&f, MCR, 0x08);
	CHECK_EQ_U64(rd(&f, RBR), 'i');
	CHECK_EQ_U64(rd(&f, LSR) & LSR_DR, 0);
	teardown(&f);
}

TEST(uart_thre_ack_with_fifo_enabled)
{
	struct uart_fixture f;

	if (!setup(&f, NULL))
		return;
	wr(&f, FCR, 0x01);
	wr(&f, IER, IER_THRI);
	CHECK_EQ_U64(rd(&f, IIR), 0xc0 | IIR_THRI);
	CHECK_EQ_U64(f.line.level, 0);
	CHECK_EQ_U64(rd(&f, IIR), 0xc0 | IIR_NONE);
	teardown(&f);
}

TEST(uart_marker_seen)
{
	struct uart_fixture f;
	uint64_t before, seen;

	if (!setup(&f, "login:"))
		return;
	CHECK_EQ_U64(uart_marker_seen_ns(f.dev), 0);
	wr_str(&f, "Welcome\r\nbuildroot log");
	CHECK_EQ_U64(uart_marker_seen_ns(f.dev), 0);
	before = now_ns();
	wr_str(&f, "in: ");
	seen = uart_marker_seen_ns(f.dev);
	CHECK(seen != 0);
	CHECK(seen >= before && seen <= now_ns());
	/* The first appearance counts; later ones do not move it. */
	wr_str(&f, "\r\nlogin: ");
	CHECK_EQ_U64(uart_marker_seen_ns(f.dev), seen);
	CHECK_STR(output(&f, 35), "Welcome\r\nbuildroot login: \r\nlogin: ");
	teardown(&f);
}

TEST(uart_marker_not_seen)
{
	struct uart_fixture f;

	/* No marker asked for: never timed. */
	if (!setup(&f, NULL))
		return;
	wr_str(&f, "login: ");
	CHECK_EQ_U64(uart_marker_seen_ns(f.dev), 0);
	teardown(&f);

	/* Only part of it, or split by another byte. */
	if (!setup(&f, "login:"))
		return;
	wr_str(&f, "logi\nn: login");
	CHECK_EQ_U64(uart_marker_seen_ns(f.dev), 0);
	teardown(&f);

	/* Looped back bytes never reach the console. */
	if (!setup(&f, "OK"))
		return;
	wr(&f, MCR, 0x18);
	wr_str(&f, "OK");
	CHECK_EQ_U64(uart_marker_seen_ns(f.dev), 0);
	teardown(&f);
}

TEST(uart_marker_after_false_start)
{
	struct uart_fixture f;

	/* A partial match that restarts on the marker's first byte. */
	if (!setup(&f, "login:"))
		return;
	wr_str(&f, "loglogin:");
	CHECK(uart_marker_seen_ns(f.dev) != 0);
	teardown(&f);
}

/*
 * A marker whose prefix repeats inside it ("== BOOT" after "==="): the
 * header promises the first appearance of the text, wherever it starts.
 */
TEST(uart_marker_repeated_prefix)
{
	static const struct {
		const char *marker, *text;
	} cases[] = {
		{ "aab", "aaab" },
		{ "== OK", "=== OK" },
		{ "abab!", "ababab!" },
	};
	struct uart_fixture f;

	for (unsigned int i = 0; i < ARRAY_SIZE(cases); i++) {
		if (!setup(&f, cases[i].marker))
			return;
		wr_str(&f, cases[i].text);
		if (!CHECK(uart_marker_seen_ns(f.dev) != 0))
			FAIL("marker \"%s\" not found in \"%s\"", cases[i].marker, cases[i].text);
		teardown(&f);
	}
}

/*
 * A UART whose stdout is a pipe nobody reads (blocking, as stdout is):
 * the device, its writer thread and the reading end.
 */
struct stalled {
	struct device *dev;
	struct line line;
	int pipe[2];
};

static bool stalled_setup(struct stalled *s)
{
	struct uart_console_opts opts = { .in_fd = -1 };

	memset(s, 0, sizeof(*s));
	if (!CHECK_EQ_INT(pipe2(s->pipe, O_CLOEXEC), 0))
		return false;
	opts.out_fd = s->pipe[1];
	s->dev = uart_create("uart0", 0x09000000, 33, &opts);
	if (!CHECK(s->dev))
		return false;
	s->dev->set_irq = record_irq;
	s->dev->irq_ctx = &s->line;
	return CHECK_EQ_INT(s->dev->ops->start(s->dev), 0);
}

static uint8_t srd(struct stalled *s, uint64_t off)
{
	uint8_t v = 0xff;

	s->dev->ops->mmio_read(s->dev, off, &v, 1);
	return v;
}

static void swr(struct stalled *s, uint64_t off, uint8_t v)
{
	s->dev->ops->mmio_write(s->dev, off, &v, 1);
}

/*
 * Issue 8: a THR write used to write() to stdout under the device lock, so
 * a full pipe (or a terminal stopped with Ctrl-S) hung the vCPU, and pause,
 * snapshot and stop with it. A guest writing THR blindly must never block
 * (this test would hang until the framework's timeout); THR then shows busy.
 */
TEST(uart_thr_never_blocks_on_stalled_stdout)
{
	struct stalled s;
	uint64_t t0;
	char stats[128];

	if (!stalled_setup(&s))
		return;
	t0 = now_ns();
	/* Far more than the pipe (64 KiB) and lvmm's buffer together. */
	for (unsigned int i = 0; i < 1024 * 1024; i++)
		swr(&s, THR, 'x');
	CHECK(now_ns() - t0 < 5000000000ULL);
	CHECK_EQ_U64(srd(&s, LSR) & (LSR_THRE | LSR_TEMT), 0);
	/* The bytes written into a busy THR were dropped, and counted. */
	s.dev->ops->stats(s.dev, stats, sizeof(stats));
	CHECK_CONTAINS(stats, "tx_dropped=");
	CHECK(!strstr(stats, "tx_dropped=0 "));
	/* Ending the VM does not wait for the reader for ever either. */
	t0 = now_ns();
	s.dev->ops->free(s.dev);
	CHECK(now_ns() - t0 < 5000000000ULL);
	close(s.pipe[0]);
	close(s.pipe[1]);
}

/*
 * A guest that waits for THRE (as Linux's driver does, by interrupt) loses
 * nothing however slow the reader: every byte arrives, in order.
 */
TEST(uart_thre_backpressure_loses_nothing)
{
	static uint8_t got[300000];
	struct stalled s;
	size_t sent = 0, have = 0;
	unsigned int busy = 0, irqs_after_busy = 0;

	if (!stalled_setup(&s))
		return;
	swr(&s, IER, IER_THRI);
	while (sent < sizeof(got)) {
		if (srd(&s, LSR) & LSR_THRE) {
			/* THRE: a FIFO load (16 bytes) may go. */
			for (unsigned int i = 0; i < 16 && sent < sizeof(got); i++, sent++)
				swr(&s, THR, (uint8_t)(sent * 7 + sent / 251));
			srd(&s, IIR);
			continue;
		}
		busy++;
		/* Busy: the line is down until the reader makes room. */
		if (!CHECK_EQ_U64(s.line.level, 0))
			break;
		while (have < sizeof(got) && !s.line.level) {
			ssize_t n = read(s.pipe[0], got + have, MIN(1000, sizeof(got) - have));

			if (n > 0)
				have += n;
		}
		irqs_after_busy += s.line.level;
		CHECK_EQ_U64(srd(&s, IIR) & 0x0f, IIR_THRI);
	}
	while (have < sizeof(got)) {
		ssize_t n = read(s.pipe[0], got + have, sizeof(got) - have);

		if (n <= 0)
			break;
		have += n;
	}
	CHECK(busy > 0);
	CHECK_EQ_U64(irqs_after_busy, busy);
	CHECK_EQ_U64(have, sizeof(got));
	for (size_t i = 0; i < have; i++) {
		if (got[i] != (uint8_t)(i * 7 + i / 251)) {
			FAIL("byte %zu differs", i);
			break;
		}
	}
	s.dev->ops->free(s.dev);
	close(s.pipe[0]);
	close(s.pipe[1]);
}

/* A reader gone for good: output becomes a sink, THR never stays busy. */
TEST(uart_stdout_reader_gone)
{
	struct stalled s;
	char stats[128];

	if (!stalled_setup(&s))
		return;
	close(s.pipe[0]);
	/* A guest that waits for THRE: it never waits long, and all is taken. */
	for (unsigned int i = 0, waits = 0; i < 200000 && waits < 500;) {
		if (srd(&s, LSR) & LSR_THRE) {
			swr(&s, THR, 'g');
			i++;
		} else {
			usleep(10000);
			waits++;
		}
	}
	/* The writer saw EPIPE (not SIGPIPE, which would have ended us). */
	CHECK_EQ_U64(srd(&s, LSR) & (LSR_THRE | LSR_TEMT), LSR_THRE | LSR_TEMT);
	s.dev->ops->stats(s.dev, stats, sizeof(stats));
	CHECK_CONTAINS(stats, "tx_bytes=200000 tx_dropped=200000 ");
	s.dev->ops->free(s.dev);
	close(s.pipe[1]);
}

/*
 * Issue 9: a guest that polls (kvm-unit-tests, U-Boot, bare metal) gets
 * input with the receive interrupt off.
 */
TEST(uart_polling_guest_gets_input)
{
	struct uart_fixture f;
	const uint8_t in[] = "xy";

	if (!setup(&f, NULL))
		return;
	CHECK_EQ_U64(uart_push_input(f.dev, in, 2), 2);
	CHECK_EQ_U64(rd(&f, IER), 0);
	CHECK(poll_lsr(&f, POLL_READS) <= POLL_READS);
	CHECK_EQ_U64(rd(&f, RBR), 'x');
	CHECK_EQ_U64(rd(&f, LSR) & LSR_DR, LSR_DR);
	CHECK_EQ_U64(rd(&f, RBR), 'y');
	CHECK_EQ_U64(rd(&f, LSR) & LSR_DR, 0);
	/* No interrupt for it: IER is 0. */
	CHECK_EQ_U64(f.line.level, 0);
	/* Once polling, input typed later shows at the next LSR read. */
	CHECK_EQ_U64(uart_push_input(f.dev, in, 1), 1);
	CHECK_EQ_U64(rd(&f, LSR) & LSR_DR, LSR_DR);
	CHECK_EQ_U64(rd(&f, RBR), 'x');
	teardown(&f);
}

/* The same after a firmware-style init that resets the FIFOs (U-Boot's). */
TEST(uart_polling_after_fifo_reset)
{
	struct uart_fixture f;
	const uint8_t in[] = "k";

	if (!setup(&f, NULL))
		return;
	CHECK_EQ_U64(uart_push_input(f.dev, in, 1), 1);
	wr(&f, IER, 0);
	wr(&f, MCR, 0x03);
	wr(&f, FCR, 0x07);
	wr(&f, LCR, 0x83);
	wr(&f, DLL, 1);
	wr(&f, DLM, 0);
	wr(&f, LCR, 0x03);
	CHECK(poll_lsr(&f, POLL_READS) <= POLL_READS);
	CHECK_EQ_U64(rd(&f, RBR), 'k');
	/* A second init while polling: bytes not read yet are not lost. */
	CHECK_EQ_U64(uart_push_input(f.dev, (const uint8_t *)"mn", 2), 2);
	CHECK_EQ_U64(rd(&f, LSR) & LSR_DR, LSR_DR);
	wr(&f, FCR, 0x07);
	CHECK(poll_lsr(&f, POLL_READS) <= POLL_READS);
	CHECK_EQ_U64(rd(&f, RBR), 'm');
	CHECK_EQ_U64(rd(&f, RBR), 'n');
	teardown(&f);
}

/* Linux's 8250 console printing one line with IER saved and cleared. */
static void linux_console_write(struct uart_fixture *f, const char *s)
{
	uint8_t ier = rd(f, IER);

	wr(f, IER, 0);
	for (; *s; s++) {
		while (!(rd(f, LSR) & LSR_THRE))
			;
		wr(f, THR, *s);
	}
	while ((rd(f, LSR) & (LSR_THRE | LSR_TEMT)) != (LSR_THRE | LSR_TEMT))
		;
	wr(f, IER, ier);
}

/* serial8250_do_startup then serial8250_do_set_termios (Linux 6.12), in order. */
static void linux_port_open(struct uart_fixture *f)
{
	/* serial8250_clear_fifos */
	wr(f, FCR, 0x01);
	wr(f, FCR, 0x07);
	wr(f, FCR, 0x00);
	/* "Clear the interrupt registers", then the LSR 0xff check */
	rd(f, LSR);
	rd(f, RBR);
	rd(f, IIR);
	rd(f, MSR);
	rd(f, LSR);
	/* THRE re-assert test: wait_for_xmitr, then IER THRI off and on */
	rd(f, LSR);
	wr(f, IER, IER_THRI);
	rd(f, IIR);
	wr(f, IER, 0);
	wr(f, IER, IER_THRI);
	rd(f, IIR);
	wr(f, IER, 0);
	wr(f, LCR, 0x03);
	wr(f, MCR, 0x08 | 0x03);
	/* TX enable test */
	wr(f, IER, IER_THRI);
	rd(f, LSR);
	rd(f, IIR);
	wr(f, IER, 0);
	/* "Clear the interrupt registers again for luck" */
	rd(f, LSR);
	rd(f, RBR);
	rd(f, IIR);
	rd(f, MSR);
	/* set_termios: IER (RLSI | RDI) first, then divisor and FCR */
	wr(f, IER, 0x05);
	wr(f, LCR, 0x83);
	wr(f, DLL, 1);
	wr(f, DLM, 0);
	wr(f, LCR, 0x03);
	wr(f, FCR, 0x01);
	wr(f, FCR, 0x81);
	wr(f, MCR, 0x0b);
}

/* serial8250_do_shutdown */
static void linux_port_close(struct uart_fixture *f)
{
	wr(f, IER, 0);
	wr(f, MCR, 0x03);
	wr(f, LCR, rd(f, LCR) & ~0x40);
	wr(f, FCR, 0x01);
	wr(f, FCR, 0x07);
	wr(f, FCR, 0x00);
	rd(f, RBR);
}

/* Drain the FIFO as Linux's interrupt handler does; returns what it read. */
static const char *linux_rx(struct uart_fixture *f)
{
	static char buf[64];
	unsigned int n = 0;

	while (f->line.level && (rd(f, IIR) & 0x0f) == IIR_RDI) {
		while ((rd(f, LSR) & LSR_DR) && n < sizeof(buf) - 1)
			buf[n++] = rd(f, RBR);
	}
	buf[n] = '\0';
	return buf;
}

/*
 * README: "Input is held (not dropped) until the guest opens its serial
 * port". Linux clears the FIFO and throws away two RBR reads while opening
 * the port with IER 0; input typed during boot must survive that.
 */
TEST(uart_linux_open_keeps_early_input)
{
	struct uart_fixture f;

	if (!setup(&f, NULL))
		return;
	CHECK_EQ_U64(uart_push_input(f.dev, (const uint8_t *)"early\n", 6), 6);
	/* Boot: many console lines, IER 0 while printing. */
	for (unsigned int i = 0; i < 50; i++)
		linux_console_write(&f, "[    0.000000] Booting Linux on physical CPU 0x0\r\n");
	CHECK_EQ_U64(f.line.level, 0);
	linux_port_open(&f);
	CHECK_EQ_U64(f.line.level, 1);
	CHECK_STR(linux_rx(&f), "early\n");
	/* The port works on: input, and output with its console lines. */
	linux_console_write(&f, "# ");
	CHECK_EQ_U64(uart_push_input(f.dev, (const uint8_t *)"ls\n", 3), 3);
	CHECK_STR(linux_rx(&f), "ls\n");

	/* Closed again (the last process let go): input waits for the next open. */
	linux_port_close(&f);
	CHECK_EQ_U64(uart_push_input(f.dev, (const uint8_t *)"later", 5), 5);
	for (unsigned int i = 0; i < 5; i++)
		linux_console_write(&f, "reboot: Restarting system\r\n");
	CHECK_EQ_U64(f.line.level, 0);
	linux_port_open(&f);
	CHECK_STR(linux_rx(&f), "later");
	teardown(&f);
}

/* Input that was in the FIFO when Linux closed the port is not lost either. */
TEST(uart_linux_close_keeps_unread_input)
{
	struct uart_fixture f;

	if (!setup(&f, NULL))
		return;
	linux_port_open(&f);
	CHECK_EQ_U64(uart_push_input(f.dev, (const uint8_t *)"unread", 6), 6);
	CHECK_EQ_U64(f.line.level, 1);
	linux_port_close(&f);
	CHECK_EQ_U64(f.line.level, 0);
	linux_port_open(&f);
	CHECK_STR(linux_rx(&f), "unread");
	teardown(&f);
}

/* Save one UART, restore it into a fresh one (started, output to a pipe). */
static struct state_reader *save_uart(struct device *dev, struct state_writer *w)
{
	static struct state_reader r;
	char err[128];

	sw_init(w);
	if (!CHECK_EQ_INT(dev->ops->save(dev, w), 0) || !CHECK_EQ_INT(sw_finish(w), 0))
		return NULL;
	if (!CHECK_EQ_INT(sr_open(&r, w->buf, w->len, err, sizeof(err)), 0)) {
		FAIL("sr_open: %s", err);
		return NULL;
	}
	return &r;
}

/*
 * Nothing the guest wrote or was sent is lost across a snapshot: output
 * stdout had not taken yet, the FIFO and the input lvmm still holds.
 */
TEST(uart_snapshot_keeps_pending_io)
{
	struct uart_console_opts opts = { .in_fd = -1 };
	struct uart_fixture f;
	struct state_writer w;
	struct state_reader *r;
	const struct state_section *sec;
	struct device *src;
	const void *rx;
	uint32_t len = 0;
	char err[128];
	int p[2];
	uint8_t in[20];

	/* Not started: the output stays in the buffer, as with a stalled stdout. */
	if (!CHECK_EQ_INT(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0))
		return;
	opts.out_fd = p[1];
	src = uart_create("uart0", 0x09000000, 33, &opts);
	if (!CHECK(src))
		return;
	for (unsigned int i = 0; i < sizeof(in); i++)
		in[i] = 'a' + i;
	{
		uint8_t v = IER_RDI;

		src->ops->mmio_write(src, IER, &v, 1);
		for (const char *s = "not yet out"; *s; s++)
			src->ops->mmio_write(src, THR, s, 1);
	}
	CHECK_EQ_U64(uart_push_input(src, in, sizeof(in)), sizeof(in));
	r = save_uart(src, &w);
	src->ops->free(src);
	close(p[0]);
	close(p[1]);
	if (!r)
		return;
	sec = sr_section(r, "uart0");
	if (!CHECK(sec))
		return;
	/* The guest sees a 16-byte FIFO; lvmm held the other 4. */
	rx = ss_get(sec, 10, &len);
	CHECK(rx);
	CHECK_EQ_U64(len, 16);

	if (!setup(&f, NULL))
		return;
	if (CHECK_EQ_INT(f.dev->ops->restore(f.dev, sec, err, sizeof(err)), 0)) {
		CHECK_STR(output(&f, 11), "not yet out");
		CHECK_EQ_U64(f.line.level, 1);
		for (unsigned int i = 0; i < sizeof(in); i++)
			if (!CHECK_EQ_U64(rd(&f, RBR), in[i]))
				break;
		CHECK_EQ_U64(rd(&f, LSR) & LSR_DR, 0);
	} else {
		FAIL("restore: %s", err);
	}
	sr_close(r);
	sw_free(&w);
	teardown(&f);
}
