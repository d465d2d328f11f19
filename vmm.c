// SPDX-License-Identifier: GPL-2.0
/*
 * One VM from start to end. Bring-up is this ordered list:
 *
 *   1. /dev/kvm, the VM, the irqchip model
 *   2. boot files: kernel (or the host's), initrd; their layout in RAM
 *   3. guest RAM and its memory slot
 *   4. irqchip create (frame addresses)        [before any vCPU]
 *   5. devices: MMIO windows and SPIs
 *   6. vCPUs created and initialised, timer PPIs
 *   7. irqchip finalize (NR_IRQS, CTRL_INIT)   [after every vCPU]
 *   8. kernel + initrd into RAM, the FDT, boot registers
 *   9. devices started, terminal raw, vCPU threads
 *
 * and teardown is the same list backwards.
 */
#include "vmm.h"
#include "boot/boot.h"
#include "devices/device.h"
#include "devices/term.h"
#include "devices/vfio.h"
#include "devices/virtio/virtio.h"
#include "fdt/fdt.h"
#include "irq/irq.h"
#include "board/memmap.h"
#include "migration/snapshot.h"
#include "pci/pci.h"
#include "sandbox/sandbox.h"
#include "timer/timer.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <libfdt.h>
#include <linux/kvm.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

uint64_t lvmm_start_ns;

/* Open a boot file and check it is a non-empty regular file we can read. */
static int boot_file_open(struct boot_file *f, const char *what, const char *path)
{
	struct stat st;
	int ret;

	f->what = what;
	f->path = path;
	f->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (f->fd < 0) {
		ret = -errno;
		/*
		 * A kernel in kvmtool's words: scripts written for lkvm (the
		 * kvm-unit-tests runner) probe with a missing kernel and look
		 * for this line before they run anything.
		 */
		if (!strcmp(what, "kernel"))
			pr_err("Fatal: Unable to open kernel %s: %s", path, strerror(-ret));
		else
			pr_err("%s '%s': %s", what, path, strerror(-ret));
		return ret;
	}
	if (fstat(f->fd, &st) < 0) {
		ret = -errno;
		pr_err("%s '%s': %s", what, path, strerror(-ret));
		return ret;
	}
	if (!S_ISREG(st.st_mode)) {
		pr_err("%s '%s' is not a regular file", what, path);
		return -EINVAL;
	}
	if (st.st_size == 0) {
		pr_err("%s '%s' is empty", what, path);
		return -EINVAL;
	}
	f->size = st.st_size;
	return 0;
}

static void boot_file_close(struct boot_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
}

/* Read a whole boot file straight into guest RAM (no bounce buffer). */
static int boot_file_load(struct vmm *v, struct boot_file *f, uint64_t gpa)
{
	void *dst = guest_mem_ptr(&v->vm.ram, gpa, f->size);
	uint64_t done = 0;

	if (!dst)
		return -ERANGE;
	while (done < f->size) {
		ssize_t n = pread(f->fd, (char *)dst + done, f->size - done, done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int ret = n < 0 ? -errno : -EIO;

			pr_err("%s '%s': read failed: %s", f->what, f->path,
			       n < 0 ? strerror(-ret) : "file shrank while loading");
			return ret;
		}
		done += n;
	}
	return 0;
}

