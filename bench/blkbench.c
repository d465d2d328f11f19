// SPDX-License-Identifier: GPL-2.0
/*
 * A tiny block benchmark, built static for arm64 and run both in the guest
 * (on /dev/vda) and in the L1 host (on the image file), so the two figures
 * come from the same code.
 *
 *   blkbench PATH seqread|seqwrite SIZE_MIB
 *   blkbench PATH randread SIZE_MIB SECONDS [QD]
 *   blkbench PATH lat COUNT
 *
 * Prints "RESULT <mode> <value> <MB/s|IOPS|us>". randread with QD > 1 forks
 * QD processes doing synchronous O_DIRECT reads: busybox guests have no
 * libaio, and QD blocked readers keep QD requests in the virtqueue just as
 * io_submit would (at the cost of a context switch per request). lat times
 * COUNT O_DIRECT 512-byte reads one at a time and prints the median: each is
 * notify -> device -> used-buffer interrupt -> wakeup.
 *
 * Each figure comes with the guest's own view of it, the same for any VMM:
 * "RESULT <mode>busy" (how busy the guest's CPUs were, from /proc/stat:
 * near 100 % means the guest, not the device, bounds the figure) and
 * "RESULT <mode>irq" (virtio interrupts per MiB or per request, from
 * /proc/interrupts).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (1 << 20)
#define BLOCK 4096

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* CPU jiffies busy and in all, and virtio interrupts taken, so far. */
struct profile {
	unsigned long long busy, total, irqs;
};

static void profile_take(struct profile *p)
{
	unsigned long long v[8] = { 0 };
	char line[4096];
	FILE *f;

	memset(p, 0, sizeof(*p));
	f = fopen("/proc/stat", "r");
	/* cpu user nice system idle iowait irq softirq steal */
	if (f && fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
			&v[3], &v[4], &v[5], &v[6], &v[7]) == 8) {
		p->busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
		p->total = p->busy + v[3] + v[4];
	}
	if (f)
		fclose(f);
	f = fopen("/proc/interrupts", "r");
	while (f && fgets(line, sizeof(line), f)) {
		char *s = strchr(line, ':'), *end;

		if (!s || !strstr(line, "virtio"))
			continue;
		/* "NN:" then a count per CPU, then the chip's name. */
		for (unsigned long long n = strtoull(++s, &end, 10); end != s; n = strtoull(s, &end, 10)) {
			p->irqs += n;
			s = end;
		}
	}
	if (f)
		fclose(f);
}

static void profile_print(const char *mode, const struct profile *a, double ops)
{
	struct profile b;

	profile_take(&b);
	if (b.total > a->total)
		printf("RESULT %sbusy %.1f %%\n", mode, 100.0 * (b.busy - a->busy) / (b.total - a->total));
	if (ops > 0)
		printf("RESULT %sirq %.3f per-op\n", mode, (b.irqs - a->irqs) / ops);
}

static int die(const char *what)
{
	perror(what);
	return 1;
}

int main(int argc, char **argv)
{
	long size, secs = 0;
	void *buf;
	struct profile prof;
	double t0, t;
	int fd;

	if (argc < 4)
		return fprintf(stderr, "usage: blkbench PATH seqread|seqwrite|randread|lat SIZE_MIB|COUNT [SECONDS [QD]]\n"), 2;
	size = atol(argv[3]) * CHUNK;
	if (argc > 4)
		secs = atol(argv[4]);
	if (posix_memalign(&buf, BLOCK, CHUNK))
		return die("posix_memalign");
	memset(buf, 0x5a, CHUNK);

	profile_take(&prof);
	if (!strcmp(argv[2], "seqread")) {
		fd = open(argv[1], O_RDONLY);
		if (fd < 0)
			return die(argv[1]);
		t0 = now();
		for (long off = 0; off < size; off += CHUNK)
			if (pread(fd, buf, CHUNK, off) != CHUNK)
				return die("read");
		t = now() - t0;
		printf("RESULT seqread %.1f MB/s\n", size / t / 1e6);
		profile_print("seqread", &prof, size / CHUNK);
	} else if (!strcmp(argv[2], "seqwrite")) {
		fd = open(argv[1], O_WRONLY);
		if (fd < 0)
			return die(argv[1]);
		t0 = now();
		for (long off = 0; off < size; off += CHUNK)
			if (pwrite(fd, buf, CHUNK, off) != CHUNK)
				return die("write");
		if (fdatasync(fd))
			return die("fdatasync");
		t = now() - t0;
		printf("RESULT seqwrite %.1f MB/s\n", size / t / 1e6);
		profile_print("seqwrite", &prof, size / CHUNK);
	} else if (!strcmp(argv[2], "randread")) {
		long blocks = size / BLOCK, n = 0, total = 0;
		int qd = argc > 5 ? atoi(argv[5]) : 1, p[2];
		char mode[32];

		if (qd < 1 || pipe(p))
			return die("randread");
		snprintf(mode, sizeof(mode), "randread%s", qd > 1 ? argv[5] : "");
		t0 = now();
		for (int c = 0; c < qd; c++) {
			pid_t pid = fork();

			if (pid < 0)
				return die("fork");
			if (pid)
				continue;
			uint64_t x = 88172645463325252ULL + 7919 * c;

			fd = open(argv[1], O_RDONLY | O_DIRECT);
			if (fd < 0)
				return die(argv[1]);
			do {
				for (int i = 0; i < 64; i++, n++) {
					x ^= x << 13, x ^= x >> 7, x ^= x << 17;
					if (pread(fd, buf, BLOCK, (long)(x % blocks) * BLOCK) != BLOCK)
						return die("read");
				}
			} while (now() - t0 < secs);
			if (write(p[1], &n, sizeof(n)) != sizeof(n))
				return die("pipe");
			_exit(0);
		}
		close(p[1]);
		while (read(p[0], &n, sizeof(n)) == sizeof(n))
			total += n;
		while (wait(NULL) > 0)
			;
		t = now() - t0;
		printf("RESULT %s %.0f IOPS\n", mode, total / t);
		profile_print(mode, &prof, total);
	} else if (!strcmp(argv[2], "lat")) {
		long count = atol(argv[3]);
		double *v = calloc(count, sizeof(*v));

		fd = open(argv[1], O_RDONLY | O_DIRECT);
		if (fd < 0 || !v)
			return die(argv[1]);
		for (long i = 0; i < count; i++) {
			t0 = now();
			if (pread(fd, buf, 512, (i % 1024) * 4096) != 512)
				return die("read");
			v[i] = (now() - t0) * 1e6;
		}
		for (long i = 1; i < count; i++)
			for (long j = i; j > 0 && v[j - 1] > v[j]; j--)
				t = v[j], v[j] = v[j - 1], v[j - 1] = t;
		printf("RESULT lat %.1f us\n", v[count / 2]);
		profile_print("lat", &prof, count);
	} else {
		return fprintf(stderr, "blkbench: unknown mode %s\n", argv[2]), 2;
	}
	return 0;
}
