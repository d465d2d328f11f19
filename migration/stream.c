// SPDX-License-Identifier: GPL-2.0
/* The live-migration stream: addresses, framing, checks (stream.h). */
#include "stream.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

int mig_addr_parse(const char *uri, struct mig_addr *a, char *err, size_t errlen)
{
	memset(a, 0, sizeof(*a));
	snprintf(a->text, sizeof(a->text), "%s", uri);
	if (!strncmp(uri, "unix:", 5)) {
		struct sockaddr_un *un = (struct sockaddr_un *)&a->sa;
		const char *path = uri + 5;

		if (!*path || strlen(path) >= sizeof(un->sun_path)) {
			snprintf(err, errlen, "migration address '%s': unix:PATH needs a path of 1-%zu characters",
				 uri, sizeof(un->sun_path) - 1);
			return -EINVAL;
		}
		un->sun_family = AF_UNIX;
		strcpy(un->sun_path, path);
		a->len = sizeof(*un);
		return 0;
	}
	if (!strncmp(uri, "tcp:", 4)) {
		struct sockaddr_in *in = (struct sockaddr_in *)&a->sa;
		const char *host = uri + 4, *colon = strrchr(host, ':');
		char addr[64];
		char *end;
		unsigned long port;

		if (!colon || (size_t)(colon - host) >= sizeof(addr))
			goto bad_tcp;
		memcpy(addr, host, (size_t)(colon - host));
		addr[colon - host] = '\0';
		port = strtoul(colon + 1, &end, 10);
		if (!colon[1] || *end || !port || port > 65535)
			goto bad_tcp;
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		if (!addr[0])
			in->sin_addr.s_addr = htonl(INADDR_ANY);
		else if (inet_pton(AF_INET, addr, &in->sin_addr) != 1)
			goto bad_tcp;
		a->len = sizeof(*in);
		return 0;
bad_tcp:
		snprintf(err, errlen, "migration address '%s': tcp:ADDR:PORT needs an IPv4 address and a port 1-65535",
			 uri);
		return -EINVAL;
	}
	snprintf(err, errlen, "migration address '%s': unix:PATH or tcp:ADDR:PORT", uri);
	return -EINVAL;
}

int mig_hello_check(const struct mig_hello *h, uint32_t page_size, char *err, size_t errlen)
{
	if (memcmp(h->magic, MIG_MAGIC, 8)) {
		snprintf(err, errlen, "not an lvmm migration stream");
		return -EPROTO;
	}
	if (h->version != MIG_VERSION) {
		snprintf(err, errlen, "migration stream version %u, this lvmm speaks %u", h->version,
			 MIG_VERSION);
		return -EPROTO;
	}
	if (strncmp(h->arch, MIG_ARCH, sizeof(h->arch))) {
		snprintf(err, errlen, "the source is %.16s, this host %s", h->arch, MIG_ARCH);
		return -EPROTO;
	}
	if (h->page_size != page_size) {
		snprintf(err, errlen, "the source's pages are %u bytes, this host's %u", h->page_size,
			 page_size);
		return -EPROTO;
	}
	if (!h->ram_size || h->ram_size % page_size || h->ram_size > (1ULL << 46)) {
		snprintf(err, errlen, "bad guest RAM size %llu", (unsigned long long)h->ram_size);
		return -EPROTO;
	}
	return 0;
}

int mig_record_check(const struct mig_record *r, uint64_t ram_size, char *err, size_t errlen)
{
	switch (r->type) {
	case MIG_PAGES:
		if (!r->len || r->len > MIG_MAX_RECORD || r->offset > ram_size ||
		    r->len > ram_size - r->offset) {
			snprintf(err, errlen, "a page record out of guest RAM (%llu bytes at %llu)",
				 (unsigned long long)r->len, (unsigned long long)r->offset);
			return -EPROTO;
		}
		return 0;
	case MIG_PREVIEW:
	case MIG_STATE:
		if (!r->len || r->len > MIG_MAX_RECORD || r->offset) {
			snprintf(err, errlen, "a bad state record (%llu bytes)",
				 (unsigned long long)r->len);
			return -EPROTO;
		}
		return 0;
	case MIG_END:
	case MIG_SYNC:
		if (r->len || r->offset) {
			snprintf(err, errlen, "a bad %s record", r->type == MIG_END ? "end" : "sync");
			return -EPROTO;
		}
		return 0;
	}
	snprintf(err, errlen, "an unknown record type %u", r->type);
	return -EPROTO;
}

/* A stream socket of the address's family, or -errno with err. */
static int mig_socket(const struct mig_addr *a, char *err, size_t errlen)
{
	int fd = socket(a->sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		fd = -errno;
		snprintf(err, errlen, "%s: %s", a->text, strerror(-fd));
	}
	return fd;
}

int mig_connect(const struct mig_addr *a, char *err, size_t errlen)
{
	int fd = mig_socket(a, err, errlen), one = 1, ret;

	if (fd < 0)
		return fd;
	if (connect(fd, (const struct sockaddr *)&a->sa, a->len) < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot reach the destination %s: %s (is lvmm run --incoming waiting there?)",
			 a->text, strerror(-ret));
		close(fd);
		return ret;
	}
	if (a->sa.ss_family == AF_INET)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

int mig_listen(const struct mig_addr *a, char *err, size_t errlen)
{
	int fd = mig_socket(a, err, errlen), one = 1, ret;

	if (fd < 0)
		return fd;
	if (a->sa.ss_family == AF_UNIX)
		unlink(((const struct sockaddr_un *)&a->sa)->sun_path);
	else
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&a->sa, a->len) < 0 || listen(fd, 1) < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot listen on %s: %s", a->text, strerror(-ret));
		close(fd);
		return ret;
	}
	return fd;
}

int mig_read(int fd, void *buf, size_t len)
{
	for (size_t done = 0; done < len;) {
		ssize_t n = read(fd, (char *)buf + done, len - done);

		if (n == 0)
			return -EPIPE;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		done += (size_t)n;
	}
	return 0;
}

int mig_write(int fd, const void *buf, size_t len)
{
	for (size_t done = 0; done < len;) {
		ssize_t n = send(fd, (const char *)buf + done, len - done, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		done += (size_t)n;
	}
	return 0;
}

int mig_send_record(int fd, uint32_t type, uint64_t offset, const void *data, uint64_t len)
{
	struct mig_record r = { .type = type, .offset = offset, .len = len };
	int ret = mig_write(fd, &r, sizeof(r));

	return ret ?: (len ? mig_write(fd, data, len) : 0);
}

int mig_send_reply(int fd, bool ok, const char *msg)
{
	struct mig_reply r = { .ok = ok, .len = (uint32_t)strlen(msg ? msg : "") };
	int ret = mig_write(fd, &r, sizeof(r));

	return ret ?: (r.len ? mig_write(fd, msg, r.len) : 0);
}

int mig_recv_reply(int fd, char *msg, size_t len, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	struct mig_reply r;
	int ret;

	msg[0] = '\0';
	ret = poll(&p, 1, timeout_ms);
	if (ret == 0)
		return -ETIMEDOUT;
	if (ret < 0)
		return -errno;
	ret = mig_read(fd, &r, sizeof(r));
	if (ret)
		return ret;
	if (r.len) {
		char buf[1024];
		uint32_t n = r.len < sizeof(buf) ? r.len : sizeof(buf) - 1;

		ret = mig_read(fd, buf, n);
		if (ret)
			return ret;
		buf[n] = '\0';
		if (r.len > n)
			return -EPROTO;
		snprintf(msg, len, "%s", buf);
	}
	return r.ok ? 1 : 0;
}
