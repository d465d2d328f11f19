// SPDX-License-Identifier: GPL-2.0
/*
 * The split virtqueue parser against a guest RAM buffer that the tests
 * write as a (sometimes hostile) driver would. Everything in the rings is
 * the guest's to choose, so the point is less the good paths than that
 * every bad index, address or chain shape comes back as -EINVAL, and that
 * no iovec ever points outside the RAM buffer.
 */
#include "test.h"
#include "../../devices/virtio/virtio.h"
#include "../../util.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

/* A fake guest physical base, far from 0 so that "below RAM" exists. */
#define RAM_GPA		0x40000000ULL
#define RAM_SIZE	SZ_1M

/* Where the rings go: room for the largest queue (256) in each. */
#define DESC_OFF	0x0000
#define AVAIL_OFF	0x1000
#define USED_OFF	0x2000
#define DATA_OFF	0x10000

#define WRAP_GPA	0xfffffffffffff000ULL

struct ring {
	struct guest_mem mem;
	struct virtq q;
	struct virtq_desc *desc;
	struct virtq_avail *avail;
	struct virtq_used *used;
	struct virtq_elem elem;
};

/*
 * RAM comes from mmap, not the stack or malloc, so that "outside RAM" is
 * not something another allocation could happen to make valid. Pages the
 * test never touches cost nothing, which lets one test map a large RAM.
 */
static bool ring_map(struct ring *r, uint64_t size)
{
	void *p;

	memset(r, 0, sizeof(*r));
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		 -1, 0);
	if (!CHECK(p != MAP_FAILED))
		return false;
	r->mem.host = p;
	r->mem.gpa = RAM_GPA;
	r->mem.size = size;
	r->desc = (void *)((char *)p + DESC_OFF);
	r->avail = (void *)((char *)p + AVAIL_OFF);
	r->used = (void *)((char *)p + USED_OFF);
	r->q.num_max = VIRTQ_MAX_SIZE;
	r->q.notify_fd = -1;
	virtq_reset(&r->q);
	r->q.desc_gpa = RAM_GPA + DESC_OFF;
	r->q.avail_gpa = RAM_GPA + AVAIL_OFF;
	r->q.used_gpa = RAM_GPA + USED_OFF;
	return true;
}

/* A ring of num entries at the usual place, enabled. */
static bool ring_setup_size(struct ring *r, uint16_t num, uint64_t size)
{
	if (!ring_map(r, size))
		return false;
	r->q.num = num;
	return CHECK_EQ_INT(virtq_enable(&r->q, &r->mem), 0);
}

static bool ring_setup(struct ring *r, uint16_t num)
{
	return ring_setup_size(r, num, RAM_SIZE);
}

static void ring_teardown(struct ring *r)
{
	if (r->mem.host)
		munmap(r->mem.host, r->mem.size);
}

static void set_desc(struct ring *r, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags,
		     uint16_t next)
{
	r->desc[i] = (struct virtq_desc){ .addr = addr, .len = len, .flags = flags, .next = next };
}

/* Offer the chain at head, as the driver does: ring entry first, then idx. */
static void offer(struct ring *r, uint16_t head)
{
	uint16_t idx = r->avail->idx;

	r->avail->ring[idx & (r->q.num - 1)] = head;
	__atomic_store_n(&r->avail->idx, (uint16_t)(idx + 1), __ATOMIC_RELEASE);
}

static uint64_t data_gpa(uint64_t off)
{
	return RAM_GPA + DATA_OFF + off;
}

static void *data_host(struct ring *r, uint64_t off)
{
	return (char *)r->mem.host + DATA_OFF + off;
}

/*
 * Whatever virtq_pop returned, the iovecs it filled in must lie inside the
 * RAM buffer: on error the element is garbage, but never a pointer to
 * somewhere else.
 */
static void check_iovs_in_ram(struct ring *r)
{
	const char *lo = r->mem.host, *hi = lo + r->mem.size;
	unsigned int n = r->elem.n_out + r->elem.n_in;

	if (!CHECK(n <= VIRTQ_MAX_SIZE))
		return;
	for (unsigned int i = 0; i < n; i++) {
		const char *b = r->elem.iov[i].iov_base;
		size_t len = r->elem.iov[i].iov_len;

		if (b < lo || b > hi || len > (size_t)(hi - b))
			FAIL("iov[%u] = %p + %zu is outside RAM [%p, %p)", i, (const void *)b, len,
			     (const void *)lo, (const void *)hi);
	}
}

static int pop(struct ring *r)
{
	int ret;

	memset(&r->elem, 0, sizeof(r->elem));
	ret = virtq_pop(&r->q, &r->mem, &r->elem);
	check_iovs_in_ram(r);
	return ret;
}

/* Enable a queue with one setting changed from a good one; the result. */
static int enable_with(uint16_t num, uint16_t num_max, uint64_t desc, uint64_t avail,
		       uint64_t used)
{
	struct ring r;
	int ret;

	if (!ring_map(&r, RAM_SIZE))
		return 1;
	r.q.num_max = num_max;
	r.q.num = num;
	r.q.desc_gpa = desc;
	r.q.avail_gpa = avail;
	r.q.used_gpa = used;
	ret = virtq_enable(&r.q, &r.mem);
	/* A refused queue must not look usable. */
	if (ret)
		CHECK(!r.q.ready);
	else
		CHECK(r.q.ready);
	ring_teardown(&r);
	return ret;
}

