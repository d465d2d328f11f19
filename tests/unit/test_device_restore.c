// SPDX-License-Identifier: GPL-2.0
/*
 * Devices restored from an untrusted snapshot section: the UART and the
 * virtio-mmio transport (on virtio-rng) take back what they saved, and
 * refuse values their registers cannot hold instead of cutting them down
 * (a u64 from the file silently narrowed to a u8 or u16 is another value).
 * Each case saves a real device, changes one field of its section and
 * restores into a fresh device. The field keys are the state format's.
 */
#include "test.h"
#include "../../devices/device.h"
#include "../../devices/virtio/virtio.h"
#include "../../state/state.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* uart.c's section: IER 1 ... FCR 7, THR_IPENDING 8, IRQ_LEVEL 9, RX 10. */
#define UART_IER	1
#define UART_FCR	7
#define UART_THR_IP	8
/* mmio.c's: DRIVER_FEATURES 3, ISR 7, BROKEN 8; queue q field f at 0x100 + 0x10q + f. */
#define VT_DEVICE_FEATURES 2
#define VT_DRIVER_FEATURES 3
#define VT_STATUS	1
#define VT_ISR		7
#define VT_BROKEN	8
#define VQ(q, f)	(0x100 + 0x10 * (q) + (f))
#define VQ_NUM		0
#define VQ_READY	1
#define VQ_LAST_AVAIL	5
#define VQ_USED_IDX	6

#define RAM_GPA		0x40000000ULL
#define RAM_SIZE	(1 << 20)

struct saved {
	uint8_t *buf;
	struct state_reader r;
	const struct state_section *s;
};

/* dev's section, with key `key` set to `val` (key 0: as saved). */
static bool save_patched(struct device *dev, uint64_t key, uint64_t val, struct saved *out)
{
	struct state_writer w, w2;
	struct state_reader r;
	char why[256];
	bool ok = false;

	memset(out, 0, sizeof(*out));
	sw_init(&w);
	if (!CHECK_EQ_INT(dev->ops->save(dev, &w), 0) || !CHECK_EQ_INT(sw_finish(&w), 0) ||
	    !CHECK_EQ_INT(sr_open(&r, w.buf, w.len, why, sizeof(why)), 0)) {
		sw_free(&w);
		return false;
	}
	sw_init(&w2);
	sw_begin(&w2, dev->name, 1);
	{
		const struct state_section *s = sr_section(&r, dev->name);
		size_t pos = 0;
		const void *d;
		uint64_t k;
		uint32_t len;

		while (s && ss_next(s, &pos, &k, &d, &len)) {
			if (k == key && len == 8)
				sw_put_u64(&w2, k, val);
			else
				sw_put(&w2, k, d, len);
		}
	}
	sw_end(&w2);
	sr_close(&r);
	sw_free(&w);
	if (CHECK_EQ_INT(sw_finish(&w2), 0)) {
		out->buf = malloc(w2.len);
		if (CHECK(out->buf)) {
			memcpy(out->buf, w2.buf, w2.len);
			ok = CHECK_EQ_INT(sr_open(&out->r, out->buf, w2.len, why, sizeof(why)), 0);
			out->s = ok ? sr_section(&out->r, dev->name) : NULL;
			ok = ok && CHECK(out->s);
		}
	}
	sw_free(&w2);
	return ok;
}

static void saved_free(struct saved *sv)
{
	sr_close(&sv->r);
	free(sv->buf);
}

static void no_irq(struct device *dev, int level)
{
}

static struct device *new_uart(void)
{
	struct uart_console_opts opts = { .in_fd = -1, .out_fd = -1 };
	struct device *dev = uart_create("uart0", 0x09000000, 33, &opts);

	if (CHECK(dev))
		dev->set_irq = no_irq;
	return dev;
}

/* Restore one patched field into a fresh UART; returns restore's result. */
static int uart_try(uint64_t key, uint64_t val, char *err, unsigned int errlen)
{
	struct device *src = new_uart(), *dst = new_uart();
	struct saved sv;
	int ret = -1;

	if (src && dst && save_patched(src, key, val, &sv)) {
		ret = dst->ops->restore(dst, sv.s, err, errlen);
		saved_free(&sv);
	}
	if (src)
		src->ops->free(src);
	if (dst)
		dst->ops->free(dst);
	return ret;
}

TEST(restore_uart_fields_in_range)
{
	char err[256] = "";

	CHECK_EQ_INT(uart_try(0, 0, err, sizeof(err)), 0);
	CHECK_EQ_INT(uart_try(UART_IER, 0x0f, err, sizeof(err)), 0);
	err[0] = '\0';
	CHECK(uart_try(UART_IER, 0x10f, err, sizeof(err)) < 0);	/* would be 0x0f */
	CHECK_CONTAINS(err, "out of range");
	CHECK(uart_try(UART_IER, 0xf0, err, sizeof(err)) < 0);	/* no such bits */
	CHECK(uart_try(UART_FCR, 0x3f, err, sizeof(err)) < 0);
	CHECK(uart_try(UART_THR_IP, 2, err, sizeof(err)) < 0);
}

