// SPDX-License-Identifier: GPL-2.0
/*
 * A snapshot's "vm" section made into a VM configuration
 * (migration/restore_config.c). The snapshot directory handed to
 * `lvmm restore` is untrusted: every count, index, length and name in it
 * must be checked before it sizes, indexes or names anything. Each test
 * writes a state file the way put_config (snapshot.c) does, changes one
 * thing, and parses it into a heap snapshot_image of exactly its size (so
 * ASan sees a write past it) whose clock fields must come out untouched.
 */
#include "test.h"
#include "../../migration/snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NO_ENTRY ((uint32_t)-1)

/* What goes into the vm section; strings with explicit lengths may hold NULs. */
struct vmspec {
	uint64_t mem, cpus, irqchip, console, nr_irqs, cntfrq, counter, realtime, rng;
	const char *name;
	uint32_t name_len;		/* NO_ENTRY: no name entry at all */
	uint64_t nr_disks;
	char path[16][PATH_MAX + 8];
	uint32_t path_len[16];		/* 0: strlen */
	const char *serial[16];		/* NULL: none */
	uint32_t serial_len[16];
	uint64_t ro[16];
	uint64_t queues[16];		/* 0: no entry (a snapshot from before multiqueue) */
	uint64_t nr_nets;
	const char *tapif[8];
	uint8_t mac[8][6];
	uint32_t mac_len[8];
	uint64_t vhost[8];		/* 0: no entry (a snapshot from before vhost=1) */
	unsigned int vcpu_sections;	/* vcpu.0 .. vcpu.N-1 */
	int extra_vcpu;			/* >= 0: also this vcpu.N */
};

static char disk_dir[64];

/* Real files for the disks (restore checks their sizes). */
static void make_disks(struct vmspec *s, unsigned int n)
{
	if (!disk_dir[0]) {
		snprintf(disk_dir, sizeof(disk_dir), "/tmp/lvmm-test-restore-XXXXXX");
		if (!CHECK(mkdtemp(disk_dir)))
			return;
	}
	for (unsigned int i = 0; i < n && i < 16; i++) {
		int fd;

		snprintf(s->path[i], sizeof(s->path[i]), "%s/disk%u.img", disk_dir, i);
		fd = open(s->path[i], O_RDWR | O_CREAT, 0600);
		if (CHECK(fd >= 0)) {
			CHECK_EQ_INT(ftruncate(fd, 4096 * (i + 1)), 0);
			close(fd);
		}
	}
}

static void remove_disks(void)
{
	char p[128];

	for (unsigned int i = 0; i < 16; i++) {
		snprintf(p, sizeof(p), "%s/disk%u.img", disk_dir, i);
		unlink(p);
	}
	rmdir(disk_dir);
	disk_dir[0] = '\0';
}

static void spec_default(struct vmspec *s)
{
	memset(s, 0, sizeof(*s));
	s->mem = 256ULL << 20;
	s->cpus = 2;
	s->irqchip = IRQCHIP_GICV3;
	s->console = CONSOLE_SERIAL;
	s->nr_irqs = 256;
	s->cntfrq = 62500000;
	s->counter = 0x123456789abcULL;
	s->realtime = 1700000000123456789ULL;
	s->name = "snapvm";
	s->vcpu_sections = 2;
	s->extra_vcpu = -1;
	make_disks(s, 16);
}

/* vmspec.queues, vmspec.vhost: an entry that says 0. */
#define ZERO_ENTRY UINT64_MAX

static uint32_t len_or_strlen(const char *p, uint32_t len)
{
	return len ? len : (uint32_t)strlen(p);
}

