// SPDX-License-Identifier: GPL-2.0
/*
 * Live migration, the source's side (migration.h): pre-copy of guest RAM
 * in rounds of dirty pages (kvm/dirty.h) while the guest runs, then a
 * short pause for the last pages and the state, in the snapshot format.
 */
#include "migration.h"
#include "precopy.h"
#include "snapshot.h"
#include "stream.h"
#include "../irq/irq.h"
#include "../kvm/dirty.h"
#include "../machine.h"
#include "../util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_ROUNDS 30
/* The destination restores the VM before it answers: give it time. */
#define READY_TIMEOUT_MS 120000
#define PREVIEW_TIMEOUT_MS 30000

struct sender {
	struct vmm *v;
	int fd;
	uint64_t page;		/* bytes */
	uint64_t npages;
	uint64_t bytes;		/* sent so far */
	uint64_t preview_ns;	/* the handshake's pause, state and answer */
	snapshot_progress progress;
	void *pctx;
};

static bool page_zero(const uint8_t *p, uint64_t len)
{
	const uint64_t *w = (const uint64_t *)p;

	for (uint64_t i = 0; i < len / 8; i++)
		if (w[i])
			return false;
	return true;
}

/* Pages [first, first + n) as one record, or several if it is long. */
static int send_run(struct sender *s, uint64_t first, uint64_t n)
{
	const uint8_t *ram = s->v->vm.ram.host;
	uint64_t per = MIG_MAX_RECORD / s->page;

	while (n) {
		uint64_t k = n < per ? n : per;
		int ret = mig_send_record(s->fd, MIG_PAGES, first * s->page, ram + first * s->page,
					  k * s->page);

		if (ret)
			return ret;
		s->bytes += k * s->page + sizeof(struct mig_record);
		first += k;
		n -= k;
	}
	return 0;
}

/*
 * Wait until the destination has taken all sent so far: a round's pages
 * still in the connection's buffers would go in the pause, and the rate
 * is then what the destination takes, not what the socket accepts.
 */
static int sync_destination(struct sender *s)
{
	char msg[256];
	int ret = mig_send_record(s->fd, MIG_SYNC, 0, NULL, 0);

	s->bytes += sizeof(struct mig_record);
	ret = ret ?: mig_recv_reply(s->fd, msg, sizeof(msg), READY_TIMEOUT_MS);
	return ret == 1 ? 0 : ret ?: -EPROTO;
}

/* Every page set in bitmap (NULL: every non-zero page), in runs. */
static int send_pages(struct sender *s, const unsigned long *bitmap)
{
	const uint8_t *ram = s->v->vm.ram.host;
	const unsigned int bpl = 8 * sizeof(unsigned long);
	uint64_t run = 0, start = 0;

	for (uint64_t pg = 0; pg < s->npages; pg++) {
		bool send = bitmap ? (bitmap[pg / bpl] >> (pg % bpl)) & 1 :
				     !page_zero(ram + pg * s->page, s->page);

		if (send) {
			if (!run)
				start = pg;
			run++;
			continue;
		}
		if (run) {
			int ret = send_run(s, start, run);

			if (ret)
				return ret;
			run = 0;
		}
		if (!bitmap && s->progress && pg % ((64ULL << 20) / s->page) == 0)
			s->progress(s->pctx, pg * s->page, s->npages * s->page);
	}
	return run ? send_run(s, start, run) : 0;
}

static uint64_t count_bits(const unsigned long *b, size_t longs)
{
	uint64_t n = 0;

	for (size_t i = 0; i < longs; i++)
		n += (uint64_t)__builtin_popcountl(b[i]);
	return n;
}

/* The state file of the VM as it is now (paused by the caller). */
static int send_state(struct vmm *v, int fd, uint32_t type, uint64_t *bytes, char *err,
		      size_t errlen)
{
	struct state_writer w;
	int ret;

	sw_init(&w);
	ret = snapshot_build_state(v, &w, err, errlen);
	if (!ret) {
		ret = mig_send_record(fd, type, 0, w.buf, w.len);
		if (ret)
			snprintf(err, errlen, "sending the VM's state: %s", strerror(-ret));
		*bytes += w.len;
	}
	sw_free(&w);
	return ret;
}

