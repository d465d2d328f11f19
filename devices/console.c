// SPDX-License-Identifier: GPL-2.0
/*
 * The console's host side: the escape (Ctrl-A x quits, Ctrl-A Ctrl-A is one
 * Ctrl-A) on input, and the buffered writer of guest output.
 */
#include "console.h"
#include "../sandbox/sandbox.h"
#include "../util.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

/*
 * The writer thread may sit in write() on a blocking file that takes only
 * part of a chunk (a terminal with a little room, a socket): when the VM
 * ends it is interrupted with this signal (no SA_RESTART: EINTR).
 */
#define CONSOLE_KICK_SIGNAL SIGUSR2
/* One write at most: a pipe that polled writable takes PIPE_BUF whole. */
#define CONSOLE_OUT_CHUNK 4096

static void console_kick_handler(int sig __unused)
{
}

int console_out_init(struct console_out *co, const char *name, int fd, size_t cap,
		     size_t space_mark, void (*on_space)(void *ctx), void *ctx)
{
	pthread_condattr_t attr;

	memset(co, 0, sizeof(*co));
	snprintf(co->name, sizeof(co->name), "%s", name);
	co->fd = fd;
	co->cap = cap;
	co->space_mark = MIN(space_mark, cap);
	co->on_space = on_space;
	co->ctx = ctx;
	pthread_mutex_init(&co->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&co->cond, NULL);
	pthread_cond_init(&co->progress, &attr);
	pthread_condattr_destroy(&attr);
	/* Without it (-ENOMEM) destroy still works. */
	if (fd >= 0) {
		co->buf = malloc(cap);
		if (!co->buf)
			return -ENOMEM;
	}
	return 0;
}

static bool console_out_sink(struct console_out *co)
{
	return co->fd < 0 || co->gone;
}

size_t console_out_room(struct console_out *co)
{
	size_t room;

	pthread_mutex_lock(&co->lock);
	room = console_out_sink(co) ? co->cap : co->cap - co->len;
	pthread_mutex_unlock(&co->lock);
	return room;
}

size_t console_out_write(struct console_out *co, const void *buf, size_t len, bool drop_rest)
{
	const uint8_t *p = buf;
	size_t n, done = 0;

	pthread_mutex_lock(&co->lock);
	if (console_out_sink(co)) {
		if (co->gone)
			co->dropped += len;
		pthread_mutex_unlock(&co->lock);
		return len;
	}
	n = MIN(len, co->cap - co->len);
	if (n && !co->len)
		pthread_cond_signal(&co->cond);
	while (done < n) {
		size_t tail = (co->head + co->len) % co->cap;
		size_t k = MIN(n - done, co->cap - tail);

		memcpy(co->buf + tail, p + done, k);
		co->len += k;
		done += k;
	}
	if (drop_rest)
		co->dropped += len - n;
	pthread_mutex_unlock(&co->lock);
	return n;
}

size_t console_out_pending(struct console_out *co, void *dst, size_t max)
{
	uint8_t *d = dst;
	size_t n;

	pthread_mutex_lock(&co->lock);
	n = MIN(max, co->len);
	for (size_t done = 0; done < n;) {
		size_t at = (co->head + done) % co->cap;
		size_t k = MIN(n - done, co->cap - at);

		memcpy(d + done, co->buf + at, k);
		done += k;
	}
	pthread_mutex_unlock(&co->lock);
	return n;
}

uint64_t console_out_dropped(struct console_out *co)
{
	uint64_t n;

	pthread_mutex_lock(&co->lock);
	n = co->dropped;
	pthread_mutex_unlock(&co->lock);
	return n;
}

/* The reader is gone: drop what is buffered and all that comes. Lock held. */
static void console_out_set_gone(struct console_out *co, int err)
{
	pr_warn("%s: writing guest output: %s; it is discarded from now on", co->name,
		strerror(err));
	co->gone = true;
	co->dropped += co->len;
	co->head = co->len = 0;
}

