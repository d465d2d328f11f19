// SPDX-License-Identifier: GPL-2.0
/*
 * --seccomp parsing and the violation message (built without stdio, for
 * the SIGSYS handler). The filters themselves are tested on real arm64 KVM
 * (tests/e2e/l1-seccomp.sh).
 */
#include "test.h"
#include "../../options.h"
#include "../../sandbox/sandbox.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static enum options_result parse(struct vm_config *cfg, char *errbuf, size_t errlen, ...)
{
	char *argv[16] = { "run" };
	int argc = 1;
	enum options_result res;
	const char *a;
	va_list ap;
	FILE *out = fopen("/dev/null", "w");
	FILE *err = fmemopen(errbuf, errlen, "w");

	va_start(ap, errlen);
	while ((a = va_arg(ap, const char *)) && argc < 15)
		argv[argc++] = (char *)a;
	va_end(ap);
	argv[argc] = NULL;
	res = options_parse_run(argc, argv, cfg, out, err);
	fclose(out);
	fclose(err);
	return res;
}

TEST(sandbox_option)
{
	struct vm_config cfg;
	char err[512] = "";

	CHECK_EQ_INT(parse(&cfg, err, sizeof(err), (char *)NULL), OPTIONS_RUN);
	CHECK_EQ_INT(cfg.seccomp, SANDBOX_ON);
	CHECK_EQ_INT(parse(&cfg, err, sizeof(err), "--seccomp", "on", (char *)NULL), OPTIONS_RUN);
	CHECK_EQ_INT(cfg.seccomp, SANDBOX_ON);
	CHECK_EQ_INT(parse(&cfg, err, sizeof(err), "--seccomp=log", (char *)NULL), OPTIONS_RUN);
	CHECK_EQ_INT(cfg.seccomp, SANDBOX_LOG);
	CHECK_EQ_INT(parse(&cfg, err, sizeof(err), "--seccomp", "off", (char *)NULL), OPTIONS_RUN);
	CHECK_EQ_INT(cfg.seccomp, SANDBOX_OFF);
	/* A restored VM runs under the filters too; the mode is not VM state. */
	CHECK_EQ_INT(parse(&cfg, err, sizeof(err), "--restore", "snap", "--seccomp", "off",
			   (char *)NULL), OPTIONS_RUN);
	CHECK_EQ_INT(cfg.seccomp, SANDBOX_OFF);
	memset(err, 0, sizeof(err));
	CHECK_EQ_INT(parse(&cfg, err, sizeof(err), "--seccomp", "strict", (char *)NULL),
		     OPTIONS_ERROR);
	CHECK_STR(err, "lvmm: unknown seccomp mode 'strict' (on, log or off)\n");
}

TEST(sandbox_violation_message)
{
	char buf[256];
	size_t n;

	n = sandbox_format_violation(buf, sizeof(buf), SANDBOX_VCPU, "getppid", 173, false, false);
	CHECK_STR(buf, "lvmm: seccomp: vcpu thread made syscall getppid (nr 173), which its filter does not allow\n");
	CHECK_EQ_U64(n, strlen(buf));
	sandbox_format_violation(buf, sizeof(buf), SANDBOX_CONTROL, "openat", 56, true, true);
	CHECK_STR(buf, "lvmm: seccomp: control thread made syscall openat (nr 56), which its filter does not allow (carried out: --seccomp log)\r\n");
	/* A number libseccomp cannot name, and a thread still in its creator's filter. */
	sandbox_format_violation(buf, sizeof(buf), -1, NULL, 0, false, false);
	CHECK_STR(buf, "lvmm: seccomp: new thread made syscall unknown (nr 0), which its filter does not allow\n");
	sandbox_format_violation(buf, sizeof(buf), SANDBOX_MAIN, "x", -1, false, false);
	CHECK_CONTAINS(buf, "main thread made syscall x (nr -1)");
	/* Truncated, never overrun. */
	memset(buf, 'Z', sizeof(buf));
	n = sandbox_format_violation(buf, 20, SANDBOX_VIRTIO, "io_submit", 2, false, false);
	CHECK_EQ_U64(n, 19);
	CHECK_EQ_U64(strlen(buf), 19);
	CHECK(buf[20] == 'Z');
}

TEST(sandbox_off_is_a_no_op)
{
	/* Never prepared: entering changes nothing (the unit tests run on). */
	sandbox_enter(SANDBOX_VCPU);
	CHECK_STR(sandbox_kind_name(SANDBOX_CONSOLE), "console");
}
