// SPDX-License-Identifier: GPL-2.0
/*
 * What a hostile driver can do to a queue under an element the device holds,
 * and what the worker owes a queue across a stop, a snapshot and a restore.
 * The devices run whole (registers, worker thread), with no KVM: virtio-net
 * sits on one end of a datagram socket pair instead of a tap (each datagram
 * is one frame with its 12-byte vnet header, as the tap gives them), and the
 * test plays the guest on the registers and on a RAM buffer.
 *
 * Guest RAM here comes from malloc, not mmap, so that under ASan a used-ring
 * write past the end of RAM is reported as the heap overflow it would be.
 */
#include "test.h"
#include "../../devices/virtio/virtio.h"
#include "../../state/state.h"
#include "../../util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define REG_DRIVER_FEATURES	0x020
#define REG_DRIVER_FEATURES_SEL	0x024
#define REG_QUEUE_SEL		0x030
#define REG_QUEUE_NUM		0x038
#define REG_QUEUE_READY		0x044
#define REG_STATUS		0x070
#define REG_QUEUE_DESC_LOW	0x080
#define REG_QUEUE_DESC_HIGH	0x084
#define REG_QUEUE_DRIVER_LOW	0x090
#define REG_QUEUE_DRIVER_HIGH	0x094
#define REG_QUEUE_DEVICE_LOW	0x0a0
#define REG_QUEUE_DEVICE_HIGH	0x0a4

#define STATUS_UP	(VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER)
#define STATUS_LIVE	(STATUS_UP | VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK)

#define MMIO_BASE	0x0a000000ULL
#define INTID		48

/* 64 KiB of guest RAM: two sets of rings, then buffers. */
#define RAM_GPA		0x40000000ULL
#define RAM_SIZE	0x10000
#define RINGS_A		0x0000		/* desc, avail at +0x1000, used at +0x2000 */
#define RINGS_B		0x4000
#define DATA_OFF	0x8000
#define BUF_LEN		0x800
#define CANARY		0x5a
#define USED_AT_END	(RAM_SIZE - 40)	/* 6 + 8 * 4 bytes, 4-aligned */

#define NET_RX		0
#define NET_HDR_LEN	12
#define WAIT_MS		3000
#define QUIET_MS	300		/* "nothing happens" is checked this long */

struct env_log {
	int notify_fd[VIRTIO_MAX_QUEUES];
	int irq_fd;
};

static int log_ioeventfd(void *ctx, uint64_t gpa, unsigned int len, uint64_t datamatch, int fd,
			 bool assign)
{
	struct env_log *log = ctx;

	if (assign && datamatch < VIRTIO_MAX_QUEUES)
		log->notify_fd[datamatch] = fd;
	return 0;
}

static int log_irqfd(void *ctx, unsigned int intid, int fd, int resample_fd, bool assign)
{
	struct env_log *log = ctx;

	if (assign)
		log->irq_fd = fd;
	return 0;
}

/* One device and the driver's view of one of its queues. */
struct drv {
	struct env_log log;
	struct device_env env;
	struct device *dev;
	uint8_t *ram;
	int peer;			/* net: the "wire" end of the socket pair */
	unsigned int qi;		/* the queue being driven */
	uint16_t num;
	struct virtq_desc *desc;
	struct virtq_avail *avail;
	struct virtq_used *used;
	uint16_t next_desc;
};

static struct virtio_dev *vdev_of(struct drv *d)
{
	return (struct virtio_dev *)d->dev;
}

static uint64_t ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

static uint32_t rd32(struct drv *d, uint64_t off)
{
	uint32_t v = 0xdeadbeef;

	d->dev->ops->mmio_read(d->dev, off, &v, 4);
	return v;
}

static void wr32(struct drv *d, uint64_t off, uint32_t v)
{
	d->dev->ops->mmio_write(d->dev, off, &v, 4);
}

static bool ram_init(struct drv *d)
{
	memset(d, 0, sizeof(*d));
	d->peer = -1;
	d->log.irq_fd = -1;
	for (unsigned int i = 0; i < VIRTIO_MAX_QUEUES; i++)
		d->log.notify_fd[i] = -1;
	d->ram = calloc(1, RAM_SIZE);
	if (!CHECK(d->ram))
		return false;
	d->env.mem = (struct guest_mem){ .host = d->ram, .gpa = RAM_GPA, .size = RAM_SIZE };
	d->env.ioeventfd = log_ioeventfd;
	d->env.irqfd = log_irqfd;
	d->env.ctx = &d->log;
	return true;
}

