/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The VM configuration as the user gave it on the command line, parsed and
 * checked without touching KVM (so it can be unit-tested on any machine).
 */
#ifndef LVMM_OPTIONS_H
#define LVMM_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum irqchip_model {
	IRQCHIP_AUTO = 0,
	IRQCHIP_GICV2,
	IRQCHIP_GICV3,
	IRQCHIP_GICV3_ITS,
};

enum console_kind {
	CONSOLE_SERIAL = 0,
	CONSOLE_VIRTIO,
};

#define LVMM_DEFAULT_MEM_MIB 256
#define LVMM_DEFAULT_CPUS 1
#define LVMM_MAX_CPUS 512	/* arm64 KVM_MAX_VCPUS; the host may allow fewer */
#define LVMM_NAME_MAX 64

#define LVMM_MAX_DISKS 8
#define LVMM_MAX_DISK_QUEUES 8
#define LVMM_MAX_9P 4
#define LVMM_MAX_NETS 4
#define LVMM_MAX_HOSTFWDS 16
#define LVMM_MAX_VFIO 8
#define LVMM_MAX_GPIO_KEYS 8

/* --seccomp: how lvmm's threads are confined (sandbox/) */
enum sandbox_mode {
	SANDBOX_ON = 0,		/* a forbidden system call ends lvmm, naming it */
	SANDBOX_LOG,		/* it is reported and carried out (debugging) */
	SANDBOX_OFF,
};

struct disk_config {
	const char *path;
	bool readonly;
	const char *serial;	/* NULL: the file's name */
	unsigned int queues;	/* virtio-blk queues, each with its thread; 0: one */
};

/* hostfwd=PROTO:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT (QEMU's form) */
struct net_hostfwd {
	bool udp;
	uint32_t host_addr;	/* host byte order; 0: 127.0.0.1 */
	uint16_t host_port;
	uint32_t guest_addr;	/* host byte order; 0: the guest's DHCP address */
	uint16_t guest_port;
};

struct net_config {
	char tapif[16];
	uint8_t mac[6];
	bool user;		/* -n mode=user: a user-mode (slirp) backend */
	bool vhost;		/* -n ...,vhost=1: the host kernel's vhost-net serves the rings */
	struct net_hostfwd fwds[LVMM_MAX_HOSTFWDS];
	unsigned int nr_fwds;
};

/* A key on a line of a passed-through GPIO controller (a gpio-keys node). */
struct vfio_gpio_key {
	unsigned int line;
	unsigned int code;	/* Linux input code, e.g. 116 (KEY_POWER) */
};

/* --vfio-platform DEVICE[,gpio-key=LINE:KEYCODE][,no-mmap] */
struct vfio_config {
	const char *device;	/* name on its bus (9010000.pl031) or sysfs path */
	bool no_mmap;		/* trap every region instead of mapping it */
	struct vfio_gpio_key keys[LVMM_MAX_GPIO_KEYS];
	unsigned int nr_keys;
};

/* --vfio-pci [DOMAIN:]BUS:DEV.FN */
struct vfio_pci_config {
	char addr[16];		/* canonical: 0000:00:01.0 */
};

