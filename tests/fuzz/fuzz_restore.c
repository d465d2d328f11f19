// SPDX-License-Identifier: GPL-2.0
/*
 * Restoring from a snapshot's state file, as far as it goes without KVM:
 * the reader (migration/state.c), the vm section made into a VM
 * configuration (migration/restore_config.c), then the devices that
 * configuration asks for, created as vmm/devices.c creates them (uart0,
 * virtio-console0, virtio-blkN, virtio-rng0; not virtio-net, which needs a
 * tap) and restored from their sections, then read through every register
 * as a guest would right after the restore. The input is the whole state
 * file, its checksum made right. Checked: no sanitizer report, and a
 * configuration that parses is within lvmm's limits.
 *
 * Every disk is backed by one scratch image of DISK_SIZE bytes whatever
 * path the input names (the restore checks the saved capacity against it).
 *
 * Seeds (tests/fuzz/corpus/restore/) are real state files written by the
 * same devices through the writer, built from this file with -DGEN_SEEDS:
 *
 *   clang -std=gnu11 -D_GNU_SOURCE -I. -DGEN_SEEDS -o build/gen-restore-seeds \
 *	tests/fuzz/fuzz_restore.c $(make -s -p -n | sed -n 's/^UNIT_SRCS := //p') \
 *	-lfdt -laio -lpthread && build/gen-restore-seeds tests/fuzz/corpus/restore
 */
#include "fuzz.h"
#include "../../devices/device.h"
#include "../../devices/virtio/virtio.h"
#include "../../migration/snapshot.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#define RAM_GPA		0x40000000ULL
#define RAM_SIZE	(1 << 20)
#define DISK_SIZE	(1 << 20)
#define UART_BASE	0x09000000ULL
#define VIRTIO_BASE	0x0a000000ULL

static uint8_t *ram;
static char disk_path[] = "/tmp/lvmm-fuzz-restore-XXXXXX";
static int null_fd = -1;

static int env_ioeventfd(void *ctx, uint64_t gpa, unsigned int len, uint64_t datamatch, int fd,
			 bool assign)
{
	return 0;
}

static int env_irqfd(void *ctx, unsigned int intid, int fd, int resample_fd, bool assign)
{
	return 0;
}

static void no_irq(struct device *dev, int level)
{
}

static int setup(void)
{
	int fd;

	if (ram)
		return 0;
	ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	fd = mkstemp(disk_path);
	null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (ram == MAP_FAILED || fd < 0 || ftruncate(fd, DISK_SIZE) < 0 || null_fd < 0)
		abort();
	close(fd);
	return 0;
}

struct devset {
	struct device *dev[2 + LVMM_MAX_DISKS + 1];
	bool pooled[2 + LVMM_MAX_DISKS + 1];
	unsigned int n;
};

/*
 * virtio-blk devices are kept from one input to the next (read-only and
 * not, by index): creating one (libaio's io_setup and io_destroy, 1 MiB of
 * requests) costs tens of milliseconds. A reused one is reset the way a
 * driver resets it (status 0), which is the state a fresh one starts in;
 * only its serial stays that of its first creation.
 */
static struct device *blk_pool[2][LVMM_MAX_DISKS];

static void devset_free(struct devset *set)
{
	for (unsigned int i = 0; i < set->n; i++)
		if (!set->pooled[i])
			set->dev[i]->ops->free(set->dev[i]);
	set->n = 0;
}