static bool net_setup(struct drv *d)
{
	static const uint8_t mac[6] = { 0x52, 0x54, 0, 0x12, 0x34, 0x56 };
	int sv[2], err = 0;

	if (!ram_init(d))
		return false;
	if (!CHECK_EQ_INT(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0))
		return false;
	d->peer = sv[1];
	char msg[256] = "";

	err = virtio_net_create_on_fd("net0", &(struct virtio_transport){ .base = MMIO_BASE, .intid = INTID }, sv[0], mac,
				      &d->env, &d->dev, msg, sizeof(msg));
	if (!CHECK_EQ_INT(err, 0)) {
		FAIL("virtio_net_create_on_fd: %s", msg);
		return false;
	}
	return true;
}

static bool rng_setup(struct drv *d)
{
	int err = 0;

	if (!ram_init(d))
		return false;
	char msg[256];

	err = virtio_rng_create("rng0", &(struct virtio_transport){ .base = MMIO_BASE, .intid = INTID }, &d->env, &d->dev, msg,
				sizeof(msg));
	return CHECK_EQ_INT(err, 0);
}

static void teardown(struct drv *d)
{
	if (d->dev) {
		d->dev->ops->stop(d->dev);
		d->dev->ops->free(d->dev);
	}
	if (d->peer >= 0)
		close(d->peer);
	free(d->ram);
}

