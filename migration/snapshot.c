// SPDX-License-Identifier: GPL-2.0
/* Pause, resume, and writing a snapshot of a running VM. */
#include "migration.h"
#include "snapshot.h"
#include "../irq/irq.h"
#include "../kvm/dirty.h"
#include "../machine.h"
#include "../timer/timer.h"
#include "../util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int vmm_pause(struct vmm *v, char *err, size_t errlen)
{
	pthread_mutex_lock(&v->op_lock);
	if (!v->paused) {
		vcpus_pause(&v->vm);
		v->paused = true;
	}
	pthread_mutex_unlock(&v->op_lock);
	return 0;
}

int vmm_resume(struct vmm *v, char *err, size_t errlen)
{
	pthread_mutex_lock(&v->op_lock);
	if (v->paused) {
		vcpus_resume(&v->vm);
		v->paused = false;
	}
	pthread_mutex_unlock(&v->op_lock);
	return 0;
}

bool vmm_is_paused(struct vmm *v)
{
	bool paused;

	pthread_mutex_lock(&v->op_lock);
	paused = v->paused;
	pthread_mutex_unlock(&v->op_lock);
	return paused;
}

static bool page_is_zero(const void *page)
{
	const uint64_t *p = page;

	for (unsigned int i = 0; i < 4096 / 8; i++)
		if (p[i])
			return false;
	return true;
}

int memory_save(int fd, const void *ram, uint64_t size, uint64_t *written,
		void (*progress)(void *ctx, uint64_t done, uint64_t total), void *pctx)
{
	const uint8_t *base = ram;
	uint64_t off = 0, told = 0;

	*written = 0;
	if (ftruncate(fd, size) < 0)
		return -errno;
	while (off < size) {
		uint64_t run;

		if (progress && off - told >= (64ULL << 20)) {
			progress(pctx, off, size);
			told = off;
		}

		/* Zero pages (and pages never touched) stay holes in the file. */
		while (off < size && page_is_zero(base + off))
			off += 4096;
		run = off;
		while (run < size && run - off < (8ULL << 20) && !page_is_zero(base + run))
			run += 4096;
		if (run > off) {
			uint64_t done = off;

			while (done < run) {
				ssize_t n = pwrite(fd, base + done, run - done, done);

				if (n < 0 && errno == EINTR)
					continue;
				if (n <= 0)
					return n < 0 ? -errno : -EIO;
				done += n;
				*written += n;
			}
		}
		off = run;
	}
	if (progress)
		progress(pctx, size, size);
	return 0;
}