static uint8_t *build(const struct vmspec *s, size_t *len)
{
	struct state_writer w;
	uint8_t *copy = NULL;

	sw_init(&w);
	sw_begin(&w, "vm", 1);
	sw_put_u64(&w, VM_KEY_MEM, s->mem);
	sw_put_u64(&w, VM_KEY_CPUS, s->cpus);
	sw_put_u64(&w, VM_KEY_IRQCHIP, s->irqchip);
	sw_put_u64(&w, VM_KEY_CONSOLE, s->console);
	sw_put_u64(&w, VM_KEY_NR_IRQS, s->nr_irqs);
	sw_put_u64(&w, VM_KEY_CNTFRQ, s->cntfrq);
	sw_put_u64(&w, VM_KEY_GUEST_COUNTER, s->counter);
	sw_put_u64(&w, VM_KEY_REALTIME_NS, s->realtime);
	if (s->name_len != NO_ENTRY)
		sw_put(&w, VM_KEY_NAME, s->name, len_or_strlen(s->name, s->name_len));
	sw_put_u64(&w, VM_KEY_NR_DISKS, s->nr_disks);
	for (unsigned int i = 0; i < s->nr_disks && i < 16; i++) {
		sw_put(&w, VM_KEY_DISK(i, 0), s->path[i], len_or_strlen(s->path[i], s->path_len[i]));
		sw_put_u64(&w, VM_KEY_DISK(i, 1), s->ro[i]);
		if (s->serial[i])
			sw_put(&w, VM_KEY_DISK(i, 2), s->serial[i],
			       len_or_strlen(s->serial[i], s->serial_len[i]));
		sw_put_u64(&w, VM_KEY_DISK(i, 3), 4096 * (i + 1));
		if (s->queues[i])
			sw_put_u64(&w, VM_KEY_DISK(i, 4), s->queues[i] == ZERO_ENTRY ? 0 : s->queues[i]);
	}
	sw_put_u64(&w, VM_KEY_NR_NETS, s->nr_nets);
	for (unsigned int i = 0; i < s->nr_nets && i < 8; i++) {
		sw_put_str(&w, VM_KEY_NET(i, 0), s->tapif[i] ? s->tapif[i] : "tap0");
		sw_put(&w, VM_KEY_NET(i, 1), s->mac[i], s->mac_len[i] ? s->mac_len[i] : 6);
		if (s->vhost[i])
			sw_put_u64(&w, VM_KEY_NET(i, 2), s->vhost[i] == ZERO_ENTRY ? 0 : s->vhost[i]);
	}
	sw_put_u64(&w, VM_KEY_RNG, s->rng);
	sw_end(&w);
	for (unsigned int i = 0; i < s->vcpu_sections; i++) {
		char name[16];

		snprintf(name, sizeof(name), "vcpu.%u", i);
		sw_begin(&w, name, 1);
		sw_put_u64(&w, 2, 0);	/* kvm/vcpu.c's features and MP state */
		sw_put_u64(&w, 1, 0);
		sw_end(&w);
	}
	if (s->extra_vcpu >= 0) {
		char name[16];

		snprintf(name, sizeof(name), "vcpu.%d", s->extra_vcpu);
		sw_begin(&w, name, 1);
		sw_put_u64(&w, 2, 0);
		sw_put_u64(&w, 1, 0);
		sw_end(&w);
	}
	if (CHECK_EQ_INT(sw_finish(&w), 0)) {
		copy = malloc(w.len);
		if (CHECK(copy)) {
			memcpy(copy, w.buf, w.len);
			*len = w.len;
		}
	}
	sw_free(&w);
	return copy;
}

/*
 * Parse s; returns snapshot_parse_config's result with the image in *out
 * (to free) and its message in err. The clock fields, which sit after the
 * configuration's storage in the image, must come out as written whenever
 * the parse succeeds.
 */
static int parse(const struct vmspec *s, struct snapshot_image **out, char *err, size_t errlen)
{
	struct snapshot_image *img = calloc(1, sizeof(*img));
	char why[256];
	size_t len = 0;
	uint8_t *buf = build(s, &len);
	int ret;

	*out = img;
	err[0] = '\0';
	if (!CHECK(img) || !buf) {
		free(buf);
		return -ENOMEM;
	}
	img->mem_fd = -1;
	img->state_buf = buf;
	img->state_len = len;
	if (!CHECK_EQ_INT(sr_open(&img->reader, buf, len, why, sizeof(why)), 0))
		return -EINVAL;
	ret = snapshot_parse_config(img, err, errlen);
	if (ret == 0) {
		CHECK_EQ_U64(img->cntfrq, s->cntfrq);
		CHECK_EQ_U64(img->guest_counter, s->counter);
		CHECK_EQ_U64(img->realtime_ns, s->realtime);
		CHECK_EQ_U64(img->nr_irqs, s->nr_irqs);
	}
	return ret;
}

