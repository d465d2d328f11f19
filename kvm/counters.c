// SPDX-License-Identifier: GPL-2.0
/*
 * KVM_GET_STATS_FD's file: a header, then num_desc descriptors (each a
 * struct kvm_stats_desc followed by a name of name_size bytes), then the
 * data block, where a descriptor's value sits at data_offset + offset.
 * Documentation/virt/kvm/api.rst, "KVM_GET_STATS_FD".
 */
#include "counters.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* Far above what 6.12 has (about 30 per vCPU, names of 48 bytes). */
#define MAX_DESCS 4096
#define MAX_NAME 1024

int kvm_counters_open(int vcpu_fd)
{
	int fd = ioctl(vcpu_fd, KVM_GET_STATS_FD, NULL);

	return fd < 0 ? -1 : fd;
}

static int read_at(int fd, void *buf, size_t len, uint64_t off)
{
	ssize_t got = pread(fd, buf, len, (off_t)off);

	if (got < 0)
		return -errno;
	return (size_t)got == len ? 0 : -EINVAL;
}

int kvm_counters_add(int stats_fd, const char *const names[], uint64_t sum[], size_t n)
{
	struct kvm_stats_header h;
	uint64_t *vals;	/* added to sum[] only once the whole file read well */
	size_t desc_len;
	char *descs;
	int ret;

	ret = read_at(stats_fd, &h, sizeof(h), 0);
	if (ret)
		return ret;
	if (!h.name_size || h.name_size > MAX_NAME || h.num_desc > MAX_DESCS)
		return -EINVAL;
	desc_len = sizeof(struct kvm_stats_desc) + h.name_size;
	descs = malloc(desc_len * h.num_desc + 1);
	vals = calloc(n ? n : 1, sizeof(*vals));
	if (!descs || !vals) {
		free(descs);
		free(vals);
		return -ENOMEM;
	}
	ret = read_at(stats_fd, descs, desc_len * h.num_desc, h.desc_offset);
	for (uint32_t d = 0; !ret && d < h.num_desc; d++) {
		const char *entry = descs + d * desc_len, *name = entry + sizeof(struct kvm_stats_desc);
		struct kvm_stats_desc desc;	/* copied out: a name size may misalign the next */
		uint64_t val;

		memcpy(&desc, entry, sizeof(desc));
		if (!memchr(name, '\0', h.name_size))
			continue;	/* a name without its end */
		for (size_t i = 0; i < n; i++) {
			if (strcmp(name, names[i]))
				continue;
			/* A histogram's first bucket is not a count: single values only. */
			if (desc.size != 1)
				break;
			ret = read_at(stats_fd, &val, sizeof(val), (uint64_t)h.data_offset + desc.offset);
			if (!ret)
				vals[i] = val;
			break;
		}
	}
	for (size_t i = 0; !ret && i < n; i++)
		sum[i] += vals[i];
	free(descs);
	free(vals);
	return ret;
}