/* The guest's counters (both as at one moment where the host can) and the time. */
static int read_clocks(struct vmm *v, uint64_t *cnt, uint64_t *pcnt, bool *has_pcnt,
		       uint64_t *realtime_ns, char *err, size_t errlen)
{
	struct timespec ts;
	int ret;

	/* Both counters as at one moment: restore keeps their difference. */
	*has_pcnt = !timer_read_counters(v->vm.vcpus[0].fd, cnt, pcnt);
	if (!*has_pcnt) {
		ret = vcpu_get_reg(&v->vm.vcpus[0], KVM_REG_ARM_TIMER_CNT, cnt);
		if (ret) {
			/* A snapshot with a made-up counter would restore a guest whose time jumps. */
			snprintf(err, errlen, "vcpu0: reading the guest's counter (TIMER_CNT): %s",
				 strerror(-ret));
			return ret;
		}
	}
	if (clock_gettime(CLOCK_REALTIME, &ts) < 0) {
		ret = -errno;
		snprintf(err, errlen, "reading the wall clock: %s", strerror(-ret));
		return ret;
	}
	*realtime_ns = (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	return 0;
}

static int put_config(struct vmm *v, struct state_writer *w, char *err, size_t errlen)
{
	const struct vm_config *cfg = v->cfg;
	uint64_t cnt = 0, pcnt = 0, realtime_ns = 0;
	bool has_pcnt;
	int ret;

	ret = read_clocks(v, &cnt, &pcnt, &has_pcnt, &realtime_ns, err, errlen);
	if (ret)
		return ret;
	sw_begin(w, "vm", 1);
	sw_put_u64(w, VM_KEY_MEM, cfg->mem_bytes);
	sw_put_u64(w, VM_KEY_CPUS, v->vm.nr_vcpus);
	sw_put_u64(w, VM_KEY_IRQCHIP, v->irqchip->model);
	sw_put_u64(w, VM_KEY_CONSOLE, cfg->console);
	sw_put_u64(w, VM_KEY_NR_IRQS, v->irqchip->nr_irqs);
	sw_put_u64(w, VM_KEY_CNTFRQ, timer_host_freq());
	sw_put_u64(w, VM_KEY_GUEST_COUNTER, cnt);
	if (has_pcnt)
		sw_put_u64(w, VM_KEY_GUEST_PCOUNTER, pcnt);
	if (cfg->virtio_transport == VIRTIO_OPT_PCI)
		sw_put_u64(w, VM_KEY_VIRTIO_TRANSPORT, 1);
	sw_put_u64(w, VM_KEY_REALTIME_NS, realtime_ns);
	sw_put_str(w, VM_KEY_NAME, cfg->name);
	sw_put_u64(w, VM_KEY_NR_DISKS, cfg->nr_disks);
	for (unsigned int i = 0; i < cfg->nr_disks; i++) {
		char abs[PATH_MAX];
		uint64_t size;

		/*
		 * Absolute, so a restore from another directory finds it; and its
		 * size, which restore checks (a disk gone since boot fails here).
		 */
		ret = realpath(cfg->disks[i].path, abs) ? disk_path_size(abs, &size) : -errno;
		if (ret) {
			snprintf(err, errlen, "disk '%s': %s", cfg->disks[i].path, strerror(-ret));
			sw_end(w);
			return ret;
		}
		sw_put_str(w, VM_KEY_DISK(i, 0), abs);
		sw_put_u64(w, VM_KEY_DISK(i, 1), cfg->disks[i].readonly);
		if (cfg->disks[i].serial)
			sw_put_str(w, VM_KEY_DISK(i, 2), cfg->disks[i].serial);
		sw_put_u64(w, VM_KEY_DISK(i, 3), size);
		sw_put_u64(w, VM_KEY_DISK(i, 4), disk_queues(cfg, i));
	}
	sw_put_u64(w, VM_KEY_NR_NETS, cfg->nr_nets);
	for (unsigned int i = 0; i < cfg->nr_nets; i++) {
		sw_put_str(w, VM_KEY_NET(i, 0), cfg->nets[i].tapif);
		sw_put(w, VM_KEY_NET(i, 1), cfg->nets[i].mac, 6);
		sw_put_u64(w, VM_KEY_NET(i, 2), cfg->nets[i].vhost);
	}
	sw_put_u64(w, VM_KEY_RNG, cfg->rng);
	sw_end(w);
	return 0;
}

/* Everything but RAM, into w. */
int snapshot_build_state(struct vmm *v, struct state_writer *w, char *err, size_t errlen)
{
	uint64_t mpidrs[LVMM_MAX_CPUS];
	struct device *dev;
	int ret;

	ret = put_config(v, w, err, errlen);
	if (ret)
		return ret;
	for (unsigned int i = 0; i < v->vm.nr_vcpus; i++) {
		mpidrs[i] = v->vm.vcpus[i].mpidr;
		ret = vcpu_save(&v->vm.vcpus[i], w, err, errlen);
		if (ret)
			return ret;
	}
	ret = irqchip_save(v->irqchip, w, mpidrs, err, errlen);
	if (ret)
		return ret;
	device_for_each(&v->devices, dev) {
		ret = dev->ops->save(dev, w);
		if (ret) {
			snprintf(err, errlen, "%s: saving its state: %s", dev->name, strerror(-ret));
			return ret;
		}
	}
	ret = sw_finish(w);
	if (ret)
		snprintf(err, errlen, "building the state file: %s", strerror(-ret));
	return ret;
}

/* Where a snapshot being written reports to. */
struct snap_out {
	snapshot_progress progress;
	void *pctx;
	uint64_t bytes;
	const char *diff_from;	/* a diff of this snapshot (NULL: full) */
	uint64_t id;		/* this snapshot's, for DIR/id */
};

static int write_file(const char *dir, const char *name, const void *buf, size_t len,
		      const void *ram, uint64_t ram_size, struct snap_out *out, char *err,
		      size_t errlen)
{
	char path[PATH_MAX + 16];
	uint64_t written = len;
	int fd, ret;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
		return ret;
	}
	ret = ram ? memory_save(fd, ram, ram_size, &written, out->progress, out->pctx) :
		    write_all(fd, buf, len);
	out->bytes += written;
	if (!ret && fsync(fd) < 0)
		ret = -errno;
	if (close(fd) < 0 && !ret)
		ret = -errno;
	if (ret)
		snprintf(err, errlen, "writing %s: %s", path, strerror(-ret));
	return ret;
}

static int write_text(const char *dir, const char *name, const char *text, char *err,
		      size_t errlen)
{
	char path[PATH_MAX + 16];
	int fd, ret;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	ret = fd < 0 ? -errno : write_all(fd, text, strlen(text));
	if (!ret && fsync(fd) < 0)
		ret = -errno;
	if (fd >= 0)
		close(fd);
	if (ret)
		snprintf(err, errlen, "writing %s: %s", path, strerror(-ret));
	return ret;
}

