/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The live-migration stream between two lvmm processes: where it goes
 * (unix:PATH, tcp:ADDR:PORT), and what goes over it. The source sends a
 * hello, then records; the destination answers twice: once it checked the
 * VM's configuration (before any RAM), and once the VM is restored and
 * ready to run (only then does the source let its copy go).
 *
 *   hello    magic "LVMMMIG1", version, page size, RAM size, architecture
 *   record   type, RAM offset (pages), length, then length bytes:
 *            PREVIEW  the state file as of the start (configuration check)
 *            PAGES    guest RAM at offset
 *            STATE    the final state file (the VM paused)
 *            END      all sent
 *            SYNC     (no payload) answered once all before it is taken:
 *                     the source's pause starts with nothing in flight
 *   reply    ok (1/0), message length, message
 *
 * Both ends are the same lvmm release on arm64: fields are little-endian
 * as the machine's. Pure parsing is here (fuzzed: tests/fuzz).
 */
#ifndef LVMM_MIGRATION_STREAM_H
#define LVMM_MIGRATION_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define MIG_MAGIC "LVMMMIG1"
#define MIG_VERSION 2
#define MIG_ARCH "aarch64"
/* A record's payload is at most this (PAGES records are cut to fit). */
#define MIG_MAX_RECORD (16ULL << 20)

struct mig_hello {
	char magic[8];
	uint32_t version;
	uint32_t page_size;
	uint64_t ram_size;
	char arch[16];
};

enum mig_type { MIG_PREVIEW = 1, MIG_PAGES, MIG_STATE, MIG_END, MIG_SYNC };

struct mig_record {
	uint32_t type;
	uint32_t reserved;
	uint64_t offset;
	uint64_t len;
};

struct mig_reply {
	uint32_t ok;
	uint32_t len;
};

struct mig_addr {
	struct sockaddr_storage sa;
	socklen_t len;
	char text[256];		/* as given, for messages */
};

/* unix:PATH or tcp:ADDR:PORT (ADDR an IPv4 address). 0, or -EINVAL with err. */
int mig_addr_parse(const char *uri, struct mig_addr *a, char *err, size_t errlen);

/* The checks of a hello: 0, or -EPROTO with why in err. */
int mig_hello_check(const struct mig_hello *h, uint32_t page_size, char *err, size_t errlen);
/* The checks of a record header against the RAM size: 0, or -EPROTO. */
int mig_record_check(const struct mig_record *r, uint64_t ram_size, char *err, size_t errlen);

/* A connected socket, or -errno with err. */
int mig_connect(const struct mig_addr *a, char *err, size_t errlen);
/* A listening socket (a unix path is replaced), or -errno with err. */
int mig_listen(const struct mig_addr *a, char *err, size_t errlen);

/* Exactly len bytes, or -errno (-EPIPE: the peer closed). */
int mig_read(int fd, void *buf, size_t len);
int mig_write(int fd, const void *buf, size_t len);

int mig_send_record(int fd, uint32_t type, uint64_t offset, const void *data, uint64_t len);
int mig_send_reply(int fd, bool ok, const char *msg);
/* The peer's reply: 1 ok, 0 refused (msg says why), -errno if none came. */
int mig_recv_reply(int fd, char *msg, size_t len, int timeout_ms);

#endif
