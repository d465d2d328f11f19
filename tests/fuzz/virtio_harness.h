/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One virtio-mmio device as a hostile guest sees it, driven by a script
 * (tests/fuzz/fuzz_virtio_*.c). The harness plays three parts:
 *
 *  - the guest: MMIO reads and writes anywhere in the device's window
 *    (config space too), writes into guest RAM, and ready-made driver steps
 *    (bring the device up, set up a queue with its rings at a chosen place,
 *    post a chain of descriptors, disable a queue mid-flight, reset);
 *  - the device's worker thread: "process" runs one wakeup of the worker
 *    synchronously (poll the device's fds without waiting, then
 *    ops->process under the lock), so every run is deterministic;
 *  - the host: frames arriving on the tap, console input, disk completions
 *    (real libaio on a memfd), and snapshots (quiesce, save, restore into a
 *    fresh device, go on with that one).
 *
 * Guest RAM is a mapping with inaccessible guard areas of 1 MiB on both
 * sides: any access by lvmm outside RAM faults at once and ASan reports it.
 *
 * Checked beyond the sanitizers: a quiesced device owes the driver nothing
 * (every chain it took from a live queue is back in the used ring), a state
 * it saved can be restored into a fresh device, and the restored device
 * saves the same state again.
 *
 * The script: one byte picks the operation (modulo 16; codes past enum
 * vh_op repeat cheap ones), its operands follow; see enum vh_op. tests/fuzz/seeds/gen.c writes seeds in it.
 */
#ifndef LVMM_VIRTIO_HARNESS_H
#define LVMM_VIRTIO_HARNESS_H

#include "fuzz.h"
#include "../../devices/virtio/virtio.h"
#include "../../state/state.h"
#include "../../util.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

/* virtio-mmio registers (virtio 1.x, 4.2.2), the driver's view. */
#define VH_REG_DEVICE_FEATURES		0x010
#define VH_REG_DEVICE_FEATURES_SEL	0x014
#define VH_REG_DRIVER_FEATURES		0x020
#define VH_REG_DRIVER_FEATURES_SEL	0x024
#define VH_REG_QUEUE_SEL		0x030
#define VH_REG_QUEUE_NUM		0x038
#define VH_REG_QUEUE_READY		0x044
#define VH_REG_QUEUE_NOTIFY		0x050
#define VH_REG_STATUS			0x070
#define VH_REG_QUEUE_DESC_LOW		0x080
#define VH_REG_QUEUE_DESC_HIGH		0x084
#define VH_REG_QUEUE_DRIVER_LOW		0x090
#define VH_REG_QUEUE_DRIVER_HIGH	0x094
#define VH_REG_QUEUE_DEVICE_LOW		0x0a0
#define VH_REG_QUEUE_DEVICE_HIGH	0x0a4

#define VH_MMIO_BASE	0x0a000000ULL
#define VH_INTID	48
#define VH_RAM_GPA	0x40000000ULL
#define VH_RAM_SIZE	0x10000ULL	/* 64 KiB: small enough to clear per input */
#define VH_GUARD	0x100000ULL	/* more than any 16-bit ring index can reach */
/* Each queue's rings in its own 8 KiB (room for 256 entries), then buffers. */
#define VH_QUEUE_AREA	0x2000
#define VH_AVAIL_AT	0x1000
#define VH_USED_AT	0x1208
/* Queues the script can address: more than any device here has but virtio-blk's. */
#define VH_MAX_QUEUES	4
#define VH_DATA_OFF	(VH_MAX_QUEUES * VH_QUEUE_AREA)
/* Per input: deeper than this only makes inputs slow. */
#define VH_MAX_SNAPSHOTS 8
#define VH_MAX_ROUNDS	1024