/* A diff's memory (only the dirty pages), its page bitmap and its base. */
static int write_diff(struct vmm *v, const char *tmp, struct snap_out *out, char *err,
		      size_t errlen)
{
	const uint8_t *ram = v->vm.ram.host;
	uint64_t pages = v->vm.ram.size >> 12, longs = dirty_bitmap_longs(&v->vm);
	char path[PATH_MAX + 16], base[4200];
	int fd, ret = 0;

	snprintf(path, sizeof(path), "%s/memory", tmp);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, (off_t)v->vm.ram.size) < 0)
		ret = -errno;
	for (uint64_t pg = 0; !ret && pg < pages; pg++) {
		if (!((v->snap_dirty[pg / 64] >> (pg % 64)) & 1))
			continue;
		if (pwrite(fd, ram + pg * 4096, 4096, (off_t)(pg * 4096)) != 4096)
			ret = -errno ?: -EIO;
		out->bytes += 4096;
	}
	if (!ret && fsync(fd) < 0)
		ret = -errno;
	if (fd >= 0)
		close(fd);
	if (ret) {
		snprintf(err, errlen, "writing %s: %s", path, strerror(-ret));
		return ret;
	}
	snprintf(path, sizeof(path), "%s/dirty", tmp);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	ret = fd < 0 ? -errno : write_all(fd, v->snap_dirty, longs * sizeof(unsigned long));
	if (fd >= 0)
		close(fd);
	if (ret) {
		snprintf(err, errlen, "writing %s: %s", path, strerror(-ret));
		return ret;
	}
	snprintf(base, sizeof(base), "lvmm-diff 1\n%016llx\n%s\n",
		 (unsigned long long)v->last_snapshot_id, out->diff_from);
	return write_text(tmp, "base", base, err, errlen);
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int ret = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* Best effort: the error that brought us here is the one reported. */
static void remove_tmp(const char *tmp)
{
	char path[PATH_MAX + 16];

	static const char *const names[] = { "memory", "state", "id", "dirty", "base" };

	for (unsigned int i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", tmp, names[i]);
		unlink(path);
	}
	rmdir(tmp);
}

/* Write the snapshot into a temporary directory, then rename it to dir. */
static int write_snapshot(struct vmm *v, const char *dir, struct snap_out *out, char *err,
			  size_t errlen)
{
	char tmp[PATH_MAX], parent[PATH_MAX], *slash;
	struct state_writer w;
	int ret;

	snprintf(tmp, sizeof(tmp), "%s.tmp-%d", dir, (int)getpid());
	snprintf(parent, sizeof(parent), "%s", dir);
	slash = strrchr(parent, '/');
	if (slash == parent)
		parent[1] = '\0';
	else if (slash)
		*slash = '\0';
	else
		snprintf(parent, sizeof(parent), ".");

	if (mkdir(tmp, 0700) < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(-ret));
		return ret;
	}
	sw_init(&w);
	/* The state first: saving the vGIC and ITS writes tables into RAM. */
	ret = snapshot_build_state(v, &w, err, errlen);
	/* What changed since the last snapshot: for a diff now, kept for the next one. */
	if (!ret && v->snap_tracking)
		ret = dirty_harvest(&v->vm, v->snap_dirty, err, errlen);
	if (!ret && out->diff_from)
		ret = write_diff(v, tmp, out, err, errlen);
	else
		ret = ret ?: write_file(tmp, "memory", NULL, 0, v->vm.ram.host, v->vm.ram.size, out,
					err, errlen);
	ret = ret ?: write_file(tmp, "state", w.buf, w.len, NULL, 0, out, err, errlen);
	if (!ret) {
		char id[24];

		snprintf(id, sizeof(id), "%016llx\n", (unsigned long long)out->id);
		ret = write_text(tmp, "id", id, err, errlen);
	}
	sw_free(&w);
	if (!ret) {
		ret = fsync_dir(tmp);
		if (ret)
			snprintf(err, errlen, "syncing %s: %s", tmp, strerror(-ret));
	}
	if (!ret && rename(tmp, dir) < 0) {
		ret = -errno;
		snprintf(err, errlen, "renaming %s to %s: %s", tmp, dir, strerror(-ret));
	}
	if (ret) {
		remove_tmp(tmp);
		return ret;
	}
	/* The rename itself is durable only once the parent is synced. */
	ret = fsync_dir(parent);
	if (ret)
		snprintf(err, errlen, "syncing %s after renaming %s into it: %s", parent, dir,
			 strerror(-ret));
	return ret;
}