static int env_ioeventfd(void *ctx, uint64_t gpa, unsigned int len, uint64_t datamatch, int fd,
			 bool assign)
{
	return 0;
}

static int env_irqfd(void *ctx, unsigned int intid, int fd, int resample_fd, bool assign)
{
	return 0;
}

static void wr(struct device *dev, uint64_t off, uint32_t v)
{
	dev->ops->mmio_write(dev, off, &v, 4);
}

/* virtio-rng with its queue set up by a "driver", for a realistic section. */
static struct device *new_rng(void *ram, bool drive)
{
	struct device_env env = {
		.mem = { ram, RAM_GPA, RAM_SIZE, NULL },
		.ioeventfd = env_ioeventfd,
		.irqfd = env_irqfd,
	};
	struct device *dev = NULL;
	char msg[256];
	int err = virtio_rng_create("virtio-rng0", &(struct virtio_transport){ .base = 0x0a000000, .intid = 40 }, &env, &dev, msg,
				    sizeof(msg));

	if (!CHECK_EQ_INT(err, 0))
		return NULL;
	if (drive) {
		wr(dev, 0x070, 1 | 2);
		wr(dev, 0x024, 1);
		wr(dev, 0x020, 1);		/* VIRTIO_F_VERSION_1 */
		wr(dev, 0x070, 1 | 2 | 8);
		wr(dev, 0x030, 0);
		wr(dev, 0x038, 16);
		wr(dev, 0x080, RAM_GPA);
		wr(dev, 0x090, RAM_GPA + 0x1000);
		wr(dev, 0x0a0, RAM_GPA + 0x2000);
		wr(dev, 0x044, 1);
		wr(dev, 0x070, 1 | 2 | 8 | 4);
	}
	return dev;
}

static int rng_try(void *ram, uint64_t key, uint64_t val, char *err, unsigned int errlen)
{
	struct device *src = new_rng(ram, true), *dst = new_rng(ram, false);
	struct saved sv;
	int ret = -1;

	if (src && dst && save_patched(src, key, val, &sv)) {
		ret = dst->ops->restore(dst, sv.s, err, errlen);
		saved_free(&sv);
	}
	if (src)
		src->ops->free(src);
	if (dst)
		dst->ops->free(dst);
	return ret;
}

TEST(restore_virtio_transport_in_range)
{
	void *ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	static const struct {
		uint64_t key, val;
		const char *what;
	} bad[] = {
		{ VT_DRIVER_FEATURES, (1ULL << 32) | (1ULL << 29), "a feature not offered" },
		{ VT_STATUS, 0x10f, "status over 8 bits" },
		{ VT_ISR, 4, "ISR bit 2" },
		{ VT_ISR, 1ULL << 32 | 1, "ISR over 32 bits" },
		{ VT_BROKEN, 2, "broken 2" },
		{ VQ(0, VQ_NUM), 512, "queue size over the maximum" },
		{ VQ(0, VQ_READY), 2, "ready 2" },
		{ VQ(0, VQ_LAST_AVAIL), 0x10003, "last_avail over 16 bits" },
		{ VQ(0, VQ_USED_IDX), 1ULL << 40, "used_idx over 16 bits" },
	};
	char err[256] = "";

	if (!CHECK(ram != MAP_FAILED))
		return;
	if (!CHECK_EQ_INT(rng_try(ram, 0, 0, err, sizeof(err)), 0))
		FAIL("as saved: %s", err);
	CHECK_EQ_INT(rng_try(ram, VQ(0, VQ_LAST_AVAIL), 0xffff, err, sizeof(err)), 0);
	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (!CHECK(rng_try(ram, bad[i].key, bad[i].val, err, sizeof(err)) < 0) ||
		    !CHECK_CONTAINS(err, "out of range"))
			FAIL("for %s", bad[i].what);
	}
	munmap(ram, RAM_SIZE);
}

/*
 * A snapshot's device that offered less than this one (an earlier lvmm's
 * virtio-net had no offloads) restores, and goes on offering what it did:
 * its driver negotiated with that. One that offered more is refused.
 */
TEST(restore_virtio_device_features_of_the_snapshot)
{
	void *ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct device *src, *dst;
	struct saved sv;
	char err[256] = "";

	if (!CHECK(ram != MAP_FAILED))
		return;
	/* Offered more than this device can: refused, naming the bits. */
	CHECK(rng_try(ram, VT_DEVICE_FEATURES, 1ULL << 32 | 1ULL << 40, err, sizeof(err)) < 0);
	CHECK_CONTAINS(err, "offered features 0x10000000000 this one lacks");
	/* Offered less (before its driver set FEATURES_OK): restored as it was. */
	src = new_rng(ram, false);
	dst = new_rng(ram, false);
	if (src && dst && save_patched(src, VT_DEVICE_FEATURES, 0, &sv)) {
		CHECK_EQ_INT(dst->ops->restore(dst, sv.s, err, sizeof(err)), 0);
		CHECK_EQ_U64(virtio_of(dst)->device_features, 0);
		saved_free(&sv);
	}
	if (src)
		src->ops->free(src);
	if (dst)
		dst->ops->free(dst);
	munmap(ram, RAM_SIZE);
}
