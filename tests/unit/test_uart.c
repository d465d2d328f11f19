// SPDX-License-Identifier: GPL-2.0
/*
 * The 16550 as the guest's driver sees it: register reads and writes
 * through the device's MMIO handlers, and the interrupt line it drives.
 * Only what Linux's 8250 driver relies on is checked, plus the input
 * hold-back and the --stats-marker timing that lvmm adds.
 */
#include "test.h"
#include "../../devices/device.h"
#include "../../util.h"

#include <errno.h>
#include <fcntl.h>
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
	return true;
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

/* What the guest has transmitted since the last call, as a string. */
static const char *drain_output(struct uart_fixture *f)
{
	static char buf[256];
	ssize_t n = read(f->pipe[0], buf, sizeof(buf) - 1);

	buf[n > 0 ? n : 0] = '\0';
	return buf;
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
	CHECK_STR(drain_output(&f), "Hello\r\n");
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
	CHECK_STR(drain_output(&f), "a");
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
	/* The divisor write is not a byte sent, and IER was left alone. */
	CHECK_STR(drain_output(&f), "");
	wr(&f, LCR, 0x03);
	CHECK_EQ_U64(rd(&f, LCR), 0x03);
	CHECK_EQ_U64(rd(&f, IER), IER_RDI);
	CHECK_EQ_U64(rd(&f, RBR), 0);	/* empty FIFO, not the DLL */
	wr(&f, THR, 'k');
	CHECK_STR(drain_output(&f), "k");
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
	CHECK_STR(drain_output(&f), "");
	CHECK_EQ_U64(rd(&f, LSR) & LSR_DR, LSR_DR);
	CHECK_EQ_U64(rd(&f, RBR), 'L');
	CHECK_EQ_U64(rd(&f, RBR), 'b');
	CHECK_EQ_U64(rd(&f, LSR) & LSR_DR, 0);

	/* Out of loopback, bytes go out again. */
	wr(&f, MCR, 0x08);
	wr(&f, THR, 'o');
	CHECK_STR(drain_output(&f), "o");
	CHECK_EQ_U64(rd(&f, LSR) & LSR_DR, 0);
	teardown(&f);
}

TEST(uart_input_held_until_rdi)
{
	struct uart_fixture f;
	const uint8_t in[] = "abc";

	if (!setup(&f, NULL))
		return;
	/* Nobody listens yet: the input waits outside the FIFO. */
	CHECK_EQ_U64(uart_push_input(f.dev, in, 3), 0);
	CHECK_EQ_U64(rd(&f, LSR) & LSR_DR, 0);
	CHECK_EQ_U64(f.line.level, 0);
	wr(&f, IER, IER_THRI);
	rd(&f, IIR);
	CHECK_EQ_U64(uart_push_input(f.dev, in, 3), 0);

	wr(&f, IER, IER_RDI);
	CHECK_EQ_U64(f.line.level, 0);
	CHECK_EQ_U64(uart_push_input(f.dev, in, 3), 3);
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

TEST(uart_rx_fifo_16_bytes)
{
	struct uart_fixture f;
	uint8_t in[20];

	if (!setup(&f, NULL))
		return;
	for (unsigned int i = 0; i < sizeof(in); i++)
		in[i] = 'A' + i;
	wr(&f, IER, IER_RDI);
	CHECK_EQ_U64(uart_push_input(f.dev, in, sizeof(in)), 16);
	CHECK_EQ_U64(uart_push_input(f.dev, in + 16, 4), 0);
	CHECK_EQ_U64(rd(&f, RBR), 'A');
	/* One byte read, room for one more: the ring wraps. */
	CHECK_EQ_U64(uart_push_input(f.dev, in + 16, 4), 1);
	for (unsigned int i = 1; i <= 16; i++) {
		if (!CHECK_EQ_U64(rd(&f, RBR), in[i]))
			FAIL("at byte %u", i);
	}
	CHECK_EQ_U64(rd(&f, LSR) & LSR_DR, 0);
	CHECK_EQ_U64(f.line.level, 0);
	teardown(&f);
}

TEST(uart_fcr_clears_rx)
{
	struct uart_fixture f;
	const uint8_t in[] = "12345";

	if (!setup(&f, NULL))
		return;
	wr(&f, IER, IER_RDI);
	CHECK_EQ_U64(uart_push_input(f.dev, in, 5), 5);
	CHECK_EQ_U64(f.line.level, 1);
	/* FIFO enabled, RX and TX cleared, as the driver does on open. */
	wr(&f, FCR, 0x07);
	CHECK_EQ_U64(f.line.level, 0);
	CHECK_EQ_U64(rd(&f, LSR) & LSR_DR, 0);
	/* The FIFO-enabled bits show in IIR. */
	CHECK_EQ_U64(rd(&f, IIR), 0xc0 | IIR_NONE);
	CHECK_EQ_U64(uart_push_input(f.dev, in, 5), 5);
	CHECK_EQ_U64(rd(&f, IIR), 0xc0 | IIR_RDI);
	CHECK_EQ_U64(rd(&f, RBR), '1');
	/* FCR without bit 1 keeps the data. */
	wr(&f, FCR, 0x01);
	CHECK_EQ_U64(rd(&f, RBR), '2');
	wr(&f, FCR, 0x02);
	CHECK_EQ_U64(rd(&f, LSR) & LSR_DR, 0);
	CHECK_EQ_U64(rd(&f, IIR), IIR_NONE);
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
	CHECK_STR(drain_output(&f), "Welcome\r\nbuildroot login: \r\nlogin: ");
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