#define GOOD_DESC	(RAM_GPA + DESC_OFF)
#define GOOD_AVAIL	(RAM_GPA + AVAIL_OFF)
#define GOOD_USED	(RAM_GPA + USED_OFF)
#define RAM_END		(RAM_GPA + RAM_SIZE)

TEST(virtq_enable_good)
{
	CHECK_EQ_INT(enable_with(1, 256, GOOD_DESC, GOOD_AVAIL, GOOD_USED), 0);
	CHECK_EQ_INT(enable_with(16, 16, GOOD_DESC, GOOD_AVAIL, GOOD_USED), 0);
	CHECK_EQ_INT(enable_with(256, 256, GOOD_DESC, GOOD_AVAIL, GOOD_USED), 0);
	/* The spec's minimum alignments: 16, 2 and 4, nothing stricter. */
	CHECK_EQ_INT(enable_with(8, 256, GOOD_DESC + 16, GOOD_AVAIL + 2, GOOD_USED + 4), 0);
	/*
	 * Rings that start at RAM's first byte or end at its last. The used
	 * ring (70 bytes for 8) cannot end there and stay 4-aligned: 2 spare.
	 */
	CHECK_EQ_INT(enable_with(8, 256, RAM_GPA, GOOD_AVAIL, GOOD_USED), 0);
	CHECK_EQ_INT(enable_with(8, 256, RAM_END - 16 * 8, GOOD_AVAIL, GOOD_USED), 0);
	CHECK_EQ_INT(enable_with(8, 256, GOOD_DESC, RAM_END - (6 + 2 * 8), GOOD_USED), 0);
	CHECK_EQ_INT(enable_with(8, 256, GOOD_DESC, GOOD_AVAIL, RAM_END - (6 + 8 * 8) - 2), 0);
}

TEST(virtq_enable_bad_size)
{
	CHECK_EQ_INT(enable_with(0, 256, GOOD_DESC, GOOD_AVAIL, GOOD_USED), -EINVAL);
	CHECK_EQ_INT(enable_with(3, 256, GOOD_DESC, GOOD_AVAIL, GOOD_USED), -EINVAL);
	CHECK_EQ_INT(enable_with(6, 256, GOOD_DESC, GOOD_AVAIL, GOOD_USED), -EINVAL);
	CHECK_EQ_INT(enable_with(255, 256, GOOD_DESC, GOOD_AVAIL, GOOD_USED), -EINVAL);
	CHECK_EQ_INT(enable_with(0xffff, 256, GOOD_DESC, GOOD_AVAIL, GOOD_USED), -EINVAL);
	/* Powers of two, but more than the device offers. */
	CHECK_EQ_INT(enable_with(32, 16, GOOD_DESC, GOOD_AVAIL, GOOD_USED), -EINVAL);
	CHECK_EQ_INT(enable_with(512, 256, GOOD_DESC, GOOD_AVAIL, GOOD_USED), -EINVAL);
	CHECK_EQ_INT(enable_with(0x8000, 256, GOOD_DESC, GOOD_AVAIL, GOOD_USED), -EINVAL);
}

TEST(virtq_enable_misaligned)
{
	for (uint64_t a = 1; a < 16; a++)
		CHECK_EQ_INT(enable_with(8, 256, GOOD_DESC + a, GOOD_AVAIL, GOOD_USED), -EINVAL);
	CHECK_EQ_INT(enable_with(8, 256, GOOD_DESC, GOOD_AVAIL + 1, GOOD_USED), -EINVAL);
	CHECK_EQ_INT(enable_with(8, 256, GOOD_DESC, GOOD_AVAIL, GOOD_USED + 1), -EINVAL);
	CHECK_EQ_INT(enable_with(8, 256, GOOD_DESC, GOOD_AVAIL, GOOD_USED + 2), -EINVAL);
	CHECK_EQ_INT(enable_with(8, 256, GOOD_DESC, GOOD_AVAIL, GOOD_USED + 3), -EINVAL);
}

