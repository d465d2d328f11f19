// SPDX-License-Identifier: GPL-2.0
/*
 * Writes the seeds of the virtio and UART fuzz targets: scripts in the
 * language of tests/fuzz/virtio_harness.h (and fuzz_uart.c) that reach deep
 * states at once: rings at the end of RAM, more completions than the ring
 * holds, resets and queue disables with buffers in flight, snapshot cycles,
 * and the sequences of known bugs.
 *
 *   cc -o /tmp/gen tests/fuzz/seeds/gen.c && /tmp/gen tests/fuzz/corpus
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The harness's operations (enum vh_op) and registers. */
enum { MMIO_WRITE, MMIO_READ, RAM_WRITE, PROCESS, INIT, QUEUE_SETUP, POST, LOOP, BACKEND,
       RESET, SNAPSHOT, QUEUE_READY };
enum { L_OWN, L_USED_END, L_AVAIL_END, L_DESC_END, L_EXPLICIT };
#define REG_QUEUE_SEL	0x30
#define REG_QUEUE_NUM	0x38
#define REG_QUEUE_READY	0x44
#define REG_STATUS	0x70
#define POST_NO_NOTIFY	1
#define POST_AT_END	2

static uint8_t buf[65536];
static size_t len;

static void b(unsigned int v) { buf[len++] = v; }
static void w16(unsigned int v) { b(v & 0xff); b(v >> 8); }
static void w32(uint32_t v) { w16(v & 0xffff); w16(v >> 16); }
static void w64(uint64_t v) { w32((uint32_t)v); w32(v >> 32); }

static void mmio_write32(unsigned int off, uint32_t v) { b(MMIO_WRITE); w16(off); b(2); w64(v); }
static void mmio_read(unsigned int off, unsigned int size_log2) { b(MMIO_READ); w16(off); b(size_log2); }
static void process(void) { b(PROCESS); }
static void init(unsigned int how) { b(INIT); b(how); }
static void qsetup(unsigned int q, unsigned int log2, unsigned int layout)
{
	b(QUEUE_SETUP); b(q); b(log2); b(layout);
}
static void loop(unsigned int q, unsigned int rounds) { b(LOOP); b(q); b(rounds); }
static void reset(void) { b(RESET); }
static void snapshot(unsigned int how) { b(SNAPSHOT); b(how); }
static void qready(unsigned int q, unsigned int ready) { b(QUEUE_READY); b(q); b(ready); }
static void qready_num(unsigned int q, unsigned int ready, unsigned int num)
{
	b(QUEUE_READY); b(q); b(ready | 2); w16(num);
}

/* A chain: n segments, the first n_out device-readable; content into the first. */
static void post(unsigned int q, unsigned int n, unsigned int n_out, unsigned int flags,
		 const uint16_t *lens, const void *content, unsigned int clen)
{
	b(POST); b(q); b(n - 1); b(n_out); b(flags);
	for (unsigned int i = 0; i < n; i++)
		w16(lens[i]);
	b(clen);
	memcpy(buf + len, content, clen);
	len += clen;
}

static void post1(unsigned int q, unsigned int seglen, int writable, unsigned int flags)
{
	uint16_t l[1] = { seglen };

	post(q, 1, writable ? 0 : 1, flags, l, "", 0);
}

static const char *outdir;

static void save(const char *target, const char *name)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", outdir, target);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%s/%s", outdir, target, name);
	f = fopen(path, "wb");
	if (!f || fwrite(buf, 1, len, f) != len || fclose(f)) {
		perror(path);
		exit(1);
	}
	len = 0;
}

/* ---- seeds every virtio device gets --------------------------------------- */

