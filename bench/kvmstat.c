// SPDX-License-Identifier: GPL-2.0
/*
 * KVM's own counters of a running VMM's vCPUs, read from outside it while
 * it runs: for bench/vs-kvmtool, which counts exits per MiB of a transfer.
 *
 *   kvmstat PID
 *
 * Finds the vCPU statistics files PID holds open (/proc/PID/fd links to
 * "anon_inode:kvm-vcpu-stats:N"; lvmm opens one per vCPU for --stats),
 * takes a copy of each with pidfd_getfd (root, or ptrace rights over PID)
 * and prints the counters summed over the vCPUs on one line: "exits=N
 * mmio_exit_user=N mmio_exit_kernel=N wfi_exit_stat=N". A copy of a vCPU's
 * own fd would not do: KVM refuses its ioctls to any other process (EIO).
 * So a VMM that holds no statistics file (kvmtool) cannot be read: exits
 * 1, printing nothing, as for a PID that is gone or has no vCPU yet.
 */
#define _GNU_SOURCE
#include "../kvm/counters.h"
#include "../util.h"

#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	static const char *const names[] = { "exits", "mmio_exit_user", "mmio_exit_kernel", "wfi_exit_stat" };
	uint64_t sum[ARRAY_SIZE(names)] = { 0 };
	char dir[64], path[320], link[128];
	int pid = argc == 2 ? atoi(argv[1]) : 0, pidfd;
	unsigned int vcpus = 0;
	struct dirent *de;
	DIR *d;

	if (pid <= 0)
		return fprintf(stderr, "usage: kvmstat PID\n"), 2;
	snprintf(dir, sizeof(dir), "/proc/%d/fd", pid);
	pidfd = syscall(SYS_pidfd_open, pid, 0);
	d = opendir(dir);
	if (pidfd < 0 || !d)
		return 1;
	while ((de = readdir(d))) {
		ssize_t n;
		int fd;

		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n < 0)
			continue;
		link[n] = '\0';
		if (strncmp(link, "anon_inode:kvm-vcpu-stats:", strlen("anon_inode:kvm-vcpu-stats:")))
			continue;
		fd = syscall(SYS_pidfd_getfd, pidfd, atoi(de->d_name), 0);
		if (fd < 0)
			continue;
		if (!kvm_counters_add(fd, names, sum, ARRAY_SIZE(names)))
			vcpus++;
		close(fd);
	}
	closedir(d);
	if (!vcpus)
		return 1;
	printf("exits=%" PRIu64 " mmio_exit_user=%" PRIu64 " mmio_exit_kernel=%" PRIu64 " wfi_exit_stat=%" PRIu64 "\n",
	       sum[0], sum[1], sum[2], sum[3]);
	return 0;
}