TEST(virtq_enable_outside_ram)
{
	/* Partly outside: one byte past the end, or starting below RAM. */
	CHECK_EQ_INT(enable_with(8, 256, RAM_END - 16 * 8 + 16, GOOD_AVAIL, GOOD_USED), -EINVAL);
	CHECK_EQ_INT(enable_with(8, 256, GOOD_DESC, RAM_END - (6 + 2 * 8) + 2, GOOD_USED),
		     -EINVAL);
	CHECK_EQ_INT(enable_with(8, 256, GOOD_DESC, GOOD_AVAIL, RAM_END - (6 + 8 * 8) + 2),
		     -EINVAL);
	CHECK_EQ_INT(enable_with(8, 256, RAM_GPA - 16, GOOD_AVAIL, GOOD_USED), -EINVAL);
	CHECK_EQ_INT(enable_with(8, 256, GOOD_DESC, RAM_GPA - 2, GOOD_USED), -EINVAL);
	CHECK_EQ_INT(enable_with(8, 256, GOOD_DESC, GOOD_AVAIL, RAM_GPA - 4), -EINVAL);
	/* Wholly outside: below, just above, at 0. */
	CHECK_EQ_INT(enable_with(8, 256, 0, GOOD_AVAIL, GOOD_USED), -EINVAL);
	CHECK_EQ_INT(enable_with(8, 256, RAM_GPA - 0x1000, GOOD_AVAIL, GOOD_USED), -EINVAL);
	CHECK_EQ_INT(enable_with(8, 256, RAM_END, GOOD_AVAIL, GOOD_USED), -EINVAL);
	CHECK_EQ_INT(enable_with(8, 256, GOOD_DESC, RAM_END, GOOD_USED), -EINVAL);
	CHECK_EQ_INT(enable_with(8, 256, GOOD_DESC, GOOD_AVAIL, RAM_END + 0x1000), -EINVAL);
	/* Addresses whose end wraps past 2^64 back into (or below) RAM. */
	CHECK_EQ_INT(enable_with(256, 256, WRAP_GPA, GOOD_AVAIL, GOOD_USED), -EINVAL);
	CHECK_EQ_INT(enable_with(8, 256, GOOD_DESC, 0xfffffffffffffffeULL, GOOD_USED), -EINVAL);
	CHECK_EQ_INT(enable_with(8, 256, GOOD_DESC, GOOD_AVAIL, 0xfffffffffffffffcULL), -EINVAL);
	CHECK_EQ_INT(enable_with(8, 256, GOOD_DESC, WRAP_GPA, WRAP_GPA), -EINVAL);
}

TEST(virtq_reset_keeps_fd_and_max)
{
	struct ring r;

	if (!ring_setup(&r, 8))
		return;
	r.q.notify_fd = 42;
	r.q.last_avail = 5;
	r.q.used_idx = 7;
	virtq_reset(&r.q);
	CHECK(!r.q.ready);
	CHECK_EQ_INT(r.q.notify_fd, 42);
	CHECK_EQ_U64(r.q.num_max, VIRTQ_MAX_SIZE);
	/* QueueNum reads num_max until the driver picks a size. */
	CHECK_EQ_U64(r.q.num, VIRTQ_MAX_SIZE);
	CHECK_EQ_U64(r.q.desc_gpa, 0);
	CHECK_EQ_U64(r.q.last_avail, 0);
	CHECK_EQ_U64(r.q.used_idx, 0);
	/* Not ready: nothing to pop, nothing available. */
	CHECK_EQ_INT(pop(&r), 0);
	CHECK(!virtq_has_avail(&r.q));
	ring_teardown(&r);
}

TEST(virtq_pop_single)
{
	struct ring r;

	if (!ring_setup(&r, 8))
		return;
	set_desc(&r, 2, data_gpa(0x100), 100, 0, 0);
	offer(&r, 2);
	if (CHECK_EQ_INT(pop(&r), 1)) {
		CHECK_EQ_U64(r.elem.head, 2);
		CHECK_EQ_U64(r.elem.n_out, 1);
		CHECK_EQ_U64(r.elem.n_in, 0);
		CHECK_EQ_U64(r.elem.out_len, 100);
		CHECK_EQ_U64(r.elem.in_len, 0);
		CHECK(r.elem.iov[0].iov_base == data_host(&r, 0x100));
		CHECK_EQ_U64(r.elem.iov[0].iov_len, 100);
	}
	CHECK_EQ_U64(r.q.last_avail, 1);
	/* Taken once only. */
	CHECK_EQ_INT(pop(&r), 0);
	ring_teardown(&r);
}

TEST(virtq_pop_chain)
{
	struct ring r;

	if (!ring_setup(&r, 8))
		return;
	/* Two readable then two writable, in a scattered order in the table. */
	set_desc(&r, 3, data_gpa(0x000), 16, VIRTQ_DESC_F_NEXT, 7);
	set_desc(&r, 7, data_gpa(0x800), 200, VIRTQ_DESC_F_NEXT, 1);
	set_desc(&r, 1, data_gpa(0x2000), 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 5);
	set_desc(&r, 5, data_gpa(0x1000), 1, VIRTQ_DESC_F_WRITE, 0);
	/* A second, writable-only chain behind it. */
	set_desc(&r, 0, data_gpa(0x3000), 64, VIRTQ_DESC_F_WRITE, 0);
	offer(&r, 3);
	offer(&r, 0);
	CHECK(virtq_has_avail(&r.q));
	if (CHECK_EQ_INT(pop(&r), 1)) {
		CHECK_EQ_U64(r.elem.head, 3);
		CHECK_EQ_U64(r.elem.n_out, 2);
		CHECK_EQ_U64(r.elem.n_in, 2);
		CHECK_EQ_U64(r.elem.out_len, 216);
		CHECK_EQ_U64(r.elem.in_len, 513);
		CHECK(r.elem.iov[0].iov_base == data_host(&r, 0x000));
		CHECK_EQ_U64(r.elem.iov[0].iov_len, 16);
		CHECK(r.elem.iov[1].iov_base == data_host(&r, 0x800));
		CHECK_EQ_U64(r.elem.iov[1].iov_len, 200);
		CHECK(r.elem.iov[2].iov_base == data_host(&r, 0x2000));
		CHECK_EQ_U64(r.elem.iov[2].iov_len, 512);
		CHECK(r.elem.iov[3].iov_base == data_host(&r, 0x1000));
		CHECK_EQ_U64(r.elem.iov[3].iov_len, 1);
	}
	if (CHECK_EQ_INT(pop(&r), 1)) {
		CHECK_EQ_U64(r.elem.head, 0);
		CHECK_EQ_U64(r.elem.n_out, 0);
		CHECK_EQ_U64(r.elem.n_in, 1);
		CHECK_EQ_U64(r.elem.in_len, 64);
		CHECK(r.elem.iov[0].iov_base == data_host(&r, 0x3000));
	}
	CHECK(!virtq_has_avail(&r.q));
	CHECK_EQ_INT(pop(&r), 0);
	ring_teardown(&r);
}