static int step_boot_files(struct vmm *v)
{
	const struct vm_config *cfg = v->cfg;
	uint8_t hdr[ARM64_IMAGE_HEADER_SIZE];
	const char *kernel = cfg->kernel;
	uint64_t need;
	ssize_t n;
	int ret;

	v->kernel.fd = v->initrd.fd = -1;
	if (!kernel) {
		char why[512];

		if (boot_find_host_kernel(v->kernel_path, sizeof(v->kernel_path), why,
					  sizeof(why))) {
			pr_err("%s", why);
			return -ENOENT;
		}
		kernel = v->kernel_path;
		pr_info("no --kernel given: booting the host's kernel %s", kernel);
	}
	ret = boot_file_open(&v->kernel, "kernel", kernel);
	if (ret)
		return ret;
	n = pread(v->kernel.fd, hdr, sizeof(hdr), 0);
	if (n < 0) {
		ret = -errno;
		pr_err("kernel '%s': %s", kernel, strerror(-ret));
		return ret;
	}
	ret = image_parse(hdr, n, v->kernel.size, &v->image);
	if (ret == -ENOEXEC) {
		pr_err("kernel '%s' is an arm64 Image lvmm cannot boot (big-endian or a bad text_offset)",
		       kernel);
		return ret;
	}
	if (!v->image.has_header)
		pr_warn("kernel '%s' has no arm64 Image header: loading it as a flat binary at 0x%llx",
			kernel, (unsigned long long)(RAM_BASE + v->image.text_offset));

	if (cfg->initrd) {
		ret = boot_file_open(&v->initrd, "initrd", cfg->initrd);
		if (ret)
			return ret;
	}
	ret = boot_layout_compute(&v->image, v->initrd.size, RAM_BASE, cfg->mem_bytes,
				  &v->layout, &need);
	if (ret == -EFBIG) {
		pr_err("kernel '%s' does not give its size (no Image header, or image_size 0), so initrd and device tree go below %llu MiB, and the kernel file (%llu MiB)%s and the device tree (2 MiB) do not fit there",
		       kernel, BOOT_UNSIZED_WINDOW / SZ_1M,
		       (unsigned long long)ALIGN_UP(v->image.image_size, SZ_1M) / SZ_1M,
		       cfg->initrd ? " with the initrd" : "");
		return ret;
	}
	if (ret) {
		pr_err("guest memory of %llu MiB is too small for the kernel (%llu MiB)%s and the device tree (2 MiB): give at least %llu MiB (-m)",
		       (unsigned long long)(cfg->mem_bytes / SZ_1M),
		       (unsigned long long)ALIGN_UP(v->image.image_size, SZ_1M) / SZ_1M,
		       cfg->initrd ? " and initrd" : "",
		       (unsigned long long)ALIGN_UP(need, SZ_1M) / SZ_1M);
		return ret;
	}
	return 0;
}

static int step_kvm(struct vmm *v, enum irqchip_model *model)
{
	const struct vm_config *cfg = v->cfg;
	unsigned int offered, max_kvm, max_gic;
	char err[256];
	int ret;

	ret = kvm_open(&v->vm, err, sizeof(err));
	if (ret) {
		pr_err("%s", err);
		return ret;
	}
	ret = vm_create(&v->vm, RAM_BASE + cfg->mem_bytes - 1, err, sizeof(err));
	if (ret) {
		pr_err("%s", err);
		return ret;
	}
	offered = irqchip_host_models(v->vm.vm_fd);
	ret = irqchip_select(cfg->irqchip, offered, model, err, sizeof(err));
	if (ret) {
		pr_err("%s", err);
		return ret;
	}
	max_kvm = kvm_check_cap(&v->vm, KVM_CAP_MAX_VCPUS);
	if (!max_kvm)
		max_kvm = kvm_check_cap(&v->vm, KVM_CAP_NR_VCPUS);
	max_gic = gic_max_cpus(*model);
	if (cfg->nr_cpus > max_kvm) {
		pr_err("%u vCPUs requested, but this host's KVM allows at most %u",
		       cfg->nr_cpus, max_kvm);
		return -E2BIG;
	}
	if (cfg->nr_cpus > max_gic) {
		pr_err("%u vCPUs requested, but %s allows at most %u", cfg->nr_cpus,
		       irqchip_model_name(*model), max_gic);
		return -E2BIG;
	}
	return 0;
}

static int step_ram(struct vmm *v)
{
	void *host = NULL;
	char err[512];
	int ret;

	if (v->restore) {
		ret = snapshot_map_memory(v->restore, v->cfg->copy_memory, &host, err, sizeof(err));
		if (ret) {
			pr_err("restore: %s", err);
			return ret;
		}
	}
	ret = vm_add_ram(&v->vm, RAM_BASE, v->cfg->mem_bytes, host);

	if (ret)
		pr_err("cannot set up %llu MiB of guest RAM: %s",
		       (unsigned long long)(v->cfg->mem_bytes / SZ_1M), strerror(-ret));
	return ret;
}