/* in_q takes device-writable buffers, out_q readable ones (out_q < 0: none). */
static void common(const char *t, int in_q, int out_q, unsigned int nq)
{
	/* Register sweep: every transport register and config offset, all sizes. */
	for (unsigned int off = 0; off < 0x120; off += 4)
		mmio_read(off, 2);
	for (unsigned int off = 0x100; off < 0x140; off++)
		mmio_read(off, off & 3);
	init(0);
	for (unsigned int off = 0; off < 0x100; off += 4)
		mmio_read(off, 2);
	save(t, "registers");

	/* Every queue up, a chain on each, one wakeup. */
	init(0);
	for (unsigned int q = 0; q < nq; q++)
		qsetup(q, 4, L_OWN);
	post1(in_q, 256, 1, 0);
	if (out_q >= 0)
		post1(out_q, 64, 0, 0);
	process();
	save(t, "basic");

	/* Rings at the end of RAM, and more completions than each ring holds. */
	for (unsigned int layout = L_USED_END; layout <= L_DESC_END; layout++) {
		char name[32];

		init(0);
		qsetup(in_q, 3, layout);
		post1(in_q, 128, 1, 0);
		loop(in_q, 40);
		if (out_q >= 0) {
			qsetup(out_q, 2, layout == L_USED_END ? L_OWN : layout);
			post1(out_q, 64, 0, POST_AT_END);
			loop(out_q, 20);
		}
		snprintf(name, sizeof(name), "ring-at-end-%u", layout);
		save(t, name);
	}

	/* Buffers ending at the last byte of RAM, a long chain, the largest ring. */
	init(0);
	qsetup(in_q, 8, L_USED_END);
	{
		uint16_t l[8] = { 16, 100, 512, 7, 1, 0, 300, 64 };

		post(in_q, 8, in_q == out_q ? 1 : 0, POST_AT_END, l, "", 0);
	}
	loop(in_q, 255);
	loop(in_q, 60);
	save(t, "wrap-256");

	/* Reset with buffers taken, then up again. */
	init(0);
	qsetup(in_q, 2, L_OWN);
	post1(in_q, 64, 1, 0);
	post1(in_q, 64, 1, 0);
	process();
	reset();
	process();
	init(0);
	qsetup(in_q, 2, L_USED_END);
	post1(in_q, 64, 1, 0);
	loop(in_q, 9);
	save(t, "reset-mid-flight");

	/* Queue disabled and enabled again with buffers posted. */
	init(0);
	qsetup(in_q, 3, L_OWN);
	post1(in_q, 32, 1, POST_NO_NOTIFY);
	qready(in_q, 0);
	process();
	qready(in_q, 1);
	post1(in_q, 32, 1, 0);
	process();
	save(t, "queue-disable");

	/* Snapshot cycles: go on, and restore into a fresh device, with work pending. */
	init(0);
	for (unsigned int q = 0; q < nq; q++)
		qsetup(q, 3, q == (unsigned int)in_q ? L_USED_END : L_OWN);
	post1(in_q, 64, 1, 0);
	loop(in_q, 5);
	snapshot(0);
	post1(in_q, 64, 1, POST_NO_NOTIFY);
	snapshot(1);
	loop(in_q, 12);
	snapshot(1);
	process();
	save(t, "snapshot");

	/* A malformed chain breaks the device; reset recovers it. */
	init(0);
	qsetup(in_q, 2, L_OWN);
	post1(in_q, 64, 1, 0);
	/* descriptor 0's next pointing at itself, flagged NEXT */
	b(RAM_WRITE); w16(in_q * 0x2000 + 12); b(4); w16(1); w16(0);
	process();
	snapshot(1);
	mmio_read(0x70, 2);
	init(0);
	qsetup(in_q, 2, L_OWN);
	post1(in_q, 64, 1, 0);
	process();
	save(t, "broken-then-reset");
}

/* ---- virtio-net: queue 0 receives, queue 1 transmits ---------------------- */

static void frame(unsigned int n)
{
	b(BACKEND); w16(n);
	for (unsigned int i = 0; i < n; i++)
		b(i < 12 ? 0 : (uint8_t)(i * 7));
}

