// SPDX-License-Identifier: GPL-2.0
/*
 * What a migration's source sends (migration/incoming.c): any bytes as the
 * stream, taken by the destination from a socket pair into a directory.
 * Checked: no sanitizer report; a stream that is refused leaves no
 * directory behind; a taken one has its memory and state files.
 */
#include "fuzz.h"
#include "../../migration/migration.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mig_received in = { .ram = NULL };
	char *dir = in.dir, err[512], path[4200];
	struct stat st;
	int sv[2], ret;

	/* The pair's buffer must hold the whole input: the reader runs after. */
	if (size > 100000 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return 0;
	setenv("TMPDIR", "/tmp", 1);
	if (size && write(sv[0], data, size) != (ssize_t)size)
		abort();
	shutdown(sv[0], SHUT_WR);
	ret = migrate_incoming_conn(sv[1], &in, err, sizeof(err));
	close(sv[0]);
	close(sv[1]);
	if (ret) {
		/* A dir may not have been made at all; if one was, it is gone. */
		if ((!strncmp(dir, "/tmp/lvmm-incoming-", 19) && stat(dir, &st) == 0) || in.ram)
			abort();
		return 0;
	}
	snprintf(path, sizeof(path), "%s/state", dir);
	if (stat(path, &st) < 0)
		abort();
	munmap(in.ram, in.ram_size);
	migrate_incoming_cleanup(dir);
	return 0;
}
