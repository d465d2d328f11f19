// SPDX-License-Identifier: GPL-2.0
/*
 * The quick guest's host side: when a run becomes one, the per-VM
 * directory it gets (in a temporary $HOME, against a fake host root), the
 * configuration and kernel parameters, and the sandbox's files.
 */
#include "test.h"
#include "../../options.h"
#include "../../quickguest/quick.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char init_v1[] = "\177ELF init, version 1";
static const char init_v2[] = "\177ELF init, version 2 (longer)";

static void parse(struct vm_config *cfg, const char *const *args)
{
	char *argv[16];
	int argc = 0;

	argv[argc++] = "run";
	for (; *args; args++)
		argv[argc++] = (char *)*args;
	argv[argc] = NULL;
	CHECK_EQ_INT(options_parse_run(argc, argv, cfg, stdout, stderr), OPTIONS_RUN);
}

TEST(quick_guest_wanted_only_without_a_root)
{
	static const struct { const char *args[6]; bool quick; } cases[] = {
		{ { NULL }, true },
		{ { "-k", "Image", NULL }, true },
		{ { "-k", "Image", "-p", "quiet", NULL }, true },
		{ { "-k", "Image", "-n", "mode=none", NULL }, true },
		{ { "-k", "Image", "-i", "initrd", NULL }, false },
		{ { "-k", "Image", "-d", "disk.img", NULL }, false },
		{ { "-k", "Image", "--nodefaults", NULL }, false },
		{ { "-k", "Image", "--flat", NULL }, false },
		{ { "-k", "Image", "-p", "root=/dev/vda", NULL }, false },
		{ { "-k", "Image", "-p", "quiet nfsroot=x", NULL }, true },
		{ { "-k", "Image", "-p", "quiet root=/dev/nfs", NULL }, false },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vm_config cfg;
		unsigned int before = test_failure_count();

		parse(&cfg, cases[i].args);
		CHECK_EQ_INT(quick_guest_wanted(&cfg), cases[i].quick);
		if (test_failure_count() != before)
			FAIL("case %zu", i);
		options_free(&cfg);
	}
}

