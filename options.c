// SPDX-License-Identifier: GPL-2.0
#include "options.h"
#include "board/memmap.h"
#include "util.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const irqchip_names[] = {
	[IRQCHIP_AUTO] = "auto",
	[IRQCHIP_GICV2] = "gicv2",
	[IRQCHIP_GICV3] = "gicv3",
	[IRQCHIP_GICV3_ITS] = "gicv3-its",
};

const char *irqchip_model_name(enum irqchip_model model)
{
	if ((unsigned int)model >= ARRAY_SIZE(irqchip_names))
		return "?";
	return irqchip_names[model];
}

int irqchip_model_parse(const char *s, enum irqchip_model *model)
{
	for (unsigned int i = 0; i < ARRAY_SIZE(irqchip_names); i++) {
		if (!strcmp(s, irqchip_names[i])) {
			*model = i;
			return 0;
		}
	}
	return -EINVAL;
}

void options_usage_run(FILE *out)
{
	fprintf(out,
"Usage: lvmm run [OPTIONS]\n"
"\n"
"Boot an arm64 Linux kernel in a KVM virtual machine with an in-kernel vGIC.\n"
"\n"
"With no disk (-d), initrd (-i) or root= (-p), and without --nodefaults, the\n"
"VM is a quick guest, as with lkvm run: its root is ~/.lvmm/NAME (NAME from\n"
"--name, else \"default\"; made on first use) over 9p, with bin, lib, usr...\n"
"linked to the host's / (read-only at /host), a small init lvmm carries, the\n"
"host's /bin/sh on the console, and user-mode networking unless -n says\n"
"otherwise. The VM ends when the shell exits. (lvmm sandbox runs one\n"
"command in such a guest.)\n"
"\n"
"Guest:\n"
"  -k, --kernel IMAGE       arm64 Linux Image to boot, also gzip'd (Image.gz)\n"
"                           or an EFI zboot image (gzip or zstd payload).\n"
"                           Default: the host's own kernel (/boot/Image-$(uname\n"
"                           -r), /boot/vmlinuz-..., ...)\n"
"      --flat               the kernel is a flat binary (no Image header),\n"
"                           loaded at offset 0x80000 (--nodefaults implies it)\n"
"  -i, --initrd FILE        initial ramdisk (e.g. a gzip'd cpio initramfs)\n"
"  -p, --params \"CMDLINE\"   kernel command line; \"console=ttyS0\" (hvc0 with\n"
"                           --console virtio) is added unless it names one,\n"
"                           and panic=-1 (a panic ends the VM, status 3)\n"
"                           unless it sets panic=\n"
"  -m, --mem SIZE           guest RAM; a bare number is MiB, K/M/G suffixes\n"
"                           are accepted (default: %d MiB)\n"
"      --hugetlbfs DIR      guest RAM in huge pages: a file on the hugetlbfs\n"
"                           mounted at DIR (default: anonymous memory)\n"
"  -c, --cpus N             number of vCPUs (default: %d)\n"
"      --irqchip MODEL      gicv2, gicv3, gicv3-its or auto (default: auto,\n"
"                           the first of gicv3-its, gicv3, gicv2 the host has)\n"
"      --console KIND       serial: a 16550 UART, the guest's ttyS0 (default);\n"
"                           virtio: virtio-console, the guest's hvc0\n"
"\n"
"Devices:\n"
"      --virtio-transport pci|mmio\n"
"                           how the virtio devices sit: virtio-pci functions\n"
"                           on a PCI ECAM host (default, as kvmtool's; MSI-X\n"
"                           through the ITS, else INTx) or virtio-mmio windows\n"
"  -d, --disk FILE[,ro][,serial=ID][,queues=N]\n"
"                           virtio-blk on a raw image or a block device (up to %d);\n"
"                           ro: writes fail with an I/O error; serial: the\n"
"                           disk's ID (default: the file's name); queues: 1-8\n"
"                           queues, a thread each (default 1)\n"
"  -n, --network mode=user[,hostfwd=tcp:HOSTPORT-:GUESTPORT...][,guest_mac=MAC]\n"
"                           virtio-net on a user-mode network (libslirp, no\n"
"                           privileges): the guest gets 10.0.2.15 by DHCP,\n"
"                           the host is 10.0.2.2, DNS 10.0.2.3; hostfwd=\n"
"                           (tcp: or udp:, [ADDR]:PORT-[ADDR]:PORT, up to %d)\n"
"                           forwards a host port (on 127.0.0.1 by default)\n"
"                           to the guest. Cannot be checkpointed\n"
"  -n, --network mode=tap,tapif=NAME[,guest_mac=MAC][,vhost=1]\n"
"                           virtio-net on host tap device NAME (created if\n"
"                           missing, which needs CAP_NET_ADMIN; repeatable);\n"
"                           vhost=1: the host kernel's vhost-net moves the\n"
"                           frames (/dev/vhost-net)\n"
"      --rng                virtio-rng fed by the host's getrandom()\n"
"      --9p DIR,TAG[,ro]    virtio-9p (9P2000.L) sharing host directory DIR\n"
"                           under mount tag TAG (repeatable, up to 4); the\n"
"                           guest cannot reach outside DIR; ro: read-only\n"
"\n"
"Snapshots (see also lvmm snapshot, lvmm restore):\n"
"      --restore DIR        restore the snapshot in DIR instead of booting; the\n"
"                           VM's configuration comes from the snapshot\n"
"      --incoming unix:PATH|tcp:ADDR:PORT\n"
"                           wait there for a VM that lvmm migrate sends, and\n"
"                           run it once it is all here (as --restore does)\n"
"      --clock MODE         guest time after a restore: resume (default: the\n"
"                           counter goes on from where it stopped) or advance\n"
"                           (it moves on by the time the VM was down)\n"
"      --copy-memory        read all guest RAM at restore instead of mapping\n"
"                           the memory file copy-on-write and lazily\n"
"      --name NAME          name of the VM, for lvmm list/pause/resume/stop/\n"
"                           snapshot (default: lvmm-PID; a restore keeps the\n"
"                           saved name)\n"
"\n"
"Passthrough (VFIO):\n"
"      --vfio-platform DEVICE[,gpio-key=LINE:KEYCODE][,no-mmap]\n"
"                           give the guest host device DEVICE (its name on\n"
"                           the platform or amba bus, e.g. 9010000.pl031, or\n"
"                           its sysfs path), bound to vfio-platform or\n"
"                           vfio-amba (repeatable, up to %d). gpio-key: on a\n"
"                           GPIO controller, a gpio-keys key on LINE sending\n"
"                           input code KEYCODE (e.g. 3:116 for KEY_POWER;\n"
"                           repeatable); no-mmap: trap and forward every\n"
"                           register access instead of mapping the registers\n"
"      --vfio-pci [DOMAIN:]BUS:DEV.FN\n"
"                           give the guest host PCI device BUS:DEV.FN (e.g.\n"
"                           00:01.0), bound to vfio-pci, behind an IOMMU\n"
"                           (repeatable, up to %d): its BARs mapped, MSI-X to\n"
"                           the ITS by irqfd, INTx by irqfd and resamplefd\n"
"\n"
"kvmtool's lkvm run options (lvmm stands where lkvm does):\n"
"  KERNEL                   a word that is not an option: the same as -k KERNEL\n"
"      --nodefaults         the kernel command line is exactly --params\n"
"      --loglevel LEVEL     error, warning (no info lines), info or debug (= info)\n"
"      --debug              the same as --loglevel debug\n"
"  -n, --network mode=none  no network device (the default, except for a\n"
"                           quick guest, which has mode=user)\n"
"  -m, --mem SIZE@ADDR      ADDR must be where lvmm's RAM starts: 0x40000000\n"
"      --kaslr-seed N       /chosen/kaslr-seed for the guest kernel\n"
"      --disable-mte, --no-pvtime, --no-dhcp\n"
"                           accepted: lvmm already behaves so\n"
"  Every other lkvm run option (--pmu, --firmware, --vsock, ...) is\n"
"  refused with the reason.\n"
"\n"
"Diagnostics:\n"
"      --dump-dtb FILE      write the guest's device tree blob to FILE\n"
"      --stats              print VMM timings, memory use and KVM's exit counts\n"
"                           to stderr at exit\n"
"      --stats-marker TEXT  with --stats, also time the first appearance of\n"
"                           TEXT on the guest console\n"
"      --seccomp MODE       on (default): each thread may make only the system\n"
"                           calls it needs, another one ends lvmm naming it;\n"
"                           log: name it and carry it out; off: no filters\n"
"  -h, --help               show this help\n"
"\n"
"Console: stdin is put in raw mode when it is a terminal; type Ctrl-A x to quit\n"
"(Ctrl-A Ctrl-A sends a literal Ctrl-A).\n"
"\n"
"Exit status: 0 the guest powered off (or Ctrl-A x), 1 an error, 2 bad usage,\n"
"3 the guest asked for a reset (e.g. after a panic with panic=-1), 4 the guest\n"
"reported a crash (PSCI SYSTEM_EVENT crash), 128+N killed by signal N.\n",
		LVMM_DEFAULT_MEM_MIB, LVMM_DEFAULT_CPUS, LVMM_MAX_DISKS, LVMM_MAX_HOSTFWDS,
		LVMM_MAX_VFIO, LVMM_MAX_VFIO);
}

