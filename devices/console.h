/* SPDX-License-Identifier: GPL-2.0 */
/* The console's host side, shared by the UART and virtio-console. */
#ifndef LVMM_CONSOLE_H
#define LVMM_CONSOLE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
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

/*
 * Guest output on its way to the host (stdout). The device puts bytes in
 * a bounded buffer, which never blocks; a thread of the console's own
 * writes them out, waiting for the file to take them (poll for POLLOUT),
 * so a reader that stalls (a full pipe, a stopped terminal) never stalls
 * a vCPU or a device worker. What happens when the buffer is full is the
 * device's choice: the UART shows its transmitter busy (LSR.THRE clear),
 * virtio-console leaves the guest's buffer in the ring.
 *
 * A reader gone for good (EPIPE, or any other write error) turns the
 * output into a sink: one warning, then bytes are counted and dropped,
 * and the device sees room again so the guest never waits for it.
 */
#define CONSOLE_OUT_SIZE 65536

struct console_out {
	char name[32];		/* the device's, for messages */
	int fd;			/* -1: output is discarded */
	size_t cap;
	size_t space_mark;	/* on_space when room climbs to at least this */
	void (*on_space)(void *ctx);
	void *ctx;

	pthread_mutex_t lock;
	pthread_cond_t cond;	/* to the thread: bytes, or stop */
	pthread_cond_t progress;	/* from the thread: bytes written, or done */
	uint8_t *buf;
	size_t head, len;
	bool gone;
	bool running, stopping, abandon, thread_done;
	pthread_t thread;
	uint64_t written, dropped;
};

/* fd -1: no output. Returns 0 or -ENOMEM. */
int console_out_init(struct console_out *co, const char *name, int fd, size_t cap,
		     size_t space_mark, void (*on_space)(void *ctx), void *ctx);
/* Start the writer thread (nothing to do without an fd). 0 or -errno. */
int console_out_start(struct console_out *co);
/*
 * Stop the writer: it first writes what is buffered while the reader takes
 * it, giving up after CONSOLE_OUT_FLUSH_IDLE_MS without progress (or
 * CONSOLE_OUT_FLUSH_MAX_MS in all); what is left is dropped with a warning.
 */
void console_out_stop(struct console_out *co);
#define CONSOLE_OUT_FLUSH_IDLE_MS 1000
#define CONSOLE_OUT_FLUSH_MAX_MS 10000
/* Stop, then free the buffer. */
void console_out_destroy(struct console_out *co);
/*
 * Queue bytes; never blocks. Returns how many were taken (all of them for
 * a sink). With drop_rest, bytes that do not fit are counted as dropped.
 */
size_t console_out_write(struct console_out *co, const void *buf, size_t len, bool drop_rest);
/* Room in the buffer now (cap for a sink). */
size_t console_out_room(struct console_out *co);
/* Copy up to max bytes not yet written (for a snapshot); returns the count. */
size_t console_out_pending(struct console_out *co, void *dst, size_t max);
uint64_t console_out_dropped(struct console_out *co);

#endif
