// SPDX-License-Identifier: GPL-2.0
/*
 * The checkpoint guest: a bare-metal program (MMU off, EL1, one vCPU) that
 * puts the vGIC and the arch timers into the states a checkpoint must carry,
 * and checks them after lvmm snapshots it, is killed, and restores it in a
 * new process (tests/e2e/l1-checkpoint.sh drives that).
 *
 * Each phase sets its state up, prints "CKPT-SNAP <phase>", and spins until
 * the byte at FLAG turns non-zero. The script snapshots the VM there, kills
 * lvmm, writes the byte into the snapshot's memory file ('r' for a restore
 * with --clock resume, 'a' for --clock advance) and restores it: only the
 * restored guest sees the flag. Then the guest checks and prints
 * "CKPT-RESULT PASS name (detail)" or "CKPT-RESULT FAIL name: detail",
 * and "CKPT-PHASE <phase> done".
 *
 *   uart:   the UART's level SPI taken and not EOId (line still high), an
 *           edge SPI pending but disabled, interrupt groups and priorities;
 *   vtimer: the virtual timer's PPI active, the guest inside its handler;
 *   timers: virtual and physical timers armed 8 and 9 s ahead;
 *   lpi:    (GICv3 ITS) an LPI pending (made with the ITS INT command)
 *           while the guest masks interrupts.
 *
 * "ckpt=PHASE" on the command line (in the device tree's bootargs) runs one
 * phase; "ckpt=all" (or none) runs them in turn, each in the VM restored
 * after the one before. "CKPT-DONE" and PSCI SYSTEM_OFF at the end.
 *
 * Across every restore, CNTVCT and CNTPCT must never go backwards and
 * their difference (the guest's view of its virtual offset) must stay.
 */
#include <stdint.h>

#define UART		0x09000000UL
#define GICD		0x08000000UL
#define GICC		0x08010000UL	/* GICv2 CPU interface */
#define GITS		0x08080000UL
#define GICR		0x080a0000UL	/* vCPU 0's redistributor */
#define GICR_SGI	(GICR + 0x10000UL)

/* The snapshot's memory file holds RAM from 0x40000000: FLAG is at 0x300000. */
#define FLAG		((volatile uint8_t *)0x40300000UL)

/* ITS tables (64 KiB aligned where KVM's ITS wants it). */
#define LPI_PROP	0x40200000UL	/* configuration table, 8 KiB */
#define LPI_PEND	0x40210000UL	/* pending table */
#define ITS_CMDQ	0x40220000UL
#define ITS_DEVT	0x40230000UL
#define ITS_COLLT	0x40240000UL
#define ITS_ITT		0x40250000UL

#define GICD_CTLR	0x000
#define GICD_IIDR	0x008
#define GICD_IGROUPR	0x080
#define GICD_ISENABLER	0x100
#define GICD_ICENABLER	0x180
#define GICD_ISPENDR	0x200
#define GICD_ISACTIVER	0x300
#define GICD_IPRIORITYR	0x400
#define GICD_ITARGETSR	0x800
#define GICD_ICFGR	0xc00

#define GICC_CTLR	0x00
#define GICC_PMR	0x04
#define GICC_IAR	0x0c
#define GICC_EOIR	0x10
#define GICC_HPPIR	0x18

#define GICR_CTLR	0x00
#define GICR_WAKER	0x14
#define GICR_PROPBASER	0x70
#define GICR_PENDBASER	0x78

#define GITS_CTLR	0x000
#define GITS_TYPER	0x008
#define GITS_CBASER	0x080
#define GITS_CWRITER	0x088
#define GITS_CREADR	0x090
#define GITS_BASER	0x100

#define UART_RBR	0
#define UART_IER	1
#define UART_FCR	2

#define INTID_UART	32
#define INTID_VTIMER	27
#define INTID_PTIMER	30
#define INTID_SPI	100	/* the pending-but-disabled edge SPI */
#define INTID_LPI	8192

