// SPDX-License-Identifier: GPL-2.0
/*
 * A hostile guest: a bare-metal program (MMU off, no kernel) that drives
 * lvmm's virtio-mmio devices the way no driver should, and checks that lvmm
 * survives and the devices work again after a reset. Run with 64 MiB; it
 * finds its devices by probing the virtio-mmio slots from 0x0a000000. The
 * kernel command line (-p) picks what it does:
 *
 *   (default)           malformed rings on virtio-rng and virtio-blk (a disk
 *                       filled with 0xa5): each must end with the device
 *                       marked DEVICE_NEEDS_RESET
 *   hostile.mode=net    a receive buffer held by virtio-net while the driver
 *                       disables the queue and writes another QueueNum, with
 *                       canaries after the used ring and the used ring at the
 *                       end of RAM; needs a tap whose host side is
 *                       169.254.20.1 (it answers our ARP requests)
 *   hostile.mode=snap   a virtio-rng request left in the ring for the host to
 *                       snapshot and restore: it must complete after restore
 *   hostile.mode=random seeded (hostile.seed=N, hostile.secs=S) random writes
 *                       to every register and ring of every device, then a
 *                       reset and a good request on each; output through the
 *                       virtio console when there is one (the UART is not
 *                       the console then)
 *
 * Prints "HOSTILE <case> ..." lines and powers off.
 */
#include <stdint.h>

#define UART		0x09000000UL
#define VIRTIO_BASE	0x0a000000UL
#define RAM_BASE	0x40000000UL
#define RAM_END		(RAM_BASE + 64 * 0x100000UL)

#define REG_MAGIC		0x000
#define REG_DEVICE_ID		0x008
#define REG_DRIVER_FEATURES	0x020
#define REG_DRIVER_FEATURES_SEL	0x024
#define REG_QUEUE_SEL		0x030
#define REG_QUEUE_NUM_MAX	0x034
#define REG_QUEUE_NUM		0x038
#define REG_QUEUE_READY		0x044
#define REG_QUEUE_NOTIFY	0x050
#define REG_INTERRUPT_STATUS	0x060
#define REG_INTERRUPT_ACK	0x064
#define REG_STATUS		0x070
#define REG_QUEUE_DESC_LOW	0x080
#define REG_QUEUE_DESC_HIGH	0x084
#define REG_QUEUE_DRIVER_LOW	0x090
#define REG_QUEUE_DRIVER_HIGH	0x094
#define REG_QUEUE_DEVICE_LOW	0x0a0
#define REG_QUEUE_DEVICE_HIGH	0x0a4
#define REG_CONFIG		0x100

#define ID_NET		1
#define ID_BLK		2
#define ID_CONSOLE	3
#define ID_RNG		4

#define F_NEXT 1
#define F_WRITE 2
#define F_INDIRECT 4

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

/*
 * Guest RAM: this program at 0x40080000, its stack below 0x40180000, the
 * basic cases' rings at 0x40200000, the other modes' rings and buffers
 * from 0x40300000. The random mode points the devices only below 0x40080000
 * and from FUZZ_LO up (and outside RAM), so it never hits this program.
 */
#define DESC	((volatile struct desc *)0x40200000UL)
#define AVAIL	((volatile uint16_t *)0x40201000UL)	/* flags, idx, ring[] */
#define USED	((volatile uint16_t *)0x40202000UL)	/* flags, idx, ring[] */
#define BUF	0x40210000UL

#define NET_RXA		0x40300000UL	/* desc; avail at +0x1000; used at +0x2000 */
#define NET_RXB		0x40304000UL
#define NET_TX		0x40308000UL
#define NET_BUF		0x40310000UL	/* 0x800 each */
#define CON_TX		0x40320000UL
#define CON_BUF		0x40324000UL
#define RNG_Q		0x40330000UL
#define RNG_BUF		0x40334000UL
#define BLK_Q		0x40338000UL
#define BLK_BUF		0x4033c000UL
#define FUZZ_LO		0x40400000UL
#define LOW_FREE_END	0x40080000UL	/* RAM below the program: free to scribble */

#define CANARY		0x5aU

/* Entry at the load address with the DTB in x0: a stack, then main(x0). */
__asm__(".section .text.boot, \"ax\"\n"
	".global _start\n"
	"_start:\n"
	"	ldr x1, =0x40180000\n"
	"	mov sp, x1\n"
	"	bl main\n"
	"1:	b 1b\n"
	"	.ltorg\n"
	".previous\n");

int main(unsigned long fdt);

static uint32_t rd(unsigned long dev, unsigned long off)
{
	return *(volatile uint32_t *)(dev + off);
}

static void wr(unsigned long dev, unsigned long off, uint32_t v)
{
	*(volatile uint32_t *)(dev + off) = v;
}

static void barrier(void)
{
	__asm__ volatile("dsb sy" ::: "memory");
}

static void clear(unsigned long addr, unsigned long len)
{
	for (unsigned long i = 0; i < len; i += 8)
		*(volatile uint64_t *)(addr + i) = 0;
}

static void fill(unsigned long addr, unsigned long len, uint8_t v)
{
	for (unsigned long i = 0; i < len; i++)
		*(volatile uint8_t *)(addr + i) = v;
}

static uint64_t ticks(void)
{
	uint64_t v;

	__asm__ volatile("isb; mrs %0, cntvct_el0" : "=r"(v));
	return v;
}

static uint64_t ms_ticks(unsigned long ms)
{
	uint64_t f;

	__asm__ volatile("mrs %0, cntfrq_el0" : "=r"(f));
	return f / 1000 * ms;
}

static void delay_ms(unsigned long ms)
{
	uint64_t end = ticks() + ms_ticks(ms);

	while (ticks() < end)
		;
}

