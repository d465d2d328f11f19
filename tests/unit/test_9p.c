// SPDX-License-Identifier: GPL-2.0
/* The 9P2000.L server: codec, and confinement to the shared directory. */
#include "test.h"
#include "../../devices/virtio/9p.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct msg {
	uint8_t b[8192];
	size_t n;
};

static void m8(struct msg *m, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		m->b[m->n++] = v >> (8 * i);
}

static void ms(struct msg *m, const char *s)
{
	m8(m, strlen(s), 2);
	memcpy(m->b + m->n, s, strlen(s));
	m->n += strlen(s);
}

static void begin(struct msg *m, uint8_t type)
{
	m->n = 0;
	m8(m, 0, 4);
	m8(m, type, 1);
	m8(m, 1, 2);
}

/* Sends m; returns the reply type (7: Rlerror, errno in *err). */
static uint8_t send(struct p9_server *s, struct msg *m, uint8_t *resp, uint32_t *err)
{
	size_t n;

	m->b[0] = m->n;
	m->b[1] = m->n >> 8;
	n = p9_handle(s, m->b, m->n, resp, 8192);
	if (n < 7)
		return 0;
	if (resp[4] == 7 && err)
		memcpy(err, resp + 7, 4);
	return resp[4];
}

static char share[32], outside[64];

static void setup(struct p9_server *s, bool ro)
{
	struct msg m;
	uint8_t r[8192];
	char path[128];
	int fd;

	snprintf(share, sizeof(share), "/tmp/lvmm-9p-XXXXXX");
	CHECK(mkdtemp(share));
	snprintf(outside, sizeof(outside), "%s-secret", share);
	fd = open(outside, O_CREAT | O_WRONLY, 0600);
	CHECK(fd >= 0 && write(fd, "secret", 6) == 6);
	close(fd);
	snprintf(path, sizeof(path), "%s/hello", share);
	fd = open(path, O_CREAT | O_WRONLY, 0644);
	CHECK(fd >= 0 && write(fd, "hi", 2) == 2);
	close(fd);
	snprintf(path, sizeof(path), "%s/etc", share);
	CHECK(!symlink("/etc", path));
	snprintf(path, sizeof(path), "%s/out", share);
	CHECK(!symlink(outside, path));
	CHECK_EQ_INT(p9_server_init(s, share, ro), 0);
	begin(&m, 100);
	m8(&m, 8192, 4);
	ms(&m, "9P2000.L");
	CHECK_EQ_INT(send(s, &m, r, NULL), 101);
	begin(&m, 104);
	m8(&m, 0, 4);
	m8(&m, 0xffffffff, 4);
	ms(&m, "root");
	ms(&m, "");
	m8(&m, 0, 4);
	CHECK_EQ_INT(send(s, &m, r, NULL), 105);
}

static void teardown(struct p9_server *s)
{
	char cmd[200];

	p9_server_fini(s);
	snprintf(cmd, sizeof(cmd), "rm -rf %s %s", share, outside);
	CHECK(!system(cmd));
}

static uint8_t walk(struct p9_server *s, uint32_t newfid, const char *name, uint32_t *err)
{
	struct msg m;
	uint8_t r[8192];

	begin(&m, 110);
	m8(&m, 0, 4);
	m8(&m, newfid, 4);
	m8(&m, 1, 2);
	ms(&m, name);
	return send(s, &m, r, err);
}

static uint8_t lopen(struct p9_server *s, uint32_t fid, uint32_t flags, uint32_t *err)
{
	struct msg m;
	uint8_t r[8192];

	begin(&m, 12);
	m8(&m, fid, 4);
	m8(&m, flags, 4);
	return send(s, &m, r, err);
}

TEST(p9_reads_a_file_in_the_share)
{
	struct p9_server s;
	struct msg m;
	uint8_t r[8192];

	setup(&s, false);
	CHECK_EQ_INT(walk(&s, 1, "hello", NULL), 111);
	CHECK_EQ_INT(lopen(&s, 1, O_RDONLY, NULL), 13);
	begin(&m, 116);
	m8(&m, 1, 4);
	m8(&m, 0, 8);
	m8(&m, 100, 4);
	CHECK_EQ_INT(send(&s, &m, r, NULL), 117);
	CHECK(r[7] == 2 && !memcmp(r + 11, "hi", 2));
	teardown(&s);
}

TEST(p9_refuses_dotdot_slash_and_symlinks_out)
{
	struct p9_server s;
	uint32_t err = 0;
	struct msg m;
	uint8_t r[8192];

	setup(&s, false);
	CHECK_EQ_INT(walk(&s, 2, "..", &err), 7);
	CHECK_EQ_INT(walk(&s, 2, "/etc", &err), 7);
	CHECK_EQ_INT(walk(&s, 2, "etc/passwd", &err), 7);
	/* A symlink is a name, never followed: walking through it fails... */
	begin(&m, 110);
	m8(&m, 0, 4);
	m8(&m, 3, 4);
	m8(&m, 2, 2);
	ms(&m, "etc");
	ms(&m, "passwd");
	CHECK_EQ_INT(send(&s, &m, r, &err), 111);
	CHECK(r[7] == 1 && r[8] == 0);	/* partial walk: one qid, no fid 3 */
	CHECK_EQ_INT(lopen(&s, 3, O_RDONLY, &err), 7);
	/* ...and opening it is refused rather than reading its target. */
	CHECK_EQ_INT(walk(&s, 4, "out", NULL), 111);
	CHECK_EQ_INT(lopen(&s, 4, O_RDONLY, &err), 7);
	teardown(&s);
}

TEST(p9_readonly_refuses_writes)
{
	struct p9_server s;
	uint32_t err = 0;

	setup(&s, true);
	CHECK_EQ_INT(walk(&s, 1, "hello", NULL), 111);
	CHECK_EQ_INT(lopen(&s, 1, O_RDWR, &err), 7);
	CHECK_EQ_INT(err, 30);	/* EROFS */
	CHECK_EQ_INT(lopen(&s, 1, O_RDONLY, NULL), 13);
	teardown(&s);
}

TEST(p9_short_and_garbage_messages_get_rlerror)
{
	struct p9_server s;
	uint8_t junk[64] = { 64, 0, 0, 0, 110, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0xff, 0xff };
	uint8_t r[8192];
	size_t n;

	setup(&s, false);
	n = p9_handle(&s, junk, sizeof(junk), r, sizeof(r));
	CHECK(n == 11 && r[4] == 7);
	n = p9_handle(&s, junk, 3, r, sizeof(r));
	CHECK(n == 11 && r[4] == 7);
	CHECK(!p9_name_ok("..") && !p9_name_ok("a/b") && !p9_name_ok("") && p9_name_ok("a"));
	teardown(&s);
}
