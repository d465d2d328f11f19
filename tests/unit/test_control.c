// SPDX-License-Identifier: GPL-2.0
/*
 * The control channel (control/control.c): the request line and its parse,
 * the JSON helpers, and a real socket in a scratch runtime directory. What
 * arrives on the socket is untrusted: a request is taken whole or refused,
 * never cut, and the runtime directory must be ours alone.
 */
#include "test.h"
#include "../../control/control.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

TEST(control_take_line)
{
	char a[] = "info\nmore", b[] = "pause\r\n", c[] = "no newline", d[] = "in\0fo\n", e[] = "\n";

	CHECK_EQ_INT(control_take_line(a, sizeof(a) - 1), 4);
	CHECK_STR(a, "info");
	CHECK_EQ_INT(control_take_line(b, sizeof(b) - 1), 5);
	CHECK_STR(b, "pause");
	CHECK_EQ_INT(control_take_line(c, sizeof(c) - 1), -E2BIG);
	CHECK_EQ_INT(control_take_line(d, sizeof(d) - 1), -EINVAL);
	CHECK_EQ_INT(control_take_line(e, 1), 0);
	CHECK_STR(e, "");
	CHECK_EQ_INT(control_take_line(e, 0), -E2BIG);
}

TEST(control_parse_request)
{
	static const char *const bad[] = {
		"", "info ", " info", "INFO", "snapshot", "snapshot ", "snapshot 0", "snapshot 0 ",
		"snapshot 4 /x", "snapshot 0 x", "snapshot 0 ../x", "snapshot 00 /x", "snapshot  0 /x",
		"snapshots 0 /x", "stop now",
	};
	struct control_req r;
	char err[256];

	CHECK_EQ_INT(control_parse_request("info", &r, err, sizeof(err)), 0);
	CHECK_EQ_INT(r.op, CONTROL_INFO);
	CHECK_EQ_INT(control_parse_request("pause", &r, err, sizeof(err)), 0);
	CHECK_EQ_INT(r.op, CONTROL_PAUSE);
	CHECK_EQ_INT(control_parse_request("resume", &r, err, sizeof(err)), 0);
	CHECK_EQ_INT(r.op, CONTROL_RESUME);
	CHECK_EQ_INT(control_parse_request("stop", &r, err, sizeof(err)), 0);
	CHECK_EQ_INT(r.op, CONTROL_STOP);
	CHECK_EQ_INT(control_parse_request("snapshot 0 /tmp/s 1", &r, err, sizeof(err)), 0);
	CHECK_EQ_INT(r.op, CONTROL_SNAPSHOT);
	CHECK(!r.stop);
	CHECK_STR(r.dir, "/tmp/s 1");
	CHECK_EQ_INT(control_parse_request("snapshot 1 /", &r, err, sizeof(err)), 0);
	CHECK(r.stop);
	CHECK(!r.progress);
	CHECK_STR(r.dir, "/");
	CHECK_EQ_INT(control_parse_request("snapshot 2 /s", &r, err, sizeof(err)), 0);
	CHECK(!r.stop && r.progress);
	CHECK_EQ_INT(control_parse_request("snapshot 3 /s", &r, err, sizeof(err)), 0);
	CHECK(r.stop && r.progress);
	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (!CHECK_EQ_INT(control_parse_request(bad[i], &r, err, sizeof(err)), -EINVAL) ||
		    !CHECK(err[0]))
			FAIL("for request '%s'", bad[i]);
	}
}