static void put_image(struct snapshot_image *img)
{
	if (!img)
		return;
	sr_close(&img->reader);
	free(img->state_buf);
	free(img);
}

/* Parse, expect a refusal whose message contains `text`. */
static void expect_refused(const struct vmspec *s, const char *text, const char *what)
{
	struct snapshot_image *img;
	char err[512];
	unsigned int before = test_failure_count();
	int ret = parse(s, &img, err, sizeof(err));

	CHECK(ret < 0);
	CHECK_CONTAINS(err, text);
	if (test_failure_count() != before)
		FAIL("for case: %s (ret %d, message '%s')", what, ret, err);
	put_image(img);
}

TEST(restore_config_round_trip)
{
	struct snapshot_image *img;
	struct vmspec s;
	char err[512];

	spec_default(&s);
	s.nr_disks = 3;
	s.serial[1] = "disk-one";
	s.ro[2] = 1;
	s.nr_nets = 2;
	s.tapif[0] = "tap-a";
	s.tapif[1] = "tap-b";
	memcpy(s.mac[1], "\x02\x11\x22\x33\x44\x55", 6);
	s.rng = 1;
	s.console = CONSOLE_VIRTIO;
	s.queues[1] = 2;
	s.vhost[1] = 1;
	if (CHECK_EQ_INT(parse(&s, &img, err, sizeof(err)), 0)) {
		const struct vm_config *c = &img->cfg;

		CHECK_EQ_U64(c->mem_bytes, 256ULL << 20);
		CHECK_EQ_U64(c->nr_cpus, 2);
		CHECK_EQ_U64(c->irqchip, IRQCHIP_GICV3);
		CHECK_EQ_U64(c->console, CONSOLE_VIRTIO);
		CHECK_STR(c->name, "snapvm");
		CHECK_EQ_U64(c->nr_disks, 3);
		CHECK_STR(c->disks[0].path, s.path[0]);
		CHECK_STR(c->disks[0].serial, NULL);
		CHECK_STR(c->disks[1].serial, "disk-one");
		CHECK(!c->disks[1].readonly);
		CHECK(c->disks[2].readonly);
		CHECK_STR(c->disks[2].path, s.path[2]);
		/* Without an entry: one queue, as every disk had before multiqueue. */
		CHECK_EQ_U64(c->disks[0].queues, 1);
		CHECK_EQ_U64(c->disks[1].queues, 2);
		CHECK_EQ_U64(c->nr_nets, 2);
		CHECK_STR(c->nets[0].tapif, "tap-a");
		CHECK_STR(c->nets[1].tapif, "tap-b");
		CHECK(!memcmp(c->nets[1].mac, "\x02\x11\x22\x33\x44\x55", 6));
		/* Without an entry: lvmm serves the rings, as before vhost=1. */
		CHECK(!c->nets[0].vhost);
		CHECK(c->nets[1].vhost);
		CHECK(c->rng);
	} else {
		FAIL("refused: %s", err);
	}
	put_image(img);
	remove_disks();
}

/*
 * Issue 8, bug 2: every disk may carry a serial, so 8 disks need 16
 * strings; the image had room for 12, and the 13th on overwrote the
 * counter frequency and the guest's counter (then ran off the image).
 */
TEST(restore_config_eight_disks_with_serials)
{
	static const unsigned int shapes[][2] = { { 8, 8 }, { 7, 6 } };

	for (unsigned int k = 0; k < 2; k++) {
		struct snapshot_image *img;
		unsigned int before = test_failure_count();
		char serials[8][24], err[512];
		struct vmspec s;

		spec_default(&s);
		s.nr_disks = shapes[k][0];
		for (unsigned int i = 0; i < shapes[k][1]; i++) {
			/* The longest serial there is: 20 characters. */
			snprintf(serials[i], sizeof(serials[i]), "serial-%u-abcdefghijk", i);
			s.serial[i] = serials[i];
		}
		s.nr_nets = 4;
		if (CHECK_EQ_INT(parse(&s, &img, err, sizeof(err)), 0)) {
			CHECK_EQ_U64(img->cfg.nr_disks, shapes[k][0]);
			for (unsigned int i = 0; i < shapes[k][0]; i++) {
				CHECK_STR(img->cfg.disks[i].path, s.path[i]);
				CHECK_STR(img->cfg.disks[i].serial, i < shapes[k][1] ? serials[i] : NULL);
			}
		} else {
			FAIL("refused: %s", err);
		}
		if (test_failure_count() != before)
			FAIL("for %u disks with %u serials", shapes[k][0], shapes[k][1]);
		put_image(img);
	}
	remove_disks();
}

