// SPDX-License-Identifier: GPL-2.0
/*
 * The VM side of the control protocol: one request line of a running VM's
 * socket (control.c serves it) answered with one JSON line, by asking the
 * VM to pause, resume, stop or write a snapshot (migration/).
 */
#include "control.h"
#include "../irq/irq.h"
#include "../machine.h"
#include "../migration/migration.h"
#include "../options.h"
#include "../util.h"

#include <stdio.h>
#include <unistd.h>

static void reply_error(char *reply, size_t size, const char *msg)
{
	char esc[1024];

	json_escape(msg, esc, sizeof(esc));
	snprintf(reply, size, "{\"ok\":false,\"error\":\"%s\"}", esc);
}

static void reply_info(struct vmm *v, char *reply, size_t size, const char *extra)
{
	char name[2 * LVMM_NAME_MAX];

	json_escape(v->cfg->name, name, sizeof(name));
	snprintf(reply, size,
		 "{\"ok\":true,\"name\":\"%s\",\"pid\":%d,\"state\":\"%s\",\"vcpus\":%u,"
		 "\"mem_mib\":%llu,\"irqchip\":\"%s\"%s}",
		 name, (int)getpid(), vmm_is_paused(v) ? "paused" : "running", v->vm.nr_vcpus,
		 (unsigned long long)(v->cfg->mem_bytes >> 20), irqchip_model_name(v->irqchip->model),
		 extra ? extra : "");
}

/* A progress line to the client while the snapshot is written; a gone client is fine. */
static void send_progress(void *ctx, uint64_t done, uint64_t total)
{
	char line[64];
	int n = snprintf(line, sizeof(line), "# progress %llu %llu\n", (unsigned long long)done,
			 (unsigned long long)total);

	if (write(*(int *)ctx, line, n) < 0)
		return;
}

static void snapshot_request(struct vmm *v, const struct control_req *req, char *reply,
			     size_t size, int fd)
{
	uint64_t t0 = now_ns();
	struct snapshot_stats st;
	char extra[4300], dir[4096], err[512] = "";

	if (vmm_snapshot(v, req->dir, req->stop, req->diff_from[0] ? req->diff_from : NULL,
			 req->progress ? send_progress : NULL, &fd, &st,
			 err, sizeof(err))) {
		reply_error(reply, size, err);
		return;
	}
	json_escape(req->dir, dir, sizeof(dir));
	snprintf(extra, sizeof(extra),
		 ",\"snapshot\":\"%s\",\"snapshot_ms\":%.1f,\"snapshot_bytes\":%llu,\"pause_ms\":%.1f%s",
		 dir, (now_ns() - t0) / 1e6, (unsigned long long)st.bytes, st.pause_ns / 1e6,
		 req->stop ? ",\"stopping\":true" : "");
	reply_info(v, reply, size, extra);
}

static void migrate_request(struct vmm *v, const struct control_req *req, char *reply,
			    size_t size, int fd)
{
	struct migrate_stats st;
	char extra[1024], uri[512], err[1024] = "";

	if (vmm_migrate(v, req->dir, req->downtime_ms, req->progress ? send_progress : NULL, &fd,
			&st, err, sizeof(err))) {
		reply_error(reply, size, err);
		return;
	}
	json_escape(req->dir, uri, sizeof(uri));
	snprintf(extra, sizeof(extra),
		 ",\"migrated\":\"%s\",\"rounds\":%u,\"bytes\":%llu,\"total_ms\":%.1f,"
		 "\"downtime_ms\":%.1f,\"last_dirty_bytes\":%llu,\"dirty_rate\":%.0f,\"stopping\":true",
		 uri, st.rounds, (unsigned long long)st.bytes, st.total_ns / 1e6,
		 st.downtime_ns / 1e6, (unsigned long long)st.last_dirty_bytes, st.dirty_rate);
	reply_info(v, reply, size, extra);
}

void control_dispatch(void *ctx, const char *line, char *reply, size_t size, int fd)
{
	struct vmm *v = ctx;
	struct control_req req;
	char err[512] = "";

	if (control_parse_request(line, &req, err, sizeof(err))) {
		reply_error(reply, size, err);
		return;
	}
	switch (req.op) {
	case CONTROL_INFO:
		reply_info(v, reply, size, NULL);
		break;
	case CONTROL_PAUSE:
		if (vmm_pause(v, err, sizeof(err)))
			reply_error(reply, size, err);
		else
			reply_info(v, reply, size, NULL);
		break;
	case CONTROL_RESUME:
		if (vmm_resume(v, err, sizeof(err)))
			reply_error(reply, size, err);
		else
			reply_info(v, reply, size, NULL);
		break;
	case CONTROL_STOP:
		vm_request_exit(&v->vm, VM_EXIT_STOPPED);
		reply_info(v, reply, size, ",\"stopping\":true");
		break;
	case CONTROL_SNAPSHOT:
		snapshot_request(v, &req, reply, size, fd);
		break;
	case CONTROL_MIGRATE:
		migrate_request(v, &req, reply, size, fd);
		break;
	}
}
