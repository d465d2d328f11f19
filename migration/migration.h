/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Snapshot and restore of one VM (struct vmm, machine.h): pausing it and
 * writing a snapshot (snapshot.c), and bringing one back at the steps of
 * vmm's bring-up list (restore_apply.c). Every function returns 0 or
 * -errno with one line in err saying what is wrong; the caller prints it.
 */
#ifndef LVMM_MIGRATION_H
#define LVMM_MIGRATION_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vmm;
struct vm_config;

/* Pause/resume the guest (vCPUs parked; devices keep their state). */
int vmm_pause(struct vmm *v, char *err, size_t errlen);
int vmm_resume(struct vmm *v, char *err, size_t errlen);
/* Whether the guest is paused (read under the lock that pause takes). */
bool vmm_is_paused(struct vmm *v);
/* How a snapshot went: bytes written (memory and state), the guest's pause. */
struct snapshot_stats {
	uint64_t bytes;
	uint64_t pause_ns;
};

/* Called as guest RAM is written: done of total bytes of RAM gone through. */
typedef void (*snapshot_progress)(void *ctx, uint64_t done, uint64_t total);

/*
 * Pause, quiesce devices, flush KVM state into RAM, write DIR, then resume
 * (or, with stop, end the VM). A failure leaves the VM as it was. progress
 * may be NULL; stats is filled on success. diff_from (NULL: a full one):
 * the last snapshot this VM wrote; only the pages dirtied since go in DIR.
 */
int vmm_snapshot(struct vmm *v, const char *dir, bool stop, const char *diff_from,
		 snapshot_progress progress,
		 void *pctx, struct snapshot_stats *stats, char *err, size_t errlen);

/* Every device can be saved (else -EOPNOTSUPP, naming the one that cannot). */
int snapshot_devices_check(struct vmm *v, char *err, size_t errlen);
struct state_writer;
/* Everything but RAM (configuration, vCPUs, vGIC, devices) into w; paused VM. */
int snapshot_build_state(struct vmm *v, struct state_writer *w, char *err, size_t errlen);

/* How a live migration went (migrate.c). */
struct migrate_stats {
	unsigned int rounds;		/* rounds of pages while the guest ran */
	uint64_t bytes;			/* sent in all */
	uint64_t total_ns, downtime_ns;	/* downtime: paused until the destination had it all */
	uint64_t last_dirty_bytes;	/* the last running round's dirty set */
	double dirty_rate;		/* bytes/s the guest dirtied in that round */
};

/*
 * Move the running VM to the lvmm run --incoming at uri (unix:PATH or
 * tcp:ADDR:PORT): its configuration first (refused there: nothing sent),
 * RAM while it runs in rounds of dirty pages until what is left fits
 * downtime_ms and another round would not pay (precopy.h; or 30 rounds),
 * then paused: the last pages and the state.
 * Once the destination says it has the VM ready, this one ends (stopped,
 * as by lvmm stop). Any failure before that resumes it as it was.
 */
int vmm_migrate(struct vmm *v, const char *uri, unsigned int downtime_ms,
		snapshot_progress progress, void *pctx, struct migrate_stats *stats, char *err,
		size_t errlen);

/*
 * What a migration brought: a snapshot directory under TMPDIR (the state,
 * and an empty memory file of the RAM's size for the restore's checks),
 * and guest RAM in anonymous memory the VM runs on (vm_config.incoming_ram).
 */
struct mig_received {
	char dir[PATH_MAX];
	void *ram;
	uint64_t ram_size;
};

/*
 * The destination: wait on uri for a migration and take it into *in,
 * checking the configuration against this host when it comes. 0 with the
 * connection in *fd (for migrate_incoming_reply), or -errno: nothing was
 * started (the source carries on) and nothing is left.
 */
int migrate_incoming(const char *uri, struct mig_received *in, int *fd, char *err,
		     size_t errlen);
/* The same on a connection already made (the fuzzer's): the hello on. */
int migrate_incoming_conn(int conn, struct mig_received *in, char *err, size_t errlen);
/* Tell the source the VM is ready (it lets its copy go) or why not; closes fd. */
int migrate_incoming_reply(int fd, bool ok, const char *msg);
/* Remove the received files (the VM has read the state; its RAM is in->ram). */
void migrate_incoming_cleanup(const char *dir);

/*
 * Restore, in bring-up order. restore_open: open and check cfg->restore_dir;
 * the snapshot's configuration (in rcfg) replaces the command line's but for
 * the name and the restore options, and becomes v->cfg.
 */
int restore_open(struct vmm *v, const struct vm_config *cfg, struct vm_config *rcfg, char *err,
		 size_t errlen);
/* Guest RAM from the memory file: mapped lazily, or copied (--copy-memory). */
int restore_map_ram(struct vmm *v, void **host, char *err, size_t errlen);
/* KVM_ARM_VCPU_INIT of vCPU i with its saved features (-errno, no message). */
int restore_vcpu_init(struct vmm *v, unsigned int i);
/*
 * After irqchip finalize: vCPU registers, the guest's counters, the vGIC,
 * then the devices (a device may drive its line: the vGIC must be there).
 */
int restore_apply(struct vmm *v, char *err, size_t errlen);
void restore_close(struct vmm *v);

#endif
