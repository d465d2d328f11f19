// SPDX-License-Identifier: GPL-2.0
/*
 * Opening a snapshot for restore: everything that can be checked before
 * KVM is touched, and guest RAM mapped from the memory file. Applying it
 * at bring-up's steps is restore_apply.c's.
 */
#include "snapshot.h"
#include "../util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* 512 vCPUs' registers and the vGIC take a few MiB. */
#define STATE_FILE_MAX (256 << 20)

static int read_whole(const char *path, void **buf, size_t *len, char *err, size_t errlen)
{
	int ret = read_file(path, buf, len);

	if (ret)
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
	return ret;
}

/* The disks must be there with the sizes they had (the guest's view of them). */
static int check_disks(const struct snapshot_image *img, char *err, size_t errlen)
{
	for (unsigned int i = 0; i < img->cfg.nr_disks; i++) {
		const char *path = img->cfg.disks[i].path;
		uint64_t size;
		int ret = disk_path_size(path, &size);

		/* (A FIFO is refused before anything opens it: it would block.) */
		if (ret == -EINVAL) {
			snprintf(err, errlen, "disk '%s' of the snapshot: not a regular file or block device",
				 path);
			return ret;
		}
		if (ret) {
			snprintf(err, errlen, "disk '%s' of the snapshot: %s", path, strerror(-ret));
			return ret;
		}
		if (size != img->disk_size[i]) {
			snprintf(err, errlen, "disk '%s' changed size since the snapshot (%llu bytes then, %llu now)",
				 path, (unsigned long long)img->disk_size[i], (unsigned long long)size);
			return -EINVAL;
		}
	}
	return 0;
}

int snapshot_open(const char *dir, struct snapshot_image *img, char *err, size_t errlen)
{
	char path[PATH_MAX + 16];
	struct stat st;
	int ret;

	memset(img, 0, sizeof(*img));
	img->mem_fd = -1;
	snprintf(img->dir, sizeof(img->dir), "%s", dir);
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: %s", dir, stat(dir, &st) < 0 ? strerror(errno) :
			 "not a snapshot directory");
		return -ENOENT;
	}
	snprintf(path, sizeof(path), "%s/state", dir);
	/* Not a FIFO (read_file would block in open), nor giant: it is read whole. */
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		return -EINVAL;
	}
	if (stat(path, &st) == 0 && st.st_size > STATE_FILE_MAX) {
		snprintf(err, errlen, "%s: %lld bytes, more than a state file can have (%d MiB)",
			 path, (long long)st.st_size, STATE_FILE_MAX >> 20);
		return -EFBIG;
	}
	ret = read_whole(path, &img->state_buf, &img->state_len, err, errlen);
	if (ret)
		return ret;
	{
		char why[256];

		ret = sr_open(&img->reader, img->state_buf, img->state_len, why, sizeof(why));
		if (ret) {
			snprintf(err, errlen, "%s: %s", path, why);
			goto fail;
		}
	}
	ret = snapshot_parse_config(img, err, errlen);
	ret = ret ?: check_disks(img, err, errlen);
	if (ret)
		goto fail;
	snprintf(path, sizeof(path), "%s/memory", dir);
	/* O_NONBLOCK: a FIFO must not block the open (regular files ignore it). */
	img->mem_fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (img->mem_fd < 0 || fstat(img->mem_fd, &st) < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		ret = -EINVAL;
		goto fail;
	}
	if ((uint64_t)st.st_size != img->cfg.mem_bytes) {
		snprintf(err, errlen, "%s has %llu bytes, the snapshot's RAM is %llu: truncated or not this snapshot's",
			 path, (unsigned long long)st.st_size,
			 (unsigned long long)img->cfg.mem_bytes);
		ret = -EINVAL;
		goto fail;
	}
	img->mem_size = st.st_size;
	/* A diff: its bases are there and are the snapshots it was taken from. */
	ret = diff_check_chain(dir, img->mem_size, err, errlen);
	if (ret)
		goto fail;
	return 0;
fail:
	snapshot_close(img);
	return ret;
}

void snapshot_close(struct snapshot_image *img)
{
	sr_close(&img->reader);
	free(img->state_buf);
	img->state_buf = NULL;
	if (img->mem_fd >= 0)
		close(img->mem_fd);
	img->mem_fd = -1;
}

static int map_memory_fd(int fd, uint64_t size, bool copy, void **host, char *err,
			 size_t errlen);

/* A diff: its base's memory (itself perhaps a diff), then its own pages over it. */
static int map_chain(const char *dir, uint64_t size, bool copy, void **host, int depth,
		     char *err, size_t errlen)
{
	char base[PATH_MAX], path[PATH_MAX + 8];
	uint64_t id;
	int ret = diff_read_base(dir, base, sizeof(base), &id, err, errlen);

	if (ret == -ENOENT) {
		int fd;

		snprintf(path, sizeof(path), "%s/memory", dir);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			ret = -errno;
			snprintf(err, errlen, "%s: %s", path, strerror(-ret));
			return ret;
		}
		ret = map_memory_fd(fd, size, copy, host, err, errlen);
		close(fd);
		return ret;
	}
	if (ret)
		return ret;
	if (depth >= DIFF_MAX_DEPTH) {
		snprintf(err, errlen, "%s: more than %d diffs in a row", dir, DIFF_MAX_DEPTH);
		return -ELOOP;
	}
	ret = map_chain(base, size, copy, host, depth + 1, err, errlen);
	if (ret)
		return ret;
	ret = diff_apply(dir, *host, size, err, errlen);
	if (ret)
		munmap(*host, size);
	return ret;
}

int snapshot_map_memory(struct snapshot_image *img, bool copy, void **host, char *err,
			size_t errlen)
{
	char base[PATH_MAX];
	uint64_t id;

	if (diff_read_base(img->dir, base, sizeof(base), &id, err, errlen) != -ENOENT)
		return map_chain(img->dir, img->mem_size, copy, host, 0, err, errlen);
	return map_memory_fd(img->mem_fd, img->mem_size, copy, host, err, errlen);
}

static int map_memory_fd(int fd, uint64_t size, bool copy, void **host, char *err,
			 size_t errlen)
{
	void *p;

	if (!copy) {
		/*
		 * Copy-on-write and lazy: pages come from the file as the guest
		 * touches them, and the snapshot is never written.
		 */
		p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_NORESERVE,
			 fd, 0);
		if (p == MAP_FAILED) {
			int ret = -errno;

			snprintf(err, errlen, "mapping the memory file: %s", strerror(-ret));
			return ret;
		}
		*host = p;
		return 0;
	}
	p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED) {
		int ret = -errno;

		snprintf(err, errlen, "allocating guest RAM: %s", strerror(-ret));
		return ret;
	}
	/* Read only the data ranges: holes are zero pages already. */
	for (off_t off = 0; off < (off_t)size;) {
		off_t data = lseek(fd, off, SEEK_DATA), hole;

		if (data < 0)
			break;
		hole = lseek(fd, data, SEEK_HOLE);
		if (hole < 0)
			hole = size;
		while (data < hole) {
			ssize_t n = pread(fd, (char *)p + data, hole - data, data);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				int ret = n < 0 ? -errno : -EIO;

				snprintf(err, errlen, "reading the memory file: %s",
					 n < 0 ? strerror(-ret) : "short read");
				munmap(p, size);
				return ret;
			}
			data += n;
		}
		off = hole;
	}
	*host = p;
	return 0;
}
