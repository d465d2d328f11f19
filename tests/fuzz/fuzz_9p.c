// SPDX-License-Identifier: GPL-2.0
/*
 * The 9P2000.L server (devices/virtio/9p_server.c): the input is a run of
 * messages, each cut at its own size field, served on a scratch share that
 * holds a file, a directory and symlinks to outside it. Nothing may crash,
 * leak, or touch anything outside the share.
 */
#include "fuzz.h"
#include "../../devices/virtio/9p.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char share[] = "/tmp/lvmm-fuzz-9p-XXXXXX";
static uint8_t resp[P9_MSIZE_MAX];

static void make_share(void)
{
	char path[128];
	int fd;

	if (!mkdtemp(share))
		abort();
	snprintf(path, sizeof(path), "%s/file", share);
	fd = open(path, O_CREAT | O_WRONLY, 0644);
	if (fd < 0 || write(fd, "data", 4) != 4)
		abort();
	close(fd);
	snprintf(path, sizeof(path), "%s/dir", share);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/etc", share);
	if (symlink("/etc", path))
		abort();
	snprintf(path, sizeof(path), "%s/up", share);
	if (symlink("..", path))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	struct p9_server s;

	if (!ready) {
		make_share();
		ready = true;
	}
	if (p9_server_init(&s, share, size && (data[0] & 0x80)))
		abort();
	while (size >= 4) {
		size_t n = data[0] | data[1] << 8 | (size_t)data[2] << 16;

		if (n < 4 || n > size)
			n = size;
		p9_handle(&s, data, n, resp, sizeof(resp));
		data += n;
		size -= n;
	}
	p9_server_fini(&s);
	return 0;
}
