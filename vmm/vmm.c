// SPDX-License-Identifier: GPL-2.0
/*
 * One VM from start to end. Bring-up is this ordered list (vmm_run):
 *
 *   1. /dev/kvm, the VM, the irqchip model, the board
 *   2. boot files: kernel (or the host's), initrd; their layout in RAM
 *      (restore: the snapshot instead, opened before step 1)
 *   3. guest RAM and its memory slot (restore: from the memory file)
 *   4. irqchip create (frame addresses)        [before any vCPU]
 *   5. devices: MMIO windows and SPIs from the board
 *   6. vCPUs created and initialised, timer PPIs
 *   7. irqchip finalize (NR_IRQS, CTRL_INIT)   [after every vCPU]
 *   8. kernel + initrd into RAM, the FDT, boot registers
 *      (restore: registers, counters, vGIC and devices from the snapshot)
 *   9. devices started, control socket, terminal raw, vCPU threads
 *
 * and teardown is the same list backwards. Each step returns 0 or -errno
 * with one line in err; main.c prints it.
 */
#include "vmm.h"
#include "devices.h"
#include "stats.h"
#include "../control/control.h"
#include "../devices/term.h"
#include "../fdt/fdt.h"
#include "../irq/irq.h"
#include "../machine.h"
#include "../migration/migration.h"
#include "../options.h"
#include "../sandbox/sandbox.h"
#include "../timer/timer.h"
#include "../util.h"

#include <errno.h>
#include <fcntl.h>
#include <libfdt.h>
#include <linux/kvm.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

static int step_kvm(struct vmm *v, enum irqchip_model *model, char *err, size_t errlen)
{
	const struct vm_config *cfg = v->cfg;
	unsigned int offered, max_kvm, max_gic;
	int ret;

	board_init(&v->board, cfg->mem_bytes);
	ret = kvm_open(&v->vm, err, errlen);
	ret = ret ?: vm_create(&v->vm, board_highest_gpa(&v->board), err, errlen);
	if (ret)
		return ret;
	offered = irqchip_host_models(v->vm.vm_fd);
	ret = irqchip_select(cfg->irqchip, offered, model, err, errlen);
	if (ret)
		return ret;
	max_kvm = kvm_check_cap(&v->vm, KVM_CAP_MAX_VCPUS);
	if (!max_kvm)
		max_kvm = kvm_check_cap(&v->vm, KVM_CAP_NR_VCPUS);
	max_gic = gic_max_cpus(*model);
	if (cfg->nr_cpus > max_kvm) {
		snprintf(err, errlen, "%u vCPUs requested, but this host's KVM allows at most %u",
			 cfg->nr_cpus, max_kvm);
		return -E2BIG;
	}
	if (cfg->nr_cpus > max_gic) {
		snprintf(err, errlen, "%u vCPUs requested, but %s allows at most %u", cfg->nr_cpus,
			 irqchip_model_name(*model), max_gic);
		return -E2BIG;
	}
	return 0;
}

static int step_boot_files(struct vmm *v, char *err, size_t errlen)
{
	/* kvmtool loads anything flat; its --nodefaults users get that too. */
	return boot_files_open(&v->boot, v->cfg->kernel, v->cfg->initrd,
			       v->cfg->flat || v->cfg->nodefaults, v->board.ram_base,
			       v->board.ram_size, err, errlen);
}

static int step_ram(struct vmm *v, char *err, size_t errlen)
{
	void *host = NULL;
	int ret;

	if (v->restore) {
		ret = restore_map_ram(v, &host, err, errlen);
		if (ret)
			return ret;
	} else if (v->cfg->hugetlbfs) {
		host = vm_ram_alloc_hugetlbfs(v->cfg->hugetlbfs, v->board.ram_size, err, errlen);
		if (!host)
			return -ENOMEM;
	}
	ret = vm_add_ram(&v->vm, v->board.ram_base, v->board.ram_size, host);
	if (ret)
		snprintf(err, errlen, "cannot set up %llu MiB of guest RAM: %s",
			 (unsigned long long)(v->board.ram_size / SZ_1M), strerror(-ret));
	return ret;
}