/* Entry: a stack, the vector table, then main(x0 = the FDT's address). */
__asm__(".section .text.boot, \"ax\"\n"
	".global _start\n"
	"_start:\n"
	"	ldr x1, =0x40180000\n"
	"	mov sp, x1\n"
	"	ldr x1, =vectors\n"
	"	msr vbar_el1, x1\n"
	"	isb\n"
	"	bl main\n"
	"1:	b 1b\n"
	"	.ltorg\n"
	".section .text.vectors, \"ax\"\n"
	".balign 2048\n"
	"vectors:\n"
	"	.rept 4\n"
	"	.balign 128\n"
	"	b unexpected_entry\n"
	"	.endr\n"
	"	.balign 128\n"
	"	b sync_entry\n"		/* current EL, SP_ELx */
	"	.balign 128\n"
	"	b irq_entry\n"
	"	.rept 10\n"
	"	.balign 128\n"
	"	b unexpected_entry\n"
	"	.endr\n"
	"irq_entry:\n"
	"	sub sp, sp, #192\n"
	"	stp x0, x1, [sp, #0]\n"
	"	stp x2, x3, [sp, #16]\n"
	"	stp x4, x5, [sp, #32]\n"
	"	stp x6, x7, [sp, #48]\n"
	"	stp x8, x9, [sp, #64]\n"
	"	stp x10, x11, [sp, #80]\n"
	"	stp x12, x13, [sp, #96]\n"
	"	stp x14, x15, [sp, #112]\n"
	"	stp x16, x17, [sp, #128]\n"
	"	stp x18, x29, [sp, #144]\n"
	"	mrs x0, elr_el1\n"
	"	mrs x1, spsr_el1\n"
	"	stp x30, x0, [sp, #160]\n"
	"	str x1, [sp, #176]\n"
	"	bl irq_handler\n"
	"	ldr x1, [sp, #176]\n"
	"	ldp x30, x0, [sp, #160]\n"
	"	msr elr_el1, x0\n"
	"	msr spsr_el1, x1\n"
	"	ldp x18, x29, [sp, #144]\n"
	"	ldp x16, x17, [sp, #128]\n"
	"	ldp x14, x15, [sp, #112]\n"
	"	ldp x12, x13, [sp, #96]\n"
	"	ldp x10, x11, [sp, #80]\n"
	"	ldp x8, x9, [sp, #64]\n"
	"	ldp x6, x7, [sp, #48]\n"
	"	ldp x4, x5, [sp, #32]\n"
	"	ldp x2, x3, [sp, #16]\n"
	"	ldp x0, x1, [sp, #0]\n"
	"	add sp, sp, #192\n"
	"	eret\n"
	"sync_entry:\n"
	"	mrs x0, esr_el1\n"
	"	mrs x1, elr_el1\n"
	"	mrs x2, far_el1\n"
	"	bl fatal_exception\n"
	"unexpected_entry:\n"
	"	mov x0, #0\n"
	"	mrs x1, elr_el1\n"
	"	mov x2, #1\n"
	"	bl fatal_exception\n"
	".text\n");

int main(uint64_t fdt);
void irq_handler(void);
void fatal_exception(uint64_t esr, uint64_t elr, uint64_t far);

static int gic_v3, has_its;
static uint64_t freq;

/* ---- MMIO, system registers, output ------------------------------------ */

static uint32_t rd32(uint64_t a) { return *(volatile uint32_t *)a; }
static void wr32(uint64_t a, uint32_t v) { *(volatile uint32_t *)a = v; }
static uint64_t rd64(uint64_t a) { return *(volatile uint64_t *)a; }
static void wr64(uint64_t a, uint64_t v) { *(volatile uint64_t *)a = v; }
static uint8_t rd8(uint64_t a) { return *(volatile uint8_t *)a; }
static void wr8(uint64_t a, uint8_t v) { *(volatile uint8_t *)a = v; }

#define SYSREG_READ(name) ({ uint64_t _v; \
	__asm__ volatile("isb; mrs %0, " name : "=r"(_v) : : "memory"); _v; })
#define SYSREG_WRITE(name, v) \
	__asm__ volatile("msr " name ", %0; isb" : : "r"((uint64_t)(v)) : "memory")

static uint64_t cntvct(void) { return SYSREG_READ("cntvct_el0"); }
static uint64_t cntpct(void) { return SYSREG_READ("cntpct_el0"); }

static void irq_on(void) { __asm__ volatile("msr daifclr, #2; isb" ::: "memory"); }
static void irq_off(void) { __asm__ volatile("msr daifset, #2; isb" ::: "memory"); }
static uint64_t irq_save(void)
{
	uint64_t daif = SYSREG_READ("daif");

	irq_off();
	return daif;
}
static void irq_restore(uint64_t daif) { SYSREG_WRITE("daif", daif); }

static void putc(char c) { wr8(UART, c); }
static void puts(const char *s)
{
	while (*s)
		putc(*s++);
}

/* A result's detail text, built piece by piece. */
static char det[240];
static unsigned int detn;

static void d_s(const char *s)
{
	while (*s && detn < sizeof(det) - 1)
		det[detn++] = *s++;
}

static void d_u(uint64_t v)
{
	char b[24];
	int n = 0;

	do {
		b[n++] = '0' + v % 10;
		v /= 10;
	} while (v);
	while (n && detn < sizeof(det) - 1)
		det[detn++] = b[--n];
}

static void d_i(int64_t v)
{
	if (v < 0) {
		d_s("-");
		d_u(-(uint64_t)v);
	} else {
		d_u(v);
	}
}