static void device_set_irq_line(struct device *dev, int level)
{
	irqchip_set_spi(dev->irq_ctx, dev->irq, level);
}

static void console_quit(void *ctx)
{
	vm_request_exit(ctx, VM_EXIT_QUIT);
}

static int env_ioeventfd(void *ctx, uint64_t gpa, unsigned int len, uint64_t datamatch, int fd,
			 bool assign)
{
	struct vmm *v = ctx;

	return vm_ioeventfd(&v->vm, gpa, len, datamatch, fd, assign);
}

static int env_irqfd(void *ctx, unsigned int intid, int fd, int resample_fd, bool assign)
{
	struct vmm *v = ctx;

	if (assign)
		return irqchip_add_irqfd(v->irqchip, intid, fd, resample_fd);
	return irqchip_remove_irqfd(v->irqchip, fd);
}

static int env_map_mmio(void *ctx, uint64_t gpa, uint64_t size, void *host)
{
	struct vmm *v = ctx;

	if (!host)
		return vm_unmap_memory(&v->vm, gpa);
	return vm_map_memory(&v->vm, gpa, size, host);
}

/* The UART, always there; the console only with --console serial. */
static int add_uart(struct vmm *v)
{
	bool serial = v->cfg->console == CONSOLE_SERIAL;
	struct uart_console_opts opts = {
		.in_fd = serial ? STDIN_FILENO : -1,
		.out_fd = serial ? STDOUT_FILENO : -1,
		.escape = isatty(STDIN_FILENO),
		.marker = v->cfg->stats ? v->cfg->stats_marker : NULL,
		.on_quit = console_quit,
		.quit_ctx = &v->vm,
	};
	unsigned int spi = irqchip_alloc_spi(v->irqchip);
	struct device *dev;

	if (fcntl(STDIN_FILENO, F_GETFD) < 0)
		opts.in_fd = -1;	/* started without stdin */
	dev = uart_create("uart0", UART0_BASE, spi, &opts);
	if (!dev)
		return -ENOMEM;
	dev->set_irq = device_set_irq_line;
	dev->irq_ctx = v->irqchip;
	device_list_add(&v->devices, dev);
	v->console = dev;
	return 0;
}

static int env_msi_irqfd_add(void *ctx, uint64_t addr, uint32_t data, uint32_t devid, int fd,
			     uint32_t *gsi)
{
	struct vmm *v = ctx;

	return irqchip_add_msi_irqfd(v->irqchip, addr, data, devid, fd, gsi);
}

static int env_msi_irqfd_remove(void *ctx, uint32_t gsi, int fd)
{
	struct vmm *v = ctx;

	return irqchip_remove_msi_irqfd(v->irqchip, gsi, fd);
}

static unsigned int env_alloc_spi(void *ctx);

/*
 * --virtio-transport pci: an ECAM host on the MMIO bus (config space and
 * the 32-bit BAR window), the virtio functions behind it; MSI-X to the ITS
 * when there is one, else INTx.
 */
static int add_pci_host(struct vmm *v, struct virtio_transport *t, struct device_env *env)
{
	bool its = v->irqchip->model == IRQCHIP_GICV3_ITS;
	int ret;

	ret = pci_host_create(its, env_alloc_spi, v, &t->host);
	if (ret) {
		pr_err("creating the PCI host: %s", strerror(-ret));
		return ret;
	}
	device_list_add(&v->devices, &t->host->ecam);
	device_list_add(&v->devices, &t->host->mem32);
	t->kind = VIRTIO_TRANSPORT_PCI;
	if (its) {
		env->msi_irqfd_add = env_msi_irqfd_add;
		env->msi_irqfd_remove = env_msi_irqfd_remove;
	}
	return 0;
}

/*
 * The virtio devices: each in its own 0x200 virtio-mmio window with an SPI,
 * or with --virtio-transport pci a function on the PCI host.
 */
