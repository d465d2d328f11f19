// SPDX-License-Identifier: GPL-2.0
/*
 * lvmm: a lean VMM for arm64 Linux KVM. The command line lives here, and
 * only here are errors turned into exit statuses.
 */
#include "control/control.h"
#include "migration/migration.h"
#include "migration/stream.h"
#include "options.h"
#include "quickguest/quick.h"
#include "sandbox/sandbox.h"
#include "util.h"
#include "vmm/stats.h"
#include "vmm/vmm.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef LVMM_VERSION
#define LVMM_VERSION "0.2.0"
#endif
#ifndef LVMM_COMMIT
#define LVMM_COMMIT "unknown"
#endif

enum {
	EXIT_GUEST_OFF = 0,
	EXIT_ERROR = 1,
	EXIT_USAGE = 2,
	EXIT_GUEST_RESET = 3,
	EXIT_GUEST_CRASH = 4,
};

static int cmd_run(int argc, char **argv);

static void usage(FILE *out)
{
	fprintf(out,
"Usage: lvmm COMMAND [OPTIONS]\n"
"\n"
"A lean virtual machine monitor for arm64 Linux KVM.\n"
"\n"
"Commands:\n"
"  run [OPTIONS]                boot a Linux kernel in a new VM (lvmm run --help);\n"
"                               with no disk or initrd, a quick guest: a shell\n"
"                               of the host's own programs\n"
"  sandbox [OPTIONS] -- CMD [ARGS]\n"
"                               run CMD in a quick guest, exit with its status\n"
"  restore DIR [OPTIONS]        restore a snapshot in a new VM; OPTIONS: --name,\n"
"                               --clock resume|advance, --copy-memory, --stats,\n"
"                               --seccomp on|log|off\n"
"                               (the same as lvmm run --restore DIR)\n"
"  list [--json]                the running VMs\n"
"  pause NAME [--json]          stop NAME's vCPUs (its devices keep their state)\n"
"  resume NAME [--json]         let them run again\n"
"  stop NAME [--json]           end the VM (lvmm run exits with status 0)\n"
"  snapshot NAME DIR [--stop] [--diff-from BASE] [--json]\n"
"                               write a snapshot of NAME into the new directory\n"
"                               DIR, then let it run on (or end it with --stop);\n"
"                               --diff-from: only the pages dirtied since BASE,\n"
"                               NAME's last snapshot (restore finds BASE)\n"
"  migrate NAME URI [--downtime MS] [--json]\n"
"                               move NAME, running, to the lvmm run --incoming\n"
"                               URI (unix:PATH or tcp:ADDR:PORT) waits at\n"
"  help                         show this help\n"
"  version                      show the version\n"
"\n"
"VMs are found by name through Unix sockets in $LVMM_RUNTIME_DIR (default\n"
"/run/lvmm for root, else $XDG_RUNTIME_DIR/lvmm or /tmp/lvmm-UID).\n"
"\n"
"The most commonly used lkvm (kvmtool) commands work too: lvmm stands where lkvm\n"
"does. run takes lkvm run's options (or refuses them, saying why: lvmm run\n"
"--help and README.md list them); pause, resume and stop take -n NAME or -a.\n"
"\n"
"Example:\n"
"  lvmm run -k Image -i initramfs.cpio.gz -m 512 -c 2 -p \"rdinit=/init\"\n");
}