TEST(control_json)
{
	char out[64], small[8];

	json_escape("a\"b\\c\n\x01", out, sizeof(out));
	CHECK_STR(out, "a\\\"b\\\\c\\u000a\\u0001");
	json_escape("abcdefghijkl", small, sizeof(small));
	CHECK(strlen(small) < sizeof(small));
	CHECK(json_get("{\"ok\":true,\"name\":\"v\\\"m\",\"vcpus\":2}", "name", out, sizeof(out)));
	CHECK_STR(out, "v\"m");
	CHECK(json_get("{\"ok\":true,\"vcpus\":2}", "vcpus", out, sizeof(out)));
	CHECK_STR(out, "2");
	CHECK(!json_get("{\"ok\":true}", "error", out, sizeof(out)));
	CHECK(json_get("{\"error\":\"abcdefghijkl\"}", "error", small, sizeof(small)));
	CHECK_STR(small, "abcdefg");
	CHECK(json_get("{\"error\":\"ab\\", "error", out, sizeof(out)));	/* cut short */
	CHECK_STR(out, "ab\\");
}

static char runtime[64];

static bool runtime_setup(mode_t mode)
{
	snprintf(runtime, sizeof(runtime), "/tmp/lvmm-test-control-XXXXXX");
	if (!CHECK(mkdtemp(runtime)))
		return false;
	chmod(runtime, mode);
	setenv("LVMM_RUNTIME_DIR", runtime, 1);
	return true;
}

static void runtime_cleanup(void)
{
	rmdir(runtime);
}

struct seen {
	int calls;
	char req[8192];
};

static void record(void *ctx, const char *req, char *reply, size_t size, int fd)
{
	struct seen *s = ctx;
	static const char progress[] = "# progress 1048576 4194304\n# other note\n# progress 4194304 4194304\n";

	s->calls++;
	/* A snapshot that asked for progress hears it before the reply. */
	if (!strncmp(req, "snapshot 2 ", 11) && write(fd, progress, sizeof(progress) - 1) < 0)
		return;
	snprintf(s->req, sizeof(s->req), "%s", req);
	snprintf(reply, size, "{\"ok\":true,\"len\":%zu}", strlen(req));
}

/* Send raw bytes to NAME's socket, read the reply line. */
static bool raw_request(const char *name, const char *data, size_t len, char *reply, size_t size)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	size_t n = 0;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s.sock", runtime, name);
	if (!CHECK(fd >= 0) || !CHECK_EQ_INT(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0)) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	CHECK_EQ_INT(send(fd, data, len, MSG_NOSIGNAL), len);
	while (n < size - 1) {
		ssize_t r = read(fd, reply + n, size - 1 - n);

		if (r <= 0)
			break;
		n += r;
	}
	reply[n] = '\0';
	close(fd);
	return true;
}

TEST(control_socket_round_trip)
{
	struct control c;
	struct seen seen = { 0 };
	char err[512], reply[512];

	if (!runtime_setup(0700))
		return;
	if (!CHECK_EQ_INT(control_start(&c, "vm1", record, &seen, err, sizeof(err)), 0)) {
		FAIL("%s", err);
		runtime_cleanup();
		return;
	}
	CHECK_EQ_INT(control_request("vm1", "snapshot 1 /tmp/a b", reply, sizeof(reply), err,
				     sizeof(err)), 0);
	CHECK_STR(seen.req, "snapshot 1 /tmp/a b");
	CHECK_STR(reply, "{\"ok\":true,\"len\":19}");
	control_stop(&c);
	runtime_cleanup();
}

struct heard {
	unsigned int n;
	unsigned long long done[4], total[4];
};

static void heard_progress(void *ctx, unsigned long long done, unsigned long long total)
{
	struct heard *h = ctx;

	if (h->n < 4) {
		h->done[h->n] = done;
		h->total[h->n] = total;
	}
	h->n++;
}