static int add_virtio_devices(struct vmm *v)
{
	const struct vm_config *cfg = v->cfg;
	struct device_env env = {
		.mem = v->vm.ram,
		.ioeventfd = env_ioeventfd,
		.irqfd = env_irqfd,
		.map_mmio = env_map_mmio,
		.ctx = v,
	};
	struct virtio_transport t = { .kind = VIRTIO_TRANSPORT_MMIO, .base = VIRTIO_MMIO_BASE };
	struct device *dev;
	char name[32], err[256] = "";
	int ret = 0;

	if (cfg->virtio_transport == VIRTIO_OPT_PCI && (cfg->console == CONSOLE_VIRTIO ||
	    cfg->nr_disks || cfg->nr_nets || cfg->rng)) {
		ret = add_pci_host(v, &t, &env);
		if (ret)
			return ret;
	}
#define NEXT_SLOT() (t.intid = t.host ? 0 : irqchip_alloc_spi(v->irqchip), &t)
#define ADD(create)							\
	do {								\
		ret = create;						\
		if (ret)						\
			goto fail;					\
		device_list_add(&v->devices, dev);			\
		t.base += VIRTIO_MMIO_SIZE;				\
	} while (0)
	if (cfg->console == CONSOLE_VIRTIO) {
		struct virtio_console_opts opts = {
			.in_fd = fcntl(STDIN_FILENO, F_GETFD) < 0 ? -1 : STDIN_FILENO,
			.out_fd = STDOUT_FILENO,
			.escape = isatty(STDIN_FILENO),
			.on_quit = console_quit,
			.quit_ctx = &v->vm,
		};

		ADD(virtio_console_create("virtio-console0", NEXT_SLOT(), &opts, &env, &dev, err,
					  sizeof(err)));
	}
	for (unsigned int i = 0; i < cfg->nr_disks; i++) {
		struct virtio_blk_opts opts = {
			.path = cfg->disks[i].path,
			.readonly = cfg->disks[i].readonly,
			.serial = cfg->disks[i].serial,
		};

		snprintf(name, sizeof(name), "virtio-blk%u", i);
		ADD(virtio_blk_create(name, NEXT_SLOT(), &opts, &env, &dev, err, sizeof(err)));
	}
	for (unsigned int i = 0; i < cfg->nr_nets; i++) {
		struct virtio_net_opts opts = { .tapif = cfg->nets[i].tapif };

		memcpy(opts.mac, cfg->nets[i].mac, 6);
		snprintf(name, sizeof(name), "virtio-net%u", i);
		ADD(virtio_net_create(name, NEXT_SLOT(), &opts, &env, &dev, err, sizeof(err)));
	}
	if (cfg->rng)
		ADD(virtio_rng_create("virtio-rng0", NEXT_SLOT(), &env, &dev, err, sizeof(err)));
#undef ADD
#undef NEXT_SLOT
	return 0;
fail:
	pr_err("%s", err);
	return ret;
}

static unsigned int env_alloc_spi(void *ctx)
{
	struct vmm *v = ctx;

	return irqchip_alloc_spi(v->irqchip);
}

/* VFIO platform/AMBA devices: regions in the VFIO window, an SPI per IRQ. */
static int add_vfio_devices(struct vmm *v)
{
	struct vfio_env env = {
		.dev = {
			.mem = v->vm.ram,
			.ioeventfd = env_ioeventfd,
			.irqfd = env_irqfd,
			.map_mmio = env_map_mmio,
			.ctx = v,
		},
		.alloc_spi = env_alloc_spi,
		.window_base = VFIO_MMIO_BASE,
		.window_size = VFIO_MMIO_SIZE,
		.first_phandle = VFIO_FIRST_PHANDLE,
		.root = "",
	};

	return vfio_devices_create(v->cfg->vfio, v->cfg->nr_vfio, &env, &v->devices);
}

static int step_devices(struct vmm *v)
{
	struct device *dev;
	int ret;

	ret = add_uart(v);
	ret = ret ?: add_virtio_devices(v);
	ret = ret ?: add_vfio_devices(v);
	if (ret)
		return ret;

	device_for_each(&v->devices, dev) {
		if (!dev->mmio_size)
			continue;	/* e.g. VFIO: its regions are mapped or trapped apart */
		ret = mmio_bus_add(&v->vm.bus, dev);
		if (ret) {
			pr_err("%s: cannot claim MMIO 0x%llx: %s", dev->name,
			       (unsigned long long)dev->mmio_base, strerror(-ret));
			return ret;
		}
	}
	return 0;
}

