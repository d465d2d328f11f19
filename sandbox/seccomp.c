// SPDX-License-Identifier: GPL-2.0
/*
 * The filters: one table of allowed system calls per thread kind, built
 * with libseccomp into BPF programs before any thread starts.
 *
 * Filters stack: a thread inherits its creator's filter and adds its own,
 * and a call must pass both. Threads start from the main thread before it
 * confines itself, except virtio workers restarted after a snapshot by the
 * control thread: the control table therefore holds the virtio one.
 *
 * Names are the arm64 ones (no open, stat, poll: openat, newfstatat, ppoll);
 * the glibc calls behind them were checked in the static binary's code.
 */
#include "sandbox.h"
#include "../devices/term.h"
#include "../util.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/fs.h>
#include <linux/kvm.h>
#include <linux/vhost.h>
#include <linux/seccomp.h>
#include <linux/vfio.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define END -1

/* Every thread. */
static const int common_calls[] = {
	SCMP_SYS(write),		/* log messages on stderr, eventfd signals */
	SCMP_SYS(futex),		/* mutexes, condition variables, pthread_join */
	SCMP_SYS(exit),			/* a thread returns */
	SCMP_SYS(exit_group),		/* exit(), and _exit() after a violation */
	SCMP_SYS(rt_sigreturn),		/* back from a signal handler (the vCPU kick) */
	SCMP_SYS(rt_sigprocmask),	/* glibc masks signals in pthread_kill, raise, thread exit */
	SCMP_SYS(rt_sigaction),		/* devices/term.c's fatal-signal handler re-raises */
	SCMP_SYS(getpid),		/* pthread_kill, raise */
	SCMP_SYS(gettid),		/* raise */
	SCMP_SYS(brk),			/* malloc */
	SCMP_SYS(mmap),			/* malloc: large blocks, per-thread arenas */
	SCMP_SYS(munmap),		/* free */
	SCMP_SYS(mprotect),		/* malloc: growing a thread's arena */
	SCMP_SYS(madvise),		/* free: giving pages back; a thread's stack at exit */
	SCMP_SYS(mremap),		/* realloc of a large block */
	SCMP_SYS(sched_getaffinity),	/* malloc's first new arena counts the CPUs */
	SCMP_SYS(writev),		/* glibc's fatal messages (malloc_printerr) */
	SCMP_SYS(clock_gettime),	/* timestamps (when the vDSO is not used) */
	SCMP_SYS(restart_syscall),	/* a wait interrupted by a signal goes on */
	SCMP_SYS(sched_yield),		/* glibc's lock back-off */
	END
};
/* Also every thread, on these requests only. */
static const unsigned long common_ioctls[] = {
	TCGETS,				/* isatty() in the log functions */
	TCSETS, TCSETSW, TCSETSF,	/* the terminal restored on a fatal signal */
	0
};

/*
 * virtio-net's vhost=1 hands its rings to the kernel and takes them back
 * (devices/virtio/vhost.c): on a vCPU (the driver's status and queue
 * writes), the control thread (snapshots, migration's dirty log) and the
 * main thread (exit).
 */
#define VHOST_NET_IOCTLS \
	VHOST_SET_FEATURES, VHOST_SET_LOG_BASE, VHOST_SET_VRING_NUM, VHOST_SET_VRING_BASE, \
	VHOST_GET_VRING_BASE, VHOST_SET_VRING_ADDR, VHOST_SET_VRING_KICK, VHOST_SET_VRING_CALL, \
	VHOST_NET_SET_BACKEND

