// SPDX-License-Identifier: GPL-2.0
/*
 * --stats: what bench/ scripts parse when the VM ends. Times come from
 * lvmm's own clocks, CPU and memory from /proc/self.
 */
#include "stats.h"
#include "../devices/device.h"
#include "../irq/irq.h"
#include "../kvm/counters.h"
#include "../util.h"
#include "../machine.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

uint64_t lvmm_start_ns;

uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void read_proc_stat_ticks(unsigned long long *cpu, unsigned long long *guest)
{
	char buf[2048], *p;
	FILE *f = fopen("/proc/self/stat", "r");
	unsigned long long val;
	int field = 3;

	*cpu = *guest = 0;
	if (!f)
		return;
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return;
	}
	fclose(f);
	/* Fields after the command name, which ends at the last ')'. */
	p = strrchr(buf, ')');
	if (!p)
		return;
	p += 2;
	for (char *tok = strtok(p, " "); tok; tok = strtok(NULL, " "), field++) {
		val = strtoull(tok, NULL, 10);
		if (field == 14 || field == 15)
			*cpu += val;	/* utime, stime (guest time is in utime) */
		else if (field == 43)
			*guest = val;
	}
}

static unsigned long proc_status_kib(const char *key)
{
	char line[256];
	unsigned long val = 0;
	size_t klen = strlen(key);
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ':')
			val = strtoul(line + klen + 1, NULL, 10);
	fclose(f);
	return val;
}

static unsigned long guest_ram_resident_kib(struct vm *vm)
{
	size_t pages = vm->ram.size / 4096;
	unsigned char *vec = malloc(pages);
	unsigned long n = 0;

	if (!vec)
		return 0;
	if (!mincore(vm->ram.host, vm->ram.size, vec))
		for (size_t i = 0; i < pages; i++)
			n += vec[i] & 1;
	free(vec);
	return n * 4;
}

/* Per device: its interrupt and how often lvmm drove it with KVM_IRQ_LINE. */
static void print_device_stats(struct vmm *v)
{
	struct device *dev;

	device_for_each(&v->devices, dev) {
		char extra[256] = "";

		if (dev->ops->stats)
			dev->ops->stats(dev, extra, sizeof(extra));
		fprintf(stderr, "lvmm-dev: %s intid=%u kvm_irq_line=%u %s%s", dev->name, dev->irq,
			dev->irq < GIC_NR_IRQS ? irqchip_line_calls(v->irqchip, dev->irq) : 0, extra,
			isatty(STDERR_FILENO) ? "\r\n" : "\n");
	}
}

/*
 * KVM's counters summed over the vCPUs, named as KVM names them: every
 * exit to the host, MMIO exits to lvmm and to in-kernel devices (ioeventfd,
 * vGIC), WFI, PSCI/SMCCC calls, wake-ups from a halt and time halted.
 */
static void print_kvm_counters(struct vm *vm)
{
	static const char *const names[] = {
		"exits", "mmio_exit_user", "mmio_exit_kernel", "wfi_exit_stat",
		"hvc_exit_stat", "halt_wakeup", "halt_wait_ns",
	};
	uint64_t sum[ARRAY_SIZE(names)] = { 0 };
	bool any = false;

	for (unsigned int i = 0; i < vm->nr_vcpus; i++)
		if (vm->vcpus[i].stats_fd >= 0 &&
		    !kvm_counters_add(vm->vcpus[i].stats_fd, names, sum, ARRAY_SIZE(names)))
			any = true;
	if (!any)
		return;		/* a kernel before 5.14 */
	fprintf(stderr, "lvmm-kvm:");
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		fprintf(stderr, " %s=%llu", names[i], (unsigned long long)sum[i]);
	fprintf(stderr, "%s", isatty(STDERR_FILENO) ? "\r\n" : "\n");
}

/* One line that bench/ scripts parse: key=value, times in ms. */
void vmm_print_stats(struct vmm *v)
{
	unsigned long long cpu_ticks, guest_ticks;
	long hz = sysconf(_SC_CLK_TCK);
	uint64_t marker = uart_marker_seen_ns(v->console);
	uint64_t first_run = atomic_load(&v->vm.first_run_ns);
	unsigned long rss = proc_status_kib("VmRSS");
	unsigned long guest_rss = guest_ram_resident_kib(&v->vm);

	read_proc_stat_ticks(&cpu_ticks, &guest_ticks);
	fprintf(stderr,
		"lvmm-stats: first_kvm_run_ms=%.2f marker_ms=%.2f setup_cpu_ms=%.2f "
		"cpu_ms=%llu guest_cpu_ms=%llu rss_kib=%lu guest_ram_rss_kib=%lu vmm_rss_kib=%lu "
		"started_ms=%.2f%s",
		first_run ? (first_run - lvmm_start_ns) / 1e6 : -1.0,
		marker ? (marker - lvmm_start_ns) / 1e6 : -1.0,
		v->setup_cpu_ns / 1e6,
		cpu_ticks * 1000 / hz, guest_ticks * 1000 / hz,
		rss, guest_rss, rss > guest_rss ? rss - guest_rss : 0,
		v->restore_done_ns ? (v->restore_done_ns - lvmm_start_ns) / 1e6 : -1.0,
		isatty(STDERR_FILENO) ? "\r\n" : "\n");
	print_kvm_counters(&v->vm);
	print_device_stats(v);
}
