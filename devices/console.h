/* SPDX-License-Identifier: GPL-2.0 */
/* Console input shared by the UART and virtio-console. */
#ifndef LVMM_CONSOLE_H
#define LVMM_CONSOLE_H

#include <stdbool.h>
#include <stdint.h>

struct console_escape {
	bool after_escape;
};

/*
 * Pass terminal input through the escape filter: out needs room for 2 * n
 * bytes. Sets *quit (and stops) at Ctrl-A x. Returns the bytes in out.
 */
unsigned int console_filter(struct console_escape *st, const uint8_t *in, unsigned int n,
			    uint8_t *out, bool *quit);

#endif