static unsigned int irqchip_spi(void *chip)
{
	return irqchip_alloc_spi(chip);
}

static int step_irqchip(struct vmm *v, enum irqchip_model model)
{
	/* irq/ prints what went wrong itself. */
	int ret = irqchip_create(v->vm.vm_fd, model, v->cfg->nr_cpus, &v->irqchip);

	if (!ret)
		board_set_spi_source(&v->board, irqchip_spi, v->irqchip);
	return ret;
}

static int step_vcpus(struct vmm *v, char *err, size_t errlen)
{
	struct timer_ppis ppis;
	int ret;

	ret = vcpus_create(&v->vm, v->cfg->nr_cpus);
	if (ret) {
		snprintf(err, errlen, "creating vCPU %u: %s", v->vm.nr_vcpus - 1, strerror(-ret));
		return ret;
	}
	for (unsigned int i = 0; i < v->vm.nr_vcpus; i++) {
		ret = v->restore ? restore_vcpu_init(v, i) : vcpu_init(&v->vm.vcpus[i]);
		if (ret) {
			snprintf(err, errlen, "vcpu%u: KVM_ARM_VCPU_INIT: %s", i, strerror(-ret));
			return ret;
		}
	}
	timer_default_ppis(&ppis);
	ret = timer_configure(v->vm.vcpus[0].fd, &ppis);
	if (ret)
		snprintf(err, errlen, "timer: setting the timer PPIs: %s", strerror(-ret));
	return ret;
}

static int dump_dtb(const char *path, const void *fdt, char *err, size_t errlen)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int ret;

	ret = fd < 0 ? -errno : write_all(fd, fdt, fdt_totalsize(fdt));
	if (fd >= 0 && close(fd) < 0 && !ret)
		ret = -errno;
	if (ret)
		snprintf(err, errlen, "--dump-dtb '%s': %s", path, strerror(-ret));
	return ret;
}

/* The device tree, from the board, the vCPUs, the irqchip and the devices. */
static int build_fdt(struct vmm *v, void *fdt, char *err, size_t errlen)
{
	const struct vm_config *cfg = v->cfg;
	uint64_t mpidrs[LVMM_MAX_CPUS];
	char stdout_path[64];
	uint64_t psci = 0;
	struct fdt_desc desc;
	int ret;

	for (unsigned int i = 0; i < v->vm.nr_vcpus; i++)
		mpidrs[i] = v->vm.vcpus[i].mpidr;
	ret = vcpu_get_reg(&v->vm.vcpus[0], KVM_REG_ARM_PSCI_VERSION, &psci);
	/* A KVM without the firmware register offers PSCI 0.2 (psci stays 0). */
	if (ret && ret != -ENOENT) {
		snprintf(err, errlen, "vcpu0: reading the PSCI version: %s", strerror(-ret));
		return ret;
	}
	board_uart_path(&v->board, stdout_path, sizeof(stdout_path));

	memset(&desc, 0, sizeof(desc));
	desc.ram_base = v->board.ram_base;
	desc.ram_size = v->board.ram_size;
	desc.nr_cpus = v->vm.nr_vcpus;
	desc.mpidrs = mpidrs;
	desc.gic = v->irqchip->layout;
	timer_default_ppis(&desc.timer);
	desc.psci_1_0 = psci >= 0x10000;
	desc.bootargs = v->bootargs;
	desc.kaslr_seed = cfg->kaslr_seed;
	desc.initrd_start = v->boot.layout.initrd_gpa;
	desc.initrd_size = v->boot.layout.initrd_size;
	desc.stdout_path = cfg->console == CONSOLE_SERIAL ? stdout_path : NULL;
	desc.devices = &v->devices;

	ret = fdt_build(&desc, fdt, BOOT_FDT_MAX_SIZE);
	if (!ret)
		ret = fdt_pack(fdt) ? -EINVAL : 0;
	if (ret)
		snprintf(err, errlen, "building the device tree: %s", strerror(-ret));
	return ret;
}

