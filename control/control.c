// SPDX-License-Identifier: GPL-2.0
#include "control.h"
#include "../sandbox/sandbox.h"
#include "../util.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define REQUEST_MAX 4096
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

static void serve_one(struct control *c, int fd)
{
	char req[REQUEST_MAX], reply[REPLY_MAX];
	size_t n = 0;

	/* One line; a client that sends nothing for 5 s is dropped. */
	while (n < sizeof(req) - 1) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;

		if (poll(&p, 1, 5000) <= 0)
			return;
		r = read(fd, req + n, sizeof(req) - 1 - n);
		if (r <= 0)
			return;
		n += r;
		if (memchr(req, '\n', n))
			break;
	}
	req[n] = '\0';
	req[strcspn(req, "\r\n")] = '\0';
	c->handler(c->ctx, req, reply, sizeof(reply) - 1);
	strcat(reply, "\n");
	write_all(fd, reply, strlen(reply));
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
	if (fd < 0)
		return -errno;
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
	char path[108], line[REQUEST_MAX];
	size_t n = 0;
	int fd;

	if (socket_path(name, path, sizeof(path))) {
		snprintf(err, errlen, "name '%s' is too long", name);
		return -ENAMETOOLONG;
	}
	fd = connect_to(path);
	if (fd < 0) {
		if (fd == -ENOENT || fd == -ECONNREFUSED)
			snprintf(err, errlen, "no running VM named '%s' (see lvmm list)", name);
		else
			snprintf(err, errlen, "%s: %s", path, strerror(-fd));
		return fd;
	}
	snprintf(line, sizeof(line), "%s\n", request);
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
		n += r;
		if (memchr(reply, '\n', n))
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
	char dir[256];
	struct dirent *de;
	DIR *d;
	int n = 0;

	control_runtime_dir(dir, sizeof(dir));
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
