// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-blk (and virtio-rng) whole, through the virtio-mmio registers, the
 * way a guest driver sees them, with no KVM: the device_env callbacks only
 * record the notify ioeventfds and the irqfd the transport asks for. The
 * test plays the guest: it writes the registers, lays out requests in a
 * RAM buffer, "kicks" by signalling the notify eventfd as KVM would, and
 * counts interrupts by reading the irqfd's eventfd as the vGIC would.
 * Requests go through the real worker thread and libaio to a temp file.
 */
#include "test.h"
#include "../../devices/virtio/virtio.h"
#include "../../state/state.h"
#include "../../util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* virtio-mmio registers (virtio 1.x, 4.2.2): the driver's view, not mmio.c's. */
#define REG_MAGIC		0x000
#define REG_VERSION		0x004
#define REG_DEVICE_ID		0x008
#define REG_VENDOR_ID		0x00c
#define REG_DEVICE_FEATURES	0x010
#define REG_DEVICE_FEATURES_SEL	0x014
#define REG_DRIVER_FEATURES	0x020
#define REG_DRIVER_FEATURES_SEL	0x024
#define REG_QUEUE_SEL		0x030
#define REG_QUEUE_NUM_MAX	0x034
#define REG_QUEUE_NUM		0x038
#define REG_QUEUE_READY		0x044
#define REG_QUEUE_NOTIFY	0x050
#define REG_INTERRUPT_STATUS	0x060
#define REG_INTERRUPT_ACK	0x064
#define REG_STATUS		0x070
#define REG_QUEUE_DESC_LOW	0x080
#define REG_QUEUE_DESC_HIGH	0x084
#define REG_QUEUE_DRIVER_LOW	0x090
#define REG_QUEUE_DRIVER_HIGH	0x094
#define REG_QUEUE_DEVICE_LOW	0x0a0
#define REG_QUEUE_DEVICE_HIGH	0x0a4
#define REG_CONFIG		0x100

/* virtio-blk (virtio 1.x, 5.2). */
#define BLK_F_SIZE_MAX	1
#define BLK_F_SEG_MAX	2
#define BLK_F_RO	5
#define BLK_F_BLK_SIZE	6
#define BLK_F_FLUSH	9
#define BLK_F_MQ	12
#define BLK_T_IN	0
#define BLK_T_OUT	1
#define BLK_T_FLUSH	4
#define BLK_T_GET_ID	8
#define BLK_T_DISCARD	11
#define BLK_S_OK	0
#define BLK_S_IOERR	1
#define BLK_S_UNSUPP	2
#define BLK_ID_BYTES	20

#define STATUS_UP	(VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER)
#define STATUS_LIVE	(STATUS_UP | VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK)
#define F_VERSION_1	(1ULL << VIRTIO_F_VERSION_1)

#define MMIO_BASE	0x0a000000ULL
#define INTID		48

/*
 * Guest RAM: the rings at the bottom, then one 32-byte slot per request
 * for its header (16 bytes) and status byte (at 16), then data buffers.
 */
#define RAM_GPA		0x40000000ULL
#define RAM_SIZE	(4 * SZ_1M)
#define DESC_OFF	0x0000
#define AVAIL_OFF	0x1000
#define USED_OFF	0x2000
#define HDR_OFF		0x4000
#define HDR_SLOT	32
#define DATA_OFF	0x10000
#define DATA_SLOT	0x4000
#define MAX_SLOTS	128

#define IMG_SIZE	(4 * SZ_1M)
#define IMG_SECTORS	(IMG_SIZE / 512)

#define WAIT_MS		5000

/* What the transport asked of the "VM". */
struct env_log {
	int notify_fd[VIRTIO_MAX_QUEUES];
	uint64_t notify_gpa[VIRTIO_MAX_QUEUES];
	unsigned int notify_len[VIRTIO_MAX_QUEUES];
	unsigned int ioeventfd_assigned, ioeventfd_released;
	int irq_fd, irq_resample_fd;
	unsigned int irq_intid;
	unsigned int irqfd_assigned, irqfd_released;
};

static int log_ioeventfd(void *ctx, uint64_t gpa, unsigned int len, uint64_t datamatch, int fd,
			 bool assign)
{
	struct env_log *log = ctx;

	if (!assign) {
		log->ioeventfd_released++;
		return 0;
	}
	log->ioeventfd_assigned++;
	if (datamatch < VIRTIO_MAX_QUEUES) {
		log->notify_fd[datamatch] = fd;
		log->notify_gpa[datamatch] = gpa;
		log->notify_len[datamatch] = len;
	}
	return 0;
}

static int log_irqfd(void *ctx, unsigned int intid, int fd, int resample_fd, bool assign)
{
	struct env_log *log = ctx;

	if (!assign) {
		log->irqfd_released++;
		return 0;
	}
	log->irqfd_assigned++;
	log->irq_fd = fd;
	log->irq_resample_fd = resample_fd;
	log->irq_intid = intid;
	return 0;
}

/* One device, its guest RAM, and the driver's view of queue 0. */
struct vdrv {
	struct env_log log;
	struct device_env env;
	struct device *dev;
	uint8_t *ram;
	uint16_t num;
	struct virtq_desc *desc;
	struct virtq_avail *avail;
	struct virtq_used *used;
	uint16_t next_desc;	/* descriptors are handed out round-robin */
	char path[32];		/* the disk image, "" if none */
	int img_fd;
};

struct blk_hdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

/* A request's buffers as the driver lays them out. */
struct seg {
	uint64_t gpa;
	uint32_t len;
	bool write;		/* device-writable */
};

static uint64_t gpa_of(uint64_t off)
{
	return RAM_GPA + off;
}

static uint64_t hdr_off(unsigned int slot)
{
	return HDR_OFF + slot * HDR_SLOT;
}

static uint64_t status_off(unsigned int slot)
{
	return hdr_off(slot) + 16;
}

static uint64_t data_off(unsigned int slot)
{
	return DATA_OFF + (uint64_t)slot * DATA_SLOT;
}

/* The image's initial bytes: different in every sector and every byte. */
static uint8_t img_byte(uint64_t off)
{
	return (uint8_t)(off * 13 + (off >> 9) * 101 + 7);
}

static void fill_pattern(uint8_t *p, size_t len, unsigned int seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed * 37 + i * 11 + (i >> 9));
}

static uint64_t ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

static uint32_t rd32(struct vdrv *f, uint64_t off)
{
	uint32_t v = 0xdeadbeef;

	f->dev->ops->mmio_read(f->dev, off, &v, 4);
	return v;
}

static void wr32(struct vdrv *f, uint64_t off, uint32_t v)
{
	f->dev->ops->mmio_write(f->dev, off, &v, 4);
}

static uint64_t device_features(struct vdrv *f)
{
	uint64_t lo, hi;

	wr32(f, REG_DEVICE_FEATURES_SEL, 0);
	lo = rd32(f, REG_DEVICE_FEATURES);
	wr32(f, REG_DEVICE_FEATURES_SEL, 1);
	hi = rd32(f, REG_DEVICE_FEATURES);
	return lo | hi << 32;
}

static void vdrv_init(struct vdrv *f)
{
	memset(f, 0, sizeof(*f));
	f->img_fd = -1;
	f->log.irq_fd = -1;
	for (unsigned int i = 0; i < VIRTIO_MAX_QUEUES; i++)
		f->log.notify_fd[i] = -1;
}

/* Guest RAM from mmap, so that "outside RAM" is nobody's memory. */
static bool vdrv_map(struct vdrv *f)
{
	void *p = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (!CHECK(p != MAP_FAILED))
		return false;
	f->ram = p;
	f->desc = (void *)(f->ram + DESC_OFF);
	f->avail = (void *)(f->ram + AVAIL_OFF);
	f->used = (void *)(f->ram + USED_OFF);
	f->env.mem = (struct guest_mem){ .host = p, .gpa = RAM_GPA, .size = RAM_SIZE };
	f->env.ioeventfd = log_ioeventfd;
	f->env.irqfd = log_irqfd;
	f->env.ctx = &f->log;
	return true;
}