int snapshot_devices_check(struct vmm *v, char *err, size_t errlen)
{
	struct device *dev;

	device_for_each(&v->devices, dev) {
		if (dev->no_snapshot) {
			snprintf(err, errlen, "cannot snapshot: %s: %s", dev->name, dev->no_snapshot);
			return -EOPNOTSUPP;
		}
		if (!dev->ops->save) {
			snprintf(err, errlen, "cannot snapshot: %s (%s) cannot be checkpointed",
				 dev->name, dev->desc[0] ? dev->desc : dev->ops->kind);
			return -EOPNOTSUPP;
		}
	}
	return 0;
}

static int check_snapshot_possible(struct vmm *v, const char *dir, char *err, size_t errlen)
{
	struct stat st;
	int ret = snapshot_devices_check(v, err, errlen);

	if (ret)
		return ret;
	if (!dir[0]) {
		snprintf(err, errlen, "snapshot needs a directory");
		return -EINVAL;
	}
	if (stat(dir, &st) == 0 || errno != ENOENT) {
		snprintf(err, errlen, "%s already exists: snapshots go to a new directory", dir);
		return -EEXIST;
	}
	return 0;
}

/* --diff-from BASE: only from the last snapshot, with tracking on since then. */
static int check_diff(struct vmm *v, const char *base, char *err, size_t errlen)
{
	if (sysconf(_SC_PAGESIZE) != 4096) {
		snprintf(err, errlen, "incremental snapshots need a host with 4 KiB pages");
		return -EOPNOTSUPP;
	}
	if (!v->snap_tracking || !v->last_snapshot[0]) {
		snprintf(err, errlen,
			 "--diff-from %s: this VM has no snapshot to diff from since it started (or since a migration attempt): take a full one first",
			 base);
		return -ENOENT;
	}
	if (strcmp(base, v->last_snapshot)) {
		snprintf(err, errlen, "--diff-from %s: a diff goes from this VM's last snapshot, %s",
			 base, v->last_snapshot);
		return -EINVAL;
	}
	return 0;
}

/*
 * After a snapshot: what it holds is no longer pending; tracking is on from
 * here. The devices are quiesced: those whose writes bypass lvmm (vhost)
 * have them logged from when they start again.
 */
static void after_snapshot(struct vmm *v, const char *dir, uint64_t id)
{
	char err[256];

	if (!v->snap_dirty)
		v->snap_dirty = calloc(dirty_bitmap_longs(&v->vm), sizeof(unsigned long));
	if (!v->snap_dirty) {
		v->last_snapshot[0] = '\0';
		return;		/* later diffs are refused: take full snapshots */
	}
	memset(v->snap_dirty, 0, dirty_bitmap_longs(&v->vm) * sizeof(unsigned long));
	if (!v->snap_tracking) {
		if (dirty_start(&v->vm, err, sizeof(err))) {
			v->last_snapshot[0] = '\0';
			return;
		}
		v->snap_tracking = true;
	}
	snprintf(v->last_snapshot, sizeof(v->last_snapshot), "%s", dir);
	v->last_snapshot_id = id;
}

int vmm_snapshot(struct vmm *v, const char *dir, bool stop, const char *diff_from,
		 snapshot_progress progress, void *pctx, struct snapshot_stats *stats, char *err,
		 size_t errlen)
{
	struct snap_out out = { .progress = progress, .pctx = pctx, .diff_from = diff_from };
	uint64_t t0;
	bool was_paused;
	struct device *dev;
	int ret;

	pthread_mutex_lock(&v->op_lock);
	ret = check_snapshot_possible(v, dir, err, errlen);
	ret = ret ?: diff_from ? check_diff(v, diff_from, err, errlen) : 0;
	if (ret)
		goto out;
	if (getrandom(&out.id, sizeof(out.id), 0) != sizeof(out.id))
		out.id = now_ns();
	was_paused = v->paused;
	t0 = now_ns();
	if (!was_paused)
		vcpus_pause(&v->vm);
	/* Devices finish what is in flight and stop touching guest memory. */
	device_for_each(&v->devices, dev)
		if (dev->ops->quiesce)
			dev->ops->quiesce(dev);
	ret = irqchip_flush_to_ram(v->irqchip, err, errlen);
	ret = ret ?: write_snapshot(v, dir, &out, err, errlen);
	if (!ret)
		after_snapshot(v, dir, out.id);
	device_for_each(&v->devices, dev) {
		if (dev->ops->unquiesce && dev->ops->unquiesce(dev))
			pr_warn("%s: could not restart after the snapshot", dev->name);
	}
	if (!ret && stop) {
		/* Stay paused: the VM ends here. */
		v->paused = true;
		vm_request_exit(&v->vm, VM_EXIT_STOPPED);
	} else if (!was_paused) {
		vcpus_resume(&v->vm);
	}
	if (!ret && stats)
		*stats = (struct snapshot_stats){ .bytes = out.bytes, .pause_ns = now_ns() - t0 };
out:
	pthread_mutex_unlock(&v->op_lock);
	return ret;
}