void options_free(struct vm_config *cfg)
{
	for (unsigned int i = 0; i < cfg->nr_owned; i++)
		free(cfg->owned[i]);
	cfg->nr_owned = 0;
}

/* --9p DIR,TAG[,ro] */
static int parse_9p(struct vm_config *cfg, const char *arg, FILE *err)
{
	struct p9_config *p;
	char *copy, *opt, *save;

	if (cfg->nr_shares == LVMM_MAX_9P) {
		fprintf(err, "lvmm: at most %d --9p shares\n", LVMM_MAX_9P);
		return -1;
	}
	copy = strdup(arg);
	if (!copy)
		return -1;
	cfg->owned[cfg->nr_owned++] = copy;
	p = &cfg->shares[cfg->nr_shares];
	memset(p, 0, sizeof(*p));
	p->dir = strtok_r(copy, ",", &save);
	p->tag = strtok_r(NULL, ",", &save);
	if (!p->dir || !p->tag || arg[0] == ',' || strlen(p->tag) > 63) {
		fprintf(err, "lvmm: --9p needs a directory and a mount tag of up to 63 characters (DIR,TAG[,ro])\n");
		return -1;
	}
	while ((opt = strtok_r(NULL, ",", &save))) {
		if (strcmp(opt, "ro")) {
			fprintf(err, "lvmm: --9p %s: unknown option '%s' (ro)\n", p->dir, opt);
			return -1;
		}
		p->readonly = true;
	}
	cfg->nr_shares++;
	return 0;
}