static void power_off(void)
{
	/* PSCI SYSTEM_OFF */
	register unsigned long x0 __asm__("x0") = 0x84000008UL;
	__asm__ volatile("hvc #0" : "+r"(x0) : : "memory");
	for (;;)
		;
}

/* --- output: the UART, or a virtio console once one is set up ----------- */

static unsigned long con_dev;		/* virtio console in use for output */
static char line[256];
static unsigned int line_len;

static void con_write(const char *s, unsigned int n);

static void flush_line(void)
{
	if (!line_len)
		return;
	if (con_dev) {
		con_write(line, line_len);
	} else {
		for (unsigned int i = 0; i < line_len; i++)
			*(volatile uint8_t *)UART = line[i];
	}
	line_len = 0;
}

static void putc(char c)
{
	line[line_len++] = c;
	if (c == '\n' || line_len == sizeof(line))
		flush_line();
}

static void puts(const char *s)
{
	while (*s)
		putc(*s++);
}

static void putnum(unsigned long v)
{
	char b[24];
	int n = 0;

	do {
		b[n++] = '0' + v % 10;
		v /= 10;
	} while (v);
	while (n)
		putc(b[--n]);
}

/* --- the kernel command line, from the DTB ------------------------------- */

static char bootargs[256];

static uint32_t be32(unsigned long p)
{
	const volatile uint8_t *b = (const volatile uint8_t *)p;

	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static int streq(const volatile char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

/* Copy the first "bootargs" property of the flattened tree at fdt. */
static void read_bootargs(unsigned long fdt)
{
	unsigned long p, strings;

	if (fdt < RAM_BASE || fdt >= RAM_END || be32(fdt) != 0xd00dfeed)
		return;
	p = fdt + be32(fdt + 8);
	strings = fdt + be32(fdt + 12);
	for (unsigned int guard = 0; guard < 100000; guard++) {
		uint32_t tok = be32(p);

		p += 4;
		if (tok == 1) {			/* BEGIN_NODE: name, padded */
			while (*(volatile char *)p)
				p++;
			p = (p + 4) & ~3UL;
		} else if (tok == 3) {		/* PROP: len, nameoff, value */
			uint32_t len = be32(p), nameoff = be32(p + 4);

			p += 8;
			if (streq((const volatile char *)(strings + nameoff), "bootargs")) {
				for (uint32_t i = 0; i < len && i < sizeof(bootargs) - 1; i++)
					bootargs[i] = *(volatile char *)(p + i);
				return;
			}
			p = (p + len + 3) & ~3UL;
		} else if (tok != 2 && tok != 4) {	/* END_NODE, NOP */
			return;				/* END or garbage */
		}
	}
}

/* The value of key=... on the command line, or 0. */
static const char *arg(const char *key)
{
	for (const char *s = bootargs; *s; s++) {
		const char *k = key, *v = s;

		if (s != bootargs && s[-1] != ' ')
			continue;
		while (*k && *v == *k) {
			k++;
			v++;
		}
		if (!*k)
			return v;
	}
	return 0;
}

static int arg_is(const char *key, const char *val)
{
	const char *v = arg(key);

	if (!v)
		return 0;
	while (*val && *v == *val) {
		v++;
		val++;
	}
	return !*val && (*v == ' ' || !*v);
}

static unsigned long arg_num(const char *key, unsigned long def)
{
	const char *v = arg(key);
	unsigned long n = 0;

	if (!v || *v < '0' || *v > '9')
		return def;
	while (*v >= '0' && *v <= '9')
		n = n * 10 + (*v++ - '0');
	return n;
}

/* --- devices ------------------------------------------------------------- */

static unsigned long dev_of[5];		/* by device id; 0 if absent */

static void probe(void)
{
	for (unsigned int i = 0; i < 16; i++) {
		unsigned long base = VIRTIO_BASE + 0x200UL * i;
		uint32_t id;

		if (rd(base, REG_MAGIC) != 0x74726976)
			break;
		id = rd(base, REG_DEVICE_ID);
		if (id < 5 && !dev_of[id])
			dev_of[id] = base;
	}
}

/* Reset and negotiate VERSION_1 only, up to FEATURES_OK. */
static void dev_init(unsigned long dev)
{
	wr(dev, REG_STATUS, 0);
	wr(dev, REG_STATUS, 1);
	wr(dev, REG_STATUS, 3);
	wr(dev, REG_DRIVER_FEATURES_SEL, 1);
	wr(dev, REG_DRIVER_FEATURES, 1);	/* VIRTIO_F_VERSION_1 */
	wr(dev, REG_DRIVER_FEATURES_SEL, 0);
	wr(dev, REG_DRIVER_FEATURES, 0);
	wr(dev, REG_STATUS, 3 | 8);
}

static void dev_live(unsigned long dev)
{
	wr(dev, REG_STATUS, 3 | 8 | 4);
}

/* A queue as its driver sees it. */
struct vq {
	unsigned long dev;
	uint32_t qi;
	uint16_t num, next, avail_idx;
	unsigned long desc, avail, used;
};

static void vq_regs(struct vq *q)
{
	wr(q->dev, REG_QUEUE_SEL, q->qi);
	wr(q->dev, REG_QUEUE_NUM, q->num);
	wr(q->dev, REG_QUEUE_DESC_LOW, (uint32_t)q->desc);
	wr(q->dev, REG_QUEUE_DESC_HIGH, q->desc >> 32);
	wr(q->dev, REG_QUEUE_DRIVER_LOW, (uint32_t)q->avail);
	wr(q->dev, REG_QUEUE_DRIVER_HIGH, q->avail >> 32);
	wr(q->dev, REG_QUEUE_DEVICE_LOW, (uint32_t)q->used);
	wr(q->dev, REG_QUEUE_DEVICE_HIGH, q->used >> 32);
}

/* Fresh rings: desc at rings, avail at rings + 0x1000, used where given. */
static void vq_setup(struct vq *q, unsigned long dev, uint32_t qi, uint16_t num,
		     unsigned long rings, unsigned long used)
{
	q->dev = dev;
	q->qi = qi;
	q->num = num;
	q->next = q->avail_idx = 0;
	q->desc = rings;
	q->avail = rings + 0x1000;
	q->used = used;
	clear(q->desc, 16UL * num);
	clear(q->avail, 0x1000);
	clear(q->used, (6 + 8UL * num + 7) & ~7UL);
	vq_regs(q);
	wr(dev, REG_QUEUE_READY, 1);
}

/* Offer one chain of n buffers (addr, len, flags); returns its head. */
static uint16_t vq_post(struct vq *q, unsigned int n, const uint64_t *addr, const uint32_t *len,
			const uint16_t *flags)
{
	volatile struct desc *d = (volatile struct desc *)q->desc;
	volatile uint16_t *avail = (volatile uint16_t *)q->avail;
	uint16_t head = q->next;

	for (unsigned int i = 0; i < n; i++) {
		uint16_t k = (q->next + i) & (q->num - 1);

		d[k].addr = addr[i];
		d[k].len = len[i];
		d[k].flags = flags[i] | (i + 1 < n ? F_NEXT : 0);
		d[k].next = (k + 1) & (q->num - 1);
	}
	q->next = (q->next + n) & (q->num - 1);
	avail[2 + (q->avail_idx & (q->num - 1))] = head;
	barrier();
	avail[1] = ++q->avail_idx;
	barrier();
	return head;
}

static uint16_t vq_post1(struct vq *q, uint64_t addr, uint32_t len, uint16_t flags)
{
	return vq_post(q, 1, &addr, &len, &flags);
}

static void vq_kick(struct vq *q)
{
	barrier();
	wr(q->dev, REG_QUEUE_NOTIFY, q->qi);
}

static uint16_t vq_used_idx(struct vq *q)
{
	return *(volatile uint16_t *)(q->used + 2);
}

static uint32_t vq_used_len(struct vq *q, uint16_t i)
{
	return *(volatile uint32_t *)(q->used + 4 + 8UL * (i & (q->num - 1)) + 4);
}

/* Wait until the used index is idx; 1 if it got there in time. */
static int vq_wait(struct vq *q, uint16_t idx, unsigned long ms)
{
	uint64_t end = ticks() + ms_ticks(ms);

	while (ticks() < end)
		if (vq_used_idx(q) == idx)
			return 1;
	return vq_used_idx(q) == idx;
}

/* --- output through virtio-console (random mode) -------------------------- */

static struct vq con_txq;

static void con_setup(unsigned long dev)
{
	con_dev = 0;
	dev_init(dev);
	vq_setup(&con_txq, dev, 1, 4, CON_TX, CON_TX + 0x2000);
	dev_live(dev);
	con_dev = dev;
}

static void con_write(const char *s, unsigned int n)
{
	uint16_t idx = vq_used_idx(&con_txq);

	for (unsigned int i = 0; i < n; i++)
		*(volatile char *)(CON_BUF + i) = s[i];
	vq_post1(&con_txq, CON_BUF, n, 0);
	vq_kick(&con_txq);
	vq_wait(&con_txq, idx + 1, 2000);
}

/* --- default mode: malformed rings --------------------------------------- */

/* Reset, negotiate VERSION_1 only, and set up queue 0 with `num` entries. */
static void setup(unsigned long dev, uint32_t num, uint64_t desc_addr)
{
	wr(dev, REG_STATUS, 0);
	clear(0x40200000UL, 0x3000);
	dev_init(dev);
	wr(dev, REG_QUEUE_SEL, 0);
	wr(dev, REG_QUEUE_NUM, num);
	wr(dev, REG_QUEUE_DESC_LOW, (uint32_t)desc_addr);
	wr(dev, REG_QUEUE_DESC_HIGH, desc_addr >> 32);
	wr(dev, REG_QUEUE_DRIVER_LOW, 0x40201000);
	wr(dev, REG_QUEUE_DRIVER_HIGH, 0);
	wr(dev, REG_QUEUE_DEVICE_LOW, 0x40202000);
	wr(dev, REG_QUEUE_DEVICE_HIGH, 0);
	wr(dev, REG_QUEUE_READY, 1);
	dev_live(dev);
}

static void set_desc(int i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	DESC[i].addr = addr;
	DESC[i].len = len;
	DESC[i].flags = flags;
	DESC[i].next = next;
}

/* Offer head (avail idx moves by `bump`), notify, wait for a verdict. */
static void kick_and_report(unsigned long dev, const char *name, uint16_t head, uint16_t bump)
{
	unsigned long spins;

	AVAIL[2] = head;
	AVAIL[1] = bump;
	barrier();
	wr(dev, REG_QUEUE_NOTIFY, 0);
	for (spins = 0; spins < 50000000UL; spins++)
		if ((rd(dev, REG_STATUS) & 0x40) || USED[1])
			break;
	puts("HOSTILE ");
	puts(name);
	puts(" broken=");
	putnum(!!(rd(dev, REG_STATUS) & 0x40));
	puts(" used=");
	putnum(USED[1]);
	puts(" isr=");
	putnum(rd(dev, REG_INTERRUPT_STATUS));
	puts("\n");
	wr(dev, REG_INTERRUPT_ACK, 3);
}

static void report_ready_check(unsigned long dev, const char *name)
{
	puts("HOSTILE ");
	puts(name);
	puts(" broken=");
	putnum(!!(rd(dev, REG_STATUS) & 0x40));
	puts(" ready=");
	putnum(rd(dev, REG_QUEUE_READY));
	puts("\n");
}

static void basic_mode(void)
{
	unsigned long rng = dev_of[ID_RNG], blk = dev_of[ID_BLK];

	if (!rng || !blk) {
		puts("HOSTILE needs --rng and a disk\n");
		return;
	}
	setup(rng, 4, 0x40200000UL);
	set_desc(0, 0x1000, 64, F_WRITE, 0);			/* below RAM */
	kick_and_report(rng, "desc-outside-ram", 0, 1);

	setup(rng, 4, 0x40200000UL);
	set_desc(0, RAM_END - 16, 64, F_WRITE, 0);		/* runs past RAM's end */
	kick_and_report(rng, "desc-past-ram-end", 0, 1);

	setup(rng, 4, 0x40200000UL);
	set_desc(0, 0xfffffffffffff000UL, 0x2000, F_WRITE, 0);	/* wraps around */
	kick_and_report(rng, "desc-wraps-address-space", 0, 1);

	setup(rng, 4, 0x40200000UL);
	set_desc(0, BUF, 64, F_WRITE | F_NEXT, 0);		/* points at itself */
	kick_and_report(rng, "desc-loop", 0, 1);

	setup(rng, 4, 0x40200000UL);
	for (int i = 0; i < 4; i++)				/* 0 -> 1 -> 2 -> 3 -> 0 ... */
		set_desc(i, BUF + 64 * i, 64, F_WRITE | F_NEXT, (i + 1) % 4);
	kick_and_report(rng, "chain-longer-than-queue", 0, 1);

	setup(rng, 4, 0x40200000UL);
	set_desc(0, BUF, 64, F_WRITE | F_NEXT, 9);		/* next beyond the table */
	kick_and_report(rng, "next-out-of-range", 0, 1);

	setup(rng, 4, 0x40200000UL);
	set_desc(0, BUF, 64, F_WRITE, 0);
	kick_and_report(rng, "head-out-of-range", 200, 1);

	setup(rng, 4, 0x40200000UL);
	set_desc(0, BUF, 64, F_WRITE, 0);
	kick_and_report(rng, "avail-idx-runaway", 0, 100);

	setup(rng, 4, 0x40200000UL);
	set_desc(0, BUF, 16, F_INDIRECT, 0);
	kick_and_report(rng, "indirect-not-offered", 0, 1);

	setup(rng, 3, 0x40200000UL);
	report_ready_check(rng, "queue-size-not-power-of-two");

	setup(rng, 4, 0x1000);
	report_ready_check(rng, "rings-outside-ram");

	/* After all that, a reset device must serve a good request. */
	setup(rng, 4, 0x40200000UL);
	clear(BUF, 64);
	set_desc(0, BUF, 64, F_WRITE, 0);
	kick_and_report(rng, "rng-good-after-reset", 0, 1);
	puts("HOSTILE rng-good-data nonzero=");
	putnum(*(volatile uint64_t *)BUF || *(volatile uint64_t *)(BUF + 8));
	puts("\n");

	/* virtio-blk: a request with no writable status byte, then a good read. */
	setup(blk, 4, 0x40200000UL);
	clear(BUF, 0x1000);
	set_desc(0, BUF, 16, 0, 0);				/* header only */
	kick_and_report(blk, "blk-no-status-byte", 0, 1);

	setup(blk, 4, 0x40200000UL);
	clear(BUF, 0x1000);					/* header: IN, sector 0 */
	*(volatile uint8_t *)(BUF + 0x800) = 0xff;		/* status, to be overwritten */
	set_desc(0, BUF, 16, F_NEXT, 1);
	set_desc(1, BUF + 0x200, 512, F_WRITE | F_NEXT, 2);
	set_desc(2, BUF + 0x800, 1, F_WRITE, 0);
	kick_and_report(blk, "blk-good-read-after-reset", 0, 1);
	puts("HOSTILE blk-good-data status=");
	putnum(*(volatile uint8_t *)(BUF + 0x800));
	puts(" byte=");
	putnum(*(volatile uint8_t *)(BUF + 0x200));
	puts("\n");
}

/* --- net mode: a held receive buffer across QueueReady=0 ------------------ */

static const uint8_t guest_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

/* Offer an ARP request for 169.254.20.1 from 169.254.20.2 (not kicked). */
static void net_post_arp(struct vq *tx)
{
	unsigned long f = NET_BUF + 15 * 0x800;
	volatile uint8_t *b = (volatile uint8_t *)(f + 12);	/* after the vnet header */
	static const uint8_t arp[] = {
		0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01,
	};

	clear(f, 0x80);
	for (int i = 0; i < 6; i++) {
		b[i] = 0xff;
		b[6 + i] = guest_mac[i];
		b[22 + i] = guest_mac[i];
	}
	for (unsigned int i = 0; i < sizeof(arp); i++)
		b[12 + i] = arp[i];
	b[28] = 169; b[29] = 254; b[30] = 20; b[31] = 2;	/* sender IP */
	b[38] = 169; b[39] = 254; b[40] = 20; b[41] = 1;	/* target IP */
	vq_post1(tx, f, 12 + 60, 0);
}

/* Send that ARP request (the host answers); 1 once the device took it. */
static int net_send_arp(struct vq *tx)
{
	uint16_t idx = vq_used_idx(tx);

	net_post_arp(tx);
	vq_kick(tx);
	return vq_wait(tx, idx + 1, 3000);
}

/* The frame in buf is an ARP reply. */
static int is_arp_reply(unsigned long buf)
{
	volatile uint8_t *b = (volatile uint8_t *)(buf + 12);

	return b[12] == 0x08 && b[13] == 0x06 && b[20] == 0 && b[21] == 2;
}

static int canary_ok(unsigned long from, unsigned long to)
{
	for (unsigned long a = from; a < to; a++)
		if (*(volatile uint8_t *)a != CANARY)
			return 0;
	return 1;
}

/*
 * The receive queue with 4 entries and its used ring at `used`, five
 * too-small buffers already returned (so the used index is past the
 * ring's size), then one good buffer that the device takes and holds
 * (no frame yet). 1 on success.
 */
static int net_hold_rx(unsigned long net, struct vq *rx, struct vq *tx, unsigned long used)
{
	dev_init(net);
	vq_setup(rx, net, 0, 4, NET_RXA, used);
	vq_setup(tx, net, 1, 4, NET_TX, NET_TX + 0x2000);
	dev_live(net);
	for (uint16_t i = 1; i <= 5; i++) {
		vq_post1(rx, NET_BUF, 4, F_WRITE);
		vq_kick(rx);
		if (!vq_wait(rx, i, 3000))
			return 0;
	}
	/* A stray frame could fill it at once: then offer another. */
	for (int tries = 0; tries < 5; tries++) {
		uint16_t used = vq_used_idx(rx);

		vq_post1(rx, NET_BUF + 0x800, 0x800, F_WRITE);
		vq_kick(rx);
		delay_ms(500);
		if (vq_used_idx(rx) == used)
			return 1;
	}
	return 0;
}

static void net_mode(void)
{
	unsigned long net = dev_of[ID_NET], ring_end, canary_end;
	struct vq rx, rxb, tx;
	uint16_t used, head;

	if (!net) {
		puts("HOSTILE needs a network device\n");
		return;
	}

	/* 1: canaries right after the used ring, the queue left disabled. */
	ring_end = NET_RXA + 0x2000 + 6 + 8 * 4;
	canary_end = NET_RXA + 0x3000;
	if (!net_hold_rx(net, &rx, &tx, NET_RXA + 0x2000)) {
		puts("HOSTILE net-setup failed used=");
		putnum(vq_used_idx(&rx));
		puts("\n");
		return;
	}
	fill(ring_end, canary_end - ring_end, CANARY);
	used = vq_used_idx(&rx);
	wr(net, REG_QUEUE_SEL, 0);
	wr(net, REG_QUEUE_READY, 0);
	wr(net, REG_QUEUE_NUM, 256);
	puts("HOSTILE net-arp-sent=");
	putnum(net_send_arp(&tx));
	puts("\n");
	delay_ms(3000);
	puts("HOSTILE net-held-across-disable canary=");
	puts(canary_ok(ring_end, canary_end) ? "ok" : "overwritten");
	puts(" used=");
	putnum(vq_used_idx(&rx) - used);
	puts(" broken=");
	putnum(!!(rd(net, REG_STATUS) & 0x40));
	puts("\n");

	/* 2: the queue enabled again on new rings: the old buffer is not in it. */
	vq_setup(&rxb, net, 0, 4, NET_RXB, NET_RXB + 0x2000);
	delay_ms(1000);
	puts("HOSTILE net-stale-buffer-not-in-new-ring used=");
	putnum(vq_used_idx(&rxb));
	puts("\n");

	/* 3: a buffer in the new ring gets the host's answer. */
	clear(NET_BUF + 0x1000, 0x800);
	head = vq_post1(&rxb, NET_BUF + 0x1000, 0x800, F_WRITE);
	vq_kick(&rxb);
	vq_wait(&rxb, 1, 5000);
	puts("HOSTILE net-good-after used=");
	putnum(vq_used_idx(&rxb));
	puts(" head=");
	putnum(*(volatile uint32_t *)(rxb.used + 4) == head);
	puts(" arp-reply=");
	putnum(is_arp_reply(NET_BUF + 0x1000));
	puts(" canary=");
	puts(canary_ok(ring_end, canary_end) ? "ok" : "overwritten");
	puts("\n");

	/*
	 * 4: the used ring at the very end of RAM, QueueNum out of range: a
	 * push would land past guest RAM, in lvmm's own memory.
	 */
	if (!net_hold_rx(net, &rx, &tx, RAM_END - 40)) {
		puts("HOSTILE net-setup-at-ram-end failed\n");
		return;
	}
	used = vq_used_idx(&rx);
	wr(net, REG_QUEUE_SEL, 0);
	wr(net, REG_QUEUE_READY, 0);
	wr(net, REG_QUEUE_NUM, 0x10000);
	net_send_arp(&tx);
	delay_ms(3000);
	puts("HOSTILE net-held-used-ring-at-ram-end used=");
	putnum(vq_used_idx(&rx) - used);
	puts("\n");

	/* 5: after a reset the device works. */
	dev_init(net);
	vq_setup(&rx, net, 0, 4, NET_RXA, NET_RXA + 0x2000);
	vq_setup(&tx, net, 1, 4, NET_TX, NET_TX + 0x2000);
	dev_live(net);
	clear(NET_BUF, 0x800);
	vq_post1(&rx, NET_BUF, 0x800, F_WRITE);
	vq_kick(&rx);
	puts("HOSTILE net-good-after-reset tx=");
	putnum(net_send_arp(&tx));
	puts(" rx=");
	putnum(vq_wait(&rx, 1, 5000));
	puts("\n");

	/*
	 * 6: a receive buffer of 20 bytes, shorter than any frame (the ARP
	 * reply is 12 + 42): the used length says what the buffer got, never
	 * more than it holds (a tap's read stops at the buffer's end).
	 */
	clear(NET_BUF, 0x800);
	vq_post1(&rx, NET_BUF, 20, F_WRITE);
	vq_kick(&rx);
	net_send_arp(&tx);
	puts("HOSTILE net-short-buffer used=");
	putnum(vq_wait(&rx, 2, 5000));
	puts(" len=");
	putnum(*(volatile uint32_t *)(rx.used + 4 + 8 * 1 + 4));
	puts("\n");
}

/* --- snap mode: a request pending across snapshot and restore ------------- */

static void snap_mode(void)
{
	unsigned long rng = dev_of[ID_RNG];
	struct vq q;
	uint64_t t0;

	if (!rng) {
		puts("HOSTILE needs --rng\n");
		return;
	}
	dev_init(rng);
	vq_setup(&q, rng, 0, 4, RNG_Q, RNG_Q + 0x2000);
	dev_live(rng);
	vq_post1(&q, RNG_BUF, 64, F_WRITE);
	vq_kick(&q);
	puts("HOSTILE snap-first-request used=");
	putnum(vq_wait(&q, 1, 5000));
	puts("\n");

	/*
	 * The second request is in the ring, but no kick reaches the device:
	 * the state a kick lost to a snapshot leaves (an eventfd's count is
	 * not part of one). The host snapshots now and restores in a new
	 * process; the request must complete there, with no kick from us.
	 */
	clear(RNG_BUF + 0x100, 64);
	vq_post1(&q, RNG_BUF + 0x100, 32, F_WRITE);
	puts("HOSTILE-SNAP posted\n");
	t0 = ticks();
	while (vq_used_idx(&q) != 2 && ticks() - t0 < ms_ticks(30000))
		;
	puts("HOSTILE snap-pending-request used=");
	putnum(vq_used_idx(&q));
	puts(" len=");
	putnum(vq_used_len(&q, 1));
	puts("\n");
}

/* --- random mode ----------------------------------------------------------- */

static uint64_t rstate;

static uint64_t rnd(void)
{
	rstate ^= rstate << 13;
	rstate ^= rstate >> 7;
	rstate ^= rstate << 17;
	return rstate;
}

static uint64_t rnd_below(uint64_t n)
{
	return rnd() % n;
}

/* An address for a ring or a buffer: mostly near the edges of RAM. */
static uint64_t rnd_addr(void)
{
	switch (rnd_below(8)) {
	case 0:
		return RAM_BASE + rnd_below(0x100);			/* RAM's first bytes */
	case 1:
		return RAM_BASE - 1 - rnd_below(0x100);			/* just below RAM */
	case 2:
		return RAM_END - 1 - rnd_below(0x1000);			/* RAM's last bytes */
	case 3:
		return RAM_END + rnd_below(0x1000);			/* just past RAM */
	case 4:
		return RAM_BASE + rnd_below(LOW_FREE_END - RAM_BASE);	/* free low RAM */
	case 5:
		return FUZZ_LO + rnd_below(RAM_END - FUZZ_LO);		/* free high RAM */
	case 6:
		return rnd();						/* anywhere */
	default:
		return (rnd_below(2) ? 0xffffffff00000000UL : 0) | (uint32_t)rnd();
	}
}

/* A ring's place: aligned (mostly), in free RAM or near its edges. */
static uint64_t rnd_ring_addr(void)
{
	uint64_t a;

	switch (rnd_below(4)) {
	case 0:
		a = RAM_END - rnd_below(0x2000);
		break;
	case 1:
		a = FUZZ_LO + rnd_below(RAM_END - FUZZ_LO);
		break;
	case 2:
		a = RAM_BASE + rnd_below(LOW_FREE_END - RAM_BASE - 0x3000);
		break;
	default:
		return rnd_addr();
	}
	return rnd_below(8) ? a & ~15UL : a;
}

static uint32_t rnd_len(void)
{
	static const uint32_t lens[] = { 0, 1, 4, 11, 12, 16, 17, 512, 4096, 0x10000, 0xffffffff };

	if (rnd_below(4) == 0)
		return (uint32_t)rnd();
	return lens[rnd_below(sizeof(lens) / sizeof(lens[0]))];
}

static uint32_t rnd_val(void)
{
	switch (rnd_below(6)) {
	case 0:
		return 0;
	case 1:
		return 1;
	case 2:
		return 1U << rnd_below(32);
	case 3:
		return (uint32_t)rnd_below(0x200);
	case 4:
		return 0xffffffff;
	default:
		return (uint32_t)rnd();
	}
}

/* Where each device's queues were last pointed (for scribbling in them). */
static uint64_t fz_desc[5][4], fz_avail[5][4];

/* Whether [a, a + len) is memory the random mode may write. */
static int scribble_ok(uint64_t a, uint64_t len)
{
	if (a + len < a)
		return 0;
	return (a >= RAM_BASE && a + len <= LOW_FREE_END) || (a >= FUZZ_LO && a + len <= RAM_END);
}

static void scribble_descs(uint64_t desc)
{
	unsigned int n = 1 + rnd_below(16);

	if (!scribble_ok(desc, 16UL * n))
		return;
	for (unsigned int i = 0; i < n; i++) {
		volatile struct desc *d = (volatile struct desc *)(desc + 16UL * i);

		d->addr = rnd_addr();
		d->len = rnd_len();
		d->flags = rnd_below(8);
		d->next = rnd_below(4) ? rnd_below(n + 1) : (uint16_t)rnd();
	}
}

static void scribble_avail(uint64_t avail)
{
	volatile uint16_t *a = (volatile uint16_t *)avail;

	if (!scribble_ok(avail, 6 + 2 * 16))
		return;
	for (unsigned int i = 0; i < 16; i++)
		a[2 + i] = rnd_below(4) ? rnd_below(16) : (uint16_t)rnd();
	a[0] = rnd_below(2);
	a[1] = rnd_below(4) ? a[1] + 1 + rnd_below(4) : (uint16_t)rnd();
}

static const uint16_t regs[] = {
	REG_DRIVER_FEATURES, REG_DRIVER_FEATURES_SEL, REG_QUEUE_SEL, REG_QUEUE_NUM,
	REG_QUEUE_READY, REG_QUEUE_NOTIFY, REG_INTERRUPT_ACK, REG_STATUS,
	REG_QUEUE_DESC_LOW, REG_QUEUE_DESC_HIGH, REG_QUEUE_DRIVER_LOW, REG_QUEUE_DRIVER_HIGH,
	REG_QUEUE_DEVICE_LOW, REG_QUEUE_DEVICE_HIGH, 0x014, 0x0fc,
};

/*
 * A well-formed queue with good buffers, kicked: gives the device requests
 * in flight (and virtio-net a receive buffer to hold, and frames out whose
 * answers come back) for the random writes that follow to pull the queue
 * from under. Rings and buffers in the free high RAM, per device and queue.
 */
static void good_queue(unsigned int id, unsigned long dev, uint32_t qi)
{
	unsigned long base = FUZZ_LO + 0x40000UL * id + 0x10000UL * qi;
	uint16_t num = 4 << rnd_below(2);
	unsigned long used = base + 0x2000;
	struct vq q;

	if (qi > 1)
		return;
	/* Half the time the used ring ends where RAM does. */
	if (rnd_below(2))
		used = RAM_END - ((6 + 8UL * num + 3) & ~3UL) - 0x100UL * (id * 2 + qi - 2);
	wr(dev, REG_QUEUE_SEL, qi);
	wr(dev, REG_QUEUE_READY, 0);
	vq_setup(&q, dev, qi, num, base, used);
	if (!(rd(dev, REG_STATUS) & 4))
		dev_live(dev);
	for (unsigned int i = 0; i < 3; i++) {
		unsigned long buf = base + 0x4000 + 0x800UL * i;

		if (id == ID_BLK) {
			uint64_t addr[3] = { buf, buf + 0x200, buf + 0x7ff };
			uint32_t len[3] = { 16, 512, 1 };
			uint16_t flags[3] = { 0, F_WRITE, F_WRITE };

			clear(buf, 16);
			*(volatile uint32_t *)buf = rnd_below(2);	/* IN or OUT */
			*(volatile uint64_t *)(buf + 8) = rnd_below(128);
			if (*(volatile uint32_t *)buf)
				flags[1] = 0;
			vq_post(&q, 3, addr, len, flags);
		} else if (id == ID_NET && qi == 1) {
			net_post_arp(&q);
		} else if (id == ID_CONSOLE && qi == 1) {
			static const char msg[] = "hostile: console output\n";

			for (unsigned int k = 0; k < sizeof(msg) - 1; k++)
				*(volatile char *)(buf + k) = msg[k];
			vq_post1(&q, buf, sizeof(msg) - 1, 0);
		} else {
			/*
			 * Receive buffers (net, console) or entropy (rng); some
			 * too small for a frame, returned at once.
			 */
			vq_post1(&q, buf, rnd_below(2) ? 0x800 : 4, F_WRITE);
		}
	}
	vq_kick(&q);
}

/* One random thing done to one device; returns a small code for the tally. */
static unsigned int fuzz_step(unsigned int id, unsigned long dev)
{
	uint32_t qi = rnd_below(5), num;
	unsigned long off;

	switch (rnd_below(14)) {
	case 0:		/* any register, any value */
		wr(dev, regs[rnd_below(sizeof(regs) / sizeof(regs[0]))], rnd_val());
		return 0;
	case 1:		/* any offset, any width, read or write */
		off = rnd_below(0x200);
		switch (rnd_below(4)) {
		case 0:
			*(volatile uint8_t *)(dev + off) = rnd();
			break;
		case 1:
			*(volatile uint16_t *)(dev + (off & ~1UL)) = rnd();
			break;
		case 2:
			wr(dev, off & ~3UL, rnd_val());
			break;
		default:
			(void)rd(dev, off & ~3UL);
		}
		return 1;
	case 2:		/* a reset, mid-flight */
		wr(dev, REG_STATUS, 0);
		return 2;
	case 3:		/* the bring-up, more or less */
		dev_init(dev);
		if (rnd_below(2))
			dev_live(dev);
		return 3;
	case 4:		/* set a queue up somewhere odd and enable it */
		wr(dev, REG_QUEUE_SEL, qi);
		wr(dev, REG_QUEUE_READY, 0);
		num = rnd_below(4) ? 1U << rnd_below(9) : rnd_val();
		wr(dev, REG_QUEUE_NUM, num);
		if (qi < 4) {
			fz_desc[id][qi] = rnd_ring_addr();
			fz_avail[id][qi] = rnd_ring_addr();
		}
		wr(dev, REG_QUEUE_DESC_LOW, (uint32_t)(qi < 4 ? fz_desc[id][qi] : rnd()));
		wr(dev, REG_QUEUE_DESC_HIGH, qi < 4 ? fz_desc[id][qi] >> 32 : 0);
		wr(dev, REG_QUEUE_DRIVER_LOW, (uint32_t)(qi < 4 ? fz_avail[id][qi] : rnd()));
		wr(dev, REG_QUEUE_DRIVER_HIGH, qi < 4 ? fz_avail[id][qi] >> 32 : 0);
		off = rnd_ring_addr();
		wr(dev, REG_QUEUE_DEVICE_LOW, (uint32_t)off);
		wr(dev, REG_QUEUE_DEVICE_HIGH, off >> 32);
		wr(dev, REG_QUEUE_READY, 1);
		return 4;
	case 5:		/* QueueReady and QueueNum toggled under whatever is in flight */
		wr(dev, REG_QUEUE_SEL, qi);
		wr(dev, REG_QUEUE_READY, 0);
		wr(dev, REG_QUEUE_NUM, rnd_val());
		if (rnd_below(2))
			wr(dev, REG_QUEUE_READY, 1);
		return 5;
	case 6:		/* descriptors */
	case 7:
		if (qi < 4)
			scribble_descs(fz_desc[id][qi]);
		return 6;
	case 8:		/* avail entries and index, then a kick */
	case 9:
		if (qi < 4)
			scribble_avail(fz_avail[id][qi]);
		wr(dev, REG_QUEUE_NOTIFY, rnd_below(8) ? qi : rnd_val());
		return 8;
	case 10:	/* config space */
		off = REG_CONFIG + rnd_below(0x100);
		if (rnd_below(2))
			*(volatile uint8_t *)(dev + off) = rnd();
		else
			(void)*(volatile uint8_t *)(dev + off);
		return 10;
	case 11:	/* a kick on any queue */
		wr(dev, REG_QUEUE_NOTIFY, qi);
		return 11;
	default:
		good_queue(id, dev, qi);
		return 12;
	}
}

/* After the storm: each device reset and given one good request. */
static void check_rng(unsigned long rng)
{
	struct vq q;

	dev_init(rng);
	vq_setup(&q, rng, 0, 4, RNG_Q, RNG_Q + 0x2000);
	dev_live(rng);
	clear(RNG_BUF, 64);
	vq_post1(&q, RNG_BUF, 64, F_WRITE);
	vq_kick(&q);
	puts("HOSTILE random-rng-after-reset used=");
	putnum(vq_wait(&q, 1, 5000));
	puts(" len=");
	putnum(vq_used_len(&q, 0));
	puts("\n");
}

static void check_blk(unsigned long blk)
{
	uint64_t addr[3] = { BLK_BUF, BLK_BUF + 0x200, BLK_BUF + 0x800 };
	uint32_t len[3] = { 16, 512, 1 };
	uint16_t flags[3] = { 0, F_WRITE, F_WRITE };
	struct vq q;

	dev_init(blk);
	vq_setup(&q, blk, 0, 4, BLK_Q, BLK_Q + 0x2000);
	dev_live(blk);
	clear(BLK_BUF, 0x1000);				/* header: IN, sector 0 */
	*(volatile uint8_t *)(BLK_BUF + 0x800) = 0xff;
	vq_post(&q, 3, addr, len, flags);
	vq_kick(&q);
	puts("HOSTILE random-blk-after-reset used=");
	putnum(vq_wait(&q, 1, 5000));
	puts(" status=");
	putnum(*(volatile uint8_t *)(BLK_BUF + 0x800));
	puts("\n");
}

static void check_net(unsigned long net)
{
	struct vq rx, tx;

	dev_init(net);
	vq_setup(&rx, net, 0, 4, NET_RXA, NET_RXA + 0x2000);
	vq_setup(&tx, net, 1, 4, NET_TX, NET_TX + 0x2000);
	dev_live(net);
	vq_post1(&rx, NET_BUF, 0x800, F_WRITE);
	vq_kick(&rx);
	puts("HOSTILE random-net-after-reset tx=");
	putnum(net_send_arp(&tx));
	puts(" rx=");
	putnum(vq_wait(&rx, 1, 5000));
	puts("\n");
}

static void random_mode(void)
{
	static const char *const names[5] = { "", "net", "blk", "console", "rng" };
	unsigned long seed = arg_num("hostile.seed=", 1), secs = arg_num("hostile.secs=", 20);
	static unsigned long tally[13];
	unsigned long steps = 0;
	unsigned int ids[5], n = 0;
	uint64_t end;

	if (dev_of[ID_CONSOLE])
		con_setup(dev_of[ID_CONSOLE]);
	puts("HOSTILE random seed=");
	putnum(seed);
	puts(" secs=");
	putnum(secs);
	puts(" devices=");
	for (unsigned int id = 1; id < 5; id++) {
		if (!dev_of[id])
			continue;
		ids[n++] = id;
		puts(names[id]);
		puts(",");
	}
	puts("\n");
	if (!n)
		return;
	/* From here on the console is a target too: no output until the end. */
	con_dev = 0;
	rstate = seed * 0x9e3779b97f4a7c15UL + 1;
	end = ticks() + ms_ticks(secs * 1000);
	while (ticks() < end) {
		for (unsigned int i = 0; i < 64; i++) {
			unsigned int id = ids[rnd_below(n)];

			tally[fuzz_step(id, dev_of[id])]++;
			steps++;
		}
	}
	for (unsigned int k = 0; k < n; k++)
		wr(dev_of[ids[k]], REG_STATUS, 0);
	if (dev_of[ID_CONSOLE])
		con_setup(dev_of[ID_CONSOLE]);
	/* End whatever line the storm's console output left open. */
	puts("\n");
	puts("HOSTILE random-steps n=");
	putnum(steps);
	puts(" resets=");
	putnum(tally[2]);
	puts(" queue-setups=");
	putnum(tally[4]);
	puts(" toggles=");
	putnum(tally[5]);
	puts(" kicks=");
	putnum(tally[8] + tally[11]);
	puts(" good-queues=");
	putnum(tally[12]);
	puts("\n");
	if (dev_of[ID_CONSOLE])
		puts("HOSTILE random-console-after-reset ok\n");
	if (dev_of[ID_RNG])
		check_rng(dev_of[ID_RNG]);
	if (dev_of[ID_BLK])
		check_blk(dev_of[ID_BLK]);
	if (dev_of[ID_NET])
		check_net(dev_of[ID_NET]);
}

int main(unsigned long fdt)
{
	read_bootargs(fdt);
	probe();
	if (arg_is("hostile.mode=", "random")) {
		random_mode();
	} else {
		puts("HOSTILE start\n");
		if (arg_is("hostile.mode=", "net"))
			net_mode();
		else if (arg_is("hostile.mode=", "snap"))
			snap_mode();
		else
			basic_mode();
	}
	puts("HOSTILE done\n");
	flush_line();
	power_off();
	return 0;
}