enum vh_op {
	/* u16 offset, u8 size (1 2 4 8), u64 value */
	VH_MMIO_WRITE,
	/* u16 offset, u8 size */
	VH_MMIO_READ,
	/* u16 RAM offset, u8 n, n bytes */
	VH_RAM_WRITE,
	/* one wakeup of the device's worker */
	VH_PROCESS,
	/* u8 how: reset, negotiate (bit 0: drop VERSION_1, bit 1: no DRIVER_OK) */
	VH_INIT,
	/*
	 * u8 queue, u8 log2 size (0-8), u8 layout: 0 own area, 1 used ring at
	 * the end of RAM, 2 avail ring there, 3 descriptors there, 4 three u16
	 * RAM offsets as given; then QueueReady = 1
	 */
	VH_QUEUE_SETUP,
	/*
	 * u8 queue, u8 segments (1-8), u8 readable ones, u8 flags (bit 0: no
	 * notify, bit 1: buffers end at the end of RAM), u16 length per
	 * segment (0-4095), u8 n + n bytes into the first buffer
	 */
	VH_POST,
	/*
	 * u8 queue, u8 rounds: each round makes the last posted chain
	 * available again, notifies, lets the host side add one event (a
	 * frame, a byte of input) and runs the worker: many completions fast
	 */
	VH_LOOP,
	/* device-specific host event, operands its own (vh_device.backend) */
	VH_BACKEND,
	/* status 0 */
	VH_RESET,
	/* u8 how: bit 0 restore into a fresh device and go on with it */
	VH_SNAPSHOT,
	/*
	 * u8 queue, u8 how: QueueSel, QueueReady = bit 0; bit 1: then
	 * QueueNum = u16; enabling zeroes the driver's rings as a driver does
	 */
	VH_QUEUE_READY,
	VH_NR_OPS
};

struct vh;

/* What one device kind adds (fuzz_virtio_NAME.c). */
struct vh_device {
	/*
	 * Kept across inputs and reset by a status-0 write between them
	 * (blk: io_destroy waits for an RCU grace period, ~30 ms).
	 */
	bool persistent;
	struct device *(*create)(struct vh *h, int *err);
	void (*begin)(struct vh *h);	/* per input: host-side fds */
	void (*end)(struct vh *h);
	void (*backend)(struct vh *h, struct fz *f);
	void (*tick)(struct vh *h);	/* one host event in a VH_LOOP round */
	void (*drain)(struct vh *h);	/* consume what the device sent to the host */
	/*
	 * A snapshot field that a thread of the device's own changes at any
	 * time (virtio-console's output not yet written, which its writer
	 * thread drains): not compared after a restore. 0: none.
	 */
	uint64_t async_key;
};

struct vh_queue {		/* the driver's view of a queue it set up */
	bool set;
	uint16_t num;
	uint32_t desc, avail, used;	/* RAM offsets */
	uint16_t avail_idx;
	uint16_t next_desc;
	uint16_t last_head;
	bool have_head;
	uint32_t data_next;
};

struct vh {
	const struct vh_device *d;
	struct device_env env;
	uint8_t *ram;
	struct device *dev;
	struct device *spare;		/* persistent devices: the one restored into */
	struct vh_queue q[VH_MAX_QUEUES];
	unsigned int snapshots, rounds;	/* per input, to keep every input fast */
	int fds[4];			/* device-specific host ends */
};

static struct vh vh_state;

static int vh_ioeventfd(void *ctx, uint64_t gpa, unsigned int len, uint64_t datamatch, int fd,
			bool assign)
{
	return 0;	/* the MMIO write to QueueNotify signals the same eventfd */
}

static int vh_irqfd(void *ctx, unsigned int intid, int fd, int resample_fd, bool assign)
{
	return 0;	/* the harness reads the irqfd itself */
}

static struct virtio_dev *vh_vdev(struct device *dev)
{
	return (struct virtio_dev *)dev;
}

static void vh_die(const char *what)
{
	fprintf(stdout, "virtio harness: %s\n", what);
	fflush(stdout);
	abort();
}

static struct device *vh_new_device(struct vh *h)
{
	int err = 0;
	struct device *dev = h->d->create(h, &err);

	if (!dev)
		vh_die("cannot create the device");
	return dev;
}

static void vh_init_once(struct vh *h, const struct vh_device *d)
{
	uint8_t *map;

	if (h->ram)
		return;
	h->d = d;
	map = mmap(NULL, VH_RAM_SIZE + 2 * VH_GUARD, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED)
		vh_die("cannot map guest RAM");
	h->ram = map + VH_GUARD;
	if (mprotect(h->ram, VH_RAM_SIZE, PROT_READ | PROT_WRITE))
		vh_die("cannot map guest RAM");
	h->env = (struct device_env){
		.mem = { .host = h->ram, .gpa = VH_RAM_GPA, .size = VH_RAM_SIZE },
		.ioeventfd = vh_ioeventfd,
		.irqfd = vh_irqfd,
		.ctx = h,
	};
	for (unsigned int i = 0; i < 4; i++)
		h->fds[i] = -1;
	if (d->persistent) {
		h->dev = vh_new_device(h);
		h->spare = vh_new_device(h);
	}
}

