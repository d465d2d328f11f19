// SPDX-License-Identifier: GPL-2.0
/*
 * Guest side of bench/migrate: a '.' on stdout (the console) every
 * millisecond, for tickgap in L1 to time from outside. A guest's own clock
 * cannot see a migration's pause (its counter is carried over), so the gap
 * is measured where the ticks arrive.
 *
 *   ticker [DIRTY_MIB]
 *
 * With DIRTY_MIB, a child process rewrites that much memory over and over,
 * one word per page per pass: a busy guest that keeps dirtying its RAM.
 * "TICKER-READY" is printed once the memory is all touched.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static void dirty_forever(size_t len)
{
	volatile uint64_t *mem = malloc(len);
	uint64_t pass = 0;

	if (!mem) {
		perror("ticker: malloc");
		exit(1);
	}
	for (;;) {
		for (size_t off = 0; off < len; off += 4096)
			mem[off / 8] = pass;
		pass++;
	}
}

static void add_ms(struct timespec *t, long ms)
{
	t->tv_nsec += ms * 1000000L;
	while (t->tv_nsec >= 1000000000L) {
		t->tv_nsec -= 1000000000L;
		t->tv_sec++;
	}
}

int main(int argc, char **argv)
{
	size_t dirty_mib = argc > 1 ? strtoul(argv[1], NULL, 0) : 0;
	struct timespec next, now;

	if (dirty_mib) {
		pid_t pid = fork();

		if (pid == 0)
			dirty_forever(dirty_mib << 20);
		if (pid < 0) {
			perror("ticker: fork");
			return 1;
		}
		/* Let the first pass touch every page before the ticks start. */
		sleep(2);
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	printf("TICKER-READY dirty_mib=%zu\n", dirty_mib);
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (;;) {
		add_ms(&next, 1);
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
		if (write(1, ".", 1) != 1)
			return 1;
		/* Far behind (a slow moment): no burst of catch-up ticks. */
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > next.tv_sec + 1)
			next = now;
	}
}