static void net(void)
{
	const char *t = "virtio_net";
	static const uint8_t tx[64] = { [12] = 0xff, [13] = 0xff };
	uint16_t txl[2] = { 12, 52 };

	common(t, 0, 1, 2);

	/* Frames both ways, including short and oversized ones. */
	init(0);
	qsetup(0, 4, L_OWN);
	qsetup(1, 4, L_OWN);
	post1(0, 1526, 1, 0);
	post1(0, 8, 1, 0);	/* shorter than the header */
	post1(0, 60, 1, 0);	/* a frame cut short */
	frame(60);
	frame(1514);
	process();
	frame(42);
	process();
	post(1, 2, 2, 0, txl, tx, sizeof(tx));
	post1(1, 4, 0, 0);	/* shorter than the header */
	process();
	save(t, "frames");

	/* A receive buffer held (no frame yet) across a snapshot. */
	init(0);
	qsetup(0, 3, L_OWN);
	qsetup(1, 3, L_OWN);
	post1(0, 1526, 1, 0);
	process();
	snapshot(1);
	frame(100);
	process();
	save(t, "held-buffer-snapshot");

	/*
	 * Bug 1: a receive buffer held when the guest disables the queue and
	 * writes a new QueueNum; the next frame is pushed with the new size
	 * masking the used index against the old used ring, here at the end
	 * of RAM after more completions than it holds.
	 */
	init(0);
	qsetup(0, 3, L_USED_END);
	qsetup(1, 3, L_OWN);
	post1(0, 1526, 1, 0);
	loop(0, 8);
	post1(0, 1526, 1, 0);
	process();		/* held: no frame */
	qready_num(0, 0, 0);	/* QueueReady = 0, QueueNum = 0 */
	frame(64);
	process();
	save(t, "bug1-held-buffer-queue-resize");

	/* The same with a raw register write sequence and a larger new size. */
	init(0);
	qsetup(0, 3, L_USED_END);
	post1(0, 1526, 1, 0);
	loop(0, 8);
	post1(0, 1526, 1, 0);
	process();
	mmio_write32(REG_QUEUE_SEL, 0);
	mmio_write32(REG_QUEUE_READY, 0);
	mmio_write32(REG_QUEUE_NUM, 256);
	frame(64);
	process();
	save(t, "bug1-raw-registers");

	/*
	 * Bug 8: a receive buffer held across QueueReady 0 then 1 (last_avail
	 * back to 0), then a snapshot: the quiesce hands the buffer back by
	 * stepping last_avail to 65535.
	 */
	init(0);
	qsetup(0, 3, L_OWN);
	post1(0, 1526, 1, 0);
	loop(0, 3);
	post1(0, 1526, 1, 0);
	process();		/* held */
	qready(0, 0);
	qready(0, 1);
	snapshot(1);
	post1(0, 1526, 1, 0);
	frame(64);
	process();
	save(t, "bug8-held-buffer-reenable-snapshot");
}

/* ---- virtio-blk: two queues (multiqueue); header, data, status ------------ */

struct blk_hdr {
	uint32_t type, reserved;
	uint64_t sector;
};

static void blk_req_on(uint8_t q, uint32_t type, uint64_t sector, unsigned int data_len,
		       int write_data, unsigned int flags)
{
	struct blk_hdr h = { type, 0, sector };
	uint16_t l[3] = { sizeof(h), data_len, 1 };

	if (!data_len) {
		l[1] = 1;
		post(q, 2, 1, flags, l, &h, sizeof(h));
	} else {
		post(q, 3, write_data ? 2 : 1, flags, l, &h, sizeof(h));
	}
}

static void blk_req(uint32_t type, uint64_t sector, unsigned int data_len, int write_data,
		    unsigned int flags)
{
	blk_req_on(0, type, sector, data_len, write_data, flags);
}

static void blk(void)
{
	const char *t = "virtio_blk";

	common(t, 0, -1, 2);

	/* Every request type, and sectors at and past the end of the disk (128). */
	init(0);
	qsetup(0, 5, L_OWN);
	blk_req(0, 0, 512, 0, 0);
	blk_req(1, 1, 1024, 1, 0);
	blk_req(4, 0, 0, 0, 0);
	blk_req(8, 0, 20, 0, 0);
	blk_req(11, 0, 0, 0, 0);
	blk_req(0, 127, 512, 0, 0);
	blk_req(0, 127, 1024, 0, 0);
	blk_req(1, 128, 512, 1, 0);
	blk_req(0, ~0ULL, 512, 0, 0);
	blk_req(0, 3, 100, 0, 0);	/* not whole sectors */
	process();
	process();
	save(t, "requests");

	/* Reads into a buffer ending at the end of RAM, more completions than the ring. */
	init(0);
	qsetup(0, 2, L_USED_END);
	blk_req(0, 5, 2048, 0, POST_AT_END);
	loop(0, 30);
	blk_req(1, 6, 2048, 1, POST_AT_END);
	loop(0, 30);
	save(t, "io-at-end-of-ram");

	/* Requests in flight across a reset, a queue disable, a snapshot. */
	init(0);
	qsetup(0, 3, L_OWN);
	blk_req(0, 2, 512, 0, 0);
	process();		/* submitted, not reaped */
	reset();
	init(0);
	qsetup(0, 3, L_OWN);
	blk_req(1, 2, 512, 1, 0);
	process();
	snapshot(1);
	process();
	blk_req(0, 2, 512, 0, 0);
	process();
	qready(0, 0);
	process();
	save(t, "in-flight");

	/*
	 * The blk face of bug 3: a request in flight while the guest disables
	 * and enables the queue again completes into the new ring, for a head
	 * the driver never put there; quiesced, the device has returned more
	 * than it took.
	 */
	init(0);
	qsetup(0, 3, L_OWN);
	blk_req(0, 2, 512, 0, 0);
	process();		/* submitted, not reaped */
	qready(0, 0);
	qready(0, 1);
	snapshot(1);
	process();
	save(t, "bug3-in-flight-across-queue-reenable");

	/*
	 * Both queues: requests in flight on each across a snapshot, one
	 * queue disabled while the other goes on, then a reset.
	 */
	init(0);
	qsetup(0, 3, L_OWN);
	qsetup(1, 3, L_OWN);
	blk_req_on(0, 1, 2, 512, 1, 0);
	blk_req_on(1, 0, 2, 512, 0, 0);
	blk_req_on(1, 1, 3, 1024, 1, 0);
	process();		/* submitted, not reaped */
	snapshot(1);
	blk_req_on(1, 0, 3, 1024, 0, 0);
	qready(0, 0);
	process();
	loop(1, 6);
	blk_req_on(0, 0, 2, 512, 0, 0);
	blk_req_on(1, 0, 2, 512, 0, 0);
	process();
	reset();
	save(t, "two-queues");
}

