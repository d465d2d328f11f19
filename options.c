// SPDX-License-Identifier: GPL-2.0
#include "options.h"
#include "util.h"

#include <errno.h>
#include <getopt.h>
#include <string.h>
#include <unistd.h>

static const char *const irqchip_names[] = {
	[IRQCHIP_AUTO] = "auto",
	[IRQCHIP_GICV2] = "gicv2",
	[IRQCHIP_GICV3] = "gicv3",
	[IRQCHIP_GICV3_ITS] = "gicv3-its",
};

const char *irqchip_model_name(enum irqchip_model model)
{
	if ((unsigned int)model >= ARRAY_SIZE(irqchip_names))
		return "?";
	return irqchip_names[model];
}

int irqchip_model_parse(const char *s, enum irqchip_model *model)
{
	for (unsigned int i = 0; i < ARRAY_SIZE(irqchip_names); i++) {
		if (!strcmp(s, irqchip_names[i])) {
			*model = i;
			return 0;
		}
	}
	return -EINVAL;
}

void options_usage_run(FILE *out)
{
	fprintf(out,
"Usage: lvmm run [OPTIONS]\n"
"\n"
"Boot an arm64 Linux kernel in a KVM virtual machine with an in-kernel vGIC.\n"
"\n"
"Guest:\n"
"  -k, --kernel IMAGE       arm64 Linux Image to boot. A file without the Image\n"
"                           header is loaded as a flat binary at offset 0x80000.\n"
"                           Default: the host's own kernel, if it is an\n"
"                           uncompressed Image (/boot/Image-$(uname -r), ...)\n"
"  -i, --initrd FILE        initial ramdisk (e.g. a gzip'd cpio initramfs)\n"
"  -p, --params \"CMDLINE\"   kernel command line; \"console=ttyS0\" is added\n"
"                           unless it names a console\n"
"  -m, --mem SIZE           guest RAM; a bare number is MiB, K/M/G suffixes\n"
"                           are accepted (default: %d MiB)\n"
"  -c, --cpus N             number of vCPUs (default: %d)\n"
"      --irqchip MODEL      gicv2, gicv3, gicv3-its or auto (default: auto,\n"
"                           the first of gicv3-its, gicv3, gicv2 the host has)\n"
"      --console KIND       serial (a 16550 UART, the guest's ttyS0; default)\n"
"      --name NAME          name of the VM (default: lvmm-PID)\n"
"\n"
"Diagnostics:\n"
"      --dump-dtb FILE      write the guest's device tree blob to FILE\n"
"      --stats              print VMM timings and memory use to stderr at exit\n"
"      --stats-marker TEXT  with --stats, also time the first appearance of\n"
"                           TEXT on the guest console\n"
"  -h, --help               show this help\n"
"\n"
"Console: stdin is put in raw mode when it is a terminal; type Ctrl-A x to quit\n"
"(Ctrl-A Ctrl-A sends a literal Ctrl-A).\n"
"\n"
"Exit status: 0 the guest powered off (or Ctrl-A x), 1 an error, 2 bad usage,\n"
"3 the guest asked for a reset (e.g. after a panic with panic=-1), 4 the guest\n"
"reported a crash (PSCI SYSTEM_EVENT crash), 128+N killed by signal N.\n",
		LVMM_DEFAULT_MEM_MIB, LVMM_DEFAULT_CPUS);
}

enum {
	OPT_IRQCHIP = 0x100,
	OPT_CONSOLE,
	OPT_DUMP_DTB,
	OPT_NAME,
	OPT_STATS,
	OPT_STATS_MARKER,
};

static const struct option run_options[] = {
	{ "kernel", required_argument, NULL, 'k' },
	{ "initrd", required_argument, NULL, 'i' },
	{ "params", required_argument, NULL, 'p' },
	{ "mem", required_argument, NULL, 'm' },
	{ "cpus", required_argument, NULL, 'c' },
	{ "irqchip", required_argument, NULL, OPT_IRQCHIP },
	{ "console", required_argument, NULL, OPT_CONSOLE },
	{ "dump-dtb", required_argument, NULL, OPT_DUMP_DTB },
	{ "name", required_argument, NULL, OPT_NAME },
	{ "stats", no_argument, NULL, OPT_STATS },
	{ "stats-marker", required_argument, NULL, OPT_STATS_MARKER },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static bool name_is_valid(const char *name)
{
	size_t len = strlen(name);

	if (!len || len > LVMM_NAME_MAX || name[0] == '.' || name[0] == '-')
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'))
			return false;
	}
	return true;
}