/* -d FILE[,ro][,serial=ID][,queues=N] */
static int parse_disk(struct vm_config *cfg, const char *arg, FILE *err)
{
	struct disk_config *d;
	char *copy, *opt, *save;
	unsigned long n;

	if (cfg->nr_disks == LVMM_MAX_DISKS) {
		fprintf(err, "lvmm: at most %d disks\n", LVMM_MAX_DISKS);
		return -1;
	}
	copy = strdup(arg);
	if (!copy)
		return -1;
	cfg->owned[cfg->nr_owned++] = copy;
	d = &cfg->disks[cfg->nr_disks];
	memset(d, 0, sizeof(*d));
	d->path = strtok_r(copy, ",", &save);
	if (!d->path || !*d->path || arg[0] == ',') {
		fprintf(err, "lvmm: --disk needs a file name (FILE[,ro][,serial=ID][,queues=N])\n");
		return -1;
	}
	while ((opt = strtok_r(NULL, ",", &save))) {
		if (!strcmp(opt, "ro")) {
			d->readonly = true;
		} else if (!strncmp(opt, "serial=", 7) && opt[7] && strlen(opt + 7) <= 20) {
			d->serial = opt + 7;
		} else if (!strncmp(opt, "queues=", 7) &&
			   parse_uint(opt + 7, 1, LVMM_MAX_DISK_QUEUES, &n) == 0) {
			d->queues = n;
		} else {
			fprintf(err, "lvmm: --disk %s: unknown or bad option '%s' (ro, serial=ID of up to 20 characters, queues=1-%d)\n",
				d->path, opt, LVMM_MAX_DISK_QUEUES);
			return -1;
		}
	}
	cfg->nr_disks++;
	return 0;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];
	char tail;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
		   &tail) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = b[i];
	/* A multicast address cannot be a NIC's. */
	return (mac[0] & 1) ? -1 : 0;
}

/* An IPv4 dotted quad, into host byte order; no leading zeros games. */
static int parse_ipv4(const char *s, size_t len, uint32_t *addr)
{
	uint32_t a = 0;
	int parts = 0;
	size_t i = 0;

	while (parts < 4) {
		unsigned int v = 0, digits = 0;

		while (i < len && s[i] >= '0' && s[i] <= '9' && digits < 3)
			v = v * 10 + (unsigned int)(s[i++] - '0'), digits++;
		if (!digits || v > 255)
			return -1;
		a = a << 8 | v;
		if (++parts < 4) {
			if (i >= len || s[i] != '.')
				return -1;
			i++;
		}
	}
	if (i != len)
		return -1;
	*addr = a;
	return 0;
}

