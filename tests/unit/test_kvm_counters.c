// SPDX-License-Identifier: GPL-2.0
/*
 * Reading KVM's binary statistics (kvm/counters.c) from files laid out as
 * KVM_GET_STATS_FD's: well formed, with histograms and names KVM may add,
 * and malformed. The real file is read on real KVM by tests/e2e (--stats).
 */
#include "test.h"
#include "../../kvm/counters.h"

#include <errno.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define NAME_SIZE 48
#define DESC_LEN (sizeof(struct kvm_stats_desc) + NAME_SIZE)

/* Laid out by hand: a kvm_stats_desc (a flexible array) nests in nothing. */
struct stats_file {
	struct kvm_stats_header h;
	unsigned char desc[4][DESC_LEN];
	uint64_t data[8];
};

static void set_name(struct stats_file *f, int i, const char *name, size_t len)
{
	memcpy(f->desc[i] + sizeof(struct kvm_stats_desc), name, len);
}

/* exits (7), a 4-bucket histogram, mmio_exit_user (3), halt_wait_ns (9). */
static void build(struct stats_file *f)
{
	static const struct { const char *name; uint16_t size; uint32_t offset; } descs[] = {
		{ "exits", 1, 0 }, { "halt_wait_hist", 4, 8 },
		{ "mmio_exit_user", 1, 40 }, { "halt_wait_ns", 1, 48 },
	};

	memset(f, 0, sizeof(*f));
	f->h.name_size = NAME_SIZE;
	f->h.num_desc = 4;
	f->h.id_offset = 0;
	f->h.desc_offset = offsetof(struct stats_file, desc);
	f->h.data_offset = offsetof(struct stats_file, data);
	for (int i = 0; i < 4; i++) {
		struct kvm_stats_desc d = { .size = descs[i].size, .offset = descs[i].offset };

		memcpy(f->desc[i], &d, sizeof(d));
		set_name(f, i, descs[i].name, strlen(descs[i].name) + 1);
	}
	f->data[0] = 7;
	for (int i = 1; i < 5; i++)
		f->data[i] = 1000 + i;
	f->data[5] = 3;
	f->data[6] = 9;
}

static int add(const struct stats_file *f, size_t len, uint64_t sum[4])
{
	static const char *const names[] = { "exits", "mmio_exit_user", "halt_wait_hist", "wfi_exit_stat" };
	int fd = memfd_create("stats", 0), ret;

	if (fd < 0 || write(fd, f, len) != (ssize_t)len)
		return -EIO;
	ret = kvm_counters_add(fd, names, sum, 4);
	close(fd);
	return ret;
}

TEST(kvm_counters_sums_named_values)
{
	struct stats_file f;
	uint64_t sum[4] = { 0 };

	build(&f);
	CHECK_EQ_INT(add(&f, sizeof(f), sum), 0);
	CHECK_EQ_INT(add(&f, sizeof(f), sum), 0);	/* a second vCPU adds to it */
	CHECK_EQ_U64(sum[0], 14);
	CHECK_EQ_U64(sum[1], 6);
	CHECK_EQ_U64(sum[2], 0);	/* a histogram is not a count */
	CHECK_EQ_U64(sum[3], 0);	/* a counter this kernel lacks */
}

TEST(kvm_counters_refuses_malformed_files)
{
	struct stats_file f;
	uint64_t sum[4] = { 0 };

	build(&f);
	/* Cut in the descriptors, and in the data. */
	CHECK_EQ_INT(add(&f, offsetof(struct stats_file, desc[2]), sum), -EINVAL);
	CHECK_EQ_INT(add(&f, offsetof(struct stats_file, data[1]), sum), -EINVAL);
	CHECK_EQ_INT(add(&f, sizeof(f.h) - 1, sum), -EINVAL);
	f.h.name_size = 0;
	CHECK_EQ_INT(add(&f, sizeof(f), sum), -EINVAL);
	build(&f);
	f.h.num_desc = 100000;
	CHECK_EQ_INT(add(&f, sizeof(f), sum), -EINVAL);
	/* A name without its terminating NUL is skipped, not read past. */
	build(&f);
	set_name(&f, 0, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", NAME_SIZE);
	CHECK_EQ_INT(add(&f, sizeof(f), sum), 0);
	CHECK_EQ_U64(sum[0], 0);
	CHECK_EQ_U64(sum[1], 3);
}
