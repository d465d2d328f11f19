/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The control channel of a running VM: a Unix socket, owner-only, at
 * RUNTIME_DIR/NAME.sock (RUNTIME_DIR: $LVMM_RUNTIME_DIR, else /run/lvmm for
 * root, else $XDG_RUNTIME_DIR/lvmm, else /tmp/lvmm-UID). One request line
 * per connection ("info", "pause", "resume", "stop", "snapshot FLAGS DIR"),
 * one JSON reply line: {"ok":true,...} or {"ok":false,"error":"..."}; a
 * snapshot asked for with progress sends "# progress DONE TOTAL" lines
 * before it.
 */
#ifndef LVMM_CONTROL_H
#define LVMM_CONTROL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * Handles one request; writes the JSON reply (without newline) to reply.
 * fd is the client's connection, for "# ..." lines sent before the reply
 * (a snapshot's progress, when asked for).
 */
typedef void (*control_handler)(void *ctx, const char *request, char *reply, size_t size, int fd);

struct control {
	int listen_fd;
	int stop_efd;
	char path[108];
	pthread_t thread;
	bool running;
	control_handler handler;
	void *ctx;
};

int control_runtime_dir(char *buf, size_t len);
/* Claim NAME's socket and start serving. Returns 0 or -errno (message in err). */
int control_start(struct control *c, const char *name, control_handler handler, void *ctx,
		  char *err, size_t errlen);
void control_stop(struct control *c);

/* Client: send a request to NAME, get its reply. Returns 0 or -errno (message in err). */
int control_request(const char *name, const char *request, char *reply, size_t size,
		    char *err, size_t errlen);
/* The same, with the "# progress DONE TOTAL" lines before the reply given to progress. */
typedef void (*control_progress)(void *ctx, unsigned long long done, unsigned long long total);
int control_request_progress(const char *name, const char *request, char *reply, size_t size,
			     control_progress progress, void *pctx, char *err, size_t errlen);
/* Names of VMs with a socket in the runtime directory (live or not). */
int control_list(char names[][72], int max);

/* A request, parsed. */
enum control_op {
	CONTROL_INFO,
	CONTROL_PAUSE,
	CONTROL_RESUME,
	CONTROL_STOP,
	CONTROL_SNAPSHOT,	/* "snapshot 0-3 DIR": DIR absolute, 1 = stop after, 2 = progress;
				 * "snapshot-diff 0-3 LEN BASE DIR": BASE (LEN bytes) the last one */
	CONTROL_MIGRATE,	/* "migrate 0|2 DOWNTIME_MS URI": 2 = progress */
};

struct control_req {
	enum control_op op;
	bool stop;
	bool progress;		/* "# progress DONE TOTAL" lines before the reply */
	const char *dir;	/* points into the request line; migrate: the URI */
	unsigned int downtime_ms;	/* migrate */
	char diff_from[4096];	/* snapshot-diff: BASE ("" for a full snapshot) */
};

/*
 * The request line of a connection: buf holds the n bytes read so far; the
 * first line is NUL-terminated in place. Returns its length, -E2BIG when
 * there is no complete line in the buffer (too long, or cut short), or
 * -EINVAL for a NUL byte inside it. Pure: fuzzed and unit-tested.
 */
int control_take_line(char *buf, size_t n);
/* Parse a request line. Returns 0, or -EINVAL with the reason in err. */
int control_parse_request(const char *line, struct control_req *req, char *err, size_t errlen);

/*
 * The VM side (requests.c): answer one request line for the VM ctx (a
 * struct vmm) by pausing, resuming, stopping or snapshotting it. This is
 * the handler vmm gives control_start.
 */
void control_dispatch(void *ctx, const char *request, char *reply, size_t size, int fd);

/* JSON helpers for replies: a string with escapes, and field lookup. */
void json_escape(const char *in, char *out, size_t size);
/* Copy the value of "key" (string or bare) from a flat JSON object. */
bool json_get(const char *json, const char *key, char *out, size_t size);

#endif
