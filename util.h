/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Small helpers shared by every subsystem: logging, sizes, alignment, time,
 * whole-file reads. Nothing here knows about KVM.
 */
#ifndef LVMM_UTIL_H
#define LVMM_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define SZ_1K 0x400ULL
#define SZ_4K 0x1000ULL
#define SZ_64K 0x10000ULL
#define SZ_1M 0x100000ULL
#define SZ_2M 0x200000ULL
#define SZ_1G 0x40000000ULL

#define ALIGN_UP(x, a) (((x) + (a) - 1) & ~((typeof(x))(a) - 1))
#define ALIGN_DOWN(x, a) ((x) & ~((typeof(x))(a) - 1))
#define IS_ALIGNED(x, a) (((x) & ((typeof(x))(a) - 1)) == 0)

/* Both evaluate an argument twice: pass values, not calls whose result can change. */
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

#define __printf(a, b) __attribute__((format(printf, a, b)))
#define __unused __attribute__((unused))

/* Messages go to stderr, prefixed "lvmm: "; the guest console owns stdout. */
void pr_err(const char *fmt, ...) __printf(1, 2);
void pr_warn(const char *fmt, ...) __printf(1, 2);
void pr_info(const char *fmt, ...) __printf(1, 2);
extern bool log_quiet;
extern bool log_no_warn;	/* pr_warn() says nothing either (--loglevel=error) */

/* Monotonic time in nanoseconds. */
uint64_t now_ns(void);

/*
 * Read a whole regular file into a malloc'd buffer. Returns 0 or -errno;
 * -EINVAL for something that is not a regular file.
 */
int read_file(const char *path, void **buf, size_t *len);

/*
 * The size in bytes of an open disk: a regular file's length or a block
 * device's capacity. -EINVAL for anything else (a FIFO, a directory...).
 */
int disk_fd_size(int fd, uint64_t *size);

/* The same for a path; never opens anything but a block device. */
int disk_path_size(const char *path, uint64_t *size);

/* Write all of buf, retrying short writes and EINTR. Returns 0 or -errno. */
int write_all(int fd, const void *buf, size_t len);

/*
 * Parse a size such as "512", "512M", "2G", "65536K". A bare number is in
 * units of default_unit bytes. Returns 0 or -EINVAL / -ERANGE.
 */
int parse_size(const char *s, uint64_t default_unit, uint64_t *out);

/* Parse an unsigned decimal integer in [min, max]. */
int parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out);

#endif
