// SPDX-License-Identifier: GPL-2.0
/* The quick guest's root directory, ~/.lvmm/NAME, made and kept up to date. */
#include "quick.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Directories the guest's init and a shell expect; tmp is world-writable. */
static const struct { const char *path; mode_t mode; } dirs[] = {
	{ "dev", 0755 }, { "proc", 0555 }, { "sys", 0555 }, { "host", 0755 },
	{ "root", 0700 }, { "etc", 0755 }, { "home", 0755 }, { "mnt", 0755 },
	{ "run", 0755 }, { "var", 0755 }, { "tmp", 01777 }, { "var/tmp", 01777 },
	{ "virt", 0755 }, { "virt/sandbox", 0755 },
};

/* Where the guest finds the host's programs and libraries: links into /host. */
static const char *const host_links[] = { "bin", "sbin", "lib", "lib64", "usr" };

/* Written once; the user may edit them afterwards. */
static const struct { const char *path, *text; } etc_files[] = {
	{ "etc/passwd", "root:x:0:0:root:/root:/bin/sh\n" },
	{ "etc/group", "root:x:0:\n" },
	{ "etc/hosts", "127.0.0.1\tlocalhost\n" },
};

static int fail(char *err, size_t errlen, const char *what, const char *path, int ret)
{
	snprintf(err, errlen, "the quick guest's directory: %s %s: %s", what, path, strerror(-ret));
	return ret;
}

static int make_dir(const char *path, mode_t mode, char *err, size_t errlen)
{
	struct stat st;

	if (mkdir(path, mode) == 0) {
		chmod(path, mode);	/* the umask must not take tmp's sticky bit */
		return 0;
	}
	if (errno != EEXIST)
		return fail(err, errlen, "making", path, -errno);
	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		return fail(err, errlen, "making", path, -ENOTDIR);
	return 0;
}

/* init: only rewritten when it differs, via a rename so a running guest's copy stays whole. */
static int write_init(const char *dir, const void *init, size_t len, char *err, size_t errlen)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	struct stat st;
	int fd, ret = 0;

	snprintf(path, sizeof(path), "%s/virt/init", dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && fstat(fd, &st) == 0 && (size_t)st.st_size == len) {
		void *old = malloc(len ? len : 1);
		bool same = old && pread(fd, old, len, 0) == (ssize_t)len && !memcmp(old, init, len);

		free(old);
		if (same) {
			close(fd);
			return 0;
		}
	}
	if (fd >= 0)
		close(fd);
	snprintf(tmp, sizeof(tmp), "%s/virt/.init.%d", dir, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	if (fd < 0)
		return fail(err, errlen, "writing", tmp, -errno);
	for (size_t done = 0; done < len;) {
		ssize_t n = write(fd, (const char *)init + done, len - done);

		if (n <= 0) {
			ret = n < 0 ? -errno : -EIO;
			break;
		}
		done += (size_t)n;
	}
	if (close(fd) < 0 && !ret)
		ret = -errno;
	if (!ret && rename(tmp, path) < 0)
		ret = -errno;
	if (ret) {
		unlink(tmp);
		return fail(err, errlen, "writing", path, ret);
	}
	return 0;
}

int guestfs_prepare(const char *dir, const char *host_root, const void *init, size_t init_len,
		    char *err, size_t errlen)
{
	char path[PATH_MAX], target[PATH_MAX];
	struct stat st;
	int ret;

	ret = make_dir(dir, 0755, err, errlen);
	for (size_t i = 0; !ret && i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, dirs[i].path);
		ret = make_dir(path, dirs[i].mode, err, errlen);
	}
	if (ret)
		return ret;
	for (size_t i = 0; i < sizeof(host_links) / sizeof(host_links[0]); i++) {
		snprintf(target, sizeof(target), "%s/%s", host_root, host_links[i]);
		snprintf(path, sizeof(path), "%s/%s", dir, host_links[i]);
		/* Only what the host has, and never over the user's own entry. */
		if (lstat(target, &st) < 0 || lstat(path, &st) == 0)
			continue;
		snprintf(target, sizeof(target), "/host/%s", host_links[i]);
		if (symlink(target, path) < 0)
			return fail(err, errlen, "linking", path, -errno);
	}
	for (size_t i = 0; i < sizeof(etc_files) / sizeof(etc_files[0]); i++) {
		int fd;

		snprintf(path, sizeof(path), "%s/%s", dir, etc_files[i].path);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0) {
			if (errno == EEXIST)
				continue;
			return fail(err, errlen, "writing", path, -errno);
		}
		ret = write(fd, etc_files[i].text, strlen(etc_files[i].text)) < 0 ? -errno : 0;
		close(fd);
		if (ret)
			return fail(err, errlen, "writing", path, ret);
	}
	return write_init(dir, init, init_len, err, errlen);
}
