// SPDX-License-Identifier: GPL-2.0
/*
 * L1 side of bench/migrate: reads a VM's console on stdin, copies all but
 * the ticker's '.' to stdout, and times the ticks on L1's monotonic clock
 * (shared by the source's and the destination's tickgap):
 *
 *   lvmm run ... | tickgap SUMMARY >console.out
 *
 * SIGUSR1 marks the start of the migration: the largest gap before it (how
 * regular the ticks are anyway) and the one after are told apart. At the
 * end of its input tickgap writes to SUMMARY:
 *
 *   ticks=N first_us=T last_us=T gap_before_us=G gap_after_us=G mark_us=T
 *
 * (mark_us: the first input after SIGUSR1, within a tick of it.)
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t marked;

static void on_usr1(int sig)
{
	(void)sig;
	marked = 1;
}

static int64_t now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000LL + t.tv_nsec / 1000;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	int64_t first = 0, last = 0, gap[2] = { 0, 0 }, ticks = 0, mark = 0;
	char buf[4096], out[4096];
	FILE *f;

	if (argc != 2) {
		fprintf(stderr, "usage: tickgap SUMMARY-FILE\n");
		return 2;
	}
	sigaction(SIGUSR1, &sa, NULL);
	for (;;) {
		ssize_t n = read(0, buf, sizeof(buf));
		size_t o = 0;
		int64_t t = now_us();

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (marked && !mark)
			mark = t;
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] != '.') {
				out[o++] = buf[i];
				continue;
			}
			if (ticks && t - last > gap[marked])
				gap[marked] = t - last;
			if (!ticks)
				first = t;
			last = t;
			ticks++;
		}
		if (o && write(1, out, o) < 0)
			return 1;
	}
	f = fopen(argv[1], "w");
	if (!f)
		return 1;
	fprintf(f, "ticks=%lld first_us=%lld last_us=%lld gap_before_us=%lld gap_after_us=%lld mark_us=%lld\n",
		(long long)ticks, (long long)first, (long long)last, (long long)gap[0],
		(long long)gap[1], (long long)mark);
	return fclose(f) ? 1 : 0;
}