/* More devices than lvmm has room for: refused by name, nothing indexed. */
TEST(restore_config_too_many_devices)
{
	struct vmspec s;

	spec_default(&s);
	s.nr_disks = LVMM_MAX_DISKS + 1;
	expect_refused(&s, "the snapshot has 9 disks, this lvmm supports at most 8", "9 disks");
	s.nr_disks = 1ULL << 32;	/* no truncation to 0 */
	expect_refused(&s, "disks, this lvmm supports at most 8", "2^32 disks");
	spec_default(&s);
	s.nr_nets = LVMM_MAX_NETS + 1;
	expect_refused(&s, "the snapshot has 5 network devices, this lvmm supports at most 4",
		       "5 nets");
	remove_disks();
}

/*
 * Issue 8, bug 4: the name names the control socket in the runtime
 * directory. "../x" put it (and its unlink of a "stale" one) outside.
 * The saved name gets exactly --name's checks.
 */
TEST(restore_config_name_checked_like_option)
{
	static const char *const bad[] = {
		"../x", "..", ".", "a/b", "/etc/passwd", ".hidden", "-x", "a b", "x\n", "é",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", /* 65 */
	};
	struct snapshot_image *img;
	struct vmspec s;
	char err[512];

	spec_default(&s);
	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		s.name = bad[i];
		expect_refused(&s, "the snapshot's VM name", bad[i]);
	}
	s.name = "ok\0../x";	/* a NUL inside: not silently cut to "ok" */
	s.name_len = 7;
	expect_refused(&s, "the snapshot's VM name", "embedded NUL");

	/* Valid names (64 characters is the limit), and none at all. */
	s.name_len = 0;
	s.name = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
	if (CHECK_EQ_INT(parse(&s, &img, err, sizeof(err)), 0))
		CHECK_STR(img->cfg.name, s.name);
	put_image(img);
	s.name = "vm-1.a_B";
	if (CHECK_EQ_INT(parse(&s, &img, err, sizeof(err)), 0))
		CHECK_STR(img->cfg.name, "vm-1.a_B");
	put_image(img);
	s.name_len = NO_ENTRY;
	if (CHECK_EQ_INT(parse(&s, &img, err, sizeof(err)), 0))
		CHECK_STR(img->cfg.name, "");	/* the command line's default then */
	put_image(img);
	remove_disks();
}

TEST(restore_config_values_out_of_range)
{
	struct vmspec s;

	spec_default(&s);
	s.mem = 0;
	expect_refused(&s, "out of range", "mem 0");
	s.mem = (256ULL << 20) + 4096;
	expect_refused(&s, "out of range", "mem not MiB");
	s.mem = 2ULL << 40;
	expect_refused(&s, "out of range", "mem 2 TiB");
	spec_default(&s);
	s.cpus = 0;
	expect_refused(&s, "out of range", "0 cpus");
	s.cpus = LVMM_MAX_CPUS + 1;
	expect_refused(&s, "out of range", "513 cpus");
	s.cpus = (1ULL << 32) + 1;	/* would truncate to 1 */
	expect_refused(&s, "out of range", "2^32+1 cpus");
	spec_default(&s);
	s.irqchip = IRQCHIP_AUTO;
	expect_refused(&s, "out of range", "irqchip auto");
	s.irqchip = IRQCHIP_GICV3_ITS + 1;
	expect_refused(&s, "out of range", "irqchip 4");
	s.irqchip = (1ULL << 32) + IRQCHIP_GICV3;
	expect_refused(&s, "out of range", "irqchip truncating");
	spec_default(&s);
	s.console = 2;
	expect_refused(&s, "out of range", "console 2");
	spec_default(&s);
	s.cntfrq = 0;
	expect_refused(&s, "out of range", "cntfrq 0");
	spec_default(&s);
	s.nr_irqs = 1ULL << 32;
	expect_refused(&s, "out of range", "nr_irqs 2^32");
	spec_default(&s);
	s.rng = 2;
	expect_refused(&s, "out of range", "rng 2");
	spec_default(&s);
	s.nr_disks = 1;
	s.ro[0] = 2;
	expect_refused(&s, "disk 0", "ro 2");
	spec_default(&s);
	s.nr_disks = 2;
	s.queues[1] = ZERO_ENTRY;
	expect_refused(&s, "disk 1 has 0 queues", "0 queues");
	s.queues[1] = LVMM_MAX_DISK_QUEUES + 1;
	expect_refused(&s, "disk 1 has 9 queues", "9 queues");
	remove_disks();
}

