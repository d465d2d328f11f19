// SPDX-License-Identifier: GPL-2.0
/*
 * When pre-copy pauses the guest (migration/precopy.c), with the figures
 * bench/migrate's busy 1 GiB guest showed on the emulated host: round 0
 * left ~50 MB dirty, the link took ~250 MB/s, the guest dirtied ~40 MB/s.
 */
#include "test.h"
#include "../../migration/precopy.h"

#define MB 1000000ULL

static bool done(uint64_t dirty, uint64_t rate, uint64_t dirty_rate, uint64_t fixed_ms,
		 unsigned int downtime_ms)
{
	return precopy_done(&(struct precopy_round){ .dirty = dirty, .rate = rate,
		.dirty_rate = dirty_rate, .fixed_ms = fixed_ms, .downtime_ms = downtime_ms });
}

TEST(precopy_another_round_when_it_pays)
{
	/* 200 ms would fit 300, but a round of 200 ms leaves only ~8 MB. */
	CHECK(!done(50 * MB, 250 * MB, 40 * MB, 15, 300));
	/* After it: 6 MB go in 24 ms, a tenth of the downtime or less. */
	CHECK(done(6 * MB, 250 * MB, 40 * MB, 15, 300));
	/* A guest that dirties as fast as half the link: rounds gain nothing. */
	CHECK(done(50 * MB, 250 * MB, 200 * MB, 15, 300));
}

TEST(precopy_waits_until_it_fits)
{
	/* 400 ms of pages do not fit 300 ms. */
	CHECK(!done(100 * MB, 250 * MB, 200 * MB, 0, 300));
	/* 260 ms would, but not with the pause's own 50 ms. */
	CHECK(!done(65 * MB, 250 * MB, 250 * MB, 50, 300));
	CHECK(done(65 * MB, 250 * MB, 250 * MB, 40, 300));
	/* A slow handshake counts for half the downtime at most. */
	CHECK(done(1 * MB, 250 * MB, 0, 1000, 300));
	CHECK(!done(40 * MB, 250 * MB, 250 * MB, 1000, 300));
}

TEST(precopy_edges)
{
	CHECK(done(0, 250 * MB, 0, 0, 300));
	CHECK(done(0, 250 * MB, 0, 0, 0));
	/* --downtime 0: only when nothing is left to send. */
	CHECK(!done(1 * MB, 250 * MB, 0, 0, 0));
	/* No rate measured yet (a link of 1 byte/s): nothing but 0 fits. */
	CHECK(!done(4096, 0, 0, 0, 300));
}