/* The saved section of vCPU i. */
static const struct state_section *vcpu_section(struct vmm *v, unsigned int i)
{
	char name[STATE_NAME_LEN + 1];

	snprintf(name, sizeof(name), "vcpu.%u", i);
	return sr_section(&v->restore->reader, name);
}

/* KVM_ARM_VCPU_INIT with the saved features; MP_STATE says who is off. */
static int vcpu_init_saved(struct vmm *v, unsigned int i)
{
	const struct state_section *s = vcpu_section(v, i);
	uint32_t features;

	if (!s || vcpu_saved_features(s, &features))
		return -EINVAL;
	return vcpu_init_features(&v->vm.vcpus[i], features & ~(1U << KVM_ARM_VCPU_POWER_OFF));
}

static int step_vcpus(struct vmm *v)
{
	struct timer_ppis ppis;
	int ret;

	ret = vcpus_create(&v->vm, v->cfg->nr_cpus);
	if (ret) {
		pr_err("creating vCPU %u: %s", v->vm.nr_vcpus - 1, strerror(-ret));
		return ret;
	}
	for (unsigned int i = 0; i < v->vm.nr_vcpus; i++) {
		ret = v->restore ? vcpu_init_saved(v, i) : vcpu_init(&v->vm.vcpus[i]);
		if (ret) {
			pr_err("vcpu%u: KVM_ARM_VCPU_INIT: %s", i, strerror(-ret));
			return ret;
		}
	}
	timer_default_ppis(&ppis);
	ret = timer_configure(v->vm.vcpus[0].fd, &ppis);
	if (ret)
		pr_err("timer: setting the timer PPIs: %s", strerror(-ret));
	return ret;
}

/*
 * The guest's two counters go on from where they were, read as at one
 * moment at the snapshot (snapshots from before lvmm saved the physical
 * one: vCPU 0's saved TIMER_CNT and PTIMER_CNT, read a few ioctls apart,
 * give the difference). --clock advance moves both on by the wall-clock
 * time since the snapshot. Timer compare values are in guest counter terms
 * (restored with the registers), so deadlines keep.
 */