/* The devices cfg asks for, named and ordered as vmm/devices.c makes them. */
static int devset_create(struct devset *set, const struct vm_config *cfg)
{
	struct uart_console_opts uopts = { .in_fd = -1, .out_fd = null_fd };
	struct device_env env = {
		.mem = { ram, RAM_GPA, RAM_SIZE, NULL },
		.ioeventfd = env_ioeventfd,
		.irqfd = env_irqfd,
	};
	uint64_t base = VIRTIO_BASE;
	unsigned int spi = 32;
	struct device *dev;
	char name[32], msg[256];
	int err = 0;

	set->n = 0;
	memset(set->pooled, 0, sizeof(set->pooled));
	dev = uart_create("uart0", UART_BASE, spi++, &uopts);
	if (!dev)
		return -1;
	set->dev[set->n++] = dev;
	if (cfg->console == CONSOLE_VIRTIO) {
		struct virtio_console_opts copts = { .in_fd = -1, .out_fd = null_fd };

		err = virtio_console_create("virtio-console0", &(struct virtio_transport){ .base = base, .intid = spi }, &copts,
					    &env, &dev, msg, sizeof(msg));
		spi++;
		if (err)
			goto fail;
		set->dev[set->n++] = dev;
		base += VIRTIO_MMIO_SIZE;
	}
	for (unsigned int i = 0; i < cfg->nr_disks; i++) {
		struct virtio_blk_opts bopts = {
			.path = disk_path,
			.readonly = cfg->disks[i].readonly,
			.serial = cfg->disks[i].serial,
		};

		struct device **pooled = &blk_pool[bopts.readonly][i];
		uint32_t reset = 0;

		snprintf(name, sizeof(name), "virtio-blk%u", i);
		if (!*pooled)
			err = virtio_blk_create(name, &(struct virtio_transport){ .base = base, .intid = spi }, &bopts, &env, pooled, msg,
						sizeof(msg));
		if (!*pooled)
			goto fail;
		dev = *pooled;
		dev->ops->mmio_write(dev, 0x070, &reset, 4);	/* Status: reset */
		set->pooled[set->n] = true;
		set->dev[set->n++] = dev;
		base += VIRTIO_MMIO_SIZE;
		spi++;
	}
	base += cfg->nr_nets * VIRTIO_MMIO_SIZE;
	if (cfg->rng) {
		err = virtio_rng_create("virtio-rng0", &(struct virtio_transport){ .base = base, .intid = spi }, &env, &dev, msg,
					sizeof(msg));
		spi++;
		if (err)
			goto fail;
		set->dev[set->n++] = dev;
	}
	for (unsigned int i = 0; i < set->n; i++)
		set->dev[i]->set_irq = no_irq;
	return 0;
fail:
	devset_free(set);
	return -1;
}

#ifndef GEN_SEEDS

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct snapshot_image *img;
	struct devset set;
	char err[512];
	uint8_t *buf;

	setup();
	img = calloc(1, sizeof(*img));
	/* A copy of exactly `size` bytes: ASan catches a read one past it. */
	buf = malloc(size ? size : 1);
	if (!img || !buf)
		abort();
	memcpy(buf, data, size);
	/*
	 * Make the checksum right, so that mutations reach the parse and the
	 * devices (fuzz_state covers the reader's own checks, CRC included).
	 */
	if (size >= 8) {
		uint32_t crc = crc32_le(0, buf, size - 8);

		memcpy(buf + size - 8, &crc, 4);	/* little-endian host */
	}
	img->mem_fd = -1;
	if (sr_open(&img->reader, buf, size, err, sizeof(err)))
		goto out;
	if (snapshot_parse_config(img, err, sizeof(err)))
		goto out_close;
	if (img->cfg.nr_disks > LVMM_MAX_DISKS || img->cfg.nr_nets > LVMM_MAX_NETS ||
	    !img->cfg.nr_cpus || img->cfg.nr_cpus > LVMM_MAX_CPUS ||
	    strlen(img->cfg.name) > LVMM_NAME_MAX || (img->cfg.name[0] && !vm_name_is_valid(img->cfg.name)))
		abort();
	if (devset_create(&set, &img->cfg))
		goto out_close;
	for (unsigned int i = 0; i < set.n; i++) {
		struct device *dev = set.dev[i];
		const struct state_section *s = sr_section(&img->reader, dev->name);

		if (!s || dev->ops->restore(dev, s, err, sizeof(err)))
			break;	/* restore_apply stops the restore here */
		/* The guest looks at the restored device. */
		for (uint64_t off = 0; off < dev->mmio_size && off < 0x200; off += 4) {
			uint32_t v;

			dev->ops->mmio_read(dev, off, &v, 4);
		}
	}
	devset_free(&set);