/* Progress lines come before the reply; a client that did not ask sees none. */
TEST(control_socket_progress)
{
	struct control c;
	struct seen seen = { 0 };
	struct heard heard = { 0 };
	char err[512], reply[512];

	if (!runtime_setup(0700))
		return;
	if (!CHECK_EQ_INT(control_start(&c, "vm1", record, &seen, err, sizeof(err)), 0)) {
		FAIL("%s", err);
		runtime_cleanup();
		return;
	}
	CHECK_EQ_INT(control_request_progress("vm1", "snapshot 2 /tmp/p", reply, sizeof(reply),
					      heard_progress, &heard, err, sizeof(err)), 0);
	CHECK_STR(reply, "{\"ok\":true,\"len\":17}");
	CHECK_EQ_INT(heard.n, 2);
	CHECK_EQ_U64(heard.done[0], 1048576);
	CHECK_EQ_U64(heard.total[0], 4194304);
	CHECK_EQ_U64(heard.done[1], 4194304);
	/* control_request drops the lines and returns the reply itself. */
	CHECK_EQ_INT(control_request("vm1", "snapshot 2 /tmp/p", reply, sizeof(reply), err,
				     sizeof(err)), 0);
	CHECK_STR(reply, "{\"ok\":true,\"len\":17}");
	control_stop(&c);
	runtime_cleanup();
}

/*
 * A request longer than the server's buffer was cut to fit and handled:
 * "snapshot 0 /long/path..." became a snapshot into a shorter path. It
 * must be refused whole.
 */
TEST(control_socket_long_request_refused)
{
	size_t len = 2 * PATH_MAX + 2000;	/* beyond REQUEST_MAX (two paths) */
	char *line = malloc(len + 1), err[512], reply[512];
	struct seen seen = { 0 };
	struct control c;

	if (!CHECK(line) || !runtime_setup(0700)) {
		free(line);
		return;
	}
	memset(line, 'a', len);
	memcpy(line, "snapshot 0 /", 12);
	line[len - 1] = '\n';
	if (CHECK_EQ_INT(control_start(&c, "vm2", record, &seen, err, sizeof(err)), 0)) {
		if (raw_request("vm2", line, len, reply, sizeof(reply))) {
			CHECK_EQ_INT(seen.calls, 0);
			CHECK_CONTAINS(reply, "request too long");
		}
		/* The longest absolute path there is still fits. */
		memset(line, 'a', len);
		memcpy(line, "snapshot 0 /", 12);
		line[11 + PATH_MAX - 1] = '\n';
		if (raw_request("vm2", line, 11 + PATH_MAX, reply, sizeof(reply))) {
			CHECK_EQ_INT(seen.calls, 1);
			CHECK_EQ_U64(strlen(seen.req), 11 + PATH_MAX - 1);
		}
		control_stop(&c);
	} else {
		FAIL("%s", err);
	}
	free(line);
	runtime_cleanup();
}

/*
 * A runtime directory others can write (say a /tmp/lvmm-UID another user
 * made first) lets them replace a VM's socket with theirs: refused by the
 * VM and by the client.
 */
TEST(control_runtime_dir_must_be_private)
{
	struct seen seen = { 0 };
	char err[512] = "", reply[64];
	char names[4][72];
	struct control c;

	if (!runtime_setup(0777))
		return;
	if (!CHECK(control_start(&c, "vm3", record, &seen, err, sizeof(err)) < 0))
		control_stop(&c);
	CHECK_CONTAINS(err, "not trusting it");
	err[0] = '\0';
	CHECK(control_request("vm3", "info", reply, sizeof(reply), err, sizeof(err)) < 0);
	CHECK_CONTAINS(err, "not trusting it");
	CHECK_EQ_INT(control_list(names, 4), 0);
	chmod(runtime, 0700);
	if (CHECK_EQ_INT(control_start(&c, "vm3", record, &seen, err, sizeof(err)), 0)) {
		CHECK_EQ_INT(control_list(names, 4), 1);
		control_stop(&c);
	}
	if (geteuid() == 0) {
		/* Ours alone: a directory of another user is not. */
		CHECK_EQ_INT(chown(runtime, 65534, 65534), 0);
		err[0] = '\0';
		if (!CHECK(control_start(&c, "vm3", record, &seen, err, sizeof(err)) < 0))
			control_stop(&c);
		CHECK_CONTAINS(err, "not trusting it");
	}
	runtime_cleanup();
}
