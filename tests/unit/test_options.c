// SPDX-License-Identifier: GPL-2.0
/*
 * "lvmm run" command line parsing, and the size/number parsers under it.
 * The messages are checked as well as the result: they are the only thing
 * a user sees when a VM does not start.
 */
#include "test.h"
#include "../../options.h"
#include "../../util.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_ARGS 32

struct run {
	enum options_result res;
	struct vm_config cfg;
	char *out, *err;	/* what the parser printed to each stream */
	int argc;
	char *argv[MAX_ARGS + 1];
	/* getopt permutes argv: keep our own list of what to free. */
	char *owned[MAX_ARGS + 1];
};

/* Parse "run" followed by the NULL-terminated arguments. */
static void __attribute__((sentinel)) run_parse(struct run *r, ...)
{
	size_t out_len = 0, err_len = 0;
	FILE *out, *err;
	const char *arg;
	va_list ap;

	memset(r, 0, sizeof(*r));
	r->argv[r->argc++] = strdup("run");
	va_start(ap, r);
	while ((arg = va_arg(ap, const char *)) && r->argc < MAX_ARGS)
		r->argv[r->argc++] = strdup(arg);
	va_end(ap);
	memcpy(r->owned, r->argv, sizeof(r->owned));

	out = open_memstream(&r->out, &out_len);
	err = open_memstream(&r->err, &err_len);
	r->res = options_parse_run(r->argc, r->argv, &r->cfg, out, err);
	fclose(out);
	fclose(err);
}

static void run_free(struct run *r)
{
	for (int i = 0; i < MAX_ARGS && r->owned[i]; i++)
		free(r->owned[i]);
	free(r->out);
	free(r->err);
}

#define PARSE(r, ...) run_parse(r, ##__VA_ARGS__, (const char *)NULL)

/* Expect success and no output at all. */
static bool check_run(struct run *r, const char *file, int line)
{
	bool ok = true;

	ok &= test_check_int(r->res, OPTIONS_RUN, file, line, "result", "OPTIONS_RUN");
	ok &= test_check_str(r->err, "", file, line, "err", "\"\"");
	ok &= test_check_str(r->out, "", file, line, "out", "\"\"");
	return ok;
}

/* Expect an error whose message contains text, and nothing on out. */
static bool check_error(struct run *r, const char *text, const char *file, int line)
{
	bool ok = true;

	ok &= test_check_int(r->res, OPTIONS_ERROR, file, line, "result", "OPTIONS_ERROR");
	ok &= test_check_contains(r->err, text, file, line, "err");
	ok &= test_check_str(r->out, "", file, line, "out", "\"\"");
	/* One message, one line. */
	if (r->err && *r->err && strchr(r->err, '\n') != r->err + strlen(r->err) - 1)
		ok &= test_check(false, file, line, "err is exactly one line");
	return ok;
}

#define CHECK_RUN(r) check_run(r, __FILE__, __LINE__)
#define CHECK_ERROR(r, text) check_error(r, text, __FILE__, __LINE__)

TEST(options_defaults)
{
	char name[32];
	struct run r;

	PARSE(&r);
	CHECK_RUN(&r);
	CHECK_EQ_U64(r.cfg.mem_bytes, 256 * SZ_1M);
	CHECK_EQ_U64(r.cfg.nr_cpus, 1);
	CHECK_EQ_INT(r.cfg.irqchip, IRQCHIP_AUTO);
	CHECK_EQ_INT(r.cfg.console, CONSOLE_SERIAL);
	snprintf(name, sizeof(name), "lvmm-%d", (int)getpid());
	CHECK_STR(r.cfg.name, name);
	CHECK_STR(r.cfg.kernel, NULL);
	CHECK_STR(r.cfg.initrd, NULL);
	CHECK_STR(r.cfg.params, NULL);
	CHECK_STR(r.cfg.dump_dtb, NULL);
	CHECK_STR(r.cfg.stats_marker, NULL);
	CHECK(!r.cfg.stats);
	run_free(&r);
}

TEST(options_kernel_initrd_params)
{
	struct run r;

	PARSE(&r, "-k", "Image", "-i", "initrd.cpio.gz", "-p", "console=ttyS0 quiet");
	CHECK_RUN(&r);
	CHECK_STR(r.cfg.kernel, "Image");
	CHECK_STR(r.cfg.initrd, "initrd.cpio.gz");
	CHECK_STR(r.cfg.params, "console=ttyS0 quiet");
	run_free(&r);

	PARSE(&r, "--kernel", "/boot/Image", "--initrd=rd", "--params", "");
	CHECK_RUN(&r);
	CHECK_STR(r.cfg.kernel, "/boot/Image");
	CHECK_STR(r.cfg.initrd, "rd");
	/* An empty command line is a command line. */
	CHECK_STR(r.cfg.params, "");
	run_free(&r);

	/* The last one given wins, as with most tools. */
	PARSE(&r, "-k", "a", "-k", "b");
	CHECK_RUN(&r);
	CHECK_STR(r.cfg.kernel, "b");
	run_free(&r);
}

TEST(options_empty_file_names)
{
	struct run r;

	PARSE(&r, "--kernel=");
	CHECK_ERROR(&r, "--kernel needs a file name");
	run_free(&r);

	PARSE(&r, "-i", "");
	CHECK_ERROR(&r, "--initrd needs a file name");
	run_free(&r);
}

TEST(options_mem_sizes)
{
	static const struct {
		const char *arg;
		uint64_t bytes;
	} good[] = {
		{ "512", 512 * SZ_1M },		/* a bare number is MiB */
		{ "512M", 512 * SZ_1M },
		{ "512m", 512 * SZ_1M },
		{ "512MiB", 512 * SZ_1M },
		{ "2G", 2 * SZ_1G },
		{ "1024K", SZ_1M },
		{ "1", SZ_1M },
	};
	struct run r;

	for (unsigned int i = 0; i < ARRAY_SIZE(good); i++) {
		PARSE(&r, "-m", good[i].arg);
		if (!CHECK_RUN(&r))
			FAIL("for -m %s", good[i].arg);
		if (!CHECK_EQ_U64(r.cfg.mem_bytes, good[i].bytes))
			FAIL("for -m %s", good[i].arg);
		run_free(&r);
	}

	PARSE(&r, "--mem", "4G");
	CHECK_RUN(&r);
	CHECK_EQ_U64(r.cfg.mem_bytes, 4 * SZ_1G);
	run_free(&r);
}