TEST(restore_config_bad_strings)
{
	char longpath[PATH_MAX + 8];
	struct vmspec s;

	spec_default(&s);
	s.nr_disks = 2;
	s.path_len[1] = 1;
	s.path[1][0] = '\0';	/* an empty path */
	expect_refused(&s, "disk 1", "empty path");
	spec_default(&s);
	s.nr_disks = 1;
	s.path_len[0] = strlen(s.path[0]) + 4;	/* "...img\0xyz": a NUL inside */
	memcpy(s.path[0] + strlen(s.path[0]) + 1, "xyz", 3);
	expect_refused(&s, "disk 0", "NUL in path");
	spec_default(&s);
	s.nr_disks = 1;
	memset(longpath, 'a', sizeof(longpath));
	longpath[0] = '/';
	memcpy(s.path[0], longpath, PATH_MAX);
	s.path_len[0] = PATH_MAX;	/* no room for the NUL */
	expect_refused(&s, "disk 0", "path of PATH_MAX");
	spec_default(&s);
	s.nr_disks = 1;
	s.serial[0] = "abcdefghijklmnopqrstu";	/* 21: over virtio-blk's 20 */
	expect_refused(&s, "disk 0", "serial 21");
	s.serial[0] = "";
	s.serial_len[0] = 0;
	expect_refused(&s, "disk 0", "empty serial");
	s.serial[0] = "ab\0cd";
	s.serial_len[0] = 5;
	expect_refused(&s, "disk 0", "NUL in serial");

	spec_default(&s);
	s.nr_nets = 1;
	s.tapif[0] = "";
	expect_refused(&s, "network 0", "empty tapif");
	s.tapif[0] = "0123456789abcdef";	/* 16: over IFNAMSIZ - 1 */
	expect_refused(&s, "network 0", "tapif 16");
	s.tapif[0] = "tap/../x";
	expect_refused(&s, "network 0", "tapif with /");
	s.tapif[0] = "tap0";
	s.mac_len[0] = 5;
	expect_refused(&s, "network 0", "mac of 5 bytes");
	s.mac_len[0] = 0;
	s.vhost[0] = 2;
	expect_refused(&s, "network 0 has a bad vhost flag (2)", "vhost 2");
	{
		struct snapshot_image *img;
		char err[512];

		s.vhost[0] = ZERO_ENTRY;	/* an entry of 0 */
		if (CHECK_EQ_INT(parse(&s, &img, err, sizeof(err)), 0))
			CHECK(!img->cfg.nets[0].vhost);
		put_image(img);
	}
	s.vhost[0] = 0;
	s.mac[0][0] = 0x01;	/* multicast */
	expect_refused(&s, "network 0", "multicast mac");
	remove_disks();
}

/* Every vCPU has its section, and there is none for a vCPU not there. */
TEST(restore_config_vcpu_sections)
{
	struct vmspec s;

	spec_default(&s);
	s.vcpu_sections = 1;
	expect_refused(&s, "no state for vCPU 1", "missing vcpu.1");
	spec_default(&s);
	s.extra_vcpu = 2;
	expect_refused(&s, "state for vCPU 2", "extra vcpu.2");
	spec_default(&s);
	s.extra_vcpu = 7;
	expect_refused(&s, "state for vCPU 7", "extra vcpu.7");
	remove_disks();
}

