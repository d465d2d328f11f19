// SPDX-License-Identifier: GPL-2.0
/*
 * Runs every registered test, or those whose name contains argv[1]. Each
 * test runs in a child process so that a crash or a hang in one is reported
 * as that test's failure and the others still run; LVMM_TEST_NOFORK=1 runs
 * them in-process instead (for a debugger).
 */
#include "test.h"

#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* A test taking longer than this is stuck (a lost wakeup, say). */
#define TEST_TIMEOUT_S 10

static struct test_case *tests_head;
static struct test_case **tests_tail = &tests_head;

/* Where the running test's failure details go, and how many it had. */
static FILE *test_log;
static unsigned int test_failures;

void test_register(struct test_case *tc)
{
	/* Constructors run in definition order: keep it, it reads naturally. */
	tc->next = NULL;
	*tests_tail = tc;
	tests_tail = &tc->next;
}

static __attribute__((format(printf, 3, 0))) void test_vfail(const char *file, int line, const char *fmt,
							       va_list ap)
{
	test_failures++;
	fprintf(test_log, "    %s:%d: ", file, line);
	vfprintf(test_log, fmt, ap);
	fputc('\n', test_log);
	fflush(test_log);
}

void test_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	test_vfail(file, line, fmt, ap);
	va_end(ap);
}

unsigned int test_failure_count(void)
{
	return test_failures;
}

bool test_check(bool ok, const char *file, int line, const char *expr)
{
	if (!ok)
		test_fail(file, line, "CHECK(%s) failed", expr);
	return ok;
}

bool test_check_u64(uint64_t a, uint64_t b, const char *file, int line,
		    const char *ea, const char *eb)
{
	if (a != b)
		test_fail(file, line, "%s == %s failed: 0x%" PRIx64 " (%" PRIu64 ") != 0x%"
			  PRIx64 " (%" PRIu64 ")", ea, eb, a, a, b, b);
	return a == b;
}

bool test_check_int(long long a, long long b, const char *file, int line,
		    const char *ea, const char *eb)
{
	if (a != b)
		test_fail(file, line, "%s == %s failed: %lld != %lld", ea, eb, a, b);
	return a == b;
}

bool test_check_str(const char *a, const char *b, const char *file, int line,
		    const char *ea, const char *eb)
{
	bool ok = (!a && !b) || (a && b && !strcmp(a, b));

	if (!ok)
		test_fail(file, line, "%s == %s failed: %s%s%s != %s%s%s", ea, eb,
			  a ? "\"" : "", a ? a : "NULL", a ? "\"" : "",
			  b ? "\"" : "", b ? b : "NULL", b ? "\"" : "");
	return ok;
}

bool test_check_contains(const char *hay, const char *needle, const char *file,
			 int line, const char *eh)
{
	bool ok = hay && strstr(hay, needle);

	if (!ok)
		test_fail(file, line, "%s does not contain \"%s\": %s%s%s", eh, needle,
			  hay ? "\"" : "", hay ? hay : "NULL", hay ? "\"" : "");
	return ok;
}

static bool run_in_process(struct test_case *tc)
{
	test_log = stdout;
	test_failures = 0;
	printf("# %s\n", tc->name);
	fflush(stdout);
	tc->fn();
	return test_failures == 0;
}

/* Run tc in a child; its failure details are read back through a pipe. */
static bool run_forked(struct test_case *tc, char **details)
{
	size_t details_len = 0;
	FILE *mem, *in;
	int pfd[2], status, c;
	pid_t pid;

	*details = NULL;
	if (pipe(pfd) < 0) {
		perror("pipe");
		exit(2);
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		perror("fork");
		exit(2);
	}
	if (pid == 0) {
		close(pfd[0]);
		test_log = fdopen(pfd[1], "w");
		if (!test_log)
			_exit(3);
		test_failures = 0;
		alarm(TEST_TIMEOUT_S);
		tc->fn();
		fclose(test_log);
		_exit(test_failures ? 1 : 0);
	}
	close(pfd[1]);
	mem = open_memstream(details, &details_len);
	in = fdopen(pfd[0], "r");
	if (!mem || !in) {
		perror("fdopen");
		exit(2);
	}
	/* Read to EOF before waiting, or a chatty child would block on a full pipe. */
	while ((c = fgetc(in)) != EOF)
		fputc(c, mem);
	fclose(in);
	while (waitpid(pid, &status, 0) < 0)
		;
	if (WIFSIGNALED(status))
		fprintf(mem, "    killed by signal %d (%s)%s\n", WTERMSIG(status),
			strsignal(WTERMSIG(status)),
			WTERMSIG(status) == SIGALRM ? ": timed out" : "");
	else if (WEXITSTATUS(status) > 1)
		fprintf(mem, "    exited with status %d\n", WEXITSTATUS(status));
	fclose(mem);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

int main(int argc, char **argv)
{
	const char *filter = argc > 1 ? argv[1] : NULL;
	const char *nofork = getenv("LVMM_TEST_NOFORK");
	unsigned int passed = 0, failed = 0;
	struct test_case *tc;

	for (tc = tests_head; tc; tc = tc->next) {
		char *details = NULL;
		bool ok;

		if (filter && !strstr(tc->name, filter))
			continue;
		if (nofork && *nofork && strcmp(nofork, "0"))
			ok = run_in_process(tc);
		else
			ok = run_forked(tc, &details);
		printf("%s - %s\n", ok ? "ok" : "FAIL", tc->name);
		if (!ok && details)
			fputs(details, stdout);
		free(details);
		if (ok)
			passed++;
		else
			failed++;
	}
	printf("%u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}