TEST(options_mem_invalid)
{
	static const char *const bad[] = { "0", "12X", "-5", "1.5", "", "M", "0x100", "1 G" };
	struct run r;

	for (unsigned int i = 0; i < ARRAY_SIZE(bad); i++) {
		char want[64];

		snprintf(want, sizeof(want), "invalid memory size '%s'", bad[i]);
		PARSE(&r, "-m", bad[i]);
		if (!CHECK_ERROR(&r, want))
			FAIL("for -m '%s'", bad[i]);
		run_free(&r);
	}

	/* Too large to represent. */
	PARSE(&r, "-m", "99999999999999999999");
	CHECK_ERROR(&r, "invalid memory size");
	run_free(&r);
	PARSE(&r, "-m", "17179869184G");	/* 2^64 bytes */
	CHECK_ERROR(&r, "invalid memory size");
	run_free(&r);
}

TEST(options_mem_not_whole_mib)
{
	static const char *const bad[] = { "1025K", "1536K", "1K", "1048577K" };
	struct run r;

	for (unsigned int i = 0; i < ARRAY_SIZE(bad); i++) {
		char want[80];

		snprintf(want, sizeof(want), "memory size '%s' is not a whole number of MiB",
			 bad[i]);
		PARSE(&r, "-m", bad[i]);
		if (!CHECK_ERROR(&r, want))
			FAIL("for -m '%s'", bad[i]);
		run_free(&r);
	}
}

TEST(options_cpus)
{
	static const char *const bad[] = {
		"0", "513", "abc", "4x", "-1", "", "1.0", "+2", "99999999999999999999999",
	};
	struct run r;

	PARSE(&r, "-c", "1");
	CHECK_RUN(&r);
	CHECK_EQ_U64(r.cfg.nr_cpus, 1);
	run_free(&r);

	PARSE(&r, "--cpus", "512");
	CHECK_RUN(&r);
	CHECK_EQ_U64(r.cfg.nr_cpus, LVMM_MAX_CPUS);
	run_free(&r);

	PARSE(&r, "-c4");
	CHECK_RUN(&r);
	CHECK_EQ_U64(r.cfg.nr_cpus, 4);
	run_free(&r);

	for (unsigned int i = 0; i < ARRAY_SIZE(bad); i++) {
		char want[80];

		snprintf(want, sizeof(want), "invalid vCPU count '%s' (1 to 512)", bad[i]);
		PARSE(&r, "-c", bad[i]);
		if (!CHECK_ERROR(&r, want))
			FAIL("for -c '%s'", bad[i]);
		run_free(&r);
	}
}

TEST(options_hugetlbfs)
{
	struct run r;

	PARSE(&r, "--hugetlbfs", "/hugepages");
	CHECK_RUN(&r);
	CHECK_STR(r.cfg.hugetlbfs, "/hugepages");
	run_free(&r);
	PARSE(&r, "--hugetlbfs", "");
	CHECK_ERROR(&r, "--hugetlbfs needs a directory (a hugetlbfs mount)");
	run_free(&r);
	PARSE(&r, "--restore", "snap", "--hugetlbfs", "/hugepages");
	CHECK_ERROR(&r, "only --name, --clock, --copy-memory, --stats and --seccomp go with --restore");
	run_free(&r);
}

TEST(options_virtio_transport)
{
	struct run r;

	PARSE(&r, "--mem", "128");
	CHECK_RUN(&r);
	CHECK_EQ_INT(r.cfg.virtio_transport, VIRTIO_OPT_PCI);	/* the default, as kvmtool's */
	run_free(&r);
	PARSE(&r, "--virtio-transport", "pci");
	CHECK_RUN(&r);
	CHECK_EQ_INT(r.cfg.virtio_transport, VIRTIO_OPT_PCI);
	run_free(&r);
	PARSE(&r, "--virtio-transport", "mmio");
	CHECK_RUN(&r);
	CHECK_EQ_INT(r.cfg.virtio_transport, VIRTIO_OPT_MMIO);
	run_free(&r);
	PARSE(&r, "--virtio-transport", "mmio-legacy");
	CHECK_ERROR(&r, "unknown virtio transport 'mmio-legacy' (pci or mmio: virtio 1.x only)");
	run_free(&r);
}

TEST(options_irqchip)
{
	static const struct {
		const char *arg;
		enum irqchip_model model;
	} good[] = {
		{ "auto", IRQCHIP_AUTO },
		{ "gicv2", IRQCHIP_GICV2 },
		{ "gicv3", IRQCHIP_GICV3 },
		{ "gicv3-its", IRQCHIP_GICV3_ITS },
	};
	static const char *const bad[] = { "gicv4", "GICv3", "", "gicv3-", "its" };
	struct run r;

	for (unsigned int i = 0; i < ARRAY_SIZE(good); i++) {
		PARSE(&r, "--irqchip", good[i].arg);
		CHECK_RUN(&r);
		if (!CHECK_EQ_INT(r.cfg.irqchip, good[i].model))
			FAIL("for --irqchip %s", good[i].arg);
		run_free(&r);
	}
	for (unsigned int i = 0; i < ARRAY_SIZE(bad); i++) {
		char want[64];

		snprintf(want, sizeof(want), "unknown irqchip '%s'", bad[i]);
		PARSE(&r, "--irqchip", bad[i]);
		if (!CHECK_ERROR(&r, want))
			FAIL("for --irqchip '%s'", bad[i]);
		/* The message lists what would have been accepted. */
		CHECK_CONTAINS(r.err, "gicv2, gicv3, gicv3-its or auto");
		run_free(&r);
	}
}