static void quiesce(struct vmm *v)
{
	struct device *dev;

	device_for_each(&v->devices, dev)
		if (dev->ops->quiesce)
			dev->ops->quiesce(dev);
}

static void unquiesce(struct vmm *v)
{
	struct device *dev;

	device_for_each(&v->devices, dev)
		if (dev->ops->unquiesce && dev->ops->unquiesce(dev))
			pr_warn("%s: could not restart after the migration attempt", dev->name);
}

/* Dirty tracking turned on or off: devices whose writes bypass lvmm (vhost) follow. */
static void tracking_changed(struct vmm *v)
{
	struct device *dev;

	device_for_each(&v->devices, dev)
		if (dev->ops->tracking_changed)
			dev->ops->tracking_changed(dev);
}

/* The hello, then the configuration as of now, checked by the destination. */
static int handshake(struct sender *s, char *err, size_t errlen)
{
	struct vmm *v = s->v;
	struct mig_hello h = { .version = MIG_VERSION, .page_size = (uint32_t)s->page,
			       .ram_size = v->vm.ram.size };
	char msg[1024];
	bool was_paused = v->paused;
	uint64_t t0;
	int ret;

	memcpy(h.magic, MIG_MAGIC, 8);
	snprintf(h.arch, sizeof(h.arch), "%s", MIG_ARCH);
	ret = mig_write(s->fd, &h, sizeof(h));
	if (ret) {
		snprintf(err, errlen, "sending to the destination: %s", strerror(-ret));
		return ret;
	}
	/* A state file needs the vCPUs out of KVM_RUN: a moment's pause. */
	t0 = now_ns();
	if (!was_paused)
		vcpus_pause(&v->vm);
	ret = send_state(v, s->fd, MIG_PREVIEW, &s->bytes, err, errlen);
	if (!was_paused)
		vcpus_resume(&v->vm);
	if (ret)
		return ret;
	ret = mig_recv_reply(s->fd, msg, sizeof(msg), PREVIEW_TIMEOUT_MS);
	s->preview_ns = now_ns() - t0;
	if (ret == 1)
		return 0;
	if (ret == 0) {
		snprintf(err, errlen, "the destination refused the VM: %s", msg);
		return -EREMOTEIO;
	}
	snprintf(err, errlen, "no answer from the destination: %s", strerror(-ret));
	return ret;
}