static void d_x(uint64_t v)
{
	int started = 0;

	d_s("0x");
	for (int sh = 60; sh >= 0; sh -= 4) {
		unsigned int dgt = (v >> sh) & 0xf;

		if (dgt || started || !sh) {
			started = 1;
			if (detn < sizeof(det) - 1)
				det[detn++] = "0123456789abcdef"[dgt];
		}
	}
}

/* "CKPT-RESULT PASS name (detail)" or "CKPT-RESULT FAIL name: detail". */
static void result(int ok, const char *name)
{
	puts("CKPT-RESULT ");
	puts(ok ? "PASS " : "FAIL ");
	puts(name);
	if (detn) {
		det[detn] = 0;
		puts(ok ? " (" : ": ");
		puts(det);
		if (ok)
			puts(")");
	}
	puts("\n");
	detn = 0;
}

void fatal_exception(uint64_t esr, uint64_t elr, uint64_t far)
{
	d_s("ESR ");
	d_x(esr);
	d_s(" ELR ");
	d_x(elr);
	d_s(" FAR ");
	d_x(far);
	result(0, "guest/exception");
	/* PSCI SYSTEM_OFF: lvmm exits, the script sees the phase is missing. */
	register uint64_t x0 __asm__("x0") = 0x84000008UL;
	__asm__ volatile("hvc #0" : "+r"(x0) : : "memory");
	for (;;)
		;
}

/* ---- time ------------------------------------------------------------- */

static uint64_t ms(uint64_t n) { return freq / 1000 * n; }

/* Ticks to microseconds, signed. */
static int64_t us(int64_t t)
{
	uint64_t a = t < 0 ? -(uint64_t)t : (uint64_t)t;
	uint64_t r = a / freq * 1000000 + a % freq * 1000000 / freq;

	return t < 0 ? -(int64_t)r : (int64_t)r;
}

/*
 * Every counter reading the guest makes between two checks goes through
 * here: neither counter may ever read less than it did before, in this
 * process or, across a restore, in the one that was snapshotted.
 */
static uint64_t last_v, last_p, v_back_by, p_back_by;
static uint32_t v_back, p_back;

static void sample(void)
{
	uint64_t daif = irq_save();
	uint64_t v = cntvct(), p = cntpct();

	if (v < last_v) {
		v_back++;
		if (last_v - v > v_back_by)
			v_back_by = last_v - v;
	}
	if (p < last_p) {
		p_back++;
		if (last_p - p > p_back_by)
			p_back_by = last_p - p;
	}
	last_v = v;
	last_p = p;
	irq_restore(daif);
}

/* CNTPCT - CNTVCT, from the tightest of a few bracketed readings. */
static int64_t counter_diff(void)
{
	uint64_t best_w = ~0ULL;
	int64_t best = 0;

	for (int i = 0; i < 16; i++) {
		uint64_t daif = irq_save();
		uint64_t v1 = cntvct(), p = cntpct(), v2 = cntvct();

		irq_restore(daif);
		if (v2 - v1 < best_w) {
			best_w = v2 - v1;
			best = (int64_t)(p - v1 - (v2 - v1) / 2);
		}
	}
	return best;
}

/*
 * The busy-wait step: both counters checked once a millisecond. Reading
 * CNTPCT traps to the host's KVM once the physical offset is not 0 (no
 * FEAT_ECV): doing it on every turn would load the emulated host for
 * nothing.
 */
static uint64_t next_sample;

static void spin(void)
{
	uint64_t v = cntvct();

	if (v >= next_sample || v + ms(2) < next_sample) {
		sample();
		next_sample = v + ms(1);
	}
}

static void delay(uint64_t ticks)
{
	uint64_t end = cntvct() + ticks;

	while (cntvct() < end)
		spin();
}

/*
 * How late a timer interrupt may come and still be on time. The tests run
 * in a nested guest of an emulated host sharing its cores: stalls of a few
 * hundred milliseconds happen. What this guards against (a counter offset
 * restored wrong) makes a timer seconds or minutes late, or early.
 */
#define TIMELY ms(1000)

static int64_t diff_before;

static void phase_begin(void)
{
	sample();
	v_back = p_back = 0;
	v_back_by = p_back_by = 0;
	diff_before = counter_diff();
}

/* After a restore: both counters went on, and their difference stayed. */
static void counters_result(const char *name)
{
	int64_t moved = counter_diff() - diff_before;
	int64_t tol = ms(2);
	int ok = !v_back && !p_back && moved < tol && moved > -tol;

	sample();
	ok = ok && !v_back && !p_back;
	if (v_back) {
		d_s("CNTVCT went back by ");
		d_u(us(v_back_by));
		d_s(" us; ");
	}
	if (p_back) {
		d_s("CNTPCT went back by ");
		d_u(us(p_back_by));
		d_s(" us; ");
	}
	d_s("CNTPCT-CNTVCT moved by ");
	d_i(us(moved));
	d_s(" us");
	result(ok, name);
}

