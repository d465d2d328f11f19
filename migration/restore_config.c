// SPDX-License-Identifier: GPL-2.0
/*
 * The "vm" section of a snapshot's state file made into the VM's
 * configuration. No KVM here: unit-tested and fuzzed on the build machine.
 */
#include "snapshot.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

int snapshot_parse_config(struct snapshot_image *img, char *err, size_t errlen)
{
	const struct state_section *s = sr_section(&img->reader, "vm");
	struct vm_config *cfg = &img->cfg;
	uint64_t v[VM_KEY_RNG + 1];
	unsigned int nstr = 0;

	if (!s) {
		snprintf(err, errlen, "snapshot lacks its vm section");
		return -EINVAL;
	}
	for (unsigned int k = VM_KEY_MEM; k <= VM_KEY_RNG; k++) {
		if (k == VM_KEY_NAME)
			continue;
		if (!ss_get_u64(s, k, &v[k])) {
			snprintf(err, errlen, "snapshot's vm section lacks field %u", k);
			return -EINVAL;
		}
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
	img->cntfrq = v[VM_KEY_CNTFRQ];
	img->guest_counter = v[VM_KEY_GUEST_COUNTER];
	img->realtime_ns = v[VM_KEY_REALTIME_NS];
	/* Validate every number before anything is sized by it. */
	if (!cfg->mem_bytes || cfg->mem_bytes % (1 << 20) || cfg->mem_bytes > (1ULL << 40) ||
	    !cfg->nr_cpus || cfg->nr_cpus > LVMM_MAX_CPUS || cfg->irqchip < IRQCHIP_GICV2 ||
	    cfg->irqchip > IRQCHIP_GICV3_ITS || cfg->console > CONSOLE_VIRTIO ||
	    cfg->nr_disks > LVMM_MAX_DISKS || cfg->nr_nets > LVMM_MAX_NETS || !img->cntfrq) {
		snprintf(err, errlen, "snapshot's vm section has values out of range");
		return -EINVAL;
	}
	if (!ss_get_str(s, VM_KEY_NAME, cfg->name, sizeof(cfg->name)))
		cfg->name[0] = '\0';
	for (unsigned int i = 0; i < cfg->nr_disks; i++) {
		char *path = img->strings[nstr++];
		uint64_t ro = 0, size = 0;
		struct stat st;

		if (!ss_get_str(s, VM_KEY_DISK(i, 0), path, sizeof(img->strings[0])) ||
		    !ss_get_u64(s, VM_KEY_DISK(i, 1), &ro) || !ss_get_u64(s, VM_KEY_DISK(i, 3), &size)) {
			snprintf(err, errlen, "snapshot's disk %u is incomplete", i);
			return -EINVAL;
		}
		cfg->disks[i].path = path;
		cfg->disks[i].readonly = ro;
		if (ss_get_str(s, VM_KEY_DISK(i, 2), img->strings[nstr], 21))
			cfg->disks[i].serial = img->strings[nstr++];
		if (stat(path, &st) < 0) {
			snprintf(err, errlen, "disk '%s' of the snapshot: %s", path, strerror(errno));
			return -ENOENT;
		}
		if ((uint64_t)st.st_size != size) {
			snprintf(err, errlen, "disk '%s' changed size since the snapshot (%llu bytes then, %llu now)",
				 path, (unsigned long long)size, (unsigned long long)st.st_size);
			return -EINVAL;
		}
	}
	for (unsigned int i = 0; i < cfg->nr_nets; i++) {
		uint32_t len;
		const void *mac = ss_get(s, VM_KEY_NET(i, 1), &len);

		if (!ss_get_str(s, VM_KEY_NET(i, 0), cfg->nets[i].tapif, sizeof(cfg->nets[i].tapif)) ||
		    !mac || len != 6) {
			snprintf(err, errlen, "snapshot's network %u is incomplete", i);
			return -EINVAL;
		}
		memcpy(cfg->nets[i].mac, mac, 6);
	}
	return 0;
}
