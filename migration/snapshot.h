/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The snapshot on disk, and opening one for restore (the orchestration is
 * in migration.h). A snapshot is a directory:
 *
 *   DIR/memory   guest RAM, sparse (zero pages are holes)
 *   DIR/state    the state file (state.h): "vm" (configuration, counter,
 *                clocks), "vcpu.N", "gic.*", one section per device
 *
 * written into DIR.tmp-PID and renamed to DIR once complete and synced, so
 * an interrupted snapshot never leaves a DIR that looks valid.
 */
#ifndef LVMM_SNAPSHOT_H
#define LVMM_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../options.h"
#include "../state/state.h"

/* A disk's serial: the virtio-blk ID, 20 bytes, as --disk serial= takes. */
#define SNAPSHOT_SERIAL_MAX 20

/* A snapshot opened for restore: checked, with its configuration. */
struct snapshot_image {
	char dir[4096];
	void *state_buf;
	size_t state_len;
	struct state_reader reader;
	int mem_fd;
	uint64_t mem_size;
	struct vm_config cfg;	/* the saved VM's configuration */
	/* What cfg's disk strings point to: one slot per disk, no shared pool. */
	char disk_path[LVMM_MAX_DISKS][4096];
	char disk_serial[LVMM_MAX_DISKS][SNAPSHOT_SERIAL_MAX + 1];
	uint64_t disk_size[LVMM_MAX_DISKS];	/* each disk's size when saved */
	uint64_t cntfrq;
	uint64_t guest_counter;	/* the guest's counter at snapshot time */
	uint64_t realtime_ns;	/* CLOCK_REALTIME at snapshot time */
	uint32_t nr_irqs;
};

/*
 * Open DIR and check everything that can be checked before touching KVM:
 * the state file (version, architecture, checksum), the memory file's
 * size, disks present with the saved sizes. Fills img->cfg.
 */
int snapshot_open(const char *dir, struct snapshot_image *img, char *err, size_t errlen);
void snapshot_close(struct snapshot_image *img);
/*
 * img->cfg and the clock fields from the opened reader's "vm" section, every
 * value checked as the command line's would be (counts, ranges, names,
 * string lengths), and a "vcpu.N" section for each vCPU and no other. Pure:
 * touches no file (the disks' sizes are checked by snapshot_open).
 */
int snapshot_parse_config(struct snapshot_image *img, char *err, size_t errlen);
/* Map guest RAM from the memory file: copy-on-write and lazy, or a full copy. */
int snapshot_map_memory(struct snapshot_image *img, bool copy, void **host, char *err,
			size_t errlen);

/*
 * Write guest RAM to fd, leaving holes for zero pages; *written: the bytes
 * of data written. progress (may be NULL) hears how far it went, every 64
 * MiB of RAM and at the end.
 */
int memory_save(int fd, const void *ram, uint64_t size, uint64_t *written,
		void (*progress)(void *ctx, uint64_t done, uint64_t total), void *pctx);

/* Incremental snapshots (diff.c: the files of a diff). */
#define DIFF_MAX_DEPTH 32
/* DIR/id: 0, or -errno (a snapshot from before ids, or none). */
int snapshot_id_read(const char *dir, uint64_t *id);
/* The text of DIR/base: the base's directory and id. 0 or -EINVAL. Pure. */
int diff_base_parse(const char *text, char *base, size_t len, uint64_t *id);
/* DIR's base, if DIR is a diff: 0, -ENOENT (a full snapshot), or -EINVAL. */
int diff_read_base(const char *dir, char *base, size_t len, uint64_t *id, char *err,
		   size_t errlen);
/* Every base of a chain there, with the id its diff names and the same RAM size. */
int diff_check_chain(const char *dir, uint64_t mem_size, char *err, size_t errlen);
/* DIR's pages (its dirty bitmap) read over ram. */
int diff_apply(const char *dir, void *ram, uint64_t size, char *err, size_t errlen);

/* Section "vm" keys. */
enum {
	VM_KEY_MEM = 1, VM_KEY_CPUS, VM_KEY_IRQCHIP, VM_KEY_CONSOLE, VM_KEY_NR_IRQS,
	VM_KEY_CNTFRQ, VM_KEY_GUEST_COUNTER, VM_KEY_REALTIME_NS, VM_KEY_NAME, VM_KEY_NR_DISKS,
	VM_KEY_NR_NETS, VM_KEY_RNG,
};
/* Optional: the guest's physical counter, at VM_KEY_GUEST_COUNTER's moment. */
#define VM_KEY_GUEST_PCOUNTER 0x30
/* Optional: virtio-pci (1); absent in snapshots from before, which are mmio. */
#define VM_KEY_VIRTIO_TRANSPORT 0x31
#define VM_KEY_DISK(i, f) (0x100 + 0x10 * (i) + (f))	/* f: 0 path 1 ro 2 serial 3 size 4 queues */
#define VM_KEY_NET(i, f) (0x200 + 0x10 * (i) + (f))	/* f: 0 tapif 1 mac 2 vhost */

#endif