/* Spin until the restored guest finds the flag set; returns it. */
static uint8_t wait_flag(void)
{
	uint8_t f;

	while (!(f = *FLAG))
		spin();
	sample();
	return f;
}

/* ---- GIC ---------------------------------------------------------------- */

/* SGIs and PPIs: GICv3's redistributor SGI frame, GICv2's banked distributor. */
static uint64_t bank(unsigned int intid)
{
	return gic_v3 && intid < 32 ? GICR_SGI : GICD;
}

static void gic_bit_write(uint32_t reg, unsigned int intid)
{
	wr32(bank(intid) + reg + intid / 32 * 4, 1U << (intid % 32));
}

static int gic_bit(uint32_t reg, unsigned int intid)
{
	return (rd32(bank(intid) + reg + intid / 32 * 4) >> (intid % 32)) & 1;
}

static void gic_enable(unsigned int intid) { gic_bit_write(GICD_ISENABLER, intid); }
static void gic_disable(unsigned int intid) { gic_bit_write(GICD_ICENABLER, intid); }
static int gic_active(unsigned int intid) { return gic_bit(GICD_ISACTIVER, intid); }
static int gic_pending(unsigned int intid) { return gic_bit(GICD_ISPENDR, intid); }
static int gic_enabled(unsigned int intid) { return gic_bit(GICD_ISENABLER, intid); }

/* Byte fields through 32-bit accesses. */
static uint8_t gic_byte(uint32_t reg, unsigned int intid)
{
	return rd32(bank(intid) + reg + (intid & ~3U)) >> (8 * (intid & 3));
}

static void gic_set_byte(uint32_t reg, unsigned int intid, uint8_t v)
{
	uint64_t a = bank(intid) + reg + (intid & ~3U);
	uint32_t w = rd32(a);

	w &= ~(0xffU << (8 * (intid & 3)));
	wr32(a, w | (uint32_t)v << (8 * (intid & 3)));
}

static void gic_set_prio(unsigned int intid, uint8_t prio)
{
	gic_set_byte(GICD_IPRIORITYR, intid, prio);
	/* GICv2 SPIs go nowhere until they name a CPU. */
	if (!gic_v3 && intid >= 32)
		gic_set_byte(GICD_ITARGETSR, intid, 1);
}

static void gic_set_edge(unsigned int intid)
{
	uint64_t a = bank(intid) + GICD_ICFGR + intid / 16 * 4;

	wr32(a, rd32(a) | 2U << (2 * (intid % 16)));
}

static uint32_t gic_ack(void)
{
	if (gic_v3)
		return SYSREG_READ("s3_0_c12_c12_0") & 0xffffff;	/* ICC_IAR1_EL1 */
	return rd32(GICC + GICC_IAR);
}

static unsigned int gic_intid(uint32_t iar)
{
	return gic_v3 ? iar : iar & 0x3ff;
}

static void gic_eoi(uint32_t iar)
{
	if (gic_v3)
		SYSREG_WRITE("s3_0_c12_c12_1", iar);			/* ICC_EOIR1_EL1 */
	else
		wr32(GICC + GICC_EOIR, iar);
}

static uint32_t gic_hppi(void)
{
	if (gic_v3)
		return SYSREG_READ("s3_0_c12_c12_2") & 0xffffff;	/* ICC_HPPIR1_EL1 */
	return rd32(GICC + GICC_HPPIR) & 0x3ff;
}

static void gic_init(void)
{
	if (gic_v3) {
		SYSREG_WRITE("s3_0_c12_c12_5", SYSREG_READ("s3_0_c12_c12_5") | 7); /* ICC_SRE_EL1 */
		wr32(GICR + GICR_WAKER, 0);
		wr32(GICD + GICD_CTLR, (1 << 4) | (1 << 1) | 1);	/* ARE, Grp1, Grp0 */
		SYSREG_WRITE("s3_0_c4_c6_0", 0xff);			/* ICC_PMR_EL1 */
		SYSREG_WRITE("s3_0_c12_c12_4", 0);			/* ICC_CTLR_EL1: EOImode 0 */
		SYSREG_WRITE("s3_0_c12_c12_7", 1);			/* ICC_IGRPEN1_EL1 */
	} else {
		wr32(GICD + GICD_CTLR, 1);
		wr32(GICC + GICC_PMR, 0xff);
		wr32(GICC + GICC_CTLR, 1);			/* group 0 as IRQ, EOImode 0 */
	}
}

/* ---- interrupts ---------------------------------------------------------- */