out_close:
	sr_close(&img->reader);
out:
	free(buf);
	free(img);
	return 0;
}

#else /* GEN_SEEDS: write real state files as seeds */

#include "../../state/state.h"

#include <errno.h>
#include <string.h>

#define REG_DRIVER_FEATURES	0x020
#define REG_DRIVER_FEATURES_SEL	0x024
#define REG_QUEUE_SEL		0x030
#define REG_QUEUE_NUM		0x038
#define REG_QUEUE_READY		0x044
#define REG_STATUS		0x070
#define REG_QUEUE_DESC_LOW	0x080
#define REG_QUEUE_DRIVER_LOW	0x090
#define REG_QUEUE_DEVICE_LOW	0x0a0

static void wr(struct device *dev, uint64_t off, uint32_t v)
{
	dev->ops->mmio_write(dev, off, &v, 4);
}

/* What a guest driver does: features, then every queue set up, DRIVER_OK. */
static void drive(struct device *dev, unsigned int nr_queues, unsigned int slot)
{
	wr(dev, REG_STATUS, 1 | 2);
	wr(dev, REG_DRIVER_FEATURES_SEL, 1);
	wr(dev, REG_DRIVER_FEATURES, 1);	/* VIRTIO_F_VERSION_1 */
	wr(dev, REG_STATUS, 1 | 2 | 8);
	for (unsigned int q = 0; q < nr_queues; q++) {
		uint32_t at = RAM_GPA + 0x1000 * (slot * 4 + q);

		wr(dev, REG_QUEUE_SEL, q);
		wr(dev, REG_QUEUE_NUM, 16);
		wr(dev, REG_QUEUE_DESC_LOW, at);
		wr(dev, REG_QUEUE_DRIVER_LOW, at + 0x400);
		wr(dev, REG_QUEUE_DEVICE_LOW, at + 0x800);
		wr(dev, REG_QUEUE_READY, 1);
	}
	wr(dev, REG_STATUS, 1 | 2 | 8 | 4);
}

static int write_seed(const char *dir, const char *name, const struct vm_config *cfg,
		      bool drive_devices)
{
	struct state_writer w;
	struct devset set;
	char path[512];
	FILE *f;

	sw_init(&w);
	sw_begin(&w, "vm", 1);
	sw_put_u64(&w, VM_KEY_MEM, cfg->mem_bytes);
	sw_put_u64(&w, VM_KEY_CPUS, cfg->nr_cpus);
	sw_put_u64(&w, VM_KEY_IRQCHIP, cfg->irqchip);
	sw_put_u64(&w, VM_KEY_CONSOLE, cfg->console);
	sw_put_u64(&w, VM_KEY_NR_IRQS, 256);
	sw_put_u64(&w, VM_KEY_CNTFRQ, 62500000);
	sw_put_u64(&w, VM_KEY_GUEST_COUNTER, 123456789);
	sw_put_u64(&w, VM_KEY_REALTIME_NS, 1700000000000000000ULL);
	sw_put_str(&w, VM_KEY_NAME, cfg->name);
	sw_put_u64(&w, VM_KEY_NR_DISKS, cfg->nr_disks);
	for (unsigned int i = 0; i < cfg->nr_disks; i++) {
		sw_put_str(&w, VM_KEY_DISK(i, 0), cfg->disks[i].path);
		sw_put_u64(&w, VM_KEY_DISK(i, 1), cfg->disks[i].readonly);
		if (cfg->disks[i].serial)
			sw_put_str(&w, VM_KEY_DISK(i, 2), cfg->disks[i].serial);
		sw_put_u64(&w, VM_KEY_DISK(i, 3), DISK_SIZE);
	}
	sw_put_u64(&w, VM_KEY_NR_NETS, cfg->nr_nets);
	for (unsigned int i = 0; i < cfg->nr_nets; i++) {
		sw_put_str(&w, VM_KEY_NET(i, 0), cfg->nets[i].tapif);
		sw_put(&w, VM_KEY_NET(i, 1), cfg->nets[i].mac, 6);
		sw_put_u64(&w, VM_KEY_NET(i, 2), cfg->nets[i].vhost);
	}
	sw_put_u64(&w, VM_KEY_RNG, cfg->rng);
	sw_end(&w);
	for (unsigned int i = 0; i < cfg->nr_cpus; i++) {
		char sec[16];

		snprintf(sec, sizeof(sec), "vcpu.%u", i);
		sw_begin(&w, sec, 1);
		sw_put_u64(&w, 1, 0);				/* MP state: runnable */
		sw_put_u64(&w, 2, 1U << 2);			/* features: PSCI 0.2 */
		sw_put_u64(&w, 3, 0x80000000ULL | i);		/* MPIDR */
		sw_put_u64(&w, 0x6030000000100000ULL, 0x1234);	/* x0 */
		sw_put_u64(&w, 0x6030000000100040ULL, 0x40080000);	/* pc */
		sw_end(&w);
	}
	if (devset_create(&set, cfg))
		return -1;
	for (unsigned int i = 0; i < set.n; i++) {
		struct device *dev = set.dev[i];

		if (drive_devices && i > 0)
			drive(dev, ((struct virtio_dev *)dev)->nr_queues, i);
		dev->ops->save(dev, &w);
	}
	devset_free(&set);
	if (sw_finish(&w))
		return -1;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(w.buf, 1, w.len, f) != w.len || fclose(f))
		return -1;
	sw_free(&w);
	return 0;
}

