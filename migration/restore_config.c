// SPDX-License-Identifier: GPL-2.0
/*
 * The "vm" section of a snapshot's state file made into the VM's
 * configuration. No KVM and no files here: unit-tested and fuzzed on the
 * build machine. The snapshot directory is untrusted input, so every
 * number is range-checked as a u64 before it is narrowed or used, every
 * string is checked for length and embedded NULs, and each string has its
 * own slot in the image (indexed by the already-checked disk number).
 */
#include "snapshot.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A string entry of 1 to size - 1 bytes without NULs: 0, -ENOENT or -EINVAL. */
static int get_string(const struct state_section *s, uint64_t key, char *buf, size_t size)
{
	uint32_t len;
	const char *p = ss_get(s, key, &len);

	if (!p)
		return -ENOENT;
	if (!len || len >= size || memchr(p, '\0', len))
		return -EINVAL;
	memcpy(buf, p, len);
	buf[len] = '\0';
	return 0;
}

/* An entry's bytes for a message: printable ASCII, the rest as '?', cut short. */
static void printable(const struct state_section *s, uint64_t key, char *out, size_t size)
{
	uint32_t len = 0, k;
	const char *p = ss_get(s, key, &len);

	for (k = 0; p && k < len && k + 4 < size; k++)
		out[k] = p[k] >= 0x20 && p[k] < 0x7f ? p[k] : '?';
	if (p && k < len && k >= 3)
		memcpy(out + k - 3, "...", 3);
	out[k] = '\0';
}

/* A name the kernel takes for a network interface (dev_valid_name). */
static bool ifname_is_valid(const char *name)
{
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	for (const char *c = name; *c; c++)
		if (*c == '/' || *c == ':' || *c <= ' ' || *c == 0x7f)
			return false;
	return true;
}

static int parse_disk(struct snapshot_image *img, const struct state_section *s, unsigned int i,
		      char *err, size_t errlen)
{
	struct disk_config *d = &img->cfg.disks[i];
	uint64_t ro, size, queues;
	int ret;

	if (get_string(s, VM_KEY_DISK(i, 0), img->disk_path[i], sizeof(img->disk_path[i])) ||
	    !ss_get_u64(s, VM_KEY_DISK(i, 1), &ro) || ro > 1 ||
	    !ss_get_u64(s, VM_KEY_DISK(i, 3), &size)) {
		snprintf(err, errlen, "snapshot's disk %u is incomplete or malformed (path, ro, size)", i);
		return -EINVAL;
	}
	d->path = img->disk_path[i];
	d->readonly = ro;
	img->disk_size[i] = size;
	ret = get_string(s, VM_KEY_DISK(i, 2), img->disk_serial[i], sizeof(img->disk_serial[i]));
	if (ret == -EINVAL) {
		snprintf(err, errlen, "snapshot's disk %u has a bad serial (1-%d bytes)", i,
			 SNAPSHOT_SERIAL_MAX);
		return ret;
	}
	if (!ret)
		d->serial = img->disk_serial[i];
	/* Snapshots from before multiqueue have no count: their disks had one queue. */
	if (!ss_get_u64(s, VM_KEY_DISK(i, 4), &queues))
		queues = 1;
	if (queues < 1 || queues > LVMM_MAX_DISK_QUEUES) {
		snprintf(err, errlen, "snapshot's disk %u has %llu queues (1 to %d)", i,
			 (unsigned long long)queues, LVMM_MAX_DISK_QUEUES);
		return -EINVAL;
	}
	d->queues = queues;
	return 0;
}