enum options_result options_parse_run(int argc, char **argv, struct vm_config *cfg,
				      FILE *out, FILE *err)
{
	unsigned long num;
	uint64_t size;
	int c, ret;

	memset(cfg, 0, sizeof(*cfg));
	cfg->mem_bytes = LVMM_DEFAULT_MEM_MIB * SZ_1M;
	cfg->nr_cpus = LVMM_DEFAULT_CPUS;
	cfg->irqchip = IRQCHIP_AUTO;
	cfg->console = CONSOLE_SERIAL;

	optind = 0;	/* full getopt reset, so tests can parse repeatedly */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":k:i:p:m:c:h", run_options, NULL)) != -1) {
		switch (c) {
		case 'k':
			cfg->kernel = optarg;
			break;
		case 'i':
			cfg->initrd = optarg;
			break;
		case 'p':
			cfg->params = optarg;
			break;
		case 'm':
			ret = parse_size(optarg, SZ_1M, &size);
			if (ret || size == 0) {
				fprintf(err, "lvmm: invalid memory size '%s' (examples: 512, 512M, 2G)\n",
					optarg);
				return OPTIONS_ERROR;
			}
			if (size % SZ_1M) {
				fprintf(err, "lvmm: memory size '%s' is not a whole number of MiB\n",
					optarg);
				return OPTIONS_ERROR;
			}
			cfg->mem_bytes = size;
			break;
		case 'c':
			ret = parse_uint(optarg, 1, LVMM_MAX_CPUS, &num);
			if (ret) {
				fprintf(err, "lvmm: invalid vCPU count '%s' (1 to %d)\n",
					optarg, LVMM_MAX_CPUS);
				return OPTIONS_ERROR;
			}
			cfg->nr_cpus = num;
			break;
		case OPT_IRQCHIP:
			if (irqchip_model_parse(optarg, &cfg->irqchip)) {
				fprintf(err, "lvmm: unknown irqchip '%s' (gicv2, gicv3, gicv3-its or auto)\n",
					optarg);
				return OPTIONS_ERROR;
			}
			break;
		case OPT_CONSOLE:
			if (!strcmp(optarg, "serial")) {
				cfg->console = CONSOLE_SERIAL;
			} else if (!strcmp(optarg, "virtio")) {
				fprintf(err, "lvmm: --console virtio is not available yet (use serial)\n");
				return OPTIONS_ERROR;
			} else {
				fprintf(err, "lvmm: unknown console '%s' (serial)\n", optarg);
				return OPTIONS_ERROR;
			}
			break;
		case OPT_DUMP_DTB:
			cfg->dump_dtb = optarg;
			break;
		case OPT_NAME:
			if (!name_is_valid(optarg)) {
				fprintf(err, "lvmm: invalid name '%s' (1-%d characters of A-Z a-z 0-9 . _ -, not starting with . or -)\n",
					optarg, LVMM_NAME_MAX);
				return OPTIONS_ERROR;
			}
			strcpy(cfg->name, optarg);
			break;
		case OPT_STATS:
			cfg->stats = true;
			break;
		case OPT_STATS_MARKER:
			if (!*optarg) {
				fprintf(err, "lvmm: --stats-marker needs a non-empty text\n");
				return OPTIONS_ERROR;
			}
			cfg->stats_marker = optarg;
			break;
		case 'h':
			options_usage_run(out);
			return OPTIONS_HELP;
		case ':':
			fprintf(err, "lvmm run: option '%s' needs an argument (see lvmm run --help)\n",
				argv[optind - 1]);
			return OPTIONS_ERROR;
		default:
			fprintf(err, "lvmm run: unknown option '%s' (see lvmm run --help)\n",
				argv[optind - 1]);
			return OPTIONS_ERROR;
		}
	}
	if (optind < argc) {
		fprintf(err, "lvmm run: unexpected argument '%s' (see lvmm run --help)\n",
			argv[optind]);
		return OPTIONS_ERROR;
	}
	if (cfg->kernel && !*cfg->kernel) {
		fprintf(err, "lvmm: --kernel needs a file name\n");
		return OPTIONS_ERROR;
	}
	if (cfg->initrd && !*cfg->initrd) {
		fprintf(err, "lvmm: --initrd needs a file name\n");
		return OPTIONS_ERROR;
	}
	if (!cfg->name[0])
		snprintf(cfg->name, sizeof(cfg->name), "lvmm-%d", (int)getpid());
	return OPTIONS_RUN;
}
