// SPDX-License-Identifier: GPL-2.0
/*
 * lvmm: a lean VMM for arm64 Linux KVM. The command line lives here, and
 * only here are errors turned into exit statuses.
 */
#include "options.h"
#include "util.h"
#include "vmm.h"

#include <stdio.h>
#include <string.h>

#ifndef LVMM_VERSION
#define LVMM_VERSION "0.1"
#endif

enum {
	EXIT_GUEST_OFF = 0,
	EXIT_ERROR = 1,
	EXIT_USAGE = 2,
	EXIT_GUEST_RESET = 3,
	EXIT_GUEST_CRASH = 4,
};

static void usage(FILE *out)
{
	fprintf(out,
"Usage: lvmm COMMAND [OPTIONS]\n"
"\n"
"A lean virtual machine monitor for arm64 Linux KVM.\n"
"\n"
"Commands:\n"
"  run       boot a Linux kernel in a new VM (lvmm run --help)\n"
"  help      show this help\n"
"  version   show the version\n"
"\n"
"Example:\n"
"  lvmm run -k Image -i initramfs.cpio.gz -m 512 -c 2 -p \"rdinit=/init\"\n");
}

static int cmd_run(int argc, char **argv)
{
	struct vm_config cfg;
	struct vmm_result res;
	int ret;

	switch (options_parse_run(argc, argv, &cfg, stdout, stderr)) {
	case OPTIONS_HELP:
		return 0;
	case OPTIONS_ERROR:
		return EXIT_USAGE;
	case OPTIONS_RUN:
		break;
	}
	ret = vmm_run(&cfg, &res);
	options_free(&cfg);
	if (ret)
		return EXIT_ERROR;
	switch (res.reason) {
	case VM_EXIT_POWEROFF:
		pr_info("%s: the guest powered off", cfg.name);
		return EXIT_GUEST_OFF;
	case VM_EXIT_QUIT:
		pr_info("%s: stopped from the console (Ctrl-A x)", cfg.name);
		return EXIT_GUEST_OFF;
	case VM_EXIT_RESET:
		pr_info("%s: the guest asked for a reset; exiting with status %d",
			cfg.name, EXIT_GUEST_RESET);
		return EXIT_GUEST_RESET;
	case VM_EXIT_CRASH:
		pr_err("%s: the guest reported a crash", cfg.name);
		return EXIT_GUEST_CRASH;
	case VM_EXIT_SIGNAL:
		pr_info("%s: stopped by signal %d (%s)", cfg.name, res.signo, strsignal(res.signo));
		return 128 + res.signo;
	case VM_EXIT_ERROR:
	case VM_EXIT_NONE:
		break;
	}
	return EXIT_ERROR;
}

int main(int argc, char **argv)
{
	lvmm_start_ns = now_ns();

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc - 1, argv + 1);
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version")) {
		printf("lvmm %s\n", LVMM_VERSION);
		return 0;
	}
	fprintf(stderr, "lvmm: unknown command '%s' (see lvmm --help)\n", argv[1]);
	return EXIT_USAGE;
}