int vmm_migrate(struct vmm *v, const char *uri, unsigned int downtime_ms,
		snapshot_progress progress, void *pctx, struct migrate_stats *stats, char *err,
		size_t errlen)
{
	struct sender s = { .v = v, .fd = -1, .progress = progress, .pctx = pctx };
	struct migrate_stats st = { 0 };
	struct mig_addr addr;
	struct state_writer final;
	unsigned long *bitmap = NULL;
	bool was_paused, tracking = false, paused_here = false, quiesced = false;
	uint64_t t0 = now_ns(), tp = 0, dirty, sent_at, send_t0, rate;
	char msg[1024];
	int ret;

	sw_init(&final);
	pthread_mutex_lock(&v->op_lock);
	was_paused = v->paused;
	ret = mig_addr_parse(uri, &addr, err, errlen);
	ret = ret ?: snapshot_devices_check(v, err, errlen);
	if (ret)
		goto out;
	/* Its harvests would take what incremental snapshots wait for: they start over. */
	v->last_snapshot[0] = '\0';
	s.page = (uint64_t)sysconf(_SC_PAGESIZE);
	s.npages = dirty_pages(&v->vm);
	bitmap = calloc(dirty_bitmap_longs(&v->vm), sizeof(unsigned long));
	if (!bitmap) {
		ret = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	s.fd = mig_connect(&addr, err, errlen);
	if (s.fd < 0) {
		ret = s.fd;
		goto out;
	}
	ret = handshake(&s, err, errlen);
	if (ret)
		goto out;

	/* Round 0: all of RAM but zero pages (the destination starts from zeros). */
	ret = dirty_start(&v->vm, err, errlen);
	if (ret)
		goto out;
	tracking = true;
	/* Before any page is sent: what vhost writes from here on is logged. */
	tracking_changed(v);
	send_t0 = sent_at = now_ns();
	ret = send_pages(&s, NULL);
	ret = ret ?: sync_destination(&s);
	/* Then what the guest dirtied meanwhile, until it fits the downtime. */
	for (st.rounds = 1; !ret && st.rounds < MAX_ROUNDS; st.rounds++) {
		uint64_t round_ns = now_ns() - sent_at;

		/* The link's rate so far, to tell how long the rest would take. */
		rate = s.bytes * 1000000000ULL / (now_ns() - send_t0 ?: 1) ?: 1;
		ret = dirty_harvest(&v->vm, bitmap, err, errlen);
		if (ret)
			goto out;
		dirty = count_bits(bitmap, dirty_bitmap_longs(&v->vm)) * s.page;
		st.last_dirty_bytes = dirty;
		st.dirty_rate = round_ns ? dirty * 1e9 / round_ns : 0;
		if (precopy_done(&(struct precopy_round){ .dirty = dirty, .rate = rate,
				.dirty_rate = (uint64_t)st.dirty_rate,
				.fixed_ms = s.preview_ns / 1000000,
				.downtime_ms = downtime_ms }))
			break;
		sent_at = now_ns();
		ret = send_pages(&s, bitmap);
		ret = ret ?: sync_destination(&s);
		memset(bitmap, 0, dirty_bitmap_longs(&v->vm) * sizeof(unsigned long));
	}
	if (ret) {
		snprintf(err, errlen, "the destination went away while guest RAM was sent (%s)",
			 strerror(-ret));
		goto out;
	}

	/* The pause: the last pages, the state, and the destination's word. */
	tp = now_ns();
	if (!was_paused) {
		vcpus_pause(&v->vm);
		paused_here = true;
	}
	quiesce(v);
	quiesced = true;
	/* Shared disks: what the guest wrote is on them before the other side reads. */
	sync();
	/*
	 * The state first: saving the vGIC and ITS writes their tables into
	 * guest RAM, which the harvest after it must see.
	 */
	ret = irqchip_flush_to_ram(v->irqchip, err, errlen);
	ret = ret ?: snapshot_build_state(v, &final, err, errlen);
	ret = ret ?: dirty_harvest(&v->vm, bitmap, err, errlen);
	if (ret)
		goto out;
	ret = send_pages(&s, bitmap);
	ret = ret ?: mig_send_record(s.fd, MIG_STATE, 0, final.buf, final.len);
	s.bytes += final.len;
	ret = ret ?: mig_send_record(s.fd, MIG_END, 0, NULL, 0);
	if (ret) {
		if (!err[0])
			snprintf(err, errlen, "sending the last pages: %s", strerror(-ret));
		goto out;
	}
	ret = mig_recv_reply(s.fd, msg, sizeof(msg), READY_TIMEOUT_MS);
	if (ret != 1) {
		if (ret == 0)
			snprintf(err, errlen, "the destination could not start the VM: %s", msg);
		else
			snprintf(err, errlen, "the destination did not confirm it has the VM (%s)",
				 strerror(-ret));
		ret = ret ?: -EREMOTEIO;
		goto out;
	}
	ret = 0;
	st.bytes = s.bytes;
	st.downtime_ns = now_ns() - tp;
	st.total_ns = now_ns() - t0;
	if (stats)
		*stats = st;
	/* The VM lives on there: this one ends, paused, as lvmm stop ends it. */
	v->paused = true;
	vm_request_exit(&v->vm, VM_EXIT_MIGRATED);
out:
	if (ret) {
		/* Nothing is lost: the VM carries on here as it was. */
		size_t n = strlen(err);

		snprintf(err + n, errlen - n, "; the VM runs on here");
		if (tracking) {
			dirty_stop(&v->vm);
			v->snap_tracking = false;
			tracking_changed(v);
		}
		if (quiesced)
			unquiesce(v);
		if (paused_here)
			vcpus_resume(&v->vm);
	}
	if (s.fd >= 0)
		close(s.fd);
	free(bitmap);
	sw_free(&final);
	pthread_mutex_unlock(&v->op_lock);
	return ret;
}
