/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The snapshot state file: a header, then sections keyed by stable names
 * ("vm", "vcpu.0", "gic.dist", "virtio-blk0", ...), each a list of entries
 * keyed by a 64-bit id (a KVM register id, a GIC attribute, or a small
 * field number), then a CRC32 over everything before it.
 *
 *   header:  "LVMMSNAP" u32 major u32 minor u32 arch(0xb7 = EM_AARCH64) u32 0
 *   section: char name[32] u32 version u32 length, then `length` bytes of
 *            entries: u64 key u32 len u32 0, then len bytes padded to 8
 *   trailer: char name[32] = "end" u32 0 u32 4, u32 crc32 (+4 pad)
 *
 * All little-endian. A reader rejects another major version, another
 * architecture, a bad length or checksum, and skips sections it does not
 * know (written by a newer minor version). Pure code: unit-tested.
 */
#ifndef LVMM_STATE_H
#define LVMM_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STATE_MAGIC "LVMMSNAP"
#define STATE_MAJOR 1
#define STATE_MINOR 0
#define STATE_ARCH_AARCH64 0xb7
#define STATE_NAME_LEN 32

struct state_writer {
	uint8_t *buf;
	size_t len, cap;
	size_t section;		/* offset of the open section's header */
	int error;		/* first error (-ENOMEM, -EINVAL) */
};

void sw_init(struct state_writer *w);
void sw_free(struct state_writer *w);
void sw_begin(struct state_writer *w, const char *name, uint32_t version);
void sw_put(struct state_writer *w, uint64_t key, const void *data, uint32_t len);
void sw_put_u64(struct state_writer *w, uint64_t key, uint64_t val);
void sw_put_str(struct state_writer *w, uint64_t key, const char *s);
void sw_end(struct state_writer *w);
/* Close the file (trailer with checksum); returns 0 or the first error. */
int sw_finish(struct state_writer *w);

struct state_section {
	char name[STATE_NAME_LEN + 1];
	uint32_t version;
	const uint8_t *data;
	uint32_t len;
};

struct state_reader {
	const uint8_t *buf;
	size_t len;
	uint32_t minor;
	struct state_section *sections;
	unsigned int nr_sections;
};

/*
 * Check and index a state file in buf. Returns 0, or -EINVAL with a reason
 * in err (truncated, corrupt, other version or architecture).
 */
int sr_open(struct state_reader *r, const void *buf, size_t len, char *err, size_t errlen);
void sr_close(struct state_reader *r);
const struct state_section *sr_section(const struct state_reader *r, const char *name);

/* Iterate a section's entries: *pos starts at 0; returns false at the end. */
bool ss_next(const struct state_section *s, size_t *pos, uint64_t *key, const void **data,
	     uint32_t *len);
/* Find one entry; returns its data or NULL. */
const void *ss_get(const struct state_section *s, uint64_t key, uint32_t *len);
/* Read a u64 entry; false if it is missing or not 8 bytes. */
bool ss_get_u64(const struct state_section *s, uint64_t key, uint64_t *val);
/* Read a string entry into buf (NUL-terminated); false if missing or too long. */
bool ss_get_str(const struct state_section *s, uint64_t key, char *buf, size_t size);

uint32_t crc32_le(uint32_t crc, const void *data, size_t len);

#endif
