// SPDX-License-Identifier: GPL-2.0
/*
 * The live-migration stream (migration/stream.c, incoming.c): addresses,
 * the hello's and records' checks, and the destination taking a stream
 * from a socket pair: a whole one becomes a snapshot directory; one cut
 * short, or out of order, leaves nothing behind.
 */
#include "test.h"
#include "../../control/control.h"
#include "../../migration/migration.h"
#include "../../migration/snapshot.h"
#include "../../migration/stream.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

TEST(migrate_addr_parse)
{
	struct mig_addr a;
	char err[256];

	CHECK_EQ_INT(mig_addr_parse("unix:/tmp/m.sock", &a, err, sizeof(err)), 0);
	CHECK_EQ_INT(a.sa.ss_family, AF_UNIX);
	CHECK_EQ_INT(mig_addr_parse("tcp:127.0.0.1:4444", &a, err, sizeof(err)), 0);
	CHECK_EQ_INT(a.sa.ss_family, AF_INET);
	CHECK_EQ_INT(mig_addr_parse("tcp::4444", &a, err, sizeof(err)), 0);
	CHECK_EQ_INT(mig_addr_parse("tcp:127.0.0.1:0", &a, err, sizeof(err)), -EINVAL);
	CHECK_EQ_INT(mig_addr_parse("tcp:host.example:80", &a, err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "tcp:ADDR:PORT needs an IPv4 address");
	CHECK_EQ_INT(mig_addr_parse("unix:", &a, err, sizeof(err)), -EINVAL);
	CHECK_EQ_INT(mig_addr_parse("/tmp/m.sock", &a, err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "unix:PATH or tcp:ADDR:PORT");
}

static struct mig_hello hello(uint64_t ram)
{
	struct mig_hello h = { .version = MIG_VERSION, .page_size = 4096, .ram_size = ram };

	memcpy(h.magic, MIG_MAGIC, 8);
	strcpy(h.arch, MIG_ARCH);
	return h;
}

TEST(migrate_hello_and_record_checks)
{
	struct mig_hello h = hello(1 << 20);
	char err[256];

	CHECK_EQ_INT(mig_hello_check(&h, 4096, err, sizeof(err)), 0);
	/* Another release, architecture or page size: refused before any RAM. */
	h.version = MIG_VERSION + 1;
	CHECK_EQ_INT(mig_hello_check(&h, 4096, err, sizeof(err)), -EPROTO);
	CHECK_CONTAINS(err, "version 3");
	h = hello(1 << 20);
	strcpy(h.arch, "x86_64");
	CHECK_EQ_INT(mig_hello_check(&h, 4096, err, sizeof(err)), -EPROTO);
	CHECK_CONTAINS(err, "the source is x86_64");
	h = hello(1 << 20);
	CHECK_EQ_INT(mig_hello_check(&h, 16384, err, sizeof(err)), -EPROTO);
	h = hello(4095);
	CHECK_EQ_INT(mig_hello_check(&h, 4096, err, sizeof(err)), -EPROTO);

	struct mig_record r = { .type = MIG_PAGES, .offset = 0, .len = 4096 };

	CHECK_EQ_INT(mig_record_check(&r, 8192, err, sizeof(err)), 0);
	r.offset = 4096;
	CHECK_EQ_INT(mig_record_check(&r, 8192, err, sizeof(err)), 0);
	r.offset = 8192;
	CHECK_EQ_INT(mig_record_check(&r, 8192, err, sizeof(err)), -EPROTO);
	r.offset = UINT64_MAX - 10;	/* offset + len wraps */
	CHECK_EQ_INT(mig_record_check(&r, 8192, err, sizeof(err)), -EPROTO);
	r = (struct mig_record){ .type = MIG_STATE, .len = MIG_MAX_RECORD + 1 };
	CHECK_EQ_INT(mig_record_check(&r, 8192, err, sizeof(err)), -EPROTO);
	/* A sync has no payload. */
	r = (struct mig_record){ .type = MIG_SYNC };
	CHECK_EQ_INT(mig_record_check(&r, 8192, err, sizeof(err)), 0);
	r.len = 4096;
	CHECK_EQ_INT(mig_record_check(&r, 8192, err, sizeof(err)), -EPROTO);
	CHECK_CONTAINS(err, "a bad sync record");
	r = (struct mig_record){ .type = 9 };
	CHECK_EQ_INT(mig_record_check(&r, 8192, err, sizeof(err)), -EPROTO);
}

TEST(migrate_control_request)
{
	struct control_req req;
	char err[256];

	CHECK_EQ_INT(control_parse_request("migrate 2 300 tcp:10.0.0.2:4444", &req, err,
					   sizeof(err)), 0);
	CHECK(req.op == CONTROL_MIGRATE && req.progress && req.downtime_ms == 300);
	CHECK_STR(req.dir, "tcp:10.0.0.2:4444");
	CHECK_EQ_INT(control_parse_request("migrate 0 0 unix:/x", &req, err, sizeof(err)), -EINVAL);
	CHECK_EQ_INT(control_parse_request("migrate 1 300 unix:/x", &req, err, sizeof(err)), -EINVAL);
	CHECK_EQ_INT(control_parse_request("migrate 0 300 ", &req, err, sizeof(err)), -EINVAL);
}

/* The destination's side on a socket pair fed with what the test writes. */
static int take(const void *stream, size_t len, char *dir, char *err)
{
	struct mig_received in = { .ram = NULL };
	int sv[2], ret;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return -errno;
	if (write(sv[0], stream, len) != (ssize_t)len)
		return -EIO;
	shutdown(sv[0], SHUT_WR);
	ret = migrate_incoming_conn(sv[1], &in, err, 512);
	memcpy(dir, in.dir, sizeof(in.dir));
	close(sv[0]);
	close(sv[1]);
	/* Nothing is left behind on a failure, RAM included. */
	if (ret && in.ram)
		return -EFAULT;
	if (!ret)
		munmap(in.ram, in.ram_size);
	return ret;
}

static size_t put(uint8_t *buf, size_t at, uint32_t type, uint64_t off, const void *data,
		  uint64_t len)
{
	struct mig_record r = { .type = type, .offset = off, .len = len };

	memcpy(buf + at, &r, sizeof(r));
	if (len)
		memcpy(buf + at + sizeof(r), data, len);
	return at + sizeof(r) + len;
}

TEST(migrate_incoming_cut_short_leaves_nothing)
{
	static uint8_t buf[65536];
	struct mig_hello h = hello(1 << 20);
	char dir[4096], err[512] = "";
	uint8_t page[4096];
	size_t n = 0;
	struct stat st;

	setenv("TMPDIR", "/tmp", 1);
	memset(page, 0xab, sizeof(page));
	memcpy(buf, &h, sizeof(h));
	n = sizeof(h);
	/* RAM before the configuration: refused. */
	n = put(buf, n, MIG_PAGES, 0, page, sizeof(page));
	CHECK_EQ_INT(take(buf, n, dir, err), -EPROTO);
	CHECK_CONTAINS(err, "guest RAM before the configuration");
	CHECK(stat(dir, &st) < 0 && errno == ENOENT);
	/* So is a sync. */
	n = put(buf, sizeof(h), MIG_SYNC, 0, NULL, 0);
	CHECK_EQ_INT(take(buf, n, dir, err), -EPROTO);
	CHECK_CONTAINS(err, "before the configuration");
	CHECK(stat(dir, &st) < 0 && errno == ENOENT);

	/* A bad preview (not a state file): refused, with a reply. */
	n = put(buf, sizeof(h), MIG_PREVIEW, 0, "not a state file", 16);
	CHECK(take(buf, n, dir, err) < 0);
	CHECK(stat(dir, &st) < 0 && errno == ENOENT);

	/* Only a hello: the source went away. */
	CHECK_EQ_INT(take(buf, sizeof(h), dir, err), -EPIPE);
	CHECK_CONTAINS(err, "the source went away before it sent everything");
	CHECK(stat(dir, &st) < 0 && errno == ENOENT);

	/* Not even a whole hello. */
	CHECK_EQ_INT(take(buf, 10, dir, err), -EPIPE);
	CHECK_CONTAINS(err, "no hello");
}

TEST(snapshot_diff_base_file)
{
	char base[64];
	uint64_t id;

	CHECK_EQ_INT(diff_base_parse("lvmm-diff 1\n0123456789abcdef\n/snaps/s0\n", base,
				     sizeof(base), &id), 0);
	CHECK_STR(base, "/snaps/s0");
	CHECK_EQ_U64(id, 0x0123456789abcdefULL);
	/* Relative, empty, trailing text, short id, another version: refused. */
	CHECK_EQ_INT(diff_base_parse("lvmm-diff 1\n0123456789abcdef\nsnaps/s0\n", base,
				     sizeof(base), &id), -EINVAL);
	CHECK_EQ_INT(diff_base_parse("lvmm-diff 1\n0123456789abcdef\n\n", base, sizeof(base), &id),
		     -EINVAL);
	CHECK_EQ_INT(diff_base_parse("lvmm-diff 1\n0123456789abcdef\n/s0\nmore", base,
				     sizeof(base), &id), -EINVAL);
	CHECK_EQ_INT(diff_base_parse("lvmm-diff 1\n0123\n/s0\n", base, sizeof(base), &id), -EINVAL);
	CHECK_EQ_INT(diff_base_parse("lvmm-diff 2\n0123456789abcdef\n/s0\n", base, sizeof(base),
				     &id), -EINVAL);
	/* A base path longer than the buffer. */
	CHECK_EQ_INT(diff_base_parse("lvmm-diff 1\n0123456789abcdef\n/0123456789012345678901234567890123456789012345678901234567890123456789\n",
				     base, sizeof(base), &id), -EINVAL);
}

TEST(snapshot_diff_control_request)
{
	struct control_req req;
	char err[256];

	CHECK_EQ_INT(control_parse_request("snapshot-diff 2 8 /snaps/0 /snaps/1 b", &req, err,
					   sizeof(err)), 0);
	CHECK(req.op == CONTROL_SNAPSHOT && req.progress && !req.stop);
	CHECK_STR(req.diff_from, "/snaps/0");
	CHECK_STR(req.dir, "/snaps/1 b");
	/* The length must land on the space before an absolute DIR. */
	CHECK_EQ_INT(control_parse_request("snapshot-diff 0 9 /snaps/0 /snaps/1", &req, err,
					   sizeof(err)), -EINVAL);
	CHECK_EQ_INT(control_parse_request("snapshot-diff 0 7 /snaps/0 /snaps/1", &req, err,
					   sizeof(err)), -EINVAL);
	CHECK_EQ_INT(control_parse_request("snapshot-diff 0 99 /snaps/0 /snaps/1", &req, err,
					   sizeof(err)), -EINVAL);
	CHECK_EQ_INT(control_parse_request("snapshot 0 /s", &req, err, sizeof(err)), 0);
	CHECK_STR(req.diff_from, "");
}