/* Print a VM's reply: JSON as is, or one human line. */
static int print_reply(const char *verb, const char *reply, bool json)
{
	char name[128] = "?", state[32] = "?", error[1024], snap[4096], ms[32];

	if (json_get(reply, "ok", state, sizeof(state)) && !strcmp(state, "false")) {
		json_get(reply, "error", error, sizeof(error));
		if (json)
			printf("%s\n", reply);
		fprintf(stderr, "lvmm %s: %s\n", verb, error);
		return EXIT_ERROR;
	}
	if (json) {
		printf("%s\n", reply);
		return 0;
	}
	json_get(reply, "name", name, sizeof(name));
	json_get(reply, "state", state, sizeof(state));
	if (json_get(reply, "migrated", snap, sizeof(snap))) {
		char rounds[16] = "?", bytes[32] = "0", down[32] = "?";

		json_get(reply, "total_ms", ms, sizeof(ms));
		json_get(reply, "rounds", rounds, sizeof(rounds));
		json_get(reply, "bytes", bytes, sizeof(bytes));
		json_get(reply, "downtime_ms", down, sizeof(down));
		printf("%s: migrated to %s in %s ms (%s rounds, %.1f MiB sent), the guest paused %s ms; it runs on there\n",
		       name, snap, ms, rounds, strtoull(bytes, NULL, 10) / 1048576.0, down);
	} else if (json_get(reply, "snapshot", snap, sizeof(snap))) {
		char bytes[32] = "0", pause[32] = "?";

		json_get(reply, "snapshot_ms", ms, sizeof(ms));
		json_get(reply, "snapshot_bytes", bytes, sizeof(bytes));
		json_get(reply, "pause_ms", pause, sizeof(pause));
		printf("%s: snapshot written to %s (%.1f MiB) in %s ms, the guest paused %s ms%s\n",
		       name, snap, strtoull(bytes, NULL, 10) / 1048576.0, ms, pause,
		       strstr(reply, "\"stopping\":true") ? "; the VM is stopping" : "");
	} else if (strstr(reply, "\"stopping\":true")) {
		printf("%s: stopping\n", name);
	} else {
		printf("%s: %s\n", name, state);
	}
	return 0;
}

static bool take_flag(int *argc, char **argv, const char *flag)
{
	for (int i = 1; i < *argc; i++) {
		if (strcmp(argv[i], flag))
			continue;
		memmove(&argv[i], &argv[i + 1], (*argc - i) * sizeof(argv[0]));
		(*argc)--;
		return true;
	}
	return false;
}

/* DIR made absolute: the VM resolves it in its own working directory. */
static int absolute_dir(const char *dir, char *out, size_t size)
{
	char parent[PATH_MAX], real[PATH_MAX];
	const char *base = strrchr(dir, '/');

	if (base) {
		snprintf(parent, sizeof(parent), "%.*s", (int)(base - dir), dir);
		if (!parent[0])
			strcpy(parent, "/");
		base++;
	} else {
		strcpy(parent, ".");
		base = dir;
	}
	if (!*base || !strcmp(base, ".") || !strcmp(base, ".."))
		return -EINVAL;
	if (!realpath(parent, real))
		return -errno;
	if ((size_t)snprintf(out, size, "%s/%s", strcmp(real, "/") ? real : "", base) >= size)
		return -ENAMETOOLONG;
	return 0;
}

static int cmd_control(int argc, char **argv);

/* A snapshot's progress on the terminal: one line, rewritten. */
struct progress {
	bool tty, shown;
	uint64_t t0;
};

static void show_progress(void *ctx, unsigned long long done, unsigned long long total)
{
	struct progress *p = ctx;
	double s = (now_ns() - p->t0) / 1e9;

	if (!p->tty || !total)
		return;
	fprintf(stderr, "\rwriting the snapshot: %llu of %llu MiB of guest RAM (%.0f%%), %.0f MiB/s\033[K",
		done >> 20, total >> 20, 100.0 * done / total, s > 0 ? (done >> 20) / s : 0.0);
	p->shown = true;
}

/*
 * lkvm's forms of pause, resume and stop: -n NAME (--name NAME, --name=NAME)
 * for one VM, -a (--all) for every running one. Returns -1 when argv has
 * none of them (lvmm's own form), else the exit status.
 */
static int lkvm_control(int argc, char **argv)
{
	const char *verb = argv[0], *name = NULL;
	bool all = false, json = false;
	char names[256][72];
	int n, status = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-a") || !strcmp(argv[i], "--all"))
			all = true;
		else if ((!strcmp(argv[i], "-n") || !strcmp(argv[i], "--name")) && i + 1 < argc)
			name = argv[++i];
		else if (!strncmp(argv[i], "--name=", 7))
			name = argv[i] + 7;
		else if (!strcmp(argv[i], "--json"))
			json = true;
		else
			return -1;
	}
	if (!all && !name)
		return -1;
	if (all == !!name) {
		fprintf(stderr, "Usage: lvmm %s NAME | -n NAME | -a [--json]\n", verb);
		return EXIT_USAGE;
	}
	if (name) {
		char *args[] = { (char *)verb, (char *)name, json ? "--json" : NULL, NULL };

		return cmd_control(json ? 3 : 2, args);
	}
	n = control_list(names, 256);
	for (int i = 0; i < n; i++) {
		char *args[] = { (char *)verb, names[i], json ? "--json" : NULL, NULL };
		char reply[256], err[256];

		/* A socket nobody answers on is a VM that died: not one to act on. */
		if (control_request(names[i], "info", reply, sizeof(reply), err, sizeof(err)))
			continue;
		if (cmd_control(json ? 3 : 2, args))
			status = EXIT_ERROR;
	}
	return status;
}

