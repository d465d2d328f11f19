// SPDX-License-Identifier: GPL-2.0
/*
 * Incremental snapshots (snapshot.h): a diff's directory holds, besides
 * the full state file,
 *
 *   DIR/memory  guest RAM, only the pages dirtied since its base (sparse)
 *   DIR/dirty   which pages those are: a bitmap, a bit per page
 *   DIR/base    "lvmm-diff 1", the base's id and its directory, one a line
 *
 * and every snapshot has DIR/id (16 hex digits), so a base that was
 * replaced by another snapshot of the same name is refused, not layered.
 * A restore maps the chain's first full memory file and lays each diff's
 * pages over it, oldest first.
 */
#include "snapshot.h"
#include "../util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PAGE 4096ULL

int snapshot_id_read(const char *dir, uint64_t *id)
{
	char path[PATH_MAX + 8], buf[32] = "", *end;
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/id", dir);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EINVAL;
	buf[n] = '\0';
	*id = strtoull(buf, &end, 16);
	return end == buf + 16 && (*end == '\n' || !*end) ? 0 : -EINVAL;
}

int diff_base_parse(const char *text, char *base, size_t len, uint64_t *id)
{
	const char *p = text, *nl;
	char *end;

	if (strncmp(p, "lvmm-diff 1\n", 12))
		return -EINVAL;
	p += 12;
	*id = strtoull(p, &end, 16);
	if (end != p + 16 || *end != '\n')
		return -EINVAL;
	p = end + 1;
	nl = strchr(p, '\n');
	if (!nl || nl == p || p[0] != '/' || nl[1] || (size_t)(nl - p) >= len ||
	    memchr(p, '\0', (size_t)(nl - p)))
		return -EINVAL;
	memcpy(base, p, (size_t)(nl - p));
	base[nl - p] = '\0';
	return 0;
}

int diff_read_base(const char *dir, char *base, size_t len, uint64_t *id, char *err,
		   size_t errlen)
{
	char path[PATH_MAX + 8], buf[PATH_MAX + 64];
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/base", dir);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return errno == ENOENT ? -ENOENT : -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	if (n <= 0 || diff_base_parse(buf, base, len, id)) {
		snprintf(err, errlen, "%s: not a diff's base file", path);
		return -EINVAL;
	}
	return 0;
}

int diff_check_chain(const char *dir, uint64_t mem_size, char *err, size_t errlen)
{
	char cur[PATH_MAX], base[PATH_MAX], path[PATH_MAX + 8];
	struct stat st;

	snprintf(cur, sizeof(cur), "%s", dir);
	for (int depth = 0;; depth++) {
		uint64_t want, have;
		int ret = diff_read_base(cur, base, sizeof(base), &want, err, errlen);

		if (ret == -ENOENT)
			return 0;	/* a full snapshot ends the chain */
		if (ret)
			return ret;
		if (depth == DIFF_MAX_DEPTH) {
			snprintf(err, errlen, "%s: more than %d diffs in a row (or a loop)", dir,
				 DIFF_MAX_DEPTH);
			return -ELOOP;
		}
		if (snapshot_id_read(base, &have) || have != want) {
			snprintf(err, errlen,
				 "%s is a diff of %s, which is missing or another snapshot now (id %016llx wanted)",
				 cur, base, (unsigned long long)want);
			return -ENOENT;
		}
		snprintf(path, sizeof(path), "%s/memory", base);
		if (stat(path, &st) < 0 || (uint64_t)st.st_size != mem_size) {
			snprintf(err, errlen, "%s: the base's memory file is missing or of another size",
				 base);
			return -EINVAL;
		}
		snprintf(cur, sizeof(cur), "%s", base);
	}
}

int diff_apply(const char *dir, void *ram, uint64_t size, char *err, size_t errlen)
{
	char path[PATH_MAX + 8];
	uint64_t pages = size / PAGE, longs = (pages + 63) / 64;
	unsigned long *bits = calloc(longs, sizeof(unsigned long));
	int mfd = -1, bfd = -1, ret = 0;

	if (!bits) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	snprintf(path, sizeof(path), "%s/dirty", dir);
	bfd = open(path, O_RDONLY | O_CLOEXEC);
	if (bfd < 0 || pread(bfd, bits, longs * sizeof(long), 0) != (ssize_t)(longs * sizeof(long))) {
		ret = -EINVAL;
		snprintf(err, errlen, "%s: missing or short (a bit per page)", path);
		goto out;
	}
	snprintf(path, sizeof(path), "%s/memory", dir);
	mfd = open(path, O_RDONLY | O_CLOEXEC);
	if (mfd < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
		goto out;
	}
	for (uint64_t pg = 0; pg < pages; pg++) {
		if (!((bits[pg / 64] >> (pg % 64)) & 1))
			continue;
		/* A hole reads as zeros: a page the guest cleared. */
		if (pread(mfd, (char *)ram + pg * PAGE, PAGE, (off_t)(pg * PAGE)) != (ssize_t)PAGE) {
			ret = -EIO;
			snprintf(err, errlen, "%s: page %llu: short read", path,
				 (unsigned long long)pg);
			goto out;
		}
	}
out:
	if (mfd >= 0)
		close(mfd);
	if (bfd >= 0)
		close(bfd);
	free(bits);
	return ret;
}