enum { PH_NONE, PH_UART, PH_VTIMER, PH_TIMERS, PH_LPI };
static volatile int phase;
static volatile uint32_t takes[128], lpi_takes, other_takes, spurious;
static volatile uint64_t vt_fire, pt_fire, vt_cval2;
static volatile uint8_t vt_fire_flag, pt_fire_flag;
static volatile int uart_byte = -1;

static void vtimer_in_handler(uint32_t iar);

void irq_handler(void)
{
	uint32_t iar = gic_ack();
	unsigned int id = gic_intid(iar);

	if (id >= 1020 && id < 1024) {
		spurious++;
		return;
	}
	switch (id) {
	case INTID_UART:
		/* The first time it stays active: the phase EOIs it after the restore. */
		if (++takes[id] == 1)
			return;
		uart_byte = rd8(UART + UART_RBR);	/* the FIFO empties, the line drops */
		break;
	case INTID_VTIMER:
		takes[id]++;
		vt_fire = cntvct();
		vt_fire_flag = *FLAG;
		if (phase == PH_VTIMER && takes[id] == 1) {
			vtimer_in_handler(iar);
			return;
		}
		SYSREG_WRITE("cntv_ctl_el0", 0);
		break;
	case INTID_PTIMER:
		takes[id]++;
		pt_fire = cntpct();
		pt_fire_flag = *FLAG;
		SYSREG_WRITE("cntp_ctl_el0", 0);
		break;
	case INTID_LPI:
		lpi_takes++;
		break;
	default:
		if (id < 128)
			takes[id]++;
		else
			other_takes++;
		break;
	}
	gic_eoi(iar);
}

/* Wait (sampling the counters) until *count reaches n or `ticks` pass. */
static void wait_count(volatile uint32_t *count, uint32_t n, uint64_t ticks)
{
	uint64_t end = cntvct() + ticks;

	while (*count < n && cntvct() < end)
		spin();
}

/* ---- phase 1: an active level SPI, a pending disabled SPI, groups, priorities */

#define NR_PATTERN 36	/* SPIs 64-95 and PPIs 20-23 */

static unsigned int pattern_intid(unsigned int i)
{
	return i < 32 ? 64 + i : 20 + (i - 32);
}

static void phase_uart(void)
{
	uint8_t prio_before[NR_PATTERN];
	uint32_t grp_before, grp_after;
	int ok;

	phase = PH_UART;
	/* Groups and priorities of interrupts nobody uses (they stay disabled). */
	for (unsigned int i = 0; i < NR_PATTERN; i++)
		gic_set_byte(GICD_IPRIORITYR, pattern_intid(i), 0x08 * (i % 31 + 1));
	wr32(GICD + GICD_IGROUPR + 8, 0x5a5aa5a5);
	grp_before = rd32(GICD + GICD_IGROUPR + 8);
	ok = grp_before == 0x5a5aa5a5;
	for (unsigned int i = 0; i < NR_PATTERN; i++) {
		prio_before[i] = gic_byte(GICD_IPRIORITYR, pattern_intid(i));
		ok = ok && prio_before[i] == 0x08 * (i % 31 + 1);
	}
	if (!ok) {
		d_s("the guest's own writes did not take: IGROUPR2 ");
		d_x(grp_before);
		result(0, "gic/setup");
	}

	/* An edge SPI, pending, disabled. */
	gic_set_edge(INTID_SPI);
	gic_set_prio(INTID_SPI, 0x40);
	gic_disable(INTID_SPI);
	gic_bit_write(GICD_ISPENDR, INTID_SPI);

	/* The UART's level SPI, raised by received data. */
	gic_set_prio(INTID_UART, 0xa0);
	gic_enable(INTID_UART);
	wr8(UART + UART_FCR, 0x07);
	wr8(UART + UART_IER, 0x01);
	irq_on();
	phase_begin();
	puts("CKPT-READY uart\n");
	wait_count(&takes[INTID_UART], 1, ms(120000));
	if (takes[INTID_UART] != 1 || !gic_active(INTID_UART) || !gic_pending(INTID_SPI)) {
		d_s("before the snapshot: UART taken ");
		d_u(takes[INTID_UART]);
		d_s(" times, active ");
		d_u(gic_active(INTID_UART));
		d_s(", SPI pending ");
		d_u(gic_pending(INTID_SPI));
		result(0, "uart/setup");
	}

	*FLAG = 0;
	puts("CKPT-SNAP uart\n");
	wait_flag();

	d_s("GICD_IIDR ");
	d_x(rd32(GICD + GICD_IIDR));
	result(gic_active(INTID_UART), "uart/still-active");
	result(gic_pending(INTID_SPI) && !gic_enabled(INTID_SPI), "spi/masked-still-pending");

	grp_after = rd32(GICD + GICD_IGROUPR + 8);
	d_s("IGROUPR2 ");
	d_x(grp_before);
	d_s(" -> ");
	d_x(grp_after);
	result(grp_after == grp_before, "gic/groups-kept");
	ok = 1;
	for (unsigned int i = 0; i < NR_PATTERN; i++) {
		uint8_t p = gic_byte(GICD_IPRIORITYR, pattern_intid(i));

		if (p != prio_before[i] && ok) {
			ok = 0;
			d_s("priority of ");
			d_u(pattern_intid(i));
			d_s(" ");
			d_x(prio_before[i]);
			d_s(" -> ");
			d_x(p);
		}
	}
	result(ok, "gic/priorities-kept");

	/* Interrupts unmasked, the line high: it must not come again before the EOI. */
	delay(ms(300));
	d_s("taken ");
	d_u(takes[INTID_UART] - 1);
	d_s(" times more before the EOI");
	result(takes[INTID_UART] == 1, "uart/not-taken-before-eoi");

	gic_eoi(INTID_UART);
	wait_count(&takes[INTID_UART], 2, ms(2000));
	delay(ms(300));
	d_s("taken ");
	d_u(takes[INTID_UART] - 1);
	d_s(" times after the EOI, byte read ");
	d_x(uart_byte);
	result(takes[INTID_UART] == 2 && uart_byte == 'U', "uart/taken-once-more-after-eoi");
	wr8(UART + UART_IER, 0);

	gic_enable(INTID_SPI);
	wait_count(&takes[INTID_SPI], 1, ms(2000));
	delay(ms(300));
	d_s("taken ");
	d_u(takes[INTID_SPI]);
	d_s(" times");
	result(takes[INTID_SPI] == 1, "spi/delivered-once-after-enable");
	irq_off();
	counters_result("uart/counters-continue");
	puts("CKPT-PHASE uart done\n");
}

