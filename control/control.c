// SPDX-License-Identifier: GPL-2.0
/*
 * The control socket: the server thread of a running VM (one request line,
 * one reply line per connection) and the client the CLI verbs use.
 */
#include "control.h"
#include "../sandbox/sandbox.h"
#include "../util.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* "snapshot 1 " and any absolute path fit. */
#define REQUEST_MAX (2 * PATH_MAX + 64)	/* snapshot-diff: two paths */
#define REPLY_MAX 8192

int control_runtime_dir(char *buf, size_t len)
{
	const char *env = getenv("LVMM_RUNTIME_DIR");
	const char *xdg = getenv("XDG_RUNTIME_DIR");

	if (env && *env)
		snprintf(buf, len, "%s", env);
	else if (geteuid() == 0)
		snprintf(buf, len, "/run/lvmm");
	else if (xdg && *xdg)
		snprintf(buf, len, "%s/lvmm", xdg);
	else
		snprintf(buf, len, "/tmp/lvmm-%u", (unsigned int)geteuid());
	return 0;
}

static int socket_path(const char *name, char *path, size_t len)
{
	char dir[256];

	control_runtime_dir(dir, sizeof(dir));
	if ((size_t)snprintf(path, len, "%s/%s.sock", dir, name) >= len)
		return -ENAMETOOLONG;
	return 0;
}

static int connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int ret = -errno;

		close(fd);
		return ret;
	}
	return fd;
}

static int mkdir_p(const char *dir)
{
	char tmp[256];

	snprintf(tmp, sizeof(tmp), "%s", dir);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	/* The last level is ours: owner only. */
	if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int control_take_line(char *buf, size_t n)
{
	char *nl = memchr(buf, '\n', n);
	size_t len;

	if (!nl)
		return -E2BIG;
	len = nl - buf;
	if (memchr(buf, '\0', len))
		return -EINVAL;
	if (len && buf[len - 1] == '\r')
		len--;
	buf[len] = '\0';
	return len;
}

int control_parse_request(const char *line, struct control_req *req, char *err, size_t errlen)
{
	static const char *const simple[] = {
		[CONTROL_INFO] = "info",
		[CONTROL_PAUSE] = "pause",
		[CONTROL_RESUME] = "resume",
		[CONTROL_STOP] = "stop",
	};

	memset(req, 0, sizeof(*req));
	for (unsigned int i = 0; i < sizeof(simple) / sizeof(simple[0]); i++) {
		if (!strcmp(line, simple[i])) {
			req->op = i;
			return 0;
		}
	}
	if (!strncmp(line, "snapshot ", 9)) {
		/*
		 * "snapshot FLAGS DIR": the client made DIR absolute (the VM's cwd
		 * is not its); FLAGS 0-3: 1 stop after, 2 progress lines first.
		 */
		if (line[9] < '0' || line[9] > '3' || line[10] != ' ' || line[11] != '/') {
			snprintf(err, errlen, "bad request (snapshot 0-3 ABSOLUTE-DIR)");
			return -EINVAL;
		}
		req->op = CONTROL_SNAPSHOT;
		req->stop = (line[9] - '0') & 1;
		req->progress = (line[9] - '0') & 2;
		req->dir = line + 11;
		return 0;
	}
	if (!strncmp(line, "snapshot-diff ", 14)) {
		/* "snapshot-diff FLAGS LEN BASE DIR": both absolute, BASE LEN bytes. */
		const char *p = line + 14;
		char *end;
		unsigned long len;

		if (p[0] < '0' || p[0] > '3' || p[1] != ' ')
			goto bad_diff;
		len = strtoul(p + 2, &end, 10);
		if (end == p + 2 || *end != ' ' || !len || len >= sizeof(req->diff_from) ||
		    strnlen(end + 1, len + 1) < len + 1 || end[1] != '/' || end[1 + len] != ' ' ||
		    end[2 + len] != '/')
			goto bad_diff;
		req->op = CONTROL_SNAPSHOT;
		req->stop = (p[0] - '0') & 1;
		req->progress = (p[0] - '0') & 2;
		memcpy(req->diff_from, end + 1, len);
		req->diff_from[len] = '\0';
		req->dir = end + 2 + len;
		return 0;
bad_diff:
		snprintf(err, errlen, "bad request (snapshot-diff 0-3 LEN ABSOLUTE-BASE ABSOLUTE-DIR)");
		return -EINVAL;
	}
	if (!strncmp(line, "migrate ", 8)) {
		/* "migrate FLAGS DOWNTIME_MS URI": FLAGS 0 or 2 (progress lines). */
		const char *p = line + 8;
		char *end;
		unsigned long ms;

		if ((p[0] != '0' && p[0] != '2') || p[1] != ' ')
			goto bad_migrate;
		ms = strtoul(p + 2, &end, 10);
		if (end == p + 2 || *end != ' ' || !end[1] || ms < 1 || ms > 600000)
			goto bad_migrate;
		req->op = CONTROL_MIGRATE;
		req->progress = p[0] == '2';
		req->downtime_ms = (unsigned int)ms;
		req->dir = end + 1;
		return 0;
bad_migrate:
		snprintf(err, errlen, "bad request (migrate 0|2 DOWNTIME_MS URI)");
		return -EINVAL;
	}
	snprintf(err, errlen, "unknown request");
	return -EINVAL;
}

/*
 * The runtime directory holds the sockets clients trust: it must be ours
 * and writable by nobody else, or another user could swap a VM's socket
 * for theirs (e.g. a /tmp/lvmm-UID made before we ran).
 */
static int check_runtime_dir(const char *dir, char *err, size_t errlen)
{
	struct stat st;

	if (lstat(dir, &st) < 0) {
		int ret = -errno;

		snprintf(err, errlen, "%s: %s", dir, strerror(-ret));
		return ret;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022)) {
		snprintf(err, errlen, "runtime directory %s is not a directory of ours that only we can write (owner %u, mode %03o): not trusting it (see LVMM_RUNTIME_DIR)",
			 dir, (unsigned int)st.st_uid, (unsigned int)(st.st_mode & 07777));
		return -EPERM;
	}
	return 0;
}