static void negotiate(struct drv *d)
{
	wr32(d, REG_STATUS, 0);
	wr32(d, REG_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	wr32(d, REG_STATUS, STATUS_UP);
	wr32(d, REG_DRIVER_FEATURES_SEL, 1);
	wr32(d, REG_DRIVER_FEATURES, 1);	/* VIRTIO_F_VERSION_1 */
	wr32(d, REG_DRIVER_FEATURES_SEL, 0);
	wr32(d, REG_DRIVER_FEATURES, 0);
	wr32(d, REG_STATUS, STATUS_UP | VIRTIO_STATUS_FEATURES_OK);
}

/* Point queue qi at fresh rings at rings_off (used ring at used_off), enable it. */
static void queue_on(struct drv *d, unsigned int qi, uint16_t num, uint64_t rings_off,
		     uint64_t used_off)
{
	memset(d->ram + rings_off, 0, 0x2000);
	memset(d->ram + used_off, 0, 6 + 8 * num);
	d->qi = qi;
	d->num = num;
	d->next_desc = 0;
	d->desc = (void *)(d->ram + rings_off);
	d->avail = (void *)(d->ram + rings_off + 0x1000);
	d->used = (void *)(d->ram + used_off);
	wr32(d, REG_QUEUE_SEL, qi);
	wr32(d, REG_QUEUE_NUM, num);
	wr32(d, REG_QUEUE_DESC_LOW, (uint32_t)(RAM_GPA + rings_off));
	wr32(d, REG_QUEUE_DESC_HIGH, 0);
	wr32(d, REG_QUEUE_DRIVER_LOW, (uint32_t)(RAM_GPA + rings_off + 0x1000));
	wr32(d, REG_QUEUE_DRIVER_HIGH, 0);
	wr32(d, REG_QUEUE_DEVICE_LOW, (uint32_t)(RAM_GPA + used_off));
	wr32(d, REG_QUEUE_DEVICE_HIGH, 0);
	wr32(d, REG_QUEUE_READY, 1);
	CHECK_EQ_U64(rd32(d, REG_QUEUE_READY), 1);
}

static bool live(struct drv *d)
{
	wr32(d, REG_STATUS, STATUS_LIVE);
	return CHECK_EQ_U64(rd32(d, REG_STATUS), STATUS_LIVE) &&
	       CHECK_EQ_INT(d->dev->ops->start(d->dev), 0);
}

static void kick(struct drv *d)
{
	uint64_t one = 1;

	CHECK_EQ_INT(write(d->log.notify_fd[d->qi], &one, sizeof(one)), sizeof(one));
}

/* Offer one device-writable buffer of len at data slot; returns its head. */
static uint16_t offer(struct drv *d, unsigned int slot, uint32_t len)
{
	uint16_t head = d->next_desc, idx = d->avail->idx;

	d->next_desc = (d->next_desc + 1) & (d->num - 1);
	d->desc[head] = (struct virtq_desc){
		.addr = RAM_GPA + DATA_OFF + slot * BUF_LEN, .len = len, .flags = VIRTQ_DESC_F_WRITE,
	};
	d->avail->ring[idx & (d->num - 1)] = head;
	__atomic_store_n(&d->avail->idx, (uint16_t)(idx + 1), __ATOMIC_RELEASE);
	return head;
}

static uint16_t used_idx(struct drv *d)
{
	return __atomic_load_n(&d->used->idx, __ATOMIC_ACQUIRE);
}

static bool wait_used(struct drv *d, uint16_t idx, unsigned int ms)
{
	uint64_t end = ms_now() + ms;

	while (used_idx(d) != idx) {
		if (ms_now() > end) {
			FAIL("used->idx is %u after %u ms, expected %u", used_idx(d), ms, idx);
			return false;
		}
		usleep(200);
	}
	return true;
}

/* The device took avail entries up to idx (its next-available index). */
static bool wait_taken(struct drv *d, uint16_t idx)
{
	struct virtio_dev *vdev = vdev_of(d);
	uint64_t end = ms_now() + WAIT_MS;

	for (;;) {
		uint16_t last;

		pthread_mutex_lock(&vdev->lock);
		last = vdev->vqs[d->qi].last_avail;
		pthread_mutex_unlock(&vdev->lock);
		if (last == idx)
			return true;
		if (ms_now() > end) {
			FAIL("the device took %u avail entries, expected %u", last, idx);
			return false;
		}
		usleep(200);
	}
}

/* One frame on the wire: a zero vnet header and len bytes of payload. */
static void send_frame(struct drv *d, unsigned int len)
{
	uint8_t frame[NET_HDR_LEN + 1514] = { 0 };

	memset(frame + NET_HDR_LEN, 0xee, len);
	CHECK_EQ_INT(send(d->peer, frame, NET_HDR_LEN + len, 0), NET_HDR_LEN + len);
}

/*
 * The receive queue up with num entries and its used ring at used_off, and
 * `cycles` buffers too small for a frame already returned (so the used
 * index is past the ring's size), then one good buffer held by the device.
 */
static bool net_rx_with_held_buffer(struct drv *d, uint16_t num, uint64_t used_off,
				    unsigned int cycles)
{
	negotiate(d);
	queue_on(d, NET_RX, num, RINGS_A, used_off);
	if (!live(d))
		return false;
	for (unsigned int i = 0; i < cycles; i++) {
		offer(d, 0, 4);
		kick(d);
		if (!wait_used(d, i + 1, WAIT_MS))
			return false;
	}
	offer(d, 1, BUF_LEN);
	kick(d);
	return wait_taken(d, cycles + 1);
}

static bool canary_intact(struct drv *d, uint64_t off, uint64_t len)
{
	for (uint64_t i = 0; i < len; i++) {
		if (d->ram[off + i] != CANARY) {
			FAIL("guest RAM at +0x%llx, past the used ring, was written (0x%02x)",
			     (unsigned long long)(off + i), d->ram[off + i]);
			return false;
		}
	}
	return true;
}

/*
 * Issue 8, bug 1: the driver disables the receive queue while the device
 * holds one of its buffers and writes a larger QueueNum; a frame then
 * arrives. The held buffer belongs to a queue that no longer exists: it
 * must be dropped, never pushed (the used index masked with the new size
 * would land past the old used ring). After the driver sets the queue up
 * again elsewhere, the new ring must not get the old buffer either, and a
 * new buffer there gets the frame.
 */
TEST(virtio_net_held_rx_buffer_across_queue_disable)
{
	const uint64_t used_off = RINGS_A + 0x2000, ring_end = used_off + 6 + 8 * 4;
	uint16_t head;
	struct drv d;

	if (!net_setup(&d))
		goto out;
	memset(d.ram + ring_end, CANARY, 0x1000 - (ring_end - used_off));
	if (!net_rx_with_held_buffer(&d, 4, used_off, 5))
		goto out;
	memset(d.ram + ring_end, CANARY, 0x1000 - (ring_end - used_off));
	wr32(&d, REG_QUEUE_READY, 0);
	wr32(&d, REG_QUEUE_NUM, 256);
	send_frame(&d, 60);
	usleep(QUIET_MS * 1000);
	canary_intact(&d, ring_end, 0x1000 - (ring_end - used_off));
	CHECK_EQ_U64(used_idx(&d), 5);

	/* A new queue elsewhere: the old buffer is not in it. */
	queue_on(&d, NET_RX, 4, RINGS_B, RINGS_B + 0x2000);
	send_frame(&d, 70);
	usleep(QUIET_MS * 1000);
	CHECK_EQ_U64(used_idx(&d), 0);
	head = offer(&d, 2, BUF_LEN);
	kick(&d);
	if (wait_used(&d, 1, WAIT_MS)) {
		CHECK_EQ_U64(d.used->ring[0].id, head);
		/* The first frame still waiting on the wire: nothing was lost. */
		CHECK_EQ_U64(d.used->ring[0].len, NET_HDR_LEN + 60);
	}
	canary_intact(&d, ring_end, 0x1000 - (ring_end - used_off));
out:
	teardown(&d);
}

/*
 * The same with the used ring at the very end of guest RAM and QueueNum
 * written out of range: a push would go past RAM into the host's heap.
 */
TEST(virtio_net_held_rx_buffer_used_ring_at_ram_end)
{
	struct drv d;

	if (!net_setup(&d) || !net_rx_with_held_buffer(&d, 4, USED_AT_END, 5))
		goto out;
	wr32(&d, REG_QUEUE_READY, 0);
	wr32(&d, REG_QUEUE_NUM, 0x10000);
	send_frame(&d, 60);
	usleep(QUIET_MS * 1000);
	CHECK_EQ_U64(used_idx(&d), 5);
out:
	teardown(&d);
}

/*
 * Issue 8, bug 8: a buffer held when the driver re-enables the queue
 * (QueueReady 0 then 1: the next-available index is 0 again) must not be
 * "returned" into the new queue when the worker stops for a snapshot: the
 * index would step back to 65535, and the device would later take a stale
 * slot and then slot 0 again.
 */
TEST(virtio_net_held_rx_buffer_not_returned_to_new_queue)
{
	struct virtio_dev *vdev;
	uint16_t head;
	struct drv d;

	if (!net_setup(&d) || !net_rx_with_held_buffer(&d, 4, RINGS_A + 0x2000, 0))
		goto out;
	vdev = vdev_of(&d);
	wr32(&d, REG_QUEUE_READY, 0);
	queue_on(&d, NET_RX, 4, RINGS_A, RINGS_A + 0x2000);
	d.dev->ops->quiesce(d.dev);
	CHECK_EQ_U64(vdev->vqs[NET_RX].last_avail, 0);
	if (!CHECK_EQ_INT(d.dev->ops->unquiesce(d.dev), 0))
		goto out;
	head = offer(&d, 2, BUF_LEN);
	kick(&d);
	if (!wait_taken(&d, 1))
		goto out;
	send_frame(&d, 60);
	send_frame(&d, 61);
	if (wait_used(&d, 1, WAIT_MS)) {
		CHECK_EQ_U64(d.used->ring[0].id, head);
		CHECK_EQ_U64(d.used->ring[0].len, NET_HDR_LEN + 60);
	}
	/* One buffer, one frame: the second waits for the next buffer. */
	usleep(QUIET_MS * 1000);
	CHECK_EQ_U64(used_idx(&d), 1);
out:
	teardown(&d);
}

/*
 * Issue 8, bug 3: a kick that is pending when the worker is told to stop
 * is served before the worker returns, so a snapshot taken then holds the
 * completed request. Made deterministic by having both eventfds signalled
 * before the worker's first wait.
 */
TEST(virtio_worker_serves_kick_pending_at_stop)
{
	struct virtio_dev *vdev;
	uint64_t one = 1;
	struct drv d;

	if (!rng_setup(&d))
		goto out;
	vdev = vdev_of(&d);
	negotiate(&d);
	queue_on(&d, 0, 8, RINGS_A, RINGS_A + 0x2000);
	wr32(&d, REG_STATUS, STATUS_LIVE);
	offer(&d, 0, 32);
	kick(&d);
	CHECK_EQ_INT(write(vdev->stop_efd, &one, sizeof(one)), sizeof(one));
	if (!CHECK_EQ_INT(d.dev->ops->start(d.dev), 0))
		goto out;
	d.dev->ops->stop(d.dev);
	if (CHECK_EQ_U64(used_idx(&d), 1))
		CHECK_EQ_U64(d.used->ring[0].len, 32);
out:
	teardown(&d);
}

/*
 * Issue 8, bug 3: a request in the ring that the device had not taken when
 * the snapshot was written (its kick lost with the old process's eventfd)
 * is served after the restore without another kick.
 */
TEST(virtio_restore_serves_pending_request)
{
	const struct state_section *s;
	struct state_writer w;
	struct state_reader r;
	struct drv a, b;
	char err[128] = "";
	bool ok = false;

	if (!rng_setup(&a))
		goto out_a;
	negotiate(&a);
	queue_on(&a, 0, 8, RINGS_A, RINGS_A + 0x2000);
	if (!live(&a))
		goto out_a;
	offer(&a, 0, 32);	/* no kick reaches the device */
	a.dev->ops->quiesce(a.dev);
	sw_init(&w);
	CHECK_EQ_INT(a.dev->ops->save(a.dev, &w), 0);
	if (!CHECK_EQ_INT(sw_finish(&w), 0))
		goto out_w;

	/* A new process: a fresh device over the same guest RAM. */
	if (!rng_setup(&b))
		goto out_b;
	memcpy(b.ram, a.ram, RAM_SIZE);
	b.qi = 0;
	b.num = 8;
	b.used = (void *)(b.ram + RINGS_A + 0x2000);
	if (!CHECK_EQ_INT(sr_open(&r, w.buf, w.len, err, sizeof(err)), 0))
		goto out_b;
	s = sr_section(&r, "rng0");
	if (CHECK(s) && CHECK_EQ_INT(b.dev->ops->restore(b.dev, s, err, sizeof(err)), 0) &&
	    CHECK_EQ_INT(b.dev->ops->start(b.dev), 0))
		ok = wait_used(&b, 1, WAIT_MS);
	if (ok)
		CHECK_EQ_U64(b.used->ring[0].len, 32);
	sr_close(&r);
out_b:
	teardown(&b);
out_w:
	sw_free(&w);
out_a:
	teardown(&a);
}

/*
 * Save device a, restore the state into a fresh rng device: the restore
 * must accept what the device itself saved.
 */
static void check_restores_own_snapshot(struct drv *a)
{
	const struct state_section *s;
	struct state_writer w;
	struct state_reader r;
	struct drv b;
	char err[128] = "";

	sw_init(&w);
	CHECK_EQ_INT(a->dev->ops->save(a->dev, &w), 0);
	if (!CHECK_EQ_INT(sw_finish(&w), 0))
		goto out_w;
	if (!rng_setup(&b))
		goto out_b;
	if (!CHECK_EQ_INT(sr_open(&r, w.buf, w.len, err, sizeof(err)), 0))
		goto out_b;
	s = sr_section(&r, "rng0");
	if (CHECK(s))
		CHECK_EQ_INT(b.dev->ops->restore(b.dev, s, err, sizeof(err)), 0);
	CHECK_STR(err, "");
	sr_close(&r);
out_b:
	teardown(&b);
out_w:
	sw_free(&w);
}

/*
 * Found by fuzzing virtio-console: the status register kept bits above the
 * 8-bit device status a guest wrote, so the device saved a status its own
 * restore refuses ("transport state out of range").
 */
TEST(virtio_status_is_8_bits_and_restores)
{
	struct drv a;

	if (rng_setup(&a)) {
		wr32(&a, REG_STATUS, 0x100 | VIRTIO_STATUS_ACKNOWLEDGE);
		CHECK_EQ_U64(rd32(&a, REG_STATUS), VIRTIO_STATUS_ACKNOWLEDGE);
		check_restores_own_snapshot(&a);
	}
	teardown(&a);
}

/*
 * Found by fuzzing virtio-rng: a driver may write features the device did
 * not offer (it then gets no FEATURES_OK); such a device must still
 * restore from its own snapshot.
 */
TEST(virtio_unoffered_driver_features_restore)
{
	struct drv a;

	if (rng_setup(&a)) {
		wr32(&a, REG_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
		wr32(&a, REG_DRIVER_FEATURES_SEL, 0);
		wr32(&a, REG_DRIVER_FEATURES, 1u << 29);	/* not offered */
		wr32(&a, REG_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
				     VIRTIO_STATUS_FEATURES_OK);
		CHECK(!(rd32(&a, REG_STATUS) & VIRTIO_STATUS_FEATURES_OK));
		check_restores_own_snapshot(&a);
	}
	teardown(&a);
}