/* ---- phase 2: the virtual timer's PPI active, inside its handler ---------- */

static void vtimer_in_handler(uint32_t iar)
{
	puts("CKPT-SNAP vtimer\n");
	wait_flag();
	d_s("CNTV_CTL ");
	d_x(SYSREG_READ("cntv_ctl_el0"));
	result(gic_active(INTID_VTIMER), "vtimer/still-active-in-handler");
	/* As a kernel's handler does: the next deadline (the line drops), then EOI. */
	vt_cval2 = cntvct() + ms(100);
	SYSREG_WRITE("cntv_cval_el0", vt_cval2);
	SYSREG_WRITE("cntv_ctl_el0", 1);
	gic_eoi(iar);
}

static void phase_vtimer(void)
{
	uint64_t end;

	phase = PH_VTIMER;
	gic_set_prio(INTID_VTIMER, 0x80);
	gic_enable(INTID_VTIMER);
	phase_begin();
	*FLAG = 0;
	SYSREG_WRITE("cntv_cval_el0", cntvct() + ms(10));
	SYSREG_WRITE("cntv_ctl_el0", 1);
	irq_on();
	/* The handler waits for the restore; then the next deadline is 100 ms on. */
	while (!vt_cval2)
		spin();
	end = vt_cval2 + ms(3000);
	while (takes[INTID_VTIMER] < 2 && cntvct() < end)
		spin();
	delay(ms(100));
	irq_off();
	if (takes[INTID_VTIMER] < 2) {
		d_s("no interrupt within 3 s of the new deadline");
		result(0, "vtimer/next-on-time");
	} else {
		d_s("fired ");
		d_i(us(vt_fire - vt_cval2));
		d_s(" us after its deadline");
		if (takes[INTID_VTIMER] > 2) {
			d_s(", taken ");
			d_u(takes[INTID_VTIMER]);
			d_s(" times");
		}
		result(takes[INTID_VTIMER] == 2 && vt_fire >= vt_cval2 &&
		       vt_fire - vt_cval2 < TIMELY, "vtimer/next-on-time");
	}
	counters_result("vtimer/counters-continue");
	puts("CKPT-PHASE vtimer done\n");
}

/* ---- phase 3: both timers armed across the snapshot ----------------------- */

