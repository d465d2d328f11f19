// SPDX-License-Identifier: GPL-2.0
/* User-mode networking: libslirp's thread and the frames it trades (user.h). */
#include "user.h"
#include "../../sandbox/sandbox.h"
#include "../../util.h"

#include <errno.h>
#include <fcntl.h>
#include <libslirp.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define VNET_HDR_LEN	12	/* struct virtio_net_hdr_v1, all zero: no offloads */
#define FRAME_MAX	(VNET_HDR_LEN + 65536)
#define MAX_TIMERS	4
/* Frames a burst may queue between the two threads before one is dropped. */
#define PAIR_BUFFER	(2 * 1024 * 1024)

struct usernet_timer {
	bool used, armed;
	int64_t expire_ms;
	SlirpTimerCb cb;
	void *cb_opaque;
};

struct usernet {
	Slirp *slirp;
	int fd;			/* our end of the pair */
	int stop_fd;		/* eventfd: usernet_free wakes the thread */
	pthread_t thread;
	bool started;
	struct pollfd *pfd;	/* [0] the pair, [1] stop, then slirp's sockets */
	unsigned int npfd, cap;
	struct usernet_timer timers[MAX_TIMERS];
	unsigned long to_guest, from_guest, dropped;
	uint8_t frame[FRAME_MAX];
};

static int64_t clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* slirp → guest: one message on the pair, dropped (like a wire) when full. */
static ssize_t send_packet(const void *buf, size_t len, void *opaque)
{
	struct usernet *un = opaque;
	static const uint8_t hdr[VNET_HDR_LEN];
	struct iovec iov[2] = {
		{ .iov_base = (void *)hdr, .iov_len = sizeof(hdr) },
		{ .iov_base = (void *)buf, .iov_len = len },
	};
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };

	if (sendmsg(un->fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		__atomic_add_fetch(&un->dropped, 1, __ATOMIC_RELAXED);
	else
		__atomic_add_fetch(&un->to_guest, 1, __ATOMIC_RELAXED);
	return (ssize_t)len;
}

static void guest_error(const char *msg, void *opaque)
{
	pr_warn("user network: the guest: %s", msg);
}

static int64_t clock_get_ns(void *opaque)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Timers: slirp arms them only for IPv6 router adverts, off here; kept honest anyway. */
static void *timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
	struct usernet *un = opaque;

	for (unsigned int i = 0; i < MAX_TIMERS; i++) {
		if (!un->timers[i].used) {
			un->timers[i] = (struct usernet_timer){ .used = true, .cb = cb,
								.cb_opaque = cb_opaque };
			return &un->timers[i];
		}
	}
	pr_err("user network: out of timers");
	abort();
}

static void timer_free(void *timer, void *opaque)
{
	struct usernet_timer *t = timer;

	t->used = t->armed = false;
}

static void timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
	struct usernet_timer *t = timer;

	t->expire_ms = expire_ms;
	t->armed = true;
}

/* The sockets are polled afresh each round (pollfds_fill): nothing to keep. */
static void register_poll_fd(int fd, void *opaque)
{
}

static void unregister_poll_fd(int fd, void *opaque)
{
}

static void notify(void *opaque)
{
}

static const SlirpCb callbacks = {
	.send_packet = send_packet,
	.guest_error = guest_error,
	.clock_get_ns = clock_get_ns,
	.timer_new = timer_new,
	.timer_free = timer_free,
	.timer_mod = timer_mod,
	.register_poll_fd = register_poll_fd,
	.unregister_poll_fd = unregister_poll_fd,
	.notify = notify,
};

static int add_poll(int fd, int events, void *opaque)
{
	struct usernet *un = opaque;
	short ev = 0;

	if (un->npfd == un->cap) {
		unsigned int cap = un->cap * 2;
		struct pollfd *p = realloc(un->pfd, cap * sizeof(*p));

		if (!p)
			return -1;	/* that socket waits for the next round */
		un->pfd = p;
		un->cap = cap;
	}
	if (events & SLIRP_POLL_IN)
		ev |= POLLIN;
	if (events & SLIRP_POLL_OUT)
		ev |= POLLOUT;
	if (events & SLIRP_POLL_PRI)
		ev |= POLLPRI;
	un->pfd[un->npfd] = (struct pollfd){ .fd = fd, .events = ev };
	return (int)un->npfd++;
}

static int get_revents(int idx, void *opaque)
{
	struct usernet *un = opaque;
	short rev;
	int ev = 0;

	if (idx < 0 || (unsigned int)idx >= un->npfd)
		return 0;
	rev = un->pfd[idx].revents;
	if (rev & POLLIN)
		ev |= SLIRP_POLL_IN;
	if (rev & POLLOUT)
		ev |= SLIRP_POLL_OUT;
	if (rev & POLLPRI)
		ev |= SLIRP_POLL_PRI;
	if (rev & POLLERR)
		ev |= SLIRP_POLL_ERR;
	if (rev & POLLHUP)
		ev |= SLIRP_POLL_HUP;
	return ev;
}

/* guest → slirp: every frame waiting on the pair. */
static void take_frames(struct usernet *un)
{
	for (;;) {
		ssize_t n = recv(un->fd, un->frame, sizeof(un->frame), MSG_DONTWAIT);

		if (n < 0)
			return;
		if (n <= VNET_HDR_LEN)
			continue;
		__atomic_add_fetch(&un->from_guest, 1, __ATOMIC_RELAXED);
		slirp_input(un->slirp, un->frame + VNET_HDR_LEN, (int)(n - VNET_HDR_LEN));
	}
}