/* A status-0 write: the driver's reset. */
static void vh_reset_dev(struct device *dev)
{
	uint32_t zero = 0;

	dev->ops->mmio_write(dev, VH_REG_STATUS, &zero, 4);
}

/* The bus's contract (kvm/mmio.c): inside the window, reads start zeroed. */
static void vh_mmio(struct vh *h, uint64_t off, void *data, unsigned int len, bool write)
{
	struct device *dev = h->dev;

	if (off >= dev->mmio_size || len > dev->mmio_size - off)
		return;
	if (write) {
		dev->ops->mmio_write(dev, off, data, len);
	} else {
		memset(data, 0, len);
		dev->ops->mmio_read(dev, off, data, len);
	}
}

static void vh_wr32(struct vh *h, uint64_t off, uint32_t v)
{
	vh_mmio(h, off, &v, 4, true);
}

static uint32_t vh_rd32(struct vh *h, uint64_t off)
{
	uint32_t v;

	vh_mmio(h, off, &v, 4, false);
	return v;
}

/* A driver's store into RAM; dropped where it would leave RAM. */
static void vh_ram_put(struct vh *h, uint64_t off, const void *p, size_t len)
{
	if (off > VH_RAM_SIZE || len > VH_RAM_SIZE - off)
		return;
	memcpy(h->ram + off, p, len);
}

static void vh_ram_put16(struct vh *h, uint64_t off, uint16_t v)
{
	vh_ram_put(h, off, &v, 2);
}

static void vh_forget_queues(struct vh *h)
{
	memset(h->q, 0, sizeof(h->q));
}

/*
 * One wakeup of each worker thread (virtio_worker in core.c: one for the
 * device, or one per queue), without waiting.
 */
static void vh_process(struct vh *h)
{
	struct virtio_dev *vdev = vh_vdev(h->dev);
	for (unsigned int w = 0; w < virtio_nr_workers(vdev); w++) {
		struct pollfd extra[VIRTIO_MAX_EXTRA_FDS];
		unsigned int n = 0;

		/*
		 * The worker would drain the notify eventfds that woke it, and KVM
		 * the irqfd: both are counters nothing here reads, left alone to
		 * save the system calls.
		 */
		if (vdev->ops->poll_fds)
			n = vdev->ops->poll_fds(vdev, w, extra);
		if (n && poll(extra, n, 0) < 0)
			for (unsigned int i = 0; i < n; i++)
				extra[i].revents = 0;
		pthread_mutex_lock(&vdev->lock);
		vdev->ops->process(vdev, w, extra);
		pthread_mutex_unlock(&vdev->lock);
	}
	if (h->d->drain)
		h->d->drain(h);
}