static void timer_result(const char *name, uint32_t n, uint64_t fire, uint8_t flag_at_fire,
			 uint64_t cval, uint64_t seen, uint8_t mode)
{
	int ok = 1;

	if (!n) {
		ok = 0;
		d_s("did not fire within 12 s of the restore; its deadline was ");
		d_i(us(cval - seen) / 1000);
		d_s(" ms ahead then");
	} else if (!flag_at_fire) {
		ok = 0;
		d_s("fired before the snapshot: the host was too slow to take it in 8 s");
	} else if (mode == 'a') {
		/* The downtime took the deadline past: it fires as soon as the guest runs. */
		if (seen < cval) {
			ok = 0;
			d_s("at the restore the counter was ");
			d_i(us(cval - seen) / 1000);
			d_s(" ms short of the deadline (the counter went back, or too little downtime)");
		} else {
			ok = fire >= cval && (int64_t)(fire - seen) < (int64_t)TIMELY;
			d_s("fired ");
			d_i(us(fire - seen));
			d_s(" us after the restored guest ran, ");
			d_i(us(fire - cval) / 1000);
			d_s(" ms after its deadline");
		}
	} else {
		ok = fire >= cval && fire - cval < TIMELY;
		d_s("fired ");
		d_i(us(fire - cval));
		d_s(" us after its deadline");
	}
	if (n > 1) {
		ok = 0;
		d_s(", ");
		d_u(n);
		d_s(" times");
	}
	result(ok, name);
}

static void phase_timers(void)
{
	uint64_t vcval, pcval, v_seen, p_seen, end;
	uint8_t mode;
	int adv;

	phase = PH_TIMERS;
	gic_set_prio(INTID_VTIMER, 0x80);
	gic_set_prio(INTID_PTIMER, 0x80);
	gic_enable(INTID_VTIMER);
	gic_enable(INTID_PTIMER);
	phase_begin();
	takes[INTID_VTIMER] = takes[INTID_PTIMER] = 0;
	vt_fire_flag = pt_fire_flag = 0;
	*FLAG = 0;
	vcval = cntvct() + ms(8000);
	pcval = cntpct() + ms(9000);
	SYSREG_WRITE("cntv_cval_el0", vcval);
	SYSREG_WRITE("cntv_ctl_el0", 1);
	SYSREG_WRITE("cntp_cval_el0", pcval);
	SYSREG_WRITE("cntp_ctl_el0", 1);
	irq_on();
	puts("CKPT-SNAP timers\n");
	mode = wait_flag();
	v_seen = cntvct();
	p_seen = cntpct();
	adv = mode == 'a';
	end = v_seen + ms(12000);
	while ((!takes[INTID_VTIMER] || !takes[INTID_PTIMER]) && cntvct() < end)
		spin();
	delay(ms(100));
	irq_off();
	timer_result(adv ? "timers-advance/virt-fires-at-once" : "timers-resume/virt-fires-on-time",
		     takes[INTID_VTIMER], vt_fire, vt_fire_flag, vcval, v_seen, mode);
	timer_result(adv ? "timers-advance/phys-fires-at-once" : "timers-resume/phys-fires-on-time",
		     takes[INTID_PTIMER], pt_fire, pt_fire_flag, pcval, p_seen, mode);
	counters_result(adv ? "timers-advance/counters-continue" : "timers-resume/counters-continue");
	SYSREG_WRITE("cntv_ctl_el0", 0);
	SYSREG_WRITE("cntp_ctl_el0", 0);
	puts(adv ? "CKPT-PHASE timers-advance done\n" : "CKPT-PHASE timers-resume done\n");
}

/* ---- phase 4: an LPI pending at the snapshot (GICv3 ITS) ------------------- */

static uint64_t cmdq_off;

static int its_cmd(uint64_t d0, uint64_t d1, uint64_t d2)
{
	volatile uint64_t *c = (volatile uint64_t *)(ITS_CMDQ + cmdq_off);

	c[0] = d0;
	c[1] = d1;
	c[2] = d2;
	c[3] = 0;
	cmdq_off += 32;
	__asm__ volatile("dsb sy" ::: "memory");
	wr64(GITS + GITS_CWRITER, cmdq_off);
	for (int i = 0; i < 1000000; i++)
		if (rd64(GITS + GITS_CREADR) == cmdq_off)
			return 0;
	return -1;
}

static void zero(uint64_t addr, uint64_t len)
{
	for (uint64_t i = 0; i < len; i += 8)
		wr64(addr + i, 0);
}