/* pause, resume, stop, snapshot: one request to one VM. */
static int cmd_control(int argc, char **argv)
{
	const char *verb = argv[0];
	bool json = take_flag(&argc, argv, "--json");
	bool stop = !strcmp(verb, "snapshot") && take_flag(&argc, argv, "--stop");
	bool snapshot = !strcmp(verb, "snapshot"), migrate = !strcmp(verb, "migrate");
	const char *diff_from = NULL;
	char base[PATH_MAX];
	char req[2 * PATH_MAX + 64], reply[8192], err[1024], dir[PATH_MAX];
	struct progress progress = { .tty = (snapshot || migrate) && isatty(STDERR_FILENO) };
	unsigned long downtime = 300;
	int ret;

	for (int i = 1; snapshot && i < argc; i++) {
		if (strcmp(argv[i], "--diff-from"))
			continue;
		if (i + 1 >= argc) {
			fprintf(stderr, "lvmm snapshot: --diff-from needs the last snapshot's directory\n");
			return EXIT_USAGE;
		}
		diff_from = argv[i + 1];
		memmove(&argv[i], &argv[i + 2], (argc - i - 1) * sizeof(argv[0]));
		argc -= 2;
		break;
	}
	for (int i = 1; migrate && i < argc; i++) {
		char *end;

		if (strcmp(argv[i], "--downtime"))
			continue;
		downtime = i + 1 < argc ? strtoul(argv[i + 1], &end, 10) : 0;
		if (i + 1 >= argc || *end || !downtime || downtime > 600000) {
			fprintf(stderr, "lvmm migrate: --downtime needs milliseconds, 1 to 600000\n");
			return EXIT_USAGE;
		}
		memmove(&argv[i], &argv[i + 2], (argc - i - 1) * sizeof(argv[0]));
		argc -= 2;
		break;
	}
	if (argc != (snapshot || migrate ? 3 : 2) || argv[1][0] == '-' ||
	    ((snapshot || migrate) && argv[2][0] == '-')) {
		fprintf(stderr, "Usage: lvmm %s NAME%s [--json]\n", verb,
			snapshot ? " DIR [--stop] [--diff-from BASE]" : migrate ? " unix:PATH|tcp:ADDR:PORT [--downtime MS]" : "");
		return EXIT_USAGE;
	}
	if (migrate) {
		struct mig_addr addr;

		if (mig_addr_parse(argv[2], &addr, err, sizeof(err))) {
			fprintf(stderr, "lvmm migrate: %s\n", err);
			return EXIT_USAGE;
		}
		snprintf(req, sizeof(req), "migrate %d %lu %s", progress.tty ? 2 : 0, downtime,
			 argv[2]);
	} else if (snapshot) {
		ret = absolute_dir(argv[2], dir, sizeof(dir));
		if (ret) {
			fprintf(stderr, "lvmm snapshot: %s: %s\n", argv[2],
				ret == -EINVAL ? "not a directory name" : strerror(-ret));
			return EXIT_ERROR;
		}
		/* On a terminal, the VM reports how far it got as it writes. */
		snprintf(req, sizeof(req), "snapshot %d %s", stop | (progress.tty ? 2 : 0), dir);
		if (diff_from) {
			if (!realpath(diff_from, base)) {
				fprintf(stderr, "lvmm snapshot: --diff-from %s: %s\n", diff_from,
					strerror(errno));
				return EXIT_ERROR;
			}
			snprintf(req, sizeof(req), "snapshot-diff %d %zu %s %s",
				 stop | (progress.tty ? 2 : 0), strlen(base), base, dir);
		}
	} else {
		snprintf(req, sizeof(req), "%s", verb);
	}
	progress.t0 = now_ns();
	ret = control_request_progress(argv[1], req, reply, sizeof(reply), show_progress, &progress,
				       err, sizeof(err));
	if (progress.shown)
		fprintf(stderr, "\r\033[K");	/* the progress line gives way to the result */
	if (ret) {
		/* --json promises a reply on stdout, also when no VM answers. */
		if (json) {
			char esc[2 * sizeof(err)];

			json_escape(err, esc, sizeof(esc));
			printf("{\"ok\":false,\"error\":\"%s\"}\n", esc);
		}
		fprintf(stderr, "lvmm %s: %s\n", verb, err);
		return EXIT_ERROR;
	}
	return print_reply(verb, reply, json);
}