static void vh_init_driver(struct vh *h, uint8_t how)
{
	uint64_t feat;

	vh_forget_queues(h);
	vh_wr32(h, VH_REG_STATUS, 0);
	vh_wr32(h, VH_REG_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	vh_wr32(h, VH_REG_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	vh_wr32(h, VH_REG_DEVICE_FEATURES_SEL, 0);
	feat = vh_rd32(h, VH_REG_DEVICE_FEATURES);
	vh_wr32(h, VH_REG_DEVICE_FEATURES_SEL, 1);
	feat |= (uint64_t)vh_rd32(h, VH_REG_DEVICE_FEATURES) << 32;
	if (how & 1)
		feat &= ~(1ULL << VIRTIO_F_VERSION_1);
	vh_wr32(h, VH_REG_DRIVER_FEATURES_SEL, 0);
	vh_wr32(h, VH_REG_DRIVER_FEATURES, (uint32_t)feat);
	vh_wr32(h, VH_REG_DRIVER_FEATURES_SEL, 1);
	vh_wr32(h, VH_REG_DRIVER_FEATURES, feat >> 32);
	vh_wr32(h, VH_REG_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
				      VIRTIO_STATUS_FEATURES_OK);
	if (!(how & 2))
		vh_wr32(h, VH_REG_STATUS, vh_rd32(h, VH_REG_STATUS) | VIRTIO_STATUS_DRIVER_OK);
}

static void vh_write_addr(struct vh *h, uint64_t reg_low, uint64_t gpa)
{
	vh_wr32(h, reg_low, (uint32_t)gpa);
	vh_wr32(h, reg_low + 4, gpa >> 32);
}

static void vh_queue_setup(struct vh *h, struct fz *f)
{
	unsigned int qi = fz_u8(f) % VH_MAX_QUEUES;
	uint16_t num = 1 << (fz_u8(f) % 9);
	uint8_t layout = fz_u8(f) % 5;
	struct vh_queue *q = &h->q[qi];
	uint32_t base = qi * VH_QUEUE_AREA;
	uint32_t desc_len = 16 * num, avail_len = 6 + 2 * num, used_len = 6 + 8 * num;

	memset(q, 0, sizeof(*q));
	q->num = num;
	q->desc = base;
	q->avail = base + VH_AVAIL_AT;
	q->used = base + VH_USED_AT;
	switch (layout) {
	case 1:	/* the used ring's last byte two short of RAM's end (it is 4-aligned) */
		q->used = (VH_RAM_SIZE - used_len) & ~3u;
		break;
	case 2:
		q->avail = VH_RAM_SIZE - avail_len;
		break;
	case 3:
		q->desc = VH_RAM_SIZE - desc_len;
		break;
	case 4:
		q->desc = fz_u16(f);
		q->avail = fz_u16(f);
		q->used = fz_u16(f);
		break;
	}
	/* A driver starts with zeroed rings. */
	if (q->desc + desc_len <= VH_RAM_SIZE)
		memset(h->ram + q->desc, 0, desc_len);
	if (q->avail + avail_len <= VH_RAM_SIZE)
		memset(h->ram + q->avail, 0, avail_len);
	if (q->used + used_len <= VH_RAM_SIZE)
		memset(h->ram + q->used, 0, used_len);
	q->data_next = VH_DATA_OFF;
	vh_wr32(h, VH_REG_QUEUE_SEL, qi);
	vh_wr32(h, VH_REG_QUEUE_READY, 0);
	vh_wr32(h, VH_REG_QUEUE_NUM, num);
	vh_write_addr(h, VH_REG_QUEUE_DESC_LOW, VH_RAM_GPA + q->desc);
	vh_write_addr(h, VH_REG_QUEUE_DRIVER_LOW, VH_RAM_GPA + q->avail);
	vh_write_addr(h, VH_REG_QUEUE_DEVICE_LOW, VH_RAM_GPA + q->used);
	vh_wr32(h, VH_REG_QUEUE_READY, 1);
	q->set = true;
}

/* Make head available: the ring entry, then the index (as a driver orders them). */
static void vh_publish(struct vh *h, unsigned int qi, uint16_t head, bool notify)
{
	struct vh_queue *q = &h->q[qi];

	vh_ram_put16(h, q->avail + 4 + 2ULL * (q->avail_idx & (q->num - 1)), head);
	q->avail_idx++;
	vh_ram_put16(h, q->avail + 2, q->avail_idx);
	if (notify)
		vh_wr32(h, VH_REG_QUEUE_NOTIFY, qi);
}

static void vh_post(struct vh *h, struct fz *f)
{
	unsigned int qi = fz_u8(f) % VH_MAX_QUEUES;
	unsigned int nseg = 1 + fz_u8(f) % 8;
	unsigned int n_out = fz_u8(f) % (nseg + 1);
	uint8_t flags = fz_u8(f);
	struct vh_queue *q = &h->q[qi];
	uint16_t len[8], idx[8];
	uint64_t addr[8];
	uint8_t content[255];
	uint8_t n_content;
	uint32_t end_total;

	for (unsigned int i = 0; i < nseg; i++)
		len[i] = fz_u16(f) & 0xfff;
	n_content = fz_u8(f);
	fz_bytes(f, content, n_content);
	if (!q->set)
		return;
	if (nseg > q->num)
		nseg = q->num;
	if (n_out > nseg)
		n_out = nseg;
	end_total = 0;
	for (unsigned int i = 0; i < nseg; i++)
		end_total += len[i];
	for (unsigned int i = 0; i < nseg; i++) {
		idx[i] = q->next_desc++ & (q->num - 1);
		if (flags & 2) {
			/* Back to back, the last one ending at the last byte of RAM. */
			addr[i] = VH_RAM_SIZE - end_total;
			end_total -= len[i];
		} else {
			if (q->data_next + len[i] > VH_RAM_SIZE)
				q->data_next = VH_DATA_OFF;
			addr[i] = q->data_next;
			q->data_next += len[i];
		}
	}
	for (unsigned int i = 0; i < nseg; i++) {
		struct virtq_desc d = {
			.addr = VH_RAM_GPA + addr[i],
			.len = len[i],
			.flags = (i >= n_out ? VIRTQ_DESC_F_WRITE : 0) |
				 (i + 1 < nseg ? VIRTQ_DESC_F_NEXT : 0),
			.next = i + 1 < nseg ? idx[i + 1] : 0,
		};

		vh_ram_put(h, q->desc + 16ULL * idx[i], &d, sizeof(d));
	}
	vh_ram_put(h, addr[0], content, MIN((unsigned int)n_content, len[0]));
	q->last_head = idx[0];
	q->have_head = true;
	vh_publish(h, qi, idx[0], !(flags & 1));
}

static void vh_loop(struct vh *h, struct fz *f)
{
	unsigned int qi = fz_u8(f) % VH_MAX_QUEUES;
	unsigned int rounds = fz_u8(f);

	for (unsigned int r = 0; r < rounds && h->rounds < VH_MAX_ROUNDS; r++, h->rounds++) {
		if (h->q[qi].set && h->q[qi].have_head)
			vh_publish(h, qi, h->q[qi].last_head, true);
		if (h->d->tick)
			h->d->tick(h);
		vh_process(h);
	}
}

static void vh_queue_ready(struct vh *h, struct fz *f)
{
	unsigned int qi = fz_u8(f) % VH_MAX_QUEUES;
	uint8_t how = fz_u8(f);
	struct vh_queue *q = &h->q[qi];

	vh_wr32(h, VH_REG_QUEUE_SEL, qi);
	if ((how & 1) && q->set) {
		/* Re-enabled rings start over on both sides (2.7.13). */
		q->avail_idx = 0;
		vh_ram_put16(h, q->avail + 2, 0);
		vh_ram_put16(h, q->used + 2, 0);
	}
	vh_wr32(h, VH_REG_QUEUE_READY, how & 1);
	if (how & 2)
		vh_wr32(h, VH_REG_QUEUE_NUM, fz_u16(f));
}

/* Snapshot keys of the transport (mmio.c): queue q's fields at 0x100 + 0x10 * q. */
#define VH_KEY_QUEUE(q)		(0x100 + 0x10 * (q))
#define VH_Q_READY		1
#define VH_Q_LAST_AVAIL		5
#define VH_Q_USED_IDX		6

static bool vh_key_ignored(const struct state_section *s, uint64_t key)
{
	uint64_t ready;

	if (vh_state.d->async_key && key == vh_state.d->async_key)
		return true;
	/* A disabled queue's indices are not restored: enabling zeroes them. */
	if (key < VH_KEY_QUEUE(0) || key >= VH_KEY_QUEUE(VIRTIO_MAX_QUEUES))
		return false;
	if ((key & 0xf) != VH_Q_LAST_AVAIL && (key & 0xf) != VH_Q_USED_IDX)
		return false;
	return ss_get_u64(s, (key & ~0xfULL) + VH_Q_READY, &ready) && !ready;
}

static void vh_same_state(const struct state_section *a, const struct state_section *b)
{
	size_t pa = 0, pb = 0;
	uint64_t ka, kb;
	const void *da, *db;
	uint32_t la, lb;

	for (;;) {
		bool ma = ss_next(a, &pa, &ka, &da, &la);
		bool mb = ss_next(b, &pb, &kb, &db, &lb);

		if (ma != mb || (ma && ka != kb))
			vh_die("a restored device saves other fields than it was restored from");
		if (!ma)
			return;
		if ((la != lb || memcmp(da, db, la)) && !vh_key_ignored(a, ka)) {
			fprintf(stdout,
				"virtio harness: field 0x%llx differs after restore (%u vs %u bytes)\n",
				(unsigned long long)ka, la, lb);
			fflush(stdout);
			abort();
		}
	}
}

/* Save dev into a fresh state file; r indexes it. */
static const struct state_section *vh_save(struct device *dev, struct state_writer *w,
					   struct state_reader *r)
{
	char err[256];
	const struct state_section *s;

	sw_init(w);
	if (dev->ops->save(dev, w) || sw_finish(w) ||
	    sr_open(r, w->buf, w->len, err, sizeof(err)))
		vh_die("cannot save the device's state");
	s = sr_section(r, dev->name);
	if (!s)
		vh_die("the device's section is missing from its state");
	return s;
}

/*
 * What a snapshot does: quiesce (the worker stops; ops->stopped runs after
 * it, as virtio_mmio_stop calls it), save; then go on, or restore into a
 * freshly created device and go on with that.
 */
static void vh_snapshot(struct vh *h, uint8_t how)
{
	struct virtio_dev *vdev = vh_vdev(h->dev);
	struct state_writer w, w2;
	struct state_reader r, r2;
	const struct state_section *s;
	struct device *fresh;
	char err[256];

	h->dev->ops->quiesce(h->dev);
	if (vdev->ops->stopped)
		vdev->ops->stopped(vdev);
	/* Quiesced, a device has handed back every chain it took. */
	for (unsigned int i = 0; i < vdev->nr_queues; i++) {
		struct virtq *q = &vdev->vqs[i];

		if (q->ready && q->last_avail != q->used_idx) {
			fprintf(stdout, "virtio harness: quiesced, queue %u has taken %u chains and returned %u\n",
				i, q->last_avail, q->used_idx);
			fflush(stdout);
			abort();
		}
	}
	s = vh_save(h->dev, &w, &r);
	if (how & 1) {
		if (h->d->persistent) {
			/* A device reset to status 0 is as good as a new one. */
			fresh = h->spare;
			vh_reset_dev(fresh);
			h->spare = h->dev;
		} else {
			fresh = vh_new_device(h);
		}
		if (fresh->ops->restore(fresh, s, err, sizeof(err))) {
			fprintf(stdout, "virtio harness: restoring a state just saved: %s\n", err);
			fflush(stdout);
			abort();
		}
		vh_same_state(s, vh_save(fresh, &w2, &r2));
		sr_close(&r2);
		sw_free(&w2);
		if (!h->d->persistent)
			h->dev->ops->free(h->dev);
		h->dev = fresh;
	}
	sr_close(&r);
	sw_free(&w);
}

static void vh_step(struct vh *h, struct fz *f)
{
	uint8_t buf[256];
	uint64_t v;
	uint16_t off;
	uint8_t n;

	uint8_t op = fz_u8(f) % 16;

	/* Spare codes: more of the cheap steps, fewer snapshots in random bytes. */
	if (op >= VH_NR_OPS)
		op = (const uint8_t[]){ VH_PROCESS, VH_POST, VH_MMIO_WRITE, VH_RAM_WRITE }[op - VH_NR_OPS];
	switch (op) {
	case VH_MMIO_WRITE:
		off = fz_u16(f);
		n = 1 << (fz_u8(f) & 3);
		v = fz_u64(f);
		vh_mmio(h, off % VIRTIO_MMIO_SIZE, &v, n, true);
		break;
	case VH_MMIO_READ:
		off = fz_u16(f);
		n = 1 << (fz_u8(f) & 3);
		vh_mmio(h, off % VIRTIO_MMIO_SIZE, &v, n, false);
		break;
	case VH_RAM_WRITE:
		off = fz_u16(f);
		n = fz_u8(f);
		fz_bytes(f, buf, n);
		vh_ram_put(h, off, buf, n);
		break;
	case VH_PROCESS:
		vh_process(h);
		break;
	case VH_INIT:
		vh_init_driver(h, fz_u8(f));
		break;
	case VH_QUEUE_SETUP:
		vh_queue_setup(h, f);
		break;
	case VH_POST:
		vh_post(h, f);
		break;
	case VH_LOOP:
		vh_loop(h, f);
		break;
	case VH_BACKEND:
		if (h->d->backend)
			h->d->backend(h, f);
		break;
	case VH_RESET:
		vh_forget_queues(h);
		vh_wr32(h, VH_REG_STATUS, 0);
		break;
	case VH_SNAPSHOT:
		n = fz_u8(f);
		if (h->snapshots++ < VH_MAX_SNAPSHOTS)
			vh_snapshot(h, n);
		break;
	case VH_QUEUE_READY:
		vh_queue_ready(h, f);
		break;
	}
}

static int vh_run(const struct vh_device *d, const uint8_t *data, size_t size)
{
	struct vh *h = &vh_state;
	struct fz f;

	vh_init_once(h, d);
	memset(h->ram, 0, VH_RAM_SIZE);
	vh_forget_queues(h);
	h->snapshots = h->rounds = 0;
	if (d->begin)
		d->begin(h);
	if (!d->persistent)
		h->dev = vh_new_device(h);
	fz_init(&f, data, size);
	while (!fz_done(&f))
		vh_step(h, &f);
	if (d->persistent) {
		/* Back to a new device's state for the next input (see vh_device). */
		vh_reset_dev(h->dev);
	} else {
		h->dev->ops->free(h->dev);
		h->dev = NULL;
	}
	if (d->end)
		d->end(h);
	return 0;
}

#endif