/* vCPU threads (kvm/vcpu.c): KVM_RUN and what an MMIO exit does. */
static const int vcpu_calls[] = {
	SCMP_SYS(pread64),		/* a trapped VFIO register read is forwarded */
	SCMP_SYS(pwrite64),		/* a trapped VFIO register write */
	SCMP_SYS(io_getevents),		/* a virtio-blk reset waits for its requests */
	SCMP_SYS(ppoll),		/* an MSI-X PBA read looks at the vectors' eventfds */
	SCMP_SYS(close),		/* a virtio-9p reset (the guest's power-off) closes its fids */
	END
};
static const unsigned long vcpu_ioctls[] = {
	KVM_RUN,
	KVM_IRQ_LINE,			/* the UART's level interrupt on its register writes */
	/* PCI config and MSI-X table writes (devices/pci/): */
	KVM_IOEVENTFD,			/* a BAR moves: its queue notify ioeventfds follow */
	KVM_IRQFD,			/* a vector is masked or unmasked */
	KVM_SET_GSI_ROUTING,		/* and its MSI route comes or goes */
	KVM_SET_USER_MEMORY_REGION,	/* a VFIO-PCI BAR moves: its slots follow */
	VFIO_DEVICE_SET_IRQS,		/* VFIO-PCI MSI-X on or off, INTx back */
	VHOST_NET_IOCTLS,
	0
};

/* A virtio device's worker (devices/virtio/): blk, net, rng, console. */
static const int virtio_calls[] = {
	SCMP_SYS(ppoll),		/* queue notify eventfds, stop eventfd, device fds */
	SCMP_SYS(read),			/* draining eventfds; virtio-console input */
	SCMP_SYS(readv),		/* virtio-net receive from the tap (writev: common) */
	SCMP_SYS(io_submit),		/* virtio-blk requests (libaio) */
	SCMP_SYS(io_getevents),		/* and their completions */
	SCMP_SYS(getrandom),		/* virtio-rng */
	END
};
static const unsigned long virtio_ioctls[] = { 0 };

/* virtio-9p's worker (devices/virtio/9p_server.c): *at() calls in the share. */
static const int virtio_9p_calls[] = {
	SCMP_SYS(openat),		/* a name in a directory fd, O_NOFOLLOW */
	SCMP_SYS(openat2),		/* the same, RESOLVE_BENEATH where the kernel has it */
	SCMP_SYS(close),
	SCMP_SYS(dup),			/* fids share the root and their parent's fd */
	SCMP_SYS(newfstatat),		/* getattr, walk */
	SCMP_SYS(fstat),
	SCMP_SYS(fstatfs),		/* statfs */
	SCMP_SYS(pread64),		/* read */
	SCMP_SYS(pwrite64),		/* write */
	SCMP_SYS(lseek),		/* readdir's offset */
	SCMP_SYS(getdents64),		/* readdir */
	SCMP_SYS(mkdirat),
	SCMP_SYS(mknodat),		/* fifos and sockets only (no devices) */
	SCMP_SYS(symlinkat),
	SCMP_SYS(readlinkat),
	SCMP_SYS(linkat),
	SCMP_SYS(unlinkat),
	SCMP_SYS(renameat),
	SCMP_SYS(renameat2),		/* renameat() where glibc uses it */
	SCMP_SYS(fchmodat),		/* setattr */
	SCMP_SYS(fchownat),
	SCMP_SYS(utimensat),
	SCMP_SYS(ftruncate),
	SCMP_SYS(fsync),
	END
};
static const unsigned long virtio_9p_ioctls[] = { 0 };

/*
 * The user-mode network's thread (devices/net/user.c): libslirp making,
 * using and closing host sockets for the guest's connections.
 */
static const int usernet_calls[] = {
	SCMP_SYS(ppoll),		/* the frame pair, the stop eventfd, slirp's sockets */
	SCMP_SYS(recvfrom),		/* frames from the guest; TCP and UDP data */
	SCMP_SYS(sendmsg),		/* frames to the guest */
	SCMP_SYS(sendto),		/* TCP and UDP data */
	SCMP_SYS(read),			/* the host's /etc/resolv.conf for DNS */
	SCMP_SYS(socket),		/* a guest connection or datagram going out */
	SCMP_SYS(connect),
	SCMP_SYS(bind),
	SCMP_SYS(listen),
	SCMP_SYS(accept),		/* a hostfwd= connection coming in */
	SCMP_SYS(accept4),
	SCMP_SYS(shutdown),
	SCMP_SYS(close),
	SCMP_SYS(setsockopt),
	SCMP_SYS(getsockopt),		/* SO_ERROR of a connect in progress */
	SCMP_SYS(getsockname),
	SCMP_SYS(getpeername),
	SCMP_SYS(fcntl),		/* non-blocking sockets */
	SCMP_SYS(openat),		/* /etc/resolv.conf */
	SCMP_SYS(newfstatat),		/* and whether it changed */
	SCMP_SYS(fstat),
	SCMP_SYS(lseek),
	SCMP_SYS(getrandom),		/* TCP sequence numbers */
	END
};
static const unsigned long usernet_ioctls[] = {
	FIONREAD,			/* the size of a waiting datagram */
	FIONBIO,
	0
};