static int step_load_and_fdt(struct vmm *v, char *err, size_t errlen)
{
	void *fdt = guest_mem_ptr(&v->vm.ram, v->boot.layout.fdt_gpa, BOOT_FDT_MAX_SIZE);
	int ret;

	ret = boot_files_load(&v->boot, &v->vm.ram, err, errlen);
	if (ret)
		return ret;
	v->bootargs = options_kernel_cmdline(v->cfg);
	if (!v->bootargs) {
		snprintf(err, errlen, "the kernel command line: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	ret = build_fdt(v, fdt, err, errlen);
	if (!ret && v->cfg->dump_dtb)
		ret = dump_dtb(v->cfg->dump_dtb, fdt, err, errlen);
	if (ret)
		return ret;
	ret = vcpu_set_boot_regs(&v->vm.vcpus[0], v->boot.layout.kernel_gpa,
				 v->boot.layout.fdt_gpa);
	if (ret)
		snprintf(err, errlen, "vcpu0: setting boot registers: %s", strerror(-ret));
	return ret;
}

static int step_start(struct vmm *v, enum irqchip_model model, const struct vmm_prepare *prepare,
		      char *err, size_t errlen)
{
	const struct vm_config *cfg = v->cfg;
	int ret;

	ret = vmm_devices_start(v, err, errlen);
	ret = ret ?: control_start(v->control, cfg->name, control_dispatch, v, err, errlen);
	/* All that can fail has passed: the caller's last word before the vCPUs run. */
	if (!ret && prepare && prepare->ready)
		ret = prepare->ready(prepare->ctx, err, errlen);
	if (ret)
		return ret;
	/* Once the name is the VM's (a duplicate is refused without a banner). */
	pr_info("%s: %u vCPU%s, %llu MiB, %s%s", cfg->name, cfg->nr_cpus,
		cfg->nr_cpus > 1 ? "s" : "", (unsigned long long)(cfg->mem_bytes / SZ_1M),
		irqchip_model_name(model), v->restore ? ", restored" : "");
	v->term_raw = term_raw_begin(STDIN_FILENO);
	v->setup_cpu_ns = thread_cpu_ns();
	ret = vcpus_start(&v->vm);
	if (ret)
		snprintf(err, errlen, "starting vCPU threads: %s", strerror(-ret));
	v->restore_done_ns = now_ns();
	return ret;
}

/* Wait for a vCPU, the console or a signal to end the VM. */
static void wait_for_exit(struct vmm *v, int sig_fd, struct vmm_result *res)
{
	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = v->vm.exit_efd, .events = POLLIN },
			{ .fd = sig_fd, .events = POLLIN },
		};

		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			break;
		if (pfd[1].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(sig_fd, &si, sizeof(si)) == sizeof(si)) {
				res->signo = si.ssi_signo;
				vm_request_exit(&v->vm, VM_EXIT_SIGNAL);
			}
		}
		if (atomic_load(&v->vm.exit_reason) != VM_EXIT_NONE)
			break;
	}
	res->reason = atomic_load(&v->vm.exit_reason);
}

static void vmm_teardown(struct vmm *v)
{
	/* No more requests (a snapshot in progress finishes first). */
	control_stop(v->control);
	vcpus_stop(&v->vm);
	vmm_devices_stop(v);
	term_restore();
	if (v->cfg->stats && v->console && v->vm.ram.host)
		vmm_print_stats(v);
	vmm_devices_free(v);
	irqchip_destroy(v->irqchip);
	v->irqchip = NULL;
	vm_destroy(&v->vm);
	boot_files_close(&v->boot);
	free(v->bootargs);
	restore_close(v);
	pthread_mutex_destroy(&v->op_lock);
}

/*
 * Termination signals are taken by the main thread through a signalfd, so
 * every thread created from here on has them blocked.
 */
