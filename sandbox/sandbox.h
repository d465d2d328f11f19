/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Seccomp filters: every lvmm thread of a running VM is confined to the
 * system calls its kind of work needs (sandbox/seccomp.c has one table per
 * kind). A call outside its table ends lvmm with a message naming it.
 *
 * sandbox_prepare() builds every filter once, in the main thread, before
 * any thread is created; sandbox_enter() is then the first line of each
 * thread function (and of the main thread once the VM runs) and loads the
 * prebuilt filter with one seccomp(2) call: no allocation, no libseccomp.
 */
#ifndef LVMM_SANDBOX_H
#define LVMM_SANDBOX_H

#include "../options.h"

#include <stddef.h>

enum sandbox_kind {
	SANDBOX_MAIN,		/* the main thread once the VM runs: wait, teardown */
	SANDBOX_VCPU,		/* a vCPU thread: KVM_RUN and MMIO exits */
	SANDBOX_VIRTIO,		/* a virtio device's worker */
	SANDBOX_VIRTIO_9P,	/* virtio-9p's worker: file calls in its share */
	SANDBOX_CONSOLE,	/* the serial console's input (and output) threads */
	SANDBOX_CONTROL,	/* the control socket: list, pause, snapshot */
	SANDBOX_USERNET,	/* -n mode=user: libslirp's host sockets */
	SANDBOX_NR_KINDS,
};

/*
 * Build the filters for mode (nothing for SANDBOX_OFF) and install the
 * SIGSYS handler. Returns 0 or -errno with a message in err.
 */
int sandbox_prepare(enum sandbox_mode mode, char *err, size_t errlen);

/* Confine the calling thread; a no-op with --seccomp off. */
void sandbox_enter(enum sandbox_kind kind);

const char *sandbox_kind_name(enum sandbox_kind kind);

/*
 * The violation message, built without stdio (it is written from the
 * SIGSYS handler). name may be NULL (an unknown number). Returns its length.
 */
size_t sandbox_format_violation(char *buf, size_t size, enum sandbox_kind kind,
				const char *name, long nr, bool logged, bool crlf);

/* For sandbox/seccomp.c: the state sandbox_enter() and the handler use. */
struct sock_fprog;
struct sandbox_state {
	enum sandbox_mode mode;
	struct sock_fprog *prog[SANDBOX_NR_KINDS];
	const char *const *names;	/* syscall names by number */
	long nr_names;
	int test_kind;			/* LVMM_TEST_SECCOMP_VIOLATION, or -1 */
	bool crlf;			/* stderr is a terminal (maybe raw) */
	void (*on_violation)(void);	/* async-signal-safe, before _exit */
};
extern struct sandbox_state sandbox;

void sandbox_install_handler(void);
/* Where the log mode's replay makes its system call (allowed by address). */
unsigned long sandbox_replay_ip(void);

#endif