static int cmd_list(int argc, char **argv)
{
	bool json = take_flag(&argc, argv, "--json");
	char names[256][72], reply[8192], err[512];
	int n, shown = 0;

	/* lkvm list -i / --run: the running instances, which is all lvmm has. */
	while (take_flag(&argc, argv, "-i") || take_flag(&argc, argv, "--run"))
		;
	if (argc == 2 && (!strcmp(argv[1], "-r") || !strcmp(argv[1], "--rootfs"))) {
		fprintf(stderr, "lvmm list: kvmtool's %s is not supported: there are no rootfs instances\n",
			argv[1]);
		return EXIT_USAGE;
	}
	if (argc != 1) {
		fprintf(stderr, "Usage: lvmm list [--json]\n");
		return EXIT_USAGE;
	}
	n = control_list(names, 256);
	if (json)
		printf("[");
	else
		/* MEM's column is "%5s MiB": 9 wide. */
		printf("%-24s %8s %-8s %5s %9s %s\n", "NAME", "PID", "STATE", "VCPUS", "MEM", "IRQCHIP");
	for (int i = 0; i < n; i++) {
		char pid[16] = "", state[16] = "", vcpus[8] = "", mem[16] = "", chip[16] = "";

		/* A socket nobody answers on is a VM that died: not listed. */
		if (control_request(names[i], "info", reply, sizeof(reply), err, sizeof(err)))
			continue;
		if (json) {
			printf("%s%s", shown ? "," : "", reply);
		} else {
			json_get(reply, "pid", pid, sizeof(pid));
			json_get(reply, "state", state, sizeof(state));
			json_get(reply, "vcpus", vcpus, sizeof(vcpus));
			json_get(reply, "mem_mib", mem, sizeof(mem));
			json_get(reply, "irqchip", chip, sizeof(chip));
			printf("%-24s %8s %-8s %5s %5s MiB %s\n", names[i], pid, state, vcpus, mem,
			       chip);
		}
		shown++;
	}
	if (json)
		printf("]\n");
	return 0;
}

static int cmd_restore(int argc, char **argv)
{
	char *args[64];

	if (argc >= 3 && !strcmp(argv[1], "--incoming") && argc <= 60) {
		/* lvmm restore --incoming URI ... is lvmm run --incoming URI ... */
		args[0] = "run";
		for (int i = 1; i < argc; i++)
			args[i] = argv[i];
		args[argc] = NULL;
		return cmd_run(argc, args);
	}
	if (argc < 2 || argv[1][0] == '-' || argc > 60) {
		fprintf(stderr, "Usage: lvmm restore DIR|--incoming URI [--name NAME] [--clock resume|advance] [--copy-memory] [--stats] [--seccomp on|log|off]\n");
		return EXIT_USAGE;
	}
	/* lvmm restore DIR ... is lvmm run --restore DIR ... */
	args[0] = "run";
	args[1] = "--restore";
	for (int i = 1; i < argc; i++)
		args[i + 1] = argv[i];
	args[argc + 1] = NULL;
	return cmd_run(argc + 1, args);
}