static void serve_one(struct control *c, int fd)
{
	char req[REQUEST_MAX], reply[REPLY_MAX];
	size_t n = 0;
	int len = -E2BIG;

	/* One line; a client that sends nothing for 5 s is dropped. */
	while (n < sizeof(req)) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;

		if (poll(&p, 1, 5000) <= 0)
			return;
		r = read(fd, req + n, sizeof(req) - n);
		if (r <= 0)
			return;
		n += r;
		len = control_take_line(req, n);
		if (len != -E2BIG)
			break;
	}
	/* A request longer than the buffer is refused, not cut (a DIR cut short is another DIR). */
	if (len < 0)
		snprintf(reply, sizeof(reply), "{\"ok\":false,\"error\":\"%s\"}",
			 len == -E2BIG ? "request too long" : "bad request (a NUL byte)");
	else
		c->handler(c->ctx, req, reply, sizeof(reply) - 1, fd);
	strcat(reply, "\n");
	/* A client that hung up gets no reply; the request was served all the same. */
	if (write_all(fd, reply, strlen(reply)))
		return;
}

static void *control_thread(void *arg)
{
	struct control *c = arg;

	sandbox_enter(SANDBOX_CONTROL);
	for (;;) {
		struct pollfd p[2] = {
			{ .fd = c->listen_fd, .events = POLLIN },
			{ .fd = c->stop_efd, .events = POLLIN },
		};
		int fd;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents)
			break;
		fd = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		serve_one(c, fd);
		close(fd);
	}
	return NULL;
}

int control_start(struct control *c, const char *name, control_handler handler, void *ctx,
		  char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[256];
	int fd, ret;

	memset(c, 0, sizeof(*c));
	c->listen_fd = c->stop_efd = -1;
	c->handler = handler;
	c->ctx = ctx;
	control_runtime_dir(dir, sizeof(dir));
	ret = mkdir_p(dir);
	if (ret) {
		snprintf(err, errlen, "control: cannot create %s: %s", dir, strerror(-ret));
		return ret;
	}
	ret = check_runtime_dir(dir, err, errlen);
	if (ret)
		return ret;
	if (socket_path(name, c->path, sizeof(c->path)) || strlen(c->path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "control: socket path for '%s' is too long", name);
		return -ENAMETOOLONG;
	}
	fd = connect_to(c->path);
	if (fd >= 0) {
		close(fd);
		snprintf(err, errlen, "a VM named '%s' is already running (%s); choose another --name",
			 name, c->path);
		return -EEXIST;
	}
	unlink(c->path);	/* a stale socket of a VM that died */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "control: socket: %s", strerror(-ret));
		return ret;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", c->path);
	/* Created owner-only: the umask covers the window before chmod. */
	mode_t old = umask(0177);

	ret = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? -errno : 0;
	umask(old);
	if (!ret && chmod(c->path, 0600) < 0)
		ret = -errno;
	if (!ret && listen(fd, 8) < 0)
		ret = -errno;
	if (ret) {
		snprintf(err, errlen, "control: %s: %s", c->path, strerror(-ret));
		close(fd);
		return ret;
	}
	c->listen_fd = fd;
	c->stop_efd = eventfd(0, EFD_CLOEXEC);
	if (c->stop_efd < 0 || pthread_create(&c->thread, NULL, control_thread, c)) {
		snprintf(err, errlen, "control: cannot start its thread");
		control_stop(c);
		return -ENOMEM;
	}
	c->running = true;
	return 0;
}