TEST(options_console)
{
	struct run r;

	PARSE(&r, "--console", "serial");
	CHECK_RUN(&r);
	CHECK_EQ_INT(r.cfg.console, CONSOLE_SERIAL);
	run_free(&r);

	/*
	 * virtio-console is being added: until it is, "virtio" is refused
	 * with a message saying so; once it is, it must parse cleanly. Either
	 * way it is never taken for serial, and never an "unknown console".
	 */
	PARSE(&r, "--console", "virtio");
	if (r.res == OPTIONS_RUN) {
		CHECK_RUN(&r);
		CHECK_EQ_INT(r.cfg.console, CONSOLE_VIRTIO);
	} else {
		CHECK_ERROR(&r, "--console virtio is not available yet");
	}
	run_free(&r);

	PARSE(&r, "--console=vga");
	CHECK_ERROR(&r, "unknown console 'vga'");
	run_free(&r);
}

TEST(options_name)
{
	static const char *const good[] = { "a", "web-1", "vm_2.test", "A9", "x." };
	static const char *const bad[] = {
		"", ".hidden", "-dash", "a b", "a/b", "caf\xc3\xa9", "x;y",
	};
	char longest[LVMM_NAME_MAX + 2];
	struct run r;

	for (unsigned int i = 0; i < ARRAY_SIZE(good); i++) {
		PARSE(&r, "--name", good[i]);
		CHECK_RUN(&r);
		if (!CHECK_STR(r.cfg.name, good[i]))
			FAIL("for --name '%s'", good[i]);
		run_free(&r);
	}
	for (unsigned int i = 0; i < ARRAY_SIZE(bad); i++) {
		char want[80];

		snprintf(want, sizeof(want), "invalid name '%s'", bad[i]);
		PARSE(&r, "--name", bad[i]);
		if (!CHECK_ERROR(&r, want))
			FAIL("for --name '%s'", bad[i]);
		run_free(&r);
	}

	/* 64 characters fit (the struct has room for the NUL), 65 do not. */
	memset(longest, 'n', LVMM_NAME_MAX);
	longest[LVMM_NAME_MAX] = '\0';
	PARSE(&r, "--name", longest);
	CHECK_RUN(&r);
	CHECK_STR(r.cfg.name, longest);
	run_free(&r);

	longest[LVMM_NAME_MAX] = 'n';
	longest[LVMM_NAME_MAX + 1] = '\0';
	PARSE(&r, "--name", longest);
	CHECK_ERROR(&r, "invalid name");
	run_free(&r);
}

TEST(options_dump_dtb_and_stats)
{
	struct run r;

	PARSE(&r, "--dump-dtb", "/tmp/guest.dtb");
	CHECK_RUN(&r);
	CHECK_STR(r.cfg.dump_dtb, "/tmp/guest.dtb");
	run_free(&r);

	PARSE(&r, "--stats", "--stats-marker", "login:");
	CHECK_RUN(&r);
	CHECK(r.cfg.stats);
	CHECK_STR(r.cfg.stats_marker, "login:");
	run_free(&r);

	PARSE(&r, "--stats-marker", "");
	CHECK_ERROR(&r, "--stats-marker needs a non-empty text");
	run_free(&r);
}

TEST(options_unknown_option)
{
	struct run r;

	PARSE(&r, "--bogus");
	CHECK_ERROR(&r, "unknown option '--bogus'");
	run_free(&r);

	PARSE(&r, "-k", "Image", "-x");
	CHECK_ERROR(&r, "unknown option '-x'");
	run_free(&r);

	/* An option that takes no value, given one. */
	PARSE(&r, "--stats=yes");
	CHECK_ERROR(&r, "'--stats=yes'");
	run_free(&r);
}

TEST(options_missing_argument)
{
	static const char *const opts[] = {
		"-k", "--kernel", "-i", "--initrd", "-p", "--params", "-m", "--mem",
		"-c", "--cpus", "--irqchip", "--console", "--dump-dtb", "--name",
		"--stats-marker",
	};
	struct run r;

	for (unsigned int i = 0; i < ARRAY_SIZE(opts); i++) {
		char want[64];

		snprintf(want, sizeof(want), "option '%s' needs an argument", opts[i]);
		PARSE(&r, "--stats", opts[i]);
		if (!CHECK_ERROR(&r, want))
			FAIL("for '%s' at the end", opts[i]);
		run_free(&r);
	}
}

TEST(options_positional_argument)
{
	struct run r;

	/* As with lkvm run: the first word that is not an option is the kernel. */
	PARSE(&r, "Image");
	CHECK_RUN(&r);
	CHECK_STR(r.cfg.kernel, "Image");
	run_free(&r);

	PARSE(&r, "-c", "2", "Image", "-m", "128");
	CHECK_RUN(&r);
	CHECK_STR(r.cfg.kernel, "Image");
	CHECK_EQ_U64(r.cfg.mem_bytes, 128 * SZ_1M);
	run_free(&r);

	/* A kernel given with -k and another word: that word is an error. */
	PARSE(&r, "-k", "Image", "extra", "-c", "2");
	CHECK_ERROR(&r, "unexpected argument 'extra'");
	run_free(&r);

	PARSE(&r, "Image", "extra");
	CHECK_ERROR(&r, "unexpected argument 'extra'");
	run_free(&r);

	/* After "--" a word that looks like an option is a file name. */
	PARSE(&r, "--", "-k");
	CHECK_RUN(&r);
	CHECK_STR(r.cfg.kernel, "-k");
	run_free(&r);

	/* A restore takes no kernel. */
	PARSE(&r, "--restore", "snap", "Image");
	CHECK_ERROR(&r, "unexpected argument 'Image'");
	run_free(&r);
}