/* The exit status for how the VM ended. */
static int exit_status(const struct vmm_result *res)
{
	/* The VM's own name: a restored one has the snapshot's. */
	switch (res->reason) {
	case VM_EXIT_POWEROFF:
		pr_info("%s: the guest powered off", res->name);
		return EXIT_GUEST_OFF;
	case VM_EXIT_QUIT:
		pr_info("%s: stopped from the console (Ctrl-A x)", res->name);
		return EXIT_GUEST_OFF;
	case VM_EXIT_RESET:
		pr_info("%s: the guest asked for a reset; exiting with status %d",
			res->name, EXIT_GUEST_RESET);
		return EXIT_GUEST_RESET;
	case VM_EXIT_CRASH:
		pr_err("%s: the guest reported a crash", res->name);
		return EXIT_GUEST_CRASH;
	case VM_EXIT_STOPPED:
		pr_info("%s: stopped", res->name);
		return EXIT_GUEST_OFF;
	case VM_EXIT_MIGRATED:
		pr_info("%s: migrated: it runs on at the destination", res->name);
		return EXIT_GUEST_OFF;
	case VM_EXIT_SIGNAL:
		pr_info("%s: stopped by signal %d (%s)", res->name, res->signo,
			strsignal(res->signo));
		return 128 + res->signo;
	case VM_EXIT_ERROR:
	case VM_EXIT_NONE:
		break;
	}
	return EXIT_ERROR;
}

struct quick_prepare {
	struct vm_config *cfg;
	struct quick_guest *quick;
	char *const *sandbox_argv;
	int incoming_fd;		/* --incoming: the source, told when we are ready */
	struct mig_received incoming;	/* the received snapshot and RAM */
};

/* vmm_run's ready step for --incoming: the source may let its VM go now. */
static int incoming_ready(void *ctx, char *err, size_t errlen)
{
	struct quick_prepare *p = ctx;
	int ret = migrate_incoming_reply(p->incoming_fd, true, "");

	p->incoming_fd = -1;
	/* The state is read and RAM is the VM's: the files can go. */
	migrate_incoming_cleanup(p->incoming.dir);
	if (ret)
		snprintf(err, errlen, "the migration's source is gone before it let go of the VM (%s): not starting a second copy",
			 strerror(-ret));
	return ret;
}

/* vmm_run's prepare step: the host can take the VM, now its directory. */
static int prepare_quick_guest(void *ctx, char *err, size_t errlen)
{
	struct quick_prepare *p = ctx;
	int ret;

	ret = quick_guest_setup(p->cfg, p->quick, getenv("HOME"), quick_init_start,
				(size_t)(quick_init_end - quick_init_start), p->sandbox_argv, err,
				errlen);
	if (!ret && !p->sandbox_argv)
		pr_info("no disk or initrd: a quick guest, its root %s, the host's / read-only at /host (--nodefaults: none of it)",
			p->quick->dir);
	return ret;
}

/*
 * lvmm run, and lvmm sandbox (sandbox_argv: the command, after "--"). With
 * nothing to boot from, the VM is a quick guest (quickguest/quick.h).
 */
static int run_vm(int argc, char **argv, char *const *sandbox_argv)
{
	struct quick_guest quick = { 0 };
	struct vm_config cfg;
	struct vmm_result res;
	char err[1024];
	int ret, status;

	switch (options_parse_run(argc, argv, &cfg, stdout, stderr)) {
	case OPTIONS_HELP:
		return 0;
	case OPTIONS_ERROR:
		return EXIT_USAGE;
	case OPTIONS_RUN:
		break;
	}
	log_quiet = cfg.log_level >= LOG_WARNING;
	log_no_warn = cfg.log_level >= LOG_ERROR;
	if (sandbox_argv && !quick_guest_wanted(&cfg)) {
		pr_err("lvmm sandbox runs its command in a quick guest: it takes no --nodefaults, -i, -d, --flat, --restore or root=");
		options_free(&cfg);
		return EXIT_USAGE;
	}
	/* Before any thread starts: each one confines itself at its start. */
	ret = sandbox_prepare(cfg.seccomp, err, sizeof(err));
	if (ret) {
		pr_err("%s", err);
		options_free(&cfg);
		return EXIT_ERROR;
	}
	struct quick_prepare qp = { .cfg = &cfg, .quick = &quick, .sandbox_argv = sandbox_argv, .incoming_fd = -1 };
	struct vmm_prepare prepare = { prepare_quick_guest, NULL, &qp };

	if (cfg.incoming) {
		/* A snapshot that arrives over the wire, then the normal restore. */
		ret = migrate_incoming(cfg.incoming, &qp.incoming, &qp.incoming_fd, err,
				       sizeof(err));
		if (ret) {
			pr_err("incoming migration: %s", err);
			options_free(&cfg);
			return EXIT_ERROR;
		}
		cfg.restore_dir = qp.incoming.dir;
		cfg.incoming_ram = qp.incoming.ram;
		prepare = (struct vmm_prepare){ NULL, incoming_ready, &qp };
	}
	ret = vmm_run(&cfg, quick_guest_wanted(&cfg) || cfg.incoming ? &prepare : NULL, &res, err,
		      sizeof(err));
	options_free(&cfg);
	if (ret) {
		if (err[0])
			pr_err("%s", err);
		if (qp.incoming_fd >= 0) {
			/* The source resumes its VM: nothing is lost. */
			migrate_incoming_reply(qp.incoming_fd, false, err[0] ? err : "restore failed");
			migrate_incoming_cleanup(qp.incoming.dir);
		}
		if (quick.sandbox_dir[0])	/* the command's files, never run */
			quick_guest_sandbox_status(&quick, err, sizeof(err));
		return EXIT_ERROR;
	}
	status = exit_status(&res);
	if (sandbox_argv) {
		int cmd = quick_guest_sandbox_status(&quick, err, sizeof(err));

		if (cmd < 0) {
			pr_err("%s", err);
			return status ? status : EXIT_ERROR;
		}
		return cmd;
	}
	return status;
}