/*
 * The serial console's input thread (devices/uart.c), and the output writer
 * of each console (devices/console.c: stdout, THRE or a virtio wake-up when
 * room frees up).
 */
static const int console_calls[] = {
	SCMP_SYS(ppoll),		/* stdin and the stop pipe; stdout writable */
	SCMP_SYS(read),			/* stdin, the stop pipe */
	END
};
static const unsigned long console_ioctls[] = {
	KVM_IRQ_LINE,			/* input raises the UART's line */
	0
};

/* The control socket (control/control.c), and snapshots on its thread. */
static const int control_calls[] = {
	SCMP_SYS(ppoll),		/* the socket and the stop eventfd */
	SCMP_SYS(accept4),		/* a client */
	SCMP_SYS(read),			/* its request */
	SCMP_SYS(close),		/* the client; snapshot files */
	SCMP_SYS(openat),		/* snapshot files, and the directory to fsync */
	SCMP_SYS(mkdirat),		/* the snapshot's temporary directory */
	SCMP_SYS(renameat),		/* ... renamed to its name when complete */
	SCMP_SYS(renameat2),		/* the same, where glibc uses it */
	SCMP_SYS(unlinkat),		/* removing a failed snapshot */
	SCMP_SYS(newfstatat),		/* the snapshot directory must not exist; disk sizes */
	SCMP_SYS(readlinkat),		/* realpath() of the disks */
	SCMP_SYS(getcwd),		/* realpath() of a relative disk path */
	SCMP_SYS(ftruncate),		/* the memory file's size (holes for zero pages) */
	SCMP_SYS(pwrite64),		/* the memory file */
	SCMP_SYS(fsync),		/* the files and directories of a snapshot */
	SCMP_SYS(fdatasync),		/* the same */
	SCMP_SYS(tgkill),		/* pause: kick the vCPUs out of KVM_RUN */
	/* Virtio workers stop for a snapshot and are started again from here: */
	SCMP_SYS(clone),		/* pthread_create */
	SCMP_SYS(clone3),		/* the same, newer glibc */
	SCMP_SYS(set_robust_list),	/* a new thread's start in glibc */
	SCMP_SYS(rseq),			/* the same */
	SCMP_SYS(seccomp),		/* the new worker enters its own filter */
	SCMP_SYS(prctl),		/* glibc names or sets up the new thread */
	/* lvmm migrate: the connection to the destination, disks synced. */
	SCMP_SYS(socket),
	SCMP_SYS(connect),
	SCMP_SYS(setsockopt),		/* TCP_NODELAY */
	SCMP_SYS(sendto),
	SCMP_SYS(recvfrom),
	SCMP_SYS(sync),
	END
};
static const unsigned long control_ioctls[] = {
	KVM_GET_REG_LIST,		/* vCPU state */
	KVM_GET_MP_STATE,
	KVM_GET_ONE_REG,
	KVM_GET_DEVICE_ATTR,		/* vGIC and ITS state */
	KVM_SET_DEVICE_ATTR,		/* SAVE_PENDING_TABLES, ITS_SAVE_TABLES */
	KVM_HAS_DEVICE_ATTR,
	/* lvmm migrate: dirty tracking of guest RAM (kvm/dirty.c) */
	KVM_SET_USER_MEMORY_REGION,
	KVM_GET_DIRTY_LOG,
	KVM_CLEAR_DIRTY_LOG,
	KVM_CHECK_EXTENSION,
	KVM_ENABLE_CAP,
	BLKGETSIZE64,			/* a snapshot records a block device disk's size */
	VHOST_NET_IOCTLS,
	0
};