/* What kvm-unit-tests' runner passes to kvmtool, word for word. */
TEST(options_lkvm_kvm_unit_tests_command)
{
	struct run r;
	char *cmdline;

	PARSE(&r, "--nodefaults", "--network", "mode=none", "--loglevel=warning", "--kernel",
	      "arm/selftest.flat", "--cpus", "2", "--params", "setup smp=2 mem=256", "--mem",
	      "256", "--irqchip=gicv3-its", "--initrd", "/tmp/kut-env");
	CHECK_RUN(&r);
	CHECK(r.cfg.nodefaults);
	CHECK_EQ_INT(r.cfg.nr_nets, 0);
	CHECK_EQ_INT(r.cfg.log_level, LOG_WARNING);
	CHECK_STR(r.cfg.kernel, "arm/selftest.flat");
	CHECK_EQ_INT(r.cfg.nr_cpus, 2);
	CHECK_STR(r.cfg.params, "setup smp=2 mem=256");
	CHECK_EQ_U64(r.cfg.mem_bytes, 256 * SZ_1M);
	CHECK_EQ_INT(r.cfg.irqchip, IRQCHIP_GICV3_ITS);
	CHECK_STR(r.cfg.initrd, "/tmp/kut-env");
	/* Its arguments are the words of the command line: nothing added. */
	cmdline = options_kernel_cmdline(&r.cfg);
	CHECK_STR(cmdline, "setup smp=2 mem=256");
	free(cmdline);
	run_free(&r);
}

TEST(options_nodefaults_cmdline)
{
	struct run r;
	char *c;

	/*
	 * Without --nodefaults a console is named for the kernel, and a panic
	 * resets the guest (panic=-1) so that the VM ends; both go before the
	 * user's parameters ("-- ARGS" for init stays last).
	 */
	PARSE(&r, "-p", "quiet");
	c = options_kernel_cmdline(&r.cfg);
	CHECK_STR(c, "console=ttyS0 panic=-1 quiet");
	free(c);
	run_free(&r);

	PARSE(&r, "--console", "virtio");
	c = options_kernel_cmdline(&r.cfg);
	CHECK_STR(c, "console=hvc0 panic=-1");
	free(c);
	run_free(&r);

	PARSE(&r, "-p", "quiet console=ttyAMA0");
	c = options_kernel_cmdline(&r.cfg);
	CHECK_STR(c, "panic=-1 quiet console=ttyAMA0");
	free(c);
	run_free(&r);

	PARSE(&r, "-p", "panic=10 -- init-arg");
	c = options_kernel_cmdline(&r.cfg);
	CHECK_STR(c, "console=ttyS0 panic=10 -- init-arg");
	free(c);
	run_free(&r);

	/* With it, exactly --params, or nothing at all. */
	PARSE(&r, "--nodefaults", "-p", "vectors-kernel");
	CHECK_RUN(&r);
	c = options_kernel_cmdline(&r.cfg);
	CHECK_STR(c, "vectors-kernel");
	free(c);
	run_free(&r);

	PARSE(&r, "--nodefaults", "--console", "virtio");
	c = options_kernel_cmdline(&r.cfg);
	CHECK_STR(c, "");
	free(c);
	run_free(&r);

	PARSE(&r, "--nodefaults", "-p", " a  b ");
	c = options_kernel_cmdline(&r.cfg);
	CHECK_STR(c, " a  b ");
	free(c);
	run_free(&r);
}

/* console= naming a device the VM lacks is worth a warning (QEMU's ttyAMA0). */
TEST(options_console_warning)
{
	static const struct {
		const char *params, *console;
		const char *warn;	/* NULL: none */
	} cases[] = {
		{ "quiet", NULL, NULL },
		{ "console=ttyS0,115200", NULL, NULL },
		{ "console=hvc0", "virtio", NULL },
		{ "earlycon console=ttyAMA0", NULL, "names console=ttyAMA0, which is not this VM's console: that is ttyS0 (the 16550 UART); hvc0 comes with --console virtio" },
		{ "console=hvc0", NULL, "names console=hvc0, which is not this VM's console" },
		{ "console=ttyS0", "virtio", "names console=ttyS0, which is not this VM's console: that is hvc0 (--console virtio)" },
	};
	char buf[256];
	struct run r;

	for (unsigned int i = 0; i < ARRAY_SIZE(cases); i++) {
		buf[0] = '\0';
		if (cases[i].console)
			PARSE(&r, "-p", cases[i].params, "--console", cases[i].console);
		else
			PARSE(&r, "-p", cases[i].params);
		if (cases[i].warn) {
			if (!CHECK(options_console_warning(&r.cfg, buf, sizeof(buf))))
				FAIL("no warning for '%s'", cases[i].params);
			CHECK_CONTAINS(buf, cases[i].warn);
		} else if (!CHECK(!options_console_warning(&r.cfg, buf, sizeof(buf)))) {
			FAIL("warning for '%s': %s", cases[i].params, buf);
		}
		run_free(&r);
	}
	/* --nodefaults: the user knows. */
	PARSE(&r, "--nodefaults", "-p", "console=ttyAMA0");
	CHECK(!options_console_warning(&r.cfg, buf, sizeof(buf)));
	run_free(&r);
}

TEST(options_lkvm_loglevel)
{
	static const struct {
		const char *arg;
		enum log_level level;
	} levels[] = {
		{ "--loglevel=error", LOG_ERROR }, { "--loglevel=warning", LOG_WARNING },
		{ "--loglevel=info", LOG_INFO }, { "--loglevel=debug", LOG_INFO },
		{ "--debug", LOG_INFO },
	};
	struct run r;

	for (unsigned int i = 0; i < ARRAY_SIZE(levels); i++) {
		PARSE(&r, "--loglevel", "error", levels[i].arg);
		CHECK_RUN(&r);
		if (!CHECK_EQ_INT(r.cfg.log_level, levels[i].level))
			FAIL("for %s", levels[i].arg);
		run_free(&r);
	}
	PARSE(&r);
	CHECK_EQ_INT(r.cfg.log_level, LOG_INFO);
	run_free(&r);

	PARSE(&r, "--loglevel", "verbose");
	CHECK_ERROR(&r, "unknown log level 'verbose' (error, warning, info or debug)");
	run_free(&r);
}

