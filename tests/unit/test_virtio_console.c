// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-console's output with stdout a pipe nobody reads, through the
 * registers and rings as a guest driver sees them and the real worker and
 * writer threads (no KVM: notify ioeventfds and the irqfd are just
 * recorded, as in test_virtio_blk.c).
 */
#include "test.h"
#include "../../devices/virtio/virtio.h"
#include "../../state/state.h"
#include "../../util.h"

#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define REG_DRIVER_FEATURES	0x020
#define REG_DRIVER_FEATURES_SEL	0x024
#define REG_QUEUE_SEL		0x030
#define REG_QUEUE_NUM		0x038
#define REG_QUEUE_READY		0x044
#define REG_STATUS		0x070
#define REG_QUEUE_DESC_LOW	0x080
#define REG_QUEUE_DRIVER_LOW	0x090
#define REG_QUEUE_DEVICE_LOW	0x0a0

#define STATUS_LIVE	(VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | \
			 VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK)

#define RAM_GPA		0x40000000ULL
#define RAM_SIZE	(4 * SZ_1M)
#define QNUM		16
/* Queue q's rings at q * 0x4000: desc, avail (+0x1000), used (+0x2000). */
#define RING_OFF(q)	((q) * 0x4000)
#define DATA_OFF	0x100000
#define CHAIN_LEN	8192

struct vcon {
	struct device_env env;
	struct device *dev;
	uint8_t *ram;
	int notify_fd[VIRTIO_MAX_QUEUES];
	int pipe[2];		/* [0]: stdout's reader, who does not read */
};

static int rec_ioeventfd(void *ctx, uint64_t gpa, unsigned int len, uint64_t datamatch, int fd,
			 bool assign)
{
	struct vcon *c = ctx;

	if (assign && datamatch < VIRTIO_MAX_QUEUES)
		c->notify_fd[datamatch] = fd;
	return 0;
}

static int rec_irqfd(void *ctx, unsigned int intid, int fd, int resample_fd, bool assign)
{
	return 0;
}

static uint32_t rd32(struct vcon *c, uint64_t off)
{
	uint32_t v = 0;

	c->dev->ops->mmio_read(c->dev, off, &v, 4);
	return v;
}

static void wr32(struct vcon *c, uint64_t off, uint32_t v)
{
	c->dev->ops->mmio_write(c->dev, off, &v, 4);
}

static struct virtq_desc *desc(struct vcon *c, unsigned int q)
{
	return (void *)(c->ram + RING_OFF(q));
}

static struct virtq_avail *avail(struct vcon *c, unsigned int q)
{
	return (void *)(c->ram + RING_OFF(q) + 0x1000);
}

static volatile struct virtq_used *used(struct vcon *c, unsigned int q)
{
	return (void *)(c->ram + RING_OFF(q) + 0x2000);
}

static uint8_t pattern(size_t i)
{
	return (uint8_t)(i * 13 + i / 509);
}

/* Device, driver bring-up with both queues, worker started. */
static bool vcon_setup(struct vcon *c)
{
	struct virtio_console_opts opts = { .in_fd = -1 };
	char msg[256];
	int err = 0;

	memset(c, 0, sizeof(*c));
	c->ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!CHECK(c->ram != MAP_FAILED) || !CHECK_EQ_INT(pipe2(c->pipe, O_CLOEXEC), 0))
		return false;
	c->env = (struct device_env){
		.mem = { .host = c->ram, .gpa = RAM_GPA, .size = RAM_SIZE },
		.ioeventfd = rec_ioeventfd, .irqfd = rec_irqfd, .ctx = c,
	};
	opts.out_fd = c->pipe[1];
	err = virtio_console_create("virtio-console0", &(struct virtio_transport){ .base = 0x0a000000, .intid = 48 }, &opts,
				    &c->env, &c->dev, msg, sizeof(msg));
	if (!CHECK_EQ_INT(err, 0))
		return false;
	wr32(c, REG_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr32(c, REG_DRIVER_FEATURES_SEL, 1);
	wr32(c, REG_DRIVER_FEATURES, 1);	/* VERSION_1 */
	wr32(c, REG_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
	     VIRTIO_STATUS_FEATURES_OK);
	for (unsigned int q = 0; q < 2; q++) {
		wr32(c, REG_QUEUE_SEL, q);
		wr32(c, REG_QUEUE_NUM, QNUM);
		wr32(c, REG_QUEUE_DESC_LOW, RAM_GPA + RING_OFF(q));
		wr32(c, REG_QUEUE_DRIVER_LOW, RAM_GPA + RING_OFF(q) + 0x1000);
		wr32(c, REG_QUEUE_DEVICE_LOW, RAM_GPA + RING_OFF(q) + 0x2000);
		wr32(c, REG_QUEUE_READY, 1);
	}
	wr32(c, REG_STATUS, STATUS_LIVE);
	return CHECK_EQ_U64(rd32(c, REG_STATUS), STATUS_LIVE) &&
	       CHECK_EQ_INT(c->dev->ops->start(c->dev), 0);
}