/* A temp image of IMG_SIZE bytes holding img_byte(). */
static bool make_image(struct vdrv *f)
{
	uint8_t *buf = malloc(IMG_SIZE);
	bool ok;

	snprintf(f->path, sizeof(f->path), "/tmp/lvmm-blk-XXXXXX");
	f->img_fd = mkstemp(f->path);
	if (!CHECK(f->img_fd >= 0) || !CHECK(buf)) {
		f->path[0] = '\0';
		free(buf);
		return false;
	}
	for (uint64_t i = 0; i < IMG_SIZE; i++)
		buf[i] = img_byte(i);
	ok = CHECK_EQ_INT(pwrite(f->img_fd, buf, IMG_SIZE, 0), IMG_SIZE);
	free(buf);
	return ok;
}

static bool blk_setup_queues(struct vdrv *f, bool readonly, const char *serial,
			     unsigned int queues)
{
	struct virtio_blk_opts opts = { .readonly = readonly, .serial = serial, .queues = queues };
	int err = 0;

	vdrv_init(f);
	if (!vdrv_map(f) || !make_image(f))
		return false;
	opts.path = f->path;
	char msg[256] = "";

	err = virtio_blk_create("vda", &(struct virtio_transport){ .base = MMIO_BASE, .intid = INTID }, &opts, &f->env, &f->dev, msg,
				sizeof(msg));
	if (!CHECK_EQ_INT(err, 0)) {
		FAIL("virtio_blk_create: %s", msg);
		return false;
	}
	return true;
}

static bool blk_setup_opts(struct vdrv *f, bool readonly, const char *serial)
{
	return blk_setup_queues(f, readonly, serial, 1);
}

static bool blk_setup(struct vdrv *f)
{
	return blk_setup_opts(f, false, NULL);
}

static bool rng_setup(struct vdrv *f)
{
	int err = 0;

	vdrv_init(f);
	if (!vdrv_map(f))
		return false;
	char msg[256] = "";

	err = virtio_rng_create("rng0", &(struct virtio_transport){ .base = MMIO_BASE, .intid = INTID }, &f->env, &f->dev, msg, sizeof(msg));
	if (!CHECK_EQ_INT(err, 0)) {
		FAIL("virtio_rng_create: %s", msg);
		return false;
	}
	return true;
}

static void teardown(struct vdrv *f)
{
	if (f->dev) {
		f->dev->ops->stop(f->dev);
		f->dev->ops->free(f->dev);
		/* Everything the transport registered, it unregistered. */
		CHECK_EQ_U64(f->log.ioeventfd_released, f->log.ioeventfd_assigned);
		CHECK_EQ_U64(f->log.irqfd_released, f->log.irqfd_assigned);
	}
	if (f->img_fd >= 0)
		close(f->img_fd);
	if (f->path[0])
		unlink(f->path);
	if (f->ram)
		munmap(f->ram, RAM_SIZE);
}