static int restore_counters(struct vmm *v, char *err, size_t errlen)
{
	const struct snapshot_image *img = v->restore;
	const struct state_section *vm = sr_section(&img->reader, "vm");
	const struct state_section *s = vcpu_section(v, 0);
	uint64_t virt = img->guest_counter, phys = 0, saved_v = 0, saved_p = 0;
	struct timer_offsets off;
	bool has_phys;
	int ret;

	has_phys = vm && ss_get_u64(vm, VM_KEY_GUEST_PCOUNTER, &phys);
	if (!has_phys && s && ss_get_u64(s, KVM_REG_ARM_TIMER_CNT, &saved_v) &&
	    ss_get_u64(s, KVM_REG_ARM_PTIMER_CNT, &saved_p)) {
		phys = virt + (saved_p - saved_v);
		has_phys = true;
	}
	if (v->cfg->clock == CLOCK_ADVANCE) {
		struct timespec ts;
		uint64_t now;

		clock_gettime(CLOCK_REALTIME, &ts);
		now = (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
		if (now > img->realtime_ns)
			virt += (unsigned __int128)(now - img->realtime_ns) * img->cntfrq /
				1000000000ULL;
	}
	timer_counter_offsets(&off, virt, phys + (virt - img->guest_counter), has_phys);
	for (unsigned int i = 0; i < v->vm.nr_vcpus; i++) {
		ret = timer_set_counters(v->vm.vcpus[i].fd, &off);
		if (ret) {
			snprintf(err, errlen, "vcpu%u: setting the guest's counters: %s", i,
				 strerror(-ret));
			return ret;
		}
	}
	return 0;
}

/*
 * After irqchip_finalize: vCPU registers, the guest's counters, the vGIC,
 * then the devices (a device may drive its line: the vGIC must be there).
 */
static int step_restore_state(struct vmm *v)
{
	struct snapshot_image *img = v->restore;
	uint64_t mpidrs[LVMM_MAX_CPUS];
	const struct state_section *s;
	struct device *dev;
	char err[512] = "";
	int ret;

	for (unsigned int i = 0; i < v->vm.nr_vcpus; i++) {
		s = vcpu_section(v, i);
		/* The counters are set once for all vCPUs, below. */
		ret = vcpu_restore(&v->vm.vcpus[i], s, true, err, sizeof(err));
		if (ret)
			goto fail;
		mpidrs[i] = v->vm.vcpus[i].mpidr;
	}
	ret = restore_counters(v, err, sizeof(err));
	if (ret)
		goto fail;
	ret = irqchip_restore(v->irqchip, &img->reader, mpidrs, err, sizeof(err));
	if (ret)
		goto fail;
	device_for_each(&v->devices, dev) {
		s = sr_section(&img->reader, dev->name);
		if (!s || !dev->ops->restore) {
			snprintf(err, sizeof(err), "the snapshot has no state for %s", dev->name);
			ret = -EINVAL;
			goto fail;
		}
		ret = dev->ops->restore(dev, s, err, sizeof(err));
		if (ret)
			goto fail;
	}
	return 0;
fail:
	pr_err("restore: %s", err);
	return ret ? ret : -EINVAL;
}

static int step_load_and_fdt(struct vmm *v)
{
	const struct vm_config *cfg = v->cfg;
	uint64_t mpidrs[LVMM_MAX_CPUS];
	uint64_t psci = 0;
	struct fdt_desc desc;
	void *fdt;
	int ret;

	ret = boot_file_load(v, &v->kernel, v->layout.kernel_gpa);
	if (!ret && v->initrd.size)
		ret = boot_file_load(v, &v->initrd, v->layout.initrd_gpa);
	if (ret)
		return ret;

	v->bootargs = options_kernel_cmdline(cfg);
	if (!v->bootargs)
		return -ENOMEM;

	for (unsigned int i = 0; i < v->vm.nr_vcpus; i++)
		mpidrs[i] = v->vm.vcpus[i].mpidr;
	vcpu_get_reg(&v->vm.vcpus[0], KVM_REG_ARM_PSCI_VERSION, &psci);

	memset(&desc, 0, sizeof(desc));
	desc.ram_base = RAM_BASE;
	desc.ram_size = cfg->mem_bytes;
	desc.nr_cpus = v->vm.nr_vcpus;
	desc.mpidrs = mpidrs;
	desc.gic = v->irqchip->layout;
	timer_default_ppis(&desc.timer);
	desc.psci_1_0 = psci >= 0x10000;
	desc.bootargs = v->bootargs;
	desc.kaslr_seed = cfg->kaslr_seed;
	desc.initrd_start = v->layout.initrd_gpa;
	desc.initrd_size = v->layout.initrd_size;
	desc.stdout_path = cfg->console == CONSOLE_SERIAL ? "/serial@9000000" : NULL;
	desc.devices = &v->devices;

	fdt = guest_mem_ptr(&v->vm.ram, v->layout.fdt_gpa, BOOT_FDT_MAX_SIZE);
	ret = fdt_build(&desc, fdt, BOOT_FDT_MAX_SIZE);
	if (!ret)
		ret = fdt_pack(fdt) ? -EINVAL : 0;
	if (ret) {
		pr_err("building the device tree: %s", strerror(-ret));
		return ret;
	}
	if (cfg->dump_dtb) {
		int fd = open(cfg->dump_dtb, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		ret = fd < 0 ? -errno : write_all(fd, fdt, fdt_totalsize(fdt));
		if (fd >= 0 && close(fd) < 0 && !ret)
			ret = -errno;
		if (ret) {
			pr_err("--dump-dtb '%s': %s", cfg->dump_dtb, strerror(-ret));
			return ret;
		}
	}
	ret = vcpu_set_boot_regs(&v->vm.vcpus[0], v->layout.kernel_gpa, v->layout.fdt_gpa);
	if (ret)
		pr_err("vcpu0: setting boot registers: %s", strerror(-ret));
	return ret;
}

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int step_start(struct vmm *v)
{
	struct device *dev;
	char err[512];
	int ret;

	device_for_each(&v->devices, dev) {
		if (!dev->ops->start)
			continue;
		ret = dev->ops->start(dev);
		if (ret) {
			pr_err("%s: %s", dev->name, strerror(-ret));
			return ret;
		}
	}
	v->devices_started = true;
	ret = control_start(&v->control, v->cfg->name, vmm_control, v, err, sizeof(err));
	if (ret) {
		pr_err("%s", err);
		return ret;
	}
	v->term_raw = term_raw_begin(STDIN_FILENO);
	v->setup_cpu_ns = thread_cpu_ns();
	ret = vcpus_start(&v->vm);
	if (ret)
		pr_err("starting vCPU threads: %s", strerror(-ret));
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
			dev->irq < GIC_NR_IRQS ? v->irqchip->irq_line_calls[dev->irq] : 0, extra,
			isatty(STDERR_FILENO) ? "\r\n" : "\n");
	}
}

