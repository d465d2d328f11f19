// SPDX-License-Identifier: GPL-2.0
/*
 * A tiny block benchmark, built static for arm64 and run both in the guest
 * (on /dev/vda) and in the L1 host (on the image file), so the two figures
 * come from the same code.
 *
 *   blkbench PATH seqread|seqwrite SIZE_MIB
 *   blkbench PATH randread SIZE_MIB SECONDS
 *
 * Prints "RESULT <mode> <value> <MB/s|IOPS>".
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

static int die(const char *what)
{
	perror(what);
	return 1;
}

int main(int argc, char **argv)
{
	long size, secs = 0;
	void *buf;
	double t0, t;
	int fd;

	if (argc < 4)
		return fprintf(stderr, "usage: blkbench PATH seqread|seqwrite|randread SIZE_MIB [SECONDS]\n"), 2;
	size = atol(argv[3]) * CHUNK;
	if (argc > 4)
		secs = atol(argv[4]);
	if (posix_memalign(&buf, BLOCK, CHUNK))
		return die("posix_memalign");
	memset(buf, 0x5a, CHUNK);

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
	} else if (!strcmp(argv[2], "randread")) {
		long blocks = size / BLOCK, n = 0;
		uint64_t x = 88172645463325252ULL;

		fd = open(argv[1], O_RDONLY | O_DIRECT);
		if (fd < 0)
			return die(argv[1]);
		t0 = now();
		do {
			for (int i = 0; i < 64; i++, n++) {
				x ^= x << 13, x ^= x >> 7, x ^= x << 17;
				if (pread(fd, buf, BLOCK, (long)(x % blocks) * BLOCK) != BLOCK)
					return die("read");
			}
			t = now() - t0;
		} while (t < secs);
		printf("RESULT randread %.0f IOPS\n", n / t);
	} else {
		return fprintf(stderr, "blkbench: unknown mode %s\n", argv[2]), 2;
	}
	return 0;
}