static char *read_all(const char *path)
{
	static char buf[4096];
	int fd = open(path, O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

	if (fd >= 0)
		close(fd);
	if (n < 0)
		return NULL;
	buf[n] = '\0';
	return buf;
}

static void rm_rf(const char *dir)
{
	char cmd[4200];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		FAIL("cannot remove %s", dir);
}

TEST(guestfs_prepare_makes_the_tree_once)
{
	char tmp[] = "/tmp/lvmm-guestfs-XXXXXX", host[256], dir[256], path[512], link[256];
	char err[512] = "";
	struct stat st;
	ssize_t n;

	if (!CHECK(mkdtemp(tmp)))
		return;
	/* A host with bin, lib and usr, but no sbin or lib64. */
	snprintf(host, sizeof(host), "%s/host", tmp);
	mkdir(host, 0755);
	for (const char *const *d = (const char *const[]){ "bin", "lib", "usr", NULL }; *d; d++) {
		snprintf(path, sizeof(path), "%s/%s", host, *d);
		mkdir(path, 0755);
	}
	snprintf(dir, sizeof(dir), "%s/vm", tmp);
	CHECK_EQ_INT(guestfs_prepare(dir, host, init_v1, sizeof(init_v1), err, sizeof(err)), 0);
	CHECK_STR(err, "");

	snprintf(path, sizeof(path), "%s/bin", dir);
	n = readlink(path, link, sizeof(link) - 1);
	CHECK(n > 0 && (link[n] = '\0', !strcmp(link, "/host/bin")));
	snprintf(path, sizeof(path), "%s/sbin", dir);
	CHECK(lstat(path, &st) < 0 && errno == ENOENT);	/* the host has none */
	snprintf(path, sizeof(path), "%s/tmp", dir);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 01777);
	snprintf(path, sizeof(path), "%s/virt/init", dir);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0111) && st.st_size == sizeof(init_v1));
	CHECK(!memcmp(read_all(path), init_v1, sizeof(init_v1)));
	snprintf(path, sizeof(path), "%s/etc/passwd", dir);
	CHECK_CONTAINS(read_all(path), "root:x:0:0:");

	/* The user's edits and own entries stay; a new init replaces the old. */
	snprintf(path, sizeof(path), "%s/etc/passwd", dir);
	FILE *f = fopen(path, "w");

	if (CHECK(f)) {
		fputs("mine\n", f);
		fclose(f);
	}
	snprintf(path, sizeof(path), "%s/lib", dir);
	unlink(path);
	mkdir(path, 0755);
	CHECK_EQ_INT(guestfs_prepare(dir, host, init_v2, sizeof(init_v2), err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/etc/passwd", dir);
	CHECK_STR(read_all(path), "mine\n");
	snprintf(path, sizeof(path), "%s/lib", dir);
	CHECK(lstat(path, &st) == 0 && S_ISDIR(st.st_mode));
	snprintf(path, sizeof(path), "%s/virt/init", dir);
	CHECK(stat(path, &st) == 0 && st.st_size == sizeof(init_v2));

	/* A file where a directory must be: one line naming it. */
	snprintf(path, sizeof(path), "%s/virt", dir);
	rm_rf(path);
	close(open(path, O_WRONLY | O_CREAT, 0644));
	CHECK_EQ_INT(guestfs_prepare(dir, host, init_v2, sizeof(init_v2), err, sizeof(err)),
		     -ENOTDIR);
	CHECK_CONTAINS(err, "/vm/virt");
	rm_rf(tmp);
}

TEST(quick_guest_setup_and_sandbox_status)
{
	char home[] = "/tmp/lvmm-home-XXXXXX", path[4096], err[512] = "", *cmdline;
	char *const argv[] = { "sh", "-c", "exit 7", NULL };
	static struct quick_guest q;
	struct vm_config cfg;

	if (!CHECK(mkdtemp(home)))
		return;
	parse(&cfg, (const char *const[]){ "-k", "Image", "--name", "box", "-p", "quiet", NULL });
	CHECK_EQ_INT(quick_guest_setup(&cfg, &q, home, init_v1, sizeof(init_v1), argv, err,
				       sizeof(err)), 0);
	CHECK_STR(err, "");
	snprintf(path, sizeof(path), "%s/.lvmm/box", home);
	CHECK_STR(q.dir, path);
	/* The root and the host's / over 9p, and a user-mode network. */
	CHECK_EQ_INT(cfg.nr_shares, 2);
	CHECK_STR(cfg.shares[0].tag, "/dev/root");
	CHECK_STR(cfg.shares[0].dir, path);
	CHECK(!cfg.shares[0].readonly);
	CHECK_STR(cfg.shares[1].dir, "/");
	CHECK(cfg.shares[1].readonly);
	CHECK(cfg.nr_nets == 1 && cfg.nets[0].user);
	cmdline = options_kernel_cmdline(&cfg);
	CHECK_CONTAINS(cmdline, "root=/dev/root rootfstype=9p ");
	CHECK_CONTAINS(cmdline, " init=/virt/init lvmm.name=box lvmm.sandbox=box quiet quiet");
	free(cmdline);

	/* The command's words for init, NUL-separated. */
	snprintf(path, sizeof(path), "%s/argv", q.sandbox_dir);
	CHECK(!memcmp(read_all(path), "sh\0-c\0exit 7\0", 14));
	/* No status: the guest never got to write one. */
	CHECK_EQ_INT(quick_guest_sandbox_status(&q, err, sizeof(err)), -1);
	CHECK_CONTAINS(err, "without the command's exit status");
	options_free(&cfg);

	/* -n mode=none: no network; the status init leaves comes back. */
	parse(&cfg, (const char *const[]){ "-n", "mode=none", "--name", "box", NULL });
	CHECK_EQ_INT(quick_guest_setup(&cfg, &q, home, init_v1, sizeof(init_v1), argv, err,
				       sizeof(err)), 0);
	CHECK_EQ_INT(cfg.nr_nets, 0);
	snprintf(path, sizeof(path), "%s/status", q.sandbox_dir);
	FILE *f = fopen(path, "w");

	if (CHECK(f)) {
		fputs("7\n", f);
		fclose(f);
	}
	CHECK_EQ_INT(quick_guest_sandbox_status(&q, err, sizeof(err)), 7);
	CHECK(access(q.sandbox_dir, F_OK) < 0);	/* cleaned up */
	options_free(&cfg);

	/* No $HOME: a message that says what to do. */
	parse(&cfg, (const char *const[]){ NULL });
	CHECK_EQ_INT(quick_guest_setup(&cfg, &q, NULL, init_v1, sizeof(init_v1), NULL, err,
				       sizeof(err)), -ENOENT);
	CHECK_CONTAINS(err, "$HOME is not set");
	options_free(&cfg);
	rm_rf(home);
}