TEST(virtq_pop_full_length_chain)
{
	struct ring r;

	if (!ring_setup(&r, 8))
		return;
	/* Every descriptor of the table in one chain is legal: num of them. */
	for (uint16_t i = 0; i < 8; i++)
		set_desc(&r, i, data_gpa(i * 0x100), 0x100, i < 7 ? VIRTQ_DESC_F_NEXT : 0, i + 1);
	offer(&r, 0);
	if (CHECK_EQ_INT(pop(&r), 1)) {
		CHECK_EQ_U64(r.elem.n_out, 8);
		CHECK_EQ_U64(r.elem.out_len, 0x800);
	}
	ring_teardown(&r);
}

TEST(virtq_pop_empty)
{
	struct ring r;

	if (!ring_setup(&r, 8))
		return;
	CHECK(!virtq_has_avail(&r.q));
	CHECK_EQ_INT(pop(&r), 0);
	CHECK_EQ_U64(r.q.last_avail, 0);
	ring_teardown(&r);
}

/* Offer one chain from head 0 and expect it refused. */
static void expect_bad_chain(struct ring *r, const char *what)
{
	unsigned int before = test_failure_count();

	offer(r, 0);
	CHECK_EQ_INT(pop(r), -EINVAL);
	if (test_failure_count() != before)
		FAIL("... for %s", what);
}

TEST(virtq_pop_desc_outside_ram)
{
	static const struct {
		uint64_t addr;
		uint32_t len;
		const char *what;
	} cases[] = {
		{ RAM_GPA - 0x1000, 16, "below RAM" },
		{ RAM_GPA - 8, 16, "straddling the start of RAM" },
		{ 0, 1, "at 0" },
		{ RAM_END, 1, "just past RAM" },
		{ RAM_END + 0x100000, 16, "well past RAM" },
		{ WRAP_GPA, 0x2000, "wrapping past 2^64 from 0xfffffffffffff000" },
		{ 0xffffffffffffff00ULL, 0x200, "address + len wrapping" },
		{ RAM_GPA + 0x100, 0xffffffff, "len of 4 GiB" },
		{ RAM_END - 16, 17, "len pushing one byte past the end" },
		{ RAM_END - 0x1000, 0x2000, "len pushing a page past the end" },
		{ RAM_GPA, RAM_SIZE + 1, "len larger than RAM" },
	};

	for (unsigned int i = 0; i < ARRAY_SIZE(cases); i++) {
		struct ring r;

		if (!ring_setup(&r, 8))
			return;
		set_desc(&r, 0, cases[i].addr, cases[i].len, 0, 0);
		expect_bad_chain(&r, cases[i].what);
		ring_teardown(&r);

		/* The same buffer as the writable tail of a good chain. */
		if (!ring_setup(&r, 8))
			return;
		set_desc(&r, 0, data_gpa(0), 16, VIRTQ_DESC_F_NEXT, 1);
		set_desc(&r, 1, cases[i].addr, cases[i].len, VIRTQ_DESC_F_WRITE, 0);
		expect_bad_chain(&r, cases[i].what);
		ring_teardown(&r);
	}
}

TEST(virtq_pop_desc_at_ram_edges)
{
	struct ring r;

	if (!ring_setup(&r, 8))
		return;
	/* Buffers that touch the first and the last byte of RAM are fine. */
	set_desc(&r, 0, RAM_GPA + 0x8000, 16, VIRTQ_DESC_F_NEXT, 1);
	set_desc(&r, 1, RAM_END - 16, 16, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 2);
	set_desc(&r, 2, RAM_GPA + RAM_SIZE - 1, 1, VIRTQ_DESC_F_WRITE, 0);
	offer(&r, 0);
	if (CHECK_EQ_INT(pop(&r), 1)) {
		CHECK(r.elem.iov[1].iov_base == (char *)r.mem.host + RAM_SIZE - 16);
		CHECK(r.elem.iov[2].iov_base == (char *)r.mem.host + RAM_SIZE - 1);
		CHECK_EQ_U64(r.elem.in_len, 17);
	}
	ring_teardown(&r);
}