struct vm_config {
	const char *kernel;	/* NULL: look for the host's own kernel */
	const char *initrd;
	const char *params;	/* kernel command line from -p */
	uint64_t mem_bytes;
	unsigned int nr_cpus;
	enum irqchip_model irqchip;
	/* virtio devices on virtio-mmio windows or as virtio-pci functions */
	enum virtio_transport_opt { VIRTIO_OPT_MMIO = 0, VIRTIO_OPT_PCI } virtio_transport;
	bool virtio_transport_given;	/* on the command line, not the default */
	enum console_kind console;
	const char *dump_dtb;
	char name[LVMM_NAME_MAX + 1];
	bool name_given;	/* --name was on the command line */
	bool stats;		/* print VMM timing/memory figures at exit */
	const char *restore_dir; /* restore this snapshot instead of booting */
	const char *incoming;	/* --incoming URI: take a migrated VM (migration/) */
	void *incoming_ram;	/* its guest RAM, received: the VM runs on it */
	enum clock_mode { CLOCK_RESUME = 0, CLOCK_ADVANCE } clock;
	bool copy_memory;	/* restore: read all RAM now instead of lazily */
	enum sandbox_mode seccomp;
	const char *stats_marker; /* console text whose first sight is timed */
	struct disk_config disks[LVMM_MAX_DISKS];
	unsigned int nr_disks;
	struct net_config nets[LVMM_MAX_NETS];
	unsigned int nr_nets;
	bool no_network;	/* -n mode=none: not even a quick guest's default */
	bool rng;
	const char *hugetlbfs;	/* guest RAM in a file of this hugetlbfs mount */
	/* The user's --9p shares, then a quick guest's two (quickguest/). */
	struct p9_config { const char *dir, *tag; bool readonly; } shares[LVMM_MAX_9P + 2];
	unsigned int nr_shares;
	struct vfio_config vfio[LVMM_MAX_VFIO];
	unsigned int nr_vfio;
	struct vfio_pci_config vfio_pci[LVMM_MAX_VFIO];
	unsigned int nr_vfio_pci;
	/* From kvmtool's lkvm run options (see lkvm_options in options.c). */
	bool nodefaults;	/* the kernel gets exactly --params */
	const char *quick_params; /* a quick guest's root= and init= (quickguest/) */
	bool flat;		/* a kernel without the Image header is a flat binary */
	enum log_level { LOG_INFO = 0, LOG_WARNING, LOG_ERROR } log_level;
	uint64_t kaslr_seed;	/* /chosen/kaslr-seed; 0: none */
	/* Copies of option values split at commas (freed by options_free). */
	char *owned[LVMM_MAX_DISKS + LVMM_MAX_VFIO + LVMM_MAX_9P];
	unsigned int nr_owned;
};

void options_free(struct vm_config *cfg);

/* What parsing decided the program should do next. */
enum options_result {
	OPTIONS_RUN = 0,	/* cfg is complete: run the VM */
	OPTIONS_HELP,		/* help was printed: exit 0 */
	OPTIONS_ERROR,		/* a message was printed: exit 2 */
};

/*
 * Parse "lvmm run" arguments (argv[0] is "run"). Messages go to err, help to
 * out. The pointers stored in cfg point into argv.
 */
enum options_result options_parse_run(int argc, char **argv, struct vm_config *cfg,
				      FILE *out, FILE *err);
void options_usage_run(FILE *out);

/* --name's rule, also applied to a restored snapshot's saved name. */
bool vm_name_is_valid(const char *name);

/*
 * The kernel command line cfg asks for: --params as given with --nodefaults,
 * otherwise with "console=ttyS0" (hvc0 with --console virtio) in front
 * unless it names a console. Returns a malloc'd string, NULL without memory.
 */
char *options_kernel_cmdline(const struct vm_config *cfg);

const char *irqchip_model_name(enum irqchip_model model);
/* One hostfwd= value; 0, or -1 with one "lvmm: ..." line on err. */
int net_hostfwd_parse(const char *s, struct net_hostfwd *fwd, FILE *err);
int irqchip_model_parse(const char *s, enum irqchip_model *model);

/*
 * A PCI address [DOMAIN:]BUS:DEV.FN (hex) as sysfs names it, DDDD:BB:DD.F,
 * into out. Returns 0, or -1 when arg is not one.
 */
int vfio_pci_addr_parse(const char *arg, char *out, size_t len);

/*
 * A console= on the command line that names a device this VM lacks (a
 * habit from QEMU: ttyAMA0): a one-line warning in buf.
 */
bool options_console_warning(const struct vm_config *cfg, char *buf, size_t len);

/*
 * How many queues disk i's virtio-blk has. One unless asked: on the
 * emulated 2-CPU test host a queue per vCPU lost to one (README, bench).
 */
static inline unsigned int disk_queues(const struct vm_config *cfg, unsigned int i)
{
	return cfg->disks[i].queues ? cfg->disks[i].queues : 1;
}

#endif