static uint32_t run_timers(struct usernet *un, uint32_t timeout)
{
	int64_t now = clock_ms();

	for (unsigned int i = 0; i < MAX_TIMERS; i++) {
		struct usernet_timer *t = &un->timers[i];

		if (!t->used || !t->armed)
			continue;
		if (t->expire_ms <= now) {
			t->armed = false;
			t->cb(t->cb_opaque);
		} else if ((uint64_t)(t->expire_ms - now) < timeout) {
			timeout = (uint32_t)(t->expire_ms - now);
		}
	}
	return timeout;
}

static void *usernet_thread(void *arg)
{
	struct usernet *un = arg;

	sandbox_enter(SANDBOX_USERNET);
	for (;;) {
		uint32_t timeout = run_timers(un, 1000);
		int ret;

		un->npfd = 2;
		un->pfd[0] = (struct pollfd){ .fd = un->fd, .events = POLLIN };
		un->pfd[1] = (struct pollfd){ .fd = un->stop_fd, .events = POLLIN };
		slirp_pollfds_fill(un->slirp, &timeout, add_poll, un);
		ret = poll(un->pfd, un->npfd, (int)timeout);
		if (ret < 0 && errno != EINTR) {
			pr_err("user network: poll: %s", strerror(errno));
			break;
		}
		if (ret > 0 && un->pfd[1].revents)
			break;
		if (ret > 0 && un->pfd[0].revents)
			take_frames(un);
		slirp_pollfds_poll(un->slirp, ret < 0, get_revents, un);
	}
	return NULL;
}

static int add_forwards(struct usernet *un, const struct net_config *cfg, char *err,
			size_t errlen)
{
	for (unsigned int i = 0; i < cfg->nr_fwds; i++) {
		const struct net_hostfwd *f = &cfg->fwds[i];
		struct in_addr host = { htonl(f->host_addr ? f->host_addr : INADDR_LOOPBACK) };
		struct in_addr guest = { htonl(f->guest_addr) };

		if (slirp_add_hostfwd(un->slirp, f->udp, host, f->host_port, guest,
				      f->guest_port) < 0) {
			char a[INET_ADDRSTRLEN];

			inet_ntop(AF_INET, &host, a, sizeof(a));
			snprintf(err, errlen,
				 "network: hostfwd=%s:%s:%u-:%u: cannot listen on %s port %u (in use, or a privileged port)",
				 f->udp ? "udp" : "tcp", a, f->host_port, f->guest_port,
				 f->udp ? "UDP" : "TCP", f->host_port);
			return -EADDRINUSE;
		}
	}
	return 0;
}

int usernet_create(const struct net_config *cfg, int *device_fd, struct usernet **out,
		   char *err, size_t errlen)
{
	SlirpConfig sc = {
		.version = 1,
		.in_enabled = true,
		.vnetwork = { htonl(0x0a000200) },	/* 10.0.2.0 */
		.vnetmask = { htonl(0xffffff00) },
		.vhost = { htonl(0x0a000202) },		/* 10.0.2.2 */
		.vdhcp_start = { htonl(0x0a00020f) },	/* 10.0.2.15 */
		.vnameserver = { htonl(0x0a000203) },	/* 10.0.2.3 */
		.vhostname = "lvmm",
	};
	struct usernet *un = calloc(1, sizeof(*un));
	int sv[2] = { -1, -1 }, size = PAIR_BUFFER, ret;

	if (!un) {
		snprintf(err, errlen, "network: out of memory");
		return -ENOMEM;
	}
	un->fd = un->stop_fd = -1;
	un->cap = 64;
	un->pfd = calloc(un->cap, sizeof(*un->pfd));
	if (!un->pfd ||
	    socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0 ||
	    (un->stop_fd = eventfd(0, EFD_CLOEXEC)) < 0) {
		ret = -errno ?: -ENOMEM;
		snprintf(err, errlen, "network: user mode: %s", strerror(-ret));
		goto fail;
	}
	un->fd = sv[0];
	for (int i = 0; i < 2; i++) {
		setsockopt(sv[i], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
		setsockopt(sv[i], SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	}
	un->slirp = slirp_new(&sc, &callbacks, un);
	if (!un->slirp) {
		ret = -ENOMEM;
		snprintf(err, errlen, "network: user mode: libslirp would not start");
		goto fail;
	}
	ret = add_forwards(un, cfg, err, errlen);
	if (ret)
		goto fail;
	ret = -pthread_create(&un->thread, NULL, usernet_thread, un);
	if (ret) {
		snprintf(err, errlen, "network: user mode: starting its thread: %s", strerror(-ret));
		goto fail;
	}
	un->started = true;
	*device_fd = sv[1];
	*out = un;
	return 0;
fail:
	if (sv[1] >= 0)
		close(sv[1]);
	usernet_free(un);
	return ret;
}

void usernet_free(struct usernet *un)
{
	if (!un)
		return;
	if (un->started) {
		uint64_t one = 1;

		if (write(un->stop_fd, &one, sizeof(one)) != sizeof(one))
			pr_err("user network: cannot stop its thread");
		else
			pthread_join(un->thread, NULL);
	}
	if (un->slirp)
		slirp_cleanup(un->slirp);
	if (un->fd >= 0)
		close(un->fd);
	if (un->stop_fd >= 0)
		close(un->stop_fd);
	free(un->pfd);
	free(un);
}

void usernet_stats(struct usernet *un, char *buf, unsigned int len)
{
	snprintf(buf, len, " user_to_guest=%lu user_from_guest=%lu user_dropped=%lu",
		 __atomic_load_n(&un->to_guest, __ATOMIC_RELAXED),
		 __atomic_load_n(&un->from_guest, __ATOMIC_RELAXED),
		 __atomic_load_n(&un->dropped, __ATOMIC_RELAXED));
}