TEST(options_lkvm_network)
{
	struct run r;

	PARSE(&r, "--network", "mode=none");
	CHECK_RUN(&r);
	CHECK_EQ_INT(r.cfg.nr_nets, 0);
	run_free(&r);

	/* none beside a tap: the tap is still there. */
	PARSE(&r, "-n", "mode=tap,tapif=t0", "-n", "mode=none");
	CHECK_RUN(&r);
	CHECK_EQ_INT(r.cfg.nr_nets, 1);
	run_free(&r);

	PARSE(&r, "-n", "mode=none,tapif=t0");
	CHECK_ERROR(&r, "--network mode=none takes no other option");
	run_free(&r);

	PARSE(&r, "-n", "mode=tap,tapif=t0,script=none");
	CHECK_RUN(&r);
	CHECK_STR(r.cfg.nets[0].tapif, "t0");
	run_free(&r);

	PARSE(&r, "-n", "mode=tap,tapif=t0,script=/etc/kvm-ifup");
	CHECK_ERROR(&r, "unknown or bad option 'script=/etc/kvm-ifup'");
	run_free(&r);

	PARSE(&r, "-n", "mode=user");
	CHECK_RUN(&r);
	CHECK_EQ_INT(r.cfg.nr_nets, 1);
	CHECK(r.cfg.nets[0].user && !r.cfg.nets[0].tapif[0] && !r.cfg.nets[0].nr_fwds);
	CHECK(r.cfg.nets[0].mac[0] == 0x02);	/* a default MAC, as for a tap */
	run_free(&r);

	PARSE(&r, "-n", "mode=user,hostfwd=tcp:8080-:80,hostfwd=udp:5353-:53,guest_mac=02:00:00:00:00:07");
	CHECK_RUN(&r);
	CHECK(r.cfg.nets[0].user && r.cfg.nets[0].nr_fwds == 2);
	CHECK(r.cfg.nets[0].fwds[0].host_port == 8080 && r.cfg.nets[0].fwds[0].guest_port == 80);
	CHECK(r.cfg.nets[0].fwds[1].udp && r.cfg.nets[0].fwds[1].host_port == 5353);
	CHECK_EQ_INT(r.cfg.nets[0].mac[5], 7);
	run_free(&r);

	PARSE(&r, "-n", "mode=none");
	CHECK_RUN(&r);
	CHECK(r.cfg.no_network && !r.cfg.nr_nets);
	run_free(&r);

	PARSE(&r, "-n", "mode=user,tapif=t0");
	CHECK_ERROR(&r, "mode=user takes no tapif=");
	run_free(&r);

	PARSE(&r, "-n", "mode=tap,tapif=t0,hostfwd=tcp:8080-:80");
	CHECK_ERROR(&r, "hostfwd= needs mode=user");
	run_free(&r);

	/* kvmtool's vhost=1; vhost=0 says the default. */
	PARSE(&r, "-n", "mode=tap,tapif=t0,vhost=1", "-n", "mode=tap,tapif=t1,vhost=0");
	CHECK_RUN(&r);
	CHECK(r.cfg.nets[0].vhost && !r.cfg.nets[1].vhost);
	run_free(&r);
	PARSE(&r, "-n", "mode=tap,tapif=t0,vhost=2");
	CHECK_ERROR(&r, "unknown or bad option 'vhost=2'");
	run_free(&r);
	PARSE(&r, "-n", "mode=user,vhost=1");
	CHECK_ERROR(&r, "vhost=1 needs mode=tap");
	run_free(&r);

	PARSE(&r, "-n", "mode=user,hostfwd=tcp:0-:80");
	CHECK_ERROR(&r, "lvmm: --network: bad hostfwd 'tcp:0-:80' (hostfwd=tcp:HOSTPORT-:GUESTPORT");
	run_free(&r);
}

static int hostfwd(const char *s, struct net_hostfwd *f)
{
	char *msg = NULL;
	size_t len = 0;
	FILE *err = open_memstream(&msg, &len);
	int ret = net_hostfwd_parse(s, f, err);

	fclose(err);
	/* An error is exactly one line; a success says nothing. */
	if (ret)
		CHECK(len && strchr(msg, '\n') == msg + len - 1 && !strncmp(msg, "lvmm: ", 6));
	else
		CHECK_EQ_INT(len, 0);
	free(msg);
	return ret;
}

TEST(options_hostfwd_forms)
{
	struct net_hostfwd f;

	CHECK_EQ_INT(hostfwd("tcp:8080-:80", &f), 0);
	CHECK(!f.udp && f.host_port == 8080 && f.guest_port == 80);
	CHECK(!f.host_addr && !f.guest_addr);

	CHECK_EQ_INT(hostfwd("tcp::2222-:22", &f), 0);
	CHECK(f.host_port == 2222 && f.guest_port == 22 && !f.host_addr);

	CHECK_EQ_INT(hostfwd("udp:127.0.0.1:5353-10.0.2.15:53", &f), 0);
	CHECK(f.udp && f.host_port == 5353 && f.guest_port == 53);
	CHECK(f.host_addr == 0x7f000001 && f.guest_addr == 0x0a00020f);

	CHECK_EQ_INT(hostfwd("tcp:65535-:1", &f), 0);
	CHECK(f.host_port == 65535 && f.guest_port == 1);
}