/* The main thread once the VM runs (vmm/vmm.c): waiting, then teardown. */
static const int main_calls[] = {
	SCMP_SYS(ppoll),		/* the exit eventfd and the signalfd */
	SCMP_SYS(read),			/* the signal that ends the VM */
	SCMP_SYS(close),		/* teardown: every fd */
	SCMP_SYS(unlinkat),		/* the control socket */
	SCMP_SYS(tgkill),		/* kicking the vCPUs to stop */
	SCMP_SYS(io_getevents),		/* virtio-blk waits for its requests at exit */
	SCMP_SYS(io_destroy),		/* and drops its AIO context */
	SCMP_SYS(openat),		/* --stats reads /proc/self/stat and status */
	SCMP_SYS(newfstatat),		/* stdio (fopen) */
	SCMP_SYS(mincore),		/* --stats: resident guest RAM */
	SCMP_SYS(pread64),		/* --stats: KVM's counters of each vCPU */
	END
};
static const unsigned long main_ioctls[] = {
	KVM_IOEVENTFD,			/* deassigning queue notifications */
	KVM_IRQFD,			/* deassigning irqfds */
	KVM_SET_GSI_ROUTING,		/* dropping MSI-X vectors' routes */
	KVM_SET_USER_MEMORY_REGION,	/* removing VFIO region slots */
	VFIO_DEVICE_SET_IRQS,		/* VFIO interrupts off */
	VFIO_DEVICE_RESET,		/* a VFIO-PCI device reset as it leaves */
	VHOST_NET_IOCTLS,
	0
};

struct kind_table {
	const int *calls;
	const unsigned long *ioctls;
	/* Tables whose calls this kind's may need too (threads it creates). */
	enum sandbox_kind also;
};

static const struct kind_table tables[SANDBOX_NR_KINDS] = {
	[SANDBOX_MAIN] = { main_calls, main_ioctls, SANDBOX_NR_KINDS },
	[SANDBOX_VCPU] = { vcpu_calls, vcpu_ioctls, SANDBOX_NR_KINDS },
	[SANDBOX_VIRTIO] = { virtio_calls, virtio_ioctls, SANDBOX_NR_KINDS },
	[SANDBOX_VIRTIO_9P] = { virtio_9p_calls, virtio_9p_ioctls, SANDBOX_VIRTIO },
	[SANDBOX_CONSOLE] = { console_calls, console_ioctls, SANDBOX_NR_KINDS },
	[SANDBOX_CONTROL] = { control_calls, control_ioctls, SANDBOX_VIRTIO_9P },
	[SANDBOX_USERNET] = { usernet_calls, usernet_ioctls, SANDBOX_NR_KINDS },
};

static int add_calls(scmp_filter_ctx ctx, const int *calls)
{
	int ret = 0;

	for (; !ret && *calls != END; calls++)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, *calls, 0);
	return ret;
}

/* ioctl(fd, request, ...): the kernel takes the request as 32 bits. */
static int add_ioctls(scmp_filter_ctx ctx, const unsigned long *reqs)
{
	int ret = 0;

	for (; !ret && *reqs; reqs++)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
				       SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffUL, *reqs));
	return ret;
}

static int add_kind(scmp_filter_ctx ctx, enum sandbox_kind kind)
{
	const struct kind_table *t = &tables[kind];
	int ret;

	ret = add_calls(ctx, t->calls);
	ret = ret ?: add_ioctls(ctx, t->ioctls);
	if (!ret && t->also < SANDBOX_NR_KINDS)
		ret = add_kind(ctx, t->also);
	return ret;
}