/* One line that bench/ scripts parse: key=value, times in ms. */
static void print_stats(struct vmm *v)
{
	unsigned long long cpu_ticks, guest_ticks;
	long hz = sysconf(_SC_CLK_TCK);
	uint64_t marker = uart_marker_seen_ns(v->console);
	unsigned long rss = proc_status_kib("VmRSS");
	unsigned long guest_rss = guest_ram_resident_kib(&v->vm);

	read_proc_stat_ticks(&cpu_ticks, &guest_ticks);
	fprintf(stderr,
		"lvmm-stats: first_kvm_run_ms=%.2f marker_ms=%.2f setup_cpu_ms=%.2f "
		"cpu_ms=%llu guest_cpu_ms=%llu rss_kib=%lu guest_ram_rss_kib=%lu vmm_rss_kib=%lu "
		"started_ms=%.2f%s",
		v->vm.first_run_ns ? (v->vm.first_run_ns - lvmm_start_ns) / 1e6 : -1.0,
		marker ? (marker - lvmm_start_ns) / 1e6 : -1.0,
		v->setup_cpu_ns / 1e6,
		cpu_ticks * 1000 / hz, guest_ticks * 1000 / hz,
		rss, guest_rss, rss > guest_rss ? rss - guest_rss : 0,
		v->restore_done_ns ? (v->restore_done_ns - lvmm_start_ns) / 1e6 : -1.0,
		isatty(STDERR_FILENO) ? "\r\n" : "\n");
	print_device_stats(v);
}

/* Reverse the device list in place: teardown walks bring-up backwards. */
static void devices_reverse(struct device_list *list)
{
	struct device *prev = NULL, *dev = list->head, *next;

	list->tail = list->head ? &list->head->next : &list->head;
	while (dev) {
		next = dev->next;
		dev->next = prev;
		prev = dev;
		dev = next;
	}
	list->head = prev;
}

static void vmm_teardown(struct vmm *v)
{
	struct device *dev, *next;

	/* No more requests (a snapshot in progress finishes first). */
	control_stop(&v->control);
	vcpus_stop(&v->vm);
	devices_reverse(&v->devices);
	if (v->devices_started)
		device_for_each(&v->devices, dev)
			if (dev->ops->stop)
				dev->ops->stop(dev);
	term_restore();
	if (v->cfg->stats && v->console && v->vm.ram.host)
		print_stats(v);
	for (dev = v->devices.head; dev; dev = next) {
		next = dev->next;
		dev->ops->free(dev);
	}
	v->devices.head = NULL;
	irqchip_destroy(v->irqchip);
	v->irqchip = NULL;
	vm_destroy(&v->vm);
	boot_file_close(&v->initrd);
	boot_file_close(&v->kernel);
	free(v->bootargs);
	pthread_mutex_destroy(&v->op_lock);
}

/*
 * Restoring: the snapshot's configuration replaces the command line's, but
 * for the name and the restore options.
 */
