// SPDX-License-Identifier: GPL-2.0
/* When pre-copy pauses the guest: see precopy.h. */
#include "precopy.h"
#include "../util.h"

bool precopy_done(const struct precopy_round *r)
{
	uint64_t rate = r->rate ?: 1;
	uint64_t send_ms = r->dirty * 1000 / rate;
	/* What the guest would dirty while one more round goes. */
	uint64_t next = r->dirty_rate * send_ms / 1000;
	uint64_t fixed_ms = MIN(r->fixed_ms, r->downtime_ms / 2);

	if (send_ms + fixed_ms > r->downtime_ms)
		return false;
	return send_ms * 10 <= r->downtime_ms || next * 2 >= r->dirty;
}