static void *console_out_thread(void *arg)
{
	struct console_out *co = arg;
	sigset_t set;

	sandbox_enter(SANDBOX_CONSOLE);
	/*
	 * Only the kick gets through; SIGPIPE stays blocked, so a reader that
	 * went away is EPIPE from write() rather than the end of lvmm.
	 */
	sigfillset(&set);
	sigdelset(&set, CONSOLE_KICK_SIGNAL);
	pthread_sigmask(SIG_SETMASK, &set, NULL);

	pthread_mutex_lock(&co->lock);
	for (;;) {
		struct pollfd pfd = { .fd = co->fd, .events = POLLOUT };
		size_t n, room_before;
		bool space = false;
		ssize_t w = 0;
		int err = 0;

		while (!co->len && !co->stopping)
			pthread_cond_wait(&co->cond, &co->lock);
		if (co->abandon || !co->len)
			break;
		n = MIN(MIN(co->len, co->cap - co->head), CONSOLE_OUT_CHUNK);
		/* Only this thread consumes: buf[head, head + n) stays put. */
		pthread_mutex_unlock(&co->lock);
		if (poll(&pfd, 1, -1) < 0) {
			err = errno;
		} else {
			w = write(co->fd, co->buf + co->head, n);
			if (w < 0)
				err = errno;
		}
		pthread_mutex_lock(&co->lock);
		room_before = co->cap - co->len;
		if (w > 0) {
			co->head = (co->head + w) % co->cap;
			co->len -= w;
			co->written += w;
			pthread_cond_broadcast(&co->progress);
		} else if (err && err != EINTR && err != EAGAIN) {
			console_out_set_gone(co, err);
		}
		space = room_before < co->space_mark &&
			(co->gone || co->cap - co->len >= co->space_mark);
		if (space && co->on_space) {
			pthread_mutex_unlock(&co->lock);
			co->on_space(co->ctx);
			pthread_mutex_lock(&co->lock);
		}
	}
	co->thread_done = true;
	pthread_cond_broadcast(&co->progress);
	pthread_mutex_unlock(&co->lock);
	return NULL;
}

int console_out_start(struct console_out *co)
{
	struct sigaction sa = { .sa_handler = console_kick_handler };
	int ret;

	if (co->fd < 0 || co->running)
		return 0;
	sigemptyset(&sa.sa_mask);
	if (sigaction(CONSOLE_KICK_SIGNAL, &sa, NULL) < 0)
		return -errno;
	co->stopping = co->abandon = co->thread_done = false;
	ret = pthread_create(&co->thread, NULL, console_out_thread, co);
	if (ret)
		return -ret;
	co->running = true;
	return 0;
}

static uint64_t ms_to_ns(uint64_t ms)
{
	return ms * 1000000ULL;
}

void console_out_stop(struct console_out *co)
{
	uint64_t start = now_ns(), last = start, written;
	size_t left;

	if (!co->running)
		return;
	pthread_mutex_lock(&co->lock);
	co->stopping = true;
	pthread_cond_broadcast(&co->cond);
	/* What the guest wrote last goes out, as long as the reader takes it. */
	written = co->written;
	while (!co->thread_done) {
		uint64_t now = now_ns();
		struct timespec ts;
		uint64_t until = now + ms_to_ns(100);

		if (co->written != written) {
			written = co->written;
			last = now;
		}
		if (now - last >= ms_to_ns(CONSOLE_OUT_FLUSH_IDLE_MS) ||
		    now - start >= ms_to_ns(CONSOLE_OUT_FLUSH_MAX_MS))
			break;
		ts.tv_sec = until / 1000000000ULL;
		ts.tv_nsec = until % 1000000000ULL;
		pthread_cond_timedwait(&co->progress, &co->lock, &ts);
	}
	co->abandon = true;
	pthread_cond_broadcast(&co->cond);
	/* It may sit in poll() or write(): interrupt it until it has left. */
	while (!co->thread_done) {
		struct timespec ts;
		uint64_t until = now_ns() + ms_to_ns(10);

		pthread_kill(co->thread, CONSOLE_KICK_SIGNAL);
		ts.tv_sec = until / 1000000000ULL;
		ts.tv_nsec = until % 1000000000ULL;
		pthread_cond_timedwait(&co->progress, &co->lock, &ts);
	}
	left = co->len;
	co->dropped += left;
	co->head = co->len = 0;
	pthread_mutex_unlock(&co->lock);
	pthread_join(co->thread, NULL);
	co->running = false;
	if (left)
		pr_warn("%s: %zu bytes of guest output dropped: the console's reader did not take them",
			co->name, left);
}

void console_out_destroy(struct console_out *co)
{
	console_out_stop(co);
	pthread_mutex_destroy(&co->lock);
	pthread_cond_destroy(&co->cond);
	pthread_cond_destroy(&co->progress);
	free(co->buf);
	co->buf = NULL;
}