void control_stop(struct control *c)
{
	uint64_t one = 1;

	if (c->running) {
		if (write(c->stop_efd, &one, sizeof(one)) == sizeof(one))
			pthread_join(c->thread, NULL);
		c->running = false;
	}
	if (c->listen_fd >= 0) {
		close(c->listen_fd);
		unlink(c->path);
		c->listen_fd = -1;
	}
	if (c->stop_efd >= 0)
		close(c->stop_efd);
	c->stop_efd = -1;
}

int control_request(const char *name, const char *request, char *reply, size_t size,
		    char *err, size_t errlen)
{
	return control_request_progress(name, request, reply, size, NULL, NULL, err, errlen);
}

/* Lines "# progress DONE TOTAL" before the reply go to progress; returns the reply's length. */
static size_t take_progress(char *buf, size_t n, control_progress progress, void *pctx)
{
	char *nl;

	while (n && buf[0] == '#' && (nl = memchr(buf, '\n', n))) {
		unsigned long long done, total;

		*nl = '\0';
		if (progress && sscanf(buf, "# progress %llu %llu", &done, &total) == 2)
			progress(pctx, done, total);
		n -= nl + 1 - buf;
		memmove(buf, nl + 1, n);
	}
	return n;
}

int control_request_progress(const char *name, const char *request, char *reply, size_t size,
			     control_progress progress, void *pctx, char *err, size_t errlen)
{
	char path[108], line[REQUEST_MAX], dir[256];
	size_t n = 0;
	int fd;

	if ((size_t)snprintf(line, sizeof(line), "%s\n", request) >= sizeof(line)) {
		snprintf(err, errlen, "request too long");
		return -E2BIG;
	}
	if (socket_path(name, path, sizeof(path))) {
		snprintf(err, errlen, "name '%s' is too long", name);
		return -ENAMETOOLONG;
	}
	control_runtime_dir(dir, sizeof(dir));
	if (access(dir, F_OK) == 0) {
		fd = check_runtime_dir(dir, err, errlen);
		if (fd)
			return fd;
	}
	fd = connect_to(path);
	if (fd < 0) {
		if (fd == -ENOENT || fd == -ECONNREFUSED)
			snprintf(err, errlen, "no running VM named '%s' (see lvmm list)", name);
		else
			snprintf(err, errlen, "%s: %s", path, strerror(-fd));
		return fd;
	}
	if (write_all(fd, line, strlen(line))) {
		close(fd);
		snprintf(err, errlen, "'%s' closed the connection", name);
		return -EPIPE;
	}
	while (n < size - 1) {
		ssize_t r = read(fd, reply + n, size - 1 - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n = take_progress(reply, n + r, progress, pctx);
		if (n && reply[0] != '#' && memchr(reply, '\n', n))
			break;
	}
	close(fd);
	reply[n] = '\0';
	reply[strcspn(reply, "\n")] = '\0';
	if (!n) {
		snprintf(err, errlen, "'%s' did not answer", name);
		return -EPIPE;
	}
	return 0;
}

int control_list(char names[][72], int max)
{
	char dir[256], err[512];
	struct dirent *de;
	DIR *d;
	int n = 0;

	control_runtime_dir(dir, sizeof(dir));
	if (check_runtime_dir(dir, err, sizeof(err)))
		return 0;
	d = opendir(dir);
	if (!d)
		return 0;
	while ((de = readdir(d)) && n < max) {
		size_t len = strlen(de->d_name);

		if (len < 6 || len - 5 >= 72 || strcmp(de->d_name + len - 5, ".sock"))
			continue;
		memcpy(names[n], de->d_name, len - 5);
		names[n][len - 5] = '\0';
		n++;
	}
	closedir(d);
	return n;
}

void json_escape(const char *in, char *out, size_t size)
{
	size_t k = 0;

	for (; *in && k + 7 < size; in++) {
		unsigned char ch = *in;

		if (ch == '"' || ch == '\\') {
			out[k++] = '\\';
			out[k++] = ch;
		} else if (ch < 0x20) {
			k += snprintf(out + k, size - k, "\\u%04x", ch);
		} else {
			out[k++] = ch;
		}
	}
	out[k] = '\0';
}

bool json_get(const char *json, const char *key, char *out, size_t size)
{
	char pat[80];
	const char *p;
	size_t k = 0;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(json, pat);
	if (!p)
		return false;
	p += strlen(pat);
	if (*p == '"') {
		for (p++; *p && *p != '"' && k + 1 < size; p++) {
			if (*p == '\\' && p[1])
				p++;
			out[k++] = *p;
		}
	} else {
		while (*p && *p != ',' && *p != '}' && k + 1 < size)
			out[k++] = *p++;
	}
	out[k] = '\0';
	return true;
}