static int cmd_run(int argc, char **argv)
{
	return run_vm(argc, argv, NULL);
}

/* lvmm sandbox [run options] -- CMD [ARGS]: the command's exit status. */
static int cmd_sandbox(int argc, char **argv)
{
	int dash = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			dash = i;
			break;
		}
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			break;
	}
	if (!dash) {
		for (int i = 1; i < argc; i++) {
			if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
				printf("Usage: lvmm sandbox [RUN OPTIONS] -- COMMAND [ARGS...]\n"
				       "\n"
				       "Run COMMAND in a quick guest (see lvmm run --help: no disk or initrd;\n"
				       "its root is ~/.lvmm/NAME, NAME from --name or \"default\", with the\n"
				       "host's / read-only at /host), in /root, and exit with its status.\n"
				       "Its output is the guest console's.\n");
				return 0;
			}
		}
		fprintf(stderr, "Usage: lvmm sandbox [RUN OPTIONS] -- COMMAND [ARGS...]\n");
		return EXIT_USAGE;
	}
	if (dash == argc - 1) {
		fprintf(stderr, "lvmm sandbox: no command after --\n");
		return EXIT_USAGE;
	}
	argv[dash] = NULL;
	return run_vm(dash, argv, &argv[dash + 1]);
}

/* lkvm's commands that lvmm does not have. */
static const char *const lkvm_only_commands[] = { "balloon", "debug", "stat", "setup" };

int main(int argc, char **argv)
{
	lvmm_start_ns = now_ns();

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc - 1, argv + 1);
	if (!strcmp(argv[1], "sandbox"))
		return cmd_sandbox(argc - 1, argv + 1);
	if (!strcmp(argv[1], "restore"))
		return cmd_restore(argc - 1, argv + 1);
	if (!strcmp(argv[1], "list"))
		return cmd_list(argc - 1, argv + 1);
	if (!strcmp(argv[1], "pause") || !strcmp(argv[1], "resume") || !strcmp(argv[1], "stop")) {
		int ret = lkvm_control(argc - 1, argv + 1);

		return ret >= 0 ? ret : cmd_control(argc - 1, argv + 1);
	}
	if (!strcmp(argv[1], "snapshot") || !strcmp(argv[1], "migrate"))
		return cmd_control(argc - 1, argv + 1);
	for (unsigned int i = 0; i < ARRAY_SIZE(lkvm_only_commands); i++) {
		if (!strcmp(argv[1], lkvm_only_commands[i])) {
			fprintf(stderr, "lvmm: kvmtool's command '%s' is not supported (see lvmm --help)\n",
				argv[1]);
			return EXIT_USAGE;
		}
	}
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version")) {
		printf("lvmm %s (commit %s)\n", LVMM_VERSION, LVMM_COMMIT);
		return 0;
	}
	fprintf(stderr, "lvmm: unknown command '%s' (see lvmm --help)\n", argv[1]);
	return EXIT_USAGE;
}