/* Offer n one-buffer output chains of CHAIN_LEN bytes, the pattern's next. */
static void offer_tx(struct vcon *c, unsigned int n)
{
	struct virtq_avail *a = avail(c, 1);
	uint64_t one = 1;

	for (unsigned int i = 0; i < n; i++) {
		uint16_t idx = a->idx, d = idx % QNUM;
		uint8_t *buf = c->ram + DATA_OFF + (size_t)d * CHAIN_LEN;

		for (size_t k = 0; k < CHAIN_LEN; k++)
			buf[k] = pattern((size_t)idx * CHAIN_LEN + k);
		desc(c, 1)[d] = (struct virtq_desc){
			.addr = RAM_GPA + DATA_OFF + (size_t)d * CHAIN_LEN, .len = CHAIN_LEN,
		};
		a->ring[d] = d;
		__atomic_store_n(&a->idx, idx + 1, __ATOMIC_RELEASE);
	}
	CHECK_EQ_INT(write(c->notify_fd[1], &one, sizeof(one)), sizeof(one));
}

/* The used index once it has not moved for 300 ms (5 s at most). */
static uint16_t used_settled(struct vcon *c)
{
	uint16_t last = used(c, 1)->idx;
	unsigned int still = 0;

	for (unsigned int i = 0; i < 500 && still < 30; i++) {
		usleep(10000);
		if (used(c, 1)->idx == last) {
			still++;
		} else {
			last = used(c, 1)->idx;
			still = 0;
		}
	}
	return last;
}

/* Read the pipe until n bytes came (5 s at most); check them. */
static size_t read_check(struct vcon *c, size_t from, size_t n)
{
	static uint8_t buf[65536];
	uint64_t end = now_ns() + 5000000000ULL;
	size_t have = 0;

	while (have < n && now_ns() < end) {
		struct pollfd pfd = { .fd = c->pipe[0], .events = POLLIN };
		ssize_t r;

		if (poll(&pfd, 1, 10) <= 0)
			continue;
		r = read(c->pipe[0], buf, MIN(sizeof(buf), n - have));
		if (r <= 0)
			break;
		for (ssize_t k = 0; k < r; k++) {
			if (buf[k] != pattern(from + have + k)) {
				FAIL("output byte %zu differs", from + have + k);
				return have;
			}
		}
		have += r;
	}
	return have;
}

/*
 * Issue 8: the worker wrote output chains to stdout with blocking writes
 * under the device lock; with a pipe nobody reads, a register access (a
 * vCPU) and a snapshot's quiesce (which joins the worker) hung (here: till
 * the framework's timeout). Now the chain that does not fit waits in the
 * ring, goes back to it for a snapshot, and nothing is lost or repeated.
 */
TEST(virtio_console_stalled_stdout)
{
	struct state_writer w;
	struct vcon c;
	uint16_t n_used;
	uint64_t t0;
	size_t got;

	if (!vcon_setup(&c))
		return;
	/* 128 KiB: more than the pipe (64 KiB) and lvmm's buffer together. */
	offer_tx(&c, QNUM);
	n_used = used_settled(&c);
	CHECK(n_used < QNUM);
	/* Registers answer, the worker stops for a snapshot and saves. */
	t0 = now_ns();
	CHECK_EQ_U64(rd32(&c, REG_STATUS), STATUS_LIVE);
	c.dev->ops->quiesce(c.dev);
	CHECK(now_ns() - t0 < 2000000000ULL);
	sw_init(&w);
	CHECK_EQ_INT(c.dev->ops->save(c.dev, &w), 0);
	CHECK_EQ_INT(sw_finish(&w), 0);
	sw_free(&w);
	/* The chain being taken went back to the ring: it is not used. */
	CHECK_EQ_U64(used(&c, 1)->idx, n_used);
	CHECK_EQ_INT(c.dev->ops->unquiesce(c.dev), 0);

	/* The reader wakes up: every byte comes, once, in order. */
	got = read_check(&c, 0, (size_t)QNUM * CHAIN_LEN);
	CHECK_EQ_U64(got, (size_t)QNUM * CHAIN_LEN);
	CHECK_EQ_U64(used_settled(&c), QNUM);

	t0 = now_ns();
	c.dev->ops->stop(c.dev);
	c.dev->ops->free(c.dev);
	CHECK(now_ns() - t0 < 3000000000ULL);
	close(c.pipe[0]);
	close(c.pipe[1]);
	munmap(c.ram, RAM_SIZE);
}

/* Stalled for good at the end: lvmm still ends, within about a second. */
TEST(virtio_console_stop_with_stalled_stdout)
{
	struct vcon c;
	uint64_t t0;

	if (!vcon_setup(&c))
		return;
	offer_tx(&c, QNUM);
	used_settled(&c);
	t0 = now_ns();
	c.dev->ops->stop(c.dev);
	c.dev->ops->free(c.dev);
	CHECK(now_ns() - t0 < 5000000000ULL);
	close(c.pipe[0]);
	close(c.pipe[1]);
	munmap(c.ram, RAM_SIZE);
}
