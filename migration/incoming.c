// SPDX-License-Identifier: GPL-2.0
/*
 * Live migration, the destination's side (migration.h): the state taken
 * into a snapshot directory that the normal restore then brings up, and
 * guest RAM straight into the anonymous memory the VM will run on (not a
 * file to map: a restored VM's pages would each be copied on the guest's
 * first write, seconds of a busy guest's first moments after the switch).
 * Nothing runs until the whole stream is in: a source that dies midway
 * leaves only a refusal here.
 */
#include "migration.h"
#include "snapshot.h"
#include "stream.h"
#include "../util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* The state file as dir/state (replacing one from the preview). */
static int put_state(int conn, const char *dir, uint64_t len, char *err, size_t errlen)
{
	char path[PATH_MAX + 16];	/* dir and a file name */
	void *buf = malloc(len);
	int fd, ret;

	if (!buf) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	ret = mig_read(conn, buf, len);
	if (ret) {
		free(buf);
		snprintf(err, errlen, "the source went away while sending the state (%s)",
			 strerror(-ret));
		return ret;
	}
	snprintf(path, sizeof(path), "%s/state", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ret = fd < 0 ? -errno : write_all(fd, buf, len);
	if (fd >= 0)
		close(fd);
	free(buf);
	if (ret)
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
	return ret;
}

/* The configuration as the restore will check it: this host can take it. */
static int check_preview(const char *dir, char *err, size_t errlen)
{
	struct snapshot_image *img = calloc(1, sizeof(*img));
	int ret;

	if (!img) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	ret = snapshot_open(dir, img, err, errlen);
	if (!ret)
		snapshot_close(img);
	free(img);
	return ret;
}

static int receive(int conn, const char *dir, uint8_t *ram, uint64_t ram_size, char *err,
		   size_t errlen)
{
	bool previewed = false, have_state = false;
	int ret = 0;

	for (;;) {
		struct mig_record r;

		ret = mig_read(conn, &r, sizeof(r));
		if (ret) {
			snprintf(err, errlen,
				 "the source went away before it sent everything (%s): nothing was started",
				 strerror(-ret));
			break;
		}
		ret = mig_record_check(&r, ram_size, err, errlen);
		if (ret)
			break;
		if (r.type == MIG_END) {
			if (!have_state) {
				snprintf(err, errlen, "the stream ended without the VM's state");
				ret = -EPROTO;
			}
			break;
		}
		if (r.type == MIG_PREVIEW || r.type == MIG_STATE) {
			if ((r.type == MIG_PREVIEW) == previewed) {
				snprintf(err, errlen, "state records out of order");
				ret = -EPROTO;
				break;
			}
			ret = put_state(conn, dir, r.len, err, errlen);
			if (ret)
				break;
			if (r.type == MIG_STATE) {
				have_state = true;
				continue;
			}
			previewed = true;
			ret = check_preview(dir, err, errlen);
			mig_send_reply(conn, !ret, ret ? err : "");
			if (ret)
				break;
			continue;
		}
		if (!previewed) {
			snprintf(err, errlen, "%s before the configuration",
				 r.type == MIG_SYNC ? "a sync" : "guest RAM");
			ret = -EPROTO;
			break;
		}
		if (r.type == MIG_SYNC) {
			/* Everything before it is in RAM: say so (a failure shows in the next read). */
			mig_send_reply(conn, true, "");
			continue;
		}
		/* mig_record_check() keeps the record within guest RAM. */
		ret = mig_read(conn, ram + r.offset, r.len);
		if (ret) {
			snprintf(err, errlen,
				 "the source went away before it sent everything (%s): nothing was started",
				 strerror(-ret));
			break;
		}
	}
	return ret;
}

void migrate_incoming_cleanup(const char *dir)
{
	char path[PATH_MAX + 16];	/* dir and a file name */

	snprintf(path, sizeof(path), "%s/memory", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/state", dir);
	unlink(path);
	rmdir(dir);
}

int migrate_incoming_conn(int conn, struct mig_received *in, char *err, size_t errlen)
{
	const char *tmp = getenv("TMPDIR");
	char *dir = in->dir;
	size_t dirlen = sizeof(in->dir);
	struct mig_hello h;
	char path[PATH_MAX + 16];	/* dir and a file name */
	int mem_fd = -1, ret;

	ret = mig_read(conn, &h, sizeof(h));
	if (ret)
		snprintf(err, errlen, "the source sent no hello (%s)", strerror(-ret));
	else
		ret = mig_hello_check(&h, (uint32_t)sysconf(_SC_PAGESIZE), err, errlen);
	if (ret) {
		mig_send_reply(conn, false, err);
		return ret;
	}
	snprintf(dir, dirlen, "%s/lvmm-incoming-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		ret = -errno;
		snprintf(err, errlen, "making a directory for the incoming VM: %s", strerror(-ret));
		mig_send_reply(conn, false, err);
		return ret;
	}
	/*
	 * The memory file stays empty (sparse): it is there for the restore's
	 * checks of the directory; the RAM itself comes in in->ram.
	 */
	snprintf(path, sizeof(path), "%s/memory", dir);
	mem_fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (mem_fd < 0 || ftruncate(mem_fd, (off_t)h.ram_size) < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
		goto out;
	}
	in->ram_size = h.ram_size;
	in->ram = mmap(NULL, h.ram_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (in->ram == MAP_FAILED) {
		in->ram = NULL;
		ret = -errno;
		snprintf(err, errlen, "guest RAM for the incoming VM (%llu MiB): %s",
			 (unsigned long long)(h.ram_size >> 20), strerror(-ret));
		goto out;
	}
	/* Huge pages where the host has them: fewer stage-2 faults after the switch. */
	madvise(in->ram, h.ram_size, MADV_HUGEPAGE);
	ret = receive(conn, dir, in->ram, h.ram_size, err, errlen);
out:
	if (mem_fd >= 0)
		close(mem_fd);
	if (ret) {
		if (in->ram)
			munmap(in->ram, in->ram_size);
		in->ram = NULL;
		migrate_incoming_cleanup(dir);
	}
	return ret;
}

int migrate_incoming(const char *uri, struct mig_received *in, int *fd, char *err,
		     size_t errlen)
{
	struct mig_addr addr;
	int lfd, conn, ret;

	ret = mig_addr_parse(uri, &addr, err, errlen);
	if (ret)
		return ret;
	lfd = mig_listen(&addr, err, errlen);
	if (lfd < 0)
		return lfd;
	pr_info("waiting for a migration on %s", uri);
	conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	ret = conn < 0 ? -errno : 0;
	close(lfd);
	if (addr.sa.ss_family == AF_UNIX)
		unlink(((struct sockaddr_un *)&addr.sa)->sun_path);
	if (ret) {
		snprintf(err, errlen, "accepting on %s: %s", uri, strerror(-ret));
		return ret;
	}
	ret = migrate_incoming_conn(conn, in, err, errlen);
	if (ret) {
		close(conn);
		return ret;
	}
	*fd = conn;
	return 0;
}

int migrate_incoming_reply(int fd, bool ok, const char *msg)
{
	int ret = mig_send_reply(fd, ok, msg);

	close(fd);
	return ret;
}