TEST(options_hostfwd_bad)
{
	static const char *const bad[] = {
		"", "tcp", "tcp:", "sctp:80-:80", "TCP:80-:80", "tcp:80", "tcp:80-80",
		"tcp:80-:", "tcp:-:80", "tcp:0-:80", "tcp:80-:0", "tcp:65536-:80",
		"tcp:80-:123456", "tcp:8x-:80", "tcp:80-:8x", "tcp:1.2.3:80-:80",
		"tcp:1.2.3.256:80-:80", "tcp:1.2.3.4.5:80-:80", "tcp:a.b.c.d:80-:80",
		"tcp:80-1.2.3:80", "tcp:80-:80-:80", "tcp:80 -:80", "tcp:+80-:80",
		"tcp:80-:-80", "udp:1::80-:80",
	};
	struct net_hostfwd f;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!CHECK_EQ_INT(hostfwd(bad[i], &f), -1))
			fprintf(stderr, "  accepted '%s'\n", bad[i]);
}

TEST(options_lkvm_mem_at_address)
{
	static const char *const good[] = { "256@1024", "256M@1G", "256@0x40000000" };
	static const char *const elsewhere[] = { "256@2G", "256@0x80000000", "256@0" };
	static const char *const bad[] = { "256@", "256@x", "256@0x", "256@1G5", "@1G" };
	struct run r;

	for (unsigned int i = 0; i < ARRAY_SIZE(good); i++) {
		PARSE(&r, "-m", good[i]);
		if (!CHECK_RUN(&r))
			FAIL("for %s", good[i]);
		CHECK_EQ_U64(r.cfg.mem_bytes, 256 * SZ_1M);
		run_free(&r);
	}
	for (unsigned int i = 0; i < ARRAY_SIZE(elsewhere); i++) {
		PARSE(&r, "--mem", elsewhere[i]);
		if (!CHECK_ERROR(&r, "guest RAM at another address than 0x40000000 is not supported"))
			FAIL("for %s", elsewhere[i]);
		run_free(&r);
	}
	for (unsigned int i = 0; i < ARRAY_SIZE(bad); i++) {
		PARSE(&r, "--mem", bad[i]);
		if (!CHECK_ERROR(&r, "invalid memory"))
			FAIL("for %s", bad[i]);
		run_free(&r);
	}
}

TEST(options_lkvm_accepted)
{
	struct run r;

	/* Already so in lvmm: MTE and stolen time are never offered; no rootfs. */
	PARSE(&r, "--disable-mte", "--no-pvtime", "--no-dhcp", "--virtio-transport", "mmio");
	CHECK_RUN(&r);
	run_free(&r);

	PARSE(&r, "--kaslr-seed", "0x0123456789abcdef");
	CHECK_RUN(&r);
	CHECK_EQ_U64(r.cfg.kaslr_seed, 0x0123456789abcdefULL);
	run_free(&r);

	PARSE(&r, "--kaslr-seed=42");
	CHECK_RUN(&r);
	CHECK_EQ_U64(r.cfg.kaslr_seed, 42);
	run_free(&r);

	PARSE(&r, "--kaslr-seed", "-1");
	CHECK_ERROR(&r, "invalid --kaslr-seed '-1'");
	run_free(&r);
	PARSE(&r, "--kaslr-seed", "0x1ffffffffffffffff");
	CHECK_ERROR(&r, "invalid --kaslr-seed");
	run_free(&r);

	PARSE(&r, "--virtio-transport", "pci-legacy");
	CHECK_ERROR(&r, "unknown virtio transport 'pci-legacy' (pci or mmio: virtio 1.x only)");
	run_free(&r);

	/* kvmtool's boot-time options do not go with a restore. */
	PARSE(&r, "--restore", "snap", "--nodefaults");
	CHECK_ERROR(&r, "only --name, --clock, --copy-memory, --stats and --seccomp go with --restore");
	run_free(&r);
}

/* --vfio-pci [DOMAIN:]BUS:DEV.FN: kvmtool's spelling, canonical as sysfs has it. */
TEST(options_vfio_pci)
{
	static const char *const bad[] = {
		"", "00:01", "0:0:1", "00:20.0", "00:01.8", "100:00.0", "10000:00:01.0",
		"00:01.0x", "00:01.0,ro", "-1:00.0", "00:01.0:1",
	};
	struct run r;

	PARSE(&r, "--vfio-pci", "00:01.0", "--vfio-pci", "0001:0a:1f.7");
	CHECK_RUN(&r);
	CHECK_EQ_INT(r.cfg.nr_vfio_pci, 2);
	CHECK_STR(r.cfg.vfio_pci[0].addr, "0000:00:01.0");
	CHECK_STR(r.cfg.vfio_pci[1].addr, "0001:0a:1f.7");
	run_free(&r);

	for (unsigned int i = 0; i < ARRAY_SIZE(bad); i++) {
		PARSE(&r, "--vfio-pci", bad[i]);
		if (!CHECK_ERROR(&r, "not a PCI address ([DOMAIN:]BUS:DEV.FN in hex"))
			FAIL("for '%s'", bad[i]);
		run_free(&r);
	}
	PARSE(&r, "--vfio-pci", "00:01.0", "--vfio-pci", "0000:00:01.0");
	CHECK_ERROR(&r, "--vfio-pci 0000:00:01.0: given twice");
	run_free(&r);
}

