/* SPDX-License-Identifier: GPL-2.0 */
/*
 * 9P2000.L server over one host directory: the message codec and the file
 * operations, with no virtio in it (so unit tests and the fuzzer drive it).
 */
#ifndef LVMM_9P_H
#define LVMM_9P_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define P9_MAX_FIDS 1024
#define P9_MSIZE_MAX (128 * 1024)

struct p9_fid;

struct p9_server {
	int root;		/* O_PATH fd of the shared directory */
	bool readonly;
	uint64_t root_dev;
	uint32_t msize;
	unsigned int nr_fids;
	struct p9_fid *fids[P9_MAX_FIDS];
	unsigned long requests;
};

/* Opens DIR; returns 0 or -errno. */
int p9_server_init(struct p9_server *s, const char *dir, bool readonly);
void p9_server_fini(struct p9_server *s);
/* Drops every fid (the guest reset the device). */
void p9_server_reset(struct p9_server *s);
/*
 * Handles one request of len bytes, writes the reply into resp (cap bytes)
 * and returns its length (always a well-formed R-message or Rlerror, or 0
 * if not even a header could be written).
 */
size_t p9_handle(struct p9_server *s, const uint8_t *req, size_t len, uint8_t *resp, size_t cap);
/* True if name may be one path component inside the share. */
bool p9_name_ok(const char *name);

#endif
