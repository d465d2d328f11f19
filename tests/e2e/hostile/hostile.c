// SPDX-License-Identifier: GPL-2.0
/*
 * A hostile guest: a bare-metal program (MMU off, no kernel) that drives
 * lvmm's virtio-mmio devices with malformed rings and checks that each one
 * ends with the device marked DEVICE_NEEDS_RESET, that lvmm survives, and
 * that the device works again after a reset. Run with 64 MiB, --rng
 * (0x0a000200; lvmm puts disks first) and a disk filled with 0xa5 at 0x0a000000.
 * Prints "HOSTILE <case> ..." lines on the UART and powers off.
 */
#include <stdint.h>

#define UART		0x09000000UL
#define RNG		0x0a000200UL
#define BLK		0x0a000000UL
#define RAM_END		(0x40000000UL + 64 * 0x100000UL)

#define REG_DRIVER_FEATURES	0x020
#define REG_DRIVER_FEATURES_SEL	0x024
#define REG_QUEUE_SEL		0x030
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

#define F_NEXT 1
#define F_WRITE 2
#define F_INDIRECT 4

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

/* Rings and buffers in RAM well above this program. */
#define DESC	((volatile struct desc *)0x40200000UL)
#define AVAIL	((volatile uint16_t *)0x40201000UL)	/* flags, idx, ring[] */
#define USED	((volatile uint16_t *)0x40202000UL)	/* flags, idx, ring[] */
#define BUF	0x40210000UL

/* Entry at the load address: a stack, then main. */
__asm__(".section .text.boot, \"ax\"\n"
	".global _start\n"
	"_start:\n"
	"	ldr x0, =0x40180000\n"
	"	mov sp, x0\n"
	"	bl main\n"
	"1:	b 1b\n"
	"	.ltorg\n"
	".previous\n");

int main(void);

