/* SPDX-License-Identifier: GPL-2.0 */
/*
 * When live migration's pre-copy stops sending rounds and pauses the
 * guest (migrate.c). Pure arithmetic, unit-tested.
 */
#ifndef LVMM_MIGRATION_PRECOPY_H
#define LVMM_MIGRATION_PRECOPY_H

#include <stdbool.h>
#include <stdint.h>

struct precopy_round {
	uint64_t dirty;		/* bytes dirty now, still to send */
	uint64_t rate;		/* bytes/s the link took so far */
	uint64_t dirty_rate;	/* bytes/s the guest dirtied in the last round */
	/* The pause's own cost: the handshake's state taken, sent and checked. */
	uint64_t fixed_ms;
	unsigned int downtime_ms;	/* the pause the user accepts */
};

/*
 * Pause now? Only when the rest fits the downtime (sent at the rate
 * measured, plus the fixed cost counted up to half the downtime, so that a
 * slow handshake cannot keep the rounds going), and another round would
 * not pay: it is worth one while the guest dirties less than half of what
 * that round sends in the time it takes, unless what is left is already a
 * tenth of the downtime or less.
 */
bool precopy_done(const struct precopy_round *r);

#endif