/* One device (0) with one event (0) mapped to LPI 8192 on collection 0 (vCPU 0). */
static int its_setup(void)
{
	uint64_t typer, target;
	int ret = 0;

	zero(LPI_PROP, 0x2000);
	zero(LPI_PEND, 0x2000);
	zero(ITS_CMDQ, 0x1000);
	zero(ITS_ITT, 0x100);
	wr8(LPI_PROP + (INTID_LPI - 8192), 0xa0 | 2 | 1);	/* priority, RES1, enabled */
	__asm__ volatile("dsb sy" ::: "memory");
	wr64(GICR + GICR_PROPBASER, LPI_PROP | 13);		/* 14 ID bits */
	wr64(GICR + GICR_PENDBASER, LPI_PEND | 1ULL << 62);	/* PTZ */
	wr32(GICR + GICR_CTLR, rd32(GICR + GICR_CTLR) | 1);	/* EnableLPIs */
	for (int n = 0; n < 8; n++) {
		uint64_t b = rd64(GITS + GITS_BASER + 8 * n), type = (b >> 56) & 7;

		/* One 64 KiB page each, flat. */
		if (type == 1)
			wr64(GITS + GITS_BASER + 8 * n, ITS_DEVT | 1ULL << 63 | 2ULL << 8);
		else if (type == 4)
			wr64(GITS + GITS_BASER + 8 * n, ITS_COLLT | 1ULL << 63 | 2ULL << 8);
	}
	wr64(GITS + GITS_CBASER, ITS_CMDQ | 1ULL << 63);	/* one 4 KiB page */
	wr64(GITS + GITS_CWRITER, 0);
	wr32(GITS + GITS_CTLR, 1);
	typer = rd64(GITS + GITS_TYPER);
	target = (typer >> 19) & 1 ? GICR : 0;			/* PTA: address, else vCPU number */
	ret |= its_cmd(0x08, 0, 1ULL << 63 | ITS_ITT);		/* MAPD dev 0, 1 event bit */
	ret |= its_cmd(0x09, 0, 1ULL << 63 | (target >> 16) << 16);	/* MAPC 0 */
	ret |= its_cmd(0x0a, (uint64_t)INTID_LPI << 32, 0);	/* MAPTI dev 0 event 0 */
	ret |= its_cmd(0x05, 0, (target >> 16) << 16);		/* SYNC */
	return ret;
}

static void phase_lpi(void)
{
	uint32_t hpp;

	phase = PH_LPI;
	irq_off();
	if (its_setup() || its_cmd(0x03, 0, 0)) {			/* INT dev 0 event 0 */
		d_s("the ITS did not take its commands");
		result(0, "lpi/setup");
	}
	phase_begin();
	hpp = gic_hppi();
	if (hpp != INTID_LPI) {
		d_s("before the snapshot the highest pending interrupt is ");
		d_u(hpp);
		result(0, "lpi/setup");
	}
	*FLAG = 0;
	puts("CKPT-SNAP lpi\n");
	wait_flag();
	hpp = gic_hppi();
	d_s("highest pending interrupt ");
	d_u(hpp);
	result(hpp == INTID_LPI && !lpi_takes, "lpi/still-pending");
	irq_on();
	wait_count(&lpi_takes, 1, ms(2000));
	delay(ms(300));
	irq_off();
	d_s("taken ");
	d_u(lpi_takes);
	d_s(" times");
	result(lpi_takes == 1, "lpi/delivered-once");
	counters_result("lpi/counters-continue");
	puts("CKPT-PHASE lpi done\n");
}

/* ---- main ------------------------------------------------------------------ */

static uint32_t be32(const volatile uint8_t *p)
{
	return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

/* Whether the device tree lvmm gave us holds the string s. */
static int fdt_has(uint64_t fdt, const char *s)
{
	const volatile uint8_t *b = (const volatile uint8_t *)fdt;
	uint32_t size, len = 0;

	if (be32(b) != 0xd00dfeed)
		return 0;
	size = be32(b + 4);
	while (s[len])
		len++;
	for (uint32_t i = 0; i + len <= size; i++) {
		uint32_t k = 0;

		while (k < len && b[i + k] == (uint8_t)s[k])
			k++;
		if (k == len)
			return 1;
	}
	return 0;
}

int main(uint64_t fdt)
{
	int all;

	freq = SYSREG_READ("cntfrq_el0");
	gic_v3 = fdt_has(fdt, "arm,gic-v3");
	has_its = fdt_has(fdt, "arm,gic-v3-its");
	puts(gic_v3 ? (has_its ? "CKPT-START gicv3-its\n" : "CKPT-START gicv3\n") :
		      "CKPT-START gicv2\n");
	gic_init();
	/* "ckpt=PHASE" on the command line runs one phase; "ckpt=all" all in turn. */
	all = !fdt_has(fdt, "ckpt=") || fdt_has(fdt, "ckpt=all");
	if (all || fdt_has(fdt, "ckpt=uart"))
		phase_uart();
	if (all || fdt_has(fdt, "ckpt=vtimer"))
		phase_vtimer();
	if (all || fdt_has(fdt, "ckpt=timers"))
		phase_timers();
	if (has_its && (all || fdt_has(fdt, "ckpt=lpi")))
		phase_lpi();
	puts("CKPT-DONE\n");
	register uint64_t x0 __asm__("x0") = 0x84000008UL;	/* PSCI SYSTEM_OFF */
	__asm__ volatile("hvc #0" : "+r"(x0) : : "memory");
	for (;;)
		;
}