TEST(virtq_pop_loop)
{
	struct ring r;

	/* Two descriptors pointing at each other. */
	if (!ring_setup(&r, 8))
		return;
	set_desc(&r, 0, data_gpa(0), 16, VIRTQ_DESC_F_NEXT, 1);
	set_desc(&r, 1, data_gpa(16), 16, VIRTQ_DESC_F_NEXT, 0);
	expect_bad_chain(&r, "a two-descriptor loop");
	ring_teardown(&r);

	/* One pointing at itself. */
	if (!ring_setup(&r, 8))
		return;
	set_desc(&r, 0, data_gpa(0), 16, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 0);
	expect_bad_chain(&r, "a self loop");
	ring_teardown(&r);

	/* A loop that only closes at the tail, after a good prefix. */
	if (!ring_setup(&r, 256))
		return;
	for (uint16_t i = 0; i < 256; i++)
		set_desc(&r, i, data_gpa(0), 1, VIRTQ_DESC_F_NEXT, i == 255 ? 200 : i + 1);
	expect_bad_chain(&r, "a loop closing at the tail of the table");
	ring_teardown(&r);
}

TEST(virtq_pop_chain_longer_than_queue)
{
	struct ring r;

	/*
	 * The queue is 4 entries but the table the driver wrote has 8: a chain
	 * of 5 through entries 0..3 must revisit one, i.e. be refused.
	 */
	if (!ring_setup(&r, 4))
		return;
	for (uint16_t i = 0; i < 8; i++)
		set_desc(&r, i, data_gpa(i * 16), 16, VIRTQ_DESC_F_NEXT, (i + 1) % 4);
	expect_bad_chain(&r, "a chain of more than num descriptors");
	ring_teardown(&r);
}

TEST(virtq_pop_next_out_of_range)
{
	static const uint16_t nexts[] = { 8, 9, 255, 0x8000, 0xffff };

	for (unsigned int i = 0; i < ARRAY_SIZE(nexts); i++) {
		struct ring r;

		if (!ring_setup(&r, 8))
			return;
		set_desc(&r, 0, data_gpa(0), 16, VIRTQ_DESC_F_NEXT, nexts[i]);
		/* Valid-looking descriptors beyond num must not be followed either. */
		set_desc(&r, 8, data_gpa(0), 16, 0, 0);
		expect_bad_chain(&r, "next >= num");
		ring_teardown(&r);
	}
}

TEST(virtq_pop_head_out_of_range)
{
	static const uint16_t heads[] = { 8, 255, 0xffff };

	for (unsigned int i = 0; i < ARRAY_SIZE(heads); i++) {
		struct ring r;

		if (!ring_setup(&r, 8))
			return;
		set_desc(&r, 8, data_gpa(0), 16, 0, 0);
		offer(&r, heads[i]);
		CHECK_EQ_INT(pop(&r), -EINVAL);
		ring_teardown(&r);
	}
}

TEST(virtq_pop_indirect)
{
	struct ring r;
	struct virtq_desc *table;

	/* A perfectly good indirect table: still refused, it is not offered. */
	if (!ring_setup(&r, 8))
		return;
	table = data_host(&r, 0x1000);
	table[0] = (struct virtq_desc){ .addr = data_gpa(0), .len = 16 };
	set_desc(&r, 0, data_gpa(0x1000), sizeof(*table), VIRTQ_DESC_F_INDIRECT, 0);
	expect_bad_chain(&r, "an indirect descriptor at the head");
	ring_teardown(&r);

	if (!ring_setup(&r, 8))
		return;
	table = data_host(&r, 0x1000);
	table[0] = (struct virtq_desc){ .addr = data_gpa(0), .len = 16 };
	set_desc(&r, 0, data_gpa(0), 16, VIRTQ_DESC_F_NEXT, 1);
	set_desc(&r, 1, data_gpa(0x1000), sizeof(*table), VIRTQ_DESC_F_INDIRECT, 0);
	expect_bad_chain(&r, "an indirect descriptor in the chain");
	ring_teardown(&r);
}