/* Every other lkvm run option: refused, each with its own reason. */
TEST(options_lkvm_refused)
{
	static const char *const args[][2] = {
		{ "--balloon", NULL }, { "--vnc", NULL }, { "--gtk", NULL }, { "--sdl", NULL },
		{ "--vsock", "3" }, { "--dev", "/dev/kvm" },
		{ "--tty", "0" }, { "--sandbox", "s.sh" },
		{ "--virtio-legacy", NULL }, { "--firmware", "fw.bin" }, { "-f", "fw.bin" },
		{ "--flash", "flash.img" }, { "-F", "flash.img" },
		{ "--firmware-address", "0x80000000" },
		{ "--debug-single-step", NULL }, { "--debug-ioport", NULL },
		{ "--debug-mmio", NULL }, { "--debug-iodelay", "10" }, { "--aarch32", NULL },
		{ "--pmu", NULL }, { "--vcpu-affinity", "0-1" }, { "--sve-max-vl", "256" },
		{ "--override-bad-firmware-cntfrq", "1000000" }, { "--force-pci", NULL },
	};
	struct run r;

	for (unsigned int i = 0; i < ARRAY_SIZE(args); i++) {
		const char *name = args[i][0];
		char want[80];

		if (!strcmp(name, "-f"))
			name = "--firmware";
		else if (!strcmp(name, "-F"))
			name = "--flash";
		snprintf(want, sizeof(want), "kvmtool's %s is not supported: ", name);
		if (args[i][1])
			PARSE(&r, "-k", "Image", args[i][0], args[i][1]);
		else
			PARSE(&r, "-k", "Image", args[i][0]);
		if (!CHECK_ERROR(&r, want))
			FAIL("for %s", args[i][0]);
		run_free(&r);
	}
	/* Values kvmtool knows and lvmm does not. */
	PARSE(&r, "--console", "hv");
	CHECK_ERROR(&r, "unknown console 'hv'");
	run_free(&r);
	PARSE(&r, "--irqchip=gicv2m");
	CHECK_ERROR(&r, "unknown irqchip 'gicv2m'");
	run_free(&r);
	/* An option of lkvm's that takes a value, given none. */
	PARSE(&r, "--loglevel");
	CHECK_ERROR(&r, "option '--loglevel' needs an argument");
	run_free(&r);
}

TEST(options_repeated_parse_resets_state)
{
	struct run r;

	/* getopt keeps static state; a second parse must start afresh. */
	PARSE(&r, "-c", "8", "-m", "1G", "--irqchip", "gicv2", "--name", "first");
	CHECK_RUN(&r);
	run_free(&r);
	PARSE(&r, "-k", "Image");
	CHECK_RUN(&r);
	CHECK_EQ_U64(r.cfg.nr_cpus, 1);
	CHECK_EQ_U64(r.cfg.mem_bytes, 256 * SZ_1M);
	CHECK_EQ_INT(r.cfg.irqchip, IRQCHIP_AUTO);
	CHECK_STR(r.cfg.kernel, "Image");
	CHECK(strcmp(r.cfg.name, "first") != 0);
	run_free(&r);
}

TEST(options_help)
{
	static const char *const longs[] = {
		"--kernel", "--initrd", "--params", "--mem", "--cpus", "--irqchip",
		"--console", "--name", "--dump-dtb", "--stats", "--stats-marker", "--help",
	};
	struct run r;

	PARSE(&r, "--help");
	CHECK_EQ_INT(r.res, OPTIONS_HELP);
	CHECK_STR(r.err, "");
	CHECK_CONTAINS(r.out, "Usage: lvmm run");
	for (unsigned int i = 0; i < ARRAY_SIZE(longs); i++)
		CHECK_CONTAINS(r.out, longs[i]);
	/* The defaults it quotes are the real ones. */
	CHECK_CONTAINS(r.out, "default: 256 MiB");
	CHECK_CONTAINS(r.out, "default: 1)");
	run_free(&r);

	/* -h wins even after other options, and before a bad one. */
	PARSE(&r, "-c", "2", "-h", "--bogus");
	CHECK_EQ_INT(r.res, OPTIONS_HELP);
	CHECK_CONTAINS(r.out, "Usage: lvmm run");
	CHECK_STR(r.err, "");
	run_free(&r);
}

TEST(util_parse_size)
{
	static const struct {
		const char *s;
		uint64_t unit;
		uint64_t want;
	} good[] = {
		{ "512", SZ_1M, 512 * SZ_1M },
		{ "512", 1, 512 },
		{ "0", SZ_1M, 0 },
		{ "512M", 1, 512 * SZ_1M },
		{ "512MB", 1, 512 * SZ_1M },
		{ "512mib", 1, 512 * SZ_1M },
		{ "65536K", 1, 64 * SZ_1M },
		{ "65536k", SZ_1M, 64 * SZ_1M },
		{ "2G", 1, 2 * SZ_1G },
		{ "1T", 1, 1024 * SZ_1G },
		{ "16777215T", 1, 16777215ULL * 1024 * SZ_1G },
		{ "18446744073709551615", 1, UINT64_MAX },
	};
	static const struct {
		const char *s;
		int err;
	} bad[] = {
		{ "", -EINVAL }, { "-5", -EINVAL }, { "+5", -EINVAL }, { " 5", -EINVAL },
		{ "12X", -EINVAL }, { "1.5", -EINVAL }, { "M", -EINVAL }, { "5MiBx", -EINVAL },
		{ "5iB", -EINVAL }, { "5 M", -EINVAL }, { "0x10", -EINVAL },
		{ "18446744073709551616", -ERANGE }, { "16777216T", -ERANGE },
		{ "17179869184G", -ERANGE },
	};
	uint64_t v;

	for (unsigned int i = 0; i < ARRAY_SIZE(good); i++) {
		v = 0xdead;
		if (!CHECK_EQ_INT(parse_size(good[i].s, good[i].unit, &v), 0) ||
		    !CHECK_EQ_U64(v, good[i].want))
			FAIL("for parse_size(\"%s\", %llu)", good[i].s,
			     (unsigned long long)good[i].unit);
	}
	for (unsigned int i = 0; i < ARRAY_SIZE(bad); i++) {
		v = 0xdead;
		if (!CHECK_EQ_INT(parse_size(bad[i].s, SZ_1M, &v), bad[i].err))
			FAIL("for parse_size(\"%s\")", bad[i].s);
		/* A failed parse leaves the output alone. */
		CHECK_EQ_U64(v, 0xdead);
	}
	CHECK_EQ_INT(parse_size(NULL, SZ_1M, &v), -EINVAL);
	/* The default unit's overflow counts too. */
	CHECK_EQ_INT(parse_size("17179869184", SZ_1G, &v), -ERANGE);
	CHECK_EQ_INT(parse_size("17179869183", SZ_1G, &v), 0);
}

