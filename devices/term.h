/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LVMM_TERM_H
#define LVMM_TERM_H

/* Put a terminal fd in raw mode; returns 1 if it did, 0 for a non-terminal. */
int term_raw_begin(int fd);
/* Put it back as it was (safe to call more than once). */
void term_restore(void);

#endif