static void putc(char c)
{
	*(volatile uint8_t *)UART = c;
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

static uint32_t rd(unsigned long dev, unsigned long off)
{
	return *(volatile uint32_t *)(dev + off);
}

static void wr(unsigned long dev, unsigned long off, uint32_t v)
{
	*(volatile uint32_t *)(dev + off) = v;
}

static void clear(unsigned long addr, unsigned long len)
{
	for (unsigned long i = 0; i < len; i += 8)
		*(volatile uint64_t *)(addr + i) = 0;
}

/* Reset, negotiate VERSION_1 only, and set up queue 0 with `num` entries. */
static void setup(unsigned long dev, uint32_t num, uint64_t desc_addr)
{
	wr(dev, REG_STATUS, 0);
	clear(0x40200000UL, 0x3000);
	wr(dev, REG_STATUS, 1);
	wr(dev, REG_STATUS, 3);
	wr(dev, REG_DRIVER_FEATURES_SEL, 1);
	wr(dev, REG_DRIVER_FEATURES, 1);	/* VIRTIO_F_VERSION_1 */
	wr(dev, REG_DRIVER_FEATURES_SEL, 0);
	wr(dev, REG_DRIVER_FEATURES, 0);
	wr(dev, REG_STATUS, 3 | 8);
	wr(dev, REG_QUEUE_SEL, 0);
	wr(dev, REG_QUEUE_NUM, num);
	wr(dev, REG_QUEUE_DESC_LOW, (uint32_t)desc_addr);
	wr(dev, REG_QUEUE_DESC_HIGH, desc_addr >> 32);
	wr(dev, REG_QUEUE_DRIVER_LOW, 0x40201000);
	wr(dev, REG_QUEUE_DRIVER_HIGH, 0);
	wr(dev, REG_QUEUE_DEVICE_LOW, 0x40202000);
	wr(dev, REG_QUEUE_DEVICE_HIGH, 0);
	wr(dev, REG_QUEUE_READY, 1);
	wr(dev, REG_STATUS, 3 | 8 | 4);
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
	__asm__ volatile("dsb sy" ::: "memory");
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

int main(void)
{
	puts("HOSTILE start\n");

	setup(RNG, 4, 0x40200000UL);
	set_desc(0, 0x1000, 64, F_WRITE, 0);			/* below RAM */
	kick_and_report(RNG, "desc-outside-ram", 0, 1);

	setup(RNG, 4, 0x40200000UL);
	set_desc(0, RAM_END - 16, 64, F_WRITE, 0);		/* runs past RAM's end */
	kick_and_report(RNG, "desc-past-ram-end", 0, 1);

	setup(RNG, 4, 0x40200000UL);
	set_desc(0, 0xfffffffffffff000UL, 0x2000, F_WRITE, 0);	/* wraps around */
	kick_and_report(RNG, "desc-wraps-address-space", 0, 1);

	setup(RNG, 4, 0x40200000UL);
	set_desc(0, BUF, 64, F_WRITE | F_NEXT, 0);		/* points at itself */
	kick_and_report(RNG, "desc-loop", 0, 1);

	setup(RNG, 4, 0x40200000UL);
	for (int i = 0; i < 4; i++)				/* 0 -> 1 -> 2 -> 3 -> 0 ... */
		set_desc(i, BUF + 64 * i, 64, F_WRITE | F_NEXT, (i + 1) % 4);
	kick_and_report(RNG, "chain-longer-than-queue", 0, 1);

	setup(RNG, 4, 0x40200000UL);
	set_desc(0, BUF, 64, F_WRITE | F_NEXT, 9);		/* next beyond the table */
	kick_and_report(RNG, "next-out-of-range", 0, 1);

	setup(RNG, 4, 0x40200000UL);
	set_desc(0, BUF, 64, F_WRITE, 0);
	kick_and_report(RNG, "head-out-of-range", 200, 1);

	setup(RNG, 4, 0x40200000UL);
	set_desc(0, BUF, 64, F_WRITE, 0);
	kick_and_report(RNG, "avail-idx-runaway", 0, 100);

	setup(RNG, 4, 0x40200000UL);
	set_desc(0, BUF, 16, F_INDIRECT, 0);
	kick_and_report(RNG, "indirect-not-offered", 0, 1);

	setup(RNG, 3, 0x40200000UL);
	report_ready_check(RNG, "queue-size-not-power-of-two");

	setup(RNG, 4, 0x1000);
	report_ready_check(RNG, "rings-outside-ram");

	/* After all that, a reset device must serve a good request. */
	setup(RNG, 4, 0x40200000UL);
	clear(BUF, 64);
	set_desc(0, BUF, 64, F_WRITE, 0);
	kick_and_report(RNG, "rng-good-after-reset", 0, 1);
	puts("HOSTILE rng-good-data nonzero=");
	putnum(*(volatile uint64_t *)BUF || *(volatile uint64_t *)(BUF + 8));
	puts("\n");

	/* virtio-blk: a request with no writable status byte, then a good read. */
	setup(BLK, 4, 0x40200000UL);
	clear(BUF, 0x1000);
	set_desc(0, BUF, 16, 0, 0);				/* header only */
	kick_and_report(BLK, "blk-no-status-byte", 0, 1);

	setup(BLK, 4, 0x40200000UL);
	clear(BUF, 0x1000);					/* header: IN, sector 0 */
	*(volatile uint8_t *)(BUF + 0x800) = 0xff;		/* status, to be overwritten */
	set_desc(0, BUF, 16, F_NEXT, 1);
	set_desc(1, BUF + 0x200, 512, F_WRITE | F_NEXT, 2);
	set_desc(2, BUF + 0x800, 1, F_WRITE, 0);
	kick_and_report(BLK, "blk-good-read-after-reset", 0, 1);
	puts("HOSTILE blk-good-data status=");
	putnum(*(volatile uint8_t *)(BUF + 0x800));
	puts(" byte=");
	putnum(*(volatile uint8_t *)(BUF + 0x200));
	puts("\n");

	puts("HOSTILE done\n");
	/* PSCI SYSTEM_OFF */
	register unsigned long x0 __asm__("x0") = 0x84000008UL;
	__asm__ volatile("hvc #0" : "+r"(x0) : : "memory");
	for (;;)
		;
}