static int parse_net(struct snapshot_image *img, const struct state_section *s, unsigned int i,
		     char *err, size_t errlen)
{
	struct net_config *n = &img->cfg.nets[i];
	const uint8_t *mac;
	uint64_t vhost = 0;
	uint32_t len;

	mac = ss_get(s, VM_KEY_NET(i, 1), &len);
	if (get_string(s, VM_KEY_NET(i, 0), n->tapif, sizeof(n->tapif)) ||
	    !ifname_is_valid(n->tapif) || !mac || len != 6 || (mac[0] & 1)) {
		snprintf(err, errlen, "snapshot's network %u is incomplete or malformed (tap interface name of 1-%zu characters, unicast MAC)",
			 i, sizeof(n->tapif) - 1);
		return -EINVAL;
	}
	memcpy(n->mac, mac, 6);
	/* Absent (snapshots from before vhost=1): lvmm serves the rings. */
	if (ss_get_u64(s, VM_KEY_NET(i, 2), &vhost) && vhost > 1) {
		snprintf(err, errlen, "snapshot's network %u has a bad vhost flag (%llu)", i,
			 (unsigned long long)vhost);
		return -EINVAL;
	}
	n->vhost = vhost;
	return 0;
}

/* "vcpu.N" for N < nr_cpus each, and for no N beyond. */
static int check_vcpu_sections(const struct state_reader *r, unsigned int nr_cpus, char *err,
			       size_t errlen)
{
	char name[STATE_NAME_LEN + 1];

	for (unsigned int i = 0; i < nr_cpus; i++) {
		snprintf(name, sizeof(name), "vcpu.%u", i);
		if (!sr_section(r, name)) {
			snprintf(err, errlen, "the snapshot has no state for vCPU %u of its %u", i,
				 nr_cpus);
			return -EINVAL;
		}
	}
	for (unsigned int k = 0; k < r->nr_sections; k++) {
		const char *n = r->sections[k].name;
		char *end;
		unsigned long i;

		if (strncmp(n, "vcpu.", 5) || n[5] < '0' || n[5] > '9')
			continue;
		i = strtoul(n + 5, &end, 10);
		if (*end == '\0' && i >= nr_cpus) {
			snprintf(err, errlen, "the snapshot has state for vCPU %s but says it has %u vCPUs",
				 n + 5, nr_cpus);
			return -EINVAL;
		}
	}
	return 0;
}