/* Up to FEATURES_OK; returns whether the device accepted the features. */
static bool negotiate(struct vdrv *f, uint64_t features)
{
	wr32(f, REG_STATUS, 0);
	wr32(f, REG_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	wr32(f, REG_STATUS, STATUS_UP);
	wr32(f, REG_DRIVER_FEATURES_SEL, 0);
	wr32(f, REG_DRIVER_FEATURES, (uint32_t)features);
	wr32(f, REG_DRIVER_FEATURES_SEL, 1);
	wr32(f, REG_DRIVER_FEATURES, features >> 32);
	wr32(f, REG_STATUS, STATUS_UP | VIRTIO_STATUS_FEATURES_OK);
	return rd32(f, REG_STATUS) & VIRTIO_STATUS_FEATURES_OK;
}

/*
 * Lay out fresh, zeroed rings for queue 0 and tell the device where. num
 * is the register's width, so that a test can write nonsense into it.
 */
/* Queue q's registers: its size and where its rings are (RAM offsets). */
static void queue_registers(struct vdrv *f, uint32_t q, uint32_t num, uint64_t desc,
			    uint64_t avail, uint64_t used)
{
	wr32(f, REG_QUEUE_SEL, q);
	wr32(f, REG_QUEUE_NUM, num);
	wr32(f, REG_QUEUE_DESC_LOW, (uint32_t)gpa_of(desc));
	wr32(f, REG_QUEUE_DESC_HIGH, gpa_of(desc) >> 32);
	wr32(f, REG_QUEUE_DRIVER_LOW, (uint32_t)gpa_of(avail));
	wr32(f, REG_QUEUE_DRIVER_HIGH, gpa_of(avail) >> 32);
	wr32(f, REG_QUEUE_DEVICE_LOW, (uint32_t)gpa_of(used));
	wr32(f, REG_QUEUE_DEVICE_HIGH, gpa_of(used) >> 32);
}

static void queue_program(struct vdrv *f, uint32_t num)
{
	memset(f->ram, 0, HDR_OFF);
	f->num = num;
	f->next_desc = 0;
	queue_registers(f, 0, num, DESC_OFF, AVAIL_OFF, USED_OFF);
}

/* The whole driver bring-up (virtio 1.x, 3.1.1) with queue 0 of num. */
static bool driver_up(struct vdrv *f, uint64_t features, uint16_t num)
{
	if (!CHECK(negotiate(f, features)))
		return false;
	if (!CHECK(rd32(f, REG_QUEUE_NUM_MAX) >= num))
		return false;
	queue_program(f, num);
	wr32(f, REG_QUEUE_READY, 1);
	if (!CHECK_EQ_U64(rd32(f, REG_QUEUE_READY), 1))
		return false;
	wr32(f, REG_STATUS, STATUS_LIVE);
	return CHECK_EQ_U64(rd32(f, REG_STATUS), STATUS_LIVE);
}

static bool start(struct vdrv *f)
{
	return CHECK_EQ_INT(f->dev->ops->start(f->dev), 0);
}

/* The guest's QueueNotify write, as KVM turns it into an eventfd signal. */
static void kick_queue(struct vdrv *f, unsigned int q)
{
	uint64_t one = 1;

	if (CHECK(f->log.notify_fd[q] >= 0))
		CHECK_EQ_INT(write(f->log.notify_fd[q], &one, sizeof(one)), sizeof(one));
}

static void kick(struct vdrv *f)
{
	kick_queue(f, 0);
}

/* Interrupts raised since the last call, as the irqfd's reader sees them. */
static uint64_t irqs(struct vdrv *f)
{
	uint64_t n = 0;

	if (f->log.irq_fd < 0 || read(f->log.irq_fd, &n, sizeof(n)) != sizeof(n))
		return 0;
	return n;
}

/* Chain segs into descriptors and offer the chain; returns its head. */
static uint16_t offer(struct vdrv *f, const struct seg *segs, unsigned int n)
{
	uint16_t head = f->next_desc, idx;

	for (unsigned int i = 0; i < n; i++) {
		uint16_t d = (f->next_desc + i) & (f->num - 1);
		uint16_t next = (d + 1) & (f->num - 1);

		f->desc[d] = (struct virtq_desc){
			.addr = segs[i].gpa,
			.len = segs[i].len,
			.flags = (segs[i].write ? VIRTQ_DESC_F_WRITE : 0) |
				 (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0),
			.next = i + 1 < n ? next : 0,
		};
	}
	f->next_desc = (f->next_desc + n) & (f->num - 1);
	idx = f->avail->idx;
	f->avail->ring[idx & (f->num - 1)] = head;
	/* The entry must be visible before the index that offers it. */
	__atomic_store_n(&f->avail->idx, (uint16_t)(idx + 1), __ATOMIC_RELEASE);
	return head;
}

static uint16_t used_idx(struct vdrv *f)
{
	return __atomic_load_n(&f->used->idx, __ATOMIC_ACQUIRE);
}

static bool wait_used(struct vdrv *f, uint16_t idx)
{
	uint64_t end = ms_now() + WAIT_MS;

	while (used_idx(f) != idx) {
		if (ms_now() > end) {
			FAIL("used->idx is %u after %d ms, expected %u", used_idx(f), WAIT_MS, idx);
			return false;
		}
		usleep(200);
	}
	return true;
}

static bool wait_status(struct vdrv *f, uint32_t bits)
{
	uint64_t end = ms_now() + WAIT_MS;

	while ((rd32(f, REG_STATUS) & bits) != bits) {
		if (ms_now() > end) {
			FAIL("status is 0x%x after %d ms, expected bits 0x%x", rd32(f, REG_STATUS),
			     WAIT_MS, bits);
			return false;
		}
		usleep(200);
	}
	return true;
}

/* The used element for head among those returned so far, or NULL. */
static struct virtq_used_elem *used_elem(struct vdrv *f, uint16_t head)
{
	uint16_t n = used_idx(f);

	for (uint16_t i = 0; i < n && i < f->num; i++) {
		struct virtq_used_elem *e = &f->used->ring[(uint16_t)(n - 1 - i) & (f->num - 1)];

		if (e->id == head)
			return e;
	}
	return NULL;
}

/*
 * Offer a request in slot: header, data (readable for a write, writable
 * otherwise, skipped if len is 0) and status. Returns its head.
 */
static uint16_t offer_req(struct vdrv *f, unsigned int slot, uint32_t type, uint64_t sector,
			  uint32_t len)
{
	struct blk_hdr hdr = { .type = type, .sector = sector };
	struct seg segs[3];
	unsigned int n = 0;

	memcpy(f->ram + hdr_off(slot), &hdr, sizeof(hdr));
	f->ram[status_off(slot)] = 0xff;
	segs[n++] = (struct seg){ gpa_of(hdr_off(slot)), sizeof(hdr), false };
	if (len)
		segs[n++] = (struct seg){ gpa_of(data_off(slot)), len, type != BLK_T_OUT };
	segs[n++] = (struct seg){ gpa_of(status_off(slot)), 1, true };
	return offer(f, segs, n);
}

/*
 * One request start to finish: offer, kick, wait. Returns the status byte
 * (-1 if it never completed) and the used length in *used_len.
 */
static int do_req(struct vdrv *f, unsigned int slot, uint32_t type, uint64_t sector, uint32_t len,
		  uint32_t *used_len)
{
	uint16_t idx = used_idx(f), head;
	struct virtq_used_elem *e;

	head = offer_req(f, slot, type, sector, len);
	kick(f);
	if (!wait_used(f, (uint16_t)(idx + 1)))
		return -1;
	e = used_elem(f, head);
	if (!CHECK(e))
		return -1;
	if (used_len)
		*used_len = e->len;
	return f->ram[status_off(slot)];
}

static bool file_matches(struct vdrv *f, uint64_t off, const uint8_t *want, size_t len)
{
	uint8_t *buf = malloc(len);
	bool ok;

	if (!CHECK(buf))
		return false;
	ok = CHECK_EQ_INT(pread(f->img_fd, buf, len, off), len) && CHECK(!memcmp(buf, want, len));
	free(buf);
	return ok;
}

/* The image still holds its initial bytes in [off, off + len). */
static bool file_untouched(struct vdrv *f, uint64_t off, size_t len)
{
	uint8_t *want = malloc(len);
	bool ok;

	if (!CHECK(want))
		return false;
	for (size_t i = 0; i < len; i++)
		want[i] = img_byte(off + i);
	ok = file_matches(f, off, want, len);
	free(want);
	return ok;
}

static bool data_is_image(struct vdrv *f, unsigned int slot, uint64_t sector, size_t len)
{
	const uint8_t *p = f->ram + data_off(slot);

	for (size_t i = 0; i < len; i++) {
		if (p[i] != img_byte(sector * 512 + i)) {
			FAIL("data byte %zu of sector %llu is 0x%02x, expected 0x%02x", i,
			     (unsigned long long)sector, p[i], img_byte(sector * 512 + i));
			return false;
		}
	}
	return true;
}

TEST(virtio_blk_registers)
{
	uint64_t cap = 0, feat;
	struct vdrv f;

	if (!blk_setup(&f))
		goto out;
	CHECK_STR(f.dev->ops->kind, "virtio-mmio");
	CHECK_STR(f.dev->name, "vda");
	CHECK_EQ_U64(f.dev->mmio_base, MMIO_BASE);
	CHECK_EQ_U64(f.dev->mmio_size, VIRTIO_MMIO_SIZE);
	CHECK_EQ_U64(f.dev->irq, INTID);

	CHECK_EQ_U64(rd32(&f, REG_MAGIC), 0x74726976);
	CHECK_EQ_U64(rd32(&f, REG_VERSION), 2);
	CHECK_EQ_U64(rd32(&f, REG_DEVICE_ID), VIRTIO_ID_BLOCK);
	CHECK_EQ_U64(rd32(&f, REG_STATUS), 0);
	CHECK_EQ_U64(rd32(&f, REG_INTERRUPT_STATUS), 0);

	feat = device_features(&f);
	CHECK(feat & F_VERSION_1);
	CHECK(feat & (1ULL << BLK_F_FLUSH));
	CHECK(feat & (1ULL << BLK_F_BLK_SIZE));
	CHECK(feat & (1ULL << BLK_F_SEG_MAX));
	CHECK(!(feat & (1ULL << BLK_F_RO)));
	/* Feature words past 1 do not exist. */
	wr32(&f, REG_DEVICE_FEATURES_SEL, 2);
	CHECK_EQ_U64(rd32(&f, REG_DEVICE_FEATURES), 0);

	wr32(&f, REG_QUEUE_SEL, 0);
	CHECK_EQ_U64(rd32(&f, REG_QUEUE_NUM_MAX), 128);
	CHECK_EQ_U64(rd32(&f, REG_QUEUE_READY), 0);
	/* One queue only: the next reads as absent. */
	wr32(&f, REG_QUEUE_SEL, 1);
	CHECK_EQ_U64(rd32(&f, REG_QUEUE_NUM_MAX), 0);
	wr32(&f, REG_QUEUE_SEL, 0);

	/* Config space: capacity in 512-byte sectors, as two words and as one. */
	CHECK_EQ_U64(rd32(&f, REG_CONFIG), IMG_SECTORS);
	CHECK_EQ_U64(rd32(&f, REG_CONFIG + 4), 0);
	f.dev->ops->mmio_read(f.dev, REG_CONFIG, &cap, 8);
	CHECK_EQ_U64(cap, IMG_SECTORS);
	CHECK_EQ_U64(rd32(&f, REG_CONFIG + 20), 512);	/* blk_size */
	CHECK(rd32(&f, REG_CONFIG + 12) >= 1);		/* seg_max */

	/* One notify ioeventfd on QueueNotify for queue 0, and an edge irqfd. */
	CHECK_EQ_U64(f.log.ioeventfd_assigned, 1);
	CHECK(f.log.notify_fd[0] >= 0);
	CHECK_EQ_U64(f.log.notify_gpa[0], MMIO_BASE + REG_QUEUE_NOTIFY);
	CHECK_EQ_U64(f.log.notify_len[0], 4);
	CHECK_EQ_U64(f.log.irqfd_assigned, 1);
	CHECK(f.log.irq_fd >= 0);
	CHECK_EQ_U64(f.log.irq_intid, INTID);
	CHECK_EQ_INT(f.log.irq_resample_fd, -1);
out:
	teardown(&f);
}

TEST(virtio_blk_write_read)
{
	const uint32_t len = 4 * 512;
	uint32_t used_len = 0;
	uint8_t want[4 * 512];
	char stats[256] = "";
	struct vdrv f;

	if (!blk_setup(&f) || !driver_up(&f, F_VERSION_1 | (1ULL << BLK_F_FLUSH), 128) ||
	    !start(&f))
		goto out;

	fill_pattern(want, len, 1);
	memcpy(f.ram + data_off(0), want, len);
	CHECK_EQ_INT(do_req(&f, 0, BLK_T_OUT, 10, len, &used_len), BLK_S_OK);
	/* Only the status byte was written into the guest's buffers. */
	CHECK_EQ_U64(used_len, 1);
	file_matches(&f, 10 * 512, want, len);
	/* Neighbours untouched. */
	file_untouched(&f, 9 * 512, 512);
	file_untouched(&f, 14 * 512, 512);

	memset(f.ram + data_off(1), 0, len);
	CHECK_EQ_INT(do_req(&f, 1, BLK_T_IN, 10, len, &used_len), BLK_S_OK);
	CHECK_EQ_U64(used_len, len + 1);
	CHECK(!memcmp(f.ram + data_off(1), want, len));

	/* Data that was on the disk to begin with, the last sector included. */
	CHECK_EQ_INT(do_req(&f, 2, BLK_T_IN, 100, len, &used_len), BLK_S_OK);
	data_is_image(&f, 2, 100, len);
	CHECK_EQ_INT(do_req(&f, 3, BLK_T_IN, IMG_SECTORS - 1, 512, &used_len), BLK_S_OK);
	data_is_image(&f, 3, IMG_SECTORS - 1, 512);

	/* Each completion raised the used-buffer interrupt. */
	CHECK(irqs(&f) >= 1);
	CHECK(rd32(&f, REG_INTERRUPT_STATUS) & VIRTIO_ISR_QUEUE);
	CHECK(!(rd32(&f, REG_INTERRUPT_STATUS) & VIRTIO_ISR_CONFIG));
	wr32(&f, REG_INTERRUPT_ACK, VIRTIO_ISR_QUEUE);
	CHECK_EQ_U64(rd32(&f, REG_INTERRUPT_STATUS), 0);

	f.dev->ops->stats(f.dev, stats, sizeof(stats));
	CHECK_CONTAINS(stats, "reads=3");
	CHECK_CONTAINS(stats, "writes=1");
	CHECK_CONTAINS(stats, "errors=0");
out:
	teardown(&f);
}

TEST(virtio_blk_any_layout)
{
	struct blk_hdr hdr = { .type = BLK_T_OUT, .sector = 20 };
	uint8_t *buf, want[3 * 512];
	uint16_t idx, head;
	struct vdrv f;

	if (!blk_setup(&f) || !driver_up(&f, F_VERSION_1, 128) || !start(&f))
		goto out;

	/* Header and data in one readable buffer, status alone. */
	fill_pattern(want, sizeof(want), 2);
	buf = f.ram + data_off(0);
	memcpy(buf, &hdr, sizeof(hdr));
	memcpy(buf + sizeof(hdr), want, sizeof(want));
	f.ram[status_off(0)] = 0xff;
	idx = used_idx(&f);
	offer(&f, (struct seg[]){
		{ gpa_of(data_off(0)), sizeof(hdr) + sizeof(want), false },
		{ gpa_of(status_off(0)), 1, true },
	}, 2);
	kick(&f);
	if (!wait_used(&f, idx + 1))
		goto out;
	CHECK_EQ_U64(f.ram[status_off(0)], BLK_S_OK);
	file_matches(&f, 20 * 512, want, sizeof(want));

	/*
	 * Read back with the header split in two, the data scattered over
	 * three buffers of odd sizes, and the status byte at the end of the last.
	 */
	hdr.type = BLK_T_IN;
	memcpy(f.ram + hdr_off(1), &hdr, sizeof(hdr));
	buf = f.ram + data_off(1);
	memset(buf, 0, DATA_SLOT);
	buf[0x2000 + 1024 + 1] = 0xff;
	idx = used_idx(&f);
	head = offer(&f, (struct seg[]){
		{ gpa_of(hdr_off(1)), 4, false },
		{ gpa_of(hdr_off(1) + 4), 12, false },
		{ gpa_of(data_off(1)), 100, true },
		{ gpa_of(data_off(1) + 0x1000), 412, true },
		{ gpa_of(data_off(1) + 0x2000), 1024 + 1, true },
	}, 5);
	kick(&f);
	if (!wait_used(&f, idx + 1))
		goto out;
	CHECK_EQ_U64(buf[0x2000 + 1024], BLK_S_OK);
	if (CHECK(used_elem(&f, head)))
		CHECK_EQ_U64(used_elem(&f, head)->len, sizeof(want) + 1);
	CHECK(!memcmp(buf, want, 100));
	CHECK(!memcmp(buf + 0x1000, want + 100, 412));
	CHECK(!memcmp(buf + 0x2000, want + 512, 1024));
	/* Past the status byte: nothing written. */
	CHECK_EQ_U64(buf[0x2000 + 1024 + 1], 0xff);
out:
	teardown(&f);
}

static void check_get_id(struct vdrv *f, const char *want)
{
	uint8_t expect[BLK_ID_BYTES] = { 0 };
	uint32_t used_len = 0;

	memcpy(expect, want, strnlen(want, BLK_ID_BYTES));
	memset(f->ram + data_off(0), 0xee, 64);
	CHECK_EQ_INT(do_req(f, 0, BLK_T_GET_ID, 0, BLK_ID_BYTES, &used_len), BLK_S_OK);
	CHECK_EQ_U64(used_len, BLK_ID_BYTES + 1);
	if (!CHECK(!memcmp(f->ram + data_off(0), expect, BLK_ID_BYTES)))
		FAIL("ID is \"%.20s\", expected \"%.20s\"", (char *)f->ram + data_off(0), want);
	/* Never more than the 20 bytes. */
	CHECK_EQ_U64(f->ram[data_off(0) + BLK_ID_BYTES], 0xee);
}

TEST(virtio_blk_get_id)
{
	struct vdrv f;

	if (!blk_setup_opts(&f, false, "lvmm-serial-1") || !driver_up(&f, F_VERSION_1, 128) ||
	    !start(&f))
		goto out;
	check_get_id(&f, "lvmm-serial-1");
out:
	teardown(&f);

	/* 20 bytes exactly, no NUL: the spec allows it. */
	if (!blk_setup_opts(&f, false, "0123456789abcdefghijKLMN") ||
	    !driver_up(&f, F_VERSION_1, 128) || !start(&f))
		goto out2;
	check_get_id(&f, "0123456789abcdefghij");
out2:
	teardown(&f);

	/* By default, the image's file name. */
	if (!blk_setup(&f) || !driver_up(&f, F_VERSION_1, 128) || !start(&f))
		goto out3;
	check_get_id(&f, strrchr(f.path, '/') + 1);
out3:
	teardown(&f);
}

TEST(virtio_blk_flush)
{
	uint32_t used_len = 0;
	struct vdrv f;

	if (!blk_setup(&f) || !driver_up(&f, F_VERSION_1 | (1ULL << BLK_F_FLUSH), 128) ||
	    !start(&f))
		goto out;
	CHECK_EQ_INT(do_req(&f, 0, BLK_T_FLUSH, 0, 0, &used_len), BLK_S_OK);
	CHECK_EQ_U64(used_len, 1);
out:
	teardown(&f);
}

TEST(virtio_blk_out_of_range)
{
	static const struct {
		uint32_t type;
		uint64_t sector;
		uint32_t len;
		const char *what;
	} cases[] = {
		{ BLK_T_IN, IMG_SECTORS - 1, 1024, "read across the end" },
		{ BLK_T_IN, IMG_SECTORS, 512, "read just past the end" },
		{ BLK_T_IN, IMG_SECTORS + 1000, 512, "read well past the end" },
		{ BLK_T_IN, ~0ULL, 512, "read at sector 2^64 - 1" },
		{ BLK_T_IN, 1ULL << 55, 512, "read where sector * 512 wraps to 0" },
		{ BLK_T_IN, 0, 100, "read of part of a sector" },
		{ BLK_T_OUT, IMG_SECTORS - 1, 1024, "write across the end" },
		{ BLK_T_OUT, IMG_SECTORS, 512, "write just past the end" },
		{ BLK_T_OUT, 1ULL << 55, 512, "write where sector * 512 wraps to 0" },
		{ BLK_T_OUT, 0, 100, "write of part of a sector" },
	};
	uint32_t used_len;
	struct stat st;
	struct vdrv f;

	if (!blk_setup(&f) || !driver_up(&f, F_VERSION_1, 128) || !start(&f))
		goto out;
	for (unsigned int i = 0; i < ARRAY_SIZE(cases); i++) {
		unsigned int before = test_failure_count();

		used_len = 0xdead;
		memset(f.ram + data_off(0), 0x5a, cases[i].len);
		CHECK_EQ_INT(do_req(&f, 0, cases[i].type, cases[i].sector, cases[i].len,
				    &used_len), BLK_S_IOERR);
		CHECK_EQ_U64(used_len, 1);
		if (test_failure_count() != before)
			FAIL("... for %s", cases[i].what);
	}
	/* The disk did not grow, and its edges are as they were. */
	if (CHECK_EQ_INT(fstat(f.img_fd, &st), 0))
		CHECK_EQ_U64(st.st_size, IMG_SIZE);
	file_untouched(&f, 0, 512);
	file_untouched(&f, IMG_SIZE - 512, 512);
	/* And the device still works. */
	CHECK_EQ_INT(do_req(&f, 0, BLK_T_IN, 0, 512, &used_len), BLK_S_OK);
	data_is_image(&f, 0, 0, 512);
out:
	teardown(&f);
}

TEST(virtio_blk_unsupported_type)
{
	static const uint32_t types[] = { 2, BLK_T_DISCARD, 0xff, 0xffffffff };
	uint32_t used_len;
	struct vdrv f;

	if (!blk_setup(&f) || !driver_up(&f, F_VERSION_1, 128) || !start(&f))
		goto out;
	for (unsigned int i = 0; i < ARRAY_SIZE(types); i++) {
		used_len = 0xdead;
		CHECK_EQ_INT(do_req(&f, 0, types[i], 0, 512, &used_len), BLK_S_UNSUPP);
		CHECK_EQ_U64(used_len, 1);
	}
	file_untouched(&f, 0, 4096);
out:
	teardown(&f);
}

TEST(virtio_blk_readonly)
{
	uint32_t used_len = 0;
	struct vdrv f;

	if (!blk_setup_opts(&f, true, NULL))
		goto out;
	CHECK(device_features(&f) & (1ULL << BLK_F_RO));
	if (!driver_up(&f, F_VERSION_1 | (1ULL << BLK_F_RO), 128) || !start(&f))
		goto out;
	fill_pattern(f.ram + data_off(0), 8 * 512, 3);
	CHECK_EQ_INT(do_req(&f, 0, BLK_T_OUT, 0, 8 * 512, &used_len), BLK_S_IOERR);
	CHECK_EQ_U64(used_len, 1);
	CHECK_EQ_INT(do_req(&f, 0, BLK_T_OUT, 1000, 512, &used_len), BLK_S_IOERR);
	file_untouched(&f, 0, 8 * 512);
	file_untouched(&f, 1000 * 512, 512);
	/* Reads still work. */
	CHECK_EQ_INT(do_req(&f, 1, BLK_T_IN, 0, 8 * 512, &used_len), BLK_S_OK);
	data_is_image(&f, 1, 0, 8 * 512);
out:
	teardown(&f);
}

TEST(virtio_blk_feature_negotiation)
{
	struct vdrv f;
	uint64_t offered;

	if (!blk_setup(&f))
		goto out;
	offered = device_features(&f);
	/* Read-only was not offered for a writable disk. */
	CHECK(!negotiate(&f, F_VERSION_1 | (1ULL << BLK_F_RO)));
	CHECK(!negotiate(&f, F_VERSION_1 | (1ULL << BLK_F_SIZE_MAX)));
	/* Nor anything in the high word but VERSION_1. */
	CHECK(!negotiate(&f, F_VERSION_1 | (1ULL << 33)));
	CHECK(!negotiate(&f, F_VERSION_1 | (1ULL << 63)));
	/* A legacy driver (no VERSION_1) is refused. */
	CHECK(!negotiate(&f, 1ULL << BLK_F_FLUSH));
	CHECK(!negotiate(&f, 0));
	/* The refusal shows in the status; the rest of what was written stays. */
	CHECK_EQ_U64(rd32(&f, REG_STATUS), STATUS_UP);

	/* Any subset of what is offered is fine, all of it included. */
	CHECK(negotiate(&f, F_VERSION_1));
	CHECK(negotiate(&f, offered));
	CHECK_EQ_U64(rd32(&f, REG_STATUS), STATUS_UP | VIRTIO_STATUS_FEATURES_OK);
	/* Reset clears it all. */
	wr32(&f, REG_STATUS, 0);
	CHECK_EQ_U64(rd32(&f, REG_STATUS), 0);
out:
	teardown(&f);
}

/*
 * The device warns when a driver breaks it; where a test does that on
 * purpose, the warning goes to /dev/null so that the run stays one line per
 * test. Returns the real stderr for stderr_restore.
 */
static int stderr_silence(void)
{
	int saved, null;

	fflush(stderr);
	saved = dup(STDERR_FILENO);
	null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (saved >= 0 && null >= 0 && dup2(null, STDERR_FILENO) < 0) {
		close(saved);
		saved = -1;
	}
	if (null >= 0)
		close(null);
	return saved;
}

static void stderr_restore(int saved)
{
	if (saved < 0)
		return;
	fflush(stderr);
	if (dup2(saved, STDERR_FILENO) < 0)
		FAIL("cannot restore stderr: %s", strerror(errno));
	close(saved);
}

/* The device is broken: NEEDS_RESET and a config interrupt, nothing used. */
static void check_broken(struct vdrv *f, uint16_t used_before)
{
	if (!wait_status(f, VIRTIO_STATUS_NEEDS_RESET))
		return;
	CHECK(rd32(f, REG_INTERRUPT_STATUS) & VIRTIO_ISR_CONFIG);
	CHECK(irqs(f) >= 1);
	CHECK_EQ_U64(used_idx(f), used_before);
	/* The driver cannot clear NEEDS_RESET by writing the status. */
	wr32(f, REG_STATUS, STATUS_LIVE);
	CHECK(rd32(f, REG_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
}

/* After a reset and a fresh bring-up, the device serves requests again. */
static void check_recovers(struct vdrv *f)
{
	uint32_t used_len = 0;
	uint8_t want[1024];

	wr32(f, REG_STATUS, 0);
	CHECK_EQ_U64(rd32(f, REG_STATUS), 0);
	CHECK_EQ_U64(rd32(f, REG_INTERRUPT_STATUS), 0);
	CHECK_EQ_U64(rd32(f, REG_QUEUE_READY), 0);
	irqs(f);
	if (!driver_up(f, F_VERSION_1, 128))
		return;
	fill_pattern(want, sizeof(want), 4);
	memcpy(f->ram + data_off(2), want, sizeof(want));
	CHECK_EQ_INT(do_req(f, 2, BLK_T_OUT, 50, sizeof(want), &used_len), BLK_S_OK);
	memset(f->ram + data_off(3), 0, sizeof(want));
	CHECK_EQ_INT(do_req(f, 3, BLK_T_IN, 50, sizeof(want), &used_len), BLK_S_OK);
	CHECK(!memcmp(f->ram + data_off(3), want, sizeof(want)));
	file_matches(f, 50 * 512, want, sizeof(want));
	CHECK(irqs(f) >= 1);
}

TEST(virtio_blk_bad_chain_needs_reset)
{
	struct blk_hdr hdr = { .type = BLK_T_IN, .sector = 0 };
	int saved = stderr_silence();
	uint16_t idx;
	struct vdrv f;

	if (!blk_setup(&f) || !driver_up(&f, F_VERSION_1, 128) || !start(&f))
		goto out;

	/* The data buffer lies past the end of RAM. */
	memcpy(f.ram + hdr_off(0), &hdr, sizeof(hdr));
	idx = used_idx(&f);
	offer(&f, (struct seg[]){
		{ gpa_of(hdr_off(0)), sizeof(hdr), false },
		{ RAM_GPA + RAM_SIZE - 256, 512, true },
		{ gpa_of(status_off(0)), 1, true },
	}, 3);
	kick(&f);
	check_broken(&f, idx);

	/* Broken, the device takes nothing more until reset. */
	offer_req(&f, 1, BLK_T_IN, 0, 512);
	kick(&f);
	usleep(50 * 1000);
	CHECK_EQ_U64(used_idx(&f), idx);
	check_recovers(&f);

	/* A descriptor loop: 0 -> 1 -> 0. */
	memcpy(f.ram + hdr_off(0), &hdr, sizeof(hdr));
	idx = used_idx(&f);
	f.desc[f.next_desc] = (struct virtq_desc){
		.addr = gpa_of(hdr_off(0)), .len = 16, .flags = VIRTQ_DESC_F_NEXT,
		.next = f.next_desc + 1,
	};
	f.desc[f.next_desc + 1] = (struct virtq_desc){
		.addr = gpa_of(data_off(0)), .len = 512,
		.flags = VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, .next = f.next_desc,
	};
	f.avail->ring[f.avail->idx & (f.num - 1)] = f.next_desc;
	__atomic_store_n(&f.avail->idx, (uint16_t)(f.avail->idx + 1), __ATOMIC_RELEASE);
	kick(&f);
	check_broken(&f, idx);
	check_recovers(&f);

	/* A request with no status byte (nothing device-writable). */
	idx = used_idx(&f);
	memcpy(f.ram + hdr_off(0), &hdr, sizeof(hdr));
	offer(&f, (struct seg[]){ { gpa_of(hdr_off(0)), sizeof(hdr), false } }, 1);
	kick(&f);
	check_broken(&f, idx);
	check_recovers(&f);
out:
	teardown(&f);
	stderr_restore(saved);
}

/* Set queue 0 up with one thing wrong; QueueReady must break the device. */
static void check_bad_queue(uint32_t num, uint64_t desc_gpa)
{
	int saved = stderr_silence();
	struct vdrv f;

	if (!blk_setup(&f) || !start(&f) || !CHECK(negotiate(&f, F_VERSION_1)))
		goto out;
	queue_program(&f, num);
	wr32(&f, REG_QUEUE_DESC_LOW, (uint32_t)desc_gpa);
	wr32(&f, REG_QUEUE_DESC_HIGH, desc_gpa >> 32);
	wr32(&f, REG_QUEUE_READY, 1);
	if (CHECK(rd32(&f, REG_STATUS) & VIRTIO_STATUS_NEEDS_RESET)) {
		CHECK_EQ_U64(rd32(&f, REG_QUEUE_READY), 0);
		/* Nor does a second try make it ready while broken. */
		queue_program(&f, 128);
		wr32(&f, REG_QUEUE_READY, 1);
		CHECK_EQ_U64(rd32(&f, REG_QUEUE_READY), 0);
	} else {
		FAIL("... for queue size %u, descriptors at 0x%llx", num,
		     (unsigned long long)desc_gpa);
	}
	check_recovers(&f);
out:
	teardown(&f);
	stderr_restore(saved);
}

TEST(virtio_blk_bad_queue_setup)
{
	check_bad_queue(100, gpa_of(DESC_OFF));
	check_bad_queue(0, gpa_of(DESC_OFF));
	check_bad_queue(256, gpa_of(DESC_OFF));
	/* QueueNum is 32 bits wide: 2^16 + 8 is not 8. */
	check_bad_queue(0x10008, gpa_of(DESC_OFF));
	check_bad_queue(128, RAM_GPA + RAM_SIZE - 1024);
	check_bad_queue(128, 0xfffffffffffff000ULL);
	check_bad_queue(128, gpa_of(DESC_OFF) + 8);
}

TEST(virtio_blk_queue_ready_write_zero)
{
	struct vdrv f;

	if (!blk_setup(&f) || !driver_up(&f, F_VERSION_1, 128))
		goto out;
	/*
	 * "Reading from this register returns the last value written to it"
	 * (4.2.2); Linux's vm_del_vq writes 0 and WARNs if it reads back 1.
	 */
	wr32(&f, REG_QUEUE_READY, 0);
	CHECK_EQ_U64(rd32(&f, REG_QUEUE_READY), 0);
out:
	teardown(&f);
}

TEST(virtio_blk_notify_register)
{
	uint32_t used_len = 0;
	uint16_t idx;
	struct vdrv f;

	if (!blk_setup(&f) || !driver_up(&f, F_VERSION_1, 128) || !start(&f))
		goto out;
	/*
	 * Without the ioeventfd (KVM could not register it), QueueNotify
	 * traps to the device; a queue that does not exist is ignored.
	 */
	wr32(&f, REG_QUEUE_NOTIFY, 7);
	wr32(&f, REG_QUEUE_NOTIFY, 0xffffffff);
	idx = used_idx(&f);
	offer_req(&f, 0, BLK_T_IN, 3, 512);
	wr32(&f, REG_QUEUE_NOTIFY, 0);
	if (wait_used(&f, idx + 1)) {
		CHECK_EQ_U64(f.ram[status_off(0)], BLK_S_OK);
		data_is_image(&f, 0, 3, 512);
	}
	/* And the eventfd path still works after it. */
	CHECK_EQ_INT(do_req(&f, 1, BLK_T_IN, 4, 512, &used_len), BLK_S_OK);
	data_is_image(&f, 1, 4, 512);
out:
	teardown(&f);
}

TEST(virtio_blk_no_interrupt_flag)
{
	uint32_t used_len = 0;
	struct vdrv f;

	if (!blk_setup(&f) || !driver_up(&f, F_VERSION_1, 128) || !start(&f))
		goto out;
	/* A polling driver: completions land in the ring without interrupts. */
	f.avail->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
	CHECK_EQ_INT(do_req(&f, 0, BLK_T_IN, 0, 512, &used_len), BLK_S_OK);
	CHECK_EQ_INT(do_req(&f, 0, BLK_T_FLUSH, 0, 0, &used_len), BLK_S_OK);
	CHECK_EQ_U64(irqs(&f), 0);
	CHECK_EQ_U64(rd32(&f, REG_INTERRUPT_STATUS), 0);
	/* Interrupts back on. */
	f.avail->flags = 0;
	CHECK_EQ_INT(do_req(&f, 0, BLK_T_IN, 0, 512, &used_len), BLK_S_OK);
	CHECK(irqs(&f) >= 1);
	CHECK_EQ_U64(rd32(&f, REG_INTERRUPT_STATUS), VIRTIO_ISR_QUEUE);
out:
	teardown(&f);
}

/* Whether the worker has taken anything from queue 0 yet. */
static bool taken_any(struct virtio_dev *vdev)
{
	bool taken;

	pthread_mutex_lock(&vdev->lock);
	taken = vdev->vqs[0].last_avail != 0;
	pthread_mutex_unlock(&vdev->lock);
	return taken;
}

/*
 * stop must leave no request in flight: whatever the worker took from the
 * ring has its used element once stop returns, however far it had got.
 */
TEST(virtio_blk_stop_drains)
{
	enum { N = 40, LEN = 16 * 512 };
	struct virtio_dev *vdev;
	struct vdrv f;
	uint64_t end;

	if (!blk_setup(&f) || !driver_up(&f, F_VERSION_1, 128) || !start(&f))
		goto out;
	vdev = (struct virtio_dev *)f.dev;
	for (unsigned int i = 0; i < N; i++) {
		fill_pattern(f.ram + data_off(i), LEN, i);
		offer_req(&f, i, BLK_T_OUT, 32 * i, LEN);
	}
	kick(&f);
	/* Let the worker take some, then stop it in the middle of things. */
	end = ms_now() + WAIT_MS;
	while (!taken_any(vdev) && ms_now() < end)
		usleep(50);
	f.dev->ops->stop(f.dev);
	CHECK(vdev->vqs[0].last_avail != 0);
	CHECK_EQ_U64(used_idx(&f), vdev->vqs[0].last_avail);
	for (unsigned int i = 0; i < used_idx(&f); i++)
		CHECK_EQ_U64(f.ram[status_off(i)], BLK_S_OK);
out:
	teardown(&f);
}

/* A stopped device (a paused VM, a snapshot taken) can be started again. */
TEST(virtio_blk_restart)
{
	uint32_t used_len = 0;
	struct vdrv f;

	if (!blk_setup(&f) || !driver_up(&f, F_VERSION_1, 128) || !start(&f))
		goto out;
	CHECK_EQ_INT(do_req(&f, 0, BLK_T_IN, 0, 512, &used_len), BLK_S_OK);
	f.dev->ops->stop(f.dev);
	if (!start(&f))
		goto out;
	if (CHECK_EQ_INT(do_req(&f, 1, BLK_T_IN, 1, 512, &used_len), BLK_S_OK))
		data_is_image(&f, 1, 1, 512);
out:
	teardown(&f);
}

TEST(virtio_blk_many_in_flight)
{
	enum { N = 40, LEN = 8 * 512 };
	uint16_t heads[N], idx;
	bool seen[128] = { false };
	uint8_t want[LEN];
	struct vdrv f;

	if (!blk_setup(&f) || !driver_up(&f, F_VERSION_1, 128) || !start(&f))
		goto out;

	/* N writes to disjoint sectors, offered together with a single kick. */
	idx = used_idx(&f);
	for (unsigned int i = 0; i < N; i++) {
		fill_pattern(f.ram + data_off(i), LEN, 100 + i);
		heads[i] = offer_req(&f, i, BLK_T_OUT, 16 * i, LEN);
	}
	kick(&f);
	if (!wait_used(&f, idx + N))
		goto out;
	for (unsigned int i = 0; i < N; i++) {
		struct virtq_used_elem *e = &f.used->ring[(uint16_t)(idx + i) & (f.num - 1)];

		CHECK_EQ_U64(f.ram[status_off(i)], BLK_S_OK);
		if (!CHECK(e->id < 128) || !CHECK(!seen[e->id]))
			continue;
		seen[e->id] = true;
		CHECK_EQ_U64(e->len, 1);
	}
	for (unsigned int i = 0; i < N; i++) {
		CHECK(seen[heads[i]]);
		fill_pattern(want, LEN, 100 + i);
		file_matches(&f, 16 * 512 * i, want, LEN);
	}
	CHECK(irqs(&f) >= 1);

	/* And N reads of them back, in reverse, again all at once. */
	idx = used_idx(&f);
	for (unsigned int i = 0; i < N; i++) {
		memset(f.ram + data_off(i), 0, LEN);
		heads[i] = offer_req(&f, i, BLK_T_IN, 16 * (N - 1 - i), LEN);
	}
	kick(&f);
	if (!wait_used(&f, idx + N))
		goto out;
	for (unsigned int i = 0; i < N; i++) {
		struct virtq_used_elem *e = used_elem(&f, heads[i]);

		CHECK_EQ_U64(f.ram[status_off(i)], BLK_S_OK);
		if (CHECK(e))
			CHECK_EQ_U64(e->len, LEN + 1);
		fill_pattern(want, LEN, 100 + N - 1 - i);
		CHECK(!memcmp(f.ram + data_off(i), want, LEN));
	}
out:
	teardown(&f);
}

/*
 * Multiqueue: queue 1's rings sit below the request headers, clear of
 * queue 0's (num 64 each). q1 is a copy of the fixture whose ring
 * pointers are queue 1's, so offer() and wait_used() work on it.
 */
#define Q1_DESC_OFF	0x3000
#define Q1_AVAIL_OFF	0x3400
#define Q1_USED_OFF	0x3800
#define MQ_NUM		64

static void queue1_program(struct vdrv *f, struct vdrv *q1)
{
	*q1 = *f;
	q1->num = MQ_NUM;
	q1->next_desc = 0;
	q1->desc = (void *)(f->ram + Q1_DESC_OFF);
	q1->avail = (void *)(f->ram + Q1_AVAIL_OFF);
	q1->used = (void *)(f->ram + Q1_USED_OFF);
	queue_registers(f, 1, MQ_NUM, Q1_DESC_OFF, Q1_AVAIL_OFF, Q1_USED_OFF);
	wr32(f, REG_QUEUE_READY, 1);
}

/* Both queues up, as Linux brings up a multiqueue virtio-blk. */
static bool mq_driver_up(struct vdrv *f, struct vdrv *q1)
{
	if (!CHECK(negotiate(f, F_VERSION_1 | (1ULL << BLK_F_MQ))))
		return false;
	queue_program(f, MQ_NUM);
	wr32(f, REG_QUEUE_READY, 1);
	queue1_program(f, q1);
	wr32(f, REG_STATUS, STATUS_LIVE);
	return CHECK_EQ_U64(rd32(f, REG_STATUS), STATUS_LIVE);
}

TEST(virtio_blk_multiqueue)
{
	enum { LEN = 4 * 512, N = 16 };
	uint8_t want[LEN];
	uint16_t h0, h1, heads0[N], heads1[N];
	char stats[256] = "";
	struct vdrv f, q1;

	if (!blk_setup_queues(&f, false, NULL, 2))
		goto out;
	/* Offered with its count in the config space (virtio 5.2.4: num_queues at 34). */
	CHECK(device_features(&f) & (1ULL << BLK_F_MQ));
	CHECK_EQ_U64(rd32(&f, REG_CONFIG + 32) >> 16, 2);
	wr32(&f, REG_QUEUE_SEL, 1);
	CHECK_EQ_U64(rd32(&f, REG_QUEUE_NUM_MAX), 128);
	wr32(&f, REG_QUEUE_SEL, 2);
	CHECK_EQ_U64(rd32(&f, REG_QUEUE_NUM_MAX), 0);
	if (!mq_driver_up(&f, &q1) || !start(&f))
		goto out;

	/* A write on each queue, each completing in its own used ring. */
	fill_pattern(f.ram + data_off(0), LEN, 1);
	fill_pattern(f.ram + data_off(1), LEN, 2);
	h0 = offer_req(&f, 0, BLK_T_OUT, 0, LEN);
	h1 = offer_req(&q1, 1, BLK_T_OUT, 64, LEN);
	kick_queue(&f, 0);
	kick_queue(&f, 1);
	if (!wait_used(&f, 1) || !wait_used(&q1, 1))
		goto out;
	CHECK(used_elem(&f, h0));
	CHECK(used_elem(&q1, h1));
	CHECK_EQ_U64(f.ram[status_off(0)], BLK_S_OK);
	CHECK_EQ_U64(f.ram[status_off(1)], BLK_S_OK);
	fill_pattern(want, LEN, 1);
	file_matches(&f, 0, want, LEN);
	fill_pattern(want, LEN, 2);
	file_matches(&f, 64 * 512, want, LEN);

	/* Many in flight on both queues at once, one kick each: reads across. */
	for (unsigned int i = 0; i < N; i++) {
		memset(f.ram + data_off(2 + i), 0, LEN);
		memset(f.ram + data_off(2 + N + i), 0, LEN);
		heads0[i] = offer_req(&f, 2 + i, BLK_T_IN, i % 2 ? 64 : 0, LEN);
		heads1[i] = offer_req(&q1, 2 + N + i, BLK_T_IN, 128 + 8 * i, LEN);
	}
	kick_queue(&f, 1);
	kick_queue(&f, 0);
	if (!wait_used(&f, 1 + N) || !wait_used(&q1, 1 + N))
		goto out;
	for (unsigned int i = 0; i < N; i++) {
		struct virtq_used_elem *e0 = used_elem(&f, heads0[i]);
		struct virtq_used_elem *e1 = used_elem(&q1, heads1[i]);

		if (CHECK(e0))
			CHECK_EQ_U64(e0->len, LEN + 1);
		if (CHECK(e1))
			CHECK_EQ_U64(e1->len, LEN + 1);
		CHECK_EQ_U64(f.ram[status_off(2 + i)], BLK_S_OK);
		CHECK_EQ_U64(f.ram[status_off(2 + N + i)], BLK_S_OK);
		fill_pattern(want, LEN, i % 2 ? 2 : 1);
		CHECK(!memcmp(f.ram + data_off(2 + i), want, LEN));
		CHECK(data_is_image(&f, 2 + N + i, 128 + 8 * i, LEN));
	}
	f.dev->ops->stats(f.dev, stats, sizeof(stats));
	CHECK_CONTAINS(stats, "queues=2");
	CHECK_CONTAINS(stats, "reads=32");
	CHECK_CONTAINS(stats, "writes=2");

	/* Stopped and started again (a snapshot's pause): both queues still served. */
	f.dev->ops->stop(f.dev);
	if (!start(&f))
		goto out;
	offer_req(&q1, 1, BLK_T_IN, 0, LEN);
	kick_queue(&f, 1);
	if (wait_used(&q1, 2 + N)) {
		fill_pattern(want, LEN, 1);
		CHECK(!memcmp(f.ram + data_off(1), want, LEN));
	}
out:
	teardown(&f);
}

/*
 * A reset while both queues' workers are busy (io_submit runs without the
 * device lock): once the status write returns, the device owes nothing and
 * writes nothing more into guest RAM, on either queue.
 */
TEST(virtio_blk_multiqueue_reset_while_submitting)
{
	/* As much as the rings hold, so that io_submit's copies take a while. */
	enum { N = MQ_NUM / 3, LEN = DATA_SLOT, ROUNDS = 45 };
	uint8_t hdrs[2 * N * HDR_SLOT];
	struct vdrv f, q1;

	if (!blk_setup_queues(&f, false, NULL, 2))
		goto out;
	for (unsigned int r = 0; r < ROUNDS; r++) {
		bool quiet = true;

		if (!mq_driver_up(&f, &q1))
			goto out;
		if (r == 0 && !start(&f))
			goto out;
		for (unsigned int i = 0; i < N; i++) {
			offer_req(&f, i, BLK_T_IN, 32 * i, LEN);
			offer_req(&q1, N + i, BLK_T_IN, 32 * (N + i), LEN);
		}
		kick_queue(&f, r & 1);
		kick_queue(&f, !(r & 1));
		/* The reset at every point of the workers' rounds. */
		usleep((r % 15) * 15);
		wr32(&f, REG_STATUS, 0);
		/*
		 * From here on nothing of the device's may land in RAM: no status
		 * byte (a request reaped late writes its status), no data.
		 */
		memcpy(hdrs, f.ram + hdr_off(0), sizeof(hdrs));
		memset(f.ram + data_off(0), 0x55, (uint64_t)2 * N * DATA_SLOT);
		usleep(20000);
		quiet = !memcmp(hdrs, f.ram + hdr_off(0), sizeof(hdrs));
		for (uint64_t k = 0; k < (uint64_t)2 * N * DATA_SLOT && quiet; k++)
			quiet = f.ram[data_off(0) + k] == 0x55;
		if (!CHECK(quiet)) {
			FAIL("round %u: the device wrote into guest RAM after the reset", r);
			break;
		}
	}
out:
	teardown(&f);
}

/* Restored into a device with another queue count, queues would be lost: refused. */
TEST(virtio_blk_multiqueue_restore_needs_same_count)
{
	struct vdrv f, one, two, q1;
	struct state_writer w;
	struct state_reader r;
	const struct state_section *s;
	char err[256] = "";
	bool saved;

	vdrv_init(&one);
	vdrv_init(&two);
	if (!blk_setup_queues(&f, false, NULL, 2) || !mq_driver_up(&f, &q1))
		goto out;
	sw_init(&w);
	saved = CHECK_EQ_INT(f.dev->ops->save(f.dev, &w), 0) && CHECK_EQ_INT(sw_finish(&w), 0) &&
		CHECK_EQ_INT(sr_open(&r, w.buf, w.len, err, sizeof(err)), 0);
	if (saved) {
		s = sr_section(&r, "vda");
		if (CHECK(s) && blk_setup_queues(&one, false, NULL, 1) &&
		    blk_setup_queues(&two, false, NULL, 2)) {
			/* Same RAM layout: the rings are where the snapshot says. */
			memcpy(one.ram, f.ram, HDR_OFF);
			memcpy(two.ram, f.ram, HDR_OFF);
			CHECK_EQ_INT(one.dev->ops->restore(one.dev, s, err, sizeof(err)), -EINVAL);
			CHECK_CONTAINS(err, "2 queues, this one 1");
			err[0] = '\0';
			CHECK_EQ_INT(two.dev->ops->restore(two.dev, s, err, sizeof(err)), 0);
			CHECK_STR(err, "");
		}
		sr_close(&r);
	}
	sw_free(&w);
out:
	teardown(&two);
	teardown(&one);
	teardown(&f);
}

TEST(virtio_rng_fills_buffers)
{
	static const struct {
		uint64_t off;
		uint32_t len;
	} bufs[] = { { 0x0, 64 }, { 0x1000, 4096 }, { 0x3000, 100 }, { 0x3100, 28 } };
	uint16_t idx, h1, h2, h3;
	uint8_t *p;
	struct vdrv f;

	if (!rng_setup(&f))
		goto out;
	CHECK_EQ_U64(rd32(&f, REG_DEVICE_ID), VIRTIO_ID_RNG);
	if (!driver_up(&f, F_VERSION_1, 64) || !start(&f))
		goto out;

	/* Zeroed buffers with a guard byte after each. */
	p = f.ram + DATA_OFF;
	memset(p, 0, 0x4000);
	for (unsigned int i = 0; i < ARRAY_SIZE(bufs); i++)
		p[bufs[i].off + bufs[i].len] = 0xa5;
	idx = used_idx(&f);
	h1 = offer(&f, (struct seg[]){ { gpa_of(DATA_OFF + bufs[0].off), bufs[0].len, true } }, 1);
	h2 = offer(&f, (struct seg[]){ { gpa_of(DATA_OFF + bufs[1].off), bufs[1].len, true } }, 1);
	h3 = offer(&f, (struct seg[]){
		{ gpa_of(DATA_OFF + bufs[2].off), bufs[2].len, true },
		{ gpa_of(DATA_OFF + bufs[3].off), bufs[3].len, true },
	}, 2);
	kick(&f);
	if (!wait_used(&f, idx + 3))
		goto out;
	if (CHECK(used_elem(&f, h1)))
		CHECK_EQ_U64(used_elem(&f, h1)->len, 64);
	if (CHECK(used_elem(&f, h2)))
		CHECK_EQ_U64(used_elem(&f, h2)->len, 4096);
	if (CHECK(used_elem(&f, h3)))
		CHECK_EQ_U64(used_elem(&f, h3)->len, 128);
	for (unsigned int i = 0; i < ARRAY_SIZE(bufs); i++) {
		bool nonzero = false;

		/* 28 zero bytes from a good source: about 2^-224. */
		for (uint32_t j = 0; j < bufs[i].len; j++)
			nonzero |= p[bufs[i].off + j] != 0;
		if (!CHECK(nonzero))
			FAIL("... buffer %u still all zero", i);
		CHECK_EQ_U64(p[bufs[i].off + bufs[i].len], 0xa5);
	}
	CHECK(irqs(&f) >= 1);
	CHECK(rd32(&f, REG_INTERRUPT_STATUS) & VIRTIO_ISR_QUEUE);
out:
	teardown(&f);
}

TEST(virtio_rng_restart)
{
	uint16_t idx;
	struct vdrv f;

	if (!rng_setup(&f) || !driver_up(&f, F_VERSION_1, 64) || !start(&f))
		goto out;
	f.dev->ops->stop(f.dev);
	if (!start(&f))
		goto out;
	idx = used_idx(&f);
	offer(&f, (struct seg[]){ { gpa_of(DATA_OFF), 32, true } }, 1);
	kick(&f);
	if (wait_used(&f, idx + 1))
		CHECK_EQ_U64(f.used->ring[idx & (f.num - 1)].len, 32);
out:
	teardown(&f);
}

/* -d takes a regular file or a block device; a FIFO or a directory is refused unopened. */
TEST(disk_size_of_files_and_others)
{
	char dir[] = "/tmp/lvmm-disksize-XXXXXX", path[64];
	uint64_t size = 0;
	int fd;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/img", dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	CHECK(fd >= 0);
	CHECK_EQ_INT(ftruncate(fd, 3 << 20), 0);
	CHECK_EQ_INT(disk_fd_size(fd, &size), 0);
	CHECK(size == 3 << 20);
	size = 0;
	CHECK_EQ_INT(disk_path_size(path, &size), 0);
	CHECK(size == 3 << 20);
	close(fd);
	unlink(path);
	CHECK_EQ_INT(mkfifo(path, 0600), 0);
	CHECK_EQ_INT(disk_path_size(path, &size), -EINVAL);
	CHECK_EQ_INT(disk_path_size(dir, &size), -EINVAL);
	CHECK_EQ_INT(disk_path_size("/nonexistent-lvmm-disk", &size), -ENOENT);
	unlink(path);
	rmdir(dir);
}