static int open_restore(struct vmm *v, const struct vm_config *cfg, struct vm_config *rcfg)
{
	char err[1024];
	int ret;

	v->restore = calloc(1, sizeof(*v->restore));
	if (!v->restore)
		return -ENOMEM;
	ret = snapshot_open(cfg->restore_dir, v->restore, err, sizeof(err));
	if (ret) {
		pr_err("restore: %s", err);
		free(v->restore);
		v->restore = NULL;
		return ret;
	}
	*rcfg = v->restore->cfg;
	rcfg->restore_dir = cfg->restore_dir;
	rcfg->clock = cfg->clock;
	rcfg->copy_memory = cfg->copy_memory;
	rcfg->stats = cfg->stats;
	rcfg->stats_marker = cfg->stats_marker;
	rcfg->dump_dtb = NULL;
	if (cfg->name_given || !rcfg->name[0])
		memcpy(rcfg->name, cfg->name, sizeof(rcfg->name));
	v->cfg = rcfg;
	if (timer_host_freq() != v->restore->cntfrq) {
		pr_err("restore: the snapshot's counter runs at %llu Hz, this host's at %llu Hz",
		       (unsigned long long)v->restore->cntfrq,
		       (unsigned long long)timer_host_freq());
		return -EINVAL;
	}
	return 0;
}

int vmm_run(const struct vm_config *cfg, struct vmm_result *res)
{
	struct vmm v = { .cfg = cfg };
	struct vm_config rcfg;
	enum irqchip_model model;
	sigset_t sigs, old;
	int sig_fd = -1;
	int ret;

	memset(res, 0, sizeof(*res));
	v.vm.kvm_fd = v.vm.vm_fd = v.vm.exit_efd = -1;
	v.control.listen_fd = v.control.stop_efd = -1;
	v.kernel.fd = v.initrd.fd = -1;
	pthread_mutex_init(&v.op_lock, NULL);
	device_list_init(&v.devices);

	/*
	 * Termination signals are taken by the main thread through a signalfd,
	 * so every thread created from here on has them blocked.
	 */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGUSR1);	/* unblocked only in vCPU threads */
	pthread_sigmask(SIG_BLOCK, &sigs, &old);
	sigdelset(&sigs, SIGUSR1);
	sig_fd = signalfd(-1, &sigs, SFD_CLOEXEC);
	if (sig_fd < 0) {
		ret = -errno;
		pr_err("signalfd: %s", strerror(-ret));
		goto out;
	}

	if (cfg->restore_dir) {
		ret = open_restore(&v, cfg, &rcfg);
		if (ret)
			goto out;
		cfg = v.cfg;
	}
	/*
	 * The host first, then the files: a VM this host cannot run is
	 * reported as such whatever the kernel (kvm-unit-tests' runner
	 * probes with a missing kernel and skips a test on another error).
	 */
	ret = step_kvm(&v, &model);
	if (!v.restore)
		ret = ret ?: step_boot_files(&v);
	ret = ret ?: step_ram(&v);
	if (ret)
		goto out;
	ret = irqchip_create(v.vm.vm_fd, model, cfg->nr_cpus, &v.irqchip);
	ret = ret ?: step_devices(&v);
	ret = ret ?: step_vcpus(&v);
	ret = ret ?: irqchip_finalize(v.irqchip);
	if (v.restore)
		ret = ret ?: step_restore_state(&v);
	else
		ret = ret ?: step_load_and_fdt(&v);
	if (ret)
		goto out;
	pr_info("%s: %u vCPU%s, %llu MiB, %s%s", cfg->name, cfg->nr_cpus,
		cfg->nr_cpus > 1 ? "s" : "", (unsigned long long)(cfg->mem_bytes / SZ_1M),
		irqchip_model_name(model), v.restore ? ", restored" : "");
	ret = step_start(&v);
	if (ret)
		goto out;
	sandbox_enter(SANDBOX_MAIN);	/* every thread is started */
	wait_for_exit(&v, sig_fd, res);
out:
	vmm_teardown(&v);
	if (v.restore) {
		snapshot_close(v.restore);
		free(v.restore);
	}
	if (sig_fd >= 0)
		close(sig_fd);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return ret;
}