static int block_signals(sigset_t *old, int *sig_fd, char *err, size_t errlen)
{
	sigset_t sigs;
	int ret;

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGUSR1);	/* unblocked only in vCPU threads */
	pthread_sigmask(SIG_BLOCK, &sigs, old);
	sigdelset(&sigs, SIGUSR1);
	*sig_fd = signalfd(-1, &sigs, SFD_CLOEXEC);
	if (*sig_fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "signalfd: %s", strerror(-ret));
		return ret;
	}
	return 0;
}

/* The host's RAM (MemTotal), 0 if /proc/meminfo does not say. */
static uint64_t host_ram_bytes(void)
{
	unsigned long long kib = 0;
	char line[128];
	FILE *f = fopen("/proc/meminfo", "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemTotal: %llu kB", &kib) == 1)
			break;
	fclose(f);
	return kib * 1024;
}

/* What will run, but likely not as the user meant: said once, at start. */
static void warn_config(const struct vm_config *cfg)
{
	uint64_t host = host_ram_bytes();
	char msg[256];

	if (host && cfg->mem_bytes > host)
		pr_warn("%s: %llu MiB of guest RAM is more than the host's %llu MiB: the guest may be killed once it uses it",
			cfg->name, (unsigned long long)(cfg->mem_bytes >> 20),
			(unsigned long long)(host >> 20));
	if (options_console_warning(cfg, msg, sizeof(msg)))
		pr_warn("%s: %s", cfg->name, msg);
}

int vmm_run(const struct vm_config *cfg, const struct vmm_prepare *prepare,
	    struct vmm_result *res, char *err, size_t errlen)
{
	struct vmm v = { .cfg = cfg };
	struct control control = { .listen_fd = -1, .stop_efd = -1 };
	struct vm_config rcfg;
	enum irqchip_model model;
	sigset_t old;
	int sig_fd = -1;
	int ret;

	memset(res, 0, sizeof(*res));
	err[0] = '\0';
	v.vm.kvm_fd = v.vm.vm_fd = v.vm.exit_efd = -1;
	v.control = &control;
	boot_files_init(&v.boot);
	pthread_mutex_init(&v.op_lock, NULL);
	device_list_init(&v.devices);

	ret = block_signals(&old, &sig_fd, err, errlen);
	if (!ret && cfg->restore_dir)
		ret = restore_open(&v, cfg, &rcfg, err, errlen);
	if (ret)
		goto out;
	cfg = v.cfg;
	if (!v.restore)
		warn_config(cfg);
	/*
	 * The host first, then the files: a VM this host cannot run is
	 * reported as such whatever the kernel (kvm-unit-tests' runner
	 * probes with a missing kernel and skips a test on another error).
	 */
	ret = step_kvm(&v, &model, err, errlen);
	if (!v.restore)
		ret = ret ?: step_boot_files(&v, err, errlen);
	/* After the files: a bad -k is told as such, before ~/.lvmm is made. */
	if (!v.restore && prepare && prepare->fn)
		ret = ret ?: prepare->fn(prepare->ctx, err, errlen);
	ret = ret ?: step_ram(&v, err, errlen);
	ret = ret ?: step_irqchip(&v, model);
	ret = ret ?: vmm_devices_create(&v, err, errlen);
	ret = ret ?: step_vcpus(&v, err, errlen);
	ret = ret ?: irqchip_finalize(v.irqchip);
	if (v.restore)
		ret = ret ?: restore_apply(&v, err, errlen);
	else
		ret = ret ?: step_load_and_fdt(&v, err, errlen);
	if (ret)
		goto out;
	snprintf(res->name, sizeof(res->name), "%s", cfg->name);
	ret = step_start(&v, model, prepare, err, errlen);
	if (ret)
		goto out;
	sandbox_enter(SANDBOX_MAIN);	/* every thread is started */
	wait_for_exit(&v, sig_fd, res);
out:
	vmm_teardown(&v);
	if (sig_fd >= 0)
		close(sig_fd);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return ret;
}
