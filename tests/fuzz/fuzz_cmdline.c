// SPDX-License-Identifier: GPL-2.0
/*
 * The command line (options.c): the input is split into argv words at
 * newlines and NUL bytes and parsed as "lvmm run WORDS..." or, when the
 * first byte is odd, as "lvmm restore WORDS..." (which main.c hands to the
 * same parser as "run --restore WORDS..."). Checked: no sanitizer report
 * (leaks included, after options_free), and a configuration accepted for a
 * run is within lvmm's limits. The other verbs' few words (pause, resume,
 * stop, snapshot, list) are checked in main.c, which is not built here.
 * Every word is also parsed alone as a -n hostfwd= value.
 */
#include "fuzz.h"
#include "../../options.h"

#include <stdio.h>
#include <stdlib.h>

#define MAX_WORDS 64

static FILE *devnull;

static void check_config(const struct vm_config *cfg)
{
	if (cfg->nr_disks > LVMM_MAX_DISKS || cfg->nr_nets > LVMM_MAX_NETS ||
	    cfg->nr_vfio > LVMM_MAX_VFIO || !cfg->nr_cpus || cfg->nr_cpus > LVMM_MAX_CPUS ||
	    !cfg->mem_bytes || cfg->mem_bytes % (1 << 20) || !vm_name_is_valid(cfg->name))
		abort();
	for (unsigned int i = 0; i < cfg->nr_disks; i++)
		if (!cfg->disks[i].path || !cfg->disks[i].path[0] ||
		    (cfg->disks[i].serial && strlen(cfg->disks[i].serial) > 20))
			abort();
	for (unsigned int i = 0; i < cfg->nr_nets; i++)
		/* A tap with its name and no forwards, or user mode with no tap. */
		if ((cfg->nets[i].mac[0] & 1) || cfg->nets[i].nr_fwds > LVMM_MAX_HOSTFWDS ||
		    (cfg->nets[i].user ? cfg->nets[i].tapif[0] != 0 :
					 !cfg->nets[i].tapif[0] || cfg->nets[i].nr_fwds))
			abort();
	for (unsigned int i = 0; i < cfg->nr_vfio; i++)
		if (!cfg->vfio[i].device || cfg->vfio[i].nr_keys > LVMM_MAX_GPIO_KEYS)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *words = malloc(size + 1), *argv[MAX_WORDS + 3];
	bool restore = size && (data[0] & 1);
	struct vm_config cfg;
	int argc = 0;

	if (!devnull)
		devnull = fopen("/dev/null", "w");
	if (!words || !devnull)
		abort();
	if (size) {
		memcpy(words, data + 1, size - 1);
		words[size - 1] = '\0';
	} else {
		words[0] = '\0';
	}
	argv[argc++] = "run";
	if (restore)
		argv[argc++] = "--restore";
	for (size_t i = 0, start = 0; size && i < size && argc < MAX_WORDS + 2; i++) {
		if (i == size - 1 || words[i] == '\n' || words[i] == '\0') {
			words[i] = '\0';
			argv[argc++] = words + start;
			start = i + 1;
		}
	}
	argv[argc] = NULL;
	/* Each word as a hostfwd= value too: ports accepted are 1-65535. */
	for (int i = 1; i < argc; i++) {
		struct net_hostfwd f;

		if (!net_hostfwd_parse(argv[i], &f, devnull) && (!f.host_port || !f.guest_port))
			abort();
	}
	if (options_parse_run(argc, argv, &cfg, devnull, devnull) == OPTIONS_RUN)
		check_config(&cfg);
	options_free(&cfg);
	free(words);
	return 0;
}