/* A port 1-65535 of exactly len decimal digits. */
static int parse_port(const char *s, size_t len, uint16_t *port)
{
	unsigned long v = 0;

	if (!len || len > 5)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (!v || v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

/*
 * PROTO:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT as QEMU spells it, and the
 * shorter PROTO:HOSTPORT-:GUESTPORT; PROTO is tcp or udp.
 */
int net_hostfwd_parse(const char *s, struct net_hostfwd *fwd, FILE *err)
{
	const char *p = s, *dash, *colon, *hport;

	memset(fwd, 0, sizeof(*fwd));
	if (!strncmp(p, "tcp:", 4)) {
		p += 4;
	} else if (!strncmp(p, "udp:", 4)) {
		fwd->udp = true;
		p += 4;
	} else {
		goto bad;
	}
	dash = strchr(p, '-');
	if (!dash)
		goto bad;
	/* Host side: [ADDR]:PORT or PORT. */
	colon = memchr(p, ':', (size_t)(dash - p));
	if (colon) {
		if (colon > p && parse_ipv4(p, (size_t)(colon - p), &fwd->host_addr))
			goto bad;
		hport = colon + 1;
	} else {
		hport = p;
	}
	if (parse_port(hport, (size_t)(dash - hport), &fwd->host_port))
		goto bad;
	/* Guest side: [ADDR]:PORT. */
	p = dash + 1;
	colon = strchr(p, ':');
	if (!colon)
		goto bad;
	if (colon > p && parse_ipv4(p, (size_t)(colon - p), &fwd->guest_addr))
		goto bad;
	if (parse_port(colon + 1, strlen(colon + 1), &fwd->guest_port))
		goto bad;
	return 0;
bad:
	fprintf(err, "lvmm: --network: bad hostfwd '%s' (hostfwd=tcp:HOSTPORT-:GUESTPORT, or udp:, ports 1-65535)\n",
		s);
	return -1;
}

/* -n mode=user[,hostfwd=...][,guest_mac=MAC] or mode=tap,tapif=NAME[,guest_mac=MAC][,vhost=1] */
static int parse_net(struct vm_config *cfg, const char *arg, FILE *err)
{
	struct net_config *n;
	char copy[256], *opt, *save;
	bool tap = false, mac = false;

	if (cfg->nr_nets == LVMM_MAX_NETS) {
		fprintf(err, "lvmm: at most %d network devices\n", LVMM_MAX_NETS);
		return -1;
	}
	n = &cfg->nets[cfg->nr_nets];
	memset(n, 0, sizeof(*n));
	snprintf(copy, sizeof(copy), "%s", arg);
	for (opt = strtok_r(copy, ",", &save); opt; opt = strtok_r(NULL, ",", &save)) {
		if (!strcmp(opt, "mode=tap")) {
			tap = true;
		} else if (!strcmp(opt, "mode=user")) {
			n->user = true;
		} else if (!strncmp(opt, "hostfwd=", 8)) {
			if (n->nr_fwds == LVMM_MAX_HOSTFWDS) {
				fprintf(err, "lvmm: --network: at most %d hostfwd= per device\n",
					LVMM_MAX_HOSTFWDS);
				return -1;
			}
			if (net_hostfwd_parse(opt + 8, &n->fwds[n->nr_fwds], err))
				return -1;
			n->nr_fwds++;
		} else if (!strcmp(opt, "mode=none")) {
			/* kvmtool's way of saying "no network device". */
			if (strcmp(arg, "mode=none")) {
				fprintf(err, "lvmm: --network mode=none takes no other option\n");
				return -1;
			}
			cfg->no_network = true;
			return 0;
		} else if (!strncmp(opt, "mode=", 5)) {
			fprintf(err, "lvmm: --network: mode '%s' is not supported (mode=user, mode=tap or mode=none)\n",
				opt + 5);
			return -1;
		} else if (!strcmp(opt, "script=none")) {
			/* kvmtool's "do not run an ifup script": lvmm never runs one. */
		} else if (!strncmp(opt, "tapif=", 6) && opt[6] && strlen(opt + 6) < sizeof(n->tapif)) {
			strcpy(n->tapif, opt + 6);
		} else if (!strncmp(opt, "guest_mac=", 10) && !parse_mac(opt + 10, n->mac)) {
			mac = true;
		} else if (!strcmp(opt, "vhost=1") || !strcmp(opt, "vhost=0")) {
			n->vhost = opt[6] == '1';
		} else {
			fprintf(err, "lvmm: --network: unknown or bad option '%s' (mode=user[,hostfwd=...] or mode=tap,tapif=NAME[,vhost=1], then [,guest_mac=MAC])\n",
				opt);
			return -1;
		}
	}
	if (n->user && (tap || n->tapif[0])) {
		fprintf(err, "lvmm: --network: mode=user takes no tapif= (it needs no tap device)\n");
		return -1;
	}
	if (n->vhost && n->user) {
		fprintf(err, "lvmm: --network: vhost=1 needs mode=tap (the kernel's vhost-net moves frames to and from a tap)\n");
		return -1;
	}
	if (n->nr_fwds && !n->user) {
		fprintf(err, "lvmm: --network: hostfwd= needs mode=user\n");
		return -1;
	}
	if (!n->user && (!tap || !n->tapif[0])) {
		fprintf(err, "lvmm: --network needs mode=user or mode=tap,tapif=NAME\n");
		return -1;
	}
	if (!mac) {
		/* Locally administered, unicast, one per device and process. */
		uint8_t def[6] = { 0x02, 0x4c, 0x56, (uint8_t)(getpid() >> 8), (uint8_t)getpid(),
				   (uint8_t)cfg->nr_nets };

		memcpy(n->mac, def, 6);
	}
	cfg->nr_nets++;
	return 0;
}

/* --vfio-platform DEVICE[,gpio-key=LINE:KEYCODE]...[,no-mmap] */
static int parse_vfio(struct vm_config *cfg, const char *arg, FILE *err)
{
	struct vfio_config *v;
	char *copy, *opt, *save;

	if (cfg->nr_vfio == LVMM_MAX_VFIO) {
		fprintf(err, "lvmm: at most %d --vfio-platform devices\n", LVMM_MAX_VFIO);
		return -1;
	}
	copy = strdup(arg);
	if (!copy)
		return -1;
	cfg->owned[cfg->nr_owned++] = copy;
	v = &cfg->vfio[cfg->nr_vfio];
	memset(v, 0, sizeof(*v));
	v->device = strtok_r(copy, ",", &save);
	if (!v->device || arg[0] == ',') {
		fprintf(err, "lvmm: --vfio-platform needs a device (DEVICE[,gpio-key=LINE:KEYCODE][,no-mmap])\n");
		return -1;
	}
	while ((opt = strtok_r(NULL, ",", &save))) {
		unsigned int line, code, i;
		char tail;

		if (!strcmp(opt, "no-mmap")) {
			v->no_mmap = true;
			continue;
		}
		/* KEY_MAX is 0x2ff; GPIO controllers have far fewer than 4096 lines. */
		if (strncmp(opt, "gpio-key=", 9) ||
		    sscanf(opt + 9, "%u:%u%c", &line, &code, &tail) != 2 ||
		    line >= 4096 || !code || code > 0x2ff) {
			fprintf(err, "lvmm: --vfio-platform %s: unknown or bad option '%s' (gpio-key=LINE:KEYCODE with KEYCODE 1-767, no-mmap)\n",
				v->device, opt);
			return -1;
		}
		for (i = 0; i < v->nr_keys && v->keys[i].line != line; i++)
			;
		if (i < v->nr_keys) {
			fprintf(err, "lvmm: --vfio-platform %s: GPIO line %u has two keys\n",
				v->device, line);
			return -1;
		}
		if (v->nr_keys == LVMM_MAX_GPIO_KEYS) {
			fprintf(err, "lvmm: --vfio-platform %s: at most %d gpio-key options\n",
				v->device, LVMM_MAX_GPIO_KEYS);
			return -1;
		}
		v->keys[v->nr_keys++] = (struct vfio_gpio_key){ line, code };
	}
	cfg->nr_vfio++;
	return 0;
}

/* [DOMAIN:]BUS:DEV.FN, hex, into the canonical DDDD:BB:DD.F sysfs spells. */
int vfio_pci_addr_parse(const char *arg, char *out, size_t len)
{
	unsigned int dom = 0, bus, dev, fn;
	char tail;
	int n;

	if (strspn(arg, "0123456789abcdefABCDEF:.") != strlen(arg))
		return -1;
	n = sscanf(arg, "%x:%x:%x.%x%c", &dom, &bus, &dev, &fn, &tail);
	if (n != 4) {
		dom = 0;
		if (sscanf(arg, "%x:%x.%x%c", &bus, &dev, &fn, &tail) != 3)
			return -1;
	}
	if (dom > 0xffff || bus > 0xff || dev > 0x1f || fn > 7)
		return -1;
	snprintf(out, len, "%04x:%02x:%02x.%x", dom, bus, dev, fn);
	return 0;
}

/* --vfio-pci [DOMAIN:]BUS:DEV.FN */
static int parse_vfio_pci(struct vm_config *cfg, const char *arg, FILE *err)
{
	struct vfio_pci_config *v;

	if (cfg->nr_vfio_pci == LVMM_MAX_VFIO) {
		fprintf(err, "lvmm: at most %d --vfio-pci devices\n", LVMM_MAX_VFIO);
		return -1;
	}
	v = &cfg->vfio_pci[cfg->nr_vfio_pci];
	if (vfio_pci_addr_parse(arg, v->addr, sizeof(v->addr))) {
		fprintf(err, "lvmm: --vfio-pci '%s': not a PCI address ([DOMAIN:]BUS:DEV.FN in hex, e.g. 00:01.0 or 0000:00:01.0)\n",
			arg);
		return -1;
	}
	for (unsigned int i = 0; i < cfg->nr_vfio_pci; i++) {
		if (!strcmp(cfg->vfio_pci[i].addr, v->addr)) {
			fprintf(err, "lvmm: --vfio-pci %s: given twice\n", v->addr);
			return -1;
		}
	}
	cfg->nr_vfio_pci++;
	return 0;
}

/*
 * kvmtool's "lkvm run" options (builtin-run.c and arm's kvm-config-arch.h)
 * that lvmm's own list lacks, so that lvmm can stand where lkvm does (as
 * kvm-unit-tests' runner uses it). Each one either means what it means to
 * kvmtool or is refused with why; none is silently dropped.
 */
enum lkvm_action {
	LKVM_REFUSE,		/* "not supported by lvmm": why */
	LKVM_NO_EFFECT,		/* lvmm already behaves so: accepted, nothing to do */
	LKVM_NODEFAULTS,
	LKVM_LOGLEVEL,
	LKVM_DEBUG,
	LKVM_VIRTIO_TRANSPORT,
	LKVM_KASLR_SEED,
};

struct lkvm_option {
	const char *name;
	int has_arg;
	enum lkvm_action action;
	const char *why;	/* LKVM_REFUSE: what lvmm lacks, or what to use */
};

static const struct lkvm_option lkvm_options[] = {
	{ "nodefaults", no_argument, LKVM_NODEFAULTS, NULL },
	{ "loglevel", required_argument, LKVM_LOGLEVEL, NULL },
	{ "debug", no_argument, LKVM_DEBUG, NULL },
	{ "virtio-transport", required_argument, LKVM_VIRTIO_TRANSPORT, NULL },
	{ "kaslr-seed", required_argument, LKVM_KASLR_SEED, NULL },
	{ "disable-mte", no_argument, LKVM_NO_EFFECT, "MTE is never offered" },
	{ "no-pvtime", no_argument, LKVM_NO_EFFECT, "stolen time is never offered" },
	{ "no-dhcp", no_argument, LKVM_NO_EFFECT, "there is no rootfs mode" },
	{ "balloon", no_argument, LKVM_REFUSE, "there is no virtio-balloon" },
	{ "vnc", no_argument, LKVM_REFUSE, "there is no framebuffer" },
	{ "gtk", no_argument, LKVM_REFUSE, "there is no framebuffer" },
	{ "sdl", no_argument, LKVM_REFUSE, "there is no framebuffer" },
	{ "vsock", required_argument, LKVM_REFUSE, "there is no virtio-vsock" },
	{ "dev", required_argument, LKVM_REFUSE, "lvmm always opens /dev/kvm" },
	{ "tty", required_argument, LKVM_REFUSE, "the guest has one console, on stdin/stdout" },
	{ "sandbox", required_argument, LKVM_REFUSE, "there is no sandbox mode" },
	{ "virtio-legacy", no_argument, LKVM_REFUSE, "virtio devices are virtio 1.x (--virtio-transport pci or mmio)" },
	{ "firmware", required_argument, LKVM_REFUSE, "lvmm boots a kernel (-k), not firmware" },
	{ "flash", required_argument, LKVM_REFUSE, "there is no flash device" },
	{ "firmware-address", required_argument, LKVM_REFUSE, "lvmm boots a kernel (-k), not firmware" },
	{ "debug-single-step", no_argument, LKVM_REFUSE, "there is no guest debugging" },
	{ "debug-ioport", no_argument, LKVM_REFUSE, "there is no guest debugging" },
	{ "debug-mmio", no_argument, LKVM_REFUSE, "there is no guest debugging" },
	{ "debug-iodelay", required_argument, LKVM_REFUSE, "there is no guest debugging" },
	{ "aarch32", no_argument, LKVM_REFUSE, "guests are AArch64 only" },
	{ "pmu", no_argument, LKVM_REFUSE, "there is no guest PMU" },
	{ "vcpu-affinity", required_argument, LKVM_REFUSE, "use taskset on lvmm instead" },
	{ "sve-max-vl", required_argument, LKVM_REFUSE, "SVE is not offered to the guest" },
	{ "override-bad-firmware-cntfrq", required_argument, LKVM_REFUSE,
	  "the guest reads the host's counter frequency" },
	{ "force-pci", no_argument, LKVM_REFUSE, "there is no PCI bus" },
};

#define OPT_LKVM_FIRST 0x200	/* getopt value of lkvm_options[0] */

/* -f FILE and -F FILE are kvmtool's short --firmware and --flash. */
static const struct lkvm_option *lkvm_short(int c)
{
	for (unsigned int i = 0; i < ARRAY_SIZE(lkvm_options); i++)
		if (!strcmp(lkvm_options[i].name, c == 'f' ? "firmware" : "flash"))
			return &lkvm_options[i];
	return NULL;
}

static int parse_lkvm(struct vm_config *cfg, const struct lkvm_option *o, const char *arg,
		      FILE *err)
{
	static const char *const levels[] = { "info", "warning", "error" };
	unsigned long long seed;
	char *end;

	switch (o->action) {
	case LKVM_REFUSE:
		fprintf(err, "lvmm: kvmtool's --%s is not supported: %s\n", o->name, o->why);
		return -1;
	case LKVM_NO_EFFECT:
		return 0;
	case LKVM_NODEFAULTS:
		cfg->nodefaults = true;
		return 0;
	case LKVM_DEBUG:
		cfg->log_level = LOG_INFO;
		return 0;
	case LKVM_LOGLEVEL:
		/* lvmm has no debug messages: debug shows what info shows. */
		if (!strcmp(arg, "debug")) {
			cfg->log_level = LOG_INFO;
			return 0;
		}
		for (unsigned int i = 0; i < ARRAY_SIZE(levels); i++) {
			if (!strcmp(arg, levels[i])) {
				cfg->log_level = i;
				return 0;
			}
		}
		fprintf(err, "lvmm: unknown log level '%s' (error, warning, info or debug)\n", arg);
		return -1;
	case LKVM_VIRTIO_TRANSPORT:
		/* kvmtool's spelling; its legacy (virtio 0.9) transports are refused. */
		if (!strcmp(arg, "mmio") || !strcmp(arg, "pci")) {
			cfg->virtio_transport = *arg == 'p' ? VIRTIO_OPT_PCI : VIRTIO_OPT_MMIO;
			cfg->virtio_transport_given = true;
			return 0;
		}
		fprintf(err, "lvmm: unknown virtio transport '%s' (pci or mmio: virtio 1.x only)\n",
			arg);
		return -1;
	case LKVM_KASLR_SEED:
		errno = 0;
		seed = (*arg >= '0' && *arg <= '9') ? strtoull(arg, &end, 0) : 0;
		if (*arg < '0' || *arg > '9' || *end || errno) {
			fprintf(err, "lvmm: invalid --kaslr-seed '%s' (a 64-bit number)\n", arg);
			return -1;
		}
		cfg->kaslr_seed = seed;
		return 0;
	}
	return -1;
}

/* -m SIZE[@ADDR]: kvmtool's ADDR is where RAM starts; lvmm's is fixed. */
static int parse_mem(struct vm_config *cfg, const char *arg, FILE *err)
{
	char size_s[64];
	const char *at = strchr(arg, '@');
	uint64_t size, addr;
	int ret;

	if ((size_t)snprintf(size_s, sizeof(size_s), "%.*s",
			     (int)(at ? at - arg : (long)strlen(arg)), arg) >= sizeof(size_s))
		size_s[0] = '\0';
	ret = parse_size(size_s, SZ_1M, &size);
	if (ret || size == 0) {
		fprintf(err, "lvmm: invalid memory size '%s' (examples: 512, 512M, 2G)\n", arg);
		return -1;
	}
	if (size % SZ_1M) {
		fprintf(err, "lvmm: memory size '%s' is not a whole number of MiB\n", arg);
		return -1;
	}
	if (at) {
		char *end;

		errno = 0;
		if (!strncmp(at + 1, "0x", 2) || !strncmp(at + 1, "0X", 2)) {
			addr = strtoull(at + 1, &end, 16);
			ret = (end == at + 3 || *end || errno) ? -EINVAL : 0;
		} else {
			ret = parse_size(at + 1, SZ_1M, &addr);
		}
		if (ret) {
			fprintf(err, "lvmm: invalid memory address in '%s' (SIZE@ADDR, e.g. 256@1G)\n", arg);
			return -1;
		}
		if (addr != RAM_BASE) {
			fprintf(err, "lvmm: --mem %s: guest RAM at another address than 0x%llx is not supported\n",
				arg, (unsigned long long)RAM_BASE);
			return -1;
		}
	}
	cfg->mem_bytes = size;
	return 0;
}

/* Does the command line have parameter name (e.g. "console=") as a word? */
static const char *param_find(const char *p, const char *name)
{
	for (const char *s = p; s && (s = strstr(s, name)); s++)
		if (s == p || s[-1] == ' ')
			return s;
	return NULL;
}

char *options_kernel_cmdline(const struct vm_config *cfg)
{
	const char *p = cfg->params;
	char console[32] = "", *cmdline;

	/* kvmtool's --nodefaults: the kernel gets what the user wrote, no more. */
	if (cfg->nodefaults)
		return strdup(p ? p : "");
	/*
	 * lvmm's defaults go first, so that "-- ARGS" for init stays last:
	 * the console unless one is named, and panic=-1 unless the user set
	 * panic=, so that a guest that panics resets and the VM ends (status 3).
	 */
	if (!param_find(p, "console="))
		snprintf(console, sizeof(console), "console=%s ",
			 cfg->console == CONSOLE_VIRTIO ? "hvc0" : "ttyS0");
	if (asprintf(&cmdline, "%s%s%s%s%s", console, param_find(p, "panic=") ? "" : "panic=-1 ",
		     cfg->quick_params ? cfg->quick_params : "", cfg->quick_params ? " " : "",
		     p ? p : "") < 0)
		return NULL;
	/* No trailing blank when there were no parameters of the user's. */
	if (*cmdline && cmdline[strlen(cmdline) - 1] == ' ' && !(p && *p))
		cmdline[strlen(cmdline) - 1] = '\0';
	return cmdline;
}

bool options_console_warning(const struct vm_config *cfg, char *buf, size_t len)
{
	const char *p = cfg->params;

	if (cfg->nodefaults)
		return false;
	for (const char *s = p; (s = param_find(s, "console=")); s++) {
		const char *dev = s + 8;
		size_t n = strcspn(dev, " ,");

		/* With --console virtio the UART is there but not connected. */
		if ((n == 5 && !strncmp(dev, "ttyS0", 5) && cfg->console == CONSOLE_SERIAL) ||
		    (n == 4 && !strncmp(dev, "hvc0", 4) && cfg->console == CONSOLE_VIRTIO))
			continue;
		snprintf(buf, len, "the kernel command line names console=%.*s, which is not this VM's console: that is %s%s",
			 (int)(n < 32 ? n : 32), dev,
			 cfg->console == CONSOLE_VIRTIO ? "hvc0 (--console virtio)" : "ttyS0 (the 16550 UART)",
			 cfg->console == CONSOLE_VIRTIO ? "" : "; hvc0 comes with --console virtio");
		return true;
	}
	return false;
}

enum {
	OPT_IRQCHIP = 0x100,
	OPT_CONSOLE,
	OPT_DUMP_DTB,
	OPT_NAME,
	OPT_STATS,
	OPT_STATS_MARKER,
	OPT_RNG,
	OPT_9P,
	OPT_VFIO_PLATFORM,
	OPT_VFIO_PCI,
	OPT_RESTORE,
	OPT_INCOMING,
	OPT_CLOCK,
	OPT_COPY_MEMORY,
	OPT_SECCOMP,
	OPT_FLAT,
	OPT_HUGETLBFS,
};

static const struct option run_options[] = {
	{ "kernel", required_argument, NULL, 'k' },
	{ "initrd", required_argument, NULL, 'i' },
	{ "params", required_argument, NULL, 'p' },
	{ "mem", required_argument, NULL, 'm' },
	{ "cpus", required_argument, NULL, 'c' },
	{ "irqchip", required_argument, NULL, OPT_IRQCHIP },
	{ "console", required_argument, NULL, OPT_CONSOLE },
	{ "dump-dtb", required_argument, NULL, OPT_DUMP_DTB },
	{ "name", required_argument, NULL, OPT_NAME },
	{ "stats", no_argument, NULL, OPT_STATS },
	{ "stats-marker", required_argument, NULL, OPT_STATS_MARKER },
	{ "disk", required_argument, NULL, 'd' },
	{ "network", required_argument, NULL, 'n' },
	{ "rng", no_argument, NULL, OPT_RNG },
	{ "9p", required_argument, NULL, OPT_9P },
	{ "restore", required_argument, NULL, OPT_RESTORE },
	{ "incoming", required_argument, NULL, OPT_INCOMING },
	{ "clock", required_argument, NULL, OPT_CLOCK },
	{ "copy-memory", no_argument, NULL, OPT_COPY_MEMORY },
	{ "vfio-platform", required_argument, NULL, OPT_VFIO_PLATFORM },
	{ "vfio-pci", required_argument, NULL, OPT_VFIO_PCI },
	{ "seccomp", required_argument, NULL, OPT_SECCOMP },
	{ "flat", no_argument, NULL, OPT_FLAT },
	{ "hugetlbfs", required_argument, NULL, OPT_HUGETLBFS },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

bool vm_name_is_valid(const char *name)
{
	size_t len = strlen(name);

	if (!len || len > LVMM_NAME_MAX || name[0] == '.' || name[0] == '-')
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'))
			return false;
	}
	return true;
}

enum options_result options_parse_run(int argc, char **argv, struct vm_config *cfg,
				      FILE *out, FILE *err)
{
	bool clock_given = false;
	unsigned long num;
	int c, ret;

	memset(cfg, 0, sizeof(*cfg));
	cfg->mem_bytes = LVMM_DEFAULT_MEM_MIB * SZ_1M;
	cfg->nr_cpus = LVMM_DEFAULT_CPUS;
	/* kvmtool's default on arm64, and the faster transport with an ITS. */
	cfg->virtio_transport = VIRTIO_OPT_PCI;
	cfg->irqchip = IRQCHIP_AUTO;
	cfg->console = CONSOLE_SERIAL;

	/* lvmm's options, then kvmtool's (lkvm_options), then the end. */
	struct option all[ARRAY_SIZE(run_options) + ARRAY_SIZE(lkvm_options)];
	const unsigned int n_run = ARRAY_SIZE(run_options) - 1;

	memcpy(all, run_options, n_run * sizeof(all[0]));
	for (unsigned int i = 0; i < ARRAY_SIZE(lkvm_options); i++)
		all[n_run + i] = (struct option){ lkvm_options[i].name, lkvm_options[i].has_arg,
						  NULL, OPT_LKVM_FIRST + i };
	all[n_run + ARRAY_SIZE(lkvm_options)] = (struct option){ NULL, 0, NULL, 0 };

	optind = 0;	/* full getopt reset, so tests can parse repeatedly */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":k:i:p:m:c:d:n:f:F:h", all, NULL)) != -1) {
		if (c >= OPT_LKVM_FIRST && c < OPT_LKVM_FIRST + (int)ARRAY_SIZE(lkvm_options)) {
			if (parse_lkvm(cfg, &lkvm_options[c - OPT_LKVM_FIRST], optarg, err))
				return OPTIONS_ERROR;
			continue;
		}
		if (c == 'f' || c == 'F') {
			parse_lkvm(cfg, lkvm_short(c), optarg, err);
			return OPTIONS_ERROR;
		}
		switch (c) {
		case 'k':
			cfg->kernel = optarg;
			break;
		case 'i':
			cfg->initrd = optarg;
			break;
		case 'p':
			cfg->params = optarg;
			break;
		case 'm':
			if (parse_mem(cfg, optarg, err))
				return OPTIONS_ERROR;
			break;
		case 'c':
			ret = parse_uint(optarg, 1, LVMM_MAX_CPUS, &num);
			if (ret) {
				fprintf(err, "lvmm: invalid vCPU count '%s' (1 to %d)\n",
					optarg, LVMM_MAX_CPUS);
				return OPTIONS_ERROR;
			}
			cfg->nr_cpus = num;
			break;
		case OPT_IRQCHIP:
			if (irqchip_model_parse(optarg, &cfg->irqchip)) {
				fprintf(err, "lvmm: unknown irqchip '%s' (gicv2, gicv3, gicv3-its or auto)\n",
					optarg);
				return OPTIONS_ERROR;
			}
			break;
		case OPT_CONSOLE:
			if (!strcmp(optarg, "serial")) {
				cfg->console = CONSOLE_SERIAL;
			} else if (!strcmp(optarg, "virtio")) {
				cfg->console = CONSOLE_VIRTIO;
			} else {
				fprintf(err, "lvmm: unknown console '%s' (serial or virtio)\n", optarg);
				return OPTIONS_ERROR;
			}
			break;
		case OPT_DUMP_DTB:
			cfg->dump_dtb = optarg;
			break;
		case OPT_NAME:
			if (!vm_name_is_valid(optarg)) {
				fprintf(err, "lvmm: invalid name '%s' (1-%d characters of A-Z a-z 0-9 . _ -, not starting with . or -)\n",
					optarg, LVMM_NAME_MAX);
				return OPTIONS_ERROR;
			}
			strcpy(cfg->name, optarg);
			cfg->name_given = true;
			break;
		case OPT_STATS:
			cfg->stats = true;
			break;
		case OPT_STATS_MARKER:
			if (!*optarg) {
				fprintf(err, "lvmm: --stats-marker needs a non-empty text\n");
				return OPTIONS_ERROR;
			}
			cfg->stats_marker = optarg;
			break;
		case 'd':
			if (parse_disk(cfg, optarg, err))
				return OPTIONS_ERROR;
			break;
		case 'n':
			if (parse_net(cfg, optarg, err))
				return OPTIONS_ERROR;
			break;
		case OPT_RNG:
			cfg->rng = true;
			break;
		case OPT_9P:
			if (parse_9p(cfg, optarg, err))
				return OPTIONS_ERROR;
			break;
		case OPT_INCOMING:
			if (!*optarg) {
				fprintf(err, "lvmm: --incoming needs an address (unix:PATH or tcp:ADDR:PORT)\n");
				return OPTIONS_ERROR;
			}
			cfg->incoming = optarg;
			break;
		case OPT_RESTORE:
			if (!*optarg) {
				fprintf(err, "lvmm: --restore needs a snapshot directory\n");
				return OPTIONS_ERROR;
			}
			cfg->restore_dir = optarg;
			break;
		case OPT_CLOCK:
			if (!strcmp(optarg, "resume")) {
				cfg->clock = CLOCK_RESUME;
			} else if (!strcmp(optarg, "advance")) {
				cfg->clock = CLOCK_ADVANCE;
			} else {
				fprintf(err, "lvmm: unknown clock mode '%s' (resume or advance)\n", optarg);
				return OPTIONS_ERROR;
			}
			clock_given = true;
			break;
		case OPT_COPY_MEMORY:
			cfg->copy_memory = true;
			break;
		case OPT_VFIO_PLATFORM:
			if (parse_vfio(cfg, optarg, err))
				return OPTIONS_ERROR;
			break;
		case OPT_VFIO_PCI:
			if (parse_vfio_pci(cfg, optarg, err))
				return OPTIONS_ERROR;
			break;
		case OPT_FLAT:
			cfg->flat = true;
			break;
		case OPT_HUGETLBFS:
			if (!*optarg) {
				fprintf(err, "lvmm: --hugetlbfs needs a directory (a hugetlbfs mount)\n");
				return OPTIONS_ERROR;
			}
			cfg->hugetlbfs = optarg;
			break;
		case OPT_SECCOMP:
			if (!strcmp(optarg, "on")) {
				cfg->seccomp = SANDBOX_ON;
			} else if (!strcmp(optarg, "log")) {
				cfg->seccomp = SANDBOX_LOG;
			} else if (!strcmp(optarg, "off")) {
				cfg->seccomp = SANDBOX_OFF;
			} else {
				fprintf(err, "lvmm: unknown seccomp mode '%s' (on, log or off)\n", optarg);
				return OPTIONS_ERROR;
			}
			break;
		case 'h':
			options_usage_run(out);
			return OPTIONS_HELP;
		case ':':
			fprintf(err, "lvmm run: option '%s' needs an argument (see lvmm run --help)\n",
				argv[optind - 1]);
			return OPTIONS_ERROR;
		default:
			fprintf(err, "lvmm run: unknown option '%s' (see lvmm run --help)\n",
				argv[optind - 1]);
			return OPTIONS_ERROR;
		}
	}
	/* As with lkvm run, a word that is not an option is the kernel. */
	if (optind < argc && !cfg->kernel && !cfg->restore_dir && !cfg->incoming)
		cfg->kernel = argv[optind++];
	if (optind < argc) {
		fprintf(err, "lvmm run: unexpected argument '%s' (see lvmm run --help)\n",
			argv[optind]);
		return OPTIONS_ERROR;
	}
	if (cfg->restore_dir && cfg->incoming) {
		fprintf(err, "lvmm: --restore and --incoming each bring the VM: give one\n");
		return OPTIONS_ERROR;
	}
	if (cfg->restore_dir || cfg->incoming) {
		/* The snapshot (or the migration) brings its own configuration. */
		if (cfg->kernel || cfg->initrd || cfg->params || cfg->nr_disks || cfg->nr_nets ||
		    cfg->rng || cfg->nr_shares || cfg->dump_dtb || cfg->mem_bytes != LVMM_DEFAULT_MEM_MIB * SZ_1M ||
		    cfg->nr_cpus != LVMM_DEFAULT_CPUS || cfg->irqchip != IRQCHIP_AUTO ||
		    cfg->console != CONSOLE_SERIAL || cfg->nodefaults || cfg->kaslr_seed || cfg->flat ||
		    cfg->hugetlbfs ||
		    cfg->virtio_transport_given) {
			fprintf(err, "lvmm: a restored VM takes its kernel, memory, vCPUs, irqchip and devices from the snapshot: only --name, --clock, --copy-memory, --stats and --seccomp go with --restore or --incoming\n");
			return OPTIONS_ERROR;
		}
	} else if (clock_given || cfg->copy_memory) {
		fprintf(err, "lvmm: --clock and --copy-memory are for restoring (--restore DIR)\n");
		return OPTIONS_ERROR;
	}
	if (cfg->kernel && !*cfg->kernel) {
		fprintf(err, "lvmm: --kernel needs a file name\n");
		return OPTIONS_ERROR;
	}
	if (cfg->initrd && !*cfg->initrd) {
		fprintf(err, "lvmm: --initrd needs a file name\n");
		return OPTIONS_ERROR;
	}
	if (!cfg->name[0])
		snprintf(cfg->name, sizeof(cfg->name), "lvmm-%d", (int)getpid());
	return OPTIONS_RUN;
}
