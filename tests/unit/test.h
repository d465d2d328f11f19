/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A tiny unit test framework for the host tests. TEST(name) defines a test
 * and registers it from a constructor, so a test file needs no list kept in
 * sync elsewhere. The CHECK macros record a failure with file:line and the
 * values, then let the test go on: one run shows every broken expectation,
 * not just the first. They evaluate to true when the check held, so a test
 * can stop where going on would crash: if (!CHECK(p)) return;
 */
#ifndef LVMM_TEST_H
#define LVMM_TEST_H

#include <stdbool.h>
#include <stdint.h>

struct test_case {
	const char *name;
	void (*fn)(void);
	struct test_case *next;
};

void test_register(struct test_case *tc);

bool test_check(bool ok, const char *file, int line, const char *expr);
bool test_check_u64(uint64_t a, uint64_t b, const char *file, int line,
		    const char *ea, const char *eb);
bool test_check_int(long long a, long long b, const char *file, int line,
		    const char *ea, const char *eb);
bool test_check_str(const char *a, const char *b, const char *file, int line,
		    const char *ea, const char *eb);
bool test_check_contains(const char *hay, const char *needle, const char *file,
			 int line, const char *eh);
void test_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Failures so far in the running test: lets a loop add "for case X" context. */
unsigned int test_failure_count(void);

#define TEST(tname)							\
	static void test_fn_##tname(void);				\
	static struct test_case test_case_##tname = {			\
		.name = #tname, .fn = test_fn_##tname,			\
	};								\
	static void __attribute__((constructor)) test_reg_##tname(void)	\
	{								\
		test_register(&test_case_##tname);			\
	}								\
	static void test_fn_##tname(void)

#define CHECK(cond) test_check(!!(cond), __FILE__, __LINE__, #cond)
#define CHECK_EQ_U64(a, b) \
	test_check_u64((uint64_t)(a), (uint64_t)(b), __FILE__, __LINE__, #a, #b)
/* Signed, for return codes such as -ENOEXEC. */
#define CHECK_EQ_INT(a, b) \
	test_check_int((long long)(a), (long long)(b), __FILE__, __LINE__, #a, #b)
/* Either side may be NULL; two NULLs are equal. */
#define CHECK_STR(a, b) test_check_str((a), (b), __FILE__, __LINE__, #a, #b)
#define CHECK_CONTAINS(hay, needle) \
	test_check_contains((hay), (needle), __FILE__, __LINE__, #hay)
#define FAIL(...) test_fail(__FILE__, __LINE__, __VA_ARGS__)

#endif