TEST(util_parse_uint)
{
	unsigned long v;

	CHECK_EQ_INT(parse_uint("1", 1, 512, &v), 0);
	CHECK_EQ_U64(v, 1);
	CHECK_EQ_INT(parse_uint("512", 1, 512, &v), 0);
	CHECK_EQ_U64(v, 512);
	CHECK_EQ_INT(parse_uint("007", 0, 10, &v), 0);
	CHECK_EQ_U64(v, 7);	/* decimal, not octal */
	CHECK_EQ_INT(parse_uint("0", 0, 0, &v), 0);
	CHECK_EQ_U64(v, 0);

	v = 42;
	CHECK_EQ_INT(parse_uint("0", 1, 512, &v), -ERANGE);
	CHECK_EQ_INT(parse_uint("513", 1, 512, &v), -ERANGE);
	CHECK_EQ_INT(parse_uint("99999999999999999999999", 0, ULONG_MAX, &v), -ERANGE);
	CHECK_EQ_INT(parse_uint("", 0, 10, &v), -EINVAL);
	CHECK_EQ_INT(parse_uint(NULL, 0, 10, &v), -EINVAL);
	CHECK_EQ_INT(parse_uint("abc", 0, 10, &v), -EINVAL);
	CHECK_EQ_INT(parse_uint("5x", 0, 10, &v), -EINVAL);
	CHECK_EQ_INT(parse_uint("-1", 0, ULONG_MAX, &v), -EINVAL);
	CHECK_EQ_INT(parse_uint("+1", 0, 10, &v), -EINVAL);
	CHECK_EQ_INT(parse_uint(" 1", 0, 10, &v), -EINVAL);
	CHECK_EQ_INT(parse_uint("0x10", 0, 100, &v), -EINVAL);
	CHECK_EQ_U64(v, 42);
}

/*
 * Both parsers refuse a leading sign or space explicitly, but strtoul()
 * also skips tabs and newlines, and then takes a '-' after them: "\t-1"
 * must not come back as ULONG_MAX.
 */
TEST(util_parse_rejects_any_leading_whitespace)
{
	static const struct {
		const char *s;
		const char *label;	/* printable */
	} bad[] = {
		{ "\t1", "\\t1" }, { "\n1", "\\n1" }, { "\t-1", "\\t-1" }, { "\v-1", "\\v-1" },
	};
	unsigned long v;
	uint64_t size;

	for (unsigned int i = 0; i < ARRAY_SIZE(bad); i++) {
		v = 42;
		if (!CHECK_EQ_INT(parse_uint(bad[i].s, 0, ULONG_MAX, &v), -EINVAL))
			FAIL("parse_uint(\"%s\") gave %lu", bad[i].label, v);
		size = 42;
		if (!CHECK_EQ_INT(parse_size(bad[i].s, 1, &size), -EINVAL))
			FAIL("parse_size(\"%s\") gave %llu", bad[i].label,
			     (unsigned long long)size);
	}
}

TEST(irqchip_model_names)
{
	static const struct {
		const char *name;
		enum irqchip_model model;
	} all[] = {
		{ "auto", IRQCHIP_AUTO },
		{ "gicv2", IRQCHIP_GICV2 },
		{ "gicv3", IRQCHIP_GICV3 },
		{ "gicv3-its", IRQCHIP_GICV3_ITS },
	};
	enum irqchip_model m;

	for (unsigned int i = 0; i < ARRAY_SIZE(all); i++) {
		m = 99;
		CHECK_EQ_INT(irqchip_model_parse(all[i].name, &m), 0);
		CHECK_EQ_INT(m, all[i].model);
		CHECK_STR(irqchip_model_name(all[i].model), all[i].name);
	}
	m = IRQCHIP_GICV2;
	CHECK_EQ_INT(irqchip_model_parse("GICV3", &m), -EINVAL);
	CHECK_EQ_INT(irqchip_model_parse("", &m), -EINVAL);
	CHECK_EQ_INT(irqchip_model_parse("gicv3 ", &m), -EINVAL);
	CHECK_EQ_INT(m, IRQCHIP_GICV2);
	CHECK_STR(irqchip_model_name((enum irqchip_model)4), "?");
	CHECK_STR(irqchip_model_name((enum irqchip_model)-1), "?");
}

TEST(options_disk)
{
	struct run r;

	PARSE(&r, "-k", "Image", "-d", "a.img,ro,serial=S1", "-d", "b.img,queues=4");
	CHECK_EQ_INT(r.cfg.nr_disks, 2);
	CHECK(r.cfg.disks[0].readonly);
	CHECK_STR(r.cfg.disks[0].serial, "S1");
	CHECK_EQ_U64(disk_queues(&r.cfg, 0), 1);
	CHECK_EQ_U64(disk_queues(&r.cfg, 1), 4);
	run_free(&r);
	const char *bad[] = { "queues=0", "queues=9", "queues=", "queues=2x", "queues=-1" };

	for (unsigned int i = 0; i < ARRAY_SIZE(bad); i++) {
		char arg[64];

		snprintf(arg, sizeof(arg), "a.img,%s", bad[i]);
		PARSE(&r, "-k", "Image", "-d", arg);
		CHECK_ERROR(&r, "queues=1-8");
		run_free(&r);
	}
}

TEST(options_9p)
{
	struct run r;

	PARSE(&r, "-k", "Image", "--9p", "/srv,share", "--9p", "/data,data,ro");
	CHECK_EQ_INT(r.cfg.nr_shares, 2);
	CHECK_STR(r.cfg.shares[0].dir, "/srv");
	CHECK_STR(r.cfg.shares[0].tag, "share");
	CHECK(!r.cfg.shares[0].readonly && r.cfg.shares[1].readonly);
	run_free(&r);
	PARSE(&r, "-k", "Image", "--9p", "/srv");
	CHECK_ERROR(&r, "--9p needs a directory and a mount tag");
	run_free(&r);
	PARSE(&r, "-k", "Image", "--9p", "/srv,t,rw");
	CHECK_ERROR(&r, "unknown option 'rw'");
	run_free(&r);
}