TEST(virtq_pop_readable_after_writable)
{
	struct ring r;

	if (!ring_setup(&r, 8))
		return;
	set_desc(&r, 0, data_gpa(0), 16, VIRTQ_DESC_F_NEXT, 1);
	set_desc(&r, 1, data_gpa(16), 16, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
	set_desc(&r, 2, data_gpa(32), 16, 0, 0);
	expect_bad_chain(&r, "a readable descriptor after a writable one");
	ring_teardown(&r);
}

TEST(virtq_pop_avail_idx_too_far)
{
	static const uint16_t ahead[] = { 9, 100, 0x8000, 0xffff };
	struct ring r;

	for (unsigned int i = 0; i < ARRAY_SIZE(ahead); i++) {
		if (!ring_setup(&r, 8))
			return;
		for (uint16_t d = 0; d < 8; d++)
			set_desc(&r, d, data_gpa(d * 16), 16, 0, 0);
		r.avail->idx = ahead[i];
		CHECK_EQ_INT(pop(&r), -EINVAL);
		ring_teardown(&r);
	}

	/* Exactly a full ring is what a driver may have outstanding. */
	if (!ring_setup(&r, 8))
		return;
	for (uint16_t d = 0; d < 8; d++) {
		set_desc(&r, d, data_gpa(d * 16), 16, 0, 0);
		offer(&r, d);
	}
	for (uint16_t d = 0; d < 8; d++) {
		if (!CHECK_EQ_INT(pop(&r), 1))
			break;
		CHECK_EQ_U64(r.elem.head, d);
	}
	CHECK_EQ_INT(pop(&r), 0);
	ring_teardown(&r);
}

TEST(virtq_pop_index_wraps)
{
	struct ring r;

	/* The free-running 16-bit indices wrap; the ring slots follow idx & (num - 1). */
	if (!ring_setup(&r, 8))
		return;
	r.q.last_avail = 0xfffe;
	r.avail->idx = 0xfffe;
	set_desc(&r, 4, data_gpa(0), 16, 0, 0);
	set_desc(&r, 5, data_gpa(16), 16, 0, 0);
	offer(&r, 4);
	offer(&r, 5);
	CHECK_EQ_U64(r.avail->idx, 0);
	CHECK_EQ_U64(r.avail->ring[6], 4);
	CHECK_EQ_U64(r.avail->ring[7], 5);
	if (CHECK_EQ_INT(pop(&r), 1))
		CHECK_EQ_U64(r.elem.head, 4);
	if (CHECK_EQ_INT(pop(&r), 1))
		CHECK_EQ_U64(r.elem.head, 5);
	CHECK_EQ_U64(r.q.last_avail, 0);
	CHECK_EQ_INT(pop(&r), 0);
	ring_teardown(&r);
}

TEST(virtq_pop_total_len_over_4g)
{
	/* 48 MiB of RAM, mostly never touched; 96 descriptors of 45 MiB each. */
	const uint64_t ram = 48 * SZ_1M, len = 45 * SZ_1M;
	struct ring r;

	if (!ring_setup_size(&r, 128, ram))
		return;
	for (uint16_t i = 0; i < 96; i++)
		set_desc(&r, i, data_gpa(0), len, i < 95 ? VIRTQ_DESC_F_NEXT : 0, i + 1);
	/* 96 * 45 MiB > 4 GiB: the length would not fit used.len. */
	expect_bad_chain(&r, "a chain of more than 4 GiB");
	ring_teardown(&r);
}

/* Push an element with this head, as popped from the queue's live ring now. */
static bool push(struct ring *r, uint16_t head, uint32_t len)
{
	struct virtq_elem e = { .head = head, .gen = r->q.gen };

	return virtq_push(&r->q, &e, len);
}

TEST(virtq_push)
{
	struct ring r;

	if (!ring_setup(&r, 4))
		return;
	CHECK(push(&r, 3, 77));
	CHECK_EQ_U64(r.used->idx, 1);
	CHECK_EQ_U64(r.used->ring[0].id, 3);
	CHECK_EQ_U64(r.used->ring[0].len, 77);
	push(&r, 1, 0);
	push(&r, 0, 5);
	push(&r, 2, 6);
	CHECK_EQ_U64(r.used->idx, 4);
	CHECK_EQ_U64(r.used->ring[3].id, 2);
	CHECK_EQ_U64(r.used->ring[3].len, 6);
	/* The fifth element goes back to slot 0. */
	push(&r, 1, 0x12345678);
	CHECK_EQ_U64(r.used->idx, 5);
	CHECK_EQ_U64(r.used->ring[0].id, 1);
	CHECK_EQ_U64(r.used->ring[0].len, 0x12345678);
	CHECK_EQ_U64(r.used->ring[1].id, 1);
	/* Nothing written past the ring's 4 slots. */
	CHECK_EQ_U64(r.used->ring[4].id, 0);
	CHECK_EQ_U64(r.used->ring[4].len, 0);

	/* And the 16-bit index wraps to 0. */
	r.q.used_idx = 0xffff;
	push(&r, 2, 9);
	CHECK_EQ_U64(r.used->idx, 0);
	CHECK_EQ_U64(r.used->ring[3].id, 2);
	CHECK_EQ_U64(r.used->ring[3].len, 9);
	ring_teardown(&r);
}

/*
 * An element popped from a ring the driver has since given up (disabled,
 * reset, or disabled and enabled again with other rings) is never pushed:
 * not into the old ring, whose size QueueNum no longer says, and not into
 * the new one, where its head means nothing.
 */
TEST(virtq_push_stale_element_dropped)
{
	struct virtq_elem held;
	struct ring r;

	if (!ring_setup(&r, 4))
		return;
	for (uint16_t i = 0; i < 5; i++)
		CHECK(push(&r, i & 3, 0));
	set_desc(&r, 0, data_gpa(0), 64, VIRTQ_DESC_F_WRITE, 0);
	offer(&r, 0);
	if (!CHECK_EQ_INT(pop(&r), 1))
		goto out;
	held = r.elem;
	memset((char *)r.used + 6 + 8 * 4, 0x5a, 0x100);

	/* QueueReady 0, QueueNum 256: the push must not use either. */
	virtq_disable(&r.q);
	r.q.num = 256;
	CHECK(!virtq_elem_live(&r.q, &held));
	CHECK(!virtq_push(&r.q, &held, 60));
	CHECK_EQ_U64(r.used->idx, 5);
	for (unsigned int i = 0; i < 0x100; i++)
		if (((uint8_t *)r.used)[6 + 8 * 4 + i] != 0x5a)
			FAIL("byte %u past the used ring written", i);

	/* Enabled again with another used ring: still not that element's ring. */
	r.q.num = 4;
	r.q.used_gpa = RAM_GPA + USED_OFF + 0x800;
	if (!CHECK_EQ_INT(virtq_enable(&r.q, &r.mem), 0))
		goto out;
	CHECK(!virtq_push(&r.q, &held, 60));
	CHECK_EQ_U64(((struct virtq_used *)((char *)r.used + 0x800))->idx, 0);
	CHECK_EQ_U64(r.q.used_idx, 0);

	/* A reset gives up the ring as well. */
	set_desc(&r, 1, data_gpa(0), 64, VIRTQ_DESC_F_WRITE, 0);
	r.avail->idx = 0;
	offer(&r, 1);
	if (!CHECK_EQ_INT(pop(&r), 1))
		goto out;
	held = r.elem;
	CHECK(virtq_elem_live(&r.q, &held));
	virtq_reset(&r.q);
	CHECK(!virtq_push(&r.q, &held, 1));
out:
	ring_teardown(&r);
}

/* Only the size checked at enable indexes the rings, whatever num says now. */
TEST(virtq_push_uses_size_from_enable)
{
	struct ring r;

	if (!ring_setup(&r, 2))
		return;
	memset((char *)r.used + 6 + 8 * 2, 0x5a, 8 * 254);
	r.q.num = 0;	/* a register write that bypassed the ready check */
	for (uint16_t i = 0; i < 300; i++)
		CHECK(push(&r, i & 1, i));
	CHECK_EQ_U64(r.used->idx, 300);
	for (unsigned int i = 0; i < 8 * 254; i++)
		if (((uint8_t *)r.used)[6 + 8 * 2 + i] != 0x5a) {
			FAIL("byte %u past the 2-entry used ring written", i);
			break;
		}
	ring_teardown(&r);
}

TEST(virtq_needs_interrupt)
{
	struct ring r;

	if (!ring_setup(&r, 8))
		return;
	CHECK(virtq_needs_interrupt(&r.q));
	r.avail->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
	CHECK(!virtq_needs_interrupt(&r.q));
	/* Bits the device does not know do not suppress anything. */
	r.avail->flags = 0x8000;
	CHECK(virtq_needs_interrupt(&r.q));
	r.avail->flags = 0;
	CHECK(virtq_needs_interrupt(&r.q));
	ring_teardown(&r);
}

TEST(virtq_has_avail)
{
	struct ring r;

	if (!ring_map(&r, RAM_SIZE))
		return;
	/* Not enabled: nothing, even with the driver's idx moved. */
	r.avail->idx = 1;
	CHECK(!virtq_has_avail(&r.q));
	ring_teardown(&r);

	if (!ring_setup(&r, 8))
		return;
	CHECK(!virtq_has_avail(&r.q));
	set_desc(&r, 0, data_gpa(0), 16, 0, 0);
	offer(&r, 0);
	CHECK(virtq_has_avail(&r.q));
	CHECK_EQ_INT(pop(&r), 1);
	CHECK(!virtq_has_avail(&r.q));
	ring_teardown(&r);
}

/* Four buffers of 3, 0, 5 and 4 bytes: the seams are at 3 and 8. */
struct iov_fixture {
	uint8_t a[3], b[1], c[5], d[4];
	struct iovec iov[4];
};

static void iov_fixture_init(struct iov_fixture *f, uint8_t fill)
{
	memset(f->a, fill, sizeof(f->a));
	memset(f->b, fill, sizeof(f->b));
	memset(f->c, fill, sizeof(f->c));
	memset(f->d, fill, sizeof(f->d));
	f->iov[0] = (struct iovec){ f->a, sizeof(f->a) };
	f->iov[1] = (struct iovec){ f->b, 0 };
	f->iov[2] = (struct iovec){ f->c, sizeof(f->c) };
	f->iov[3] = (struct iovec){ f->d, sizeof(f->d) };
}

TEST(iov_to_buf)
{
	struct iov_fixture f;
	uint8_t out[16];

	iov_fixture_init(&f, 0);
	for (int i = 0; i < 3; i++)
		f.a[i] = i;
	for (int i = 0; i < 5; i++)
		f.c[i] = 3 + i;
	for (int i = 0; i < 4; i++)
		f.d[i] = 8 + i;

	memset(out, 0xee, sizeof(out));
	CHECK_EQ_U64(iov_to_buf(f.iov, 4, 0, out, sizeof(out)), 12);
	for (int i = 0; i < 12; i++)
		CHECK_EQ_U64(out[i], i);
	CHECK_EQ_U64(out[12], 0xee);

	/* From inside the first buffer across both seams. */
	memset(out, 0xee, sizeof(out));
	CHECK_EQ_U64(iov_to_buf(f.iov, 4, 2, out, 8), 8);
	for (int i = 0; i < 8; i++)
		CHECK_EQ_U64(out[i], 2 + i);
	CHECK_EQ_U64(out[8], 0xee);

	/* Starting exactly on a seam, and in the last buffer. */
	CHECK_EQ_U64(iov_to_buf(f.iov, 4, 3, out, 2), 2);
	CHECK_EQ_U64(out[0], 3);
	CHECK_EQ_U64(out[1], 4);
	CHECK_EQ_U64(iov_to_buf(f.iov, 4, 10, out, 16), 2);
	CHECK_EQ_U64(out[0], 10);
	CHECK_EQ_U64(out[1], 11);
	/* At or past the end: nothing. */
	CHECK_EQ_U64(iov_to_buf(f.iov, 4, 12, out, 16), 0);
	CHECK_EQ_U64(iov_to_buf(f.iov, 4, 1000, out, 16), 0);
	CHECK_EQ_U64(iov_to_buf(f.iov, 4, 0, out, 0), 0);
	CHECK_EQ_U64(iov_to_buf(f.iov, 0, 0, out, 16), 0);
	/* Only n iovecs count. */
	CHECK_EQ_U64(iov_to_buf(f.iov, 2, 0, out, 16), 3);
}

TEST(iov_from_buf)
{
	uint8_t in[12];
	struct iov_fixture f;

	for (int i = 0; i < 12; i++)
		in[i] = 0x10 + i;

	iov_fixture_init(&f, 0xee);
	CHECK_EQ_U64(iov_from_buf(f.iov, 4, 0, in, sizeof(in)), 12);
	CHECK_EQ_U64(f.a[2], 0x12);
	CHECK_EQ_U64(f.b[0], 0xee);	/* the empty buffer is left alone */
	CHECK_EQ_U64(f.c[0], 0x13);
	CHECK_EQ_U64(f.d[3], 0x1b);

	/* Offset 2, 7 bytes: a[2], c[0..4], d[0]. */
	iov_fixture_init(&f, 0xee);
	CHECK_EQ_U64(iov_from_buf(f.iov, 4, 2, in, 7), 7);
	CHECK_EQ_U64(f.a[1], 0xee);
	CHECK_EQ_U64(f.a[2], 0x10);
	for (int i = 0; i < 5; i++)
		CHECK_EQ_U64(f.c[i], 0x11 + i);
	CHECK_EQ_U64(f.d[0], 0x16);
	CHECK_EQ_U64(f.d[1], 0xee);

	/* More than fits after the offset: stops at the end. */
	iov_fixture_init(&f, 0xee);
	CHECK_EQ_U64(iov_from_buf(f.iov, 4, 9, in, sizeof(in)), 3);
	CHECK_EQ_U64(f.c[4], 0xee);
	CHECK_EQ_U64(f.d[0], 0xee);
	CHECK_EQ_U64(f.d[1], 0x10);
	CHECK_EQ_U64(f.d[3], 0x12);
	CHECK_EQ_U64(iov_from_buf(f.iov, 4, 12, in, sizeof(in)), 0);
	CHECK_EQ_U64(iov_from_buf(f.iov, 4, ~(size_t)0, in, sizeof(in)), 0);
}

/*
 * With dirty tracking on (a migration), a push marks what lvmm wrote: the
 * element's device-writable buffers and the used ring, and nothing else;
 * with it off, nothing is marked.
 */
TEST(virtq_push_marks_dirty_pages)
{
	unsigned long bits[RAM_SIZE / 4096 / (8 * sizeof(long)) + 1] = { 0 };
	struct guest_dirty dirty = { .bits = bits, .page_shift = 12 };
	struct ring r;
	struct virtq_elem e;
	uint64_t used_page, in_page, out_page;

	if (!ring_setup(&r, 4))
		return;
	r.mem.dirty = &dirty;
	used_page = ((char *)r.used - (char *)r.mem.host) >> 12;
	out_page = 12;
	in_page = 14;
	e = (struct virtq_elem){ .head = 0, .gen = r.q.gen, .n_out = 1, .n_in = 1 };
	e.iov[0] = (struct iovec){ (char *)r.mem.host + out_page * 4096, 100 };
	/* An in-buffer across a page boundary: both pages. */
	e.iov[1] = (struct iovec){ (char *)r.mem.host + in_page * 4096 + 4000, 200 };

	CHECK(virtq_push(&r.q, &e, 200));
	for (unsigned int i = 0; i < sizeof(bits) / sizeof(bits[0]); i++)
		CHECK_EQ_U64(bits[i], 0);	/* tracking off: nothing */

	__atomic_store_n(&dirty.on, true, __ATOMIC_RELEASE);
	CHECK(virtq_push(&r.q, &e, 200));
#define BIT(pg) ((bits[(pg) / (8 * sizeof(long))] >> ((pg) % (8 * sizeof(long)))) & 1)
	CHECK(BIT(in_page) && BIT(in_page + 1));
	CHECK(BIT(used_page));
	CHECK(!BIT(out_page));		/* the device only read it */
	CHECK(!BIT(in_page + 2) && !BIT(in_page - 1));
#undef BIT
	ring_teardown(&r);
}