/* A field of the wrong size is as good as missing. */
TEST(restore_config_missing_fields)
{
	struct snapshot_image *img = calloc(1, sizeof(*img));
	struct state_writer w;
	char err[512], why[256];

	if (!CHECK(img))
		return;
	sw_init(&w);
	sw_begin(&w, "vm", 1);
	sw_put_u64(&w, VM_KEY_MEM, 256ULL << 20);
	sw_put(&w, VM_KEY_CPUS, "\1\0\0\0", 4);
	sw_end(&w);
	if (CHECK_EQ_INT(sw_finish(&w), 0) &&
	    CHECK_EQ_INT(sr_open(&img->reader, w.buf, w.len, why, sizeof(why)), 0)) {
		CHECK(snapshot_parse_config(img, err, sizeof(err)) < 0);
		CHECK_CONTAINS(err, "lacks field");
		sr_close(&img->reader);
	}
	sw_free(&w);
	free(img);
}

/* A snapshot directory from s: state as built, memory of s->mem bytes. */
static bool make_snapshot_dir(const struct vmspec *s, char *dir, size_t size)
{
	char path[128];
	size_t len = 0;
	uint8_t *buf = build(s, &len);
	FILE *f;
	bool ok;

	snprintf(dir, size, "/tmp/lvmm-test-snap-XXXXXX");
	if (!buf || !CHECK(mkdtemp(dir))) {
		free(buf);
		return false;
	}
	snprintf(path, sizeof(path), "%s/state", dir);
	f = fopen(path, "wb");
	ok = CHECK(f) && CHECK_EQ_U64(fwrite(buf, 1, len, f), len);
	if (f)
		fclose(f);
	free(buf);
	snprintf(path, sizeof(path), "%s/memory", dir);
	f = ok ? fopen(path, "wb") : NULL;
	ok = ok && CHECK(f) && CHECK_EQ_INT(ftruncate(fileno(f), s->mem), 0);
	if (f)
		fclose(f);
	return ok;
}

static void remove_snapshot_dir(const char *dir)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/state", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/memory", dir);
	unlink(path);
	rmdir(dir);
}

/* Replace DIR/NAME (or a path) with a FIFO nobody writes to. */
static void make_fifo(const char *path)
{
	unlink(path);
	CHECK_EQ_INT(mkfifo(path, 0600), 0);
}

/*
 * snapshot_open on whole directories. A FIFO where a file should be made
 * restore block forever in open() (state, memory, or a disk named by the
 * state): each is refused at once as not a regular file.
 */
TEST(restore_open_refuses_special_files)
{
	struct snapshot_image *img = calloc(1, sizeof(*img));
	char dir[64], path[128], err[512];
	struct vmspec s;

	if (!CHECK(img))
		return;
	spec_default(&s);
	s.nr_disks = 2;
	if (make_snapshot_dir(&s, dir, sizeof(dir))) {
		if (!CHECK_EQ_INT(snapshot_open(dir, img, err, sizeof(err)), 0))
			FAIL("good snapshot refused: %s", err);
		else
			snapshot_close(img);

		snprintf(path, sizeof(path), "%s/memory", dir);
		make_fifo(path);
		err[0] = '\0';
		CHECK(snapshot_open(dir, img, err, sizeof(err)) < 0);
		CHECK_CONTAINS(err, "not a regular file");
		unlink(path);

		make_fifo(s.path[1]);
		err[0] = '\0';
		CHECK(snapshot_open(dir, img, err, sizeof(err)) < 0);
		CHECK_CONTAINS(err, "not a regular file or block device");
		unlink(s.path[1]);

		snprintf(path, sizeof(path), "%s/state", dir);
		make_fifo(path);
		err[0] = '\0';
		CHECK(snapshot_open(dir, img, err, sizeof(err)) < 0);
		CHECK_CONTAINS(err, "not a regular file");
		remove_snapshot_dir(dir);
	}
	free(img);
	remove_disks();
}