int snapshot_parse_config(struct snapshot_image *img, char *err, size_t errlen)
{
	/* The numbers of the section, with the range each must be in. */
	static const struct {
		unsigned int key;
		const char *what;
		uint64_t min, max;
	} fields[] = {
		{ VM_KEY_MEM, "memory size", 1ULL << 20, 1ULL << 40 },
		{ VM_KEY_CPUS, "vCPU count", 1, LVMM_MAX_CPUS },
		{ VM_KEY_IRQCHIP, "irqchip model", IRQCHIP_GICV2, IRQCHIP_GICV3_ITS },
		{ VM_KEY_CONSOLE, "console kind", CONSOLE_SERIAL, CONSOLE_VIRTIO },
		{ VM_KEY_NR_IRQS, "interrupt count", 32, 1020 },
		{ VM_KEY_CNTFRQ, "counter frequency", 1, UINT64_MAX },
		{ VM_KEY_GUEST_COUNTER, "guest counter", 0, UINT64_MAX },
		{ VM_KEY_REALTIME_NS, "save time", 0, UINT64_MAX },
		{ VM_KEY_NR_DISKS, "disk count", 0, UINT64_MAX },
		{ VM_KEY_NR_NETS, "network device count", 0, UINT64_MAX },
		{ VM_KEY_RNG, "rng flag", 0, 1 },
	};
	const struct state_section *s = sr_section(&img->reader, "vm");
	struct vm_config *cfg = &img->cfg;
	uint64_t v[VM_KEY_RNG + 1] = { 0 };
	int ret;

	if (!s) {
		snprintf(err, errlen, "snapshot lacks its vm section");
		return -EINVAL;
	}
	for (unsigned int i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		unsigned int k = fields[i].key;

		if (!ss_get_u64(s, k, &v[k])) {
			snprintf(err, errlen, "snapshot's vm section lacks field %u (%s)", k,
				 fields[i].what);
			return -EINVAL;
		}
		if (v[k] < fields[i].min || v[k] > fields[i].max) {
			snprintf(err, errlen, "the snapshot's %s %llu is out of range (%llu to %llu)",
				 fields[i].what, (unsigned long long)v[k],
				 (unsigned long long)fields[i].min, (unsigned long long)fields[i].max);
			return -EINVAL;
		}
	}
	if (v[VM_KEY_MEM] % (1 << 20)) {
		snprintf(err, errlen, "the snapshot's memory size %llu is out of range (not whole MiB)",
			 (unsigned long long)v[VM_KEY_MEM]);
		return -EINVAL;
	}
	if (v[VM_KEY_NR_DISKS] > LVMM_MAX_DISKS) {
		snprintf(err, errlen, "the snapshot has %llu disks, this lvmm supports at most %d",
			 (unsigned long long)v[VM_KEY_NR_DISKS], LVMM_MAX_DISKS);
		return -EINVAL;
	}
	if (v[VM_KEY_NR_NETS] > LVMM_MAX_NETS) {
		snprintf(err, errlen, "the snapshot has %llu network devices, this lvmm supports at most %d",
			 (unsigned long long)v[VM_KEY_NR_NETS], LVMM_MAX_NETS);
		return -EINVAL;
	}
	memset(cfg, 0, sizeof(*cfg));
	cfg->mem_bytes = v[VM_KEY_MEM];
	cfg->nr_cpus = v[VM_KEY_CPUS];
	cfg->irqchip = v[VM_KEY_IRQCHIP];
	cfg->console = v[VM_KEY_CONSOLE];
	cfg->nr_disks = v[VM_KEY_NR_DISKS];
	cfg->nr_nets = v[VM_KEY_NR_NETS];
	cfg->rng = v[VM_KEY_RNG];
	img->nr_irqs = v[VM_KEY_NR_IRQS];
	if (ss_get_u64(s, VM_KEY_VIRTIO_TRANSPORT, &v[0])) {
		if (v[0] > 1) {
			snprintf(err, errlen, "the snapshot's virtio transport %llu is out of range (0 to 1)",
				 (unsigned long long)v[0]);
			return -EINVAL;
		}
		cfg->virtio_transport = v[0] ? VIRTIO_OPT_PCI : VIRTIO_OPT_MMIO;
	}
	img->cntfrq = v[VM_KEY_CNTFRQ];
	img->guest_counter = v[VM_KEY_GUEST_COUNTER];
	img->realtime_ns = v[VM_KEY_REALTIME_NS];

	/*
	 * The name names the control socket in the runtime directory: the
	 * same rule as --name, or "../x" would put it elsewhere. No name: the
	 * caller's default.
	 */
	ret = get_string(s, VM_KEY_NAME, cfg->name, sizeof(cfg->name));
	if (ret == -EINVAL || (!ret && !vm_name_is_valid(cfg->name))) {
		char shown[LVMM_NAME_MAX + 8];

		printable(s, VM_KEY_NAME, shown, sizeof(shown));
		snprintf(err, errlen, "the snapshot's VM name '%s' is invalid (1-%d characters of A-Z a-z 0-9 . _ -, not starting with . or -)",
			 shown, LVMM_NAME_MAX);
		cfg->name[0] = '\0';
		return -EINVAL;
	}
	if (ret)
		cfg->name[0] = '\0';

	for (unsigned int i = 0; i < cfg->nr_disks; i++) {
		ret = parse_disk(img, s, i, err, errlen);
		if (ret)
			return ret;
	}
	for (unsigned int i = 0; i < cfg->nr_nets; i++) {
		ret = parse_net(img, s, i, err, errlen);
		if (ret)
			return ret;
	}
	return check_vcpu_sections(&img->reader, cfg->nr_cpus, err, errlen);
}
