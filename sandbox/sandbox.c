// SPDX-License-Identifier: GPL-2.0
/*
 * Entering a prebuilt seccomp filter, and what happens on a violation.
 * Nothing here needs libseccomp (sandbox/seccomp.c builds the filters), so
 * the threads' one-line sandbox_enter() links into the unit tests too.
 */
#include "sandbox.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

struct sandbox_state sandbox = { .mode = SANDBOX_OFF, .test_kind = -1 };

/* The kind of the calling thread, for the SIGSYS handler's message. */
static __thread int thread_kind = -1;

static const char *const kind_names[SANDBOX_NR_KINDS] = {
	[SANDBOX_MAIN] = "main",
	[SANDBOX_VCPU] = "vcpu",
	[SANDBOX_VIRTIO] = "virtio",
	[SANDBOX_VIRTIO_9P] = "virtio-9p",
	[SANDBOX_CONSOLE] = "console",
	[SANDBOX_CONTROL] = "control",
	[SANDBOX_USERNET] = "user-net",
};

const char *sandbox_kind_name(enum sandbox_kind kind)
{
	/* A thread not yet in its own filter runs under its creator's. */
	if ((unsigned int)kind >= SANDBOX_NR_KINDS)
		return "new";
	return kind_names[kind];
}

static size_t put_str(char *buf, size_t size, size_t pos, const char *s)
{
	while (*s && pos + 1 < size)
		buf[pos++] = *s++;
	buf[pos] = '\0';
	return pos;
}

static size_t put_num(char *buf, size_t size, size_t pos, long v)
{
	char digits[24];
	int n = 0;
	unsigned long u = v < 0 ? -(unsigned long)v : (unsigned long)v;

	do {
		digits[n++] = '0' + u % 10;
		u /= 10;
	} while (u);
	if (v < 0)
		digits[n++] = '-';
	while (n && pos + 1 < size)
		buf[pos++] = digits[--n];
	buf[pos] = '\0';
	return pos;
}

/* Async-signal-safe: no stdio, no allocation. */
size_t sandbox_format_violation(char *buf, size_t size, enum sandbox_kind kind,
				const char *name, long nr, bool logged, bool crlf)
{
	size_t pos = 0;

	if (!size)
		return 0;
	buf[0] = '\0';
	pos = put_str(buf, size, pos, "lvmm: seccomp: ");
	pos = put_str(buf, size, pos, sandbox_kind_name(kind));
	pos = put_str(buf, size, pos, " thread made syscall ");
	pos = put_str(buf, size, pos, name ? name : "unknown");
	pos = put_str(buf, size, pos, " (nr ");
	pos = put_num(buf, size, pos, nr);
	pos = put_str(buf, size, pos, "), which its filter does not allow");
	if (logged)
		pos = put_str(buf, size, pos, " (carried out: --seccomp log)");
	return put_str(buf, size, pos, crlf ? "\r\n" : "\n");
}

#ifdef __aarch64__
/*
 * --seccomp log: the handler carries the trapped call out itself, from this
 * one svc instruction, which the log mode's filters allow by address (the
 * kernel reports the address after the svc as the instruction pointer).
 */
long sandbox_replay(long nr, long a0, long a1, long a2, long a3, long a4, long a5);
extern const char sandbox_replay_ret[];
__asm__(".text\n"
	".global sandbox_replay\n"
	".type sandbox_replay, %function\n"
	"sandbox_replay:\n"
	"	mov x8, x0\n"
	"	mov x0, x1\n"
	"	mov x1, x2\n"
	"	mov x2, x3\n"
	"	mov x3, x4\n"
	"	mov x4, x5\n"
	"	mov x5, x6\n"
	"	svc #0\n"
	".global sandbox_replay_ret\n"
	"sandbox_replay_ret:\n"
	"	ret\n"
	".size sandbox_replay, . - sandbox_replay\n");

unsigned long sandbox_replay_ip(void)
{
	return (unsigned long)sandbox_replay_ret;
}

/* Calls that cannot be made again from inside a signal handler. */
static bool replayable(long nr)
{
	return nr != __NR_clone && nr != __NR_clone3 && nr != __NR_rt_sigreturn;
}
#else
unsigned long sandbox_replay_ip(void)
{
	return 0;
}
#endif

static void sigsys_handler(int sig, siginfo_t *info, void *uctx)
{
	long nr = info->si_syscall;
	const char *name = nr >= 0 && nr < sandbox.nr_names ? sandbox.names[nr] : NULL;
	bool log = sandbox.mode == SANDBOX_LOG;
	char msg[256];
	size_t len;
	int saved = errno;

	len = sandbox_format_violation(msg, sizeof(msg), thread_kind, name, nr, log,
				       sandbox.crlf);
	if (write(STDERR_FILENO, msg, len) < 0) {
		/* nowhere left to say it */
	}
#ifdef __aarch64__
	if (log) {
		ucontext_t *uc = uctx;
		unsigned long long *r = uc->uc_mcontext.regs;

		/* The kernel put x0 back to the first argument for us. */
		r[0] = replayable(nr) ? sandbox_replay(nr, r[0], r[1], r[2], r[3], r[4], r[5]) :
					-ENOSYS;
		errno = saved;
		return;
	}
#endif
	(void)uctx;
	(void)saved;
	if (sandbox.on_violation)
		sandbox.on_violation();	/* e.g. a raw terminal back as it was */
	_exit(1);
}

void sandbox_install_handler(void)
{
	struct sigaction sa = { .sa_sigaction = sigsys_handler, .sa_flags = SA_SIGINFO };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGSYS, &sa, NULL);
}

void sandbox_enter(enum sandbox_kind kind)
{
	static const char fail[] = "lvmm: seccomp: cannot confine a thread; stopping\n";

	if (sandbox.mode == SANDBOX_OFF || (unsigned int)kind >= SANDBOX_NR_KINDS ||
	    !sandbox.prog[kind])
		return;
	thread_kind = kind;
	/*
	 * sandbox_prepare() checked the kernel filters and set no_new_privs,
	 * so this cannot fail but for lack of memory; a thread that could
	 * not be confined must not run unconfined.
	 */
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, sandbox.prog[kind])) {
		if (write(STDERR_FILENO, fail, sizeof(fail) - 1) < 0) {
			/* nowhere left to say it */
		}
		_exit(1);
	}
	/* Test hook (README): this thread kind makes a call no filter allows. */
	if (sandbox.test_kind == (int)kind)
		syscall(SYS_getppid);
}