/* ---- virtio-console: queue 0 receives input, queue 1 transmits ------------ */

static void typed(const char *s)
{
	b(BACKEND); b(strlen(s));
	memcpy(buf + len, s, strlen(s));
	len += strlen(s);
}

static void console(void)
{
	const char *t = "virtio_console";

	common(t, 0, 1, 2);

	init(0);
	qsetup(0, 2, L_OWN);
	qsetup(1, 2, L_OWN);
	typed("hello\x01\x01world\x01q");
	process();
	post1(0, 4, 1, 0);
	post1(0, 64, 1, 0);
	process();
	process();
	{
		uint16_t l[2] = { 3, 9 };

		post(1, 2, 2, 0, l, "out", 3);
	}
	snapshot(1);
	typed("more\x01x");
	process();
	save(t, "input-escape-snapshot");

	/* Input with no buffer posted fills what the device keeps, then a snapshot. */
	init(0);
	qsetup(0, 2, L_USED_END);
	for (unsigned int i = 0; i < 6; i++) {
		typed("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
		      "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
		process();
	}
	snapshot(1);
	post1(0, 100, 1, 0);
	loop(0, 20);
	save(t, "input-backlog");
}

static void rng(void)
{
	common("virtio_rng", 0, -1, 1);

	init(0);
	qsetup(0, 6, L_OWN);
	{
		uint16_t l[4] = { 0, 4095, 1, 33 };

		post(0, 4, 0, 0, l, "", 0);
	}
	post1(0, 16, 0, 0);	/* device-readable only */
	loop(0, 70);
	save("virtio_rng", "fill");
}

/* ---- the 16550 UART (fuzz_uart.c) ----------------------------------------- */

enum { U_WRITE, U_READ, U_INPUT, U_SNAPSHOT };

static void uw(unsigned int reg, unsigned int v) { b(U_WRITE); w16(reg); b(v); }
static void ur(unsigned int reg) { b(U_READ); w16(reg); }
static void uin(const char *s)
{
	b(U_INPUT); b(strlen(s));
	memcpy(buf + len, s, strlen(s));
	len += strlen(s);
}

static void uart(void)
{
	const char *t = "uart";

	for (unsigned int r = 0; r < 8; r++)
		ur(r);
	uw(3, 0x80);		/* DLAB */
	uw(0, 1);
	uw(1, 0);
	ur(0);
	ur(1);
	uw(3, 0x03);
	uw(2, 0x07);		/* FIFO on, cleared */
	uw(1, 0x03);		/* RDI | THRI */
	ur(2);
	for (const char *p = "login: "; *p; p++)
		uw(0, *p);
	ur(2);
	uin("root\r\n0123456789abcdefXYZ");
	for (unsigned int i = 0; i < 20; i++) {
		ur(5);
		ur(0);
	}
	save(t, "console-session");

	uw(1, 0x01);
	uw(4, 0x1f);		/* loopback */
	for (unsigned int i = 0; i < 20; i++)
		uw(0, 'a' + i);
	ur(6);
	b(U_SNAPSHOT);
	ur(5);
	ur(0);
	uw(2, 0x02);
	uin("abc");
	b(U_SNAPSHOT);
	ur(2);
	save(t, "loopback-snapshot");

	uin("held back");	/* receive interrupt off: nothing taken */
	uw(1, 0x01);
	uin("0123456789abcdefghijkl");
	uw(0x1000 - 1, 0xff);
	ur(0xfff);
	b(U_SNAPSHOT);
	for (unsigned int i = 0; i < 17; i++)
		ur(0);
	save(t, "fifo-full");
}

int main(int argc, char **argv)
{
	outdir = argc > 1 ? argv[1] : "tests/fuzz/corpus";
	net();
	blk();
	console();
	rng();
	uart();
	return 0;
}
