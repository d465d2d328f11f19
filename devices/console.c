// SPDX-License-Identifier: GPL-2.0
/* The console escape: Ctrl-A x quits, Ctrl-A Ctrl-A is one Ctrl-A. */
#include "console.h"

#define CTRL_A 0x01

unsigned int console_filter(struct console_escape *st, const uint8_t *in, unsigned int n,
			    uint8_t *out, bool *quit)
{
	unsigned int k = 0;

	for (unsigned int i = 0; i < n; i++) {
		uint8_t c = in[i];

		if (st->after_escape) {
			st->after_escape = false;
			if (c == 'x' || c == 'X') {
				*quit = true;
				return k;
			}
			if (c != CTRL_A)
				out[k++] = CTRL_A;	/* not an escape: pass both */
			out[k++] = c;
		} else if (c == CTRL_A) {
			st->after_escape = true;
		} else {
			out[k++] = c;
		}
	}
	return k;
}