int main(int argc, char **argv)
{
	static char serials[LVMM_MAX_DISKS][24];
	struct vm_config cfg;
	int ret = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s CORPUS-DIR\n", argv[0]);
		return 2;
	}
	setup();
	/* Small: one vCPU, the UART only. */
	memset(&cfg, 0, sizeof(cfg));
	cfg.mem_bytes = 256 << 20;
	cfg.nr_cpus = 1;
	cfg.irqchip = IRQCHIP_GICV3;
	snprintf(cfg.name, sizeof(cfg.name), "small");
	ret |= write_seed(argv[1], "small", &cfg, false);
	/* Everything: 2 vCPUs, 8 disks with serials, 2 nets, rng, virtio console, driven. */
	cfg.nr_cpus = 2;
	cfg.console = CONSOLE_VIRTIO;
	cfg.rng = true;
	snprintf(cfg.name, sizeof(cfg.name), "big-vm.1");
	cfg.nr_disks = LVMM_MAX_DISKS;
	for (unsigned int i = 0; i < cfg.nr_disks; i++) {
		snprintf(serials[i], sizeof(serials[i]), "serial-%u-abcdefghijk", i);
		cfg.disks[i].path = "/var/lib/lvmm/disk.img";
		cfg.disks[i].serial = serials[i];
		cfg.disks[i].readonly = i & 1;
	}
	cfg.nr_nets = 2;
	for (unsigned int i = 0; i < cfg.nr_nets; i++) {
		snprintf(cfg.nets[i].tapif, sizeof(cfg.nets[i].tapif), "tap%u", i);
		memcpy(cfg.nets[i].mac, "\x02\x4c\x56\x00\x00\x00", 6);
		cfg.nets[i].mac[5] = i;
	}
	ret |= write_seed(argv[1], "eight-disks-serials-driven", &cfg, true);
	ret |= write_seed(argv[1], "eight-disks-serials", &cfg, false);
	/* GICv2, serial console, 1 disk, rng, driven. */
	cfg.irqchip = IRQCHIP_GICV2;
	cfg.console = CONSOLE_SERIAL;
	cfg.nr_disks = 1;
	cfg.nr_nets = 0;
	ret |= write_seed(argv[1], "one-disk-rng-driven", &cfg, true);
	unlink(disk_path);
	return ret ? 1 : 0;
}

#endif
