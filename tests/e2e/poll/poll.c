// SPDX-License-Identifier: GPL-2.0
/*
 * A bare-metal guest (MMU off, no kernel) that uses the UART the way
 * firmware and test programs do: no interrupts (IER 0), the FIFOs reset at
 * init as U-Boot does, then it polls LSR for a byte. It prints POLL-READY,
 * reads three bytes, prints "POLL-GOT:<them>" and powers off (PSCI
 * SYSTEM_OFF). Loaded flat at RAM + 0x80000 (hostile/hostile.lds).
 */
#include <stdint.h>

#define UART	0x09000000UL
#define RBR	0
#define THR	0
#define DLL	0
#define IER	1
#define DLM	1
#define FCR	2
#define LCR	3
#define MCR	4
#define LSR	5
#define LSR_DR		0x01
#define LSR_THRE	0x20

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

static uint8_t rd(unsigned int reg)
{
	return *(volatile uint8_t *)(UART + reg);
}

static void wr(unsigned int reg, uint8_t v)
{
	*(volatile uint8_t *)(UART + reg) = v;
}

static void putc(char c)
{
	while (!(rd(LSR) & LSR_THRE))
		;
	wr(THR, c);
}

static void puts(const char *s)
{
	while (*s)
		putc(*s++);
}

static char getc(void)
{
	while (!(rd(LSR) & LSR_DR))
		;
	return rd(RBR);
}

static void system_off(void)
{
	register uint64_t x0 __asm__("x0") = 0x84000008;	/* PSCI SYSTEM_OFF */

	__asm__ volatile("hvc #0" : "+r"(x0) : : "memory");
}

int main(void)
{
	char got[] = "POLL-GOT:...\n";

	/* 115200 8N1 (the divisor means nothing to lvmm), FIFOs on and reset. */
	wr(IER, 0);
	wr(LCR, 0x83);
	wr(DLL, 1);
	wr(DLM, 0);
	wr(LCR, 0x03);
	wr(MCR, 0x03);
	wr(FCR, 0x07);
	puts("POLL-READY\n");
	for (int i = 0; i < 3; i++)
		got[9 + i] = getc();
	puts(got);
	system_off();
	for (;;)
		;
}