/* The filter as a BPF program, in memory for sandbox_enter(). */
static int export_prog(scmp_filter_ctx ctx, bool log, struct sock_fprog **out)
{
	unsigned long ip = sandbox_replay_ip();
	const unsigned int ip_off = offsetof(struct seccomp_data, instruction_pointer);
	/* --seccomp log: the handler's own replay of a trapped call passes. */
	struct sock_filter prefix[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ip_off),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)ip, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ip_off + 4),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)(ip >> 32), 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	size_t nprefix = log ? ARRAY_SIZE(prefix) : 0;
	struct sock_fprog *prog = NULL;
	struct sock_filter *insns;
	int fd, ret;
	off_t len;

	fd = memfd_create("lvmm-seccomp", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = seccomp_export_bpf(ctx, fd);
	if (ret)
		goto out;
	len = lseek(fd, 0, SEEK_END);
	if (len <= 0 || len % sizeof(struct sock_filter)) {
		ret = -EINVAL;
		goto out;
	}
	prog = calloc(1, sizeof(*prog) + nprefix * sizeof(prefix[0]) + len);
	if (!prog) {
		ret = -ENOMEM;
		goto out;
	}
	insns = (struct sock_filter *)(prog + 1);
	memcpy(insns, prefix, nprefix * sizeof(prefix[0]));
	if (pread(fd, insns + nprefix, len, 0) != len) {
		ret = -EIO;
		free(prog);
		goto out;
	}
	/* BPF jumps are relative: the prefix leaves libseccomp's intact. */
	prog->len = nprefix + len / sizeof(struct sock_filter);
	prog->filter = insns;
	*out = prog;
out:
	close(fd);
	return ret;
}

static int build_kind(enum sandbox_kind kind, enum sandbox_mode mode, struct sock_fprog **out)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
	int ret;

	if (!ctx)
		return -ENOMEM;
	/* no_new_privs is set once, in sandbox_prepare, for the whole process. */
	ret = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	ret = ret ?: add_calls(ctx, common_calls);
	ret = ret ?: add_ioctls(ctx, common_ioctls);
	/* pthread_kill and raise signal our own threads only. */
	ret = ret ?: seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
				      SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid()));
	/* pthread_setname_np on the calling thread. */
	ret = ret ?: seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
				      SCMP_A0(SCMP_CMP_EQ, PR_SET_NAME));
	ret = ret ?: add_kind(ctx, kind);
	ret = ret ?: export_prog(ctx, mode == SANDBOX_LOG, out);
	seccomp_release(ctx);
	return ret;
}

/* Syscall names by number, resolved now: the SIGSYS handler cannot allocate. */
static int build_names(void)
{
	enum { MAX_NR = 512 };
	const char **names = calloc(MAX_NR, sizeof(*names));

	if (!names)
		return -ENOMEM;
	for (int nr = 0; nr < MAX_NR; nr++)
		names[nr] = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
	sandbox.names = names;
	sandbox.nr_names = MAX_NR;
	return 0;
}

static int test_kind_from_env(void)
{
	const char *s = getenv("LVMM_TEST_SECCOMP_VIOLATION");

	if (!s || !*s)
		return -1;
	for (int k = 0; k < SANDBOX_NR_KINDS; k++)
		if (!strcmp(s, sandbox_kind_name(k)))
			return k;
	return -1;
}

int sandbox_prepare(enum sandbox_mode mode, char *err, size_t errlen)
{
	unsigned int action = SECCOMP_RET_TRAP;
	int ret;

	sandbox.mode = SANDBOX_OFF;
	if (mode == SANDBOX_OFF)
		return 0;
	if (syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action)) {
		ret = -errno;
		snprintf(err, errlen, "seccomp: this kernel cannot filter system calls (%s; it needs CONFIG_SECCOMP_FILTER): run with --seccomp off",
			 strerror(errno));
		return ret;
	}
	/* Lets an unprivileged lvmm load filters; lvmm never executes a program. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		ret = -errno;
		snprintf(err, errlen, "seccomp: PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
		return ret;
	}
	for (int k = 0; k < SANDBOX_NR_KINDS; k++) {
		ret = build_kind(k, mode, &sandbox.prog[k]);
		if (ret) {
			snprintf(err, errlen, "seccomp: building the %s thread's filter: %s",
				 sandbox_kind_name(k), strerror(-ret));
			return ret;
		}
	}
	ret = build_names();
	if (ret) {
		snprintf(err, errlen, "seccomp: %s", strerror(-ret));
		return ret;
	}
	sandbox.test_kind = test_kind_from_env();
	sandbox.crlf = isatty(STDERR_FILENO);
	sandbox.on_violation = term_restore;
	sandbox_install_handler();
	sandbox.mode = mode;
	return 0;
}
